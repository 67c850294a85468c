"""The embedded default: novajoin-server on the IPA simulator and a throwaway KDC.

``bash tools/demo.sh`` runs this.  Everything lives in one directory (``.lab``
by default) and listens on 127.0.0.1: a Kerberos realm EXAMPLE.TEST, the IPA
simulator (``ipa.example.test``) and ``novajoin-server`` with a generated
``join.conf``, ready to answer nova's vendordata request.  ``--smoke`` proves
the whole path once (a curl of the documented sample request gets an OTP, the
simulated instance enrolls with it, asking again gets no OTP) and stops.
The demo config asks for ``auth_strategy = noauth`` explicitly; the product
default is Keystone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from novajoin.conf import enrollment
from novajoin.fakeipa.adminclient import AdminClient
from novajoin.join.otp import create_otp_key
from novajoin.testing.krb5lab import KerberosLab, start_lab
from novajoin.testing.novajoin_server import NovajoinServer
from novajoin.testing.processes import terminate

SAMPLE_REQUEST = Path(__file__).resolve().parents[2] / "docs" / "sample-vendordata-request.json"
START_TIMEOUT = 30.0


def _start_simulator(lab: KerberosLab, directory: Path, port: int, admin_port: int):
    ready = directory / "fakeipa.json"
    ready.unlink(missing_ok=True)
    log = open(directory / "fakeipa.log", "ab")  # noqa: SIM115 (lives as long as the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "novajoin.cmd.fake_ipa",
         "--keytab", str(lab.http_keytab), "--realm", lab.realm, "--fqdn", lab.ipa_fqdn,
         "--state-dir", str(directory / "fakeipa"), "--listen", f"127.0.0.1:{port}",
         "--admin-listen", f"127.0.0.1:{admin_port}", "--ready-file", str(ready),
         "--log-level", "INFO"],
        stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, **lab.env()},
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not (ready.exists() and ready.stat().st_size):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"demo: the IPA simulator did not start; see {directory}/fakeipa.log")
        time.sleep(0.05)
    return proc, json.loads(ready.read_text())


def _server(directory: Path, sim: dict[str, Any], lab: KerberosLab, port: int) -> NovajoinServer:
    key = directory / "otp.key"
    if not key.exists():
        create_otp_key(key)
    options = {
        "join_listen": "127.0.0.1",
        "join_listen_port": port,
        "auth_strategy": "noauth",  # the demo has no Keystone; the default is keystone
        "url": sim["url"],
        "ipa_server_name": sim["fqdn"],
        "cafile": sim["ca_file"],
        "keytab": lab.nova_keytab,
        "principal": lab.nova_principal,
        "domain": sim["domain"],
        "realm": sim["realm"],
        "otp_key_file": key,
    }
    return NovajoinServer(directory / "server", {"DEFAULT": options}, port=port,
                          env=lab.env())


def _curl_sample(url: str) -> dict[str, Any]:
    """POST the documented sample request the way the README shows it."""
    cmd = ["curl", "-sS", "-X", "POST", f"{url}/v1/", "-H", "Content-Type: application/json",
           "-d", f"@{SAMPLE_REQUEST}"]
    if shutil.which("curl") is None:
        raise SystemExit("demo --smoke: curl is not installed")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def _shown(path: Path) -> Path:
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def _repeat_window() -> float:
    """The server's repeat window: the demo's join.conf leaves the option at its default."""
    [opt] = [o for o in enrollment.OPTS if o.name == "repeat_cache_seconds"]
    return float(opt.default)


def smoke(url: str, admin_url: str) -> None:
    first = _curl_sample(url)
    otp = first.get("ipaotp")
    if not otp:
        raise SystemExit(f"demo --smoke: no OTP in the answer: {sorted(first)}")
    again = _curl_sample(url)
    same = again.get("ipaotp") == otp
    print(f"join answer for {first['hostname']}: keys {sorted(first)}; "
          f"asked again, same OTP: {same}")
    AdminClient(admin_url).enroll(first["hostname"], otp)
    # A repeat within repeat_cache_seconds is answered from memory (nova's config-drive
    # burst); an instance enrolls long after that, so wait the window out like it would.
    window = _repeat_window()
    print(f"waiting {window:g} s (repeat_cache_seconds) as an instance would before it enrolls")
    time.sleep(window + 0.2)
    after = _curl_sample(url)
    print(f"the instance enrolled with it; asked again: enrolled={after.get('enrolled')}, "
          f"OTP given: {'ipaotp' in after}")
    if not same or "ipaotp" in after or not after.get("enrolled"):
        raise SystemExit("demo --smoke: unexpected answers")
    print("novajoin is ready")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".lab"))
    parser.add_argument("--port", type=int, default=9999, help="novajoin-server port")
    parser.add_argument("--ipa-port", type=int, default=8443)
    parser.add_argument("--admin-port", type=int, default=8444)
    parser.add_argument("--smoke", action="store_true", help="prove it works once, then stop")
    args = parser.parse_args(argv)
    directory = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)

    lab = start_lab(directory / "krb5")
    sim_proc, sim = _start_simulator(lab, directory, args.ipa_port, args.admin_port)
    server = _server(directory, sim, lab, args.port)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    try:
        server.start()
        if args.smoke:
            smoke(server.url, sim["admin_url"])
            return 0
        print(f"""
novajoin-server  {server.url}/v1/   (config {server.config_file}, log {server.log_path})
IPA simulator    {sim['url']}   (name {sim['fqdn']}, CA {sim['ca_file']})
  admin          {sim['admin_url']}/state  (also /calls, /enroll, /faults, /latency, /reset)
Kerberos         KRB5_CONFIG={lab.krb5_config}

Try nova's request:
  curl -s -X POST {server.url}/v1/ -H 'Content-Type: application/json' \\
       -d @{_shown(SAMPLE_REQUEST)}
Ctrl-C stops everything.""", flush=True)
        while not stopping and server.process and server.process.poll() is None:
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
        terminate(sim_proc, 10)
        lab.stop()


if __name__ == "__main__":
    sys.exit(main())
