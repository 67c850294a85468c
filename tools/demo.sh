#!/usr/bin/env bash
# Sets up and runs novajoin's embedded default: novajoin-server answering nova's
# vendordata requests on http://127.0.0.1:9999/v1/, backed by the bundled IPA
# simulator and a throwaway Kerberos realm, all on 127.0.0.1, kept in .lab/.
#   bash tools/demo.sh            run in the foreground until Ctrl-C
#   bash tools/demo.sh --smoke    prove the whole path once with curl, then stop
# Other options: --dir DIR --port N --ipa-port N --admin-port N
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/python -m novajoin.testing.demo "$@"
