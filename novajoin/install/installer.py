"""``novajoin-install``: the whole deployment on the nova node, safe to re-run.

Order matters: IPA first (nothing is written locally when IPA refuses),
then join.conf and the OTP key, the instance-side files, glance, and last
nova.conf / neutron.conf (shown, or applied with ``--configure-nova``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from novajoin.install import files, glance, ipa_setup, nova_conf
from novajoin.install.files import Layout, Owner

LOG = logging.getLogger("novajoin.install")


@dataclass
class InstallOptions:
    setup: ipa_setup.SetupOptions
    layout: Layout
    domain: str
    keytab: str = files.KEYTAB
    join_conf: str = files.JOIN_CONF
    nova_conf: str = files.NOVA_CONF
    neutron_conf: str = files.NEUTRON_CONF
    join_host: str | None = None  # host in nova's target URL (default: --hostname)
    join_port: int = 9999
    transport_url: str | None = field(default=None, repr=False)
    configure_nova: bool = False
    glance: bool = True


def _auth_skeleton(section: str, username: str) -> list[nova_conf.Setting]:
    auth_url = os.environ.get("OS_AUTH_URL") or nova_conf.PLACEHOLDER
    return [nova_conf.Setting(section, k, v, "default") for k, v in (
        ("auth_type", "password"), ("auth_url", auth_url), ("username", username),
        ("password", nova_conf.PLACEHOLDER), ("project_name", "service"),
        ("user_domain_name", "Default"), ("project_domain_name", "Default"))]


def join_conf_settings(opts: InstallOptions, principal: str) -> list[nova_conf.Setting]:
    s = opts.setup
    default = {
        "url": ",".join(s.servers),
        "keytab": opts.keytab,
        "principal": principal,
        "domain": opts.domain,
        "realm": s.realm,
        "otp_key_file": files.OTP_KEY,
        "auth_strategy": "keystone",
    }
    if s.server_name:
        default["ipa_server_name"] = s.server_name
    if s.cafile:
        default["cafile"] = s.cafile
    if opts.transport_url:
        default["transport_url"] = opts.transport_url
    settings = [nova_conf.Setting("DEFAULT", k, v) for k, v in default.items()]
    settings.append(nova_conf.Setting("DEFAULT", "join_listen_port", str(opts.join_port),
                                      "default"))
    settings += _auth_skeleton("keystone_authtoken", "novajoin")
    settings.append(nova_conf.Setting("keystone_authtoken", "www_authenticate_uri",
                                      os.environ.get("OS_AUTH_URL") or nova_conf.PLACEHOLDER,
                                      "default"))
    settings += _auth_skeleton("service_credentials", "novajoin")
    return settings


# nova-api must read the static vendordata (cloud-config) kept here; the
# secrets inside (keytab, otp.key 0600; join.conf 0640) protect themselves.
CONF_DIR_MODE = 0o755


def write_join_conf(opts: InstallOptions, principal: str, owner: Owner | None) -> list[str]:
    path = opts.layout.host(opts.join_conf)
    doc = nova_conf.IniDocument.load(str(path))
    if not doc.lines:
        doc = nova_conf.IniDocument("# novajoin configuration, written by novajoin-install.\n"
                                    "# Re-running the installer keeps your own edits.\n")
    changes = nova_conf.merge(doc, join_conf_settings(opts, principal))
    files.ensure_dir(path.parent, CONF_DIR_MODE, owner)
    files.write_if_changed(path, doc.text(), 0o640, owner)
    return [f"{opts.join_conf}: {c}" for c in changes]


def nova_changes(opts: InstallOptions, out: Callable[[str], None]) -> list[str]:
    """Apply (``configure_nova``) or print the nova.conf and neutron.conf settings."""
    host = opts.join_host or opts.setup.hostname
    plans = [
        (opts.nova_conf, nova_conf.nova_settings(
            join_host=host, join_port=opts.join_port, jsonfile_path=files.CLOUD_CONFIG,
            auth_url=os.environ.get("OS_AUTH_URL"))),
        (opts.neutron_conf, nova_conf.neutron_settings()),
    ]
    changed: list[str] = []
    for conf, settings in plans:
        path = opts.layout.host(conf)
        doc = nova_conf.IniDocument.load(str(path))
        changes = nova_conf.merge(doc, settings)
        if not changes:
            continue
        if opts.configure_nova:
            files.write_if_changed(path, doc.text(), 0o640, None, keep_owner=True)
            changed += [f"{conf}: {c}" for c in changes]
        else:
            out(f"# {conf} needs (apply with --configure-nova):")
            for change in changes:
                out(f"#   {change}")
        for key in nova_conf.placeholders(doc):
            LOG.warning("%s %s is a placeholder: set it before restarting nova", conf, key)
    return changed


def run(opts: InstallOptions, out: Callable[[str], None] = print) -> list[str]:
    """Install everything; return what changed (empty on a complete deployment)."""
    layout = opts.layout
    owner = Owner.lookup(opts.setup.user)
    opts.setup.keytab = str(layout.host(opts.keytab))
    files.ensure_dir(layout.host(files.CONF_DIR), CONF_DIR_MODE, owner)
    result = ipa_setup.run(opts.setup)
    changes = list(result.changes)
    if result.keytab_written:
        changes.append(f"{opts.keytab}: new keys for {result.principal}")
    changes += write_join_conf(opts, result.principal, owner)
    if files.ensure_otp_key(layout, owner):
        changes.append(f"{files.OTP_KEY}: created")
    changes += [f"{p}: installed" for p in files.install_data_files(layout)]
    if opts.glance:
        try:
            changes += glance.ensure_namespace(glance.connect())
        except Exception as exc:  # openstacksdk raises many kinds for bad credentials
            raise files.InstallError(f"glance namespace {glance.NAMESPACE}: {exc} "
                                     "(set OS_* variables or use --no-glance)") from None
    changes += nova_changes(opts, out)
    return changes
