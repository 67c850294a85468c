"""A bounded, thread-safe record of the JSON-RPC calls the simulator answered.

Tests read it (through the admin interface) to count round trips, to see who
called what, and to prove that no secret was ever sent where it should not
be.  Params are stored already redacted: the log never holds a secret.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

DEFAULT_MAX_ENTRIES = 100_000


class CallLog:
    """Append-only log with a monotonically increasing sequence number."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._seq = 0

    def record(
        self,
        *,
        endpoint: str,
        principal: str | None,
        method: str | None,
        params: Any,
        outcome: str,
        code: int | None = None,
        duration: float = 0.0,
        fault: str | None = None,
    ) -> dict[str, Any]:
        """Add one entry; ``params`` must already be redacted."""
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "time": time.time(),
                "endpoint": endpoint,
                "principal": principal,
                "method": method,
                "params": params,
                "outcome": outcome,
                "code": code,
                "duration": round(duration, 6),
                "fault": fault,
            }
            self._entries.append(entry)
            return entry

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        """Entries with a sequence number greater than ``seq``, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > seq]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        """Forget the entries; sequence numbers keep growing (no reuse)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
