"""The listener itself: TLS, keep-alive idle timeout, concurrency, the CLI."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from novajoin.fakeipa.adminclient import AdminClient


def _raw_request(ipa, path="/ipa/session/json"):
    return (
        f"POST {path} HTTP/1.1\r\nHost: {ipa.fqdn}\r\nReferer: {ipa.referer}\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    ).encode()


def _tls_connect(ipa):
    ctx = ipa.ssl_context()
    raw = socket.create_connection(("127.0.0.1", ipa.port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=ipa.fqdn)


def _wait_gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_certificate_names_the_server(fake_ipa):
    with _tls_connect(fake_ipa) as conn:
        cert = conn.getpeercert()
    sans = dict((kind, value) for kind, value in cert["subjectAltName"])
    assert sans["DNS"] == fake_ipa.fqdn
    assert sans["IP Address"] == "127.0.0.1"
    # Verification against the wrong name fails, as with a real server.
    ctx = fake_ipa.ssl_context()
    raw = socket.create_connection(("127.0.0.1", fake_ipa.port), timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(raw, server_hostname="other.example.test")
    raw.close()


def test_keepalive_idle_timeout_closes_connection(fake_ipa_factory):
    ipa = fake_ipa_factory("--keepalive-timeout", "0.5")
    with _tls_connect(ipa) as conn:
        conn.sendall(_raw_request(ipa))
        first = conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 401")
        # Still open right after the answer (keep-alive) ...
        conn.sendall(_raw_request(ipa))
        assert conn.recv(65536).startswith(b"HTTP/1.1 401")
        # ... and closed by the server once idle past the timeout.
        time.sleep(1.0)
        conn.settimeout(5)
        try:
            conn.sendall(_raw_request(ipa))
            data = conn.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b""
        assert data == b""


def test_many_concurrent_clients(fake_ipa, login, rpc_body):
    """200 connections at once, each a TLS handshake and a session call."""
    cookie = login(fake_ipa).cookies["ipa_session"]
    fake_ipa.admin.set_latency(0.05)
    barrier = threading.Barrier(50, timeout=30)

    def one(i):
        with httpx.Client(verify=fake_ipa.ssl_context(), timeout=60,
                          headers={"Referer": fake_ipa.referer}) as client:
            client.cookies.set("ipa_session", cookie, domain="127.0.0.1")
            if i < 50:
                barrier.wait()
            return client.post(fake_ipa.session_json_url, json=rpc_body("ping")).status_code

    with ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(one, range(200), timeout=120))
    assert codes == [200] * 200
    assert len(fake_ipa.admin.calls()) == 200


def test_cli_ready_file_stdout_and_sigterm(krb5_lab, tmp_path):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "novajoin.cmd.fake_ipa", "--keytab", str(krb5_lab.http_keytab),
         "--fqdn", krb5_lab.ipa_fqdn, "--realm", krb5_lab.realm,
         "--state-dir", str(tmp_path / "state"), "--ready-file", str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert json.loads(ready.read_text()) == info
        assert info["pid"] == proc.pid
        assert info["url"].startswith("https://127.0.0.1:")
        assert info["url"].endswith("/ipa")
        assert (tmp_path / "state" / "ca.pem").samefile(info["ca_file"])
        with AdminClient(info["admin_url"]) as admin:
            assert admin.health()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not ready.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_refuses_non_loopback(krb5_lab):
    proc = subprocess.run(
        [sys.executable, "-m", "novajoin.cmd.fake_ipa", "--keytab", str(krb5_lab.http_keytab),
         "--listen", "0.0.0.0:0"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "127.0.0.1" in proc.stderr


def test_cli_with_own_lab(tmp_path):
    """``--lab DIR`` starts a KDC of its own and stops it on SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "novajoin.cmd.fake_ipa", "--lab", str(tmp_path / "lab"),
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        info = json.loads(proc.stdout.readline())
        assert info["realm"] == "EXAMPLE.TEST"
        kdc_pid = int((tmp_path / "lab" / "kdc.pid").read_text())
        with AdminClient(info["admin_url"]) as admin:
            assert admin.health()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not (tmp_path / "lab" / "kdc.pid").exists()
        assert not Path(f"/proc/{kdc_pid}").exists() or _wait_gone(kdc_pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_inprocess_server_context_manager(fake_ipa_inprocess, nova_negotiate):
    srv = fake_ipa_inprocess
    assert srv.url == f"https://127.0.0.1:{srv.port}/ipa"
    assert srv.admin_url == f"http://127.0.0.1:{srv.admin_port}"
    _, header = nova_negotiate()
    with httpx.Client(verify=ssl.create_default_context(cafile=str(srv.ca_file))) as client:
        r = client.post(srv.url + "/session/login_kerberos",
                        headers={"Authorization": header,
                                 "Referer": f"https://{srv.fqdn}/ipa"})
    assert r.status_code == 200
    assert len(srv.app.sessions) == 1
