"""An in-process fake of IPA's HTTP endpoints for the client's unit tests.

It speaks just enough of IPA (session login, session/json, error envelopes)
to drive the client through httpx.MockTransport, and lets a test script
failures per request: HTTP statuses, transport exceptions, 401s.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from novajoin.ipa import Backoff

URL = "https://127.0.0.1:8443/ipa"
NAME = "ipa.example.test"
USER = "admin"
PASSWORD = "Pa55-w0rd-NEVER-LOGGED"

Action = str | int | Exception | Callable[[], Exception]


class FakeIPA:
    """State and scripted behaviour; ``handler`` is the MockTransport callback."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cookies: dict[str, float] = {}  # cookie -> creation time
        self.logins = 0
        self.login_delay = 0.0
        self.requests: list[httpx.Request] = []
        self.json_requests: list[dict[str, Any]] = []
        # Scripted actions for session/json, consumed one per request, keyed
        # by host ("127.0.0.1:8443"); an action is an HTTP status, an
        # exception to raise, or "expire" (drop every session first).
        self.script: dict[str, list[Action]] = {}
        self.always_401 = False
        self.commands: dict[str, Callable[[list[Any], dict[str, Any]], Any]] = {
            "ping": lambda a, o: {"summary": "IPA server version 4.13.1. API version 2.257"},
        }
        self.fail_with: dict[str, dict[str, Any]] = {}
        self._serial = 0

    # -- helpers for tests -------------------------------------------------

    def expire_sessions(self, older_than: float = 0.0) -> None:
        """Drop sessions; with ``older_than``, only those at least that old."""
        limit = time.monotonic() - older_than
        with self.lock:
            for cookie, created in list(self.cookies.items()):
                if created <= limit:
                    del self.cookies[cookie]

    def json_hosts(self) -> list[str]:
        return [r.url.netloc.decode() for r in self.requests if r.url.path.endswith("/json")]

    # -- transport callback ------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        path = request.url.path
        if path.endswith("/session/login_password"):
            return self._login_password(request)
        if path.endswith("/session/json"):
            return self._json(request)
        return httpx.Response(404)

    def _login_password(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Referer") != f"https://{NAME}/ipa":
            return httpx.Response(400)
        form = parse_qs(request.content.decode())
        if form.get("user") != [USER] or form.get("password") != [PASSWORD]:
            return httpx.Response(401, headers={"X-IPA-Rejection-Reason": "invalid-password"})
        if self.login_delay:
            time.sleep(self.login_delay)
        with self.lock:
            self.logins += 1
            self._serial += 1
            cookie = f"MagBearerToken=cookie{self._serial}=="
            self.cookies[cookie] = time.monotonic()
        return httpx.Response(
            200, headers={"Set-Cookie": f"ipa_session={cookie};path=/ipa;httponly;secure;"}
        )

    def _json(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode()
        action: Action | None = None
        with self.lock:
            queue = self.script.get(host)
            if queue:
                action = queue.pop(0)
        if action == "expire":
            self.expire_sessions()
            action = None
        if callable(action):
            action = action()
        if isinstance(action, Exception):
            raise action
        if isinstance(action, int):
            return httpx.Response(action, text="<html>error</html>")
        cookie = _cookie(request)
        with self.lock:
            valid = cookie in self.cookies
        if self.always_401 or not valid:
            return httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"})
        body = json.loads(request.content)
        with self.lock:
            self.json_requests.append(body)
        method, (args, options) = body["method"], body["params"]
        envelope: dict[str, Any] = {"id": body["id"], "principal": f"{USER}@EXAMPLE.TEST"}
        if method in self.fail_with:
            envelope.update(result=None, error=self.fail_with[method])
        elif method in self.commands:
            envelope.update(result=self.commands[method](args, options), error=None)
        else:
            envelope.update(
                result=None,
                error={"code": 905, "name": "CommandError",
                       "message": f"unknown command '{method}'", "data": {"name": method}},
            )
        return httpx.Response(200, json=envelope)


def _cookie(request: httpx.Request) -> str | None:
    for part in request.headers.get("Cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "ipa_session":
            return value
    return None


class RecordingBackoff:
    """A Backoff whose sleeps are recorded instead of slept."""

    def __init__(self, base: float = 0.1, cap: float = 2.0, jitter: float = 0.5) -> None:
        self.sleeps: list[float] = []
        self.backoff = Backoff(base=base, cap=cap, sleep=self.sleeps.append,
                               random=lambda: jitter)


