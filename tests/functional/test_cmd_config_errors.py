"""novajoin-server and novajoin-notify refuse a broken join.conf with one clear line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = """[DEFAULT]
auth_strategy = noauth
url = https://127.0.0.1:1/ipa
ipa_server_name = ipa.example.test
domain = example.test
realm = EXAMPLE.TEST
otp_key_file = {missing}/otp.key
keytab = {missing}/nova.keytab
cafile = {missing}/ca.pem
principal = nova/compute.example.test
"""


@pytest.mark.parametrize("command", ["server", "notify"])
def test_broken_config_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    config = tmp_path / "join.conf"
    config.write_text(BROKEN.format(missing=tmp_path / "missing"))
    run = subprocess.run([sys.executable, "-m", f"novajoin.cmd.{command}",
                          "--config-file", str(config)],
                         capture_output=True, text=True, timeout=120, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "configuration error: " in errors[0], output
    assert str(tmp_path / "missing") in errors[0]
    assert "Traceback" not in output
