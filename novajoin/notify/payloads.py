"""Read the fields novajoin needs out of nova and neutron payloads.

Every reader either returns validated values or raises ``Poison``: a payload
that cannot be understood will not become understandable by retrying, so
the delivery policy acks it (after one warning) instead of requeueing it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from novajoin.join import marker

# Versioned payload majors this code understands (nova bumps the major on
# incompatible changes; minors only add fields).
KNOWN_MAJOR = 1

_NAME = "nova_object.name"
_VERSION = "nova_object.version"
_DATA = "nova_object.data"


class Poison(ValueError):
    """A notification novajoin can never handle (unparseable, unknown version, missing field)."""


def mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Poison(f"{what} is not an object")
    return value


def instance_id(value: object, what: str = "instance id") -> str:
    if not marker.valid_instance_id(value):
        raise Poison(f"{what} is missing or not an instance uuid")
    assert isinstance(value, str)
    return value.lower()


def ip_address(value: object, what: str = "address") -> str:
    if not isinstance(value, str):
        raise Poison(f"{what} is missing")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise Poison(f"{what} is not an IP address") from None


def optional_str(value: object, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Poison(f"{what} is not a string")
    return value


# --- nova versioned objects ------------------------------------------------------


def versioned_data(payload: object, what: str = "payload") -> Mapping[str, Any]:
    """``nova_object.data`` of a versioned object after checking its major version."""
    obj = mapping(payload, what)
    version = obj.get(_VERSION)
    if not isinstance(version, str):
        raise Poison(f"{what} has no nova_object.version")
    major, _, _minor = version.partition(".")
    if not major.isdigit():
        raise Poison(f"{what} has an unreadable version {version[:20]!r}")
    if int(major) != KNOWN_MAJOR:
        raise Poison(f"{what} {obj.get(_NAME, '?')!s:.60} has unknown major version "
                     f"{version[:20]}")
    return mapping(obj.get(_DATA), f"{what} nova_object.data")


def versioned_instance_id(payload: object) -> str:
    return instance_id(versioned_data(payload).get("uuid"), "nova_object.data.uuid")


def versioned_ip_addresses(payload: object) -> list[str]:
    data = versioned_data(payload)
    items = data.get("ip_addresses") or []
    if not isinstance(items, list):
        raise Poison("ip_addresses is not a list")
    return _unique(ip_address(versioned_data(item, "IpPayload").get("address"),
                              "ip_addresses[].address") for item in items)


def versioned_metadata(payload: object) -> dict[str, str]:
    return metadata(versioned_data(payload).get("metadata"))


def metadata(value: object) -> dict[str, str]:
    """An instance's metadata (a dict of str; older legacy payloads: [{key, value}])."""
    if value is None:
        return {}
    if isinstance(value, list):
        pairs = [mapping(v, "metadata[]") for v in value]
        value = {p.get("key"): p.get("value") for p in pairs}
    body = mapping(value, "metadata")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in body.items()):
        raise Poison("metadata is not a map of strings")
    return dict(body)


# --- nova legacy -----------------------------------------------------------------


def legacy_instance_id(payload: object) -> str:
    return instance_id(mapping(payload, "payload").get("instance_id"), "instance_id")


def legacy_metadata(payload: object) -> dict[str, str]:
    return metadata(mapping(payload, "payload").get("metadata"))


def legacy_fixed_ips(payload: object) -> list[str]:
    items = mapping(payload, "payload").get("fixed_ips") or []
    if not isinstance(items, list):
        raise Poison("fixed_ips is not a list")
    return _unique(ip_address(mapping(item, "fixed_ips[]").get("address"),
                              "fixed_ips[].address") for item in items)


def legacy_floating_ip(payload: object) -> tuple[str, str]:
    """(instance id, floating address) of nova-network's floating_ip associate/disassociate."""
    body = mapping(payload, "payload")
    return (instance_id(body.get("instance_id"), "instance_id"),
            ip_address(body.get("floating_ip"), "floating_ip"))


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


# --- neutron -----------------------------------------------------------------------


@dataclass(frozen=True)
class FloatingIP:
    """The parts of a neutron floatingip resource novajoin uses."""

    address: str
    port_id: str | None
    device_id: str | None  # port_details.device_id (fip-port-details extension)
    device_owner: str | None


def neutron_floatingip(payload: object) -> FloatingIP:
    fip = mapping(mapping(payload, "payload").get("floatingip"), "floatingip")
    details = fip.get("port_details") or {}
    details = mapping(details, "floatingip.port_details")
    device_id = details.get("device_id")
    return FloatingIP(
        address=ip_address(fip.get("floating_ip_address"), "floating_ip_address"),
        port_id=optional_str(fip.get("port_id"), "port_id"),
        device_id=device_id.lower() if marker.valid_instance_id(device_id) else None,
        device_owner=optional_str(details.get("device_owner"), "device_owner"),
    )


def neutron_deleted_floatingip_address(payload: object) -> str:
    """The address of a deleted floating IP (neutron sends the resource with its id)."""
    body = mapping(payload, "payload")
    fip = mapping(body.get("floatingip"), "floatingip")
    return ip_address(fip.get("floating_ip_address"), "floating_ip_address")


@dataclass(frozen=True)
class DeletedPort:
    port_id: str
    device_id: str | None
    device_owner: str | None


def neutron_deleted_port(payload: object) -> DeletedPort:
    body = mapping(payload, "payload")
    port = body.get("port") or {}
    port = mapping(port, "port")
    port_id = optional_str(body.get("port_id") or port.get("id"), "port_id")
    if port_id is None:
        raise Poison("port_id is missing")
    device_id = port.get("device_id")
    return DeletedPort(
        port_id=port_id,
        device_id=device_id.lower() if marker.valid_instance_id(device_id) else None,
        device_owner=optional_str(port.get("device_owner"), "device_owner"),
    )
