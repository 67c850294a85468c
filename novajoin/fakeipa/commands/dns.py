"""dnszone_* and dnsrecord_* commands, plus the DNS side effects of host commands.

Zone names are absolute (trailing dot); record names are relative to their zone,
"@" being the apex.  Reverse zones are ordinary zones under in-addr.arpa. or
ip6.arpa.; a PTR is created only when such a zone exists, as in IPA.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from novajoin.fakeipa.commands._common import (
    Ctx,
    command,
    dns_name,
    empty_modlist,
    find_result,
    not_found,
)
from novajoin.fakeipa.spec import RECORD_ATTRS, RECORD_TYPES
from novajoin.fakeipa.state import Zone, absolute_name, relative_name
from novajoin.ipa import errors

_ZONE_DEFAULTS = ("idnssoarefresh", "idnssoaretry", "idnssoaexpire", "idnssoaminimum")
_PARTS = dict(RECORD_TYPES)


def zone_dn(ctx: Ctx, zone: str) -> str:
    return ctx.dn(f"idnsname={zone}", "cn=dns")


def get_zone(ctx: Ctx, name: str) -> Zone:
    absname = absolute_name(name)
    zone = ctx.state.zones.get(absname)
    if zone is None:
        raise not_found(absname, "DNS zone")
    return zone


def reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer.lower() + "."


def new_zone(ctx: Ctx, name: str, p: dict[str, Any]) -> Zone:
    absname = absolute_name(name)
    mname = absolute_name(p.get("idnssoamname") or ctx.server_fqdn)
    rname = p.get("idnssoarname") or "hostmaster"
    attrs = {
        "idnsname": [absname], "idnszoneactive": ["TRUE"], "idnssoamname": [mname],
        "idnssoarname": [absolute_name(rname, absname)], "idnssoaserial": ["1"],
        "idnsallowdynupdate": ["TRUE" if p.get("idnsallowdynupdate") else "FALSE"],
        "idnsallowquery": [p.get("idnsallowquery") or "any;"],
        "idnsallowtransfer": [p.get("idnsallowtransfer") or "none;"],
        "idnsupdatepolicy": [p.get("idnsupdatepolicy") or
                             f"grant {ctx.realm} krb5-self * A; grant {ctx.realm} krb5-self * "
                             f"AAAA; grant {ctx.realm} krb5-self * SSHFP;"],
        "objectclass": ["top", "idnsrecord", "idnszone"],
    }
    defaults = {"idnssoarefresh": 3600, "idnssoaretry": 900, "idnssoaexpire": 1209600,
                "idnssoaminimum": 3600}
    for key in _ZONE_DEFAULTS:
        attrs[key] = [str(p.get(key) or defaults[key])]
    for key in ("dnsttl", "dnsdefaultttl", "idnsforwardpolicy", "dnsclass"):
        if p.get(key) is not None:
            attrs[key] = [str(p[key])]
    if p.get("idnsforwarders"):
        attrs["idnsforwarders"] = list(p["idnsforwarders"])
    zone = Zone(name=absname, attrs=attrs, records={"@": {"nsrecord": [mname]}})
    ctx.state.zones[absname] = zone
    return zone


def zone_entry(ctx: Ctx, zone: Zone, p: dict[str, Any]) -> dict[str, Any]:
    dnsattrs = ("idnsname", "idnssoamname", "idnssoarname")
    entry: dict[str, Any] = {"dn": zone_dn(ctx, zone.name)}
    for key, values in zone.attrs.items():
        if key == "objectclass" and not p.get("all"):
            continue
        entry[key] = [dns_name(v, p) for v in values] if key in dnsattrs else list(values)
    entry["nsrecord"] = list(zone.records.get("@", {}).get("nsrecord", []))
    return entry


def name_from_ip(value: str) -> str:
    """The reverse zone for a network, as dnszone_add --name-from-ip computes it."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return value  # left for the idnsname rules to reject
    labels = net.network_address.reverse_pointer.split(".")
    nibbles = 4 if net.version == 4 else 32
    keep = net.prefixlen // (8 if net.version == 4 else 4)
    return ".".join(labels[nibbles - keep:]) + "."


@command("dnszone_add")
def dnszone_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    name = absolute_name(p["idnsname"])
    if name in ctx.state.zones:
        raise errors.DuplicateEntry(f'DNS zone with name "{name}" already exists')
    zone = new_zone(ctx, name, p)
    return {"result": zone_entry(ctx, zone, p), "summary": None, "value": dns_name(name, p)}


@command("dnszone_show")
def dnszone_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    zone = get_zone(ctx, p["idnsname"])
    return {"result": zone_entry(ctx, zone, p), "summary": None,
            "value": dns_name(zone.name, p)}


@command("dnszone_find")
def dnszone_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    out = []
    for key in sorted(ctx.state.zones):
        zone = ctx.state.zones[key]
        if p.get("criteria") and p["criteria"].lower().rstrip(".") not in key:
            continue
        if p.get("idnsname") and absolute_name(p["idnsname"]) != key:
            continue
        if p.get("forward_only") and key.endswith(("in-addr.arpa.", "ip6.arpa.")):
            continue
        if p.get("pkey_only"):
            out.append({"dn": zone_dn(ctx, key), "idnsname": [dns_name(key, p)]})
        else:
            out.append(zone_entry(ctx, zone, p))
    return find_result(out, p, "%(count)d DNS zone matched", "%(count)d DNS zones matched")


# -- records ----------------------------------------------------------------------------
def _record_name(zone: Zone, name: str) -> str:
    if name == "@" or name.lower() == zone.name:
        return "@"
    if name.endswith("."):
        absname = name.lower()
        if absname.endswith("." + zone.name):
            return relative_name(absname, zone.name)
    return name.lower().rstrip(".")


def record_entry(ctx: Ctx, zone: Zone, rel: str, p: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "dn": ctx.dn(f"idnsname={rel}", f"idnsname={zone.name},cn=dns") if rel != "@"
        else zone_dn(ctx, zone.name),
        "idnsname": [dns_name(rel, p)],
    }
    for attr, values in zone.records.get(rel, {}).items():
        if values:
            entry[attr] = list(values)
    if p.get("all"):
        entry["objectclass"] = ["top", "idnsrecord"]
    return entry


def _canonical(attr: str, value: str) -> str:
    if attr == "aaaarecord":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    return value


def _wanted_records(p: dict[str, Any]) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for attr in RECORD_ATTRS:
        for value in p.get(attr) or ():
            wanted.setdefault(attr, []).append(_canonical(attr, value))
    for rtype, parts in _PARTS.items():
        names = [part.partition(":")[0] for part in parts.split()]
        given = [p.get(f"{rtype}_part_{n}") for n in names]
        if names and any(v is not None for v in given):
            text = " ".join(str(v) for v in given if v is not None)
            wanted.setdefault(f"{rtype}record", []).append(_canonical(f"{rtype}record", text))
    return wanted


def _reverse_target(ctx: Ctx, ip: str) -> tuple[Zone | None, str]:
    rev = reverse_name(ip)
    zone = ctx.state.zone_for(rev)
    if zone is None or not zone.name.endswith(("in-addr.arpa.", "ip6.arpa.")):
        return None, rev
    return zone, relative_name(rev, zone.name)


@command("dnsrecord_add")
def dnsrecord_add(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    zone = get_zone(ctx, p["dnszoneidnsname"])
    rel = _record_name(zone, p["idnsname"])
    wanted = _wanted_records(p)
    if not wanted:
        raise errors.OptionError(
            "No options to add a specific record provided.\n"
            "Command help may be consulted for all supported record types."
        )
    reverse = []
    for attr, flag in (("arecord", "a_extra_create_reverse"),
                       ("aaaarecord", "aaaa_extra_create_reverse")):
        if p.get(flag):
            reverse.extend(wanted.get(attr, []))
    for ip in reverse:
        rzone, rrel = _reverse_target(ctx, ip)
        if rzone is not None and rzone.records.get(rrel, {}).get("ptrrecord"):
            raise errors.DuplicateEntry(
                f"Reverse record for IP address {ip} already exists in reverse zone {rzone.name}."
            )
    record = zone.records.setdefault(rel, {})
    added = False
    for attr, values in wanted.items():
        have = record.setdefault(attr, [])
        for value in values:
            if value not in have:
                have.append(value)
                added = True
    if not added:
        raise empty_modlist()
    target = absolute_name(rel, zone.name)
    for ip in reverse:
        rzone, rrel = _reverse_target(ctx, ip)
        if rzone is None:
            reason = (f'Cannot create reverse record for "{ip}": '
                      f"DNS reverse zone for IP address {ip} not found")
            raise errors.NonFatalError(reason, data={"reason": reason})
        rzone.records.setdefault(rrel, {}).setdefault("ptrrecord", []).append(target)
    return {"result": record_entry(ctx, zone, rel, p), "summary": None,
            "value": dns_name(rel, p)}


def _label(attr: str) -> str:
    return attr[: -len("record")].upper() + " record"


@command("dnsrecord_del")
def dnsrecord_del(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    zone = get_zone(ctx, p["dnszoneidnsname"])
    rel = _record_name(zone, p["idnsname"])
    record = zone.records.get(rel)
    if record is None:
        raise not_found(rel, "DNS resource record")
    wanted = {a: [_canonical(a, v) for v in p.get(a) or ()] for a in RECORD_ATTRS if p.get(a)}
    if p.get("del_all"):
        del zone.records[rel]
    elif not wanted:
        raise errors.OptionError(
            "Neither --del-all nor options to delete a specific record provided.\n"
            "Command help may be consulted for all supported record types."
        )
    else:
        # Check every value first: like an LDAP modify, IPA changes all or nothing.
        matches: list[tuple[list[str], str]] = []
        for attr, values in wanted.items():
            have = record.get(attr, [])
            for value in values:
                match = next((h for h in have if h.lower() == value.lower()), None)
                if match is None:
                    raise errors.AttrValueNotFound(
                        f"{_label(attr)} does not contain '{value}'",
                        data={"attr": _label(attr), "value": value},
                    )
                matches.append((have, match))
        for have, match in matches:
            if match in have:
                have.remove(match)
        if not any(record.values()) and rel != "@":
            del zone.records[rel]
    return {"result": {"failed": []}, "summary": f'Deleted record "{rel}"',
            "value": [dns_name(rel, p)]}


@command("dnsrecord_show")
def dnsrecord_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    zone = get_zone(ctx, p["dnszoneidnsname"])
    rel = _record_name(zone, p["idnsname"])
    if rel not in zone.records:
        raise not_found(rel, "DNS resource record")
    return {"result": record_entry(ctx, zone, rel, p), "summary": None,
            "value": dns_name(rel, p)}


@command("dnsrecord_find")
def dnsrecord_find(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    zone = get_zone(ctx, p["dnszoneidnsname"])
    out = []
    for rel in sorted(zone.records, key=lambda r: (r != "@", r)):
        record = zone.records[rel]
        if p.get("criteria") and p["criteria"].lower() not in rel and not any(
            p["criteria"].lower() in v.lower() for vs in record.values() for v in vs
        ):
            continue
        if p.get("idnsname") and _record_name(zone, p["idnsname"]) != rel:
            continue
        if any(not set(_canonical(a, v) for v in p[a]) <= set(record.get(a, []))
               for a in RECORD_ATTRS if p.get(a)):
            continue
        out.append(record_entry(ctx, zone, rel, p) if not p.get("pkey_only")
                   else {"idnsname": [dns_name(rel, p)]})
    return find_result(out, p, "%(count)d DNS resource record matched",
                       "%(count)d DNS resource records matched")


# -- used by host_add / host_del ----------------------------------------------------------
def check_host_address(ctx: Ctx, fqdn: str, ip: str, *, reverse: bool) -> None:
    """host_add --ip-address: the forward zone must exist, the PTR must not."""
    absname = absolute_name(fqdn)
    if ctx.state.zone_for(absname) is None:
        domain = absname.split(".", 1)[1]
        reason = f"DNS zone {domain} not found"
        raise errors.NotFound(reason, data={"reason": reason})
    if reverse:
        rzone, rrel = _reverse_target(ctx, ip)
        if rzone is not None and rzone.records.get(rrel, {}).get("ptrrecord"):
            raise errors.DuplicateEntry(
                f"Reverse record for IP address {ip} already exists in reverse zone {rzone.name}."
            )


def add_host_address(ctx: Ctx, fqdn: str, ip: str, *, reverse: bool) -> None:
    absname = absolute_name(fqdn)
    zone = ctx.state.zone_for(absname)
    assert zone is not None  # checked by check_host_address
    attr = "arecord" if ipaddress.ip_address(ip).version == 4 else "aaaarecord"
    values = zone.records.setdefault(relative_name(absname, zone.name), {}).setdefault(attr, [])
    if _canonical(attr, ip) not in values:
        values.append(_canonical(attr, ip))
    rzone, rrel = _reverse_target(ctx, ip) if reverse else (None, "")
    if rzone is not None:
        ptrs = rzone.records.setdefault(rrel, {}).setdefault("ptrrecord", [])
        if absname not in ptrs:
            ptrs.append(absname)


def remove_host_records(ctx: Ctx, fqdn: str) -> None:
    """host_del --updatedns: A, AAAA, SSHFP of the host and the PTRs that point to it."""
    absname = absolute_name(fqdn)
    zone = ctx.state.zone_for(absname)
    if zone is None:
        return
    rel = relative_name(absname, zone.name)
    record = zone.records.get(rel)
    if record is None:
        return
    for ip in record.get("arecord", []) + record.get("aaaarecord", []):
        rzone, rrel = _reverse_target(ctx, ip)
        if rzone is None or rrel not in rzone.records:
            continue
        ptrs = rzone.records[rrel].get("ptrrecord", [])
        ptrs[:] = [t for t in ptrs if t.lower() != absname]
        if not any(rzone.records[rrel].values()):
            del rzone.records[rrel]
    for attr in ("arecord", "aaaarecord", "sshfprecord"):
        record.pop(attr, None)
    if not any(record.values()) and rel != "@":
        del zone.records[rel]
