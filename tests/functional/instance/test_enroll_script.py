"""novajoin-enroll.sh, the instance side, run for real in a sandbox.

A fake ``ipa-client-install`` on PATH records its arguments, a fake ``logger``
records what would reach syslog, a local HTTP server plays nova's metadata
service and a directory plays the config drive.  Every run is also searched
for the OTP (stdout, stderr, log file, syslog) and for files left behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from build_cloud_config import CLOUD_CONFIG, PART_NAME, build
from enroll_sandbox import (
    OTP,
    SCRIPT,
    Result,
    Sandbox,
    answer,
    awks,
    metadata_server,
    otp_answer,
    shells,
)

EXPECTED_ARGS = ["-U", "--hostname", "vm1.example.test", "--realm", "EXAMPLE.TEST",
                 "--domain", "example.test", "--server", "ipa.example.test", "--mkhomedir",
                 "-w", OTP]
SHELLS = shells()
META_PATH = "/openstack/latest/meta_data.json"
VENDOR_PATH = "/openstack/latest/vendor_data2.json"


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def checked(box: Sandbox, result: Result, otp: str = OTP) -> Result:
    """The invariants of every run: the OTP is on no output, nothing is left behind."""
    assert otp not in result.everything
    assert box.leftovers() == []
    return result


def run(box: Sandbox, otp: str = OTP) -> Result:
    return checked(box, box.run(), otp)


# --- config drive ---------------------------------------------------------------------

@pytest.mark.parametrize("shell", SHELLS, ids=lambda argv: Path(argv[0]).name)
def test_enrolls_from_the_config_drive(tmp_path: Path, shell: list[str]) -> None:
    box = Sandbox(tmp_path, shell=shell)
    box.write_config_drive(otp_answer())
    with metadata_server() as server:
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert result.ipa_args == EXPECTED_ARGS
    assert server.hits == []  # the config drive was enough
    assert "answer from the config drive" in result.stderr
    assert "-w <redacted>" in result.log
    assert "enrolled vm1.example.test in EXAMPLE.TEST" in result.syslog


def test_optional_fields_and_mkhomedir_are_left_out(box: Sandbox) -> None:
    box.env["NOVAJOIN_MKHOMEDIR"] = "0"
    box.write_config_drive(answer(krb_realm="EXAMPLE.TEST", ipaotp=OTP,
                                  hostname="vm1.example.test"))
    result = run(box)
    assert result.rc == 0, result.stderr
    assert result.ipa_args == ["-U", "--hostname", "vm1.example.test", "--realm",
                               "EXAMPLE.TEST", "-w", OTP]


# --- metadata service -----------------------------------------------------------------

def test_enrolls_from_the_metadata_service_after_two_failures(box: Sandbox) -> None:
    with metadata_server() as server:
        server.replies[VENDOR_PATH] = [(500, "boom"), (500, "boom"), (200, otp_answer())]
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert result.ipa_args == EXPECTED_ARGS
    assert server.hits == [VENDOR_PATH] * 3
    assert "attempt 1 of 5: cannot read" in result.stderr
    assert "HTTP 500" in result.stderr
    assert "attempt 2 of 5" in result.stderr
    assert "answer from the metadata service" in result.log


def test_survives_dropped_connections_and_503(box: Sandbox) -> None:
    with metadata_server() as server:
        server.replies[VENDOR_PATH] = ["drop", (503, "busy"), (200, otp_answer())]
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert result.ipa_args == EXPECTED_ARGS
    assert len(server.hits) == 3


def test_gives_up_after_the_bounded_attempts(box: Sandbox) -> None:
    box.env["NOVAJOIN_ATTEMPTS"] = "3"
    result = run(box)  # port 9: connection refused every time
    assert result.rc == 2
    assert "giving up after 3 attempts" in result.stderr
    assert result.stderr.count("retrying in 0s") == 2
    assert result.ipa_args is None


def test_retries_wait_with_jitter_within_the_bound(box: Sandbox) -> None:
    box.env["NOVAJOIN_ATTEMPTS"] = "2"
    box.env["NOVAJOIN_RETRY_MAX_SLEEP"] = "1"
    result = run(box)
    assert result.rc == 2
    assert "retrying in 1s" in result.stderr  # min(2^1, 1) = 1 second, never more


def test_retries_while_nova_has_no_answer_for_an_instance_that_asked(box: Sandbox) -> None:
    """nova stores {} when novajoin fails, and caches it briefly: ask again."""
    with metadata_server() as server:
        server.replies[VENDOR_PATH] = [(200, {"join": {}}), (200, otp_answer())]
        server.default[META_PATH] = (200, {"uuid": "u", "meta": {"ipa_enroll": " True "}})
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert "although ipa_enroll=true" in result.stderr
    assert result.ipa_args == EXPECTED_ARGS


def test_missing_vendor_data2_is_a_configuration_error_not_retried(box: Sandbox) -> None:
    with metadata_server() as server:
        box.use_metadata_server(server)  # everything 404
        result = run(box)
    assert result.rc == 2
    assert "DynamicJSON" in result.stderr
    assert len(server.hits) == 1


def test_an_empty_config_drive_falls_back_to_the_metadata_service(box: Sandbox) -> None:
    box.config_drive.mkdir()  # a config drive without vendor_data2.json
    with metadata_server() as server:
        server.default[VENDOR_PATH] = (200, otp_answer())
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert result.ipa_args == EXPECTED_ARGS


# --- no OTP ---------------------------------------------------------------------------

def test_refuses_cleanly_with_the_reason_from_the_answer(box: Sandbox) -> None:
    reason = 'host "vm1.example.test" belongs to another instance'
    box.write_config_drive(answer(hostname="vm1.example.test", krb_realm="EXAMPLE.TEST",
                                  error=reason))
    result = run(box)
    assert result.rc == 3
    assert result.ipa_args is None
    assert f"novajoin refused to enroll vm1.example.test: {reason}" in result.stderr
    assert reason in result.log
    assert reason in result.syslog


def test_no_otp_and_no_reason(box: Sandbox) -> None:
    box.write_config_drive(answer(hostname="vm1.example.test", krb_realm="EXAMPLE.TEST"))
    result = run(box)
    assert result.rc == 3
    assert "no one-time password for vm1.example.test and no reason" in result.stderr
    assert result.ipa_args is None


def test_enrolled_in_ipa_but_not_here_says_so(box: Sandbox) -> None:
    box.write_config_drive(answer(hostname="vm1.example.test", krb_realm="EXAMPLE.TEST",
                                  ipa_domain="example.test", enrolled=True))
    result = run(box)
    assert result.rc == 4
    assert "already enrolled, but this machine is not" in result.stderr
    assert "ipa host-disable vm1.example.test" in result.stderr
    assert result.ipa_args is None


def test_not_requested_is_quiet_success(box: Sandbox) -> None:
    box.write_config_drive({"join": {}}, meta_data={"uuid": "u", "meta": {}})
    result = run(box)
    assert result.rc == 0
    assert "not requested" in result.stderr
    assert result.ipa_args is None


def test_no_join_target_at_all_is_not_requested(box: Sandbox) -> None:
    box.write_config_drive({})
    result = run(box)
    assert result.rc == 0
    assert result.ipa_args is None


def test_requested_but_empty_config_drive_is_an_error(box: Sandbox) -> None:
    box.write_config_drive({"join": {}}, meta_data={"meta": {"ipa_enroll": "true"}})
    result = run(box)
    assert result.rc == 2
    assert "novajoin-server failed or timed out" in result.stderr


# --- already enrolled -----------------------------------------------------------------

def test_does_nothing_when_already_enrolled(box: Sandbox) -> None:
    box.default_conf.parent.mkdir(parents=True)
    box.default_conf.write_text("[global]\nrealm = EXAMPLE.TEST\n")
    box.write_config_drive(otp_answer())
    with metadata_server() as server:
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0
    assert "already an IPA client" in result.stderr
    assert result.ipa_args is None
    assert server.hits == []


def test_backed_up_files_also_mean_enrolled(box: Sandbox) -> None:
    box.sysrestore.mkdir(parents=True)
    (box.sysrestore / "sysrestore.index").write_text("[files]\nabc = /etc/krb5.conf\n")
    box.write_config_drive(otp_answer())
    result = run(box)
    assert result.rc == 0
    assert result.ipa_args is None


def test_ipa_client_install_saying_already_configured_is_success(box: Sandbox) -> None:
    box.env["FAKE_IPA_RC"] = "3"
    box.write_config_drive(otp_answer())
    result = run(box)
    assert result.rc == 0
    assert result.ipa_args == EXPECTED_ARGS


def test_ipa_client_install_failure_is_reported(box: Sandbox) -> None:
    box.env["FAKE_IPA_RC"] = "1"
    box.write_config_drive(otp_answer())
    result = run(box)
    assert result.rc == 5
    assert "ipa-client-install failed (exit 1)" in result.stderr


def test_missing_ipa_client_install_is_a_clear_error(box: Sandbox) -> None:
    (box.bin / "ipa-client-install").unlink()
    box.env["PATH"] = f"{box.bin}:/usr/bin:/bin"
    if shutil.which("ipa-client-install", path="/usr/bin:/bin:/usr/sbin:/sbin"):
        pytest.skip("a real ipa-client-install is installed here")
    box.write_config_drive(otp_answer())
    result = run(box)
    assert result.rc == 1
    assert "ipa-client-install is not installed" in result.stderr


# --- the answer's JSON, parsed without python or jq ------------------------------------

ODD_BUT_VALID = [
    # key order, whitespace and newlines are free
    '\n{ "join" :\n\t{ "ipa_server":"ipa.example.test" ,"ipaotp" : "@OTP@",\r\n'
    ' "krb_realm":"EXAMPLE.TEST", "ipa_domain": "example.test",\n'
    ' "hostname": "vm1.example.test" } }\n'.replace("@OTP@", OTP),
    # other targets before and after, with nested objects, arrays, numbers, escapes
    '{"a": {"join": {"ipaotp": "decoy"}, "l": [1, -2.5e3, true, null, {"x": "\\"}"}]},'
    ' "join": {"hostname": "vm1.example.test", "ipaotp": "@OTP@", "krb_realm": "EXAMPLE.TEST",'
    ' "ipa_domain": "example.test", "ipa_server": "ipa.example.test", "extra": {"k": []}},'
    ' "z": "\\u00e9\\ud83d\\ude00"}'.replace("@OTP@", OTP),
    # JSON escapes inside the values themselves
    '{"join": {"hostname": "vm1\\u002eexample.test", "ipaotp": "@OTP@",'
    ' "krb_realm": "EXAMPLE\\u002ETEST", "ipa_domain": "example.test",'
    ' "ipa_server": "ipa.example\\/test"}}'.replace("@OTP@", OTP),
]


@pytest.mark.parametrize("awk", awks() or [None], ids=lambda p: Path(p or "awk").name)
@pytest.mark.parametrize("doc", ODD_BUT_VALID, ids=["layout", "other-targets", "escapes"])
def test_parses_any_valid_layout(tmp_path: Path, doc: str, awk: str | None) -> None:
    box = Sandbox(tmp_path, awk=awk)
    box.write_config_drive(doc)
    result = run(box)
    if "ipa.example\\/test" in doc:
        assert result.rc == 2  # "ipa.example/test" is decoded, then refused as a name
        assert "invalid ipa_server" in result.stderr
        return
    assert result.rc == 0, result.stderr
    assert result.ipa_args == EXPECTED_ARGS


@pytest.mark.parametrize("awk", awks() or [None], ids=lambda p: Path(p or "awk").name)
def test_otp_with_quotes_and_backslashes_reaches_ipa_client_install_intact(
        tmp_path: Path, awk: str | None) -> None:
    otp = 'a"b\\c/d e$f`g\'h;*'
    box = Sandbox(tmp_path, awk=awk)
    box.write_config_drive(otp_answer(otp))
    result = run(box, otp=otp)
    assert result.rc == 0, result.stderr
    assert result.ipa_args is not None
    assert result.ipa_args[-2:] == ["-w", otp]


MALFORMED = {
    "trailing-data": '{"join": {"ipaotp": "@OTP@"}} x',
    "unterminated": '{"join": {"ipaotp": "@OTP@}}',
    "raw-newline": '{"join": {"hostname": "vm1\n", "ipaotp": "@OTP@"}}',
    "single-quotes": "{'join': {'ipaotp': '@OTP@'}}",
    "trailing-comma": '{"join": {"ipaotp": "@OTP@",}}',
    "bad-escape": '{"join": {"ipaotp": "@OTP@\\x"}}',
    "duplicate-key": '{"join": {"ipaotp": "@OTP@", "ipaotp": "other"}}',
    "duplicate-join": '{"join": {"ipaotp": "@OTP@"}, "join": {}}',
    "join-not-object": '{"join": "@OTP@"}',
    "otp-not-string": '{"join": {"ipaotp": ["@OTP@"]}}',
    "escaped-control": '{"join": {"hostname": "vm1\\n", "ipaotp": "@OTP@"}}',
    "bad-number": '{"n": 01, "join": {"ipaotp": "@OTP@"}}',
    "not-an-object": '["@OTP@"]',
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_rejects_malformed_answers(box: Sandbox, name: str) -> None:
    doc = MALFORMED[name].replace("@OTP@", OTP)
    box.write_config_drive(doc)
    result = run(box)
    assert result.rc == 2, (name, result.stderr)
    assert "not valid" in result.stderr
    assert result.ipa_args is None


def test_malformed_metadata_answer_is_retried(box: Sandbox) -> None:
    with metadata_server() as server:
        server.replies[VENDOR_PATH] = [(200, '{"join": {"ipaotp": "' + OTP + '"'),
                                       (200, otp_answer())]
        box.use_metadata_server(server)
        result = run(box)
    assert result.rc == 0, result.stderr
    assert "the answer is not valid" in result.stderr


def test_names_in_the_answer_are_validated(box: Sandbox) -> None:
    box.write_config_drive(answer(hostname="vm1.example.test; reboot", ipaotp=OTP,
                                  krb_realm="EXAMPLE.TEST"))
    result = run(box)
    assert result.rc == 2
    assert "no valid hostname" in result.stderr
    assert result.ipa_args is None


# --- the OTP never shows ---------------------------------------------------------------

def test_never_prints_the_otp_even_when_everything_fails(box: Sandbox) -> None:
    """Every failure path after the OTP was read, with syslog and log file on."""
    box.write_config_drive(otp_answer())
    outputs = []
    for rc in ("0", "1", "3", "7"):
        box.env["FAKE_IPA_RC"] = rc
        outputs.append(run(box))
    box.write_config_drive(answer(hostname="bad name", ipaotp=OTP, krb_realm="R"))
    outputs.append(run(box))
    text = "\n".join(result.everything for result in outputs)
    assert OTP not in text
    assert "<redacted>" in text
    assert all(OTP not in path.read_text() for path in (box.log, box.syslog))


# --- static checks ----------------------------------------------------------------------

def test_shellcheck_is_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        pytest.skip("shellcheck is not installed")
    proc = subprocess.run([shellcheck, "--shell=sh", "--severity=style", str(SCRIPT)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("shell", ["sh", "dash", "bash"])
def test_parses_in_posix_shells(shell: str) -> None:
    path = shutil.which(shell)
    if not path:
        pytest.skip(f"{shell} is not installed")
    argv = [path, "--posix", "-n"] if shell == "bash" else [path, "-n"]
    proc = subprocess.run([*argv, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_no_tracing_and_no_otp_in_a_pipeline() -> None:
    text = SCRIPT.read_text()
    assert "set -x" not in text
    assert "python" not in text.replace("no python", "")
    assert "jq" not in text.split()
    # The OTP is used exactly once, as ipa-client-install's -w argument.
    uses = [line.strip() for line in text.splitlines() if "$J_OTP" in line]
    assert 'ipa-client-install "$@" -w "$J_OTP"' in uses
    assert not any("echo" in line or "printf" in line or "log " in line for line in uses)


def test_help_describes_the_environment(box: Sandbox) -> None:
    result = box.run("--help")
    assert result.rc == 0
    for name in ("NOVAJOIN_CONFIG_DRIVE_DIR", "NOVAJOIN_METADATA_URL", "NOVAJOIN_ATTEMPTS"):
        assert name in result.stdout


# --- the cloud-config that delivers the script -------------------------------------------

def _cloud_init_text() -> str:
    data: dict[str, Any] = json.loads(CLOUD_CONFIG.read_text())
    assert list(data) == ["cloud-init"]
    return data["cloud-init"]


def test_cloud_config_is_json_with_a_yaml_archive_holding_the_script() -> None:
    text = _cloud_init_text()
    assert text.startswith("#cloud-config-archive\n")  # how cloud-init recognises it
    parts = yaml.safe_load(text)
    assert isinstance(parts, list)
    scripts = [part for part in parts if part.get("type") == "text/x-shellscript"]
    assert len(scripts) == 1
    assert scripts[0]["filename"] == PART_NAME
    assert scripts[0]["content"] == SCRIPT.read_text()


def test_cloud_config_is_up_to_date_with_the_script() -> None:
    assert CLOUD_CONFIG.read_text() == build(SCRIPT.read_text()), (
        "regenerate: python tests/functional/instance/build_cloud_config.py")


def test_the_script_from_the_cloud_config_runs(tmp_path: Path) -> None:
    """What cloud-init would write and execute is the same working script."""
    script = next(part for part in yaml.safe_load(_cloud_init_text())
                  if part.get("type") == "text/x-shellscript")["content"]
    extracted = tmp_path / "box" / "novajoin-enroll"
    extracted.parent.mkdir()
    extracted.write_text(script)
    box = Sandbox(tmp_path / "box")
    box.write_config_drive(otp_answer())
    proc = subprocess.run(["sh", str(extracted)], env=box.env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert box.ipa_args.read_text().splitlines() == EXPECTED_ARGS
