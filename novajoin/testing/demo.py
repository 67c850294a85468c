"""One Kerberos-authenticated round trip against a running simulator.

``tools/demo.sh`` runs this to prove the embedded default works end to end:
keytab -> KDC ticket -> Negotiate login -> IPA session -> host created with a
one-time password -> enrolled with it -> deleted.  The OTP is never printed.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from novajoin.fakeipa.adminclient import AdminClient
from novajoin.ipa import IPAClient, IPAServer, KerberosAuth
from novajoin.testing.krb5lab import KerberosLab


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ready = json.loads(Path(argv[0]).read_text())
    lab = KerberosLab.load(Path(argv[1]))
    fqdn = f"demo-{uuid.uuid4().hex[:8]}.{ready['domain']}"
    server = IPAServer(ready["url"], name=ready["fqdn"])
    auth = KerberosAuth(lab.nova_principal, lab.nova_keytab)
    with IPAClient([server], auth=auth, ca_file=ready["ca_file"]) as ipa:
        added = ipa.call("host_add", fqdn, force=True, random=True)["result"]
        otp = added.pop("randompassword")
        print(f"{lab.nova_principal} created {fqdn} with a {len(otp)}-character one-time password")
        AdminClient(ready["admin_url"]).enroll(fqdn, otp)
        shown = ipa.call("host_show", fqdn)["result"]
        print(f"enrolled with it: has_keytab={shown['has_keytab']}, "
              f"principal={shown['krbprincipalname'][0]}")
        ipa.call("host_del", fqdn)
        print(f"deleted {fqdn}: the simulator is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
