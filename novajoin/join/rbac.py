"""The IPA side of a deployment: the least-privilege role novajoin's principal holds.

novajoin adds, modifies, disables and removes hosts, sets their enrollment
password and userclass, adds and removes services and their managedBy,
changes hostgroup membership and writes DNS records.  This module owns the
permissions, the privilege "Nova Host Management", the role "Nova Host
Manager" and the role's member ``nova/<fqdn>``.

Idempotent by construction: one ``batch`` reads what exists, a pure planner
derives the missing writes, and one more ``batch`` applies them.  A second
run reads and writes nothing.  ``check`` reports the same gaps without
writing, for ``novajoin-install --check``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from novajoin.ipa import BatchItem, IPAClient, errors

LOG = logging.getLogger("novajoin.join.rbac")

ROLE = "Nova Host Manager"
PRIVILEGE = "Nova Host Management"
ROLE_DESCRIPTION = "Service principals of novajoin (enrolls nova instances into IPA)"
PRIVILEGE_DESCRIPTION = "What novajoin does to hosts, services, hostgroups and DNS records"
ALREADY_MEMBER = "This entry is already a member"

Call = tuple[str, list[Any], dict[str, Any]]


@dataclass(frozen=True)
class Permission:
    """A permission novajoin creates itself (IPA ships no narrower system one)."""

    name: str
    type: str
    rights: tuple[str, ...]
    attrs: tuple[str, ...]

    def options(self) -> dict[str, Any]:
        return {"type": self.type, "ipapermright": list(self.rights), "attrs": list(self.attrs)}


# Attribute-level writes novajoin needs beyond the managed system permissions.
CUSTOM_PERMISSIONS: tuple[Permission, ...] = (
    Permission("Nova: Modify host password", "host", ("write",), ("userpassword",)),
    Permission("Nova: Modify host userclass", "host", ("write",), ("userclass",)),
    Permission("Nova: Modify service managedBy", "service", ("write",), ("managedby",)),
    # VIP subhosts of managed services are managed by the instances' hosts.
    Permission("Nova: Modify host managedBy", "host", ("write",), ("managedby",)),
    Permission("Nova: Modify hostgroup membership", "hostgroup", ("write",), ("member",)),
)

# Managed permissions every IPA server has; referenced, never created or changed.
SYSTEM_PERMISSIONS: tuple[str, ...] = (
    "System: Add Hosts",
    "System: Remove Hosts",
    "System: Modify Hosts",
    "System: Manage Host Enrollment Password",
    "System: Manage Host Keytab",  # host_disable removes the keys
    "System: Manage Host Certificates",  # host_disable revokes certificates
    "System: Add krbPrincipalName to a Host",
    "System: Add Services",
    "System: Remove Services",
    "System: Manage Service Keytab",
    "System: Read DNS Entries",
    "System: Add DNS Entries",
    "System: Remove DNS Entries",
    "System: Update DNS Entries",
)


def all_permissions() -> list[str]:
    return [p.name for p in CUSTOM_PERMISSIONS] + list(SYSTEM_PERMISSIONS)


def service_principal(fqdn: str, realm: str) -> str:
    """``nova/<fqdn>@<REALM>``: the identity novajoin authenticates to IPA as."""
    fqdn = fqdn.strip().rstrip(".").lower()
    if not fqdn or "." not in fqdn or "/" in fqdn or "@" in fqdn:
        raise ValueError(f"not a fully qualified host name: {fqdn!r}")
    return f"nova/{fqdn}@{realm.strip().upper()}"


class RBACError(Exception):
    """The role could not be completed; the message says what IPA refused."""


@dataclass
class Observed:
    """What IPA holds now (None: the entry does not exist)."""

    permissions: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    privilege: dict[str, Any] | None = None
    role: dict[str, Any] | None = None
    service: dict[str, Any] | None = None


@dataclass(frozen=True)
class Step:
    call: Call
    why: str


def _lower(values: Any) -> set[str]:
    if values is None:
        return set()
    if isinstance(values, str):
        values = [values]
    return {str(v).lower() for v in values}


def read_calls(principal: str) -> list[Call]:
    """One batch that shows everything the role consists of."""
    calls: list[Call] = [("permission_show", [p.name], {"all": True}) for p in CUSTOM_PERMISSIONS]
    calls += [("permission_show", [name], {}) for name in SYSTEM_PERMISSIONS]
    calls += [
        ("privilege_show", [PRIVILEGE], {}),
        ("role_show", [ROLE], {}),
        ("service_show", [principal], {}),
    ]
    return calls


def parse_reads(items: Sequence[BatchItem]) -> Observed:
    """The answer of ``read_calls`` as an Observed; NotFound means absent."""
    names = all_permissions()
    if len(items) != len(names) + 3:
        raise RBACError("IPA answered a different number of items than asked")
    values: list[dict[str, Any] | None] = []
    for item in items:
        if item.error is None:
            values.append((item.result or {}).get("result") or {})
        elif isinstance(item.error, errors.NotFound):
            values.append(None)
        else:
            raise RBACError(f"cannot read the IPA role: {item.error}")
    observed = Observed(permissions=dict(zip(names, values, strict=False)))
    observed.privilege, observed.role, observed.service = values[len(names):]
    return observed


def _permission_drift(perm: Permission, entry: dict[str, Any]) -> dict[str, Any]:
    """Options of a permission_mod that restores what novajoin needs."""
    change: dict[str, Any] = {}
    if _lower(entry.get("ipapermright")) != set(perm.rights):
        change["ipapermright"] = list(perm.rights)
    if _lower(entry.get("attrs")) != set(perm.attrs):
        change["attrs"] = list(perm.attrs)
    return change


def plan(observed: Observed, principal: str) -> list[Step]:
    """The writes that complete the role, in dependency order (pure)."""
    steps: list[Step] = []
    for perm in CUSTOM_PERMISSIONS:
        entry = observed.permissions.get(perm.name)
        if entry is None:
            steps.append(Step(("permission_add", [perm.name], perm.options()),
                              f"create permission {perm.name!r}"))
        elif _lower(entry.get("type")) not in (set(), {perm.type}):
            raise RBACError(f"permission {perm.name!r} exists for type "
                            f"{entry.get('type')!r}, not {perm.type!r}: rename or remove it")
        elif change := _permission_drift(perm, entry):
            steps.append(Step(("permission_mod", [perm.name], change),
                              f"restore rights/attributes of permission {perm.name!r}"))
    missing_system = [n for n in SYSTEM_PERMISSIONS if observed.permissions.get(n) is None]
    if missing_system:
        raise RBACError("IPA lacks the system permission(s) " + ", ".join(
            repr(n) for n in missing_system) + " (IPA older than 4.4?)")
    if observed.privilege is None:
        steps.append(Step(("privilege_add", [PRIVILEGE], {"description": PRIVILEGE_DESCRIPTION}),
                          f"create privilege {PRIVILEGE!r}"))
        held: set[str] = set()
    else:
        held = _lower(observed.privilege.get("memberof_permission"))
    missing = [n for n in all_permissions() if n.lower() not in held]
    if missing:
        steps.append(Step(("privilege_add_permission", [PRIVILEGE], {"permission": missing}),
                          f"give privilege {PRIVILEGE!r}: {', '.join(missing)}"))
    if observed.role is None:
        steps.append(Step(("role_add", [ROLE], {"description": ROLE_DESCRIPTION}),
                          f"create role {ROLE!r}"))
        role: dict[str, Any] = {}
    else:
        role = observed.role
    if PRIVILEGE.lower() not in _lower(role.get("memberof_privilege")):
        steps.append(Step(("role_add_privilege", [ROLE], {"privilege": [PRIVILEGE]}),
                          f"give role {ROLE!r} the privilege {PRIVILEGE!r}"))
    if observed.service is None:
        steps.append(Step(("service_add", [principal], {"force": True, "skip_host_check": True}),
                          f"create service principal {principal}"))
    if principal.lower() not in _lower(role.get("member_service")):
        steps.append(Step(("role_add_member", [ROLE], {"service": [principal]}),
                          f"make {principal} a member of role {ROLE!r}"))
    return steps


def problems(observed: Observed, principal: str) -> list[str]:
    """What is wrong with the role, in words (read-only; for --check)."""
    try:
        steps = plan(observed, principal)
    except RBACError as exc:
        return [str(exc)]
    return [f"IPA: missing: {step.why}" for step in steps]


def _member_failures(result: dict[str, Any]) -> list[str]:
    failed = result.get("failed") or {}
    out = []
    for group in failed.values():
        if not isinstance(group, dict):
            continue
        for entries in group.values():
            for entry in entries or ():
                name, why = (entry[0], entry[1]) if len(entry) > 1 else (entry[0], "")
                if why != ALREADY_MEMBER:
                    out.append(f"{name}: {why}")
    return out


def observe(client: IPAClient, principal: str) -> Observed:
    return parse_reads(client.batch(read_calls(principal)))


def ensure(client: IPAClient, principal: str) -> list[str]:
    """Create what is missing of the role (one read batch, at most one write batch).

    Returns what was done, empty when everything was already in place.
    Raises RBACError with IPA's reasons when a write is refused.
    """
    steps = plan(observe(client, principal), principal)
    if not steps:
        LOG.info("IPA role %r is complete; nothing to change", ROLE)
        return []
    items = client.batch([step.call for step in steps])
    failures = []
    for step, item in zip(steps, items, strict=True):
        if item.error is not None:
            # A concurrent installer may have created it first: that is success.
            if isinstance(item.error, errors.DuplicateEntry):
                continue
            failures.append(f"{step.why}: {item.error}")
            continue
        failures += [f"{step.why}: {why}" for why in _member_failures(item.result or {})]
    if failures:
        raise RBACError("; ".join(failures))
    for step in steps:
        LOG.info("IPA: %s", step.why)
    return [step.why for step in steps]


def check(client: IPAClient, principal: str) -> list[str]:
    return problems(observe(client, principal), principal)


class HostEnrolled(RBACError):
    """The host already has keys: there is no OTP to give."""


def precreate_host(client: IPAClient, fqdn: str, description: str = "novajoin host") -> str:
    """Create (or re-key, while not enrolled) the novajoin host; return its OTP.

    For deployment tools that enroll the novajoin host itself with
    ``ipa-client-install -w OTP``.  An enrolled host is never re-keyed.
    """
    try:
        entry = client.call("host_show", fqdn)["result"]
    except errors.NotFound:
        answer = client.call("host_add", fqdn, random=True, force=True, description=description)
        return str(answer["result"]["randompassword"])
    if entry.get("has_keytab"):
        raise HostEnrolled(f"host {fqdn} is already enrolled (has a keytab); no OTP issued")
    answer = client.call("host_mod", fqdn, random=True)
    return str(answer["result"]["randompassword"])
