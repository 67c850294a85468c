"""novajoin-server as nova sees it: a real subprocess on the IPA simulator."""

from __future__ import annotations

import json
import time

import httpx
import pytest

NOVA_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": "openstack-nova-vendordata",
}


def post(server, body, headers=NOVA_HEADERS, path="/v1/", timeout=10.0) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + path, content=content, headers=headers, timeout=timeout)


def assert_json_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == status
    assert error["title"] and error["message"]
    assert "Traceback" not in response.text
    return error


def test_enroll_happy_path(novajoin_server, fake_ipa, nova_body):
    server = novajoin_server(repeat_cache_seconds=1)
    body = nova_body(hostname="web1")
    response = post(server, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["hostname"] == "web1.example.test"
    assert answer["krb_realm"] == "EXAMPLE.TEST"
    assert answer["ipa_domain"] == "example.test"
    assert answer["ipa_server"] == fake_ipa.fqdn
    otp = answer["ipaotp"]
    assert len(otp) >= 16
    hosts = fake_ipa.admin.state()["hosts"]
    assert "web1.example.test" in json.dumps(hosts)
    # the simulator's ipa-client-install accepts the OTP we handed out
    fake_ipa.admin.enroll("web1.example.test", otp)
    # within the repeat window the process answers from memory (the documented trade-off)
    assert post(server, body).json()["ipaotp"] == otp
    time.sleep(1.2)
    # asked again after enrollment and the window: no OTP
    again = post(server, body).json()
    assert again.get("enrolled") is True
    assert "ipaotp" not in again
    # no secret in the server's log
    server.stop()
    log = server.log_text()
    assert otp not in log
    assert "web1.example.test" in log or body["instance-id"] in log


def test_same_otp_for_repeated_requests(novajoin_server, fake_ipa, nova_body):
    server = novajoin_server()
    body = nova_body()
    first = post(server, body).json()
    since = fake_ipa.admin.last_call_seq()
    second = post(server, body, path="/v1").json()
    assert first["ipaotp"] == second["ipaotp"]
    # by default a repeat within a few seconds costs IPA nothing (repeat_cache_seconds)
    assert fake_ipa.admin.calls(since) == []


def test_repeats_read_ipa_without_the_repeat_cache(novajoin_server, fake_ipa, nova_body):
    server = novajoin_server(repeat_cache_seconds=0)
    body = nova_body()
    first = post(server, body).json()
    since = fake_ipa.admin.last_call_seq()
    assert post(server, body).json()["ipaotp"] == first["ipaotp"]
    assert [c["method"] for c in fake_ipa.admin.calls(since)] == ["host_show"]


def test_not_requested_is_empty(novajoin_server, fake_ipa, nova_body):
    server = novajoin_server()
    response = post(server, nova_body(metadata={}))
    assert response.status_code == 200
    assert response.json() == {}
    assert set(fake_ipa.admin.state()["hosts"]) == {fake_ipa.fqdn}  # only IPA itself


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{not json", NOVA_HEADERS, 400),
        (b"[]", NOVA_HEADERS, 400),
        (b"{}", NOVA_HEADERS, 400),
        (b'{"instance-id": "x"}', {**NOVA_HEADERS, "Content-Type": "text/plain"}, 415),
        (b"{" + b" " * (300 * 1024) + b"}", NOVA_HEADERS, 413),
    ],
    ids=["malformed", "array", "missing-fields", "content-type", "oversized"],
)
def test_bad_requests_are_json_4xx(novajoin_server, content, headers, status):
    server = novajoin_server()
    assert_json_error(post(server, content, headers=headers), status)


def test_missing_field_names_it(novajoin_server, nova_body):
    server = novajoin_server()
    error = assert_json_error(post(server, nova_body(hostname=...)), 400)
    assert "hostname" in error["message"]


def test_version_document_and_routes(novajoin_server):
    server = novajoin_server()
    doc = httpx.get(server.url + "/").json()
    (version,) = doc["versions"]
    assert version["id"] == "v1"
    assert version["status"] == "CURRENT"
    assert version["links"][0]["href"] == server.url + "/v1/"
    response = httpx.get(server.url + "/v1/")
    assert_json_error(response, 405)
    assert response.headers["allow"] == "POST"
    assert_json_error(httpx.get(server.url + "/nowhere"), 404)
    assert "x-openstack-request-id" in response.headers


def test_healthcheck_reports_ipa(novajoin_server):
    server = novajoin_server()
    healthy = httpx.get(server.url + "/healthcheck", headers={"Accept": "application/json"})
    assert healthy.status_code == 200
    assert healthy.json()["reasons"] == ["IPA reachable"]


def test_ipa_down_is_503_fast(novajoin_server, fake_ipa_factory, nova_body):
    ipa = fake_ipa_factory()
    server = novajoin_server(url=ipa.url, cafile=ipa.ca_file)
    assert post(server, nova_body()).status_code == 200  # up: works
    ipa.stop()
    started = time.monotonic()
    response = post(server, nova_body(), timeout=10.0)
    elapsed = time.monotonic() - started
    error = assert_json_error(response, 503)
    assert "IPA" in error["message"]
    assert response.headers["retry-after"]
    assert elapsed < 5.0
    health = httpx.get(server.url + "/healthcheck", headers={"Accept": "application/json"})
    assert health.status_code == 503
    assert health.json()["reasons"] == ["IPA unreachable"]


def test_keystone_auth_without_token_is_401(novajoin_server, nova_body):
    from novajoin.testing.novajoin_server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    server = novajoin_server(
        {"keystone_authtoken": {"www_authenticate_uri": closed, "auth_url": closed,
                                "auth_type": "password", "username": "novajoin",
                                "password": "secret", "project_name": "service",
                                "user_domain_name": "Default",
                                "project_domain_name": "Default"}},
        auth_strategy="keystone",
    )
    response = post(server, nova_body())
    assert_json_error(response, 401)
    # version discovery and the healthcheck stay unauthenticated
    assert httpx.get(server.url + "/").status_code == 200
    assert httpx.get(server.url + "/healthcheck").status_code == 200


def test_sigterm_stops_cleanly(novajoin_server):
    server = novajoin_server()
    assert httpx.get(server.url + "/").status_code == 200
    assert server.stop() == 0
    assert "novajoin-server stopped" in server.log_text()


def test_wsgi_container_entry_point(fake_ipa, otp_key_file, tmp_path, monkeypatch, nova_body):
    """novajoin.api.wsgi builds the same app for any WSGI container."""
    import webob

    from novajoin.api import wsgi
    from novajoin.testing.novajoin_server import ipa_overrides, write_config

    config = write_config(tmp_path / "join.conf", {
        "DEFAULT": {"auth_strategy": "noauth", **ipa_overrides(fake_ipa, otp_key_file)["DEFAULT"]},
    })
    monkeypatch.setenv(wsgi.CONFIG_ENV, str(config))
    app = wsgi.init_application()
    request = webob.Request.blank("/v1/", method="POST")
    request.body = json.dumps(nova_body(hostname="wsgi1")).encode()
    request.content_type = "application/json"
    response = request.get_response(app)
    assert response.status_int == 200, response.text
    assert response.json["hostname"] == "wsgi1.example.test"
