"""JSON-RPC protocol details of the simulator, answered the way FreeIPA answers."""

from __future__ import annotations

import pytest


def _error(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["result"] is None
    return body["error"]


def test_bad_referer_session_endpoint_is_http_400(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    for referer in ("https://127.0.0.1/ipa", f"https://{fake_ipa.fqdn}:{fake_ipa.port}/ipa",
                    f"http://{fake_ipa.fqdn}/ipa", "https://evil.example.test/ipa"):
        r = client.post(fake_ipa.session_json_url, json=rpc_body("ping"),
                        headers={"Referer": referer})
        assert r.status_code == 400, referer
    # Missing Referer too (httpx would send the client default otherwise).
    del client.headers["Referer"]
    assert client.post(fake_ipa.session_json_url, json=rpc_body("ping")).status_code == 400
    assert fake_ipa.admin.calls() == []


def test_bad_referer_json_endpoint_is_error_911(fake_ipa, nova_negotiate, rpc_body):
    _, header = nova_negotiate()
    with fake_ipa.client() as client:
        r = client.post(fake_ipa.json_url, json=rpc_body("ping"),
                        headers={"Authorization": header, "Referer": "https://127.0.0.1/ipa"})
        error = _error(r)
        assert error["code"] == 911
        assert error["name"] == "RefererError"
        # The session from that Negotiate works, still with a bad Referer -> 911.
        r = client.post(fake_ipa.json_url, json=rpc_body("ping"),
                        headers={"Referer": "https://ipa.other.test/ipa"})
        assert _error(r)["code"] == 911


def test_bad_referer_login_is_http_400(fake_ipa, nova_negotiate):
    _, header = nova_negotiate()
    with fake_ipa.client(headers={"Referer": "https://127.0.0.1/ipa"}) as client:
        r = client.post(fake_ipa.login_kerberos_url, headers={"Authorization": header})
        assert r.status_code == 400
        r = client.post(fake_ipa.login_password_url,
                        data={"user": "admin", "password": fake_ipa.lab.admin_password})
        assert r.status_code == 400
        assert "ipa_session" not in client.cookies


def test_wrong_content_type_is_unknown_command(fake_ipa, login):
    client = login(fake_ipa)
    r = client.post(fake_ipa.session_json_url, content=b'{"method": "ping", "params": [[], {}]}',
                    headers={"Content-Type": "text/plain"})
    error = _error(r)
    assert error["code"] == 905
    assert error["name"] == "CommandError"


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b"[]", b'{"params": [[], {}]}', b'{"method": "ping"}',
     b'{"method": "ping", "params": {}}', b'{"method": "ping", "params": [[]]}',
     b'{"method": "ping", "params": [{}, {}]}', b'{"method": "ping", "params": [[], []]}'],
)
def test_malformed_requests_are_json_error(fake_ipa, login, payload):
    client = login(fake_ipa)
    r = client.post(fake_ipa.session_json_url, content=payload,
                    headers={"Content-Type": "application/json"})
    error = _error(r)
    assert (error["code"], error["name"]) == (909, "JSONError")


def test_unknown_command_and_misspelt_option(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    r = client.post(fake_ipa.session_json_url, json=rpc_body("host_addd", ["a.example.test"]))
    assert _error(r)["code"] == 905
    r = client.post(fake_ipa.session_json_url,
                    json=rpc_body("host_add", ["a.example.test"], forcee=True))
    error = _error(r)
    assert (error["code"], error["name"]) == (3005, "OptionError")
    outcomes = [(c["method"], c["code"]) for c in fake_ipa.admin.calls()]
    assert outcomes == [("host_addd", 905), ("host_add", 3005)]


def test_command_result_and_id_round_trip(fake_ipa, login, rpc_body):
    client = login(fake_ipa)
    body = rpc_body("host_add/1", ["web1.example.test"], force=True)
    body["id"] = 42
    r = client.post(fake_ipa.session_json_url, json=body)
    data = r.json()
    assert data["error"] is None
    assert data["id"] == 42
    assert data["version"]
    assert data["result"]["value"] == "web1.example.test"
    hosts = str(fake_ipa.admin.state())
    assert "web1.example.test" in hosts


def test_unknown_path_and_method(fake_ipa, login):
    client = login(fake_ipa)
    assert client.post(fake_ipa.url + "/nothing-here", json={}).status_code == 404
    r = client.get(fake_ipa.session_json_url)
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    # The kept-alive connection stays usable after error answers.
    assert client.post(fake_ipa.url + "/session/xyz", content=b"x" * 100).status_code == 404


def test_host_find_in_a_batch_lists_managed_hosts_with_all(fake_ipa, login, rpc_body):
    """What a delete's round trip 1 reads: ``managing_host`` (raw: ``managing`` DNs)."""
    client = login(fake_ipa)

    def rpc(method, args=None, **options):
        r = client.post(fake_ipa.session_json_url, json=rpc_body(method, args, **options))
        assert r.json()["error"] is None, r.text
        return r.json()["result"]

    for name in ("vm1.example.test", "vip.example.test"):
        rpc("host_add", [name], force=True, description=f"owner of {name}")
    rpc("host_add_managedby", ["vip.example.test"], host=["vm1.example.test"])
    items = [{"method": "host_find", "params": [["owner of vm1"], options]}
             for options in ({"all": True, "no_members": True}, {"all": True, "raw": True},
                             {"no_members": True})]
    [full], [raw], [plain] = (item["result"] for item in rpc("batch", items)["results"])
    assert full["managing_host"] == ["vip.example.test", "vm1.example.test"]
    assert raw["managing"] == [
        "fqdn=vip.example.test,cn=computers,cn=accounts,dc=example,dc=test",
        "fqdn=vm1.example.test,cn=computers,cn=accounts,dc=example,dc=test"]
    assert "managing_host" not in plain and "managing" not in plain
