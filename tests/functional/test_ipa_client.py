"""IPAClient against the IPA simulator over HTTPS with real Kerberos.

The simulator (``fake_ipa``) is reset before every test; the client logs in
with the nova keytab from the lab KDC, exactly as novajoin does in
production, and faults are injected through the simulator's admin API.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from novajoin.ipa import (
    AuthenticationFailed,
    IPAClient,
    IPAServer,
    KerberosAuth,
    PasswordAuth,
    TransportError,
    errors,
)

DOMAIN_HOST = "vm-{}.example.test"


@pytest.fixture
def client(make_client: Callable[..., IPAClient]) -> IPAClient:
    return make_client()


def _calls(fake_ipa: Any, method: str) -> list[dict[str, Any]]:
    return [c for c in fake_ipa.admin.calls() if (c["method"] or "").split("/")[0] == method]


def _client_logins(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1 for r in caplog.records
        if r.name == "novajoin.ipa" and r.getMessage().startswith("IPA login")
        and "outcome=ok" in r.getMessage()
    )


def _server_logins(fake_ipa: Any, principal: str) -> int:
    return len(re.findall(rf"login_kerberos: {re.escape(principal)} logged in",
                          fake_ipa.log_text()))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the main path ------------------------------------------------------------


def test_keytab_client_creates_shows_enrolls_and_deletes_a_host(
    fake_ipa: Any, client: IPAClient
) -> None:
    fqdn = DOMAIN_HOST.format("lifecycle")
    before = os.environ.get("KRB5CCNAME")
    added = client.call("host_add", fqdn, force=True, random=True)
    assert added["value"] == fqdn
    otp = added["result"]["randompassword"]
    assert isinstance(otp, str) and otp
    shown = client.call("host_show", fqdn)["result"]
    assert shown["has_password"] is True and shown["has_keytab"] is False
    assert "randompassword" not in shown

    fake_ipa.admin.enroll(fqdn, otp)
    shown = client.call("host_show", fqdn)["result"]
    assert shown["has_keytab"] is True and shown["has_password"] is False

    deleted = client.call("host_del", fqdn, updatedns=True)
    assert deleted["value"] == [fqdn] or deleted["value"] == fqdn
    with pytest.raises(errors.NotFound):
        client.call("host_show", fqdn)
    assert os.environ.get("KRB5CCNAME") == before  # private ccache, no env change
    principals = {c["principal"] for c in fake_ipa.admin.calls()}
    assert principals == {fake_ipa.lab.nova_principal}


def test_ping_and_batch(fake_ipa: Any, client: IPAClient) -> None:
    assert "IPA server version" in client.ping()["summary"]
    fqdn = DOMAIN_HOST.format("batch")
    client.call("host_add", fqdn, force=True)
    items = client.batch([("host_show", [fqdn]), ("host_show", ["missing.example.test"])])
    assert items[0].ok and items[0].result["result"]["fqdn"] == [fqdn]
    assert isinstance(items[1].error, errors.NotFound)
    assert len(_calls(fake_ipa, "batch")) == 1


# -- typed errors ---------------------------------------------------------------


def _enrolled_host(fake_ipa: Any, client: IPAClient, name: str) -> str:
    fqdn = DOMAIN_HOST.format(name)
    otp = client.call("host_add", fqdn, force=True, random=True)["result"]["randompassword"]
    fake_ipa.admin.enroll(fqdn, otp)
    return fqdn


ERROR_CASES: dict[str, tuple[type[errors.IPAError], str]] = {
    "not-found": (errors.NotFound, "host_show"),
    "duplicate": (errors.DuplicateEntry, "host_add"),
    "validation": (errors.ValidationError, "host_mod"),
    "aci": (errors.ACIError, "host_show"),
    "empty-modlist": (errors.EmptyModlist, "host_mod"),
    "dns-not-a-record": (errors.DNSNotARecordError, "host_add"),
    "option": (errors.OptionError, "host_show"),
    "command": (errors.CommandError, "host_teleport"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_ipa_errors_arrive_typed_and_are_not_retried(
    case: str, fake_ipa: Any, client: IPAClient
) -> None:
    cls, method = ERROR_CASES[case]
    fqdn = DOMAIN_HOST.format(case)
    if case in ("duplicate", "aci", "option"):
        client.call("host_add", fqdn, force=True)
    if case in ("validation", "empty-modlist"):
        fqdn = _enrolled_host(fake_ipa, client, case)
    if case == "aci":
        fake_ipa.admin.inject_fault("aci", commands=["host_show"])
    calls = {
        "not-found": lambda: client.call("host_show", fqdn),
        "duplicate": lambda: client.call("host_add", fqdn, force=True),
        "validation": lambda: client.call("host_mod", fqdn, userpassword="Secret-OTP-1"),
        "aci": lambda: client.call("host_show", fqdn),
        "empty-modlist": lambda: client.call("host_mod", fqdn),
        "dns-not-a-record": lambda: client.call("host_add", fqdn),
        "option": lambda: client.call("host_show", fqdn, no_such_option=True),
        "command": lambda: client.call("host_teleport", fqdn),
    }
    seq = fake_ipa.admin.last_call_seq()
    with pytest.raises(cls) as info:
        calls[case]()
    exc = info.value
    assert type(exc) is cls and exc.code == cls.code and exc.attempts == 1
    sent = [c for c in fake_ipa.admin.calls(since=seq)
            if (c["method"] or "").split("/")[0] == method]
    assert len(sent) == 1  # a command error is never retried
    assert sent[0]["code"] == cls.code


def test_validation_on_enrolled_host_carries_ipa_message(
    fake_ipa: Any, client: IPAClient
) -> None:
    fqdn = _enrolled_host(fake_ipa, client, "otp-again")
    with pytest.raises(errors.ValidationError, match="enrolled host"):
        client.call("host_mod", fqdn, random=True)


# -- transport faults -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_injected_faults_recover_within_retries(
    kind: str, fake_ipa: Any, make_client: Callable[..., IPAClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    client = make_client(connect_retries=3)
    client.ping()
    fake_ipa.admin.inject_fault(kind, count=3, commands=["ping"])
    assert "summary" in client.ping()
    pings = _calls(fake_ipa, "ping")
    assert [c["fault"] for c in pings] == [None, kind, kind, kind, None]
    assert any("attempt=4" in r.getMessage() and "outcome=ok" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_injected_faults_beyond_retries_fail(
    kind: str, fake_ipa: Any, make_client: Callable[..., IPAClient]
) -> None:
    client = make_client(connect_retries=2)
    client.ping()
    fake_ipa.admin.inject_fault(kind, count=5, commands=["ping"])
    with pytest.raises(TransportError, match="after 3 attempt"):
        client.ping()
    assert len(_calls(fake_ipa, "ping")) == 1 + 3


def test_retried_write_reports_attempts(fake_ipa: Any, client: IPAClient) -> None:
    """A reset after host_add: the retry meets DuplicateEntry with attempts=2."""
    fqdn = DOMAIN_HOST.format("retried")
    client.call("host_add", fqdn, force=True)  # as if the first attempt had succeeded
    fake_ipa.admin.inject_fault("reset", count=1, commands=["host_add"])
    with pytest.raises(errors.DuplicateEntry) as info:
        client.call("host_add", fqdn, force=True)
    assert info.value.attempts == 2


def test_login_fault_is_retried(fake_ipa: Any, client: IPAClient) -> None:
    fake_ipa.admin.inject_fault("http500", count=2, on_login=True)
    assert "summary" in client.ping()


def test_deadline_bounds_a_hanging_server(
    fake_ipa: Any, make_client: Callable[..., IPAClient]
) -> None:
    client = make_client(deadline=0.5)
    client.ping()
    fake_ipa.admin.inject_fault("hang", count=5, seconds=1.5, commands=["ping"])
    began = time.monotonic()
    with pytest.raises(TransportError, match="deadline"):
        client.ping()
    assert time.monotonic() - began < 1.2
    # Let the hung handlers finish so that their late call-log entries do not
    # land in the next test's log.
    fake_ipa.admin.clear_faults()
    time.sleep(max(0.0, began + 1.8 - time.monotonic()))


# -- sessions -------------------------------------------------------------------


def test_expired_session_renegotiates_exactly_once(
    fake_ipa: Any, client: IPAClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    principal = fake_ipa.lab.nova_principal
    start = _server_logins(fake_ipa, principal)
    for _ in range(5):
        client.ping()
    assert _client_logins(caplog) == 1
    fake_ipa.admin.expire_sessions()
    for _ in range(5):
        client.ping()
    assert _client_logins(caplog) == 2
    assert _server_logins(fake_ipa, principal) - start == 2
    assert len(_calls(fake_ipa, "ping")) == 10


def test_session_expiry_under_concurrency_costs_one_login(
    fake_ipa: Any, client: IPAClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    client.ping()
    fake_ipa.admin.expire_sessions()
    barrier = threading.Barrier(16)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            client.ping()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert _client_logins(caplog) == 2


def test_expired_ticket_is_reacquired_from_the_keytab(
    fake_ipa: Any, make_client: Callable[..., IPAClient], tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A TGT that expired between two logins is renewed from the client keytab."""
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    lab = fake_ipa.lab
    kadmin = shutil.which("kadmin.local") or shutil.which("kadmin.local", path="/usr/sbin")
    if kadmin is None:
        pytest.skip("kadmin.local not installed")
    principal = lab.add_principal(f"short{os.getpid()}/novajoin.example.test")
    subprocess.run(
        [kadmin, "-r", lab.realm, "-q", f"modprinc -maxlife 2 {principal}"],
        env={**os.environ, **lab.env()}, check=True, capture_output=True, timeout=30,
    )
    keytab = lab.export_keytab(principal, tmp_path / "short.keytab")
    client = make_client(auth=KerberosAuth(principal, keytab))
    client.ping()
    time.sleep(2.5)  # the TGT in the private ccache has expired now
    fake_ipa.admin.expire_sessions()
    client.ping()
    assert _client_logins(caplog) == 2
    assert [c["principal"] for c in _calls(fake_ipa, "ping")] == [principal, principal]


# -- failover -------------------------------------------------------------------


def test_unreachable_server_fails_over_to_the_next(
    fake_ipa: Any, make_client: Callable[..., IPAClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    dead = IPAServer(f"https://127.0.0.1:{_closed_port()}/ipa", name=fake_ipa.fqdn)
    live = IPAServer(fake_ipa.url, name=fake_ipa.fqdn)
    client = make_client([dead, live])
    began = time.monotonic()
    client.ping()
    client.ping()
    assert time.monotonic() - began < 5
    assert len(_calls(fake_ipa, "ping")) == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "novajoin.ipa"]
    retries = [m for m in messages if m.startswith("IPA ping") and "retry (ConnectError" in m]
    assert len(retries) == 1  # the second call went straight to the live server


# -- load -----------------------------------------------------------------------


def test_32_threads_share_one_client_for_1000_calls(
    fake_ipa: Any, client: IPAClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="novajoin.ipa")
    fqdn = DOMAIN_HOST.format("load")
    client.call("host_add", fqdn, force=True)
    total, threads_n = 1000, 32
    per_thread = [total // threads_n + (1 if i < total % threads_n else 0)
                  for i in range(threads_n)]
    failures: list[BaseException] = []
    done = []

    def worker(count: int) -> None:
        for i in range(count):
            try:
                if i % 2:
                    client.ping()
                else:
                    assert client.call("host_show", fqdn)["value"] == fqdn
                done.append(1)
            except BaseException as exc:
                failures.append(exc)

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - began
    assert failures == []
    assert len(done) == total
    assert _client_logins(caplog) == 1
    calls = fake_ipa.admin.calls()
    assert len([c for c in calls if c["method"] in ("ping", "host_show")]) == total
    assert elapsed < 120


# -- password login and secrets ---------------------------------------------------


def test_password_login(fake_ipa: Any, make_client: Callable[..., IPAClient]) -> None:
    lab = fake_ipa.lab
    client = make_client(auth=PasswordAuth(lab.admin_principal.split("@")[0],
                                           lab.admin_password))
    assert "summary" in client.ping()
    assert {c["principal"] for c in fake_ipa.admin.calls()} == {lab.admin_principal}
    bad = make_client(auth=PasswordAuth("admin", "not-" + lab.admin_password))
    with pytest.raises(AuthenticationFailed) as info:
        bad.ping()
    assert lab.admin_password not in str(info.value)


def test_no_secret_in_debug_logs(
    fake_ipa: Any, make_client: Callable[..., IPAClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lab = fake_ipa.lab
    otp = "Otp-Secret-7a4c9e1b"
    admin = make_client(auth=PasswordAuth("admin", lab.admin_password))
    nova = make_client()
    fqdn = DOMAIN_HOST.format("secrets")
    nova.call("host_add", fqdn, force=True, userpassword=otp)
    random_otp = nova.call("host_mod", fqdn, random=True)["result"]["randompassword"]
    fake_ipa.admin.inject_fault("http500", count=1, commands=["host_show"])
    nova.call("host_show", fqdn)
    admin.ping()
    fake_ipa.admin.expire_sessions()
    admin.ping()
    nova.call("host_show", fqdn)
    fake_ipa.admin.enroll(fqdn, random_otp)
    with pytest.raises(errors.ValidationError) as info:
        nova.call("host_mod", fqdn, userpassword=otp)
    assert caplog.records, "nothing was logged at DEBUG"
    text = caplog.text + str(info.value) + repr(admin) + repr(nova)
    for secret in (otp, random_otp, lab.admin_password, "MagBearerToken", "Negotiate "):
        assert secret not in text


def test_pooled_connection_closed_by_server_is_survived(
    fake_ipa_factory: Any, make_client: Callable[..., IPAClient]
) -> None:
    """A kept-alive connection the server dropped while idle must not fail a call.

    The old novajoin answered 200 without an OTP in this case.  With
    connect_retries=0 the call may not lean on a retry budget: it must either
    detect the dead connection in the pool or resend once, and never twice.
    """
    ipa = fake_ipa_factory("--keepalive-timeout", "0.3")
    client = make_client(IPAServer(ipa.url, name=ipa.fqdn), ca_file=ipa.ca_file,
                         connect_retries=1)
    client.call("host_add", "idle.example.test", force=True)
    time.sleep(1.0)  # the server closes the idle kept-alive connection
    shown = client.call("host_show", "idle.example.test")
    assert shown["value"] == "idle.example.test"
    time.sleep(1.0)
    client.call("host_del", "idle.example.test")
    methods = [c["method"].split("/")[0] for c in ipa.admin.calls()]
    assert methods == ["host_add", "host_show", "host_del"]
