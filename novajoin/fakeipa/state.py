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
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")


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


class SubstringIndex:
    """Narrows a case-insensitive substring search over many texts (keyed, e.g. by fqdn).

    Texts are split into words (runs of ``[a-z0-9]``).  A word of the needle that has a
    non-word character on both sides *inside the needle* is a whole word of every text
    that contains the needle, so only the texts holding that word need checking; the
    exact ``needle in text`` test stays with the caller.  A needle without such a word
    (``vm1``, ``example.test``) cannot be narrowed: ``candidates`` returns None.
    """

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self._words: dict[str, frozenset[str]] = {}
        self._postings: dict[str, set[str]] = {}

    def put(self, key: str, text: str) -> None:
        if self.texts.get(key) == text:
            return
        self.drop(key)
        words = frozenset(_WORD.findall(text))
        self.texts[key], self._words[key] = text, words
        for word in words:
            self._postings.setdefault(word, set()).add(key)

    def drop(self, key: str) -> None:
        self.texts.pop(key, None)
        for word in self._words.pop(key, ()):
            keys = self._postings[word]
            keys.discard(key)
            if not keys:
                del self._postings[word]

    def candidates(self, needle: str) -> set[str] | None:
        """The keys whose text may contain ``needle`` (lower-case), or None: all may."""
        inner = [m.group() for m in _WORD.finditer(needle)
                 if m.start() > 0 and m.end() < len(needle)]
        if not inner:
            return None
        return min((self._postings.get(w, set()) for w in inner), key=len)


class State:
    """Everything the simulator knows; callers hold ``lock`` while they touch it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        # host_find's criteria index; commands report the hosts they change
        # (``host_changed``) and it is brought up to date on the next search.
        self._host_index = SubstringIndex()
        self._host_index_stale = True
        self._hosts_changed: set[str] = set()
        self.hosts: dict[str, Host] = {}
        self.services: dict[str, Service] = {}  # lower-case principal -> Service
        self.hostgroups: dict[str, Group] = {}
        self.zones: dict[str, Zone] = {}  # lower-case absolute name -> Zone
        self.permissions: dict[str, Group] = {}
        self.privileges: dict[str, Group] = {}
        self.roles: dict[str, Group] = {}

    # -- host search index ---------------------------------------------------------------
    def host_changed(self, fqdn: str) -> None:
        """A host was added, deleted, or its searchable attributes may have changed."""
        self._hosts_changed.add(fqdn)

    def host_index(self, text: Callable[[Host], str]) -> SubstringIndex:
        """The index of ``text(host)`` for every host, brought up to date."""
        index = self._host_index
        changed: Iterable[str] = self._hosts_changed
        if self._host_index_stale:
            index, changed = SubstringIndex(), self.hosts
            self._host_index, self._host_index_stale = index, False
        for key in changed:
            host = self.hosts.get(key)
            if host is None:
                index.drop(key)
            else:
                index.put(key, text(host))
        self._hosts_changed = set()
        return index

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
