"""Helpers of the in-process API tests: a recording JoinService double, request helpers."""

from __future__ import annotations

import json
import uuid
from typing import Any

import webob

from novajoin.join.errors import IPAUnavailable
from novajoin.join.model import InstanceRequest, JoinAnswer, JoinSettings

SETTINGS = JoinSettings(domain="example.test", realm="EXAMPLE.TEST", ipa_server="ipa.example.test")


class RecordingJoinService:
    """Answers like the real service for the happy path; records requests."""

    def __init__(self) -> None:
        self.requests: list[InstanceRequest] = []
        self.fail: Exception | None = None
        self.healthy = True

    def join(self, request: InstanceRequest) -> JoinAnswer:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        if str(request.metadata.get("ipa_enroll", "")).lower() != "true":
            return JoinAnswer.not_requested()
        return JoinAnswer.issued(SETTINGS, f"{request.hostname}.example.test", "OTP-SECRET-1")

    def check_ipa(self) -> bool:
        return self.healthy


def valid_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project-id": "0b8c1a4e6d1f4b0fa6a3d6d5c2b7e901",
        "instance-id": str(uuid.uuid4()),
        "image-id": str(uuid.uuid4()),
        "user-data": None,
        "hostname": "vm1",
        "metadata": {"ipa_enroll": "True"},
        "boot-roles": "member,reader",
    }
    body.update(changes)
    return body


def call(
    app: Any,
    method: str,
    path: str,
    body: Any = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> webob.Response:
    request = webob.Request.blank(path, method=method, headers=headers or {})
    if body is not None:
        request.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        if content_type is not None:
            request.content_type = content_type
    return request.get_response(app)


__all__ = ["IPAUnavailable", "call", "valid_body"]
