"""Handlers map events to domain operations; the router lets only those through."""

from __future__ import annotations

import logging
import time

import oslo_messaging
import pytest
from notify_fakes import RecordingLifecycle

from novajoin import conf as novajoin_conf
from novajoin.notify import metrics as m
from novajoin.notify.delivery import Delivery, RetryPolicy
from novajoin.notify.handlers import NeutronHandler, NovaHandler
from novajoin.notify.listener import (
    Endpoint,
    NotifyService,
    Router,
    Server,
    build_handlers,
    targets_of,
)
from novajoin.notify.payloads import Poison

UUID = "5f3e1a4c-7b2d-4c8e-9a1f-0d6b2c3e4f50"


def versioned(data, version="1.8"):
    return {"nova_object.name": "InstanceActionPayload", "nova_object.namespace": "nova",
            "nova_object.version": version, "nova_object.data": data}


def nova(lifecycle, fmt="both", fixed=False):
    return NovaHandler(lifecycle, notification_format=fmt, manage_fixed_ip_dns=fixed)


@pytest.mark.parametrize(("event", "payload", "call"), [
    ("compute.instance.delete.end", {"instance_id": UUID}, ("instance_deleted", (UUID,), {})),
    ("instance.delete.end", versioned({"uuid": UUID}), ("instance_deleted", (UUID,), {})),
    ("compute.instance.rebuild.start", {"instance_id": UUID},
     ("instance_rebuilt", (UUID,), {})),
    ("instance.rebuild.start", versioned({"uuid": UUID}), ("instance_rebuilt", (UUID,), {})),
    ("network.floating_ip.associate", {"floating_ip": "172.24.4.9", "instance_id": UUID},
     ("floating_ip_associated", (UUID, "172.24.4.9"), {"port_id": None})),
    ("network.floating_ip.disassociate", {"floating_ip": "172.24.4.9", "instance_id": UUID},
     ("floating_ip_disassociated", ("172.24.4.9",), {"port_id": None})),
])
def test_nova_events(lifecycle, event, payload, call):
    for publisher in ("compute.host1", "nova-compute:host1", "nova-api:ctl1"):
        lifecycle.calls.clear()
        outcome = nova(lifecycle).process_notification({}, event, payload, publisher)
        assert outcome is not None and outcome.changed
        assert lifecycle.calls == [call]


def test_rebuild_end_and_create_are_not_acted_on_by_default(lifecycle):
    handler = nova(lifecycle)
    types = handler.get_event_types()
    assert "compute.instance.rebuild.end" not in types
    assert "instance.rebuild.end" not in types
    assert "instance.create.end" not in types
    assert handler.process_notification({}, "instance.rebuild.end",
                                        versioned({"uuid": UUID}), "nova-compute:h") is None
    assert lifecycle.calls == []


def test_fixed_ip_dns_behind_option(lifecycle):
    handler = nova(lifecycle, fixed=True)
    legacy = {"instance_id": UUID, "fixed_ips": [{"address": "10.0.0.5", "version": 4}]}
    handler.process_notification({}, "compute.instance.create.end", legacy, "compute.h")
    ip = {"nova_object.version": "1.0", "nova_object.data": {"address": "10.0.0.6"}}
    handler.process_notification({}, "instance.create.end",
                                 versioned({"uuid": UUID, "ip_addresses": [ip]}, "1.12"),
                                 "nova-compute:h")
    assert lifecycle.calls == [("fixed_ips_created", (UUID, ["10.0.0.5"]), {}),
                               ("fixed_ips_created", (UUID, ["10.0.0.6"]), {})]
    assert handler.process_notification({}, "instance.create.end",
                                        versioned({"uuid": UUID, "ip_addresses": []}),
                                        "nova-compute:h") is None


def test_formats_select_topics_and_events(lifecycle):
    legacy = nova(lifecycle, "legacy")
    assert legacy.get_exchange_topics() == ("nova", ["notifications"])
    assert "instance.delete.end" not in legacy.get_event_types()
    versioned_only = nova(lifecycle, "versioned")
    assert versioned_only.get_exchange_topics() == ("nova", ["versioned_notifications"])
    assert "compute.instance.delete.end" not in versioned_only.get_event_types()
    both = nova(lifecycle)
    assert both.get_exchange_topics() == ("nova", ["notifications", "versioned_notifications"])


def test_versioned_unknown_major_is_poison(lifecycle):
    with pytest.raises(Poison):
        nova(lifecycle).process_notification({}, "instance.delete.end",
                                             versioned({"uuid": UUID}, "2.0"), "nova-api:x")
    assert lifecycle.calls == []


def fip(port_id="port-1", device_id=UUID, owner="compute:nova"):
    details = {"device_id": device_id, "device_owner": owner} if device_id else None
    return {"floatingip": {"id": "f1", "floating_ip_address": "172.24.4.10",
                           "fixed_ip_address": "10.0.0.5" if port_id else None,
                           "port_id": port_id, "port_details": details}}


@pytest.mark.parametrize(("event", "payload", "calls"), [
    ("floatingip.create.end", fip(),
     [("floating_ip_associated", (UUID, "172.24.4.10"), {"port_id": "port-1"})]),
    ("floatingip.update.end", fip(),
     [("floating_ip_associated", (UUID, "172.24.4.10"), {"port_id": "port-1"})]),
    ("floatingip.update.end", fip(port_id=None, device_id=None),
     [("floating_ip_disassociated", ("172.24.4.10",), {"port_id": None})]),
    ("floatingip.create.end", fip(port_id=None, device_id=None), []),
    ("floatingip.update.end", fip(device_id=None), []),             # no resolvable instance
    ("floatingip.update.end", fip(owner="network:router_gateway"), []),
    ("floatingip.delete.end", {"floatingip_id": "f1", **fip()},
     [("floating_ip_disassociated", ("172.24.4.10",), {"port_id": None})]),
    ("port.delete.end", {"port_id": "port-1", "port": {"device_id": UUID,
                                                       "device_owner": "compute:nova"}},
     [("port_deleted", ("port-1", UUID), {})]),
    ("port.delete.end", {"port_id": "port-2"}, [("port_deleted", ("port-2", None), {})]),
    ("port.delete.end", {"port_id": "port-3", "port": {"device_id": "r1",
                                                       "device_owner": "network:dhcp"}}, []),
])
def test_neutron_events(lifecycle, event, payload, calls):
    NeutronHandler(lifecycle).process_notification({}, event, payload, "network.ctl1")
    assert lifecycle.calls == calls


# --- endpoints through the router (oslo.messaging's dispatcher interface) --------------


class Incoming:
    def __init__(self, event_type, payload, priority="info", message_id="mid-1"):
        self.ctxt = {}
        self.message = {"event_type": event_type, "payload": payload, "priority": priority,
                        "publisher_id": "nova-compute:h1", "message_id": message_id,
                        "timestamp": "2025-01-01 00:00:00"}


@pytest.fixture
def dispatch(lifecycle):
    metrics = m.Metrics()
    delivery = Delivery(RetryPolicy(requeue_delay=0.0), metrics)
    endpoints = [Endpoint(h, delivery) for h in (nova(lifecycle), NeutronHandler(lifecycle))]
    dispatcher = Router(endpoints)
    dispatcher.metrics = metrics
    return dispatcher


def test_router_passes_only_handled_events(dispatch, lifecycle):
    for event in ("compute.instance.exists", "instance.shutdown.end",
                  "compute.instance.delete.start",
                  "instance.delete.end.extra", "xinstance.delete.end", "port.create.end",
                  "floatingip.delete.start", "compute.instance.rebuild.end"):
        assert dispatch.dispatch(Incoming(event, {"instance_id": UUID})) == "handled"
    assert lifecycle.calls == []
    assert dispatch.metrics.total(m.IGNORED) == 0  # never reached novajoin code
    dispatch.dispatch(Incoming("compute.instance.delete.end", {"instance_id": UUID}))
    dispatch.dispatch(Incoming("port.delete.end", {"port_id": "p9"}))
    assert [c[0] for c in lifecycle.calls] == ["instance_deleted", "port_deleted"]
    assert dispatch.metrics.value("compute.instance.delete.end", m.DONE) == 1


def test_poison_through_dispatcher_is_acked(dispatch, caplog):
    caplog.set_level(logging.WARNING, "novajoin.notify")
    result = dispatch.dispatch(Incoming("instance.delete.end", "not json object",
                                        message_id="bad-1"))
    assert result == "handled"
    assert dispatch.metrics.value("instance.delete.end", m.POISON) == 1
    assert ["bad-1" in r.getMessage() for r in caplog.records] == [True]


def test_endpoint_ignores_event_that_slips_past_the_filter(lifecycle):
    metrics = m.Metrics()
    endpoint = Endpoint(nova(lifecycle), Delivery(RetryPolicy(), metrics))
    assert endpoint.info({}, "x", "instance.shutdown.end", {}, {"message_id": "m"}) == "handled"
    assert metrics.value("instance.shutdown.end", m.IGNORED) == 1
    assert lifecycle.calls == []


def test_only_info_priority_is_consumed(dispatch, lifecycle):
    assert set(dispatch.supported_priorities) == {"info"}
    for priority in ("error", "warn", "debug", ""):
        incoming = Incoming("compute.instance.delete.end", {"instance_id": UUID},
                            priority=priority)
        assert dispatch.dispatch(incoming) == "handled"
    assert lifecycle.calls == []
    assert dispatch.metrics.total(m.IGNORED) == 0
    # nova writes the priority in upper case on the wire
    dispatch.dispatch(Incoming("compute.instance.delete.end", {"instance_id": UUID},
                               priority="INFO"))
    assert [c[0] for c in lifecycle.calls] == ["instance_deleted"]


def test_router_gives_each_event_type_to_its_handler(lifecycle):
    delivery = Delivery(RetryPolicy(), m.Metrics())
    nova_endpoint = Endpoint(nova(lifecycle), delivery)
    neutron_endpoint = Endpoint(NeutronHandler(lifecycle), delivery)
    router = Router([nova_endpoint, neutron_endpoint])
    assert router.route({"event_type": "instance.delete.end", "priority": "INFO"}) \
        is nova_endpoint
    assert router.route({"event_type": "port.delete.end", "priority": "INFO"}) \
        is neutron_endpoint
    for body in ({"event_type": "compute.instance.delete.start", "priority": "INFO"},
                 {"event_type": None, "priority": "INFO"}, {}, ["not", "a", "mapping"],
                 {"event_type": ["unhashable"], "priority": "INFO"}):
        assert router.route(body) is None


class Received:
    """What the AMQP driver hands to the server: a body, acknowledge() and requeue()."""

    def __init__(self, event_type, priority="INFO", fail_ack=False):
        self.ctxt = {}
        self.message = {"event_type": event_type, "priority": priority,
                        "payload": {"instance_id": UUID}, "publisher_id": "compute.h1",
                        "message_id": f"m-{event_type}"}
        self.acked = self.requeued = 0
        self.fail_ack = fail_ack

    def acknowledge(self):
        self.acked += 1
        if self.fail_ack:
            raise OSError("connection lost")

    def requeue(self):
        self.requeued += 1


@pytest.fixture
def server(lifecycle, monkeypatch):
    """A Server (not started) whose hand-off to the worker pool is recorded."""
    conf = novajoin_conf.load([], config_files=[])
    transport = oslo_messaging.get_notification_transport(conf, url="fake:/")
    handed: list[list[str]] = []

    def hand_off(self, incoming):
        handed.append([message.message["event_type"] for message in incoming])

    monkeypatch.setattr(oslo_messaging.notify.listener.NotificationServer, "_on_incoming",
                        hand_off)
    service = NotifyService(conf, lifecycle, transport=transport)
    assert isinstance(service.listener, Server)
    service.listener.handed = handed
    yield service.listener
    transport.cleanup()


def test_poll_thread_acks_what_no_handler_wants(server, lifecycle):
    start, update = Received("compute.instance.delete.start"), Received("instance.update.x")
    error = Received("compute.instance.delete.end", priority="ERROR")
    for message in (start, update, error):
        server._on_incoming([message])
    assert [(m.acked, m.requeued) for m in (start, update, error)] == [(1, 0)] * 3
    assert server.handed == []  # never handed to a worker
    assert lifecycle.calls == []


def test_wanted_events_go_to_the_workers_unacked(server):
    end = Received("compute.instance.delete.end")
    server._on_incoming([end])
    assert server.handed == [["compute.instance.delete.end"]]
    assert (end.acked, end.requeued) == (0, 0)  # acked by the worker, after IPA


def test_failed_ack_of_an_ignored_event_is_logged_not_raised(server, caplog):
    caplog.set_level(logging.ERROR, "novajoin.notify")
    bad = Received("compute.instance.delete.start", fail_ack=True)
    end = Received("compute.instance.delete.end")
    server._on_incoming([bad, end])
    assert bad.acked == 1
    assert server.handed == [["compute.instance.delete.end"]]
    assert any("failed to acknowledge" in r.getMessage() for r in caplog.records)


# --- the service's wiring from config ----------------------------------------------------


def test_service_targets_pool_and_requeue_from_conf(lifecycle):
    conf = novajoin_conf.load([], config_files=[])
    transport = oslo_messaging.get_notification_transport(conf, url="fake:/")
    try:
        service = NotifyService(conf, RecordingLifecycle(), transport=transport)
        assert [(t.exchange, t.topic) for t in service.targets] == [
            ("nova", "notifications"), ("nova", "versioned_notifications"),
            ("neutron", "notifications")]
        assert service.pool == "novajoin"
        assert service.listener._allow_requeue is True
        assert service.listener._pool == "novajoin"
        assert "pool novajoin" in service.describe()
    finally:
        transport.cleanup()


def test_format_and_exchanges_from_conf(lifecycle):
    conf = novajoin_conf.load([], config_files=[])
    conf.set_override("notification_format", "versioned", group="notify")
    conf.set_override("neutron_exchange", "", group="notify")
    handlers = build_handlers(conf, lifecycle)
    assert [(t.exchange, t.topic) for t in targets_of(handlers)] == [
        ("nova", "versioned_notifications")]


def test_empty_pool_is_refused(lifecycle):
    from novajoin.conf.clients import ConfigError

    conf = novajoin_conf.load([], config_files=[])
    conf.set_override("pool", "", group="notify")
    with pytest.raises(ConfigError, match="pool"):
        NotifyService(conf, lifecycle, transport=object())


def test_real_server_on_oslo_fake_driver_hands_only_deletes_to_workers(lifecycle, monkeypatch):
    """The poll loop, hook and workers of oslo.messaging itself (fake driver, no broker)."""
    from oslo_config import cfg

    handed: list[str] = []
    base = oslo_messaging.notify.listener.NotificationServer._on_incoming

    def hand_off(self, incoming):
        handed.extend(message.message["event_type"] for message in incoming)
        return base(self, incoming)

    monkeypatch.setattr(oslo_messaging.notify.listener.NotificationServer, "_on_incoming",
                        hand_off)
    conf = novajoin_conf.load([], config_files=[])
    transport = oslo_messaging.get_notification_transport(conf, url="fake:/")
    nova_conf = cfg.ConfigOpts()
    nova_conf([], default_config_files=[], default_config_dirs=[])
    oslo_messaging.get_notification_transport(nova_conf, url="fake:/").cleanup()  # registers
    nova_conf.set_override("control_exchange", "nova")
    nova_transport = oslo_messaging.get_notification_transport(nova_conf, url="fake:/")
    service = NotifyService(conf, lifecycle, transport=transport)
    service.start()
    try:
        notifier = oslo_messaging.Notifier(nova_transport, publisher_id="compute.h1",
                                           driver="messagingv2", topics=["notifications"])
        notifier.info({}, "compute.instance.delete.start", {"instance_id": UUID})
        notifier.info({}, "compute.instance.exists", {"instance_id": UUID})
        notifier.info({}, "compute.instance.delete.end", {"instance_id": UUID})
        deadline = time.monotonic() + 10
        while not lifecycle.calls and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        service.stop()
        service.wait()
        service.close()
        nova_transport.cleanup()
        transport.cleanup()
    assert lifecycle.calls == [("instance_deleted", (UUID,), {})]
    assert handed == ["compute.instance.delete.end"]
    assert service.metrics.value("compute.instance.delete.end", m.DONE) == 1
    assert service.metrics.total(m.IGNORED) == 0
