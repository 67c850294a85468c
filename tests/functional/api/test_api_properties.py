"""Property: whatever arrives, the in-process app (real JoinService on the
simulator) never answers 5xx, and every 4xx has the JSON error shape."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import webob
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novajoin import conf as novajoin_conf
from novajoin.api import deploy
from novajoin.testing.novajoin_server import ipa_overrides, write_config

KEYS = ["project-id", "instance-id", "image-id", "user-data", "hostname", "metadata",
        "boot-roles"]
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)
# Mostly valid, so that many examples reach the domain layer and the simulator.
plausible = st.fixed_dictionaries(
    {
        "project-id": st.sampled_from(["0b8c1a4e6d1f4b0fa6a3d6d5c2b7e901", "p-1"])
        | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        "instance-id": st.uuids().map(str),
        "hostname": st.from_regex(r"[a-zA-Z0-9_.-]{1,70}", fullmatch=True)
        | st.text(min_size=1, max_size=80),
        "metadata": st.fixed_dictionaries(
            {"ipa_enroll": st.sampled_from(["True", "true", "TRUE", "false", "yes", ""])},
            optional={"other": st.text(max_size=20)},
        ),
    },
    optional={
        "image-id": st.none() | st.just("") | st.uuids().map(str),
        "user-data": st.none() | st.just("aGVsbG8="),
        "boot-roles": st.none() | st.just("member,service") | st.text(max_size=20),
    },
)
# Anything: each key may be of any JSON type.
wild = st.fixed_dictionaries(
    {},
    optional={key: json_values | st.text() for key in KEYS},
)
bodies = (
    plausible.map(lambda b: json.dumps(b).encode())
    | wild.map(lambda b: json.dumps(b).encode())
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=8)
    .map(lambda b: json.dumps(b).encode())
    | json_values.map(lambda b: json.dumps(b).encode())
    | st.binary(max_size=200)
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/xml"]
) | st.text(PRINTABLE, max_size=30)
accepts = st.sampled_from(["application/json", "*/*", "", "text/html"]) | st.text(PRINTABLE,
                                                                                 max_size=30)
methods = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
paths = st.sampled_from(["/v1/", "/v1", "/", "/v1/x", "/v2"]) | st.text(PRINTABLE, max_size=20)


@pytest.fixture(scope="module")
def app_and_ipa(_fake_ipa_shared: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from novajoin.join.otp import create_otp_key

    workdir = tmp_path_factory.mktemp("api-properties")
    key = workdir / "otp.key"
    create_otp_key(key)
    config = write_config(workdir / "join.conf", {
        "DEFAULT": {"auth_strategy": "noauth",
                    **ipa_overrides(_fake_ipa_shared, key)["DEFAULT"]},
    })
    conf = novajoin_conf.load(["--config-file", str(config)])
    ctx = deploy.build_context(conf)
    assert type(ctx.join_service).__name__ == "JoinService"
    _fake_ipa_shared.admin.reset()
    yield deploy.loadapp(ctx), _fake_ipa_shared
    ctx.close()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=methods, path=paths, body=bodies, content_type=content_types, accept=accepts)
def test_never_5xx(app_and_ipa, method, path, body, content_type, accept):
    app, _ = app_and_ipa
    if not path.startswith("/"):
        path = "/" + path
    environ_path = path.split("?", 1)[0]
    request = webob.Request.blank("/", method=method)
    request.environ["PATH_INFO"] = environ_path
    request.body = body
    request.environ["CONTENT_TYPE"] = content_type
    if accept:
        request.environ["HTTP_ACCEPT"] = accept
    response = request.get_response(app)
    assert response.status_int < 500, (response.status, response.text)
    if response.status_int >= 400 and method != "HEAD":
        _assert_error_shape(response)
    elif response.status_int == 200 and method == "POST":
        assert isinstance(response.json, dict)


def _assert_error_shape(response: webob.Response) -> None:
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["code"] == response.status_int
    assert isinstance(error["title"], str) and isinstance(error["message"], str)
    assert "Traceback" not in response.text


def test_valid_request_through_the_real_service(app_and_ipa):
    app, ipa = app_and_ipa
    body = {"project-id": "p1", "instance-id": str(uuid.uuid4()), "hostname": "prop-check",
            "image-id": None, "user-data": None, "metadata": {"ipa_enroll": "true"},
            "boot-roles": "service"}
    request = webob.Request.blank("/v1/", method="POST")
    request.body = json.dumps(body).encode()
    request.content_type = "application/json"
    response = request.get_response(app)
    assert response.status_int == 200, response.text
    answer = response.json
    ipa.admin.enroll(answer["hostname"], answer["ipaotp"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=plausible | wild)
def test_nova_shaped_bodies_are_200_or_400(app_and_ipa, body):
    """With nova's headers, a body is either answered (200) or refused as invalid (400)."""
    app, _ = app_and_ipa
    request = webob.Request.blank("/v1/", method="POST", headers={
        "Accept": "application/json", "User-Agent": "openstack-nova-vendordata"})
    request.body = json.dumps(body).encode()
    request.content_type = "application/json"
    response = request.get_response(app)
    assert response.status_int in (200, 400), (response.status, response.text)
    if response.status_int == 400:
        _assert_error_shape(response)
    else:
        answer = response.json
        assert isinstance(answer, dict)
        assert answer == {} or "hostname" in answer
