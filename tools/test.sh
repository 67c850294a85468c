#!/usr/bin/env bash
# Runs the whole test suite: lint, then every test (unit and functional, with a
# real KDC and the IPA simulator over HTTPS).  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

.venv/bin/ruff check novajoin tests

# The notification tests need the real RabbitMQ on 127.0.0.1:5672 (guest/guest).
if ! .venv/bin/python -c 'from novajoin.testing import rabbit; raise SystemExit(0 if rabbit.answers() else 1)'; then
    echo "test: RabbitMQ is not answering on 127.0.0.1:5672; starting rabbitmq-server -detached (waiting up to 60 s)" >&2
    if ! .venv/bin/python -c 'from novajoin.testing import rabbit; rabbit.ensure_rabbitmq(60)'; then
        echo "test: RabbitMQ did not start on 127.0.0.1:5672; the notification tests cannot run" >&2
        exit 1
    fi
    echo "test: RabbitMQ is up" >&2
fi
# The reconciler tests need the real Redis on 127.0.0.1:6379 (tooz coordination).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test: Redis is not answering on 127.0.0.1:6379; starting redis-server" >&2
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
        sleep 0.2
    done
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        echo "test: Redis did not start on 127.0.0.1:6379; the reconciler tests cannot run" >&2
        exit 1
    fi
fi
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    echo "test: pytest collected no tests - that is a failure" >&2
    exit 1
fi
exit $rc
