"""Prometheus metrics of the listener.

Each ``Metrics`` has its own registry so that several listeners can live in
one process (tests) without clashing on metric names.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

LOG = logging.getLogger("novajoin.notify")

DONE = "done"          # IPA changed as asked
NOOP = "noop"          # nothing to do (already gone, not ours, duplicate)
REQUEUED = "requeued"  # IPA unavailable: handed back to the broker for later
POISON = "poison"      # can never be handled: acked and dropped
IGNORED = "ignored"    # an event novajoin does not act on
OUTCOMES = (DONE, NOOP, REQUEUED, POISON, IGNORED)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.notifications = Counter(
            "novajoin_notifications",
            "Notifications handled, by event type and outcome.",
            ["event_type", "outcome"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "novajoin_notification_seconds",
            "Time spent on one delivery of a notification (retries included).",
            ["event_type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self._server: Any = None
        self._lock = threading.Lock()
        # Labelled children by label values: ``labels()`` costs more than the
        # update itself (~4 us each, twice per notification).  Bounded: only
        # event types a handler acts on are counted.
        self._counters: dict[tuple[str, str], Any] = {}
        self._timers: dict[str, Any] = {}

    def count(self, event_type: str, outcome: str) -> None:
        child = self._counters.get((event_type, outcome))
        if child is None:
            child = self._counters.setdefault(
                (event_type, outcome),
                self.notifications.labels(event_type=event_type, outcome=outcome))
        child.inc()

    def observe(self, event_type: str, seconds: float) -> None:
        child = self._timers.get(event_type)
        if child is None:
            child = self._timers.setdefault(event_type,
                                            self.seconds.labels(event_type=event_type))
        child.observe(seconds)

    def value(self, event_type: str, outcome: str) -> float:
        """Current count (for tests and logs)."""
        got = self.registry.get_sample_value(
            "novajoin_notifications_total", {"event_type": event_type, "outcome": outcome})
        return got or 0.0

    def total(self, outcome: str) -> float:
        return sum(
            sample.value
            for metric in self.notifications.collect()
            for sample in metric.samples
            if sample.name == "novajoin_notifications_total"
            and sample.labels.get("outcome") == outcome
        )

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Serve /metrics on addr:port (0 = any free port); returns the port."""
        with self._lock:
            server, _thread = start_http_server(port, addr=addr, registry=self.registry)
            self._server = server
            return int(server.server_address[1])

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
