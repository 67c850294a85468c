"""Stopping the subprocesses the test rigs and the demo start."""

from __future__ import annotations

import signal
import subprocess


def terminate(process: subprocess.Popen | None, timeout: float = 15.0) -> int | None:
    """SIGTERM (graceful), then SIGKILL after ``timeout``; returns the exit code."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode
