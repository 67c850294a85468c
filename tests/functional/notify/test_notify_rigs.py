"""The rigs themselves: what the publishers put on the real broker is what nova and neutron put.

Each publisher is checked twice: raw, from a queue of our own bound to the
exchange (envelope, exchange, routing key, packed context), and parsed,
through an oslo.messaging notification listener on a pool (publisher id,
event type, payload), which is how novajoin-notify sees it.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from typing import Any

import kombu
import oslo_messaging
import pytest
from oslo_config import cfg

from novajoin.testing import notifications as n
from novajoin.testing.rabbit import Vhost

WAIT = 10.0


class Raw:
    """A kombu queue bound to ``exchange`` with ``<topic>.#``; yields (routing key, body)."""

    def __init__(self, vhost: Vhost, exchange: str, topic: str) -> None:
        self.conn = kombu.Connection(n.amqp_url(vhost.transport_url), connect_timeout=10)
        ex = kombu.Exchange(exchange, type="topic", durable=False, auto_delete=False)
        self.queue = kombu.Queue(f"raw-{exchange}-{topic}", ex, routing_key=f"{topic}.#",
                                 durable=False, auto_delete=False)
        self.bound = self.queue(self.conn.channel())
        self.bound.declare()

    def get_message(self) -> Any:
        """The next message, undecoded (basic_get polling, bounded by WAIT)."""
        deadline = time.monotonic() + WAIT
        while True:
            message = self.bound.get(no_ack=False)
            if message is not None:
                message.ack()
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no message on {self.queue.name} within {WAIT} s")
            time.sleep(0.02)

    def get(self) -> tuple[str, dict[str, Any]]:
        message = self.get_message()
        return message.delivery_info["routing_key"], json.loads(message.body)

    def empty(self) -> bool:
        return self.bound.queue_declare(passive=True).message_count == 0

    def close(self) -> None:
        self.conn.close()


class Endpoint:
    def __init__(self) -> None:
        self.seen: queue.Queue[dict[str, Any]] = queue.Queue()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
             metadata: Any) -> None:
        self.seen.put({"ctxt": ctxt, "publisher_id": publisher_id, "event_type": event_type,
                       "payload": payload, "metadata": metadata})


@pytest.fixture
def listen(vhost: Vhost) -> Iterator[Any]:
    started: list[Any] = []
    transports: list[Any] = []

    def make(exchange: str, topic: str) -> Endpoint:
        conf = cfg.ConfigOpts()
        conf([], project="rig-listener", default_config_files=[], default_config_dirs=[])
        transport = oslo_messaging.get_notification_transport(conf, url=vhost.transport_url)
        endpoint = Endpoint()
        listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(exchange=exchange, topic=topic)], [endpoint],
            executor="threading", pool="rig")
        listener.start()
        started.append(listener)
        transports.append(transport)
        return endpoint

    yield make
    for listener in started:
        listener.stop()
        listener.wait()
    for transport in transports:
        transport.cleanup()


def _check_envelope(body: dict[str, Any], publisher_id: str, event_type: str) -> dict[str, Any]:
    assert set(body) == {"oslo.version", "oslo.message"}
    assert body["oslo.version"] == "2.0"
    message = json.loads(body["oslo.message"])
    assert message["publisher_id"] == publisher_id
    assert message["event_type"] == event_type
    assert message["priority"] == "INFO"
    assert message["message_id"] and message["timestamp"]
    assert message["_context_request_id"].startswith("req-")
    assert message["_context_project_id"]
    assert "_unique_id" in message
    return message


def test_nova_legacy_delete(vhost: Vhost, listen: Any) -> None:
    raw = Raw(vhost, "nova", "notifications")
    endpoint = listen("nova", "notifications")
    inst = n.make_instance("vm-1", fixed_ips=(n.FixedIP("10.0.0.5"),))
    with n.NovaPublisher(vhost.transport_url, host="cmp-7") as pub:
        pub.instance_deleted(inst)
    try:
        for action in ("delete.start", "delete.end"):
            key, body = raw.get()
            assert key == "notifications.info"
            message = _check_envelope(body, "compute.cmp-7", f"compute.instance.{action}")
            payload = message["payload"]
            assert payload["instance_id"] == inst.uuid
            assert payload["hostname"] == "vm-1"
            assert payload["tenant_id"] == inst.project_id
            assert "image_ref" not in payload and payload["image_ref_url"].endswith(
                inst.image_uuid)
            assert payload["metadata"] == {"ipa_enroll": "True"}
        assert payload["state"] == "deleted"
        assert payload["fixed_ips"][0]["address"] == "10.0.0.5"
        assert raw.empty()
    finally:
        raw.close()
    seen = [endpoint.seen.get(timeout=WAIT) for _ in range(2)]
    assert [s["event_type"] for s in seen] == ["compute.instance.delete.start",
                                               "compute.instance.delete.end"]
    assert all(s["publisher_id"] == "compute.cmp-7" for s in seen)
    assert seen[1]["payload"]["instance_id"] == inst.uuid
    assert seen[1]["metadata"]["message_id"]
    assert seen[1]["ctxt"]["project_id"] == inst.project_id


@pytest.mark.parametrize("api", [False, True], ids=["nova-compute", "nova-api"])
def test_nova_versioned_delete(vhost: Vhost, listen: Any, api: bool) -> None:
    raw = Raw(vhost, "nova", "versioned_notifications")
    legacy = Raw(vhost, "nova", "notifications")
    inst = n.make_instance("vm-2", fixed_ips=(n.FixedIP("10.0.0.6"),))
    publisher_id = ("nova-api:api-1" if api else "nova-compute:api-1")
    with n.NovaPublisher(vhost.transport_url, host="api-1", format="versioned", api=api) as pub:
        pub.instance_deleted(inst, with_start=False)
    try:
        key, body = raw.get()
        assert key == "versioned_notifications.info"
        payload = _check_envelope(body, publisher_id, "instance.delete.end")["payload"]
        assert payload["nova_object.name"] == "InstanceActionPayload"
        assert payload["nova_object.namespace"] == "nova"
        assert payload["nova_object.version"] == n.INSTANCE_ACTION_PAYLOAD_VERSION
        data = payload["nova_object.data"]
        assert data["uuid"] == inst.uuid and data["host_name"] == "vm-2"
        assert data["tenant_id"] == inst.project_id and data["state"] == "deleted"
        if api:
            assert data["ip_addresses"] == []
        else:
            ip = data["ip_addresses"][0]
            assert ip["nova_object.name"] == "IpPayload"
            assert ip["nova_object.data"]["address"] == "10.0.0.6"
        assert legacy.empty(), "a versioned event must not reach the legacy topic"
    finally:
        raw.close()
        legacy.close()


def test_nova_versioned_create_and_rebuild_payload_names(vhost: Vhost) -> None:
    raw = Raw(vhost, "nova", "versioned_notifications")
    inst = n.make_instance("vm-3")
    with n.NovaPublisher(vhost.transport_url, format="versioned") as pub:
        pub.instance_created(inst)
        pub.instance_rebuilt(inst, with_start=False)
    try:
        names = []
        for _ in range(2):
            _key, body = raw.get()
            message = json.loads(body["oslo.message"])
            names.append((message["event_type"], message["payload"]["nova_object.name"]))
        assert names == [("instance.create.end", "InstanceCreatePayload"),
                         ("instance.rebuild.end", "InstanceActionRebuildPayload")]
    finally:
        raw.close()


def test_neutron_floatingip_and_port(vhost: Vhost, listen: Any) -> None:
    raw = Raw(vhost, "neutron", "notifications")
    nova_raw = Raw(vhost, "nova", "notifications")
    endpoint = listen("neutron", "notifications")
    inst = n.make_instance("vm-4", fixed_ips=(n.FixedIP("10.0.0.7"),))
    fip = n.FloatingIP("172.24.4.10", project_id=inst.project_id)
    with n.NeutronPublisher(vhost.transport_url, host="ctl-1") as pub:
        pub.floatingip_created(fip, with_start=False)
        pub.floatingip_updated(fip.associate(inst, inst.fixed_ips[0]), with_start=False)
        pub.floatingip_updated(fip.disassociate(), with_start=False)
        pub.floatingip_deleted(fip, with_start=False)
        pub.port_deleted(inst, inst.fixed_ips[0], with_start=False)
    try:
        bodies = [raw.get() for _ in range(5)]
        assert {key for key, _ in bodies} == {"notifications.info"}
        messages = [_check_envelope(b, "network.ctl-1", json.loads(b["oslo.message"])[
            "event_type"]) for _, b in bodies]
        events = [m["event_type"] for m in messages]
        assert events == ["floatingip.create.end", "floatingip.update.end",
                          "floatingip.update.end", "floatingip.delete.end", "port.delete.end"]
        created, assoc, disassoc, deleted, port = (m["payload"] for m in messages)
        assert created["floatingip"]["port_id"] is None
        assert assoc["floatingip"]["port_id"] == inst.fixed_ips[0].port_id
        assert assoc["floatingip"]["fixed_ip_address"] == "10.0.0.7"
        assert assoc["floatingip"]["floating_ip_address"] == "172.24.4.10"
        assert assoc["floatingip"]["port_details"]["device_id"] == inst.uuid
        assert disassoc["floatingip"]["port_id"] is None
        assert disassoc["floatingip"]["fixed_ip_address"] is None
        assert disassoc["floatingip"]["port_details"] is None
        assert deleted["floatingip_id"] == fip.id and deleted["floatingip"]["id"] == fip.id
        assert port["port_id"] == inst.fixed_ips[0].port_id
        assert port["port"]["device_id"] == inst.uuid
        assert port["port"]["fixed_ips"][0]["ip_address"] == "10.0.0.7"
        assert nova_raw.empty(), "neutron events must stay on the neutron exchange"
    finally:
        raw.close()
        nova_raw.close()
    seen = [endpoint.seen.get(timeout=WAIT) for _ in range(5)]
    assert [s["event_type"] for s in seen] == events


def test_nova_network_floating_ip(vhost: Vhost) -> None:
    raw = Raw(vhost, "nova", "notifications")
    inst = n.make_instance("vm-5")
    with n.NovaNetworkPublisher(vhost.transport_url, host="net-1") as pub:
        pub.associated(inst, "172.24.4.11")
        pub.disassociated(inst, "172.24.4.11")
    try:
        for event in ("network.floating_ip.associate", "network.floating_ip.disassociate"):
            _key, body = raw.get()
            payload = _check_envelope(body, "network.net-1", event)["payload"]
            assert payload == {"project_id": inst.project_id, "instance_id": inst.uuid,
                               "floating_ip": "172.24.4.11"}
    finally:
        raw.close()


def test_send_raw_and_queue_stats(vhost: Vhost) -> None:
    raw = Raw(vhost, "nova", "notifications")
    try:
        n.send_raw(vhost.transport_url, b"\x00not json")
        n.send_raw(vhost.transport_url, n.oslo_envelope(
            n.notification_body("compute.instance.delete.end", {"x": 1}, "compute.h"), "9.9"))
        stats = None
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            stats = vhost.queue(raw.queue.name)
            if stats is not None and stats.messages == 2:
                break
            time.sleep(0.2)
        assert stats is not None and stats.messages == 2 and stats.unacked == 0
        body = raw.get_message().body
        assert (body.encode() if isinstance(body, str) else body) == b"\x00not json"
        _key, body = raw.get()
        assert body["oslo.version"] == "9.9"
        assert vhost.wait_drained(raw.queue.name, WAIT).messages == 0
        assert ("nova", raw.queue.name, "notifications.#") in vhost.bindings()
    finally:
        raw.close()

