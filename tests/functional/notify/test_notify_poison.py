"""Poison messages neither block the pool queue nor loop, and each is reported once.

Two kinds:

* broken at the envelope level (not JSON, an unknown ``oslo.version``, JSON
  that is not an object): oslo.messaging itself cannot decode them; it logs
  "Failed to process message ... skipping it." once and rejects them;
* well-formed notifications novajoin cannot act on (missing instance id,
  an unknown major payload version, a payload that is a string, a neutron
  floating IP that is not an object): the listener logs one WARNING with the
  message id, counts it as poison and acks it.

The poison messages name a real enrolled instance (``victim``) wherever they
carry an instance id, so "IPA saw nothing for them" is checked on the
victim's host (still there, unchanged, never named in any IPA call).  A
valid delete published after all of them must still be handled.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, ipa_calls, wait_for
from novajoin.testing.rabbit import Vhost

WAIT = 20.0
OSLO_SKIP = "Failed to process message ... skipping it."


def _poison_count(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items()
               if k.startswith("novajoin_notifications_total{") and 'outcome="poison"' in k)


def _requeued(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items()
               if k.startswith("novajoin_notifications_total{") and 'outcome="requeued"' in k)


def test_poison_neither_blocks_nor_loops(
    fake_ipa: Any, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    victim, valid = enroll(2, "poison")
    victim_entry = hosts(fake_ipa)[victim.fqdn]
    listener = notify().start()
    since = fake_ipa.admin.last_call_seq()
    url = vhost.transport_url
    vid = victim.instance.uuid

    # Envelope-level poison: nothing a Notifier can send, so raw AMQP.
    n.send_raw(url, b"\x00\xffthis is not json")
    n.send_raw(url, n.oslo_envelope(n.notification_body(
        "compute.instance.delete.end", {"instance_id": vid}, "compute.h1"), version="9.9"))
    n.send_raw(url, b"[1, 2, 3]")
    envelope_poison = 3

    # Well-formed notifications novajoin cannot act on; known message ids.
    versioned = n.versioned_instance_payload(victim.instance, "delete.end")
    versioned["nova_object.version"] = "2.0"
    legacy_missing = n.legacy_instance_payload(victim.instance, "delete.end")
    del legacy_missing["instance_id"]
    handler_poison = {
        str(uuid.uuid4()): ("notifications", "compute.instance.delete.end",
                            legacy_missing, "compute.h1", "nova"),
        str(uuid.uuid4()): ("versioned_notifications", "instance.delete.end", versioned,
                            "nova-compute:h1", "nova"),
        str(uuid.uuid4()): ("notifications", "compute.instance.delete.end", "garbage",
                            "compute.h1", "nova"),
        str(uuid.uuid4()): ("notifications", "floatingip.update.end",
                            {"floatingip": "not an object"}, "network.h1", "neutron"),
    }
    for message_id, (topic, event, payload, publisher, exchange) in handler_poison.items():
        body = n.notification_body(event, payload, publisher, message_id=message_id)
        n.send_raw(url, n.oslo_envelope(body), exchange=exchange, routing_key=f"{topic}.info")

    # Then a valid delete, exactly as nova sends it: it must not be stuck behind them.
    with n.NovaPublisher(url) as pub:
        pub.instance_deleted(valid.instance)
    wait_for(lambda: valid.fqdn not in hosts(fake_ipa), WAIT, "the valid delete to be handled")
    vhost.wait_drained("novajoin", WAIT)

    # No loop: a while later nothing came back, nothing was requeued, counts did not grow.
    first = listener.metrics()
    time.sleep(2.0)
    later = listener.metrics()
    stats = vhost.queue("novajoin")
    assert stats is not None and stats.messages == 0 and stats.unacked == 0
    assert _poison_count(later) == _poison_count(first) == len(handler_poison)
    assert _requeued(later) == 0

    log = listener.log_text()
    for message_id in handler_poison:
        assert log.count(message_id) == 1, f"poison {message_id} reported {log.count(message_id)}x"
    assert log.count(OSLO_SKIP) == envelope_poison, log[-3000:]

    # IPA saw nothing for the poison: the victim is intact and was never named.
    assert hosts(fake_ipa)[victim.fqdn] == victim_entry
    victim_name = victim.fqdn.split(".", 1)[0]
    named = [c["method"] for c in ipa_calls(fake_ipa, since)
             if vid in str(c["params"]) or victim_name in str(c["params"])]
    assert not named, f"IPA calls for poison messages: {named}"
    assert listener.running
