"""The systemd units and the logrotate file: they load, and they sandbox what they say.

``systemd-analyze verify`` runs on copies whose ExecStart points at an existing
binary (it rejects a command that is not installed here); everything else in the
units is verified as shipped.
"""

from __future__ import annotations

import getpass
import grp
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNITS = {
    "novajoin-server": ROOT / "deploy" / "systemd" / "novajoin-server.service",
    "novajoin-notify": ROOT / "deploy" / "systemd" / "novajoin-notify.service",
}
LOGROTATE = ROOT / "deploy" / "logrotate" / "novajoin"

REQUIRED = {
    "User": "novajoin",
    "Group": "novajoin",
    "Restart": "on-failure",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ReadWritePaths": "/var/log/novajoin",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
}


def _service_section(path: Path) -> dict[str, list[str]]:
    """[Service] as name -> every value given (systemd allows a key to repeat)."""
    section = ""
    values: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section == "[Service]":
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_runs_the_right_command_as_a_sandboxed_user(name: str) -> None:
    service = _service_section(UNITS[name])
    assert service["ExecStart"] == [f"/usr/bin/{name} --config-file /etc/novajoin/join.conf"]
    for key, value in REQUIRED.items():
        assert service.get(key) == [value], key
    assert "@system-service" in service["SystemCallFilter"]


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    stand_in = shutil.which("true")
    assert stand_in
    for name, path in UNITS.items():
        text = path.read_text().replace(f"ExecStart=/usr/bin/{name} ",
                                        f"ExecStart={stand_in} ")
        (tmp_path / path.name).write_text(text)
    proc = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / p.name) for p in UNITS.values())],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if "novajoin" in line]
    assert proc.returncode == 0, proc.stderr
    assert ours == []


def test_logrotate_file_parses(tmp_path: Path) -> None:
    logrotate = shutil.which("logrotate") or (
        "/usr/sbin/logrotate" if Path("/usr/sbin/logrotate").exists() else None)
    if not logrotate:
        pytest.skip("logrotate is not installed")
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    text = (LOGROTATE.read_text().replace("novajoin novajoin", f"{user} {group}")
            .replace("/var/log/novajoin", str(tmp_path)))
    conf = tmp_path / "conf"
    conf.write_text(text)
    (tmp_path / "novajoin-server.log").write_text("a line\n")
    proc = subprocess.run([logrotate, "-d", "-s", str(tmp_path / "state"), str(conf)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr.lower()
    assert "considering log" in proc.stderr
