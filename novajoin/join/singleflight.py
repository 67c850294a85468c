"""Coalesce concurrent identical requests inside one process.

nova asks for the same instance many times at once (six times for a config drive, plus the
metadata service, from several workers).  When such requests overlap in one
``novajoin-server`` process, only the first goes to IPA; the others wait for
its outcome and share it.  Nothing is kept once the call completes, so this is
not a cache: correctness across replicas still rests on IPA alone, and this
only removes duplicate round trips (and add races) within a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class FlightTimeout(Exception):
    """The call being waited for did not finish in time."""


class _Flight(Generic[T]):
    __slots__ = ("done", "error", "result", "waiters")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.waiters = 0


class SingleFlight(Generic[T]):
    """``do(key, fn)`` runs ``fn`` once for all callers that overlap on ``key``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight[T]] = {}

    def do(self, key: Hashable, fn: Callable[[], T], *, timeout: float) -> T:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            else:
                flight.waiters += 1
        if leader:
            try:
                flight.result = fn()
            except BaseException as exc:
                flight.error = exc
                raise
            finally:
                with self._lock:
                    del self._flights[key]
                flight.done.set()
            return flight.result
        if not flight.done.wait(timeout):
            raise FlightTimeout("an identical request in flight did not finish in time")
        if flight.error is not None:
            raise flight.error
        return flight.result  # type: ignore[return-value]

    def in_flight(self) -> int:
        with self._lock:
            return len(self._flights)
