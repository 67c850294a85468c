"""Everything a benchmark run needs, started and stopped by one context manager.

A throwaway KDC, the IPA simulator (``novajoin-fake-ipa``) as a subprocess,
N ``novajoin-server`` processes sharing one OTP key, and (on demand)
``novajoin-notify`` on a throwaway RabbitMQ vhost.  All on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from novajoin.fakeipa.adminclient import AdminClient
from novajoin.ipa import IPAClient, KerberosAuth
from novajoin.join.otp import create_otp_key
from novajoin.testing.krb5lab import KerberosLab, start_lab
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides
from novajoin.testing.processes import terminate

START_TIMEOUT = 30.0


@dataclass
class Simulator:
    """The running ``novajoin-fake-ipa`` subprocess (what NovajoinServer's helpers expect)."""

    url: str
    admin_url: str
    ca_file: Path | None
    fqdn: str
    realm: str
    domain: str
    pid: int
    lab: KerberosLab
    process: subprocess.Popen[bytes] = field(repr=False)
    admin: AdminClient = field(repr=False)

    def stop(self) -> None:
        self.admin.close()
        terminate(self.process, timeout=10)

    def ipa_client(self, connections: int) -> IPAClient:
        """novajoin's own IPA client, as the servers build it, for the IPA-bound limits."""
        import httpx

        return IPAClient(
            [(self.url, self.fqdn)],
            auth=KerberosAuth(self.lab.nova_principal, self.lab.nova_keytab),
            ca_file=self.ca_file,
            limits=httpx.Limits(max_connections=connections,
                                max_keepalive_connections=connections),
        )


def start_simulator(lab: KerberosLab, workdir: Path) -> Simulator:
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "ready.json"
    cmd = [sys.executable, "-m", "novajoin.cmd.fake_ipa",
           "--keytab", str(lab.http_keytab), "--realm", lab.realm, "--fqdn", lab.ipa_fqdn,
           "--state-dir", str(workdir / "state"), "--ready-file", str(ready),
           "--log-level", "WARNING"]
    with open(workdir / "fake-ipa.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                env={**os.environ, **lab.env()})
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("IPA simulator did not start: "
                               + (workdir / "fake-ipa.log").read_text()[-2000:])
        time.sleep(0.02)
    info = json.loads(ready.read_text())
    return Simulator(
        url=info["url"], admin_url=info["admin_url"],
        ca_file=Path(info["ca_file"]) if info.get("ca_file") else None,
        fqdn=info["fqdn"], realm=info["realm"], domain=info["domain"], pid=info["pid"],
        lab=lab, process=proc, admin=AdminClient(info["admin_url"]),
    )


@dataclass
class Rig:
    workdir: Path
    lab: KerberosLab
    ipa: Simulator
    otp_key: Path
    servers: list[NovajoinServer]

    @property
    def targets(self) -> list[str]:
        return [f"{s.url}/v1/" for s in self.servers]

    @property
    def server_pids(self) -> list[int]:
        return [s.process.pid for s in self.servers if s.process is not None]

    def fake(self) -> Any:
        """The attribute bag ``ipa_overrides`` / ``notify_overrides`` read."""
        return SimpleNamespace(url=self.ipa.url, fqdn=self.ipa.fqdn, ca_file=self.ipa.ca_file,
                               lab=self.lab, domain=self.ipa.domain, realm=self.ipa.realm)

    def start_servers(self, count: int, **options: Any) -> None:
        self.stop_servers()
        overrides = ipa_overrides(self.fake(), self.otp_key, debug=False, **options)
        self.servers = [
            NovajoinServer(self.workdir / f"server-{len(options)}-{i}", overrides).start()
            for i in range(count)
        ]

    def stop_servers(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []


@contextlib.contextmanager
def rig(servers: int) -> Iterator[Rig]:
    with tempfile.TemporaryDirectory(prefix="novajoin-bench-") as tmp:
        workdir = Path(tmp)
        lab = start_lab(workdir / "krb5")
        os.environ.update(lab.env())
        ipa = None
        the_rig = None
        try:
            ipa = start_simulator(lab, workdir / "fake-ipa")
            key = workdir / "otp.key"
            create_otp_key(key)
            the_rig = Rig(workdir, lab, ipa, key, [])
            the_rig.start_servers(servers)
            yield the_rig
        finally:
            if the_rig is not None:
                the_rig.stop_servers()
            if ipa is not None:
                ipa.stop()
            lab.stop()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of stat(5)


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set size) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
