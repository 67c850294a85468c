"""POST /v1/: nova's dynamic vendordata request → the instance's join data.

Order of checks: policy (when authenticated), Accept, Content-Type (415),
size (413), JSON (400), schema (400), then the domain layer.  A transient
IPA/glance/keystone failure is a 503 with Retry-After (nova then stores {}
and asks again on the next metadata request); refusals are 200 answers that
carry an ``error`` for the instance to read.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import webob.acceptparse

from novajoin.api import errors, policy, schemas
from novajoin.api.policies import vendordata as vendordata_policies
from novajoin.join.errors import IPAUnavailable, LookupUnavailable
from novajoin.join.model import InstanceRequest

if TYPE_CHECKING:
    from novajoin.api.deploy import AppContext

LOG = logging.getLogger("novajoin.api.vendordata")
RETRY_AFTER = "5"
_READ_CHUNK = 64 * 1024


def handle(ctx: AppContext, environ: dict[str, Any]) -> dict[str, object]:
    _authorize(ctx, environ)
    _check_accept(environ)
    _check_content_type(environ)
    raw = _read_body(environ, ctx.max_body_size)
    body = _parse_json(raw)
    try:
        schemas.validate_vendordata(body)
    except schemas.SchemaError as exc:
        raise errors.APIError(400, str(exc)) from None
    request = to_instance_request(body)
    try:
        answer = ctx.join_service.join(request)
    except IPAUnavailable:
        LOG.warning("IPA unavailable for instance %s", request.instance_id)
        raise errors.APIError(
            503, "IPA is unavailable; try again later.", {"Retry-After": RETRY_AFTER}
        ) from None
    except LookupUnavailable:
        LOG.warning("glance/keystone look-up unavailable for instance %s", request.instance_id)
        raise errors.APIError(
            503,
            "The image or project could not be looked up; try again later.",
            {"Retry-After": RETRY_AFTER},
        ) from None
    # JoinAnswer's repr hides the OTP; log the outcome only.
    LOG.info(
        "vendordata instance=%s project=%s status=%s hostname=%s",
        request.instance_id,
        request.project_id,
        getattr(answer, "status", "?"),
        getattr(answer, "hostname", None),
    )
    return answer.to_json()


def to_instance_request(body: dict[str, Any]) -> InstanceRequest:
    """Map nova's (schema-valid) body onto the domain's request."""
    roles = body.get("boot-roles") or ""
    return InstanceRequest(
        instance_id=body["instance-id"].lower(),
        project_id=body["project-id"],
        hostname=body["hostname"],
        image_id=body.get("image-id") or None,
        metadata=dict(body.get("metadata") or {}),
        user_data=body.get("user-data"),
        boot_roles=tuple(r.strip() for r in roles.split(",") if r.strip()),
    )


def _authorize(ctx: AppContext, environ: dict[str, Any]) -> None:
    if ctx.enforcer is None:  # auth_strategy = noauth: nothing to check against
        return
    from oslo_context import context

    request_context = context.RequestContext.from_environ(environ)
    try:
        policy.authorize(ctx.enforcer, vendordata_policies.CREATE, request_context)
    except policy.Forbidden:
        raise errors.APIError(403, "Policy does not allow this request.") from None


# What nova (and most clients) send: answered without parsing the header.
_ACCEPTS_JSON = frozenset({"application/json", "*/*"})


def _check_accept(environ: dict[str, Any]) -> None:
    header = environ.get("HTTP_ACCEPT")
    if not header or header in _ACCEPTS_JSON:
        return
    accept = webob.acceptparse.create_accept_header(header)
    if not isinstance(accept, webob.acceptparse.AcceptValidHeader):
        return  # an unparsable Accept is ignored, as RFC 9110 allows
    if not accept.acceptable_offers(["application/json"]):
        raise errors.APIError(406, "Only application/json responses are available.")


def _check_content_type(environ: dict[str, Any]) -> None:
    media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise errors.APIError(415, "The request body must be application/json.")


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    too_large = errors.APIError(413, f"The request body is larger than {limit} bytes.")
    length_header = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length_header:
        try:
            length = int(length_header)
        except ValueError:
            raise errors.APIError(400, "Invalid Content-Length.") from None
        if length < 0:
            raise errors.APIError(400, "Invalid Content-Length.")
        if length > limit:
            raise too_large
        return _read_exactly(stream, length)
    # Chunked (or unknown) length: read up to the limit and one byte more.
    data = bytearray()
    while len(data) <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        raise too_large
    return bytes(data)


def _read_exactly(stream: Any, length: int) -> bytes:
    data = bytearray()
    while len(data) < length:
        chunk = stream.read(min(_READ_CHUNK, length - len(data)))
        if not chunk:
            raise errors.APIError(400, "The request body is shorter than Content-Length.")
        data += chunk
    return bytes(data)


def _parse_json(raw: bytes) -> Any:
    if not raw:
        raise errors.APIError(400, "The request body is empty.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.APIError(400, "The request body is not UTF-8.") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise errors.APIError(400, "The request body is not valid JSON.") from None
