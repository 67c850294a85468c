#!/usr/bin/env bash
# Sets up and runs novajoin's embedded default: a throwaway Kerberos realm and
# the bundled IPA simulator on 127.0.0.1, kept in .lab/ between runs.
#   bash tools/demo.sh            run in the foreground until Ctrl-C
#   bash tools/demo.sh --smoke    start, prove a Kerberos-authenticated IPA call works, stop
# Ports: NOVAJOIN_DEMO_IPA_PORT (8443) and NOVAJOIN_DEMO_ADMIN_PORT (8444).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

LAB=${NOVAJOIN_DEMO_DIR:-.lab}
IPA_PORT=${NOVAJOIN_DEMO_IPA_PORT:-8443}
ADMIN_PORT=${NOVAJOIN_DEMO_ADMIN_PORT:-8444}
mkdir -p "$LAB"
LAB=$(cd "$LAB" && pwd)
READY="$LAB/fakeipa.json"
rm -f "$READY"

.venv/bin/novajoin-fake-ipa --lab "$LAB/krb5" --state-dir "$LAB/fakeipa" \
    --listen "127.0.0.1:$IPA_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    --ready-file "$READY" --log-level INFO >"$LAB/fakeipa.out" 2>"$LAB/fakeipa.log" &
SIM=$!
trap 'kill $SIM 2>/dev/null; wait $SIM 2>/dev/null' EXIT INT TERM

for _ in $(seq 300); do
    [[ -s $READY ]] && break
    kill -0 $SIM 2>/dev/null || { echo "demo: the simulator did not start; see $LAB/fakeipa.log" >&2; tail -20 "$LAB/fakeipa.log" >&2; exit 1; }
    sleep 0.1
done
[[ -s $READY ]] || { echo "demo: the simulator did not get ready in 30 s" >&2; exit 1; }

export KRB5_CONFIG="$LAB/krb5/krb5.conf"
.venv/bin/python -m novajoin.testing.demo "$READY" "$LAB/krb5"
if [[ ${1:-} == --smoke ]]; then
    exit 0
fi
echo
echo "IPA simulator:   https://127.0.0.1:$IPA_PORT/ipa   (name ipa.example.test, CA $LAB/fakeipa/ca.crt)"
echo "admin interface: http://127.0.0.1:$ADMIN_PORT/state   (also /calls, /enroll, /faults, /latency, /reset)"
echo "Kerberos:        KRB5_CONFIG=$LAB/krb5/krb5.conf, keytab $LAB/krb5/nova.keytab"
echo "Running; Ctrl-C stops it. Log: $LAB/fakeipa.log"
wait $SIM
