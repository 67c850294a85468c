#!/usr/bin/env bash
# The one benchmark command (issue 8): installs what it needs, then runs benchmarks/run.py,
# which starts everything itself (KDC, IPA simulator, novajoin-server x2, novajoin-notify,
# a RabbitMQ vhost), prints the results table and writes benchmarks/results/.
# Extra arguments go to benchmarks/run.py (e.g. --docs to refresh docs/benchmarks.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
.venv/bin/python -c 'import matplotlib' 2>/dev/null ||
    .venv/bin/pip install -q --disable-pip-version-check -c tools/constraints.txt -e '.[test,bench]'
.venv/bin/python -c 'from novajoin.testing import rabbit; rabbit.ensure_rabbitmq(60)'
exec .venv/bin/python -m benchmarks.run "$@"
