"""novajoin-install into a temporary root, then --check on good and broken deployments."""

from __future__ import annotations

import pwd
import shutil
import stat
import uuid
from pathlib import Path

from tests.functional.install.conftest import writes

NOVA_CONF = """\
[DEFAULT]
# the operator's comment stays
debug = true

[api]
# providers we already had
vendordata_providers = StaticJSON
vendordata_dynamic_targets = other@http://10.0.0.9:8000/

[vendordata_dynamic_auth]
auth_type = password
auth_url = http://keystone.example.test:5000/v3
username = nova
password = nova-service-pw
project_name = service
user_domain_name = Default
project_domain_name = Default
"""


def _install_args(fake_ipa, tmp_path: Path, root: Path, host: str, cmd: str) -> list[str]:
    pw = tmp_path / "admin.pw"
    pw.write_text(fake_ipa.lab.admin_password + "\n")
    return ["--root", str(root), "--server", fake_ipa.url, "--server-name", fake_ipa.fqdn,
            "--cafile", str(fake_ipa.ca_file), "--domain", fake_ipa.domain,
            "--realm", fake_ipa.realm, "--hostname", host, "--user", "nobody",
            "--password-file", str(pw), "--getkeytab-command", cmd, "--no-glance"]


def _mode_owner(path: Path) -> tuple[int, str]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name


def test_install_writes_files_and_check_finds_breakage(
        fake_ipa, tmp_path, run_cli, getkeytab_cmd, krb5_lab):
    root = tmp_path / "root"
    (root / "etc/nova").mkdir(parents=True)
    (root / "etc/neutron").mkdir(parents=True)
    (root / "etc/nova/nova.conf").write_text(NOVA_CONF)
    (root / "etc/neutron/neutron.conf").write_text("[DEFAULT]\ncore_plugin = ml2\n")
    host = f"nj-{uuid.uuid4().hex[:8]}.example.test"
    args = _install_args(fake_ipa, tmp_path, root, host, getkeytab_cmd)

    # Without --configure-nova: settings are printed, nova.conf untouched.
    shown = run_cli("install", *args)
    assert shown.returncode == 0, shown.stderr
    assert "vendordata_dynamic_targets" in shown.stdout
    assert (root / "etc/nova/nova.conf").read_text() == NOVA_CONF

    done = run_cli("install", *args, "--configure-nova")
    assert done.returncode == 0, done.stderr
    etc = root / "etc/novajoin"
    assert _mode_owner(etc / "join.conf") == (0o640, "nobody")
    assert _mode_owner(etc / "krb5.keytab") == (0o600, "nobody")
    assert _mode_owner(etc / "otp.key") == (0o600, "nobody")
    assert _mode_owner(etc / "cloud-config-novajoin.json")[0] == 0o644
    # nova-api reads the static vendordata from here: the folder must be traversable.
    assert _mode_owner(etc)[0] == 0o755
    assert _mode_owner(etc / "novajoin-enroll.sh")[0] == 0o755
    join_conf = (etc / "join.conf").read_text()
    for line in (f"url = {fake_ipa.url}", "keytab = /etc/novajoin/krb5.keytab",
                 f"principal = nova/{host}@{fake_ipa.realm}", "auth_strategy = keystone",
                 "otp_key_file = /etc/novajoin/otp.key", f"domain = {fake_ipa.domain}",
                 "[keystone_authtoken]", "[service_credentials]"):
        assert line in join_conf
    assert str(root) not in join_conf  # paths are the target system's
    nova = (root / "etc/nova/nova.conf").read_text()
    assert "# the operator's comment stays" in nova
    assert "vendordata_providers = StaticJSON,DynamicJSON" in nova
    assert (f"vendordata_dynamic_targets = other@http://10.0.0.9:8000/,"
            f"join@http://{host}:9999/v1/") in nova
    assert "password = nova-service-pw" in nova
    assert "notification_format = both" in nova
    assert "driver = messagingv2" in (root / "etc/neutron/neutron.conf").read_text()
    password = fake_ipa.lab.admin_password
    assert password not in shown.stdout + shown.stderr + done.stdout + done.stderr

    ok = run_cli("install", "--check", "--root", str(root), "--user", "nobody")
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # A re-run: no IPA write, no file content change.
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    seq = fake_ipa.admin.last_call_seq()
    again = run_cli("install", *args, "--configure-nova")
    assert again.returncode == 0, again.stderr
    assert writes(fake_ipa.admin.calls(since=seq)) == []
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before

    # Broken: a wrong vendordata target.
    nova_path = root / "etc/nova/nova.conf"
    nova_path.write_text(nova.replace(f"join@http://{host}:9999/v1/",
                                      "join@http://wrong.example.test:9999/v1/"))
    bad = run_cli("install", "--check", "--root", str(root), "--user", "nobody")
    assert bad.returncode == 1
    assert "[api] vendordata_dynamic_targets" in bad.stdout
    assert f"join@http://{host}:9999/v1/" in bad.stdout
    nova_path.write_text(nova)

    # Broken: the keytab of another principal.
    shutil.copy(krb5_lab.nova_keytab, etc / "krb5.keytab")
    bad = run_cli("install", "--check", "--root", str(root), "--user", "nobody")
    assert bad.returncode == 1
    assert f"does not authenticate nova/{host}@{fake_ipa.realm}" in bad.stdout
    problems = [line for line in bad.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, bad.stdout


def test_password_option_warns_and_does_not_leak(fake_ipa, tmp_path, run_cli, getkeytab_cmd):
    root = tmp_path / "root"
    host = f"nj-{uuid.uuid4().hex[:8]}.example.test"
    args = _install_args(fake_ipa, tmp_path, root, host, getkeytab_cmd)
    i = args.index("--password-file")
    password = fake_ipa.lab.admin_password
    args[i:i + 2] = ["--password", password]
    result = run_cli("install", *args, "--debug")
    assert result.returncode == 0, result.stderr
    assert "use --password-file" in result.stderr
    assert password not in result.stdout + result.stderr
    assert password not in (root / "etc/novajoin/join.conf").read_text()
