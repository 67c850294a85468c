"""The ownership marker novajoin writes into a host's ``description``.

One machine-readable line::

    novajoin:v1 instance=<uuid> project=<project-id> nonce=<nonce>

It records which instance owns the host (DESIGN §3 "Ownership") and the
nonce of the current enrollment generation, from which every replica
recomputes the same OTP.  Admins may edit descriptions by hand, so parsing
looks for the marker line among other lines and returns None for anything
it cannot read *unambiguously* (two different markers, missing or malformed
fields): a host whose ownership is unclear is treated as not ours.
Unknown ``key=value`` fields are ignored, so a later version can add some.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "novajoin:v1"
# Descriptions are free text; read at most this much of a hostile one.
_MAX_DESCRIPTION = 64 * 1024

_VALUE_RULES = {
    "instance": re.compile(r"[a-z0-9-]{1,64}", re.ASCII),
    "project": re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII),
    "nonce": re.compile(r"[A-Za-z0-9]{8,64}", re.ASCII),
}
_FIELD = re.compile(r"([a-z][a-z0-9_]*)=(\S+)", re.ASCII)


@dataclass(frozen=True)
class Marker:
    """Owner (instance uuid, project id) and enrollment nonce of a host."""

    instance_id: str
    project_id: str
    nonce: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "instance_id", self.instance_id.lower())
        for key, value in (("instance", self.instance_id), ("project", self.project_id),
                           ("nonce", self.nonce)):
            if not isinstance(value, str) or not _VALUE_RULES[key].fullmatch(value):
                raise ValueError(f"marker {key} has an invalid value")

    def format(self) -> str:
        return (f"{PREFIX} instance={self.instance_id} project={self.project_id} "
                f"nonce={self.nonce}")

    def owned_by(self, instance_id: str) -> bool:
        return self.instance_id == instance_id.lower()


def valid_instance_id(value: object) -> bool:
    return isinstance(value, str) and bool(_VALUE_RULES["instance"].fullmatch(value.lower()))


def valid_project_id(value: object) -> bool:
    return isinstance(value, str) and bool(_VALUE_RULES["project"].fullmatch(value))


def search_term(instance_id: str) -> str:
    """A ``host_find`` criteria string that matches the hosts of an instance."""
    return f"instance={instance_id.lower()}"


def _lines(description: object) -> list[str]:
    """IPA gives ``description`` as a list of strings; accept a plain string too."""
    values: Iterable[object]
    if isinstance(description, str):
        values = [description]
    elif isinstance(description, list | tuple):
        values = description
    else:
        values = []
    lines: list[str] = []
    for value in values:
        if isinstance(value, str):
            lines.extend(value[:_MAX_DESCRIPTION].splitlines())
    return lines


def fields(text: str, prefix: str) -> dict[str, str] | None:
    """The ``key=value`` words after ``prefix`` (the first word), or None when malformed.

    One grammar for every novajoin marker (host, subhost, DNS TXT): a word that is not
    ``key=value`` or a key given twice makes the whole marker ambiguous.
    """
    words = text.split()
    if not words or words[0] != prefix:
        return None
    found: dict[str, str] = {}
    for word in words[1:]:
        match = _FIELD.fullmatch(word)
        if match is None or match.group(1) in found:
            return None
        found[match.group(1)] = match.group(2)
    return found


def _parse_line(line: str) -> Marker | None:
    values = fields(line, PREFIX)
    if values is None:
        return None
    try:
        return Marker(values["instance"], values["project"], values["nonce"])
    except (KeyError, ValueError):
        return None


def parse(description: object) -> Marker | None:
    """The marker in a host's description, or None if absent or ambiguous."""
    found: set[Marker] = set()
    for line in _lines(description):
        if PREFIX not in line:
            continue
        marker = _parse_line(line)
        if marker is None:
            return None  # a damaged marker line: do not guess
        found.add(marker)
    return found.pop() if len(found) == 1 else None


def with_marker(description: object, marker: Marker) -> str:
    """``description`` with its marker line replaced (or added first), other lines kept."""
    others = [line.strip() for line in _lines(description)
              if PREFIX not in line and line.strip()]
    return "\n".join([marker.format(), *others])


# -- subhosts ------------------------------------------------------------------------------
#
# A subhost is a host novajoin creates for a managed service's name (a VIP such as
# ``HTTP/overcloud.internalapi.example.test``), not for an instance.  Its marker says
# novajoin created it, for which project, and which instance asked first:
#
#     novajoin:subhost:v1 project=<project-id> creator=<instance uuid>
#
# The prefix differs from PREFIX on purpose: ``parse`` never reads a subhost as an
# instance's host, so no instance can obtain an OTP for it and no instance delete
# removes it by mistake.  Which hosts manage a subhost *now* is IPA's own ``managedby``
# attribute (added and removed atomically per value by host_add_managedby /
# host_remove_managedby), not a list in the description: a description rewritten by
# concurrent replicas would lose updates.

SUBHOST_PREFIX = "novajoin:subhost:v1"


@dataclass(frozen=True)
class SubhostMarker:
    """The project a novajoin subhost belongs to, and the instance that created it."""

    project_id: str
    creator: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "creator", self.creator.lower())
        if not valid_project_id(self.project_id):
            raise ValueError("subhost marker project has an invalid value")
        if not valid_instance_id(self.creator):
            raise ValueError("subhost marker creator has an invalid value")

    def format(self) -> str:
        return f"{SUBHOST_PREFIX} project={self.project_id} creator={self.creator}"


def parse_subhost(description: object) -> SubhostMarker | None:
    """The subhost marker of a host's description, or None if absent or ambiguous."""
    found: set[SubhostMarker] = set()
    for line in _lines(description):
        if SUBHOST_PREFIX not in line:
            continue
        values = fields(line, SUBHOST_PREFIX)
        if values is None:
            return None
        try:
            found.add(SubhostMarker(values["project"], values["creator"]))
        except (KeyError, ValueError):
            return None
    return found.pop() if len(found) == 1 else None
