"""Every malformed request body gets the right 4xx and a JSON error naming the problem."""

from __future__ import annotations

import json

import pytest
from api_helpers import call, valid_body

from novajoin.api import schemas

UUID = "6c4a43f4-0cb4-4c35-9c2f-1e0c5c0a0f33"


def without(key):
    body = valid_body()
    del body[key]
    return body


CASES = [
    # (id, body, expected status, words the message must contain)
    ("not-json", b"{nope", 400, "not valid JSON"),
    ("empty", b"", 400, "empty"),
    ("not-utf8", b'{"a": "\xff"}', 400, "UTF-8"),
    ("array", [], 400, "JSON object"),
    ("string", "text", 400, "JSON object"),
    ("null", None, 400, "JSON object"),
    ("deep", b"[" * 100000 + b"]" * 100000, 400, ""),
    ("no-instance-id", without("instance-id"), 400, "'instance-id' is required"),
    ("no-project-id", without("project-id"), 400, "'project-id' is required"),
    ("no-hostname", without("hostname"), 400, "'hostname' is required"),
    ("instance-id-not-uuid", valid_body(**{"instance-id": "abc"}), 400, "UUID"),
    ("instance-id-int", valid_body(**{"instance-id": 5}), 400, "'instance-id' must be a string"),
    ("project-id-bad", valid_body(**{"project-id": "a b"}), 400, "'project-id'"),
    ("project-id-long", valid_body(**{"project-id": "a" * 65}), 400, "'project-id'"),
    ("hostname-empty", valid_body(hostname=""), 400, "'hostname' is empty"),
    ("hostname-long", valid_body(hostname="h" * 256), 400, "'hostname' is too long"),
    ("hostname-list", valid_body(hostname=["a"]), 400, "'hostname' must be a string"),
    ("image-id-int", valid_body(**{"image-id": 1}), 400, "'image-id'"),
    ("metadata-list", valid_body(metadata=["a"]), 400, "'metadata' must be"),
    ("metadata-value-int", valid_body(metadata={"ipa_enroll": True}), 400,
     "'metadata[ipa_enroll]'"),
    ("metadata-too-many", valid_body(metadata={str(i): "" for i in range(129)}), 400, "128"),
    ("metadata-key-long", valid_body(metadata={"k" * 256: "v"}), 400, "key longer"),
    ("metadata-value-long", valid_body(metadata={"k": "v" * 256}), 400, "too long"),
    ("user-data-int", valid_body(**{"user-data": 5}), 400, "'user-data'"),
    ("user-data-not-b64", valid_body(**{"user-data": "<script>"}), 400, "'user-data'"),
    ("user-data-huge", valid_body(**{"user-data": "QQ==" * 20000}), 400, "'user-data' is too long"),
    ("boot-roles-list", valid_body(**{"boot-roles": ["a"]}), 400, "'boot-roles'"),
]


@pytest.mark.parametrize(("body", "status", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_malformed_bodies(app, join_service, body, status, words):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = call(app, "POST", "/v1/", raw)
    assert response.status_int == status, response.text
    error = response.json["error"]
    assert error["code"] == status
    assert words in error["message"]
    assert join_service.requests == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [(None, 415), ("text/plain", 415), ("application/x-www-form-urlencoded", 415),
     ("application/json; charset=UTF-8", 200), ("APPLICATION/JSON", 200)],
)
def test_content_type(app, content_type, status):
    response = call(app, "POST", "/v1/", valid_body(), content_type=content_type)
    assert response.status_int == status
    if status >= 400:
        assert response.json["error"]["code"] == status


def test_oversized_body_is_413_without_reading_it(app, join_service):
    body = b'{"x": "' + b"a" * (300 * 1024) + b'"}'
    response = call(app, "POST", "/v1/", body)
    assert response.status_int == 413
    assert response.json["error"]["title"] == "Request Entity Too Large" or \
        response.json["error"]["title"] == "Content Too Large"
    assert join_service.requests == []


def test_body_within_nova_limits_is_accepted(app, join_service):
    # the largest body nova itself can send passes: 64 KiB user-data, 128 items
    body = valid_body(**{"user-data": "QUFB" * 16383},
                      metadata={f"k{i:03d}" + "x" * 250: "v" * 255 for i in range(128)})
    body["metadata"]["ipa_enroll"] = "True"
    body["metadata"].pop(next(iter(body["metadata"])))
    response = call(app, "POST", "/v1/", body)
    assert response.status_int == 200, response.text


def test_accept_header(app):
    html = call(app, "POST", "/v1/", valid_body(), headers={"Accept": "text/html"})
    assert html.status_int == 406
    for accept in ("application/json", "*/*", "application/*", "garbage;;;"):
        assert call(app, "POST", "/v1/", valid_body(), headers={"Accept": accept}).status_int == 200


def test_request_mapping(app, join_service):
    body = valid_body(**{"instance-id": UUID.upper(), "image-id": "", "boot-roles": "a, b,,c",
                         "user-data": "aGVsbG8="})
    assert call(app, "POST", "/v1", body).status_int == 200
    (request,) = join_service.requests
    assert request.instance_id == UUID
    assert request.image_id is None
    assert request.boot_roles == ("a", "b", "c")
    assert request.user_data == "aGVsbG8="
    assert request.metadata == {"ipa_enroll": "True"}


def test_null_metadata_and_missing_optionals(app, join_service):
    body = {"instance-id": UUID, "project-id": "p1", "hostname": "h", "metadata": None}
    assert call(app, "POST", "/v1/", body).json == {}
    assert join_service.requests[0].metadata == {}


def test_unknown_keys_are_ignored(app):
    assert call(app, "POST", "/v1/", valid_body(**{"new-nova-key": [1, 2]})).status_int == 200


def test_schema_messages_never_echo_values():
    secret = "s3cr3t-value-" * 10
    with pytest.raises(schemas.SchemaError) as info:
        schemas.validate_vendordata(valid_body(metadata={"k": secret * 3}))
    assert secret not in str(info.value)


def _variants():
    """Bodies near every rule's edge, valid and not (types, lengths, patterns, nulls)."""
    base = valid_body()
    values = {
        "instance-id": [UUID, UUID.upper(), UUID + "\n", UUID[:-1], " " + UUID, 7, None],
        "project-id": ["p" * 64, "p" * 65, "a-b_C9", "a b", "", "p\n", 1.5, None],
        "hostname": ["h", "", "h" * 255, "h" * 256, ["h"], None],
        "image-id": [None, "", "i" * 255, "i" * 256, 3, {}],
        "user-data": [None, "", "YWJj\n", "a" * 65535, "a" * 65536, "YW*j", False],
        "boot-roles": [None, "", "member,reader", "r" * 8192, "r" * 8193, ["member"]],
        "metadata": [None, {}, {"k": "v"}, {"k" * 255: "v" * 255}, {"k" * 256: "v"},
                     {"k": "v" * 256}, {"k": 1}, {"k": None},
                     {str(i): "v" for i in range(128)}, {str(i): "v" for i in range(129)},
                     [], "meta"],
    }
    yield base
    for key, choices in values.items():
        for value in choices:
            body = dict(base)
            body[key] = value
            yield body
        body = dict(base)
        body.pop(key, None)
        yield body
    yield []
    yield "text"
    yield None


def test_fast_path_agrees_with_the_schema():
    """The hand-written check never accepts a body the JSON schema rejects."""
    accepted = rejected = 0
    for body in _variants():
        valid = not list(schemas._VALIDATOR.iter_errors(body))
        fast = schemas._plainly_valid(body)
        assert not fast or valid, body
        if valid:
            assert fast, body  # the common valid shapes take the fast path
            accepted += 1
        else:
            rejected += 1
            with pytest.raises(schemas.SchemaError):
                schemas.validate_vendordata(body)
    assert accepted > 20 and rejected > 20
