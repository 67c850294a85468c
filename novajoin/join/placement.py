"""Where an instance's host goes in IPA: host class (``userclass``) and hostgroups.

Instances ask with metadata: ``ipa_hostclass`` (IPA automember rules usually key on
``userclass``) and ``ipa_hostgroups`` (a comma list of direct hostgroup memberships).
Both put a host into groups that may grant it access (HBAC, sudo), so the operator
says per project what may be asked for (``[<project id or name>] allowed_classes`` /
``allowed_hostgroups``, ``*`` for any); by default nothing is allowed.  Refused and
malformed values become per-item errors of the answer, never a failed enrollment.

Pure: no IPA, no keystone.  Placement is add-only: novajoin cannot tell which classes
or memberships an admin added by hand, so it never removes any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from novajoin.join.model import ItemError

CLASS_KEY = "ipa_hostclass"
GROUPS_KEY = "ipa_hostgroups"
ANY = "*"
MAX_VALUES = 16
# IPA's hostgroup name pattern; user classes are free text in IPA, kept to the same
# shell- and log-safe alphabet here.
_GROUP = re.compile(r"[a-z0-9_.][a-z0-9_.-]{0,62}", re.ASCII)
_CLASS = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.:-]{0,63}", re.ASCII)
_SHOWN = 70


@dataclass(frozen=True)
class ProjectRule:
    """What one project may ask for; ``None`` means anything (``*``)."""

    classes: frozenset[str] | None = frozenset()
    hostgroups: frozenset[str] | None = frozenset()

    @classmethod
    def from_lists(cls, classes: Iterable[str], hostgroups: Iterable[str]) -> ProjectRule:
        def allowed(values: Iterable[str], fold: bool) -> frozenset[str] | None:
            cleaned = {v.strip() for v in values if v and v.strip()}
            if ANY in cleaned:
                return None
            return frozenset(v.lower() for v in cleaned) if fold else frozenset(cleaned)

        return cls(allowed(classes, fold=False), allowed(hostgroups, fold=True))

    def allows_class(self, value: str) -> bool:
        return self.classes is None or value in self.classes

    def allows_hostgroup(self, value: str) -> bool:
        return self.hostgroups is None or value.lower() in self.hostgroups

    @property
    def empty(self) -> bool:
        return self.classes == frozenset() and self.hostgroups == frozenset()


@dataclass(frozen=True)
class PlacementPolicy:
    """Rules keyed by project id or project name, as the operator wrote the section."""

    rules: Mapping[str, ProjectRule] = field(default_factory=dict)

    def rule_for(self, project_id: str, project_name: str | None = None) -> ProjectRule | None:
        """The rule of a project: by id first, then by name (ids win over names)."""
        rule = self.rules.get(project_id)
        if rule is None and project_name is not None:
            rule = self.rules.get(project_name)
        return rule

    def needs_name(self, project_id: str) -> bool:
        """Whether a name look-up could still find a rule for this project."""
        return project_id not in self.rules and bool(self.rules)


@dataclass(frozen=True)
class Placement:
    """The classes and hostgroups to apply (validated and allowed), and what was refused."""

    classes: tuple[str, ...] = ()
    hostgroups: tuple[str, ...] = ()
    errors: tuple[ItemError, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.classes and not self.hostgroups


def requested(metadata: Mapping[str, object]) -> bool:
    """Whether the metadata asks for any placement (no policy or IPA work otherwise)."""
    return any(_values(metadata.get(k)) for k in (CLASS_KEY, GROUPS_KEY))


def decide(metadata: Mapping[str, object], rule: ProjectRule | None) -> Placement:
    """Validate the requested values and keep the allowed ones (``rule`` None: none)."""
    classes: list[str] = []
    groups: list[str] = []
    errors: list[ItemError] = []
    for key, pattern, out in ((CLASS_KEY, _CLASS, classes), (GROUPS_KEY, _GROUP, groups)):
        raw = metadata.get(key)
        if raw is not None and not isinstance(raw, str):
            errors.append(ItemError(key, "must be a comma-separated list of names"))
            continue
        values = _values(raw)
        if len(values) > MAX_VALUES:
            errors.append(ItemError(key, f"at most {MAX_VALUES} values are accepted"))
            values = values[:MAX_VALUES]
        for value in values:
            if key == GROUPS_KEY:
                value = value.lower()
            item = f"{key}:{value[:_SHOWN]}"
            if not pattern.fullmatch(value):
                errors.append(ItemError(item, "not a valid name"))
                continue
            allowed = rule is not None and (rule.allows_class(value) if key == CLASS_KEY
                                            else rule.allows_hostgroup(value))
            if not allowed:
                errors.append(ItemError(item, "not allowed for this project"))
                continue
            if value not in out:
                out.append(value)
    return Placement(tuple(classes), tuple(groups), tuple(errors))


def _values(raw: object) -> list[str]:
    if not isinstance(raw, str):
        return []
    return [v.strip() for v in raw.split(",") if v.strip()]
