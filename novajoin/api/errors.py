"""JSON error bodies and the fault middleware.

Every error novajoin answers has one shape, the one keystonemiddleware's
401 already uses::

    {"error": {"code": 400, "title": "Bad Request", "message": "..."}}

``code`` repeats the HTTP status, ``title`` is its reason phrase and
``message`` says what was wrong with the request.  A 5xx never carries a
traceback or exception text: the details go to the server log only.
The one exception is /healthcheck, whose bodies keep oslo.middleware's
format (load balancers and monitoring read it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

LOG = logging.getLogger("novajoin.api")
ACCESS_LOG = logging.getLogger("novajoin.api.access")

# Set in environ by apps whose error bodies have their own documented format
# (the healthcheck's 503, which load balancers read).
KEEP_ERROR_BODY = "novajoin.keep_error_body"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class APIError(Exception):
    """An error a handler turns into a JSON response."""

    def __init__(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_body(status: int, message: str) -> bytes:
    title = _title(status)
    return json.dumps({"error": {"code": status, "title": title, "message": message}}).encode()


def error_response(
    start_response: StartResponse,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    head: bool = False,
) -> list[bytes]:
    body = error_body(status, message)
    response_headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *(headers or {}).items(),
    ]
    start_response(f"{status} {_title(status)}", response_headers)
    return [] if head else [body]


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class FaultWrapper:
    """Outermost JSON safety net plus the access log.

    Turns any exception below it into a JSON 500 (never a traceback on the
    wire) and rewrites non-JSON 4xx/5xx bodies from middleware below it
    into the common shape.  The access log line has method, path, status,
    duration and request id: never a body or header value (OTP, token).
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        state: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"] = status
            state["headers"] = headers
            return _no_write

        try:
            chunks = self.app(environ, capture)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:
            LOG.exception(
                "unexpected error handling %s %s",
                environ.get("REQUEST_METHOD"),
                _path(environ),
            )
            state = {}
            body = b""
        head = environ.get("REQUEST_METHOD") == "HEAD"
        if "status" not in state:
            result = error_response(
                start_response, 500, "Internal error; see the server log.", head=head
            )
            self._log(environ, 500, started)
            return result
        status_line: str = state["status"]
        headers: list[tuple[str, str]] = state["headers"]
        code = int(status_line.split(" ", 1)[0])
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        rewrite = code >= 400 and not environ.get(KEEP_ERROR_BODY)
        if rewrite and not _is_our_json_error(content_type, body):
            message = _message_from(body, code)
            extra = {k: v for k, v in headers if k.lower() in _KEPT_HEADERS}
            result = error_response(start_response, code, message, extra, head=head)
            self._log(environ, code, started)
            return result
        start_response(status_line, headers)
        self._log(environ, code, started)
        return [body]

    @staticmethod
    def _log(environ: dict[str, Any], status: int, started: float) -> None:
        ACCESS_LOG.info(
            "%s %s %d %.3fs req=%s",
            environ.get("REQUEST_METHOD", "-"),
            _path(environ),
            status,
            time.monotonic() - started,
            environ.get("openstack.request_id", "-"),
        )


_KEPT_HEADERS = ("allow", "retry-after", "www-authenticate", "x-openstack-request-id")


def _no_write(data: bytes) -> None:  # the legacy write() callable; unused by our stack
    raise RuntimeError("write() is not supported")


def _path(environ: dict[str, Any]) -> str:
    # Paths are ours (no secrets); the query string is not logged.
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
    return path[:200].encode("unicode_escape").decode("ascii")


def _is_our_json_error(content_type: str, body: bytes) -> bool:
    if not content_type.lower().startswith("application/json"):
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    error = payload.get("error") if isinstance(payload, dict) else None
    return isinstance(error, dict) and {"code", "title", "message"} <= error.keys()


def _message_from(body: bytes, code: int) -> str:
    """A short, safe message from a foreign error body (e.g. webob's HTML)."""
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            inner = payload.get("error", payload)
            if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                return inner["message"][:500]
    except ValueError:
        pass
    return _title(code)
