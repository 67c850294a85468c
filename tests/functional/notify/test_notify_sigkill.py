"""novajoin-notify SIGKILLed in the middle of 500 deletes, then restarted.

A message is acked only after IPA confirmed, so whatever the killed process
held (prefetched or half-done) goes back to the queue and the restarted
process finishes it; a delete handled twice is a no-op.  Hosts of 50 live
instances enrolled the same way must come through untouched: same entry,
and no IPA write ever named them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, ipa_calls, wait_for
from novajoin.testing.rabbit import Vhost

DELETED = 500
LIVE = 50
KILL_AFTER = 100       # hosts gone when the process is killed
IPA_LATENCY = 0.02     # seconds per IPA call: keeps the kill in the middle of the run
WRITES = {"host_del", "host_disable", "host_mod", "service_del", "service_mod",
          "dnsrecord_del", "dnsrecord_mod", "dnsrecord_add"}


def test_sigkill_mid_run_loses_nothing_and_spares_live_hosts(
    fake_ipa: Any, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    doomed = enroll(DELETED, "kill")
    live = enroll(LIVE, "keep")
    doomed_fqdns = {item.fqdn for item in doomed}
    live_fqdns = {item.fqdn for item in live}
    before = {fqdn: entry for fqdn, entry in hosts(fake_ipa).items() if fqdn in live_fqdns}
    assert set(before) == live_fqdns
    since = fake_ipa.admin.last_call_seq()
    fake_ipa.admin.set_latency(IPA_LATENCY)

    with n.NovaPublisher(vhost.transport_url) as pub:
        listener = notify(executor_threads=16).start()
        for item in doomed:
            pub.instance_deleted(item.instance)

    wait_for(lambda: len(doomed_fqdns - set(hosts(fake_ipa))) >= KILL_AFTER, 60.0,
             f"{KILL_AFTER} hosts to go", poll=0.1)
    listener.kill()
    gone_at_kill = len(doomed_fqdns - set(hosts(fake_ipa)))
    queued = vhost.queue("novajoin")
    print(f"\nkilled with {gone_at_kill}/{DELETED} hosts gone, queue {queued}")
    assert gone_at_kill < DELETED, "the kill came too late to be in the middle of the run"
    assert queued is not None and queued.messages > 0

    listener.start()
    wait_for(lambda: not doomed_fqdns & set(hosts(fake_ipa)), 90.0,
             "every deleted instance's host to go after the restart")
    drained = vhost.wait_drained("novajoin", 30.0)
    assert drained.unacked == 0

    after = hosts(fake_ipa)
    assert set(after) == live_fqdns
    assert {fqdn: after[fqdn] for fqdn in live_fqdns} == before, "a live host changed"
    live_names = {fqdn.split(".", 1)[0] for fqdn in live_fqdns}
    touched = [
        (call["method"], call["params"]) for call in ipa_calls(fake_ipa, since)
        if call["method"] in WRITES and any(name in str(call["params"]) for name in live_names)
    ]
    assert not touched, f"IPA writes named live hosts: {touched[:3]}"
    assert "Traceback" not in listener.log_text()
    assert listener.stop() == 0
