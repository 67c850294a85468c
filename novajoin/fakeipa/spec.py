"""Our own definitions of the IPA commands the simulator implements.

Derived by reading IPA 4.13's API description (API version 2.257) and written
in a compact notation of our own.  Every option a real server accepts for these
commands is listed, so a real client never gets OptionError for a real option;
tests/unit/fakeipa/test_spec_reference.py checks them against IPA's file.

Notation: one token per parameter, ``name[?*+][:kind][=default][@cli_name]``.
Suffixes as in IPA: none = required, ``?`` optional, ``*`` optional multivalue,
``+`` required multivalue.  Kinds: s str (default), f flag, b bool, i int,
d DNS name, p secret password, c certificate, P principal, D dict, N DN,
m decimal, ``e.KEY`` enum with the values in ENUMS[KEY].  A parameter with a
default is filled in when absent (IPA's autofill); flags default to False.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Any

from novajoin.fakeipa.params import Param

ENUMS: dict[str, tuple[str, ...]] = {
    "authind": ("radius", "otp", "pkinit", "hardened", "idp", "passkey"),
    "pac": ("MS-PAC", "PAD", "NONE"),
    "class": ("IN", "CS", "CH", "HS"),
    "fwd": ("only", "first", "none"),
    "bind": ("permission", "all", "anonymous", "self"),
    "right": ("read", "search", "compare", "write", "add", "delete", "all"),
    "lat": ("N", "S"),
    "lon": ("E", "W"),
}
_KINDS = {
    "s": "str", "f": "flag", "b": "bool", "i": "int", "d": "dnsname", "p": "password",
    "c": "cert", "P": "principal", "D": "dict", "N": "dn", "m": "decimal",
}
_TOKEN = re.compile(r"^(?P<name>[a-z0-9_]+)(?P<suf>[?*+]?)(?::(?P<kind>[a-zA-Z.]+))?"
                    r"(?:=(?P<default>[^@]*))?(?:@(?P<cli>[a-z0-9_]+))?$")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    args: tuple[Param, ...]
    options: tuple[Param, ...]

    @property
    def params(self) -> dict[str, Param]:
        return {p.name: p for p in self.args + self.options}

    @property
    def max_args(self) -> int | None:
        """None when the last argument takes all remaining positional values."""
        if self.args and self.args[-1].multivalue:
            return None
        return len(self.args)


def parse_param(token: str) -> Param:
    m = _TOKEN.match(token)
    if m is None:
        raise ValueError(f"bad parameter token {token!r}")
    suf, kind_code = m["suf"], m["kind"] or "s"
    values: tuple[str, ...] = ()
    if kind_code.startswith("e."):
        kind, values = "enum", ENUMS[kind_code[2:]]
    else:
        kind = _KINDS[kind_code]
    default: Any = None
    if kind == "flag":
        default = m["default"] == "1"
    elif m["default"] is not None:
        raw = m["default"]
        default = int(raw) if kind == "int" else (raw == "1") if kind == "bool" else raw
    return Param(
        name=m["name"], kind=kind, required=suf in ("", "+"), multivalue=suf in ("*", "+"),
        default=default, autofill=default is not None, values=values, cli_name=m["cli"],
    )


def _params(text: str) -> tuple[Param, ...]:
    return tuple(parse_param(t) for t in text.split())


# Groups shared by many commands.
_OUT = "all:f raw:f"
_VER = "version?"
_ADDMOD = "addattr* setattr*"
_FIND = "pkey_only?:f sizelimit?:i timelimit?:i"
_TKT = "ipakrbokasdelegate?:b ipakrboktoauthasdelegate?:b ipakrbrequirespreauth?:b"
_HOSTATTRS = (
    "description? l? nshardwareplatform? nshostlocation? nsosversion? ipaassignedidview? "
    "krbprincipalauthind*:e.authind macaddress* usercertificate*:c userclass*"
)
_HOST_IN = " ".join(
    f"{p}{rel}*" for p in ("in_", "not_in_") for rel in ("hbacrule", "hostgroup", "netgroup",
                                                        "role", "sudorule")
)
_HG_IN = " ".join(
    f"{p}{rel}*" for p in ("in_", "not_in_") for rel in ("hbacrule", "hostgroup", "netgroup",
                                                        "sudorule")
)
_DNSZONE = (
    "dnsclass?:e.class dnsdefaultttl?:i dnsttl?:i idnsallowsyncptr?:b idnsforwarders* "
    "idnsforwardpolicy?:e.fwd idnssoamname?:d nsec3paramrecord? name_from_ip?"
)
_PERM = (
    "attrs* extratargetfilter* filter* ipapermlocation? ipapermright*:e.right "
    "ipapermtarget?:N ipapermtargetfilter* ipapermtargetfrom?:N ipapermtargetto?:N "
    "memberof* permissions* subtree* targetgroup? type?"
)

# DNS record types: (name, parts for dnsrecord_add).  Part kinds as in the notation.
RECORD_TYPES: tuple[tuple[str, str], ...] = (
    ("a6", "data"), ("aaaa", "ip_address"), ("afsdb", "hostname:d subtype:i"), ("apl", ""),
    ("a", "ip_address"), ("cert", "algorithm:i certificate_or_crl key_tag:i type:i"),
    ("cname", "hostname:d"), ("dhcid", ""), ("dlv", "algorithm:i digest digest_type:i key_tag:i"),
    ("dname", "target:d"), ("ds", "algorithm:i digest digest_type:i key_tag:i"), ("hip", ""),
    ("ipseckey", ""), ("key", ""), ("kx", "exchanger:d preference:i"),
    ("loc", "altitude:m h_precision:m lat_deg:i lat_dir:e.lat lat_min:i lat_sec:m lon_deg:i "
            "lon_dir:e.lon lon_min:i lon_sec:m size:m v_precision:m"),
    ("mx", "exchanger:d preference:i"),
    ("naptr", "flags order:i preference:i regexp replacement service"), ("nsec", ""),
    ("ns", "hostname:d"), ("ptr", "hostname:d"), ("rp", ""), ("rrsig", ""), ("sig", ""),
    ("spf", ""), ("srv", "port:i priority:i target:d weight:i"),
    ("sshfp", "algorithm:i fingerprint fp_type:i"),
    ("tlsa", "cert_association_data cert_usage:i matching_type:i selector:i"),
    ("txt", "data"), ("uri", "priority:i target weight:i"),
)
RECORD_ATTRS = tuple(f"{t}record" for t, _ in RECORD_TYPES)
_RECORDS = " ".join(f"{a}*" for a in RECORD_ATTRS)


def _record_parts() -> str:
    out = []
    for rtype, parts in RECORD_TYPES:
        for part in parts.split():
            pname, _, kind = part.partition(":")
            out.append(f"{rtype}_part_{pname}?" + (f":{kind}" if kind else ""))
        if rtype in ("a", "aaaa"):
            out.append(f"{rtype}_extra_create_reverse?:f")
    return " ".join(out)


# name: (args, options)
_DEFS: dict[str, tuple[str, str]] = {
    "ping": ("", _VER),
    "env": ("variables*", "all:f=1 server?:f " + _VER),
    "host_add": ("fqdn@hostname", f"{_ADDMOD} {_OUT} {_HOSTATTRS} {_TKT} force:f ip_address? "
                 f"ipasshpubkey* no_members:f no_reverse:f random?:f userpassword?:p@password "
                 f"{_VER}"),
    "host_mod": ("fqdn@hostname", f"{_ADDMOD} delattr* {_OUT} {_HOSTATTRS} {_TKT} "
                 "ipasshpubkey* krbprincipalname*:P no_members:f random?:f rights:f "
                 f"updatedns?:f userpassword?:p@password {_VER}"),
    "host_del": ("fqdn+@hostname", f"continue:f updatedns?:f {_VER}"),
    "host_show": ("fqdn@hostname", f"{_OUT} no_members:f out? rights:f {_VER}"),
    "host_find": ("criteria?", f"{_OUT} {_FIND} {_HOST_IN} description? fqdn? l? "
                  "nshardwareplatform? nshostlocation? nsosversion? ipaassignedidview? "
                  "krbprincipalauthind*:e.authind macaddress* usercertificate*:c userclass* "
                  "enroll_by_user* not_enroll_by_user* man_by_host* not_man_by_host* man_host* "
                  f"not_man_host* no_members:f=1 {_VER}"),
    "host_disable": ("fqdn@hostname", _VER),
    "host_add_managedby": ("fqdn@hostname", f"{_OUT} host* no_members:f {_VER}"),
    "host_remove_managedby": ("fqdn@hostname", f"{_OUT} host* no_members:f {_VER}"),
    "service_add": ("krbcanonicalname:P@canonical_principal",
                    f"{_ADDMOD} {_OUT} {_TKT} force:f ipakrbauthzdata*:e.pac "
                    "krbprincipalauthind*:e.authind no_members:f skip_host_check:f "
                    f"usercertificate*:c {_VER}"),
    "service_del": ("krbcanonicalname+:P@canonical_principal", f"continue:f {_VER}"),
    "service_show": ("krbcanonicalname:P@canonical_principal",
                     f"{_OUT} no_members:f out? rights:f {_VER}"),
    "service_find": ("criteria?", f"{_OUT} {_FIND} ipakrbauthzdata*:e.pac "
                     "krbcanonicalname?:P krbprincipalauthind*:e.authind krbprincipalname*:P "
                     f"man_by_host* not_man_by_host* no_members:f=1 {_VER}"),
    "service_add_host": ("krbcanonicalname:P@canonical_principal",
                         f"{_OUT} host* no_members:f {_VER}"),
    "service_remove_host": ("krbcanonicalname:P@canonical_principal",
                            f"{_OUT} host* no_members:f {_VER}"),
    "hostgroup_add": ("cn@hostgroup_name", f"{_ADDMOD} {_OUT} description? no_members:f {_VER}"),
    "hostgroup_add_member": ("cn@hostgroup_name", f"{_OUT} host* hostgroup* no_members:f {_VER}"),
    "hostgroup_remove_member": ("cn@hostgroup_name",
                                f"{_OUT} host* hostgroup* no_members:f {_VER}"),
    "hostgroup_show": ("cn@hostgroup_name", f"{_OUT} no_members:f rights:f {_VER}"),
    "hostgroup_find": ("criteria?", f"{_OUT} {_FIND} {_HG_IN} cn? description? host* hostgroup* "
                       "no_host* no_hostgroup* membermanager_group* membermanager_user* "
                       "not_membermanager_group* not_membermanager_user* no_members:f=1 "
                       f"{_VER}"),
    "hostgroup_del": ("cn+@hostgroup_name", f"continue:f {_VER}"),
    "dnszone_add": ("idnsname:d@name", f"{_ADDMOD} {_OUT} {_DNSZONE} force:f "
                    "idnsallowdynupdate?:b=0 idnsallowquery?=any; idnsallowtransfer?=none; "
                    "idnssecinlinesigning?:b idnssoaexpire:i=1209600 idnssoaminimum:i=3600 "
                    "idnssoarefresh:i=3600 idnssoaretry:i=900 idnssoarname:d=hostmaster "
                    "idnssoaserial?:i idnsupdatepolicy? ip_address? skip_nameserver_check:f "
                    f"skip_overlap_check:f {_VER}"),
    "dnszone_show": ("idnsname:d@name", f"{_OUT} rights:f {_VER}"),
    "dnszone_find": ("criteria?", f"{_OUT} {_FIND} {_DNSZONE} forward_only:f "
                     "idnsallowdynupdate?:b idnsallowquery? idnsallowtransfer? idnsname?:d "
                     "idnssecinlinesigning?:b idnssoaexpire?:i idnssoaminimum?:i "
                     "idnssoarefresh?:i idnssoaretry?:i idnssoarname?:d idnssoaserial?:i "
                     f"idnsupdatepolicy? idnszoneactive?:b {_VER}"),
    "dnsrecord_add": ("dnszoneidnsname:d@dnszone idnsname:d@name",
                      f"{_ADDMOD} all:f raw:f dnsclass?:e.class dnsttl?:i@ttl force:f "
                      f"structured:f {_RECORDS} {_record_parts()} {_VER}"),
    "dnsrecord_del": ("dnszoneidnsname:d@dnszone idnsname:d@name",
                      f"del_all:f dnsclass?:e.class dnsttl?:i@ttl raw:f structured:f "
                      f"{_RECORDS} {_VER}"),
    "dnsrecord_find": ("dnszoneidnsname:d@dnszone criteria?",
                       f"{_OUT} {_FIND} dnsclass?:e.class dnsttl?:i@ttl idnsname?:d "
                       f"structured:f {_RECORDS} {_VER}"),
    "dnsrecord_show": ("dnszoneidnsname:d@dnszone idnsname:d@name",
                       f"{_OUT} rights:f structured:f {_VER}"),
    "permission_add": ("cn@name", f"{_ADDMOD} {_OUT} {_PERM} ipapermbindruletype:e.bind=permission"
                       f" no_members:f {_VER}"),
    "permission_show": ("cn@name", f"{_OUT} no_members:f rights:f {_VER}"),
    "permission_find": ("criteria?", f"{_OUT} {_FIND} {_PERM} cn? "
                        "ipapermbindruletype?:e.bind ipapermdefaultattr* ipapermexcludedattr* "
                        f"ipapermincludedattr* no_members:f=1 {_VER}"),
    "permission_mod": ("cn@name", f"{_ADDMOD} delattr* {_OUT} {_PERM} ipapermbindruletype?:e.bind "
                       "ipapermexcludedattr* ipapermincludedattr* no_members:f rename? rights:f "
                       f"{_VER}"),
    "permission_add_member": ("cn@name", f"{_OUT} no_members:f privilege* {_VER}"),
    "privilege_add": ("cn@name", f"{_ADDMOD} {_OUT} description? no_members:f {_VER}"),
    "privilege_show": ("cn@name", f"{_OUT} no_members:f rights:f {_VER}"),
    "privilege_find": ("criteria?", f"{_OUT} {_FIND} cn? description? no_members:f=1 {_VER}"),
    "privilege_add_permission": ("cn@name", f"{_OUT} no_members:f permission* {_VER}"),
    "role_add": ("cn@name", f"{_ADDMOD} {_OUT} description? no_members:f {_VER}"),
    "role_show": ("cn@name", f"{_OUT} no_members:f rights:f {_VER}"),
    "role_find": ("criteria?", f"{_OUT} {_FIND} cn? description? no_members:f=1 {_VER}"),
    "role_add_privilege": ("cn@name", f"{_OUT} no_members:f privilege* {_VER}"),
    "role_add_member": ("cn@name", f"{_OUT} group* host* hostgroup* idoverrideuser* no_members:f "
                        f"service* sysaccount* user* {_VER}"),
    "batch": ("methods*:D", "keeponly* " + _VER),
}


# -- value rules and normalizers (ipalib's validators, as the simulator needs them) ----
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)


def normalize_hostname(value: str) -> str:
    return value[:-1].lower() if value.endswith(".") else value.lower()


def hostname_problem(value: str) -> str | None:
    """ipalib.util.validate_hostname, as host commands apply it to fqdn."""
    host = value[:-1] if value.endswith(".") else value
    problem = None
    if len(value) > 255:
        problem = "cannot be longer that 255 characters"
    elif ".." in host:
        problem = "hostname contains empty label (consecutive dots)"
    elif "." not in host:
        problem = "not fully qualified"
    else:
        for label in host.split("."):
            if not label:
                problem = "empty DNS label"
            elif len(label) > 63:
                problem = "DNS label cannot be longer that 63 characters"
            elif not _LABEL.match(label):
                problem = ("only letters, numbers, '-' are allowed. "
                           "DNS label may not start or end with '-'")
            if problem:
                break
    return None if problem is None else f"invalid domain-name: {problem}"


def hostgroup_problem(value: str) -> str | None:
    if re.match(r"^[a-zA-Z0-9_.][a-zA-Z0-9_.-]*$", value):
        return None
    return "may only include letters, numbers, _, -, and ."


def ip_problem(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "invalid IP address format"
    return None


def _ip_version_rule(version: int):
    def rule(value: str) -> str | None:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return "invalid IP address format"
        if ip.version != version:
            return f"invalid IP address version (is {ip.version}, must be {version})!"
        return None

    return rule


def _lower(value: str) -> str:
    return value.lower()


def _tuned(name: str, param: Param) -> Param:
    if param.name == "fqdn" and name.startswith("host_") and name != "host_find":
        return replace(param, normalizer=normalize_hostname, rules=(hostname_problem,))
    if param.name == "cn" and name.startswith("hostgroup_") and name != "hostgroup_find":
        return replace(param, normalizer=_lower, rules=(hostgroup_problem,))
    if param.name == "ip_address" and name in ("host_add", "dnszone_add"):
        return replace(param, rules=(ip_problem,))
    if param.name in ("arecord", "a_part_ip_address"):
        return replace(param, rules=(_ip_version_rule(4),), cli_name=param.cli_name or "a_rec")
    if param.name in ("aaaarecord", "aaaa_part_ip_address"):
        return replace(param, rules=(_ip_version_rule(6),), cli_name=param.cli_name or "aaaa_rec")
    if param.name == "idnssoaserial":
        return replace(param, deprecated=True)
    return param


def _build() -> dict[str, CommandSpec]:
    out = {}
    for name, (args, options) in _DEFS.items():
        out[name] = CommandSpec(
            name=name,
            args=tuple(_tuned(name, p) for p in _params(args)),
            options=tuple(_tuned(name, p) for p in _params(options)),
        )
    return out


COMMANDS: dict[str, CommandSpec] = _build()
