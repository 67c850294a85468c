"""Start a real ``novajoin-server`` subprocess for tests, demos and benchmarks.

::

    with NovajoinServer(tmp_path, {"DEFAULT": {"url": ipa_url, ...}}) as server:
        httpx.post(server.url + "/v1/", json=body)

It writes ``join.conf`` from the given overrides (plus listen address,
port and ``auth_strategy = noauth`` unless overridden) into ``workdir``,
starts ``novajoin-server --config-file ...`` on a free 127.0.0.1 port, waits
until /healthcheck answers (healthy or not), and stops it with SIGTERM.
Its stderr and log go to ``workdir/novajoin-server.log``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from novajoin.testing.processes import terminate

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_format(item) for item in value)
    return str(value)


def write_config(path: Path, sections: Mapping[str, Mapping[str, Any]]) -> Path:
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_format(value)}" for key, value in options.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


class NovajoinServer:
    """One ``novajoin-server`` subprocess (see the module docstring)."""

    def __init__(
        self,
        workdir: Path,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        wait: bool = True,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        sections: dict[str, dict[str, Any]] = {
            "DEFAULT": {
                "join_listen": "127.0.0.1",
                "join_listen_port": self.port,
                "auth_strategy": "noauth",
            }
        }
        for section, options in (overrides or {}).items():
            sections.setdefault(section, {}).update(options)
        self.config_file = write_config(self.workdir / "join.conf", sections)
        self.log_path = self.workdir / "novajoin-server.log"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._wait = wait

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NovajoinServer:
        script = Path(sys.executable).with_name("novajoin-server")
        launcher = [str(script)] if script.exists() else [
            sys.executable, "-m", "novajoin.cmd.server"]
        cmd = [*launcher, "--config-file", str(self.config_file)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir
            )
        if self._wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"novajoin-server exited ({self.process.returncode}):\n{self.log_text()}"
                    )
                try:
                    client.get(self.url + "/healthcheck")
                    return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"novajoin-server did not start:\n{self.log_text()}")
                time.sleep(0.05)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL after ``timeout``; returns the exit code."""
        return terminate(self.process, timeout)

    def __enter__(self) -> NovajoinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ipa_overrides(fake_ipa: Any, otp_key_file: Path, **extra: Any) -> dict[str, dict[str, Any]]:
    """join.conf [DEFAULT] for a ``fake_ipa`` simulator (tests/functional/conftest.py)."""
    lab = fake_ipa.lab
    options: dict[str, Any] = {
        "url": fake_ipa.url,
        "ipa_server_name": fake_ipa.fqdn,
        "cafile": fake_ipa.ca_file,
        "keytab": lab.nova_keytab,
        "principal": lab.nova_principal,
        "domain": fake_ipa.domain,
        "realm": fake_ipa.realm,
        "otp_key_file": otp_key_file,
    }
    options.update(extra)
    return {"DEFAULT": options}
