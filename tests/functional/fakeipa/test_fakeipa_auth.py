"""Authentication of the simulator: Negotiate (SPNEGO and raw krb5), sessions, passwords."""

from __future__ import annotations

import base64
import secrets
import time

import gssapi
import pytest

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
_OID_DER = {
    SPNEGO.dotted_form: bytes.fromhex("06062b0601050502"),
    KRB5.dotted_form: bytes.fromhex("06092a864886f712010202"),
}


def test_unauthenticated_requests_get_401_negotiate(fake_ipa, rpc_body):
    with fake_ipa.client() as client:
        for url in (fake_ipa.session_json_url, fake_ipa.json_url):
            r = client.post(url, json=rpc_body("ping"))
            assert r.status_code == 401, url
            assert r.headers["WWW-Authenticate"] == "Negotiate"
        r = client.post(fake_ipa.login_kerberos_url)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Negotiate"
    assert fake_ipa.admin.calls() == []


@pytest.mark.parametrize("mech", [SPNEGO, KRB5], ids=["spnego", "krb5"])
def test_kerberos_login_sets_secure_cookie_and_mutual_token(
    fake_ipa, nova_negotiate, mutual_token, rpc_body, mech
):
    ctx, header = nova_negotiate(mech=mech)
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.login_kerberos_url, headers={"Authorization": header})
        assert r.status_code == 200
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("ipa_session=")
        attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
        assert "secure" in attrs
        assert "httponly" in attrs
        assert "path=/ipa" in attrs
        # The server proves its identity: the client context completes.
        ctx.step(mutual_token(r))
        assert ctx.complete
        # The initiator token really was of the requested kind (its OID leads it).
        sent = base64.b64decode(header.split()[1])
        assert sent[:20].find(_OID_DER[mech.dotted_form]) != -1

        r = client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
        assert r.status_code == 200
        body = r.json()
        assert body["error"] is None
        assert body["principal"] == fake_ipa.lab.nova_principal
        assert body["id"] == 0
    [call] = fake_ipa.admin.calls()
    assert call["principal"] == fake_ipa.lab.nova_principal
    assert call["endpoint"] == "/session/json"
    assert call["outcome"] == "ok"


def test_negotiate_on_json_endpoint(fake_ipa, nova_negotiate, mutual_token, rpc_body):
    ctx, header = nova_negotiate()
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.json_url, json=rpc_body("ping"),
                        headers={"Authorization": header})
        assert r.status_code == 200
        assert r.json()["principal"] == fake_ipa.lab.nova_principal
        ctx.step(mutual_token(r))
        assert ctx.complete
        # mod_auth_gssapi also hands out a session usable on the session endpoint.
        r = client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
        assert r.status_code == 200
        assert r.json()["error"] is None


def test_garbage_or_foreign_tokens_are_refused(fake_ipa, nova_negotiate, rpc_body):
    # A valid ticket, but for another service: the simulator has no key for it.
    other = f"other-{secrets.token_hex(4)}.example.test"
    fake_ipa.lab.add_principal(f"HTTP/{other}")
    _, foreign = nova_negotiate(target=f"HTTP@{other}")
    with fake_ipa.client() as client:
        for header in ("Negotiate AAAA", "Negotiate !!notbase64", foreign):
            r = client.post(fake_ipa.login_kerberos_url, headers={"Authorization": header})
            assert r.status_code == 401, header[:20]
            r = client.post(fake_ipa.json_url, json=rpc_body("ping"),
                            headers={"Authorization": header})
            assert r.status_code == 401
        assert "ipa_session" not in client.cookies
    assert fake_ipa.admin.calls() == []


def test_forged_or_expired_session_cookie_is_refused(fake_ipa, login, rpc_body):
    with fake_ipa.client() as client:
        client.cookies.set("ipa_session", "MagBearerToken=forged", domain="127.0.0.1")
        r = client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Negotiate"
    client = login(fake_ipa)
    assert client.post(fake_ipa.session_json_url, json=rpc_body("ping")).status_code == 200
    assert fake_ipa.admin.expire_sessions() >= 1
    assert client.post(fake_ipa.session_json_url, json=rpc_body("ping")).status_code == 401


def test_password_login(fake_ipa, rpc_body):
    lab = fake_ipa.lab
    form = {"user": "admin", "password": lab.admin_password}
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.login_password_url, data=form)
        assert r.status_code == 200
        assert "secure" in r.headers["Set-Cookie"].lower()
        r = client.post(fake_ipa.session_json_url, json=rpc_body("ping"))
        assert r.json()["principal"] == lab.admin_principal


def test_password_login_wrong_password_or_user(fake_ipa):
    with fake_ipa.client() as client:
        for form in ({"user": "admin", "password": "wrong-password-123"},
                     {"user": "nobody", "password": "whatever-456"}):
            r = client.post(fake_ipa.login_password_url, data=form)
            assert r.status_code == 401
            assert r.headers["X-IPA-Rejection-Reason"] == "invalid-password"
            assert "ipa_session" not in client.cookies


def test_password_login_bad_requests(fake_ipa):
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.login_password_url, data={"user": "admin"})
        assert r.status_code == 400
        assert "no password specified" in r.text
        r = client.post(fake_ipa.login_password_url, json={"user": "admin", "password": "x"})
        assert r.status_code == 400
        assert "x-www-form-urlencoded" in r.text


def test_insecure_http_cookie_is_not_secure(fake_ipa_factory, nova_negotiate):
    ipa = fake_ipa_factory("--insecure-http")
    assert ipa.url.startswith("http://")
    _, header = nova_negotiate()
    with ipa.client() as client:
        r = client.post(ipa.login_kerberos_url, headers={"Authorization": header})
        assert r.status_code == 200
        assert "secure" not in r.headers["Set-Cookie"].lower()


def test_session_expires_after_inactivity(fake_ipa_factory, login, rpc_body):
    ipa = fake_ipa_factory("--session-timeout", "0.6")
    client = login(ipa)
    for _ in range(3):  # activity keeps the session alive past the timeout
        assert client.post(ipa.session_json_url, json=rpc_body("ping")).status_code == 200
        time.sleep(0.3)
    time.sleep(0.8)
    r = client.post(ipa.session_json_url, json=rpc_body("ping"))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Negotiate"
