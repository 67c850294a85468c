"""The README's first two commands are the ones that exist and work."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README must start with a sh block of commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readme_names_the_demo_and_the_test_command() -> None:
    assert _readme_commands() == ["bash tools/demo.sh", "bash tools/test.sh"]
    assert "bash tools/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_demo_runs_a_kerberos_round_trip_on_its_own_lab(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NOVAJOIN_DEMO_DIR": str(tmp_path / "demo"),
        "NOVAJOIN_DEMO_IPA_PORT": str(_free_port()),
        "NOVAJOIN_DEMO_ADMIN_PORT": str(_free_port()),
    }
    # The demo must not lean on the test session's own realm.
    env.pop("KRB5_CONFIG", None)
    env.pop("KRB5_KDC_PROFILE", None)
    proc = subprocess.run(
        ["bash", "tools/demo.sh", "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the simulator is ready" in proc.stdout
    assert "has_keytab=True" in proc.stdout
    password = (tmp_path / "demo" / "krb5" / "admin.password").read_text().strip()
    assert password not in proc.stdout + proc.stderr
    # The simulator and the KDC are gone once the demo exits.
    lab_pid = (tmp_path / "demo" / "krb5" / "kdc.pid")
    assert not lab_pid.exists()
