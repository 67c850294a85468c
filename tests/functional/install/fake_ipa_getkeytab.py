"""Test stand-in for FreeIPA's ``ipa-getkeytab -s SERVER -p PRINCIPAL -k KEYTAB``.

No IPA server runs here, so the keys come from the Kerberos lab's KDC
(``kadmin.local``, found through KRB5_CONFIG / KRB5_KDC_PROFILE).  Like the
real command it needs the caller's Kerberos ticket (KRB5CCNAME must hold a
valid TGT) and gives the principal new keys.  For the tests it records its
argv, its parent's argv and its environment into $NOVAJOIN_TEST_GETKEYTAB_RECORD.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("-s", dest="server", required=True)
    p.add_argument("-p", dest="principal", required=True)
    p.add_argument("-k", dest="keytab", required=True)
    args = p.parse_args()
    children: list[list[str]] = []
    record = os.environ.get("NOVAJOIN_TEST_GETKEYTAB_RECORD")

    def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        children.append(cmd)
        return subprocess.run(cmd, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)

    def save() -> None:
        if not record:
            return
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
            parent = fh.read().decode(errors="replace").split("\0")
        with open("/proc/self/cmdline", "rb") as fh:
            own = fh.read().decode(errors="replace").split("\0")
        entry = {"argv": own, "parent_argv": parent, "children": children,
                 "environ": dict(os.environ)}
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    try:
        if run(["klist", "-s"]).returncode != 0:
            print("ipa-getkeytab: no valid Kerberos ticket in KRB5CCNAME", file=sys.stderr)
            return 9
        realm = args.principal.rsplit("@", 1)[1]
        added = run(["kadmin.local", "-r", realm, "-q", f"addprinc -randkey {args.principal}"])
        if added.returncode:
            print(added.stderr, file=sys.stderr)
            return 1
        got = run(["kadmin.local", "-r", realm, "-q", f"ktadd -k {args.keytab} {args.principal}"])
        if got.returncode or not os.path.exists(args.keytab):
            print(got.stderr, file=sys.stderr)
            return 1
        print(f"Keytab successfully retrieved and stored in: {args.keytab}", file=sys.stderr)
        return 0
    finally:
        save()


if __name__ == "__main__":
    sys.exit(main())
