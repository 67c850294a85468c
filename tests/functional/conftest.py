"""Fixtures for functional tests: the IPA simulator on the lab's Kerberos realm.

``fake_ipa`` (function scope) is ONE simulator subprocess per test session
(``python -m novajoin.cmd.fake_ipa``), reset through its admin API before
every test (state, faults, latency, sessions, call log), so tests are
isolated.  It yields a :class:`FakeIPA` with these stable attributes:

    url             https://127.0.0.1:PORT/ipa (JSON-RPC base; no trailing slash)
    base_url        https://127.0.0.1:PORT
    json_url, session_json_url, login_kerberos_url, login_password_url
    referer         https://<fqdn>/ipa (the Referer IPA demands)
    admin_url       http://127.0.0.1:ADMIN_PORT
    admin           AdminClient (enroll, state, calls, clear_calls, inject_fault,
                    clear_faults, set_latency, expire_sessions, reset)
    ca_file         Path of the CA certificate (verify TLS with it)
    fqdn, realm, domain, port, admin_port, pid
    lab             the KerberosLab (nova_principal, nova_keytab, admin_password, ...)
    log_path        the simulator's stderr log (DEBUG level); log_text() reads it
    client(**kw)    an httpx.Client verifying with ca_file and sending the Referer
    ssl_context()   an ssl.SSLContext trusting ca_file

Clients must connect to 127.0.0.1 and use ``HTTP@<fqdn>`` as the Kerberos
target (no DNS, no /etc/hosts).  ``fake_ipa_factory(*extra_cli_args)``
starts extra simulators (e.g. ``"--keepalive-timeout", "0.5"``) stopped at
teardown; ``fake_ipa_inprocess`` runs FakeIPAServer in the test process.
``nova_negotiate(mech=...)`` makes a Negotiate token from the nova keytab;
``make_client(servers=None, **kw)`` makes IPAClients on the nova keytab.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gssapi
import httpx
import pytest

from novajoin.fakeipa.adminclient import AdminClient
from novajoin.ipa import Backoff, IPAClient, IPAServer, KerberosAuth
from novajoin.testing.krb5lab import KerberosLab
from novajoin.testing.processes import terminate

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
_START_TIMEOUT = 30.0


@dataclass
class FakeIPA:
    """A running simulator subprocess (see the module docstring)."""

    url: str
    admin_url: str
    ca_file: Path | None
    fqdn: str
    realm: str
    domain: str
    port: int
    admin_port: int
    pid: int
    lab: KerberosLab
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    admin: AdminClient = field(repr=False)

    @property
    def base_url(self) -> str:
        return self.url.rsplit("/ipa", 1)[0]

    @property
    def json_url(self) -> str:
        return f"{self.url}/json"

    @property
    def session_json_url(self) -> str:
        return f"{self.url}/session/json"

    @property
    def login_kerberos_url(self) -> str:
        return f"{self.url}/session/login_kerberos"

    @property
    def login_password_url(self) -> str:
        return f"{self.url}/session/login_password"

    @property
    def referer(self) -> str:
        return f"https://{self.fqdn}/ipa"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Referer": self.referer, **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 30.0)
        verify: Any = self.ssl_context() if self.ca_file else True
        return httpx.Client(verify=verify, headers=headers, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.admin.close()
        terminate(self.process, timeout=10)


def start_fake_ipa(lab: KerberosLab, workdir: Path, *extra: str) -> FakeIPA:
    """Start ``novajoin-fake-ipa`` as a subprocess and wait until it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "ready.json"
    log_path = workdir / "fake-ipa.log"
    cmd = [
        sys.executable, "-m", "novajoin.cmd.fake_ipa",
        "--keytab", str(lab.http_keytab),
        "--realm", lab.realm,
        "--fqdn", lab.ipa_fqdn,
        "--state-dir", str(workdir / "state"),
        "--ready-file", str(ready),
        "--log-level", "DEBUG",
        *extra,
    ]
    with open(log_path, "wb") as log, open(workdir / "stdout.txt", "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=log, env={**os.environ, **lab.env()})
    deadline = time.monotonic() + _START_TIMEOUT
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"fake IPA exited ({proc.returncode}):\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"fake IPA did not start:\n{log_path.read_text()}")
        time.sleep(0.02)
    info = json.loads(ready.read_text())
    return FakeIPA(
        url=info["url"],
        admin_url=info["admin_url"],
        ca_file=Path(info["ca_file"]) if info.get("ca_file") else None,
        fqdn=info["fqdn"],
        realm=info["realm"],
        domain=info["domain"],
        port=info["port"],
        admin_port=info["admin_port"],
        pid=info["pid"],
        lab=lab,
        log_path=log_path,
        process=proc,
        admin=AdminClient(info["admin_url"]),
    )


@pytest.fixture(scope="session")
def _fake_ipa_shared(
    krb5_lab: KerberosLab, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeIPA]:
    ipa = start_fake_ipa(krb5_lab, tmp_path_factory.mktemp("fake-ipa"))
    try:
        yield ipa
    finally:
        ipa.stop()


@pytest.fixture
def fake_ipa(_fake_ipa_shared: FakeIPA) -> FakeIPA:
    """The shared simulator, reset to an empty state for this test."""
    if _fake_ipa_shared.process.poll() is not None:
        pytest.fail(f"fake IPA died:\n{_fake_ipa_shared.log_text()[-4000:]}")
    _fake_ipa_shared.admin.reset()
    return _fake_ipa_shared


@pytest.fixture
def fake_ipa_factory(
    krb5_lab: KerberosLab, tmp_path: Path
) -> Iterator[Callable[..., FakeIPA]]:
    """Start extra simulators with extra CLI arguments; stopped at teardown."""
    started: list[FakeIPA] = []

    def factory(*extra: str) -> FakeIPA:
        ipa = start_fake_ipa(krb5_lab, tmp_path / f"fake-ipa-{len(started)}", *extra)
        started.append(ipa)
        return ipa

    try:
        yield factory
    finally:
        for ipa in started:
            ipa.stop()


@pytest.fixture
def fake_ipa_inprocess(krb5_lab: KerberosLab, tmp_path: Path) -> Iterator[Any]:
    """FakeIPAServer in this process (real Engine); handy to poke at ``server.app``."""
    from novajoin.fakeipa.server import FakeIPAServer

    with FakeIPAServer(
        keytab=krb5_lab.http_keytab,
        realm=krb5_lab.realm,
        fqdn=krb5_lab.ipa_fqdn,
        state_dir=tmp_path / "state",
    ) as server:
        yield server


@pytest.fixture
def nova_negotiate(krb5_lab: KerberosLab) -> Callable[..., tuple[gssapi.SecurityContext, str]]:
    """``ctx, header = nova_negotiate(mech=SPNEGO)``: a fresh initiator context and
    its ``Negotiate <b64>`` header, from the nova keytab in a private MEMORY ccache."""
    counter = iter(range(1_000_000))

    def make(
        mech: gssapi.OID = SPNEGO, target: str | None = None
    ) -> tuple[gssapi.SecurityContext, str]:
        creds = gssapi.Credentials(
            usage="initiate",
            name=gssapi.Name(krb5_lab.nova_principal, gssapi.NameType.kerberos_principal),
            store={
                "client_keytab": str(krb5_lab.nova_keytab),
                "ccache": f"MEMORY:fakeipa-test-{os.getpid()}-{next(counter)}",
            },
        )
        ctx = gssapi.SecurityContext(
            name=gssapi.Name(
                target or f"HTTP@{krb5_lab.ipa_fqdn}", gssapi.NameType.hostbased_service
            ),
            creds=creds,
            usage="initiate",
            mech=mech,
            flags=gssapi.RequirementFlag.mutual_authentication
            | gssapi.RequirementFlag.out_of_sequence_detection,
        )
        token = ctx.step()
        return ctx, "Negotiate " + base64.b64encode(token).decode()

    return make


FAST_BACKOFF = Backoff(base=0.01, cap=0.05)


@pytest.fixture
def make_client(fake_ipa: FakeIPA) -> Iterator[Callable[..., IPAClient]]:
    """IPAClients authenticated by the lab's nova keytab, closed at teardown."""
    clients: list[IPAClient] = []

    def make(servers: Any = None, **kwargs: Any) -> IPAClient:
        kwargs.setdefault("auth", KerberosAuth(fake_ipa.lab.nova_principal,
                                               fake_ipa.lab.nova_keytab))
        kwargs.setdefault("ca_file", fake_ipa.ca_file)
        kwargs.setdefault("backoff", FAST_BACKOFF)
        kwargs.setdefault("timeout", 10.0)
        client = IPAClient(servers or IPAServer(fake_ipa.url, name=fake_ipa.fqdn), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ipa(make_client: Callable[..., IPAClient]) -> IPAClient:
    """One IPAClient on the simulator (the nova keytab), for tests that need just one."""
    return make_client()
