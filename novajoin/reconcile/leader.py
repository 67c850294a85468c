"""One active reconciler: a tooz lock held for the whole of a run.

Every node runs ``novajoin-reconcile --service``; before each run a node tries
the lock without waiting.  The holder acts; the others skip this run and try
again at their next interval, so when the active node dies its lock expires
(tooz's heartbeat stops refreshing it) and another node takes over.  The
lock, not a home-made election, is what guarantees that two reconcilers never
act at once; any tooz backend with locks works (Redis, etcd3, ZooKeeper, ...).
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

LOG = logging.getLogger("novajoin.reconcile")


class CoordinationUnavailable(Exception):
    """The coordination backend cannot be reached: no run may act."""


class Leader:
    """A tooz coordinator and the reconciler's lock (``with leader.turn() as mine``)."""

    def __init__(self, url: str, lock_name: str, *, member_id: str | None = None) -> None:
        self._url = url
        self._lock_name = lock_name.encode()
        self.member_id = member_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._coordinator = None
        self._lock = None

    def start(self) -> None:
        from tooz import coordination

        try:
            self._coordinator = coordination.get_coordinator(self._url,
                                                             self.member_id.encode())
            self._coordinator.start(start_heart=True)
        except Exception as exc:  # tooz raises backend-specific errors
            self._coordinator = None
            raise CoordinationUnavailable(f"coordination backend: {type(exc).__name__}: "
                                          f"{exc}") from None
        self._lock = self._coordinator.get_lock(self._lock_name)

    def stop(self) -> None:
        if self._coordinator is not None:
            try:
                self._coordinator.stop()
            except Exception as exc:
                LOG.warning("stopping the coordinator: %s", type(exc).__name__)
            self._coordinator = None

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Yields True when this process holds the lock (and must act), else False."""
        if self._coordinator is None:
            self.start()
        assert self._lock is not None
        try:
            mine = self._lock.acquire(blocking=False)
        except Exception as exc:
            raise CoordinationUnavailable(f"coordination backend: {type(exc).__name__}: "
                                          f"{exc}") from None
        try:
            yield bool(mine)
        finally:
            if mine:
                try:
                    self._lock.release()
                except Exception as exc:  # expires by itself
                    LOG.warning("releasing the reconcile lock: %s", type(exc).__name__)

    def __enter__(self) -> Leader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
