"""The IPA hosts novajoin owns for an instance, found by ownership, never by name.

A deleted instance's metadata may name a host that now belongs to someone else
(hostname reused, renamed, created by an admin), so the listener and the
reconciler ask IPA which hosts carry *this instance's* marker: ``host_find``
with ``marker.search_term(instance_id)`` narrows the search, then each entry's
marker is parsed and must name exactly this instance.  A substring match alone
(another uuid containing ours, a hand-written description) is never trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from novajoin.ipa import IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.join.marker import Marker, parse, search_term, valid_instance_id

# The hosts of one instance are few; a bigger answer means the criteria matched
# far too much, which the exact marker check below then filters.
SIZELIMIT = 100


@dataclass(frozen=True)
class OwnedHost:
    """A host whose marker names the instance.

    ``has_keytab`` / ``has_password`` are what ``host_find`` reported (False when
    absent): decisions that depend on the enrollment state must ``host_show``.
    ``managing``: the hosts whose managedBy names this one (itself included, as IPA
    makes every host manage itself) — only from a ``host_find_call(managing=True)``;
    otherwise, and when IPA lists none, empty.
    """

    fqdn: str
    marker: Marker
    has_keytab: bool
    has_password: bool
    managing: frozenset[str] = frozenset()


def host_find_call(
    instance_id: str, *, managing: bool = False
) -> tuple[str, list[Any], dict[str, Any]]:
    """The ``host_find`` (command, args, options) that finds an instance's hosts.

    ``managing``: ask for every attribute (``all``), which makes IPA add to each
    entry the hosts it manages (``managing_host``; ``managing`` DNs with ``raw``).
    Public so that callers can put it in a ``batch`` with other reads.
    """
    options: dict[str, Any] = {"no_members": True, "sizelimit": SIZELIMIT}
    if managing:
        options["all"] = True
    return ("host_find", [search_term(instance_id)], options)


def owned_hosts(answer: Mapping[str, Any], instance_id: str) -> list[OwnedHost]:
    """The entries of a ``host_find`` answer whose marker names exactly ``instance_id``."""
    entries = answer.get("result")
    if not isinstance(entries, list):
        raise IPAUnavailable("IPA host_find: answer without a result list")
    found: list[OwnedHost] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        marker = parse(entry.get("description"))
        if marker is None or not marker.owned_by(instance_id):
            continue
        fqdn = entry.get("fqdn")
        if isinstance(fqdn, list):
            fqdn = fqdn[0] if fqdn else None
        if not isinstance(fqdn, str) or not fqdn:
            continue
        found.append(OwnedHost(fqdn=fqdn.lower().rstrip("."), marker=marker,
                               has_keytab=bool(entry.get("has_keytab")),
                               has_password=bool(entry.get("has_password")),
                               managing=managed_hosts(entry)))
    return sorted(found, key=lambda h: h.fqdn)


def managed_hosts(entry: Mapping[str, Any]) -> frozenset[str]:
    """The names in a host entry's ``managing_host`` (or raw ``managing`` DNs).

    Absent and empty are the same: IPA leaves the key out when it finds no host.
    A value this cannot read is kept as it is, so that it never equals a host
    name and a caller that compares the set with its own hosts sees "other".
    """
    names: set[str] = set()
    for attr, is_dn in (("managing_host", False), ("managing", True)):
        values = entry.get(attr) or []
        for value in values if isinstance(values, list | tuple) else [values]:
            text = str(value).strip().lower()
            if is_dn:
                rdn = text.split(",", 1)[0]
                key, sep, name = rdn.partition("=")
                text = name.strip() if sep and key.strip() == "fqdn" else text
            names.add(text.rstrip("."))
    return frozenset(names)


def find_owned_hosts(
    ipa: IPAClient, instance_id: str, *, deadline: float | None = None
) -> list[OwnedHost]:
    """host_find with the marker search term, then keep only exact owners.

    ``deadline`` (seconds) bounds the call.  Raises IPAUnavailable when IPA
    cannot be reached, IPACommandFailed when it refuses the search.
    """
    if not valid_instance_id(instance_id):
        return []  # no marker can name it
    command, args, options = host_find_call(instance_id)
    try:
        answer = ipa.request(command, args, options, deadline=deadline)
    except ipa_errors.IPAError as exc:
        raise IPACommandFailed(f"IPA host_find failed: {exc.name} ({exc.code})",
                               ipa_error=f"{exc.name} ({exc.code})") from None
    except ipa_errors.IPAClientError as exc:
        raise IPAUnavailable(f"IPA host_find failed: {exc}") from None
    return owned_hosts(answer, instance_id)
