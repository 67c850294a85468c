"""A 30 s IPA outage (HTTP 500s, then TCP resets) during 200 deletes loses nothing.

The listener retries in-process for ``retry_window`` seconds, then sleeps
``requeue_delay`` and hands the message back to the broker.  What must hold
once IPA recovers: all 200 hosts are gone, the pool queue is empty with
nothing unacked and no message was dropped (no poison, 200 delete.end
handled), and redeliveries stayed bounded: no hot loop.

The bound.  A worker thread holds one message per cycle, and a cycle during
the outage lasts at least ``retry_window - retry_max`` (the last retry that
still fits the window) plus ``requeue_delay``.  So with T threads and an
outage of D seconds there are at most ``T * (D / cycle + 1)`` requeues
(+1: a cycle in progress when the outage starts).  A hot loop (oslo's
``allow_requeue`` alone) would requeue every ~3 ms: tens of thousands.
IPA requests during the outage: each in-process attempt is followed by a
backoff sleep, and the IPA client's own retries inside one attempt are few;
measured ~3.5 requests per second per worker thread (logins included).  The
bound asserted is 10 per second per thread; a hot loop would make ~300.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, ipa_calls, wait_for
from novajoin.testing.rabbit import Vhost

INSTANCES = 200
OUTAGE = 30.0
THREADS = 16
RETRY_INITIAL = 0.2
RETRY_MAX = 1.0
RETRY_WINDOW = 4.0
REQUEUE_DELAY = 2.0
MIN_CYCLE = RETRY_WINDOW - RETRY_MAX + REQUEUE_DELAY
MAX_REQUEUES = int(THREADS * (OUTAGE / MIN_CYCLE + 1))
MAX_REQUESTS_PER_THREAD_SECOND = 10
RECOVERY = 60.0  # after the outage: requeued messages come back and are handled


def _requeued(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items()
               if k.startswith("novajoin_notifications_total{") and 'outcome="requeued"' in k)


def _count(metrics: dict[str, float], event: str, outcome: str) -> float:
    return sum(v for k, v in metrics.items()
               if k.startswith("novajoin_notifications_total{")
               and f'event_type="{event}"' in k and f'outcome="{outcome}"' in k)


def test_ipa_outage_during_200_deletes(
    fake_ipa: Any, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    enrolled = enroll(INSTANCES, "outage")
    doomed = {item.fqdn for item in enrolled}
    assert doomed <= set(hosts(fake_ipa))
    listener = notify(executor_threads=THREADS, retry_initial=RETRY_INITIAL,
                      retry_max=RETRY_MAX, retry_window=RETRY_WINDOW,
                      requeue_delay=REQUEUE_DELAY, notification_format="legacy").start()
    since = fake_ipa.admin.last_call_seq()
    log_offset = fake_ipa.log_path.stat().st_size

    # 500s for the first half, connection resets for the second; logins fail too.
    started = time.monotonic()
    fake_ipa.admin.inject_fault("http500", duration=OUTAGE / 2, on_login=True)
    fake_ipa.admin.inject_fault("reset", duration=OUTAGE, on_login=True)
    with n.NovaPublisher(vhost.transport_url) as pub:
        for item in enrolled:
            pub.instance_deleted(item.instance)

    time.sleep(max(0.0, OUTAGE - 2 - (time.monotonic() - started)))
    during = listener.metrics()
    assert set(hosts(fake_ipa)) >= doomed, "IPA was down: nothing can have been deleted"
    assert _count(during, "compute.instance.delete.end", "poison") == 0

    wait_for(lambda: not doomed & set(hosts(fake_ipa)), OUTAGE + RECOVERY,
             "all 200 hosts to go after IPA recovered")
    recovered = time.monotonic() - started - OUTAGE
    drained = vhost.wait_drained("novajoin", 30.0)
    metrics = listener.metrics()
    calls = ipa_calls(fake_ipa, since)
    # Faulted logins never reach the call log; the simulator logs every injected fault.
    with open(fake_ipa.log_path, "rb") as sim_log:
        sim_log.seek(log_offset)
        faulted = [line for line in sim_log.read().decode(errors="replace").splitlines()
                   if "injected fault" in line]
    requeues = _requeued(metrics)
    print(f"\noutage: {requeues:.0f} requeues (bound {MAX_REQUEUES}), {len(faulted)} faulted "
          f"IPA requests, {len(calls)} IPA calls answered, all hosts gone {recovered:.1f} s "
          f"after recovery")

    assert drained.messages == 0 and drained.unacked == 0
    assert set(hosts(fake_ipa)).isdisjoint(doomed)
    assert _count(metrics, "compute.instance.delete.end", "done") == INSTANCES
    assert sum(v for k, v in metrics.items() if 'outcome="poison"' in k) == 0
    assert 0 < requeues <= MAX_REQUEUES, f"{requeues} requeues: redeliveries not bounded"
    max_attempts = THREADS * OUTAGE * MAX_REQUESTS_PER_THREAD_SECOND
    assert len(faulted) <= max_attempts, f"{len(faulted)} requests hit the outage"
    log = listener.log_text()
    assert log.count("requeued") == requeues
    assert "Traceback" not in log
    assert listener.running
