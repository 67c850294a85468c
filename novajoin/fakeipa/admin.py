"""Admin interface of the simulator: plain HTTP JSON on its own loopback port.

Tests and demos drive the simulator here: look at the state and the call
log, simulate an instance enrolling with its OTP, and switch latency and
faults.  It is a separate port so that nothing a client of the IPA side
sends can reach it.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from novajoin.fakeipa.faults import FaultSpecError, parse_fault
from novajoin.fakeipa.http import IPAApp
from novajoin.ipa import errors

LOG = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


def _enroll_status(exc: errors.IPAError) -> int:
    if isinstance(exc, errors.NotFound):
        return 404
    if isinstance(exc, errors.AuthorizationError | errors.AuthenticationError):
        return 403
    if isinstance(exc, errors.DuplicateEntry | errors.AlreadyActive):
        return 409
    return 400


class AdminHandler(BaseHTTPRequestHandler):
    """Routes of the admin interface; every answer is JSON."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30.0
    app: IPAApp  # set on the subclass the server builds

    def version_string(self) -> str:
        return "novajoin-fake-ipa-admin"

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("admin %s", format % args)

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, **extra: Any) -> None:
        self._reply(status, {"error": {"message": message, **extra}})

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise ValueError("bad Content-Length")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        return json.loads(raw)

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        route = (self.command, url.path.rstrip("/") or "/")
        try:
            body = self._body() if self.command in ("POST", "PUT", "DELETE") else {}
        except ValueError as exc:
            self._error(400, f"invalid JSON body: {exc}")
            return
        handler = _ROUTES.get(route)
        if handler is None:
            if any(path == route[1] for _, path in _ROUTES):
                self._error(405, f"{self.command} not allowed on {route[1]}")
            else:
                self._error(404, f"no admin route {route[1]}")
            return
        try:
            handler(self, body, urllib.parse.parse_qs(url.query))
        except FaultSpecError as exc:
            self._error(400, str(exc))
        except Exception:
            LOG.exception("admin %s %s failed", *route)
            self._error(500, "internal error; see the simulator log")

    do_GET = do_POST = do_DELETE = do_PUT = _handle

    # -- routes ----------------------------------------------------------------

    def health(self, body: Any, query: dict[str, list[str]]) -> None:
        self._reply(200, {"status": "ok"})

    def state(self, body: Any, query: dict[str, list[str]]) -> None:
        self._reply(200, self.app.engine.snapshot())

    def calls(self, body: Any, query: dict[str, list[str]]) -> None:
        try:
            since = int((query.get("since") or ["0"])[0])
        except ValueError:
            self._error(400, "since must be an integer")
            return
        self._reply(200, {"calls": self.app.calls.since(since), "last": self.app.calls.last_seq})

    def clear_calls(self, body: Any, query: dict[str, list[str]]) -> None:
        self.app.calls.clear()
        self._reply(200, {"last": self.app.calls.last_seq})

    def enroll(self, body: Any, query: dict[str, list[str]]) -> None:
        if not isinstance(body, dict):
            self._error(400, "body must be a JSON object")
            return
        fqdn, otp = body.get("fqdn"), body.get("otp")
        if not isinstance(fqdn, str) or not isinstance(otp, str):
            self._error(400, "fqdn and otp (strings) are required")
            return
        try:
            entry = self.app.engine.enroll(fqdn, otp)
        except errors.IPAError as exc:
            LOG.info("admin enroll of %s refused: %s (%d)", fqdn, exc.name, exc.code)
            self._reply(_enroll_status(exc), {"error": exc.to_json()})
            return
        LOG.info("admin enroll of %s succeeded", fqdn)
        self._reply(200, entry)

    def faults(self, body: Any, query: dict[str, list[str]]) -> None:
        self._reply(200, {"faults": self.app.conditions.faults.describe()})

    def add_fault(self, body: Any, query: dict[str, list[str]]) -> None:
        fault = self.app.conditions.faults.add(parse_fault(body))
        LOG.info("admin: armed fault %s", fault.describe())
        self._reply(200, fault.describe())

    def clear_faults(self, body: Any, query: dict[str, list[str]]) -> None:
        self.app.conditions.faults.clear()
        self._reply(200, {"faults": []})

    def latency(self, body: Any, query: dict[str, list[str]]) -> None:
        self._reply(200, self.app.conditions.describe_latency())

    def set_latency(self, body: Any, query: dict[str, list[str]]) -> None:
        described = self.app.conditions.set_latency(body)
        LOG.info("admin: latency %s", described)
        self._reply(200, described)

    def expire_sessions(self, body: Any, query: dict[str, list[str]]) -> None:
        self._reply(200, {"expired": self.app.sessions.clear()})

    def reset(self, body: Any, query: dict[str, list[str]]) -> None:
        self.app.reset()
        LOG.info("admin: reset")
        self._reply(200, {"status": "reset"})


_ROUTES = {
    ("GET", "/health"): AdminHandler.health,
    ("GET", "/state"): AdminHandler.state,
    ("GET", "/calls"): AdminHandler.calls,
    ("DELETE", "/calls"): AdminHandler.clear_calls,
    ("POST", "/enroll"): AdminHandler.enroll,
    ("GET", "/faults"): AdminHandler.faults,
    ("POST", "/faults"): AdminHandler.add_fault,
    ("DELETE", "/faults"): AdminHandler.clear_faults,
    ("GET", "/latency"): AdminHandler.latency,
    ("POST", "/latency"): AdminHandler.set_latency,
    ("POST", "/sessions/expire"): AdminHandler.expire_sessions,
    ("POST", "/reset"): AdminHandler.reset,
}
