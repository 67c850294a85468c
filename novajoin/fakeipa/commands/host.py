"""host_* commands: the enrollment state machine novajoin drives.

IPA rules reproduced here: a host created with a password (or ``random``) has
no Kerberos principal until it enrolls; an enrolled host (keytab, no password)
refuses a new password; ``random`` returns the generated password once.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from novajoin.fakeipa.commands import dns
from novajoin.fakeipa.commands._common import (
    Ctx,
    apply_attr_options,
    change_managedby,
    command,
    duplicate,
    empty_modlist,
    equal_filters,
    find_result,
    matches,
    not_found,
    render,
    set_attrs,
    validation,
)
from novajoin.fakeipa.state import Host, State
from novajoin.ipa import errors

HOST_OBJECTCLASSES = ["ipaobject", "nshost", "ipahost", "pkiuser", "ipaservice",
                      "krbprincipalaux", "krbprincipal", "ieee802device", "ipasshhost", "top"]
DEFAULT_ATTRS = ("fqdn", "description", "l", "nshostlocation", "krbcanonicalname",
                 "krbprincipalname", "nshardwareplatform", "nsosversion", "usercertificate",
                 "macaddress", "userclass", "ipaassignedidview", "krbprincipalauthind")
SEARCH_ATTRS = ("fqdn", "description", "l", "nshostlocation", "krbcanonicalname",
                "krbprincipalname", "nshardwareplatform", "nsosversion")
EDITABLE = ("description", "l", "nshostlocation", "nshardwareplatform", "nsosversion",
            "macaddress", "userclass", "ipaassignedidview", "krbprincipalauthind",
            "usercertificate", "ipasshpubkey", "ipakrbokasdelegate", "ipakrbrequirespreauth",
            "ipakrboktoauthasdelegate")
EQUAL_FILTERS = ("fqdn", "description", "l", "nshostlocation", "nshardwareplatform",
                 "nsosversion", "macaddress", "userclass", "krbprincipalauthind")
RELATION_OPTIONS = ("in_hostgroup", "not_in_hostgroup", "in_role", "not_in_role",
                    "man_by_host", "not_man_by_host")
_OTP_ALPHABET = string.ascii_letters + string.digits
# Joins a host's values in the criteria index: a criteria without it cannot match across
# two values.
_SEP = "\x00"


def generate_password() -> str:
    """Like IPA's TMP_PWD_ENTROPY_BITS passwords: long, random, printable."""
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(24))


def host_dn(ctx: Ctx, fqdn: str) -> str:
    return ctx.dn(f"fqdn={fqdn}", "cn=computers,cn=accounts")


def get_host(ctx: Ctx, fqdn: str) -> Host:
    host = ctx.state.hosts.get(fqdn.lower().rstrip("."))
    if host is None:
        raise not_found(fqdn, "host")
    return host


def is_master(ctx: Ctx, host: Host) -> bool:
    return host.fqdn == ctx.server_fqdn.lower()


def host_entry(ctx: Ctx, host: Host, p: dict[str, Any], *, add: bool = False,
               managing: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """A host as host_show / host_add / host_mod / host_find render it.

    ``managing``: from ``managed_hosts``, for the commands whose post-callback in IPA
    adds, with ``all``, the hosts this host manages (host_add / _mod / _show / _find;
    not the member commands).
    """
    if p.get("all"):
        keep = None
    else:
        keep = set(DEFAULT_ATTRS) | ({"objectclass", "ipauniqueid"} if add else set())
    attrs = dict(host.attrs, ipauniqueid=[host.uid])
    entry: dict[str, Any] = {"dn": host_dn(ctx, host.fqdn), **render(attrs, keep)}
    raw = bool(p.get("raw"))
    if not p.get("no_members"):
        _add_members(ctx, host, entry, raw=raw)
    if managing is not None and p.get("all"):
        _add_managing(ctx, managing.get(host.fqdn, []), entry, raw=raw)
    entry["has_password"] = host.password is not None
    entry["has_keytab"] = host.keytab and host.password is None
    return entry


def managed_hosts(ctx: Ctx, fqdns: Iterable[str], p: dict[str, Any]
                  ) -> dict[str, list[str]] | None:
    """With ``all``: the hosts whose managedBy names each of ``fqdns`` (IPA's
    ``get_managed_hosts``, a search ``managedBy=<dn>``); one pass over the hosts for a
    long answer, not one per entry."""
    if not p.get("all") or p.get("pkey_only"):
        return None
    hosts = ctx.state.hosts
    found: dict[str, list[str]] = {f: [] for f in fqdns}
    if len(found) <= 4:  # a show, or a find by marker: a membership test per host
        for fqdn, managed in found.items():
            managed.extend([k for k, h in hosts.items() if fqdn in h.managedby])
        return found
    for key, other in hosts.items():
        for manager in other.managedby:
            if manager in found:
                found[manager].append(key)
    return found


def _add_managing(ctx: Ctx, managed: list[str], entry: dict[str, Any], *, raw: bool) -> None:
    """IPA's ``managing``: the hosts that name this one in managedBy (itself included,
    since host_add makes a host manage itself).  Like every member attribute, the DNs
    become ``managing_host`` names unless ``raw``; regardless of ``no_members``, as
    IPA's post-callback adds it either way.  No such host: no key.
    """
    if not managed:
        return
    managed = sorted(managed)
    if raw:
        entry["managing"] = [host_dn(ctx, m) for m in managed]
    else:
        entry["managing_host"] = managed


def _add_members(ctx: Ctx, host: Host, entry: dict[str, Any], *, raw: bool) -> None:
    managers = sorted(host.managedby)
    if raw:
        if managers:
            entry["managedby"] = [host_dn(ctx, m) for m in managers]
        return
    if managers:
        entry["managedby_host"] = managers
    groups = sorted(g.cn for g in ctx.state.hostgroups.values()
                    if host.fqdn in g.member_set("host"))
    if groups:
        entry["memberof_hostgroup"] = groups
    roles = sorted(r.cn for r in ctx.state.roles.values() if host.fqdn in r.member_set("host"))
    if roles:
        entry["memberof_role"] = roles


def verify_resolvable(ctx: Ctx, fqdn: str) -> None:
    """IPA refuses a name that has no A/AAAA record unless forced."""
    if fqdn == ctx.server_fqdn.lower() or ctx.state.address_records(fqdn):
        return
    raise errors.DNSNotARecordError(
        f"Host '{fqdn}' does not have corresponding DNS A/AAAA record", data={"hostname": fqdn}
    )


@command("host_add")
def host_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    fqdn = p["fqdn"]
    if fqdn in ctx.state.hosts:
        raise duplicate(fqdn, "host")
    if p.get("ip_address"):
        dns.check_host_address(ctx, fqdn, p["ip_address"], reverse=not p.get("no_reverse"))
    elif not p.get("force"):
        verify_resolvable(ctx, fqdn)
    host = Host(fqdn=fqdn)
    set_attrs(host.attrs, p, EDITABLE)
    apply_attr_options(host.attrs, p)
    host.attrs.update(fqdn=[fqdn], cn=[fqdn], serverhostname=[fqdn.split(".", 1)[0]])
    password = p.get("userpassword")
    random_password = generate_password() if p.get("random") else None
    host.password = random_password or password
    classes = list(HOST_OBJECTCLASSES)
    if host.password is None:
        principal = f"host/{fqdn}@{ctx.realm}"
        host.attrs.update(krbprincipalname=[principal], krbcanonicalname=[principal])
    else:
        classes = [c for c in classes if c not in ("krbprincipalaux", "krbprincipal")]
    host.attrs["objectclass"] = classes
    host.managedby.add(fqdn)
    ctx.state.hosts[fqdn] = host
    ctx.state.host_changed(fqdn)
    if p.get("ip_address"):
        dns.add_host_address(ctx, fqdn, p["ip_address"], reverse=not p.get("no_reverse"))
    entry = host_entry(ctx, host, p, add=True, managing=managed_hosts(ctx, [fqdn], p))
    if random_password is not None:
        entry["randompassword"] = random_password
    return {"result": entry, "summary": f'Added host "{fqdn}"', "value": fqdn}


@command("host_mod")
def host_mod(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    host = get_host(ctx, p["fqdn"])
    ctx.state.host_changed(host.fqdn)
    wants_password = bool(p.get("userpassword") or p.get("random"))
    if wants_password and host.password is None and host.keytab:
        raise validation("password", "Password cannot be set on enrolled host.")
    if p.get("krbprincipalname") and host.attrs.get("krbprincipalname"):
        info = "Principal name already set, it is unchangeable."
        raise errors.ACIError(f"Insufficient access: {info}", data={"info": info})
    changed = set_attrs(host.attrs, p, EDITABLE)
    changed = apply_attr_options(host.attrs, p) or changed
    if p.get("krbprincipalname"):
        host.attrs["krbprincipalname"] = list(p["krbprincipalname"])
        host.attrs.setdefault("krbcanonicalname", [p["krbprincipalname"][0]])
        changed = True
    random_password = generate_password() if p.get("random") else None
    if wants_password:
        host.password = random_password or p["userpassword"]
        changed = True
    elif "userpassword" in p and p["userpassword"] is None and host.password is not None:
        # An empty value deletes the attribute, as for any LDAPUpdate option:
        # the one-time password is withdrawn.
        host.password = None
        changed = True
    if not changed:
        raise empty_modlist()
    entry = host_entry(ctx, host, p, managing=managed_hosts(ctx, [host.fqdn], p))
    if random_password is not None:
        entry["randompassword"] = random_password
    return {"result": entry, "summary": f'Modified host "{host.fqdn}"', "value": host.fqdn}


@command("host_show")
def host_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    host = get_host(ctx, p["fqdn"])
    entry = host_entry(ctx, host, p, managing=managed_hosts(ctx, [host.fqdn], p))
    return {"result": entry, "summary": None, "value": host.fqdn}


@command("host_find")
def host_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    """IPA's host search.  novajoin runs one per instance delete (criteria = its
    ownership marker), so the criteria goes through the state's word index instead
    of every host's every attribute, only the filters asked for are evaluated, and
    only the matches are sorted."""
    state = ctx.state
    criteria = p.get("criteria")
    keys: Iterable[str] = _criteria_hits(state, criteria) if criteria else state.hosts
    equal = tuple(f for f in EQUAL_FILTERS if p.get(f) is not None)
    related = any(p.get(o) for o in RELATION_OPTIONS)
    found = []
    for key in keys:
        host = state.hosts[key]
        if equal and not equal_filters(host.attrs, p, equal):
            continue
        if related and not _relations_match(ctx, host, p):
            continue
        found.append(key)
    found.sort()
    managing = managed_hosts(ctx, found, p)
    out = []
    for key in found:
        if p.get("pkey_only"):
            out.append({"dn": host_dn(ctx, key), "fqdn": [key]})
        else:
            out.append(host_entry(ctx, state.hosts[key], p, managing=managing))
    return find_result(out, p, "%(count)d host matched", "%(count)d hosts matched")


def _criteria_hits(state: State, criteria: str) -> list[str]:
    """The hosts ``matches`` would keep: a case-insensitive substring of any one value
    of SEARCH_ATTRS, checked against the index's per-host text (values lower-cased,
    joined by a character the needle does not contain)."""
    needle = criteria.lower()
    if _SEP in needle:
        return [k for k, h in state.hosts.items() if matches(h.attrs, criteria, SEARCH_ATTRS)]
    index = state.host_index(_search_text)
    texts = index.texts
    keys = index.candidates(needle)
    return [k for k in (texts if keys is None else keys) if needle in texts[k]]


def _search_text(host: Host) -> str:
    return _SEP.join(v.lower() for f in SEARCH_ATTRS for v in host.attrs.get(f, ()))


def _relations_match(ctx: Ctx, host: Host, p: dict[str, Any]) -> bool:
    def in_groups(table: dict, names: tuple[str, ...]) -> list[bool]:
        return [host.fqdn in table[n.lower()].member_set("host") if n.lower() in table else False
                for n in names]

    for opt, table in (("hostgroup", ctx.state.hostgroups), ("role", ctx.state.roles)):
        if p.get(f"in_{opt}") and not all(in_groups(table, p[f"in_{opt}"])):
            return False
        if p.get(f"not_in_{opt}") and any(in_groups(table, p[f"not_in_{opt}"])):
            return False
    if p.get("man_by_host") and not set(p["man_by_host"]) <= host.managedby:
        return False
    return not (p.get("not_man_by_host") and set(p["not_man_by_host"]) & host.managedby)


@command("host_del")
def host_del(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    deleted, failed = [], []
    for fqdn in p["fqdn"]:
        try:
            _delete_one(ctx, fqdn, updatedns=bool(p.get("updatedns")))
        except errors.ExecutionError:
            if not p.get("continue"):
                raise
            failed.append(fqdn)
        else:
            deleted.append(fqdn)
    return {"result": {"failed": failed}, "summary": f'Deleted host "{",".join(deleted)}"',
            "value": deleted}


def _delete_one(ctx: Ctx, fqdn: str, *, updatedns: bool) -> None:
    state = ctx.state
    host = get_host(ctx, fqdn)
    if is_master(ctx, host):
        raise validation("hostname", "An IPA master host cannot be deleted or disabled")
    for key in [k for k, s in state.services.items() if s.hostname == host.fqdn]:
        del state.services[key]
    if updatedns:
        dns.remove_host_records(ctx, host.fqdn)
    for table in (state.hostgroups, state.roles):
        for group in table.values():
            group.member_set("host").discard(host.fqdn)
    for other in state.hosts.values():
        if host.fqdn in other.managedby:  # a test, not a call, for the thousands that are not
            other.managedby.discard(host.fqdn)
    for svc in state.services.values():
        svc.managedby.discard(host.fqdn)
    del state.hosts[host.fqdn]
    state.host_changed(host.fqdn)


@command("host_disable")
def host_disable(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    host = get_host(ctx, p["fqdn"])
    if is_master(ctx, host):
        raise validation("hostname", "An IPA master host cannot be deleted or disabled")
    ctx.state.host_changed(host.fqdn)
    done = False
    for svc in ctx.state.services.values():
        if svc.hostname == host.fqdn and svc.keytab:
            svc.keytab, done = False, True
    if host.attrs.get("usercertificate"):
        host.attrs["usercertificate"], done = [], True
    if host.keytab and host.password is None:
        host.keytab, done = False, True
    if not done:
        raise errors.AlreadyInactive("This entry is already disabled")
    return {"result": True, "summary": f'Disabled host "{host.fqdn}"', "value": host.fqdn}


def enroll(ctx: Ctx, fqdn: str, otp: str) -> dict[str, Any]:
    """What ipa-join does with an OTP: bind as the host, then receive a keytab."""
    host = get_host(ctx, normalize(fqdn))
    if host.password is None:
        info = ("host is already enrolled; its password was consumed" if host.keytab
                else "host has no one-time password")
        raise errors.ACIError(f"Insufficient access: {info}", data={"info": info})
    if not secrets.compare_digest(host.password.encode(), otp.encode()):
        info = "invalid one-time password"
        raise errors.ACIError(f"Insufficient access: {info}", data={"info": info})
    principal = f"host/{host.fqdn}@{ctx.realm}"
    ctx.state.host_changed(host.fqdn)
    host.password, host.keytab = None, True
    host.attrs["krbprincipalname"] = [principal]
    host.attrs["krbcanonicalname"] = [principal]
    classes = host.attrs.setdefault("objectclass", [])
    classes.extend(c for c in ("krbprincipalaux", "krbprincipal") if c not in classes)
    return host_entry(ctx, host, {"all": True})


def normalize(fqdn: str) -> str:
    return fqdn.lower().rstrip(".")


def _managedby(ctx: Ctx, p: dict[str, Any], *, add: bool) -> dict[str, Any]:
    """IPA's host_{add,remove}_managedby (``allow_same``: a host may manage itself)."""
    host = get_host(ctx, p["fqdn"])
    failed, completed = change_managedby(ctx, host.managedby, p.get("host") or (), add=add)
    return {"result": host_entry(ctx, host, p), "failed": failed, "completed": completed}


@command("host_add_managedby")
def host_add_managedby(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _managedby(ctx, p, add=True)


@command("host_remove_managedby")
def host_remove_managedby(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return _managedby(ctx, p, add=False)
