"""DNS ownership: the TXT marker, record names and zone matching (pure logic, no IPA calls).

novajoin may only remove DNS records it published itself (DESIGN §3 "Ownership"), and
notifications such as neutron's ``port.delete.end`` carry no state of ours.  So every
address novajoin publishes on a name gets, on the same name, a TXT record::

    novajoin:v1 instance=<uuid> ip=<address> port=<port-id or -> kind=<floating|fixed>

next to its A/AAAA record (and a PTR in the reverse zone when IPA has one).  Removal
looks the marker up first and removes only what it proves.  The marker is one TXT
value written unquoted (IPA stores it as given; a resolver sees it as several
character-strings, which does not matter: novajoin reads it back through IPA).

Zones are chosen as IPA would: the longest zone known to IPA that contains the name.
Names handled here are absolute and lower-case (``vm1.example.test.``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from novajoin.join.marker import fields as marker_fields

PREFIX = "novajoin:v1"
FLOATING = "floating"
FIXED = "fixed"
KINDS = (FLOATING, FIXED)
NO_PORT = "-"

_REVERSE_SUFFIXES = ("in-addr.arpa.", "ip6.arpa.")
_INSTANCE = re.compile(r"[a-z0-9-]{1,64}", re.ASCII)
_PORT = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
# TXT values are admin-editable text: read at most this much of one.
_MAX_TXT = 4096


@dataclass(frozen=True)
class DNSMarker:
    """Who novajoin published an address for, and why (floating or fixed IP)."""

    instance_id: str
    address: str
    port_id: str | None = None
    kind: str = FLOATING

    def __post_init__(self) -> None:
        object.__setattr__(self, "instance_id", str(self.instance_id).lower())
        object.__setattr__(self, "address", normalize_address(self.address))
        if not _INSTANCE.fullmatch(self.instance_id):
            raise ValueError("marker instance has an invalid value")
        if self.port_id is not None and not valid_port_id(self.port_id):
            raise ValueError("marker port has an invalid value")
        if self.kind not in KINDS:
            raise ValueError(f"marker kind must be one of {', '.join(KINDS)}")

    def format(self) -> str:
        return (f"{PREFIX} instance={self.instance_id} ip={self.address} "
                f"port={self.port_id or NO_PORT} kind={self.kind}")

    @property
    def record_attr(self) -> str:
        """The IPA record attribute of the address: ``arecord`` or ``aaaarecord``."""
        return record_attr(self.address)


def search_term(instance_id: str) -> str:
    """A ``dnsrecord_find`` criteria that matches the names carrying an instance's markers.

    A substring only (it also matches longer instance ids that start with this one):
    what is found must still be read with ``markers`` and compared exactly.
    """
    return f"instance={str(instance_id).lower()}"


def valid_port_id(value: object) -> bool:
    return isinstance(value, str) and bool(_PORT.fullmatch(value))


def normalize_address(address: str) -> str:
    """The canonical text of an IP address (compressed IPv6); ValueError if not one."""
    try:
        return str(ipaddress.ip_address(str(address).strip()))
    except ValueError:
        raise ValueError(f"not an IP address: {str(address)[:64]!r}") from None


def record_attr(address: str) -> str:
    return "arecord" if ipaddress.ip_address(address).version == 4 else "aaaarecord"


def parse_txt(value: object) -> DNSMarker | None:
    """The marker in one TXT value, or None if it is not a complete novajoin marker.

    Surrounding double quotes (a value an admin wrote zone-file style) are accepted;
    unknown ``key=value`` fields are ignored so a later version can add some.
    """
    if not isinstance(value, str):
        return None
    text = value[:_MAX_TXT].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    values = marker_fields(text, PREFIX)
    if values is None:
        return None
    try:
        port = values["port"]
        return DNSMarker(values["instance"], values["ip"], None if port == NO_PORT else port,
                         values["kind"])
    except (KeyError, ValueError):
        return None


def markers(txt_values: Iterable[object]) -> list[tuple[str, DNSMarker]]:
    """(stored TXT value, marker) for every novajoin marker among ``txt_values``.

    The stored value is kept so that a delete names exactly what IPA holds.
    """
    found = []
    for value in txt_values:
        marker = parse_txt(value)
        if marker is not None:
            found.append((str(value), marker))
    return found


# -- names and zones -----------------------------------------------------------------------
def unwrap(value: Any) -> Any:
    """IPA (API >= 2.88) sends DNS names as ``{"__dns_name__": name}``."""
    if isinstance(value, dict) and "__dns_name__" in value:
        return value["__dns_name__"]
    return value


def absolute(name: str) -> str:
    name = str(name).strip().lower()
    return name if name.endswith(".") else name + "."


def is_reverse_zone(zone: str) -> bool:
    zone = absolute(zone)
    return zone.endswith(_REVERSE_SUFFIXES) or zone in ("in-addr.arpa.", "ip6.arpa.")


def reverse_name(address: str) -> str:
    """``192.0.2.7`` -> ``7.2.0.192.in-addr.arpa.``; IPv6 gives 32 nibbles under ip6.arpa."""
    return ipaddress.ip_address(address).reverse_pointer.lower() + "."


def _contains(zone: str, name: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _longest(name: str, zones: Iterable[str]) -> str | None:
    best: str | None = None
    for zone in zones:
        zone = absolute(zone)
        if _contains(zone, name) and (best is None or len(zone) > len(best)):
            best = zone
    return best


def forward_zone(fqdn: str, zones: Iterable[str]) -> str | None:
    """The longest forward (non-reverse) zone containing ``fqdn``, or None."""
    return _longest(absolute(fqdn), (z for z in zones if not is_reverse_zone(z)))


def reverse_zone(address: str, zones: Iterable[str]) -> str | None:
    """The longest in-addr.arpa / ip6.arpa zone containing the address's PTR name."""
    return _longest(reverse_name(address), (z for z in zones if is_reverse_zone(z)))


def relative_name(name: str, zone: str) -> str:
    """The record name of absolute ``name`` inside ``zone`` ("@" for the apex)."""
    name, zone = absolute(name), absolute(zone)
    if name == zone:
        return "@"
    if not name.endswith("." + zone):
        raise ValueError(f"{name} is not inside zone {zone}")
    return name[: -(len(zone) + 1)]


def record_values(entry: dict[str, Any], attr: str) -> list[str]:
    """The values of one record attribute of a dnsrecord_show / _find entry."""
    values = entry.get(attr) or []
    if isinstance(values, str):
        values = [values]
    return [str(unwrap(v)) for v in values]


def same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.strip()) == ipaddress.ip_address(b.strip())
    except ValueError:
        return False
