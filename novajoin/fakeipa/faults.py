"""Latency, a concurrency cap and injected faults.

A real IPA server is slow under load, serialises LDAP writes, restarts
Apache (resets, 500s), expires sessions and sometimes denies access.  The
client and the service must survive all of that, so tests switch these
behaviours on through the admin interface and observe the outcome.

Fault kinds (each fires ``count`` times, default 1, or for ``duration`` s;
``commands`` limits it to those command names, version suffix ignored):

* ``http500``: HTTP 500 with Apache's HTML page (no JSON);
* ``reset``: the TCP connection is dropped with RST (SO_LINGER 0);
* ``aci``: the command is answered with ACIError 2100 (not executed);
* ``expire_session``: all sessions are dropped when a request carrying a
  session cookie arrives, so that very request gets HTTP 401;
* ``hang``: the answer is delayed by ``seconds``, then given normally.

They hit JSON-RPC requests after authentication; ``http500`` and ``reset``
hit the login endpoints instead when armed with ``on_login``.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("http500", "reset", "aci", "expire_session", "hang")
# Faults that can also hit the login endpoints (when asked with on_login).
LOGIN_FAULT_KINDS = ("http500", "reset")


class FaultSpecError(ValueError):
    """An admin request described an impossible fault or latency."""


@dataclass
class Fault:
    """One armed fault; it fires ``count`` times or until ``deadline``."""

    kind: str
    count: int | None = None
    deadline: float | None = None
    commands: frozenset[str] | None = None
    seconds: float = 0.0
    on_login: bool = False
    fired: int = 0
    id: int = 0

    def expired(self, now: float) -> bool:
        if self.deadline is not None and now >= self.deadline:
            return True
        return self.count is not None and self.fired >= self.count

    def matches(self, method: str | None, login: bool) -> bool:
        if login:
            return self.on_login and self.kind in LOGIN_FAULT_KINDS
        if self.commands is None:
            return True
        return method is not None and _base_name(method) in self.commands

    def describe(self) -> dict[str, Any]:
        remaining = None if self.count is None else max(self.count - self.fired, 0)
        return {
            "id": self.id,
            "kind": self.kind,
            "remaining": remaining,
            "until": self.deadline,
            "commands": sorted(self.commands) if self.commands is not None else None,
            "seconds": self.seconds,
            "on_login": self.on_login,
            "fired": self.fired,
        }


def _base_name(method: str) -> str:
    """``host_add/1`` -> ``host_add``: faults name commands without version."""
    return method.split("/", 1)[0]


def _number(spec: dict[str, Any], key: str, *, integer: bool = False) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{key} must be a number")
    if value < 0:
        raise FaultSpecError(f"{key} must not be negative")
    if integer and int(value) != value:
        raise FaultSpecError(f"{key} must be an integer")
    return value


def parse_fault(spec: Any) -> Fault:
    """Build a Fault from the admin JSON body (validated, clear errors)."""
    if not isinstance(spec, dict):
        raise FaultSpecError("fault must be a JSON object")
    unknown = set(spec) - {"kind", "count", "duration", "commands", "seconds", "on_login"}
    if unknown:
        raise FaultSpecError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    count = _number(spec, "count", integer=True)
    duration = _number(spec, "duration")
    if count is None and duration is None:
        count = 1
    seconds = _number(spec, "seconds") or 0.0
    if kind == "hang" and seconds <= 0:
        raise FaultSpecError("hang needs seconds > 0")
    commands = spec.get("commands")
    if commands is not None:
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise FaultSpecError("commands must be a list of command names")
        commands = frozenset(_base_name(c) for c in commands)
    on_login = spec.get("on_login", False)
    if not isinstance(on_login, bool):
        raise FaultSpecError("on_login must be true or false")
    if on_login and kind not in LOGIN_FAULT_KINDS:
        raise FaultSpecError(f"on_login only applies to {', '.join(LOGIN_FAULT_KINDS)}")
    return Fault(
        kind=kind,
        count=int(count) if count is not None else None,
        deadline=time.monotonic() + duration if duration is not None else None,
        commands=commands,
        seconds=float(seconds),
        on_login=on_login,
    )


class FaultInjector:
    """Armed faults, consulted once per request; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._next_id += 1
            fault.id = self._next_id
            self._faults.append(fault)
            return fault

    def take(
        self, method: str | None, *, login: bool = False, kinds: Iterable[str] | None = None
    ) -> Fault | None:
        """The first armed fault matching this request; counts it as fired."""
        wanted = set(kinds) if kinds is not None else None
        now = time.monotonic()
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired(now)]
            for fault in self._faults:
                if wanted is not None and fault.kind not in wanted:
                    continue
                if fault.matches(method, login):
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired(now)]
            return [f.describe() for f in self._faults]


class ConcurrencyLimiter:
    """A semaphore whose size can change at run time (0 = unlimited)."""

    def __init__(self, limit: int = 0) -> None:
        self._cond = threading.Condition()
        self._limit = limit
        self._active = 0
        self.peak = 0

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        with self._cond:
            self._limit = limit
            self.peak = self._active
            self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self._limit and self._active >= self._limit:
                self._cond.wait()
            self._active += 1
            self.peak = max(self.peak, self._active)
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify()


@dataclass
class Latency:
    """Per-command delay: ``seconds`` plus a uniform random ``jitter``."""

    seconds: float = 0.0
    jitter: float = 0.0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self) -> float:
        if self.seconds <= 0 and self.jitter <= 0:
            return 0.0
        return self.seconds + (self._rng.uniform(0, self.jitter) if self.jitter > 0 else 0.0)


class Conditions:
    """Everything the admin interface can switch: latency, cap, faults."""

    def __init__(self) -> None:
        self.faults = FaultInjector()
        self.limiter = ConcurrencyLimiter()
        self._latency = Latency()
        self._lock = threading.Lock()

    def set_latency(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise FaultSpecError("latency must be a JSON object")
        unknown = set(spec) - {"seconds", "jitter", "max_concurrent"}
        if unknown:
            raise FaultSpecError(f"unknown latency fields: {', '.join(sorted(unknown))}")
        seconds = _number(spec, "seconds")
        jitter = _number(spec, "jitter")
        max_concurrent = _number(spec, "max_concurrent", integer=True)
        with self._lock:
            self._latency = Latency(
                seconds=float(seconds if seconds is not None else self._latency.seconds),
                jitter=float(jitter if jitter is not None else 0.0),
            )
        if max_concurrent is not None:
            self.limiter.set_limit(int(max_concurrent))
        return self.describe_latency()

    def delay(self) -> float:
        with self._lock:
            return self._latency.delay()

    def describe_latency(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seconds": self._latency.seconds,
                "jitter": self._latency.jitter,
                "max_concurrent": self.limiter.limit,
            }

    def reset(self) -> None:
        self.faults.clear()
        with self._lock:
            self._latency = Latency()
        self.limiter.set_limit(0)
