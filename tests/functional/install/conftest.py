"""Fixtures for installer tests: a stand-in for ipa-getkeytab and a runner for the CLIs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
GETKEYTAB = HERE / "fake_ipa_getkeytab.py"
READS = ("_show", "_find")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def getkeytab_cmd() -> str:
    """--getkeytab-command value running the stand-in with this interpreter."""
    return f"{sys.executable} {GETKEYTAB}"


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., Run]:
    """Run ``python -m novajoin.cmd.<module> ARGS`` as a real child process."""

    def run(module: str, *args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> Run:
        import os

        proc = subprocess.run([sys.executable, "-m", f"novajoin.cmd.{module}", *args],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, **(env or {})}, input=stdin)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def writes(calls: list[dict]) -> list[str]:
    """Names of the IPA commands in the call log that change something."""
    out = []
    for call in calls:
        method = call.get("method") or ""
        if method == "batch":
            inner = (call.get("params") or [[]])[0]
            out += [m.get("method", "?") for m in inner if isinstance(m, dict)
                    and not m.get("method", "").endswith(READS)]
        elif method and not method.endswith(READS) and method not in ("ping", "env"):
            out.append(method)
    return out


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
