"""service_* commands: service principals of hosts (e.g. nova/<host>, HTTP/<host>)."""

from __future__ import annotations

from typing import Any

from novajoin.fakeipa.commands._common import (
    Ctx,
    apply_attr_options,
    change_managedby,
    command,
    duplicate,
    equal_filters,
    find_result,
    matches,
    not_found,
    render,
    set_attrs,
)
from novajoin.fakeipa.commands.host import host_dn, verify_resolvable
from novajoin.fakeipa.state import Service
from novajoin.ipa import errors

SERVICE_OBJECTCLASSES = ["krbprincipal", "krbprincipalaux", "krbticketpolicyaux", "ipaobject",
                         "ipaservice", "pkiuser", "ipakrbprincipal", "top"]
DEFAULT_ATTRS = ("krbprincipalname", "krbcanonicalname", "usercertificate",
                 "ipakrbauthzdata", "krbprincipalauthind")


def parse_principal(ctx: Ctx, value: str) -> str:
    """service/host[@REALM] -> canonical text with the realm; IPA's errors otherwise."""
    name, _, realm = value.partition("@")
    if "/" not in name:
        reason = "missing service"
        raise errors.MalformedServicePrincipal(
            f"Service principal is not of the form: service/fully-qualified host name: {reason}",
            data={"reason": reason},
        )
    service, _, host = name.partition("/")
    if not service or not host or "/" in host:
        reason = "missing service" if not service else "unable to determine host name"
        raise errors.MalformedServicePrincipal(
            f"Service principal is not of the form: service/fully-qualified host name: {reason}",
            data={"reason": reason},
        )
    if realm and realm.upper() != ctx.realm.upper():
        raise errors.RealmMismatch(
            "The realm for the principal does not match the realm for this IPA server"
        )
    return f"{service}/{host.lower()}@{ctx.realm}"


def service_dn(ctx: Ctx, principal: str) -> str:
    return ctx.dn(f"krbprincipalname={principal}", "cn=services,cn=accounts")


def get_service(ctx: Ctx, value: str) -> Service:
    principal = parse_principal(ctx, value)
    svc = ctx.state.services.get(principal.lower())
    if svc is None:
        raise not_found(principal, "service")
    return svc


def service_entry(ctx: Ctx, svc: Service, p: dict[str, Any], *,
                  add: bool = False) -> dict[str, Any]:
    keep = None if p.get("all") else set(DEFAULT_ATTRS) | (
        {"objectclass", "ipauniqueid"} if add else set())
    attrs = dict(svc.attrs, ipauniqueid=[svc.uid])
    entry: dict[str, Any] = {"dn": service_dn(ctx, svc.principal), **render(attrs, keep)}
    if not p.get("no_members") and svc.managedby:
        if p.get("raw"):
            entry["managedby"] = [host_dn(ctx, h) for h in sorted(svc.managedby)]
        else:
            entry["managedby_host"] = sorted(svc.managedby)
    if not add:
        entry["has_keytab"] = svc.keytab
    return entry


@command("service_add")
def service_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    principal = parse_principal(ctx, p["krbcanonicalname"])
    service, host = principal.split("@")[0].split("/", 1)
    if service.lower() == "host" and not p.get("force"):
        raise errors.HostService("You must enroll a host in order to create a host service")
    if principal.lower() in ctx.state.services:
        raise duplicate(principal, "service")
    if not p.get("skip_host_check") and host not in ctx.state.hosts:
        reason = f"The host '{host}' does not exist to add a service to."
        raise errors.NotFound(reason, data={"reason": reason})
    if not p.get("force"):
        verify_resolvable(ctx, host)
    svc = Service(principal=principal)
    set_attrs(svc.attrs, p, ("usercertificate", "ipakrbauthzdata", "krbprincipalauthind",
                             "ipakrbokasdelegate", "ipakrbrequirespreauth",
                             "ipakrboktoauthasdelegate"))
    apply_attr_options(svc.attrs, p)
    svc.attrs.update(krbprincipalname=[principal], krbcanonicalname=[principal],
                     ipakrbprincipalalias=[principal], objectclass=list(SERVICE_OBJECTCLASSES))
    if not p.get("skip_host_check"):
        svc.managedby.add(host)
    ctx.state.services[principal.lower()] = svc
    return {"result": service_entry(ctx, svc, p, add=True),
            "summary": f'Added service "{principal}"', "value": principal}


@command("service_del")
def service_del(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    deleted, failed = [], []
    for value in p["krbcanonicalname"]:
        try:
            svc = get_service(ctx, value)
        except errors.ExecutionError:
            if not p.get("continue"):
                raise
            failed.append(value)
            continue
        del ctx.state.services[svc.principal.lower()]
        for role in ctx.state.roles.values():
            role.member_set("service").discard(svc.principal.lower())
        deleted.append(svc.principal)
    return {"result": {"failed": failed}, "summary": f'Deleted service "{",".join(deleted)}"',
            "value": deleted}


@command("service_show")
def service_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    svc = get_service(ctx, p["krbcanonicalname"])
    return {"result": service_entry(ctx, svc, p), "summary": None, "value": svc.principal}


@command("service_find")
def service_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    out = []
    for key in sorted(ctx.state.services):
        svc = ctx.state.services[key]
        if not matches(svc.attrs, p.get("criteria"), ("krbprincipalname", "krbcanonicalname")):
            continue
        if not equal_filters(svc.attrs, p, ("krbprincipalname", "krbcanonicalname",
                                           "ipakrbauthzdata", "krbprincipalauthind")):
            continue
        if p.get("man_by_host") and not set(p["man_by_host"]) <= svc.managedby:
            continue
        if p.get("not_man_by_host") and set(p["not_man_by_host"]) & svc.managedby:
            continue
        if p.get("pkey_only"):
            out.append({"dn": service_dn(ctx, svc.principal),
                        "krbprincipalname": [svc.principal],
                        "krbcanonicalname": [svc.principal]})
        else:
            out.append(service_entry(ctx, svc, p))
    return find_result(out, p, "%(count)d service matched", "%(count)d services matched")


def _managedby(ctx: Ctx, p: dict[str, Any], *, add: bool) -> dict[str, Any]:
    svc = get_service(ctx, p["krbcanonicalname"])
    failed, completed = change_managedby(ctx, svc.managedby, p.get("host") or (), add=add)
    return {"result": service_entry(ctx, svc, p), "failed": failed, "completed": completed}


@command("service_add_host")
def service_add_host(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _managedby(ctx, p, add=True)


@command("service_remove_host")
def service_remove_host(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _managedby(ctx, p, add=False)
