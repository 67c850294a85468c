"""In-memory directory of the simulator.

One re-entrant lock guards everything: a command (or a whole batch) runs under
it, so every command is atomic, as a single LDAP transaction would make it look
to a client.  Correctness first; the simulator is never the bottleneck we measure.

Entries keep LDAP-like attributes (name -> list of str); relations (members,
managed-by) are kept as sets of keys and rendered by the command modules.
Keys are lower-case, because IPA's names are case-insensitive.
"""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Host:
    fqdn: str
    attrs: dict[str, list[str]] = field(default_factory=dict)
    password: str | None = None  # the one-time password; never rendered
    keytab: bool = False
    managedby: set[str] = field(default_factory=set)
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Service:
    principal: str
    attrs: dict[str, list[str]] = field(default_factory=dict)
    keytab: bool = False
    managedby: set[str] = field(default_factory=set)
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def hostname(self) -> str:
        return self.principal.split("/", 1)[1].rsplit("@", 1)[0].lower()


@dataclass
class Group:
    """A hostgroup, permission, privilege or role: attributes plus member sets."""

    cn: str
    attrs: dict[str, list[str]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)  # member type -> keys
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def member_set(self, kind: str) -> set[str]:
        return self.members.setdefault(kind, set())


@dataclass
class Zone:
    name: str  # absolute, with the trailing dot
    attrs: dict[str, list[str]] = field(default_factory=dict)
    # relative record name ("@" for the apex) -> record attribute -> values
    records: dict[str, dict[str, list[str]]] = field(default_factory=dict)


class State:
    """Everything the simulator knows; callers hold ``lock`` while they touch it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        self.hosts: dict[str, Host] = {}
        self.services: dict[str, Service] = {}  # lower-case principal -> Service
        self.hostgroups: dict[str, Group] = {}
        self.zones: dict[str, Zone] = {}  # lower-case absolute name -> Zone
        self.permissions: dict[str, Group] = {}
        self.privileges: dict[str, Group] = {}
        self.roles: dict[str, Group] = {}

    # -- helpers used by several command modules --------------------------------------
    def zone_for(self, absname: str) -> Zone | None:
        """The longest zone that contains ``absname`` (absolute, lower-case)."""
        best: Zone | None = None
        for key, zone in self.zones.items():
            if (absname == key or absname.endswith("." + key)) and (
                best is None or len(key) > len(best.name)
            ):
                best = zone
        return best

    def address_records(self, fqdn: str) -> dict[str, list[str]]:
        """A/AAAA records of a host name, from whichever zone holds it."""
        absname = fqdn.lower().rstrip(".") + "."
        zone = self.zone_for(absname)
        if zone is None:
            return {}
        rel = relative_name(absname, zone.name)
        rec = zone.records.get(rel, {})
        return {k: list(v) for k, v in rec.items() if k in ("arecord", "aaaarecord") and v}

    def snapshot(self) -> dict[str, Any]:
        def group(g: Group) -> dict[str, Any]:
            return {"cn": g.cn, "attrs": copy.deepcopy(g.attrs),
                    "members": {k: sorted(v) for k, v in g.members.items() if v}}

        return {
            "hosts": {
                k: {"fqdn": h.fqdn, "attrs": copy.deepcopy(h.attrs),
                    "has_password": h.password is not None, "has_keytab": h.keytab,
                    "managedby": sorted(h.managedby)}
                for k, h in sorted(self.hosts.items())
            },
            "services": {
                k: {"principal": s.principal, "attrs": copy.deepcopy(s.attrs),
                    "has_keytab": s.keytab, "managedby": sorted(s.managedby)}
                for k, s in sorted(self.services.items())
            },
            "hostgroups": {k: group(g) for k, g in sorted(self.hostgroups.items())},
            "dnszones": {
                k: {"name": z.name, "attrs": copy.deepcopy(z.attrs),
                    "records": copy.deepcopy(z.records)}
                for k, z in sorted(self.zones.items())
            },
            "permissions": {k: group(g) for k, g in sorted(self.permissions.items())},
            "privileges": {k: group(g) for k, g in sorted(self.privileges.items())},
            "roles": {k: group(g) for k, g in sorted(self.roles.items())},
        }


def absolute_name(name: str, zone: str | None = None) -> str:
    """A DNS name made absolute (relative names are taken inside ``zone``)."""
    name = name.lower()
    if name.endswith("."):
        return name
    if zone is None:
        return name + "."
    return zone if name == "@" else f"{name}.{zone}"


def relative_name(absname: str, zone: str) -> str:
    """The record name of ``absname`` inside ``zone`` ("@" for the apex)."""
    if absname == zone:
        return "@"
    return absname[: -(len(zone) + 1)]
