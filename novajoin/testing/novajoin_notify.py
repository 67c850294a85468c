"""Start a real ``novajoin-notify`` subprocess for tests and demos.

::

    overrides = notify_overrides(fake_ipa, vhost.transport_url, retry_window=2.0)
    with NovajoinNotify(tmp_path, overrides) as listener:
        publisher.instance_deleted(instance)
        ...
    listener.kill()      # SIGKILL: no goodbye, unacked messages go back to the queue

It writes ``join.conf`` (the same file novajoin-server reads, plus
``[DEFAULT] transport_url`` and a ``[notify]`` group) into ``workdir``,
starts ``novajoin-notify --config-file ...`` and waits until it consumes:
its pool queue on the broker has a consumer (asked with ``rabbitmqctl``,
so no log wording is assumed).  Output goes to ``workdir/novajoin-notify.log``
(appended across restarts).  ``metrics()`` reads its Prometheus page when
``metrics_port`` is set (``notify_overrides`` picks a free port).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from novajoin.testing.novajoin_server import free_port, write_config
from novajoin.testing.processes import terminate
from novajoin.testing.rabbit import Vhost

START_TIMEOUT = 30.0
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def notify_overrides(
    fake_ipa: Any, transport_url: str, **notify_options: Any
) -> dict[str, dict[str, Any]]:
    """join.conf sections for the ``fake_ipa`` simulator and a broker vhost.

    ``notify_options`` go to ``[notify]``; a free ``metrics_port`` is chosen
    unless given.  Short retry settings keep outage tests fast.
    """
    lab = fake_ipa.lab
    notify: dict[str, Any] = {"metrics_port": free_port(), "retry_initial": 0.2,
                              "retry_max": 1.0}
    notify.update(notify_options)
    return {
        "DEFAULT": {
            "url": fake_ipa.url,
            "ipa_server_name": fake_ipa.fqdn,
            "cafile": fake_ipa.ca_file,
            "keytab": lab.nova_keytab,
            "principal": lab.nova_principal,
            "domain": fake_ipa.domain,
            "realm": fake_ipa.realm,
            "transport_url": transport_url,
            "debug": False,
        },
        "notify": notify,
    }


class NovajoinNotify:
    """One ``novajoin-notify`` subprocess (see the module docstring)."""

    def __init__(
        self,
        workdir: Path,
        overrides: Mapping[str, Mapping[str, Any]],
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sections = {name: dict(options) for name, options in overrides.items()}
        self.config_file = write_config(self.workdir / "join.conf", self.sections)
        self.log_path = self.workdir / "novajoin-notify.log"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        url = urllib.parse.urlsplit(str(self.sections["DEFAULT"]["transport_url"]))
        self.vhost = Vhost(urllib.parse.unquote(url.path.lstrip("/")) or "/")
        self.pool = str(self.sections.get("notify", {}).get("pool", "novajoin"))

    @property
    def metrics_port(self) -> int:
        return int(self.sections.get("notify", {}).get("metrics_port") or 0)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, wait: bool = True) -> NovajoinNotify:
        if self.running:
            raise RuntimeError("novajoin-notify is already running")
        script = Path(sys.executable).with_name("novajoin-notify")
        launcher = [str(script)] if script.exists() else [
            sys.executable, "-m", "novajoin.cmd.notify"]
        cmd = [*launcher, "--config-file", str(self.config_file)]
        with open(self.log_path, "ab") as log:
            log.write(f"--- novajoin-notify start #{self.starts + 1} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        self.starts += 1
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until the pool queue has a consumer (the listener is consuming)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"novajoin-notify exited ({self.process.returncode}):\n{self.log_text()}")
            stats = self.vhost.queue(self.pool)
            if stats is not None and stats.consumers > 0:
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"novajoin-notify did not consume within {timeout:g} s:\n{self.log_text()}")
            time.sleep(0.2)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def metrics(self) -> dict[str, float]:
        """Prometheus samples ``name{labels}`` -> value (empty if metrics are off)."""
        if not self.metrics_port or not self.running:
            return {}
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5.0,
                         trust_env=False).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            match = _SAMPLE.match(line.strip())
            if match and not line.startswith("#"):
                samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
        return samples

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL after ``timeout``; returns the exit code."""
        return terminate(self.process, timeout)

    def kill(self) -> int | None:
        """SIGKILL: what a crash or an OOM kill looks like to the broker."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20.0)
        return self.process.returncode

    def __enter__(self) -> NovajoinNotify:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------- observing the simulator (for scenario tests)

def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
             poll: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def hosts(fake_ipa: Any) -> dict[str, Any]:
    """Host entries of the simulator (the IPA server itself left out)."""
    return {k: v for k, v in fake_ipa.admin.state()["hosts"].items() if k != fake_ipa.fqdn}


def zone_records(fake_ipa: Any, zone: str) -> dict[str, dict[str, list[str]]]:
    zones = fake_ipa.admin.state()["dnszones"]
    found = zones.get(zone.lower()) or zones.get(zone.lower().rstrip(".") + ".")
    return (found or {}).get("records", {})


def ipa_calls(fake_ipa: Any, since: int = 0) -> list[dict[str, Any]]:
    """JSON-RPC calls (logins left out) after ``since``, batch items expanded."""
    out: list[dict[str, Any]] = []
    for call in fake_ipa.admin.calls(since):
        method = (call.get("method") or "").partition("/")[0]
        if not method:
            continue
        if method == "batch":
            for item in ((call.get("params") or [[]])[0] or []):
                if isinstance(item, dict):
                    out.append({**call, "method": str(item.get("method", "")).partition("/")[0],
                                "params": item.get("params"), "batched": True})
            continue
        out.append({**call, "method": method})
    return out
