"""Injected faults and latency, switched on through the admin interface."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from novajoin.fakeipa.adminclient import AdminError


def _ping(client, ipa, rpc_body, method="ping"):
    return client.post(ipa.session_json_url, json=rpc_body(method))


def test_http500_fault(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("http500", count=2)
    for _ in range(2):
        r = _ping(client, fake_ipa, rpc_body)
        assert r.status_code == 500
        assert "Internal Server Error" in r.text
        assert r.headers["Content-Type"].startswith("text/html")
    assert _ping(client, fake_ipa, rpc_body).status_code == 200
    faults = [c["fault"] for c in fake_ipa.admin.calls()]
    assert faults == ["http500", "http500", None]


def test_reset_fault_drops_the_connection(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("reset", count=1)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        _ping(client, fake_ipa, rpc_body)
    # The next request (new connection) works: the fault fired once.
    assert _ping(client, fake_ipa, rpc_body).json()["error"] is None


def test_aci_fault_only_for_listed_commands(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("aci", count=5, commands=["host_add"])
    assert _ping(client, fake_ipa, rpc_body).json()["error"] is None
    r = client.post(fake_ipa.session_json_url,
                    json=rpc_body("host_add/1", ["h1.example.test"], force=True))
    assert r.status_code == 200
    error = r.json()["error"]
    assert (error["code"], error["name"]) == (2100, "ACIError")
    assert "h1.example.test" not in str(fake_ipa.admin.state())


def test_expire_session_fault(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("expire_session", count=1)
    r = _ping(client, fake_ipa, rpc_body)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Negotiate"
    # Logging in again works and the fault is used up.
    client2 = login(fake_ipa)
    assert _ping(client2, fake_ipa, rpc_body).status_code == 200


def test_hang_fault_delays_answer(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("hang", count=1, seconds=0.4)
    started = time.monotonic()
    r = _ping(client, fake_ipa, rpc_body)
    assert time.monotonic() - started >= 0.4
    assert r.json()["error"] is None
    fake_ipa.admin.inject_fault("hang", count=1, seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(fake_ipa.session_json_url, json=rpc_body("ping"), timeout=0.2)


def test_fault_by_duration_expires(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.inject_fault("http500", duration=0.3)
    assert _ping(client, fake_ipa, rpc_body).status_code == 500
    assert _ping(client, fake_ipa, rpc_body).status_code == 500
    time.sleep(0.35)
    assert _ping(client, fake_ipa, rpc_body).status_code == 200
    assert fake_ipa.admin.faults() == []


def test_login_faults_need_on_login(fake_ipa, nova_negotiate, login, rpc_body):
    fake_ipa.admin.inject_fault("http500", count=1)
    login(fake_ipa)  # not hit: the fault is for JSON-RPC calls only
    fake_ipa.admin.clear_faults()
    fake_ipa.admin.inject_fault("http500", count=1, on_login=True)
    _, header = nova_negotiate()
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.login_kerberos_url, headers={"Authorization": header})
        assert r.status_code == 500
    fake_ipa.admin.inject_fault("reset", count=1, on_login=True)
    _, header = nova_negotiate()
    with fake_ipa.client() as client, pytest.raises((httpx.ReadError,
                                                     httpx.RemoteProtocolError)):
        client.post(fake_ipa.login_kerberos_url, headers={"Authorization": header})


def test_invalid_fault_specs_are_refused(fake_ipa):
    for spec in ({"kind": "explode"}, {"kind": "hang"}, {"kind": "aci", "count": -1},
                 {"kind": "aci", "on_login": True}, {"kind": "aci", "bogus": 1}):
        with pytest.raises(AdminError) as info:
            fake_ipa.admin._call("POST", "/faults", json=spec)
        assert info.value.status == 400


def test_latency_is_applied(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    fake_ipa.admin.set_latency(0.25, jitter=0.05)
    started = time.monotonic()
    assert _ping(client, fake_ipa, rpc_body).json()["error"] is None
    assert time.monotonic() - started >= 0.25
    [call] = fake_ipa.admin.calls()
    assert call["duration"] >= 0.25


def test_max_concurrent_serialises_commands(fake_ipa, login, rpc_body):
    fake_ipa.admin.set_latency(0.2, max_concurrent=1)
    clients = [login(fake_ipa) for _ in range(3)]
    results: list[int] = []

    def call(client):
        results.append(_ping(client, fake_ipa, rpc_body).status_code)

    started = time.monotonic()
    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200, 200, 200]
    # One at a time: three delays back to back.
    assert time.monotonic() - started >= 0.6
