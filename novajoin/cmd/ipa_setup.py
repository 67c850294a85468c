"""``novajoin-ipa-setup``: create or complete novajoin's IPA role, principal and keytab.

Runs on any machine that reaches IPA with admin credentials.  The password
comes from a prompt or ``--password-file``; there is deliberately no
``--password`` option (argv is visible to every user in the process list).

Exit codes: 0 done (or nothing to do), 1 IPA or keytab failure, 2 bad usage.
With ``--precreate`` the novajoin host's OTP is the only thing on stdout.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence

from novajoin.install import ipa_setup
from novajoin.install.files import InstallError

LOG = logging.getLogger("novajoin.install")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="novajoin-ipa-setup", allow_abbrev=False,
        description="Create the IPA permissions, privilege 'Nova Host Management', role "
        "'Nova Host Manager' and service principal nova/<hostname>, and retrieve its keytab. "
        "Safe to re-run: what exists is checked and completed.")
    ipa_setup.add_arguments(p, password_option=False)
    p.add_argument("--domain", help="DNS domain (used for the default realm)")
    p.add_argument("--keytab", default="/etc/novajoin/krb5.keytab",
                   help="where to write the keytab of nova/<hostname> (0600, owned by --user)")
    p.add_argument("--precreate", action="store_true",
                   help="also create the novajoin host in IPA and print its one-time "
                   "password on stdout (for deployment tools); no keytab is retrieved")
    p.add_argument("--debug", action="store_true", help="verbose logging")
    return p


def setup_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.debug)
    if not args.servers:
        LOG.error("--server is required")
        return 2
    try:
        hostname = (args.hostname or socket.getfqdn()).lower()
        realm = ipa_setup.realm_of(args.realm, args.domain, hostname)
        admin = ipa_setup.admin_credentials(args.principal, args.password_file,
                                            args.admin_keytab)
        opts = ipa_setup.SetupOptions(
            servers=args.servers, server_name=args.server_name,
            cafile=ipa_setup.default_cafile(args.cafile), hostname=hostname, realm=realm,
            admin=admin, keytab=None if args.precreate else args.keytab, user=args.user,
            getkeytab_command=args.getkeytab_command, force_keytab=args.force_keytab,
            precreate=args.precreate)
    except InstallError as exc:
        LOG.error("%s", exc)
        return 2
    try:
        result = ipa_setup.run(opts)
    except InstallError as exc:
        LOG.error("%s", exc)
        return 1
    for line in ipa_setup.summary(result):
        LOG.info("%s", line)
    if result.otp is not None:
        print(result.otp, flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
