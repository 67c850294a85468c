#!/usr/bin/env bash
# Runs the whole test suite: lint, then every test (unit and functional, with a
# real KDC and the IPA simulator over HTTPS).  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

.venv/bin/ruff check novajoin tests
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    echo "test: pytest collected no tests - that is a failure" >&2
    exit 1
fi
exit $rc
