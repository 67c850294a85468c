"""Routing, the version document, error bodies and 503s of the in-process app."""

from __future__ import annotations

import pytest
from api_helpers import IPAUnavailable, call, valid_body

from novajoin.join.errors import IPACommandFailed, LookupUnavailable


def assert_error(response, status):
    assert response.status_int == status
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert set(error) == {"code", "title", "message"}
    assert error["code"] == status
    return error


def test_version_document(app):
    response = call(app, "GET", "/", headers={"Host": "join.example.test:9999"})
    assert response.status_int == 200
    assert response.json == {
        "versions": [{
            "id": "v1",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": "http://join.example.test:9999/v1/"}],
        }]
    }


def test_version_document_behind_proxy(app):
    response = call(app, "GET", "/", headers={
        "Host": "10.0.0.1:9999", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "join.example"
    })
    # http_proxy_to_wsgi is only honoured when enabled; default off keeps the direct URL
    assert response.json["versions"][0]["links"][0]["href"].endswith("/v1/")


def test_head_version(app):
    response = call(app, "HEAD", "/")
    assert response.status_int == 200
    assert response.body == b""


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/v1/", "POST"), ("PUT", "/v1", "POST"), ("DELETE", "/v1/", "POST"),
    ("POST", "/", "GET, HEAD"), ("PATCH", "/", "GET, HEAD"),
])
def test_405_with_allow(app, method, path, allow):
    response = call(app, method, path)
    assert_error(response, 405)
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize("path", ["/v2/", "/v1/x", "/v1x", "/index.html", "/v1//", "/%00"])
def test_404(app, path):
    assert_error(call(app, "POST", path, valid_body()), 404)
    assert_error(call(app, "GET", path), 404)


def test_happy_answer_and_headers(app):
    response = call(app, "POST", "/v1/", valid_body(hostname="web"))
    assert response.status_int == 200
    assert response.json["ipaotp"] == "OTP-SECRET-1"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["x-openstack-request-id"].startswith("req-")


@pytest.mark.parametrize("exc", [IPAUnavailable("down"), IPACommandFailed("aci", ipa_error="x"),
                                 LookupUnavailable("glance down")])
def test_transient_failures_are_503(app, join_service, exc):
    join_service.fail = exc
    response = call(app, "POST", "/v1/", valid_body())
    error = assert_error(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "try again" in error["message"]


def test_unexpected_exception_is_json_500_without_details(app, join_service):
    join_service.fail = RuntimeError("internal detail /etc/secret")
    response = call(app, "POST", "/v1/", valid_body())
    error = assert_error(response, 500)
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "server log" in error["message"]


def test_healthcheck(app, join_service):
    ok = call(app, "GET", "/healthcheck", headers={"Accept": "application/json"})
    assert ok.status_int == 200
    assert ok.json["reasons"] == ["IPA reachable"]
    join_service.healthy = False
    down = call(app, "GET", "/healthcheck", headers={"Accept": "application/json"})
    assert down.status_int == 503
    assert down.json["reasons"] == ["IPA unreachable"]
    assert call(app, "HEAD", "/healthcheck").status_int == 503


def test_healthcheck_never_raises(app, join_service):
    def boom():
        raise RuntimeError("x")

    join_service.check_ipa = boom
    assert call(app, "GET", "/healthcheck").status_int == 503


def test_access_log_has_no_body(app, caplog):
    caplog.set_level("DEBUG")
    call(app, "POST", "/v1/", valid_body(hostname="logged"))
    assert "OTP-SECRET-1" not in caplog.text
    access = [r.getMessage() for r in caplog.records if r.name == "novajoin.api.access"]
    assert any(line.startswith("POST /v1/ 200") for line in access)
