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
    """

    fqdn: str
    marker: Marker
    has_keytab: bool
    has_password: bool


def host_find_call(instance_id: str) -> tuple[str, list[Any], dict[str, Any]]:
    """The ``host_find`` (command, args, options) that finds an instance's hosts.

    Public so that callers can put it in a ``batch`` with other reads.
    """
    return ("host_find", [search_term(instance_id)],
            {"no_members": True, "sizelimit": SIZELIMIT})


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
                               has_password=bool(entry.get("has_password"))))
    return sorted(found, key=lambda h: h.fqdn)


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
