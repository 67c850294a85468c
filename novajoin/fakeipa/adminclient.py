"""A small client of the simulator's admin interface (for tests and demos)."""

from __future__ import annotations

from typing import Any

import httpx


class AdminError(Exception):
    """The admin interface refused a request; ``error`` is its JSON error."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {error.get('name', '')} {error.get('message', '')}")
        self.status = status
        self.error = error


class AdminClient:
    """``AdminClient(admin_url).enroll(fqdn, otp)`` and friends."""

    def __init__(self, admin_url: str, *, timeout: float = 30.0) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._http = httpx.Client(base_url=self.admin_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        response = self._http.request(method, path, json=json, params=params or None)
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": {"message": response.text[:500]}}
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            raise AdminError(response.status_code, error or {"message": str(payload)})
        return payload

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def state(self) -> dict[str, Any]:
        """The engine's snapshot (hosts, services, DNS, ...); no OTPs."""
        return self._call("GET", "/state")

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        """Call-log entries with ``seq > since``, oldest first."""
        return self._call("GET", "/calls", since=since)["calls"]

    def last_call_seq(self) -> int:
        return self._call("GET", "/calls", since=2**62)["last"]

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def enroll(self, fqdn: str, otp: str) -> dict[str, Any]:
        """Simulate ipa-client-install with the OTP; raises AdminError if refused."""
        return self._call("POST", "/enroll", json={"fqdn": fqdn, "otp": otp})

    def inject_fault(
        self,
        kind: str,
        *,
        count: int | None = None,
        duration: float | None = None,
        commands: list[str] | None = None,
        seconds: float | None = None,
        on_login: bool = False,
    ) -> dict[str, Any]:
        """Arm a fault: http500, reset, aci, expire_session or hang (count 1 by default)."""
        spec: dict[str, Any] = {"kind": kind}
        if count is not None:
            spec["count"] = count
        if duration is not None:
            spec["duration"] = duration
        if commands is not None:
            spec["commands"] = list(commands)
        if seconds is not None:
            spec["seconds"] = seconds
        if on_login:
            spec["on_login"] = True
        return self._call("POST", "/faults", json=spec)

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_latency(
        self, seconds: float, jitter: float = 0.0, max_concurrent: int | None = None
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {"seconds": seconds, "jitter": jitter}
        if max_concurrent is not None:
            spec["max_concurrent"] = max_concurrent
        return self._call("POST", "/latency", json=spec)

    def expire_sessions(self) -> int:
        return self._call("POST", "/sessions/expire")["expired"]

    def reset(self) -> None:
        """Empty state, no faults, no latency, no sessions, empty call log."""
        self._call("POST", "/reset")
