"""Shared machinery of group-like objects: hostgroups, permissions, privileges, roles.

Membership is stored where LDAP stores it (the ``member`` side): a permission
lists its privileges, a privilege its roles, a role and a hostgroup their
members.  The reverse (``memberof_*``) is computed when rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from novajoin.fakeipa.commands._common import (
    ALREADY_MEMBER,
    NO_SUCH_ENTRY,
    NOT_MEMBER,
    Ctx,
    apply_attr_options,
    duplicate,
    empty_modlist,
    find_result,
    matches,
    member_failed,
    not_found,
    render,
    set_attrs,
)
from novajoin.fakeipa.state import Group, State


@dataclass(frozen=True)
class Kind:
    oname: str  # "hostgroup", "permission", ...
    plural: str
    container: str
    objectclasses: tuple[str, ...]
    table: Callable[[State], dict[str, Group]]
    editable: tuple[str, ...] = ("description",)
    # (name of the kind whose entries list us as a member) for memberof_<kind>
    member_of: tuple[str, ...] = ()


def get(ctx: Ctx, kind: Kind, cn: str) -> Group:
    group = kind.table(ctx.state).get(cn.lower())
    if group is None:
        raise not_found(cn, kind.oname)
    return group


def dn(ctx: Ctx, kind: Kind, cn: str) -> str:
    return ctx.dn(f"cn={cn}", kind.container)


def member_display(ctx: Ctx, mtype: str, key: str) -> str:
    """How IPA names a member: the primary key as stored on its own entry."""
    state = ctx.state
    table = {"hostgroup": state.hostgroups, "privilege": state.privileges,
             "role": state.roles, "permission": state.permissions}.get(mtype)
    if table is not None and key in table:
        return table[key].cn
    if mtype == "service" and key in state.services:
        return state.services[key].principal
    return key


def entry(ctx: Ctx, kind: Kind, group: Group, p: dict[str, Any], *,
          add: bool = False) -> dict[str, Any]:
    keep = None if p.get("all") else set(kind.editable) | {"cn"} | (
        {"objectclass"} if add else set())
    out: dict[str, Any] = {"dn": dn(ctx, kind, group.cn), **render(group.attrs, keep)}
    if p.get("all"):
        out["ipauniqueid"] = [group.uid]
    if p.get("no_members"):
        return out
    for mtype, keys in sorted(group.members.items()):
        if keys:
            out[f"member_{mtype}"] = sorted(member_display(ctx, mtype, k) for k in keys)
    for other in kind.member_of:
        table = KINDS[other].table(ctx.state)
        names = sorted(g.cn for g in table.values() if group.cn.lower() in
                       g.members.get(kind.oname, ()))
        if names:
            out[f"memberof_{other}"] = names
    return out


def add(ctx: Ctx, kind: Kind, p: dict[str, Any], *, extra: Iterable[str] = ()) -> dict[str, Any]:
    table = kind.table(ctx.state)
    cn = p["cn"]
    if cn.lower() in table:
        raise duplicate(cn, kind.oname)
    group = Group(cn=cn)
    set_attrs(group.attrs, p, tuple(kind.editable) + tuple(extra))
    apply_attr_options(group.attrs, p)
    group.attrs["cn"] = [cn]
    group.attrs["objectclass"] = list(kind.objectclasses)
    table[cn.lower()] = group
    return {"result": entry(ctx, kind, group, p, add=True),
            "summary": f'Added {kind.oname} "{cn}"', "value": cn}


def mod(ctx: Ctx, kind: Kind, p: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    group = get(ctx, kind, p["cn"])
    changed = set_attrs(group.attrs, p, fields)
    changed = apply_attr_options(group.attrs, p) or changed
    if p.get("rename") and p["rename"] != group.cn:
        table = kind.table(ctx.state)
        if p["rename"].lower() in table:
            raise duplicate(p["rename"], kind.oname)
        _rename(ctx, kind, group, p["rename"])
        changed = True
    if not changed:
        raise empty_modlist()
    return {"result": entry(ctx, kind, group, p),
            "summary": f'Modified {kind.oname} "{group.cn}"', "value": group.cn}


def _rename(ctx: Ctx, kind: Kind, group: Group, new: str) -> None:
    table = kind.table(ctx.state)
    old_key = group.cn.lower()
    del table[old_key]
    for other in KINDS.values():
        for g in other.table(ctx.state).values():
            members = g.members.get(kind.oname)
            if members and old_key in members:
                members.discard(old_key)
                members.add(new.lower())
    group.cn = new
    group.attrs["cn"] = [new]
    table[new.lower()] = group


def show(ctx: Ctx, kind: Kind, p: dict[str, Any]) -> dict[str, Any]:
    group = get(ctx, kind, p["cn"])
    return {"result": entry(ctx, kind, group, p), "summary": None, "value": group.cn}


def find(ctx: Ctx, kind: Kind, p: dict[str, Any],
         accept: Callable[[Group], bool] | None = None) -> dict[str, Any]:
    table = kind.table(ctx.state)
    out = []
    for key in sorted(table):
        group = table[key]
        if not matches(group.attrs, p.get("criteria"), ("cn", "description")):
            continue
        if p.get("cn") and p["cn"].lower() != key:
            continue
        if p.get("description") and [p["description"]] != group.attrs.get("description"):
            continue
        if accept is not None and not accept(group):
            continue
        if p.get("pkey_only"):
            out.append({"dn": dn(ctx, kind, group.cn), "cn": [group.cn]})
        else:
            out.append(entry(ctx, kind, group, p))
    return find_result(out, p, f"%(count)d {kind.oname} matched",
                       f"%(count)d {kind.plural} matched")


def delete(ctx: Ctx, kind: Kind, p: dict[str, Any]) -> dict[str, Any]:
    deleted, failed = [], []
    for cn in p["cn"]:
        table = kind.table(ctx.state)
        if cn.lower() not in table:
            if not p.get("continue"):
                raise not_found(cn, kind.oname)
            failed.append(cn)
            continue
        group = table.pop(cn.lower())
        for other in KINDS.values():
            for g in other.table(ctx.state).values():
                g.members.get(kind.oname, set()).discard(group.cn.lower())
        deleted.append(group.cn)
    return {"result": {"failed": failed}, "summary": f'Deleted {kind.oname} "{",".join(deleted)}"',
            "value": deleted}


Resolver = Callable[[Ctx, str], "str | None"]


def change_members(ctx: Ctx, target: Group, mtype: str, names: Iterable[str],
                   resolve: Resolver, *, add_: bool, failed: dict[str, Any],
                   fkey: str | None = None) -> int:
    """Add (or remove) members of one type; failures as IPA lists them."""
    completed = 0
    bucket = failed["member"][fkey or mtype]
    members = target.member_set(mtype)
    for name in names:
        key = resolve(ctx, name)
        if key is None:
            bucket.append([name, NO_SUCH_ENTRY])
        elif add_ and key in members:
            bucket.append([name, ALREADY_MEMBER])
        elif not add_ and key not in members:
            bucket.append([name, NOT_MEMBER])
        else:
            (members.add if add_ else members.discard)(key)
            completed += 1
    return completed


def in_table(getter: Callable[[State], dict[str, Any]]) -> Resolver:
    def resolve(ctx: Ctx, name: str) -> str | None:
        key = name.lower()
        return key if key in getter(ctx.state) else None

    return resolve


def member_result(ctx: Ctx, kind: Kind, group: Group, p: dict[str, Any],
                  failed: dict[str, Any], completed: int) -> dict[str, Any]:
    return {"result": entry(ctx, kind, group, p), "failed": failed, "completed": completed}


__all__ = ["Kind", "member_failed"]

KINDS: dict[str, Kind] = {
    "hostgroup": Kind("hostgroup", "hostgroups", "cn=hostgroups,cn=accounts",
                      ("ipaobject", "ipahostgroup", "nestedGroup", "groupOfNames", "top",
                       "mepOriginEntry"), lambda s: s.hostgroups, member_of=("hostgroup",)),
    "permission": Kind("permission", "permissions", "cn=permissions,cn=pbac",
                       ("top", "groupofnames", "ipapermission", "ipapermissionv2"),
                       lambda s: s.permissions),
    "privilege": Kind("privilege", "privileges", "cn=privileges,cn=pbac",
                      ("top", "groupofnames", "nestedgroup"), lambda s: s.privileges,
                      member_of=("permission",)),
    "role": Kind("role", "roles", "cn=roles,cn=accounts",
                 ("groupofnames", "nestedgroup", "top"), lambda s: s.roles,
                 member_of=("privilege",)),
}
