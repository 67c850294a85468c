"""The IPA JSON-RPC client.

One ``IPAClient`` is shared by every thread of a process: it pools HTTPS
connections, holds one IPA session per server (one Kerberos negotiation per
session, not per call), retries what is safe to retry and maps IPA's errors
to the typed exceptions of ``novajoin.ipa.errors``.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

import httpx

from novajoin.ipa import _redact
from novajoin.ipa._http import SESSION_COOKIE, Retryable, transport_failure
from novajoin.ipa.auth import Auth
from novajoin.ipa.errors import (
    AuthenticationFailed,
    IPAClientError,
    IPAError,
    ProtocolError,
    TransportError,
    from_json,
)
from novajoin.ipa.retry import Backoff
from novajoin.ipa.servers import IPAServer, ServerSpec, parse_servers

LOG = logging.getLogger("novajoin.ipa")

DEFAULT_API_VERSION = "2.251"  # IPA 4.9; newer servers accept any 2.x
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)
USER_AGENT = "novajoin-ipa-client"


@dataclass(frozen=True)
class BatchItem:
    """One entry of a ``batch`` answer: a result object or its IPA error."""

    result: dict[str, Any] | None = None
    error: IPAError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> dict[str, Any]:
        """The result object, or raise the item's typed error."""
        if self.error is not None:
            raise self.error
        return self.result or {}


class _Session:
    """The session cookie of one server, renewed by one thread at a time.

    ``generation`` grows with every login.  A thread that saw a 401 with
    generation g only logs in again if the session is still at g; otherwise
    another thread has already renewed it and the new cookie is reused, so a
    burst of 401s costs one login.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[str | None, int] = (None, 0)  # replaced atomically

    def get(self, login: Callable[[], str], wait: float | None) -> tuple[str, int]:
        cookie, generation = self._state
        if cookie is not None:
            return cookie, generation
        found = self._renew(login, wait, stale=None, may_login=True)
        assert found is not None
        return found[0], found[1]

    def renew(
        self, login: Callable[[], str], stale: int, wait: float | None, *, may_login: bool
    ) -> tuple[str, int, bool] | None:
        """A session newer than ``stale``: someone else's, or our own login.

        Returns (cookie, generation, logged_in), or None when only a login
        would help and ``may_login`` is False.
        """
        return self._renew(login, wait, stale=stale, may_login=may_login)

    def forget(self, generation: int) -> None:
        with self._lock:
            if self._state[1] == generation:
                self._state = (None, generation)

    def _renew(
        self, login: Callable[[], str], wait: float | None, stale: int | None, may_login: bool
    ) -> tuple[str, int, bool] | None:
        if not self._lock.acquire(timeout=-1 if wait is None else max(wait, 0.0)):
            raise Retryable("timed out waiting for another thread's login", sent=False)
        try:
            cookie, generation = self._state
            if cookie is not None and (stale is None or generation != stale):
                return cookie, generation, False
            if not may_login:
                return None
            self._state = (None, generation)
            cookie = login()
            self._state = (cookie, generation + 1)
            return cookie, generation + 1, True
        finally:
            self._lock.release()


class _Call:
    """Book-keeping of one logical call across its attempts."""

    __slots__ = ("command", "deadline", "deadline_hit", "sent")

    def __init__(self, command: str, deadline: float | None) -> None:
        self.command = command
        self.deadline = deadline  # time.monotonic() value or None
        self.sent = 0  # times the request may have reached IPA
        self.deadline_hit = False

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()


def _share(total: int | None, shards: int) -> int | None:
    return None if total is None else max(1, -(-total // shards))


class _ShardedTransport(httpx.BaseTransport):
    """A few connection pools instead of one; each thread keeps to one pool.

    httpcore's pool walks all its connections twice per request under one
    lock (quadratically when many are idle) and polls every idle socket;
    with novajoin-server's 32 worker threads sharing one pool of ~32
    connections that bookkeeping was about a fifth of the server's CPU per
    vendordata request.  Threads are spread round-robin over ``SHARDS``
    pools, each with its share of ``limits``, so the totals stay the same.
    """

    SHARDS = 8

    def __init__(
        self, make: Callable[[httpx.Limits], httpx.BaseTransport], limits: httpx.Limits
    ) -> None:
        shards = self.SHARDS
        share = httpx.Limits(
            max_connections=_share(limits.max_connections, shards),
            max_keepalive_connections=_share(limits.max_keepalive_connections, shards),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._pools = [make(share) for _ in range(shards)]
        self._local = threading.local()
        self._next = itertools.count()

    def _pool(self) -> httpx.BaseTransport:
        try:
            return self._local.pool
        except AttributeError:
            pool = self._local.pool = self._pools[next(self._next) % len(self._pools)]
            return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool().handle_request(request)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()


class _Endpoint:
    """One server's JSON-RPC URL and fixed request headers, built once.

    Through ``httpx.Client`` every call would parse the URL again, merge and
    encode the same headers and consult a cookie jar that never holds
    anything (sessions are tracked by hand); a call is a few hundred
    microseconds of CPU cheaper handing the transport a ready request.
    ``defaults`` are the Client's own headers (User-Agent, Accept-Encoding,
    Connection), so the request on the wire stays the same.
    """

    __slots__ = ("headers", "url")

    def __init__(self, server: IPAServer, defaults: httpx.Headers) -> None:
        self.url = httpx.URL(server.json_url)
        merged = httpx.Headers(defaults)
        for name, value in (
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Referer", server.referer),
        ):
            merged.pop(name, None)
            merged[name] = value
        self.headers: tuple[tuple[bytes, bytes], ...] = ((b"Host", self.url.netloc), *merged.raw)


class IPAClient:
    """Thread-safe JSON-RPC client for one or more IPA servers.

    ``servers``: base URLs (``https://ipa.example.com/ipa``; ``.../ipa/json``
    and ``.../ipa/session/json`` are accepted too), ``(url, name)`` pairs or
    ``IPAServer`` objects; the name is the server's FQDN when the URL does
    not carry it (``https://127.0.0.1:8443/ipa``).

    Transport failures (connection errors, timeouts, a pooled connection the
    server closed, HTTP 5xx) are retried with jittered exponential backoff,
    ``connect_retries`` times at most and within ``deadline`` seconds per
    call if set; with several servers each failure moves on to the next one
    and the client sticks to the server that answered.  IPA command errors
    are never retried.
    """

    def __init__(
        self,
        servers: ServerSpec | Iterable[ServerSpec],
        *,
        auth: Auth,
        ca_file: str | PathLike[str] | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        connect_retries: int = 3,
        deadline: float | None = None,
        backoff: Backoff | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if connect_retries < 0:
            raise ValueError("connect_retries must be >= 0")
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive")
        self.servers = parse_servers(servers)
        self.auth = auth
        self.api_version = api_version
        self.connect_retries = connect_retries
        self.deadline = deadline
        self.backoff = backoff or Backoff()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        _redact.install()
        self._sessions = [_Session() for _ in self.servers]
        self._preferred = 0
        self._ids = itertools.count(1)
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=str(ca_file))
        if transport is None:
            transport = _ShardedTransport(
                lambda shard_limits: httpx.HTTPTransport(
                    verify=verify, limits=shard_limits, trust_env=False
                ),
                limits,
            )
        # JSON-RPC calls go straight to the transport (see _post); the Client
        # on the same transport serves the logins.
        self._transport = transport
        self._http = httpx.Client(
            timeout=self._timeout,
            transport=transport,
            # IPA sessions are tracked per server by hand (see _Session);
            # a cookie jar would also drop cookies of IP-address hosts.
            cookies=http.cookiejar.CookieJar(
                policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
            headers={"User-Agent": user_agent},
            follow_redirects=False,
            trust_env=False,
        )
        self._endpoints = [_Endpoint(server, self._http.headers) for server in self.servers]
        self._timeout_ext = self._timeout.as_dict()

    # -- public API --------------------------------------------------------

    def call(self, command: str, *args: Any, **options: Any) -> dict[str, Any]:
        """Run one IPA command; return its result object.

        The result object is what IPA puts under ``result`` in the JSON-RPC
        answer: ``{"result": ..., "summary": ..., "value": ...}``.
        """
        return self.request(command, args, options)

    def request(
        self,
        command: str,
        args: Sequence[Any] = (),
        options: Mapping[str, Any] | None = None,
        *,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Like ``call``, with an overall ``deadline`` (seconds) for this call."""
        return self._request(command, list(args), dict(options or {}), deadline)[0]

    def batch(
        self,
        calls: Iterable[tuple[str, Sequence[Any]] | tuple[str, Sequence[Any], Mapping[str, Any]]],
        *,
        deadline: float | None = None,
    ) -> list[BatchItem]:
        """Run several commands in one round trip.

        IPA's ``batch`` never fails as a whole: every item carries either its
        result object or its own error, returned here as a typed IPAError.
        """
        methods = []
        for entry in calls:
            command, args, *rest = entry
            options = rest[0] if rest else {}
            methods.append({"method": command, "params": [list(args), dict(options)]})
        if not methods:
            return []
        outcome, call = self._request("batch", methods, {}, deadline)
        results = outcome.get("results")
        if not isinstance(results, list) or len(results) != len(methods):
            raise ProtocolError("IPA batch: answer does not match the request")
        items = [_batch_item(item) for item in results]
        for item in items:
            if item.error is not None:
                item.error.attempts = max(call.sent, 1)
        return items

    def run(
        self,
        calls: Sequence[tuple[str, Sequence[Any], Mapping[str, Any]]],
        *,
        deadline: float | None = None,
    ) -> list[BatchItem]:
        """Any number of commands in one round trip: a plain request for one, a batch
        for several.  Either way each command's IPA error is its item's, as in batch()."""
        if len(calls) != 1:
            return self.batch(calls, deadline=deadline)
        command, args, options = calls[0]
        try:
            return [BatchItem(result=self.request(command, args, options, deadline=deadline))]
        except IPAError as exc:
            return [BatchItem(error=exc)]

    def ping(self) -> dict[str, Any]:
        """Cheapest authenticated round trip; also proves the session works."""
        return self.call("ping")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IPAClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.servers)
        return f"IPAClient([{names}], auth={self.auth!r})"

    # -- attempts ----------------------------------------------------------

    def _request(
        self, command: str, args: list[Any], options: dict[str, Any], deadline: float | None
    ) -> tuple[dict[str, Any], _Call]:
        options.setdefault("version", self.api_version)
        call = _Call(command, self._deadline_at(deadline))
        answer = self._send(call, {"method": command, "params": [args, options]})
        error = answer.get("error")
        if error:
            if not isinstance(error, dict):
                raise ProtocolError(f"IPA {command}: malformed error member")
            exc = from_json(error)
            # A write sent twice may have been applied by the first attempt:
            # callers treat e.g. DuplicateEntry with attempts > 1 accordingly.
            exc.attempts = max(call.sent, 1)
            raise exc
        result = answer.get("result")
        if not isinstance(result, dict):
            raise ProtocolError(f"IPA {command}: answer has no result object")
        return result, call

    def _deadline_at(self, deadline: float | None) -> float | None:
        limit = deadline if deadline is not None else self.deadline
        return None if limit is None else time.monotonic() + limit

    def _send(self, call: _Call, payload: dict[str, Any]) -> dict[str, Any]:
        servers = self.servers
        count = len(servers)
        total = max(self.connect_retries + 1, count)
        start = self._preferred
        last: Retryable | None = None
        attempts = 0
        for attempt in range(total):
            # Failover is immediate; only a new round over all servers waits.
            if attempt and attempt % count == 0 and not self._pause(call, attempt // count - 1):
                break
            timeout = self._attempt_timeout(call)
            if timeout is None:
                call.deadline_hit = True
                break
            attempts += 1
            index = (start + attempt) % count
            server = servers[index]
            began = time.monotonic()
            try:
                answer = self._exchange(call, index, payload, timeout)
            except Retryable as exc:
                last = exc
                self._log(call, server, attempts, began, f"retry ({exc.reason})")
                continue
            except IPAClientError as exc:
                self._log(call, server, attempts, began, f"failed ({type(exc).__name__})")
                raise
            self._preferred = index
            error = answer.get("error")
            outcome = "ok"
            if isinstance(error, dict):
                outcome = f"ipa-error {error.get('name')} ({error.get('code')})"
            self._log(call, server, attempts, began, outcome)
            return answer
        names = ", ".join(s.name for s in servers)
        reason = last.reason if last else "no attempt made"
        if call.deadline_hit:
            reason += " (call deadline reached)"
        raise TransportError(
            f"IPA {call.command}: no answer from {names} after {attempts} attempt(s): {reason}"
        )

    def _pause(self, call: _Call, round_number: int) -> bool:
        """Back off before the next round; False if the deadline forbids it."""
        delay = self.backoff.delay(round_number)
        remaining = call.remaining()
        if remaining is not None and delay >= remaining:
            # Sleeping into the deadline only delays the caller's answer.
            call.deadline_hit = True
            return False
        if delay > 0:
            self.backoff.sleep(delay)
        return True

    def _attempt_timeout(self, call: _Call) -> httpx.Timeout | None:
        remaining = call.remaining()
        if remaining is None:
            return self._timeout
        if remaining <= 0.001:
            return None
        base = self._timeout

        def cap(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return httpx.Timeout(
            connect=cap(base.connect), read=cap(base.read), write=cap(base.write),
            pool=cap(base.pool),
        )

    def _exchange(
        self, call: _Call, index: int, payload: dict[str, Any], timeout: httpx.Timeout
    ) -> dict[str, Any]:
        """One attempt on one server: session, POST, one re-login on 401."""
        server = self.servers[index]
        session = self._sessions[index]

        def login() -> str:
            return self._login(server, timeout)

        endpoint = self._endpoints[index]
        cookie, generation = session.get(login, call.remaining())
        response = self._post(call, endpoint, payload, cookie, timeout)
        logged_in = False
        # A 401 means the session ended: log in again (once per call) unless
        # another thread already has, then resend.  The bound only matters
        # when sessions are dropped again and again while we retry.
        for _ in range(3):
            if response.status_code != 401:
                break
            LOG.debug("IPA %s server=%s session rejected (HTTP 401)", call.command, server)
            renewed = session.renew(
                login, generation, call.remaining(), may_login=not logged_in
            )
            if renewed is None:
                break
            cookie, generation, did_login = renewed
            logged_in = logged_in or did_login
            response = self._post(call, endpoint, payload, cookie, timeout)
        if response.status_code == 401:
            session.forget(generation)
            raise AuthenticationFailed(f"{server} rejected a fresh session (HTTP 401)")
        status = response.status_code
        if status >= 500:
            raise Retryable(f"HTTP {status}", sent=True)
        if status != 200:
            raise ProtocolError(f"IPA {call.command}: unexpected HTTP {status} from {server}")
        try:
            answer = response.json()
        except ValueError:
            raise ProtocolError(f"IPA {call.command}: {server} did not answer JSON") from None
        if not isinstance(answer, dict) or ("error" not in answer and "result" not in answer):
            raise ProtocolError(f"IPA {call.command}: {server} answered no JSON-RPC response")
        if answer.get("id") is not None and answer.get("id") != payload.get("id"):
            raise ProtocolError(f"IPA {call.command}: {server} answered another request id")
        return answer

    def _post(
        self,
        call: _Call,
        endpoint: _Endpoint,
        payload: dict[str, Any],
        cookie: str,
        timeout: httpx.Timeout,
    ) -> httpx.Response:
        if self._http.is_closed:  # as httpx.Client would refuse, not a pool reopened
            raise RuntimeError("the IPA client has been closed")
        payload["id"] = next(self._ids)
        body = json.dumps(payload).encode("utf-8")
        headers = [
            *endpoint.headers,
            (b"Cookie", f"{SESSION_COOKIE}={cookie}".encode("ascii")),
            (b"Content-Length", str(len(body)).encode("ascii")),
        ]
        extensions = {
            "timeout": self._timeout_ext if timeout is self._timeout else timeout.as_dict()
        }
        request = httpx.Request(
            "POST", endpoint.url, headers=headers, stream=httpx.ByteStream(body),
            extensions=extensions,
        )
        call.sent += 1
        try:
            response = self._transport.handle_request(request)
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        except httpx.TransportError as exc:
            failure = transport_failure(exc)
            if not failure.sent:
                call.sent -= 1
            raise failure from None
        if response.status_code == 401:
            call.sent -= 1  # rejected before IPA ran the command
        return response

    def _login(self, server: IPAServer, timeout: httpx.Timeout) -> str:
        began = time.monotonic()
        try:
            cookie = self.auth.login(self._http, server, timeout)
        except Retryable as exc:
            self._log_login(server, began, f"retry ({exc.reason})")
            raise
        except IPAClientError as exc:
            self._log_login(server, began, f"failed ({type(exc).__name__})")
            raise
        self._log_login(server, began, "ok")
        return cookie

    def _log(self, call: _Call, server: IPAServer, attempt: int, began: float, outcome: str):
        LOG.debug(
            "IPA %s server=%s attempt=%d duration=%.3fs outcome=%s",
            call.command, server.name, attempt, time.monotonic() - began, outcome,
        )

    def _log_login(self, server: IPAServer, began: float, outcome: str) -> None:
        LOG.debug(
            "IPA login server=%s method=%s duration=%.3fs outcome=%s",
            server.name, self.auth.method, time.monotonic() - began, outcome,
        )


def _batch_item(item: Any) -> BatchItem:
    if not isinstance(item, dict):
        raise ProtocolError("IPA batch: malformed item")
    if item.get("error") is None:
        return BatchItem(result={k: v for k, v in item.items() if k != "error"})
    kw = item.get("error_kw")
    error = from_json(
        {
            "code": item.get("error_code"),
            "name": item.get("error_name"),
            "message": item.get("error"),
            "data": kw if isinstance(kw, dict) else None,
        }
    )
    return BatchItem(error=error)


