"""hostgroup_* commands."""

from __future__ import annotations

from typing import Any

from novajoin.fakeipa.commands import _groups as g
from novajoin.fakeipa.commands._common import Ctx, command, member_failed
from novajoin.fakeipa.state import Group

KIND = g.KINDS["hostgroup"]
_hosts = g.in_table(lambda s: s.hosts)
_groups = g.in_table(lambda s: s.hostgroups)


def _host(ctx: Ctx, name: str) -> str | None:
    return _hosts(ctx, name.rstrip("."))


@command("hostgroup_add")
def hostgroup_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.add(ctx, KIND, p)


@command("hostgroup_show")
def hostgroup_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.show(ctx, KIND, p)


@command("hostgroup_del")
def hostgroup_del(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return g.delete(ctx, KIND, p)


def _members(ctx: Ctx, p: dict[str, Any], *, add: bool) -> dict[str, Any]:
    group = g.get(ctx, KIND, p["cn"])
    failed = member_failed(["host", "hostgroup"])
    done = g.change_members(ctx, group, "host", p.get("host") or (), _host, add_=add,
                            failed=failed)
    done += g.change_members(ctx, group, "hostgroup", p.get("hostgroup") or (), _groups,
                             add_=add, failed=failed)
    return g.member_result(ctx, KIND, group, p, failed, done)


@command("hostgroup_add_member")
def hostgroup_add_member(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _members(ctx, p, add=True)


@command("hostgroup_remove_member")
def hostgroup_remove_member(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _members(ctx, p, add=False)


@command("hostgroup_find")
def hostgroup_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    def accept(group: Group) -> bool:
        hosts = group.member_set("host")
        subgroups = group.member_set("hostgroup")
        checks = (
            all(h.lower() in hosts for h in p.get("host") or ()),
            all(h.lower() in subgroups for h in p.get("hostgroup") or ()),
            not any(h.lower() in hosts for h in p.get("no_host") or ()),
            not any(h.lower() in subgroups for h in p.get("no_hostgroup") or ()),
        )
        return all(checks)

    return g.find(ctx, KIND, p, accept)
