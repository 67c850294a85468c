"""permission_*, privilege_* and role_* commands: what an installer needs to build a
least-privilege role (e.g. "Nova Host Manager") and give it to a service principal."""

from __future__ import annotations

from typing import Any

from novajoin.fakeipa.commands import _groups as g
from novajoin.fakeipa.commands._common import NO_SUCH_ENTRY, Ctx, command, member_failed
from novajoin.fakeipa.commands.service import parse_principal
from novajoin.ipa import errors

PERMISSION = g.KINDS["permission"]
PRIVILEGE = g.KINDS["privilege"]
ROLE = g.KINDS["role"]
PERM_FIELDS = ("attrs", "extratargetfilter", "filter", "ipapermbindruletype", "ipapermlocation",
               "ipapermright", "ipapermtarget", "ipapermtargetfilter", "ipapermtargetfrom",
               "ipapermtargetto", "memberof", "permissions", "subtree", "targetgroup", "type",
               "ipapermincludedattr", "ipapermexcludedattr")
_privileges = g.in_table(lambda s: s.privileges)
_permissions = g.in_table(lambda s: s.permissions)


def _service(ctx: Ctx, name: str) -> str | None:
    try:
        key = parse_principal(ctx, name).lower()
    except errors.ExecutionError:
        return None
    return key if key in ctx.state.services else None


def _nobody(ctx: Ctx, name: str) -> str | None:
    """The simulator keeps no users, groups, system accounts or ID overrides."""
    return None


# -- permissions ------------------------------------------------------------------------
@command("permission_add")
def permission_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    result = g.add(ctx, PERMISSION, p, extra=PERM_FIELDS)
    group = g.get(ctx, PERMISSION, p["cn"])
    result["result"] |= _perm_view(group.attrs, p)
    return result


def _perm_view(attrs: dict[str, list[str]], p: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) for k, v in attrs.items() if k in PERM_FIELDS and v}


@command("permission_show")
def permission_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    result = g.show(ctx, PERMISSION, p)
    group = g.get(ctx, PERMISSION, p["cn"])
    result["result"] |= _perm_view(group.attrs, p)
    return result


@command("permission_mod")
def permission_mod(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    result = g.mod(ctx, PERMISSION, p, PERM_FIELDS)
    group = g.get(ctx, PERMISSION, result["value"])
    result["result"] |= _perm_view(group.attrs, p)
    return result


@command("permission_find")
def permission_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    def accept(group: Any) -> bool:
        for key in ("ipapermright", "type", "attrs", "ipapermbindruletype", "subtree"):
            want = p.get(key)
            if want is None:
                continue
            want = want if isinstance(want, tuple) else (want,)
            if not {w.lower() for w in want} <= {v.lower() for v in group.attrs.get(key, [])}:
                return False
        return True

    result = g.find(ctx, PERMISSION, p, accept)
    if not p.get("pkey_only"):
        for entry in result["result"]:
            group = g.get(ctx, PERMISSION, entry["cn"][0])
            entry |= _perm_view(group.attrs, p)
    return result


@command("permission_add_member")
def permission_add_member(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    perm = g.get(ctx, PERMISSION, p["cn"])
    failed = member_failed(["privilege"])
    done = g.change_members(ctx, perm, "privilege", p.get("privilege") or (), _privileges,
                            add_=True, failed=failed)
    result = g.member_result(ctx, PERMISSION, perm, p, failed, done)
    result["result"] |= _perm_view(perm.attrs, p)
    return result


# -- privileges -------------------------------------------------------------------------
@command("privilege_add")
def privilege_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.add(ctx, PRIVILEGE, p)


@command("privilege_show")
def privilege_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.show(ctx, PRIVILEGE, p)


@command("privilege_find")
def privilege_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.find(ctx, PRIVILEGE, p)


@command("privilege_add_permission")
def privilege_add_permission(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    """The privilege becomes a member of each permission (LDAP keeps it there)."""
    priv = g.get(ctx, PRIVILEGE, p["cn"])
    failed = member_failed(["permission"])
    done = 0
    for name in p.get("permission") or ():
        perm = ctx.state.permissions.get(name.lower())
        if perm is None:
            failed["member"]["permission"].append([name, NO_SUCH_ENTRY])
            continue
        sub = member_failed(["privilege"])
        done += g.change_members(ctx, perm, "privilege", [priv.cn], _privileges, add_=True,
                                 failed=sub)
        failed["member"]["permission"].extend([name, why] for _, why in sub["member"]["privilege"])
    return g.member_result(ctx, PRIVILEGE, priv, p, failed, done)


# -- roles ------------------------------------------------------------------------------
@command("role_add")
def role_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.add(ctx, ROLE, p)


@command("role_show")
def role_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.show(ctx, ROLE, p)


@command("role_find")
def role_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.find(ctx, ROLE, p)


@command("role_add_privilege")
def role_add_privilege(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    role = g.get(ctx, ROLE, p["cn"])
    failed = member_failed(["privilege"])
    done = 0
    for name in p.get("privilege") or ():
        priv = ctx.state.privileges.get(name.lower())
        if priv is None:
            failed["member"]["privilege"].append([name, NO_SUCH_ENTRY])
            continue
        sub = member_failed(["role"])
        done += g.change_members(ctx, priv, "role", [role.cn], g.in_table(lambda s: s.roles),
                                 add_=True, failed=sub)
        failed["member"]["privilege"].extend([name, why] for _, why in sub["member"]["role"])
    return g.member_result(ctx, ROLE, role, p, failed, done)


_ROLE_MEMBERS = {
    "host": g.in_table(lambda s: s.hosts), "hostgroup": g.in_table(lambda s: s.hostgroups),
    "service": _service, "user": _nobody, "group": _nobody, "sysaccount": _nobody,
    "idoverrideuser": _nobody,
}


@command("role_add_member")
def role_add_member(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    role = g.get(ctx, ROLE, p["cn"])
    failed = member_failed(["group", "host", "hostgroup", "idoverrideuser", "service",
                            "sysaccount", "user"])
    done = 0
    for mtype, resolve in _ROLE_MEMBERS.items():
        done += g.change_members(ctx, role, mtype, p.get(mtype) or (), resolve, add_=True,
                                 failed=failed)
    return g.member_result(ctx, ROLE, role, p, failed, done)
