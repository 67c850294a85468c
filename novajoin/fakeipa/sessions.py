"""Server-side IPA sessions: what the ``ipa_session`` cookie stands for."""

from __future__ import annotations

import secrets
import threading
import time

DEFAULT_SESSION_TIMEOUT = 20 * 60.0


class SessionStore:
    """Server-side sessions with an inactivity timeout (IPA's default 20 min)."""

    def __init__(self, timeout: float = DEFAULT_SESSION_TIMEOUT) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, float]] = {}

    def create(self, principal: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = (principal, time.monotonic() + self.timeout)
        return sid

    def lookup(self, sid: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            found = self._sessions.get(sid)
            if found is None:
                return None
            principal, expiry = found
            if now >= expiry:
                del self._sessions[sid]
                return None
            self._sessions[sid] = (principal, now + self.timeout)
            return principal

    def clear(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
