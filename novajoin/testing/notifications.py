"""Publish notifications exactly as nova and neutron put them on the bus.

The wire format is produced by oslo.messaging's own ``Notifier`` (driver
``messagingv2``: envelope ``{"oslo.version": "2.0", "oslo.message": ...}``,
context packed as ``_context_*`` keys, ``message_id``, ``timestamp``), with
the exchange each service uses (nova calls
``oslo_messaging.set_transport_defaults(control_exchange='nova')``, neutron
does the same with ``'neutron'``), their topics (``notifications`` for the
legacy format, ``versioned_notifications`` for nova's versioned one), their
publisher ids and their payload field names:

* nova legacy ``compute.instance.*`` (nova/notifications/base.py
  ``info_from_instance``): publisher ``compute.<host>``;
* nova versioned ``instance.*`` (nova/notifications/objects/instance.py):
  ``InstanceActionPayload`` & co. wrapped as ``nova_object.*``, publisher
  ``nova-compute:<host>``, or ``nova-api:<host>`` when the API deletes an
  instance whose compute host is down;
* nova-network ``network.floating_ip.associate/disassociate``
  (payload ``project_id``, ``instance_id``, ``floating_ip``), publisher
  ``network.<host>`` on exchange ``nova``;
* neutron ``floatingip.*`` / ``port.*`` (neutron/api/v2/base.py: create and
  update send ``{resource: view}``, delete sends ``{resource_id: id,
  resource: view}``), publisher ``network.<host>``, exchange ``neutron``.

Each publisher owns its own ``ConfigOpts`` (the exchange is per service, so a
process-wide ``set_transport_defaults`` would make nova and neutron collide).
``send_raw`` bypasses oslo.messaging to put bytes nobody could produce with a
Notifier on the bus (poison at the envelope level).
"""

from __future__ import annotations

import datetime
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import oslo_messaging
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_messaging import opts as messaging_opts

LEGACY_TOPIC = "notifications"
VERSIONED_TOPIC = "versioned_notifications"
NOVA_EXCHANGE = "nova"
NEUTRON_EXCHANGE = "neutron"

# nova_object versions of the payloads in nova/notifications/objects/instance.py.
INSTANCE_ACTION_PAYLOAD_VERSION = "1.7"
INSTANCE_CREATE_PAYLOAD_VERSION = "1.11"
INSTANCE_REBUILD_PAYLOAD_VERSION = "1.8"
IP_PAYLOAD_VERSION = "1.0"
FLAVOR_PAYLOAD_VERSION = "1.4"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _legacy_time() -> str:
    """nova's legacy payloads carry str(datetime) without a zone."""
    return str(datetime.datetime.now(datetime.UTC).replace(tzinfo=None))


# --------------------------------------------------------------------- the instance


@dataclass(frozen=True)
class FixedIP:
    """One address of an instance's port."""

    address: str
    port_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    mac: str = field(default_factory=lambda: "fa:16:3e:{:02x}:{:02x}:{:02x}".format(*tuple(
        secrets.token_bytes(3))))
    label: str = "private"

    @property
    def version(self) -> int:
        return 6 if ":" in self.address else 4


@dataclass(frozen=True)
class Instance:
    """What nova knows about an instance, as far as its notifications tell."""

    uuid: str
    hostname: str
    project_id: str
    user_id: str = "8c7b1b2c5a4d4e6f9a0b1c2d3e4f5a6b"
    display_name: str = ""
    host: str = "compute-1"
    image_uuid: str = "155d900f-4e14-4e4c-a73d-069cbf4541e6"
    metadata: Mapping[str, str] = field(default_factory=lambda: {"ipa_enroll": "True"})
    fixed_ips: Sequence[FixedIP] = ()

    @property
    def name(self) -> str:
        return self.display_name or self.hostname


def make_instance(hostname: str, project_id: str = "6f1e2d3c4b5a69788796a5b4c3d2e1f0",
                  **kwargs: Any) -> Instance:
    return Instance(uuid=str(uuid.uuid4()), hostname=hostname, project_id=project_id, **kwargs)


def request_context(instance: Instance | None = None) -> oslo_context.RequestContext:
    """A request context like the one nova's API/compute hands to its notifier."""
    return oslo_context.RequestContext(
        user_id=instance.user_id if instance else "8c7b1b2c5a4d4e6f9a0b1c2d3e4f5a6b",
        project_id=instance.project_id if instance else "6f1e2d3c4b5a69788796a5b4c3d2e1f0",
        request_id=f"req-{uuid.uuid4()}",
        roles=["member", "reader"],
        is_admin=False,
    )


# ------------------------------------------------------------------ legacy payloads

_LEGACY_STATES = {
    "create.end": ("active", "", "running"),
    "delete.start": ("active", "deleting", "running"),
    "delete.end": ("deleted", "", "pending"),
    "rebuild.start": ("active", "rebuilding", "running"),
    "rebuild.end": ("active", "", "running"),
}


def legacy_instance_payload(instance: Instance, action: str) -> dict[str, Any]:
    """``compute.instance.<action>`` payload (fields of nova's ``info_from_instance``)."""
    state, task, _power = _LEGACY_STATES.get(action, ("active", "", "running"))
    now = _legacy_time()
    payload: dict[str, Any] = {
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "instance_id": instance.uuid,
        "display_name": instance.name,
        "reservation_id": "r-" + secrets.token_hex(4),
        "hostname": instance.hostname,
        "instance_type": "m1.small",
        "instance_type_id": 2,
        "instance_flavor_id": "2",
        "memory_mb": 2048,
        "disk_gb": 20,
        "vcpus": 1,
        "root_gb": 20,
        "ephemeral_gb": 0,
        "host": instance.host,
        "node": instance.host,
        "availability_zone": "nova",
        "cell_name": "",
        "created_at": now,
        "terminated_at": now if action == "delete.end" else "",
        "deleted_at": now if action == "delete.end" else "",
        "launched_at": now,
        "image_ref_url": f"http://glance.example.test:9292/images/{instance.image_uuid}",
        "os_type": None,
        "architecture": "x86_64",
        "kernel_id": "",
        "ramdisk_id": "",
        "image_meta": {"base_image_ref": instance.image_uuid, "min_disk": "20",
                       "min_ram": "0", "container_format": "bare", "disk_format": "qcow2"},
        "state": state,
        "state_description": task,
        "progress": "",
        "access_ip_v4": None,
        "access_ip_v6": None,
        "metadata": dict(instance.metadata),
    }
    if action.endswith(".end") and action != "delete.start":
        payload["fixed_ips"] = [
            {"address": ip.address, "type": "fixed", "version": ip.version, "label": ip.label,
             "vif_mac": ip.mac, "meta": {}, "floating_ips": []}
            for ip in instance.fixed_ips
        ]
    if action == "create.end":
        payload["message"] = "Success"
    if action.startswith("rebuild"):
        payload["image_name"] = "fedora-40"
    return payload


# ---------------------------------------------------------------- versioned payloads


def nova_object(name: str, version: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What ``NovaObject.obj_to_primitive()`` makes of a notification payload."""
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": dict(data),
        "nova_object.changes": sorted(data),
    }


def _ip_payloads(instance: Instance) -> list[dict[str, Any]]:
    return [
        nova_object("IpPayload", IP_PAYLOAD_VERSION, {
            "label": ip.label, "mac": ip.mac, "meta": {}, "port_uuid": ip.port_id,
            "version": ip.version, "address": ip.address, "device_name": f"tap{ip.port_id[:11]}",
        })
        for ip in instance.fixed_ips
    ]


def _flavor_payload() -> dict[str, Any]:
    return nova_object("FlavorPayload", FLAVOR_PAYLOAD_VERSION, {
        "flavorid": "2", "name": "m1.small", "memory_mb": 2048, "vcpus": 1, "root_gb": 20,
        "ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0, "vcpu_weight": 0, "disabled": False,
        "is_public": True, "extra_specs": {}, "projects": None, "description": None,
    })


def versioned_instance_payload(
    instance: Instance, action: str, *, compute_down: bool = False
) -> dict[str, Any]:
    """``instance.<action>`` payload: ``InstanceActionPayload`` (or Create/Rebuild) primitive.

    ``compute_down``: the shape nova-api sends when it deletes an instance whose
    compute host is down (no network info: ``ip_addresses`` is empty).
    """
    state, task, power = _LEGACY_STATES.get(action, ("active", None, "running"))
    now = _now()
    deleted = action == "delete.end"
    data: dict[str, Any] = {
        "uuid": instance.uuid,
        "user_id": instance.user_id,
        "tenant_id": instance.project_id,
        "reservation_id": "r-" + secrets.token_hex(4),
        "display_name": instance.name,
        "display_description": instance.name,
        "host_name": instance.hostname,
        "host": instance.host,
        "node": instance.host,
        "os_type": None,
        "architecture": "x86_64",
        "availability_zone": "nova",
        "flavor": _flavor_payload(),
        "image_uuid": instance.image_uuid,
        "key_name": "my-key",
        "kernel_id": "",
        "ramdisk_id": "",
        "created_at": now,
        "launched_at": now,
        "terminated_at": now if deleted else None,
        "deleted_at": now if deleted else None,
        "updated_at": now,
        "state": state,
        "power_state": power,
        "task_state": task or None,
        "progress": 0,
        "ip_addresses": [] if compute_down else _ip_payloads(instance),
        "block_devices": [],
        "metadata": dict(instance.metadata),
        "locked": False,
        "auto_disk_config": "MANUAL",
        "request_id": f"req-{uuid.uuid4()}",
        "action_initiator_user": instance.user_id,
        "action_initiator_project": instance.project_id,
        "fault": None,
    }
    if action.startswith("create"):
        data.update(keypairs=[], tags=[], trusted_image_certificates=None,
                    instance_name=f"instance-{secrets.token_hex(4)}")
        return nova_object("InstanceCreatePayload", INSTANCE_CREATE_PAYLOAD_VERSION, data)
    if action.startswith("rebuild"):
        data["trusted_image_certificates"] = None
        return nova_object("InstanceActionRebuildPayload", INSTANCE_REBUILD_PAYLOAD_VERSION,
                           data)
    return nova_object("InstanceActionPayload", INSTANCE_ACTION_PAYLOAD_VERSION, data)


# ------------------------------------------------------------------ neutron payloads


@dataclass
class FloatingIP:
    """A neutron floating IP and (when associated) the port it maps to."""

    floating_ip_address: str
    project_id: str = "6f1e2d3c4b5a69788796a5b4c3d2e1f0"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    floating_network_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    router_id: str | None = None
    port_id: str | None = None
    fixed_ip_address: str | None = None
    device_id: str | None = None  # the instance uuid, from port_details
    revision_number: int = 0

    def associate(self, instance: Instance, fixed: FixedIP) -> FloatingIP:
        self.port_id, self.fixed_ip_address, self.device_id = (
            fixed.port_id, fixed.address, instance.uuid)
        self.router_id = self.router_id or str(uuid.uuid4())
        self.revision_number += 1
        return self

    def disassociate(self) -> FloatingIP:
        self.port_id = self.fixed_ip_address = self.device_id = None
        self.router_id = None
        self.revision_number += 1
        return self

    def view(self) -> dict[str, Any]:
        """neutron's API view of the floating IP (what its notifications carry)."""
        now = _now()
        details = None
        if self.port_id is not None:
            details = {"name": "", "network_id": str(uuid.uuid4()),
                       "mac_address": "fa:16:3e:00:00:01", "admin_state_up": True,
                       "status": "ACTIVE", "device_id": self.device_id,
                       "device_owner": "compute:nova"}
        return {
            "id": self.id,
            "tenant_id": self.project_id,
            "project_id": self.project_id,
            "floating_network_id": self.floating_network_id,
            "router_id": self.router_id,
            "port_id": self.port_id,
            "fixed_ip_address": self.fixed_ip_address,
            "floating_ip_address": self.floating_ip_address,
            "status": "ACTIVE" if self.port_id else "DOWN",
            "description": "",
            "tags": [],
            "qos_policy_id": None,
            "port_details": details,
            "port_forwardings": [],
            "dns_domain": "",
            "dns_name": "",
            "created_at": now,
            "updated_at": now,
            "revision_number": self.revision_number,
        }


def port_view(instance: Instance | None, fixed: FixedIP,
              network_id: str | None = None) -> dict[str, Any]:
    """neutron's API view of a port (``port.delete.end`` carries it)."""
    now = _now()
    project = instance.project_id if instance else "6f1e2d3c4b5a69788796a5b4c3d2e1f0"
    return {
        "id": fixed.port_id,
        "name": "",
        "network_id": network_id or str(uuid.uuid4()),
        "tenant_id": project,
        "project_id": project,
        "mac_address": fixed.mac,
        "admin_state_up": True,
        "status": "ACTIVE",
        "device_id": instance.uuid if instance else "",
        "device_owner": "compute:nova" if instance else "",
        "fixed_ips": [{"subnet_id": str(uuid.uuid4()), "ip_address": fixed.address}],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "security_groups": [],
        "description": "",
        "binding:vnic_type": "normal",
        "port_security_enabled": True,
        "dns_name": "",
        "dns_assignment": [],
        "tags": [],
        "created_at": now,
        "updated_at": now,
        "revision_number": 3,
    }


# ------------------------------------------------------------------------ publishers


class _Publisher:
    """An oslo.messaging Notifier on its own transport, set up as the service does it."""

    def __init__(
        self, transport_url: str, *, exchange: str, publisher_id: str, topics: Sequence[str]
    ) -> None:
        self.conf = cfg.ConfigOpts()
        self.conf([], project="novajoin-test-publisher", default_config_files=[],
                  default_config_dirs=[])
        # What set_transport_defaults(control_exchange=...) does, on this conf only.
        for group, opts in messaging_opts.list_opts():
            if group is None:
                self.conf.register_opts([o for o in opts if o.name == "control_exchange"])
        self.conf.set_override("control_exchange", exchange)
        self.exchange = exchange
        self.topics = list(topics)
        self.publisher_id = publisher_id
        self.transport = oslo_messaging.get_notification_transport(self.conf, url=transport_url)
        self.notifier = oslo_messaging.Notifier(
            self.transport, publisher_id=publisher_id, driver="messagingv2", topics=self.topics)

    def publish(
        self,
        event_type: str,
        payload: Any,
        *,
        priority: str = "info",
        context: Any = None,
        publisher_id: str | None = None,
    ) -> None:
        """Send one notification (a Notifier never says whether it was routed anywhere)."""
        notifier = self.notifier.prepare(publisher_id=publisher_id) if publisher_id \
            else self.notifier
        ctxt = context if context is not None else request_context()
        getattr(notifier, priority.lower())(ctxt, event_type, payload)

    def close(self) -> None:
        self.transport.cleanup()

    def __enter__(self) -> _Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NovaPublisher(_Publisher):
    """nova-compute (or nova-api) notifications of one format.

    ``format='legacy'``: topic ``notifications``, publisher ``compute.<host>``;
    ``format='versioned'``: topic ``versioned_notifications``, publisher
    ``nova-compute:<host>`` or, with ``api=True``, ``nova-api:<host>``.
    """

    def __init__(
        self, transport_url: str, host: str = "compute-1", format: str = "legacy",
        api: bool = False,
    ) -> None:
        if format not in ("legacy", "versioned"):
            raise ValueError("format must be legacy or versioned")
        if api and format == "legacy":
            raise ValueError("nova-api publishes no legacy instance events in this rig")
        self.format = format
        self.api = api
        self.host = host
        if format == "legacy":
            publisher_id, topic = f"compute.{host}", LEGACY_TOPIC
        else:
            publisher_id = f"{'nova-api' if api else 'nova-compute'}:{host}"
            topic = VERSIONED_TOPIC
        super().__init__(transport_url, exchange=NOVA_EXCHANGE, publisher_id=publisher_id,
                         topics=[topic])

    def event_type(self, action: str) -> str:
        return f"compute.instance.{action}" if self.format == "legacy" else f"instance.{action}"

    def instance_event(self, instance: Instance, action: str) -> None:
        if self.format == "legacy":
            payload = legacy_instance_payload(instance, action)
        else:
            payload = versioned_instance_payload(instance, action, compute_down=self.api)
        self.publish(self.event_type(action), payload, context=request_context(instance))

    def instance_deleted(self, instance: Instance, *, with_start: bool = True) -> None:
        """``delete.start`` (ignored by handlers, but nova sends it) then ``delete.end``."""
        if with_start:
            self.instance_event(instance, "delete.start")
        self.instance_event(instance, "delete.end")

    def instance_created(self, instance: Instance) -> None:
        self.instance_event(instance, "create.end")

    def instance_rebuilt(self, instance: Instance, *, with_start: bool = True) -> None:
        if with_start:
            self.instance_event(instance, "rebuild.start")
        self.instance_event(instance, "rebuild.end")


class NovaNetworkPublisher(_Publisher):
    """Legacy nova-network floating IP events (exchange nova, publisher ``network.<host>``)."""

    def __init__(self, transport_url: str, host: str = "network-1") -> None:
        super().__init__(transport_url, exchange=NOVA_EXCHANGE, publisher_id=f"network.{host}",
                         topics=[LEGACY_TOPIC])

    def _send(self, event: str, instance: Instance, address: str) -> None:
        payload = {"project_id": instance.project_id, "instance_id": instance.uuid,
                   "floating_ip": address}
        self.publish(event, payload, context=request_context(instance))

    def associated(self, instance: Instance, address: str) -> None:
        self._send("network.floating_ip.associate", instance, address)

    def disassociated(self, instance: Instance, address: str) -> None:
        self._send("network.floating_ip.disassociate", instance, address)


class NeutronPublisher(_Publisher):
    """neutron-server API notifications (exchange neutron, publisher ``network.<host>``)."""

    def __init__(self, transport_url: str, host: str = "controller-1") -> None:
        super().__init__(transport_url, exchange=NEUTRON_EXCHANGE,
                         publisher_id=f"network.{host}", topics=[LEGACY_TOPIC])

    def floatingip_created(self, fip: FloatingIP, *, with_start: bool = True) -> None:
        if with_start:
            body = {"floatingip": {"floating_network_id": fip.floating_network_id,
                                   "port_id": fip.port_id}}
            self.publish("floatingip.create.start", body)
        self.publish("floatingip.create.end", {"floatingip": fip.view()})

    def floatingip_updated(self, fip: FloatingIP, *, with_start: bool = True) -> None:
        """Associate (port_id set) or disassociate (port_id null): both are updates."""
        if with_start:
            self.publish("floatingip.update.start",
                         {"id": fip.id, "floatingip": {"port_id": fip.port_id}})
        self.publish("floatingip.update.end", {"floatingip": fip.view()})

    def floatingip_deleted(self, fip: FloatingIP, *, with_start: bool = True) -> None:
        if with_start:
            self.publish("floatingip.delete.start", {"floatingip_id": fip.id})
        self.publish("floatingip.delete.end", {"floatingip_id": fip.id,
                                               "floatingip": fip.view()})

    def port_deleted(self, instance: Instance | None, fixed: FixedIP, *,
                     with_start: bool = True) -> None:
        if with_start:
            self.publish("port.delete.start", {"port_id": fixed.port_id})
        self.publish("port.delete.end", {"port_id": fixed.port_id,
                                         "port": port_view(instance, fixed)})


# --------------------------------------------------------------------------- poison


def amqp_url(transport_url: str) -> str:
    """kombu's URL for the same broker and vhost as an oslo ``rabbit://`` URL."""
    return "amqp://" + transport_url.split("://", 1)[1]


def send_raw(
    transport_url: str,
    body: bytes | str | Mapping[str, Any],
    *,
    exchange: str = NOVA_EXCHANGE,
    routing_key: str = f"{LEGACY_TOPIC}.info",
    content_type: str = "application/json",
) -> None:
    """Publish ``body`` as is (a Mapping is JSON-encoded), bypassing oslo.messaging.

    For messages no Notifier can produce: not JSON at all, an envelope with
    an unknown ``oslo.version``, an ``oslo.message`` that is not JSON...  The
    exchange is declared as oslo.messaging declares it (topic, not durable,
    not auto-delete), so this works before or after any service started.
    """
    import kombu

    raw = json.dumps(body).encode() if isinstance(body, Mapping) else body
    if isinstance(raw, str):
        raw = raw.encode()
    target = kombu.Exchange(exchange, type="topic", durable=False, auto_delete=False)
    with kombu.Connection(amqp_url(transport_url), connect_timeout=10) as conn:
        producer = conn.Producer()
        producer.publish(raw, exchange=target, routing_key=routing_key,
                         content_type=content_type, content_encoding="utf-8",
                         declare=[target], retry=True, retry_policy={"max_retries": 3})


def oslo_envelope(message: Mapping[str, Any], version: str = "2.0") -> dict[str, Any]:
    """A messagingv2 envelope around ``message`` (for send_raw variations)."""
    return {"oslo.version": version, "oslo.message": json.dumps(message)}


def notification_body(event_type: str, payload: Any, publisher_id: str,
                      message_id: str | None = None) -> dict[str, Any]:
    """The inner message a Notifier would send (for hand-made envelopes)."""
    return {"message_id": message_id or str(uuid.uuid4()), "publisher_id": publisher_id,
            "event_type": event_type, "priority": "INFO", "payload": payload,
            "timestamp": _legacy_time()}
