"""novajoin-ipa-setup against the IPA simulator and the Kerberos lab."""

from __future__ import annotations

import os
import pwd
import stat
import uuid
from pathlib import Path

import gssapi

from novajoin.install.ipa_setup import keytab_problem
from novajoin.join import rbac
from tests.functional.install.conftest import read_records, writes


def _args(fake_ipa, tmp_path: Path, hostname: str, getkeytab_cmd: str, *extra: str) -> list[str]:
    pw_file = tmp_path / "admin.pw"
    pw_file.write_text(fake_ipa.lab.admin_password + "\n")
    pw_file.chmod(0o600)
    return ["--server", fake_ipa.url, "--server-name", fake_ipa.fqdn,
            "--cafile", str(fake_ipa.ca_file), "--realm", fake_ipa.realm,
            "--hostname", hostname, "--password-file", str(pw_file),
            "--keytab", str(tmp_path / "etc" / "nova.keytab"), "--user", "nobody",
            "--getkeytab-command", getkeytab_cmd, "--debug", *extra]


def _hostname() -> str:
    return f"nj-{uuid.uuid4().hex[:8]}.example.test"


def test_setup_creates_role_then_second_run_changes_nothing(
        fake_ipa, tmp_path, run_cli, getkeytab_cmd):
    host = _hostname()
    principal = f"nova/{host}@{fake_ipa.realm}"
    record = tmp_path / "getkeytab.jsonl"
    env = {"NOVAJOIN_TEST_GETKEYTAB_RECORD": str(record)}
    args = _args(fake_ipa, tmp_path, host, getkeytab_cmd)

    first = run_cli("ipa_setup", *args, env=env)
    assert first.returncode == 0, first.stderr
    state = fake_ipa.admin.state()
    for perm in rbac.CUSTOM_PERMISSIONS:
        entry = state["permissions"][perm.name.lower()]
        assert entry["attrs"]["attrs"] == list(perm.attrs)
        assert entry["attrs"]["ipapermright"] == list(perm.rights)
        assert entry["attrs"]["type"] == [perm.type]
    priv_key = rbac.PRIVILEGE.lower()
    assert priv_key in state["privileges"]
    for name in rbac.all_permissions():
        assert priv_key in state["permissions"][name.lower()]["members"]["privilege"], name
    assert state["roles"][rbac.ROLE.lower()]["cn"] == rbac.ROLE
    assert rbac.ROLE.lower() in state["privileges"][priv_key]["members"]["role"]
    assert state["roles"][rbac.ROLE.lower()]["members"]["service"] == [principal.lower()]
    assert principal.lower() in state["services"]

    keytab = tmp_path / "etc" / "nova.keytab"
    info = keytab.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == pwd.getpwnam("nobody").pw_uid
    assert keytab_problem(principal, str(keytab), fake_ipa.fqdn) is None
    # python-gssapi, directly: the keytab yields a ticket for IPA's HTTP service.
    creds = gssapi.Credentials(
        name=gssapi.Name(principal, gssapi.NameType.kerberos_principal), usage="initiate",
        store={"client_keytab": str(keytab), "ccache": f"MEMORY:t-{uuid.uuid4().hex}"})
    ctx = gssapi.SecurityContext(name=gssapi.Name(f"HTTP@{fake_ipa.fqdn}",
                                                  gssapi.NameType.hostbased_service),
                                 creds=creds, usage="initiate")
    assert ctx.step()
    assert len(read_records(record)) == 1

    seq = fake_ipa.admin.last_call_seq()
    second = run_cli("ipa_setup", *args, env=env)
    assert second.returncode == 0, second.stderr
    calls = fake_ipa.admin.calls(since=seq)
    assert calls, "the second run must still read the role"
    assert writes(calls) == []
    assert "nothing to change" in second.stderr
    assert len(read_records(record)) == 1, "a working keytab must not be re-fetched"
    assert fake_ipa.admin.state() == state


def test_setup_completes_a_partial_role(fake_ipa, tmp_path, run_cli, getkeytab_cmd):
    """A role someone half-built (privilege missing a permission, no member) is completed."""
    from novajoin.ipa import IPAClient, PasswordAuth

    host = _hostname()
    principal = f"nova/{host}@{fake_ipa.realm}"
    with IPAClient([(fake_ipa.url, fake_ipa.fqdn)], ca_file=fake_ipa.ca_file,
                   auth=PasswordAuth("admin", fake_ipa.lab.admin_password)) as ipa:
        ipa.call("privilege_add", rbac.PRIVILEGE)
        ipa.call("privilege_add_permission", rbac.PRIVILEGE, permission=["System: Add Hosts"])
        ipa.call("role_add", rbac.ROLE)
        perm = rbac.CUSTOM_PERMISSIONS[0]
        ipa.call("permission_add", perm.name, type="host", ipapermright=["write"],
                 attrs=["description"])
        seq = fake_ipa.admin.last_call_seq()
        result = run_cli("ipa_setup", *_args(fake_ipa, tmp_path, host, getkeytab_cmd,
                                             "--precreate"))
        assert result.returncode == 0, result.stderr
        assert rbac.check(ipa, principal) == []
    done = writes(fake_ipa.admin.calls(since=seq))
    assert "privilege_add" not in done and "role_add" not in done
    assert "permission_mod" in done
    assert done.count("service_add") == 1
    # --precreate: the host exists with a one-time password, printed alone on stdout.
    otp = result.stdout.strip()
    assert otp and "\n" not in otp
    assert fake_ipa.admin.state()["hosts"][host]["has_password"]
    assert fake_ipa.admin.enroll(host, otp)
    assert otp not in result.stderr


def test_password_never_leaks(fake_ipa, tmp_path, run_cli, getkeytab_cmd):
    host = _hostname()
    password = fake_ipa.lab.admin_password
    record = tmp_path / "getkeytab.jsonl"
    args = _args(fake_ipa, tmp_path, host, getkeytab_cmd)
    log_before = len(fake_ipa.log_text())
    result = run_cli("ipa_setup", *args, env={"NOVAJOIN_TEST_GETKEYTAB_RECORD": str(record)})
    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr  # the most verbose logging was on
    assert password not in result.stdout + result.stderr
    assert password not in fake_ipa.log_text()[log_before:]
    [entry] = read_records(record)
    # The child (ipa-getkeytab) and everything it ran: argv and environment.
    assert all(password not in arg for arg in entry["argv"])
    for child in entry["children"]:
        assert all(password not in arg for arg in child)
    assert all(password not in v for v in entry["environ"].values())
    assert entry["environ"]["KRB5CCNAME"].startswith("FILE:")
    # The parent (novajoin-ipa-setup itself) had the password FILE on argv, not the password.
    parent = entry["parent_argv"]
    assert str(tmp_path / "admin.pw") in parent
    assert all(password not in arg for arg in parent)
    # The admin ccache handed to the child is gone afterwards.
    assert not os.path.exists(entry["environ"]["KRB5CCNAME"][5:])


def test_wrong_password_fails_cleanly(fake_ipa, tmp_path, run_cli, getkeytab_cmd):
    args = _args(fake_ipa, tmp_path, _hostname(), getkeytab_cmd)
    (tmp_path / "admin.pw").write_text("not-the-password\n")
    seq = fake_ipa.admin.last_call_seq()
    result = run_cli("ipa_setup", *args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "not-the-password" not in result.stderr
    assert writes(fake_ipa.admin.calls(since=seq)) == []


def test_no_password_option(run_cli):
    result = run_cli("ipa_setup", "--server", "https://x/ipa", "--password", "secret")
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
