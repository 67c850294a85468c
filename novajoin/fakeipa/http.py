"""HTTP request handling of the simulator: IPA's endpoints under ``/ipa``.

Behaviour follows FreeIPA 4.13 (``ipaserver/rpcserver.py`` behind Apache with
mod_auth_gssapi), because clients are written against the real thing:

* ``/ipa/json``: Kerberos Negotiate on the request itself (or a session
  cookie, as mod_auth_gssapi accepts one), then JSON-RPC.  A bad Referer is
  answered inside JSON-RPC: HTTP 200 with error 911 RefererError.
* ``/ipa/session/json``: session cookie only.  Referer is checked first
  (HTTP 400), then the session (HTTP 401 ``need login``).
* ``/ipa/session/login_kerberos`` / ``login_password``: Referer (HTTP 400),
  then authentication; success sets the ``ipa_session`` cookie.
* A non-JSON Content-Type makes IPA treat the URL path as the command
  name, which is unknown: error 905 CommandError.

Nothing secret (tokens, cookies, passwords) is ever logged.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import socket
import struct
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from novajoin.fakeipa.calllog import CallLog
from novajoin.fakeipa.faults import Conditions
from novajoin.fakeipa.negotiate import (
    Acceptor,
    NegotiateError,
    PasswordRejected,
    check_password,
    parse_authorization,
)
from novajoin.fakeipa.sessions import SessionStore
from novajoin.ipa import errors

LOG = logging.getLogger(__name__)

PREFIX = "/ipa"
JSON_PATH = "/ipa/json"
SESSION_JSON_PATH = "/ipa/session/json"
LOGIN_KERBEROS_PATH = "/ipa/session/login_kerberos"
LOGIN_PASSWORD_PATH = "/ipa/session/login_password"  # noqa: S105 (a URL path)
ROUTES = (JSON_PATH, SESSION_JSON_PATH, LOGIN_KERBEROS_PATH, LOGIN_PASSWORD_PATH)

SESSION_COOKIE = "ipa_session"
# mod_auth_gssapi's cookie value looks like this; clients must treat it as opaque.
_COOKIE_PREFIX = "MagBearerToken="
MAX_BODY = 10 * 1024 * 1024
_SECRET_KEY_HINTS = ("password", "otp", "secret")

_HTML_PAGE = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>{status}</title>
</head><body>
<h1>{title}</h1>
<p>{message}</p>
</body></html>
"""


@dataclass
class IPAApp:
    """Shared state of one simulator: the handlers read everything from here."""

    engine: Any
    acceptor: Acceptor
    fqdn: str
    realm: str
    secure: bool = True
    sessions: SessionStore = field(default_factory=SessionStore)
    calls: CallLog = field(default_factory=CallLog)
    conditions: Conditions = field(default_factory=Conditions)
    # Bumped by reset(): a request still waiting (hang, latency) when the
    # simulator is reset must not touch the new state or the new call log.
    generation: int = 0

    @property
    def referer_prefix(self) -> str:
        return f"https://{self.fqdn}/ipa"

    def referer_ok(self, referer: str | None) -> bool:
        return bool(referer) and referer.startswith(self.referer_prefix)

    def session_cookie(self, sid: str) -> str:
        attrs = "; Path=/ipa; HttpOnly"
        if self.secure:
            attrs = "; Path=/ipa; Secure; HttpOnly"
        return f"{SESSION_COOKIE}={_COOKIE_PREFIX}{sid}{attrs}"

    def redact(self, method: str | None, params: Any) -> Any:
        """Engine redaction plus a name-based mask, so the log never holds a secret."""
        redacted: Any = params
        if method is not None:
            try:
                redacted = self.engine.redact(method, params)
            except Exception:  # a bad request must not break logging
                redacted = None
        return _mask_secret_keys(redacted)

    def reset(self) -> None:
        self.generation += 1
        self.engine.reset()
        self.conditions.reset()
        self.sessions.clear()
        self.calls.clear()


def _secret_key(key: Any, value: Any) -> bool:
    if not isinstance(key, str) or value is None or isinstance(value, bool):
        return False
    return any(hint in key.lower() for hint in _SECRET_KEY_HINTS)


def _mask_secret_keys(value: Any) -> Any:
    """Second line of defence after Engine.redact (e.g. misspelt secret options)."""
    if isinstance(value, dict):
        return {
            k: "********" if _secret_key(k, v) else _mask_secret_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_secret_keys(v) for v in value]
    return value


def html_page(status: str, title: str, message: str) -> bytes:
    return _HTML_PAGE.format(
        status=html.escape(status), title=html.escape(title), message=message
    ).encode()


_APACHE_500 = html_page(
    "500 Internal Server Error",
    "Internal Server Error",
    "The server encountered an internal error or\nmisconfiguration and was unable to complete\n"
    "your request.</p>\n<p>Please contact the server administrator to inform them of the time "
    "this error occurred,\nand the actions you performed just before this error.",
)


class _Reset(Exception):
    """Internal: the connection was dropped on purpose; send nothing."""


class _Unmarshal:
    """The parsed request, the way rpcserver's unmarshal sees it."""

    def __init__(self) -> None:
        self.method: str | None = None
        self.params: Any = None
        self.id: Any = None
        self.options: dict[str, Any] = {}


def _unmarshal(body: bytes, content_type: str, path: str) -> tuple[_Unmarshal, Exception | None]:
    req = _Unmarshal()
    if not content_type.startswith("application/json"):
        # IPA falls back to "simple_unmarshal": the path is the command name.
        name = path[len(PREFIX) :].strip("/")
        req.method = name
        return req, errors.CommandError(f"unknown command '{name}'", data={"name": name})
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return req, _json_error(str(exc))
    if not isinstance(data, dict):
        return req, _json_error("Request must be a dict")
    req.id = data.get("id")
    if "method" not in data:
        return req, _json_error('Request is missing "method"')
    if "params" not in data:
        return req, _json_error('Request is missing "params"')
    method, params = data["method"], data["params"]
    req.method = method if isinstance(method, str) else None
    req.params = params
    if not isinstance(params, list):
        return req, _json_error("params must be a list")
    if len(params) != 2:
        return req, _json_error("params must contain [args, options]")
    if not isinstance(params[0], list):
        return req, _json_error("params[0] (aka args) must be a list")
    if not isinstance(params[1], dict):
        return req, _json_error("params[1] (aka options) must be a dict")
    req.options = params[1]
    if not isinstance(method, str):
        return req, errors.CommandError(f"unknown command '{method}'", data={"name": str(method)})
    return req, None


def _json_error(detail: str) -> errors.IPAError:
    return errors.JSONError(f"Invalid JSON-RPC request: {detail}", data={"error": detail})


def _lenient_method(body: bytes) -> str | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    method = data.get("method") if isinstance(data, dict) else None
    return method if isinstance(method, str) else None


class IPARequestHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive until the idle timeout."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Overwritten per server (see server.py) with the keep-alive idle timeout.
    timeout: float | None = 5.0

    app: IPAApp  # set on the subclass the server builds

    # -- plumbing -----------------------------------------------------------

    def version_string(self) -> str:
        return "Apache"

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s %s", self.client_address[0], format % args)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def _read_body(self) -> bytes | None:
        """The request body; None (connection to close) if unreadable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str | None = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type and body:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _reset_connection(self) -> None:
        """Drop the TCP connection with RST, as a crashing server would."""
        sock = self.connection
        self.close_connection = True
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            self.rfile.close()
            sock.close()
        except OSError:
            pass
        raise _Reset

    def _session_id(self) -> str | None:
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name == SESSION_COOKIE and value.startswith(_COOKIE_PREFIX):
                    return value[len(_COOKIE_PREFIX) :]
        return None

    def _session_principal(self) -> str | None:
        sid = self._session_id()
        return self.app.sessions.lookup(sid) if sid else None

    # -- dispatch -----------------------------------------------------------

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send(400, html_page("400 Bad Request", "Bad Request", "Invalid body"))
            return
        try:
            if path == JSON_PATH:
                self._json(path, body, session_only=False)
            elif path == SESSION_JSON_PATH:
                self._json(path, body, session_only=True)
            elif path == LOGIN_KERBEROS_PATH:
                self._login_kerberos()
            elif path == LOGIN_PASSWORD_PATH:
                self._login_password(body)
            else:
                self._not_found(path)
        except _Reset:
            return

    def _other_method(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if self._read_body() is None:
            self.close_connection = True
        if path in ROUTES:
            self._send(
                405,
                html_page("405 Method Not Allowed", "Method Not Allowed",
                          f"The requested method {html.escape(self.command)} is not allowed "
                          "for this URL."),
                headers=[("Allow", "POST")],
            )
        else:
            self._not_found(path)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other_method

    def _not_found(self, path: str) -> None:
        self._send(
            404,
            html_page("404 Not Found", "Not Found",
                      f"The requested URL {html.escape(path)} was not found on this server."),
        )

    def _bad_request(self, message: str) -> None:
        self._send(400, html_page("400 Bad Request", "Bad Request",
                                  f"<strong>{html.escape(message)}</strong>"))

    def _need_login(self, *, page: bool) -> None:
        body = b""
        if page:
            body = html_page(
                "401 Unauthorized", "Unauthorized",
                "This server could not verify that you\nare authorized to access the document\n"
                "requested.",
            )
        self._send(401, body, headers=[("WWW-Authenticate", "Negotiate")])

    def _unauthorized(self, message: str, reason: str) -> None:
        self._send(
            401,
            html_page("401 Unauthorized", "Invalid Authentication",
                      f"<strong>{html.escape(message)}</strong>"),
            headers=[("X-IPA-Rejection-Reason", reason)],
        )

    def _login_fault(self) -> None:
        fault = self.app.conditions.faults.take(None, login=True)
        if fault is None:
            return
        LOG.info("injected fault %s on %s", fault.kind, self.path)
        if fault.kind == "reset":
            self._reset_connection()
        self._send(500, _APACHE_500)
        raise _Reset  # answered; nothing more to send

    # -- login --------------------------------------------------------------

    def _login_kerberos(self) -> None:
        if not self.app.referer_ok(self.headers.get("Referer")):
            LOG.info("login_kerberos: rejecting request with bad Referer")
            self._bad_request("denied")
            return
        self._login_fault()
        token = parse_authorization(self.headers.get("Authorization"))
        if token is None:
            self._need_login(page=True)
            return
        try:
            accepted = self.app.acceptor.accept(token)
        except NegotiateError as exc:
            LOG.info("login_kerberos: %s", exc)
            self._need_login(page=True)
            return
        sid = self.app.sessions.create(accepted.principal)
        LOG.info("login_kerberos: %s logged in (mech %s)", accepted.principal, accepted.mech)
        self._send(
            200,
            headers=[
                ("WWW-Authenticate", accepted.www_authenticate),
                ("Set-Cookie", self.app.session_cookie(sid)),
            ],
        )

    def _login_password(self, body: bytes) -> None:
        if not self.app.referer_ok(self.headers.get("Referer")):
            LOG.info("login_password: rejecting request with bad Referer")
            self._bad_request("denied")
            return
        self._login_fault()
        content_type = self.headers.get("Content-Type", "").lower()
        if not content_type.startswith("application/x-www-form-urlencoded"):
            self._bad_request("Content-Type must be application/x-www-form-urlencoded")
            return
        try:
            query = urllib.parse.parse_qs(body.decode("utf-8"), strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            self._bad_request("cannot parse query data")
            return
        user = query.get("user")
        if user is None:
            self._bad_request("no user specified")
            return
        if len(user) != 1:
            self._bad_request("more than one user parameter")
            return
        password = query.get("password")
        if password is None:
            self._bad_request("no password specified")
            return
        if len(password) != 1:
            self._bad_request("more than one password parameter")
            return
        principal = user[0] if "@" in user[0] else f"{user[0]}@{self.app.realm}"
        if principal.count("@") != 1 or not principal.split("@")[0]:
            self._unauthorized("", "denied")
            return
        try:
            check_password(principal, password[0])
        except PasswordRejected as exc:
            LOG.info("login_password: %s rejected (%s)", principal, exc.reason)
            self._unauthorized(str(exc), exc.reason)
            return
        sid = self.app.sessions.create(principal)
        LOG.info("login_password: %s logged in", principal)
        self._send(200, headers=[("Set-Cookie", self.app.session_cookie(sid))])

    # -- JSON-RPC -----------------------------------------------------------

    def _json(self, path: str, body: bytes, *, session_only: bool) -> None:
        app = self.app
        referer = self.headers.get("Referer")
        extra_headers: list[tuple[str, str]] = []
        method_hint = _lenient_method(body)
        if session_only:
            if not app.referer_ok(referer):
                LOG.info("session/json: rejecting request with bad Referer")
                self._bad_request("denied")
                return
            self._maybe_expire_sessions(method_hint)
            principal = self._session_principal()
            if principal is None:
                self._need_login(page=False)
                return
        else:
            token = parse_authorization(self.headers.get("Authorization"))
            if token is not None:
                try:
                    accepted = app.acceptor.accept(token)
                except NegotiateError as exc:
                    LOG.info("json: %s", exc)
                    self._need_login(page=True)
                    return
                principal = accepted.principal
                extra_headers.append(("WWW-Authenticate", accepted.www_authenticate))
                extra_headers.append(
                    ("Set-Cookie", app.session_cookie(app.sessions.create(principal)))
                )
            else:
                self._maybe_expire_sessions(method_hint)
                found = self._session_principal()
                if found is None:
                    self._need_login(page=True)
                    return
                principal = found
        self._rpc(path, body, principal, referer, extra_headers, session_only)

    def _maybe_expire_sessions(self, method: str | None) -> None:
        if self._session_id() is None:
            return
        fault = self.app.conditions.faults.take(method, kinds=("expire_session",))
        if fault is not None:
            dropped = self.app.sessions.clear()
            LOG.info("injected fault expire_session: %d session(s) dropped", dropped)

    def _rpc(
        self,
        path: str,
        body: bytes,
        principal: str,
        referer: str | None,
        headers: list[tuple[str, str]],
        session_only: bool,
    ) -> None:
        app = self.app
        generation = app.generation
        started = time.monotonic()
        endpoint = path[len(PREFIX) :]
        req = _Unmarshal()
        error: Exception | None
        result: Any = None
        fault_kind: str | None = None
        if not session_only and not app.referer_ok(referer):
            error = errors.RefererError(
                f"Missing or invalid HTTP Referer, {referer or 'missing'}",
                data={"referer": referer or "missing"},
            )
        else:
            req, error = _unmarshal(body, self.headers.get("Content-Type", ""), path)
        if error is None:
            fault = app.conditions.faults.take(
                req.method, kinds=("http500", "reset", "aci", "hang")
            )
            if fault is not None:
                fault_kind = fault.kind
                LOG.info("injected fault %s on %s", fault.kind, req.method)
                if fault.kind in ("http500", "reset"):
                    self._log_call(endpoint, principal, req, fault.kind, None, started, fault.kind)
                    if fault.kind == "reset":
                        self._reset_connection()
                    self._send(500, _APACHE_500)
                    return
                if fault.kind == "hang":
                    time.sleep(fault.seconds)
                elif fault.kind == "aci":
                    error = errors.ACIError(
                        f"Insufficient access: Insufficient privilege to run {req.method} "
                        "(injected fault)",
                        data={"info": f"Insufficient privilege to run {req.method}"},
                    )
        if error is None:
            with app.conditions.limiter.slot():
                delay = app.conditions.delay()
                if delay > 0:
                    time.sleep(delay)
                if app.generation != generation:
                    LOG.info("simulator reset while %s was waiting: dropping it", req.method)
                    self._reset_connection()
                try:
                    result = app.engine.execute(req.method, req.params, principal=principal)
                except errors.IPAError as exc:
                    error = exc
                except Exception:
                    LOG.exception("engine failed on %s", req.method)
                    error = errors.InternalError("an internal error has occurred", data={})
        if isinstance(error, errors.IPAError):
            outcome, code = error.name, error.code
            envelope = {"result": None, "error": error.to_json()}
        else:
            outcome, code = "ok", None
            envelope = {"result": result, "error": None}
        envelope.update(id=req.id, principal=principal, version=app.engine.ipa_version)
        unknown_option = None
        if isinstance(error, errors.OptionError):
            unknown_option = error.data.get("option")
        self._log_call(endpoint, principal, req, outcome, code, started, fault_kind,
                       unknown_option)
        payload = json.dumps(envelope).encode()
        self._send(200, payload, content_type="application/json; charset=utf-8", headers=headers)

    def _log_call(
        self,
        endpoint: str,
        principal: str,
        req: _Unmarshal,
        outcome: str,
        code: int | None,
        started: float,
        fault: str | None,
        unknown_option: str | None = None,
    ) -> None:
        params = self.app.redact(req.method, req.params)
        if (unknown_option and isinstance(params, list) and len(params) == 2
                and isinstance(params[1], dict) and unknown_option in params[1]):
            # A misspelt option may be a secret the engine could not recognise.
            params[1] = {**params[1], unknown_option: "********"}
        self.app.calls.record(
            endpoint=endpoint,
            principal=principal,
            method=req.method,
            params=params,
            outcome=outcome,
            code=code,
            duration=time.monotonic() - started,
            fault=fault,
        )
        LOG.info("[%s] %s: %s(%s): %s", endpoint, principal, req.method,
                 json.dumps(params, default=str)[:2000], outcome)
