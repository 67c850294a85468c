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


def test_demo_answers_the_documented_curl_request(tmp_path: Path) -> None:
    """README command 1 on its own realm: server + simulator + KDC, then curl."""
    env = {k: v for k, v in os.environ.items() if k not in ("KRB5_CONFIG", "KRB5_KDC_PROFILE")}
    demo = tmp_path / "demo"
    proc = subprocess.run(
        ["bash", "tools/demo.sh", "--smoke", "--dir", str(demo), "--port", str(_free_port()),
         "--ipa-port", str(_free_port()), "--admin-port", str(_free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "asked again, same OTP: True" in proc.stdout
    assert "enrolled=True, OTP given: False" in proc.stdout
    assert "novajoin is ready" in proc.stdout
    password = (demo / "krb5" / "admin.password").read_text().strip()
    assert password not in proc.stdout + proc.stderr
    # Everything the demo started is gone once it exits.
    assert not (demo / "krb5" / "kdc.pid").exists()
    assert not (demo / "fakeipa.json").exists()
