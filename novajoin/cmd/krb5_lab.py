"""``novajoin-krb5-lab``: start or stop a throwaway Kerberos realm on loopback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from novajoin.testing import krb5lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="novajoin-krb5-lab",
        description="A throwaway MIT KDC on 127.0.0.1 for tests and demos "
        "(nothing in /etc is touched).",
    )
    parser.add_argument("action", choices=["start", "stop", "show"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--realm", default=krb5lab.DEFAULT_REALM)
    parser.add_argument("--ipa-fqdn", default=krb5lab.DEFAULT_IPA_FQDN)
    parser.add_argument("--nova-host", default=krb5lab.DEFAULT_NOVA_HOST)
    args = parser.parse_args(argv)

    try:
        if args.action == "start":
            lab = krb5lab.start_lab(
                args.directory,
                realm=args.realm,
                ipa_fqdn=args.ipa_fqdn,
                nova_host=args.nova_host,
            )
        else:
            lab = krb5lab.KerberosLab.load(args.directory)
            if args.action == "stop":
                lab.stop()
                return 0
    except (krb5lab.LabError, OSError) as exc:
        print(f"novajoin-krb5-lab: {exc}", file=sys.stderr)
        return 1
    # The admin password stays in its 0600 file; only its path is printed.
    print(
        json.dumps(
            {
                "realm": lab.realm,
                "kdc": f"127.0.0.1:{lab.kdc_port}",
                "running": lab.running(),
                **lab.env(),
                "http_keytab": str(lab.http_keytab),
                "nova_principal": lab.nova_principal,
                "nova_keytab": str(lab.nova_keytab),
                "admin_principal": lab.admin_principal,
                "admin_password_file": str(lab.admin_password_file),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
