"""Request ids and proxy headers: the contract of oslo.middleware, kept on plain WSGI."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import webob
from api_helpers import call, valid_body

from novajoin import conf as novajoin_conf
from novajoin.api import request_id
from novajoin.api.deploy import direct_app

REQ_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
GLOBAL_ID = "req-11111111-2222-4333-8444-555555555555"


def _recording_app(seen: list[dict[str, Any]], headers: list[tuple[str, str]] | None = None):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [("Content-Type", "text/plain"), *(headers or [])])
        return [b"ok"]

    return app


def test_each_request_gets_a_new_id_in_environ_and_header() -> None:
    seen: list[dict[str, Any]] = []
    app = request_id.RequestId(_recording_app(seen))
    first = webob.Request.blank("/").get_response(app)
    second = webob.Request.blank("/").get_response(app)
    ids = [r.headers["x-openstack-request-id"] for r in (first, second)]
    assert all(REQ_ID.match(i) for i in ids)
    assert ids[0] != ids[1]
    assert [e["openstack.request_id"] for e in seen] == ids
    assert first.body == b"ok"
    assert len(first.headers.getall("x-openstack-request-id")) == 1


@pytest.mark.parametrize(("inbound", "kept"), [
    (GLOBAL_ID, True),
    ("req-not-a-uuid", False),
    (GLOBAL_ID + "x", False),
    ("", False),
])
def test_inbound_global_request_id_only_when_well_formed(inbound: str, kept: bool) -> None:
    seen: list[dict[str, Any]] = []
    app = request_id.RequestId(_recording_app(seen))
    response = webob.Request.blank(
        "/", headers={"X-Openstack-Request-Id": inbound}
    ).get_response(app)
    assert seen[0].get("openstack.global_request_id") == (inbound if kept else None)
    # The local id is always our own, never the caller's.
    assert response.headers["x-openstack-request-id"] != inbound


def test_an_id_set_by_the_app_is_not_duplicated() -> None:
    app = request_id.RequestId(_recording_app([], [("X-OpenStack-Request-ID", "req-app")]))
    response = webob.Request.blank("/").get_response(app)
    assert response.headers.getall("x-openstack-request-id") == ["req-app"]


def test_the_access_log_names_the_request_id(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="novajoin.api.access")
    response = call(app, "POST", "/v1/", valid_body())
    req_id = response.headers["x-openstack-request-id"]
    lines = [r.getMessage() for r in caplog.records if r.name == "novajoin.api.access"]
    assert lines == [f"POST /v1/ 200 {lines[0].split()[3]} req={req_id}"]


def test_error_answers_carry_the_request_id(app: Any) -> None:
    response = call(app, "GET", "/nowhere")
    assert response.status_int == 404
    assert REQ_ID.match(response.headers["x-openstack-request-id"])


def test_proxy_headers_are_honoured_when_enabled(tmp_path: Any, join_service: Any) -> None:
    path = tmp_path / "join.conf"
    path.write_text("[DEFAULT]\nauth_strategy = noauth\n"
                    "[oslo_middleware]\nenable_proxy_headers_parsing = true\n")
    conf = novajoin_conf.load(["--config-file", str(path)])
    app = direct_app(join_service, conf)
    response = call(app, "GET", "/", headers={
        "Host": "10.0.0.1:9999", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "join.example"
    })
    assert response.json["versions"][0]["links"][0]["href"] == "https://join.example/v1/"
    assert REQ_ID.match(response.headers["x-openstack-request-id"])
