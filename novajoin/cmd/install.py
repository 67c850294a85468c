"""``novajoin-install``: set up novajoin on the nova node (IPA role, keytab, files, nova.conf).

Safe to re-run.  ``--check`` verifies an existing deployment instead and
lists every problem.  Exit codes: 0 done / healthy, 1 failure or problems
found, 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from novajoin.cmd.ipa_setup import setup_logging
from novajoin.install import check, files, installer, ipa_setup
from novajoin.install.files import InstallError, Layout

LOG = logging.getLogger("novajoin.install")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="novajoin-install", allow_abbrev=False,
        description="Install novajoin on this nova node: IPA role and keytab, "
        "/etc/novajoin/join.conf, the OTP key, the instance-side cloud-config, the glance "
        "namespace and the nova/neutron settings.")
    ipa_setup.add_arguments(p, password_option=True)
    p.add_argument("--domain", help="DNS domain of the instances (required)")
    p.add_argument("--keytab", default=files.KEYTAB, help=f"default {files.KEYTAB}")
    p.add_argument("--root", default="/", help="install below this directory (every path "
                   "is prefixed; for images and tests)")
    p.add_argument("--configure-nova", action="store_true",
                   help="apply the nova.conf/neutron.conf settings (default: print them)")
    p.add_argument("--nova-conf", default=files.NOVA_CONF)
    p.add_argument("--neutron-conf", default=files.NEUTRON_CONF)
    p.add_argument("--join-host", help="host name nova's metadata API uses to reach "
                   "novajoin-server (default: --hostname)")
    p.add_argument("--join-port", type=int, default=9999)
    p.add_argument("--transport-url", help="message bus novajoin-notify listens on "
                   "(join.conf [DEFAULT] transport_url)")
    p.add_argument("--no-glance", action="store_true",
                   help="do not create the glance namespace OS::Identity::IPA")
    p.add_argument("--check", action="store_true",
                   help="verify an existing deployment and list what is wrong")
    p.add_argument("--debug", action="store_true")
    return p


def _check(args: argparse.Namespace) -> int:
    problems = check.run(check.CheckOptions(
        layout=Layout(Path(args.root)), user=args.user, nova_conf=args.nova_conf,
        neutron_conf=args.neutron_conf, hostname=args.hostname))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        LOG.error("%d problem(s) found", len(problems))
        return 1
    print("OK: novajoin deployment is consistent")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.debug)
    if args.check:
        return _check(args)
    if args.password is not None:
        LOG.warning("--password is visible to every user in the process list; "
                    "use --password-file (or the prompt) instead")
    if not args.servers or not args.domain:
        LOG.error("--server and --domain are required")
        return 2
    try:
        hostname = (args.hostname or socket.getfqdn()).lower()
        realm = ipa_setup.realm_of(args.realm, args.domain, hostname)
        admin = ipa_setup.admin_credentials(args.principal, args.password_file,
                                            args.admin_keytab, args.password)
        opts = installer.InstallOptions(
            setup=ipa_setup.SetupOptions(
                servers=args.servers, server_name=args.server_name,
                cafile=ipa_setup.default_cafile(args.cafile), hostname=hostname, realm=realm,
                admin=admin, user=args.user, getkeytab_command=args.getkeytab_command,
                force_keytab=args.force_keytab),
            layout=Layout(Path(args.root)), domain=args.domain.lower().rstrip("."),
            keytab=args.keytab, nova_conf=args.nova_conf, neutron_conf=args.neutron_conf,
            join_host=args.join_host, join_port=args.join_port,
            transport_url=args.transport_url, configure_nova=args.configure_nova,
            glance=not args.no_glance)
    except InstallError as exc:
        LOG.error("%s", exc)
        return 2
    try:
        changes = installer.run(opts)
    except InstallError as exc:
        LOG.error("%s", exc)
        return 1
    for change in changes:
        LOG.info("changed: %s", change)
    LOG.info("novajoin installed (%d change(s))", len(changes))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
