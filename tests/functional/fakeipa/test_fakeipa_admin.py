"""Admin interface: enrollment, state, call log (with no secret in it), reset."""

from __future__ import annotations

import secrets

import httpx
import pytest

from novajoin.fakeipa.adminclient import AdminError


def _add_host(client, ipa, rpc_body, fqdn, otp):
    r = client.post(ipa.session_json_url,
                    json=rpc_body("host_add/1", [fqdn], force=True, userpassword=otp))
    assert r.json()["error"] is None, r.text
    return r.json()


def test_enroll_with_right_and_wrong_otp(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    otp = "otp-" + secrets.token_hex(8)
    _add_host(client, fake_ipa, rpc_body, "vm1.example.test", otp)

    with pytest.raises(AdminError) as info:
        fake_ipa.admin.enroll("vm1.example.test", "not-" + otp)
    assert 400 <= info.value.status < 500
    assert info.value.error["code"]
    assert info.value.error["name"]

    with pytest.raises(AdminError) as info:
        fake_ipa.admin.enroll("nohost.example.test", otp)
    assert info.value.status == 404
    assert info.value.error["code"] == 4001

    entry = fake_ipa.admin.enroll("vm1.example.test", otp)
    assert otp not in str(entry)
    assert entry["has_keytab"] is True
    assert entry["has_password"] is False

    # The OTP is consumed: enrolling twice fails.
    with pytest.raises(AdminError):
        fake_ipa.admin.enroll("vm1.example.test", otp)


def test_call_log_has_principal_and_no_secret(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    otp = "otp-" + secrets.token_hex(12)
    _add_host(client, fake_ipa, rpc_body, "vm2.example.test", otp)
    fake_ipa.admin.enroll("vm2.example.test", otp)
    # A password login and a wrong one go through the log as well.
    with fake_ipa.client() as c2:
        assert c2.post(fake_ipa.login_password_url, data={
            "user": "admin", "password": fake_ipa.lab.admin_password}).status_code == 200
        assert c2.post(fake_ipa.login_password_url, data={
            "user": "admin", "password": "bad-" + otp}).status_code == 401

    # A misspelt secret option is refused (3005) and still not logged.
    typo = "typo-" + secrets.token_hex(12)
    r = client.post(fake_ipa.session_json_url,
                    json=rpc_body("host_mod/1", ["vm2.example.test"], userpasword=typo))
    assert r.json()["error"]["code"] == 3005

    calls = fake_ipa.admin.calls()
    [call] = [c for c in calls if c["method"] == "host_add/1"]
    assert call["principal"] == fake_ipa.lab.nova_principal
    assert call["outcome"] == "ok"
    assert call["params"][0] == ["vm2.example.test"]
    assert call["params"][1]["userpassword"] != otp

    raw_calls = httpx.get(fake_ipa.admin_url + "/calls").text
    log = fake_ipa.log_text()
    for secret in (otp, typo, fake_ipa.lab.admin_password, client.cookies["ipa_session"]):
        assert secret not in raw_calls
        assert secret not in log
    assert "Negotiate " not in log


def test_calls_since_and_clear(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    for _ in range(3):
        client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
    calls = fake_ipa.admin.calls()
    assert [c["method"] for c in calls] == ["ping"] * 3
    seqs = [c["seq"] for c in calls]
    assert seqs == sorted(seqs)
    assert [c["seq"] for c in fake_ipa.admin.calls(since=seqs[0])] == seqs[1:]
    fake_ipa.admin.clear_calls()
    assert fake_ipa.admin.calls() == []
    client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
    [call] = fake_ipa.admin.calls()
    assert call["seq"] > seqs[-1]  # sequence numbers are never reused


def test_reset_clears_everything(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    _add_host(client, fake_ipa, rpc_body, "vm3.example.test", "otp-" + secrets.token_hex(4))
    fake_ipa.admin.inject_fault("aci", count=10)
    fake_ipa.admin.set_latency(0.5)
    assert "vm3.example.test" in str(fake_ipa.admin.state())
    fake_ipa.admin.reset()
    assert "vm3.example.test" not in str(fake_ipa.admin.state())
    assert fake_ipa.admin.faults() == []
    assert fake_ipa.admin.calls() == []
    assert client.post(fake_ipa.session_json_url, json=rpc_body("ping")).status_code == 401


def test_admin_routes(fake_ipa):
    assert fake_ipa.admin.health() == {"status": "ok"}
    assert httpx.get(fake_ipa.admin_url + "/nope").status_code == 404
    assert httpx.get(fake_ipa.admin_url + "/reset").status_code == 405
    r = httpx.post(fake_ipa.admin_url + "/enroll", content=b"{bad")
    assert r.status_code == 400
    r = httpx.post(fake_ipa.admin_url + "/enroll", json={"fqdn": "x"})
    assert r.status_code == 400
    assert fake_ipa.admin.set_latency(0.0, max_concurrent=4)["max_concurrent"] == 4
