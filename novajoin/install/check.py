"""``novajoin-install --check``: verify a deployment and name exactly what is wrong.

Read-only: one Kerberos login to IPA with the deployed keytab (the very
login novajoin-server makes), one batch reading the role, and the files.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from novajoin.install import files, nova_conf
from novajoin.install.ipa_setup import keytab_problem
from novajoin.ipa import IPAClient, IPAClientError, IPAServer, KerberosAuth
from novajoin.join import otp, rbac
from novajoin.join.errors import OTPKeyError


@dataclass
class CheckOptions:
    layout: files.Layout
    user: str
    join_conf: str = files.JOIN_CONF
    nova_conf: str = files.NOVA_CONF
    neutron_conf: str = files.NEUTRON_CONF
    hostname: str | None = None  # default: the host part of join.conf's principal
    check_neutron: bool = True


def _file_problems(path: str, host_path: str, mode: int, user: str) -> list[str]:
    try:
        info = os.stat(host_path)
    except FileNotFoundError:
        return [f"{path} does not exist"]
    out = []
    if stat.S_IMODE(info.st_mode) != mode:
        out.append(f"{path} has mode {stat.S_IMODE(info.st_mode):04o}, expected {mode:04o}")
    owner = files.Owner.lookup(user) if os.geteuid() == 0 else None
    if owner is not None and info.st_uid != owner.uid:
        out.append(f"{path} is owned by uid {info.st_uid}, expected {user}")
    return out


def _ipa_problems(servers: list[IPAServer], principal: str, keytab: str,
                  cafile: str | None) -> list[str]:
    try:
        with IPAClient(servers, auth=KerberosAuth(principal, keytab), ca_file=cafile,
                       timeout=15.0, connect_retries=1, deadline=60.0) as client:
            client.ping()
            return rbac.check(client, principal)
    except IPAClientError as exc:
        return [f"IPA login as {principal} with {keytab} failed: {exc}"]


def run(opts: CheckOptions) -> list[str]:
    """Every problem found, each naming the file/setting or IPA object at fault."""
    layout = opts.layout
    conf_path = layout.host(opts.join_conf)
    if not conf_path.exists():
        return [f"{opts.join_conf} does not exist (run novajoin-install)"]
    problems = _file_problems(opts.join_conf, str(conf_path), 0o640, opts.user)
    conf = nova_conf.IniDocument.load(str(conf_path))
    values = {k: conf.get("DEFAULT", k) for k in (
        "url", "ipa_server_name", "keytab", "principal", "cafile", "otp_key_file",
        "join_listen_port", "domain")}
    for key in ("url", "principal", "keytab", "domain"):
        if not values[key]:
            problems.append(f"{opts.join_conf} [DEFAULT] {key} is not set")
    if not (values["url"] and values["principal"] and values["keytab"]):
        return problems
    principal = values["principal"]
    keytab = values["keytab"]
    problems += _file_problems(keytab, str(layout.host(keytab)), 0o600, opts.user)
    try:
        servers = [IPAServer(u, name=values["ipa_server_name"] or "")
                   for u in nova_conf.split_list(values["url"])]
    except ValueError as exc:
        return [*problems, f"{opts.join_conf} [DEFAULT] url: {exc}"]
    cafile = None
    if values["cafile"]:
        # Under --root the CA may live in the root or (tests, images) on this machine.
        found = [c for c in (layout.host(values["cafile"]), Path(values["cafile"]))
                 if c.is_file()]
        if not found:
            return [*problems, f"{opts.join_conf} [DEFAULT] cafile {values['cafile']} "
                    "does not exist"]
        cafile = str(found[0])
    why = keytab_problem(principal, str(layout.host(keytab)), servers[0].name)
    if why:
        problems.append(why)
    else:
        problems += _ipa_problems(servers, principal, str(layout.host(keytab)), cafile)
    otp_key = values["otp_key_file"] or files.OTP_KEY
    try:
        otp.load_otp_key(layout.host(otp_key))
    except OTPKeyError as exc:
        problems.append(str(exc))
    hostname = opts.hostname or principal.split("/", 1)[-1].split("@", 1)[0]
    port = int(values["join_listen_port"] or 9999)
    nova = nova_conf.IniDocument.load(str(layout.host(opts.nova_conf)))
    if not nova.lines:
        problems.append(f"{opts.nova_conf} does not exist or is empty")
    else:
        settings = nova_conf.nova_settings(join_host=hostname, join_port=port)
        problems += nova_conf.check(nova, settings, opts.nova_conf)
        problems += [f"{opts.nova_conf} {key} still holds the placeholder "
                     f"{nova_conf.PLACEHOLDER}" for key in nova_conf.placeholders(nova)]
        jsonfile = nova.get("api", "vendordata_jsonfile_path")
        if jsonfile and not layout.host(jsonfile).exists():
            problems.append(f"{jsonfile} (nova's vendordata_jsonfile_path) does not exist")
    if opts.check_neutron:
        neutron = nova_conf.IniDocument.load(str(layout.host(opts.neutron_conf)))
        problems += nova_conf.check(neutron, nova_conf.neutron_settings(), opts.neutron_conf)
    return problems
