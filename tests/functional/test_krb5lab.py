"""The Kerberos lab issues real tickets from its keytabs and password."""

from __future__ import annotations

import subprocess
import sys

import gssapi
import pytest

from novajoin.testing.krb5lab import KerberosLab, start_lab


def _initiate(lab: KerberosLab, tag: str) -> gssapi.SecurityContext:
    creds = gssapi.Credentials(
        usage="initiate",
        name=gssapi.Name(lab.nova_principal, gssapi.NameType.kerberos_principal),
        store={"client_keytab": str(lab.nova_keytab), "ccache": f"MEMORY:lab-{tag}"},
    )
    target = gssapi.Name(f"HTTP@{lab.ipa_fqdn}", gssapi.NameType.hostbased_service)
    return gssapi.SecurityContext(name=target, creds=creds, usage="initiate")


def test_keytab_client_authenticates_to_http_acceptor(krb5_lab: KerberosLab) -> None:
    client = _initiate(krb5_lab, "accept")
    token = client.step()
    acceptor_creds = gssapi.Credentials(usage="accept", store={"keytab": str(krb5_lab.http_keytab)})
    server = gssapi.SecurityContext(creds=acceptor_creds, usage="accept")
    reply = server.step(token)
    assert server.complete
    assert str(server.initiator_name) == krb5_lab.nova_principal
    if reply:
        client.step(reply)
    assert client.complete


def test_admin_password_gets_a_ticket(krb5_lab: KerberosLab) -> None:
    from gssapi.raw import acquire_cred_with_password

    name = gssapi.Name(krb5_lab.admin_principal, gssapi.NameType.kerberos_principal)
    creds = acquire_cred_with_password(name, krb5_lab.admin_password.encode(), usage="initiate")
    assert creds.creds is not None
    with pytest.raises(gssapi.exceptions.GSSError):
        acquire_cred_with_password(name, b"wrong-password", usage="initiate")


def test_lab_restarts_from_its_directory(krb5_lab: KerberosLab, tmp_path) -> None:
    lab = start_lab(tmp_path / "realm")
    try:
        assert lab.running()
        assert oct(lab.nova_keytab.stat().st_mode & 0o777) == "0o600"
        assert oct(lab.admin_password_file.stat().st_mode & 0o777) == "0o600"
        lab.stop()
        assert not lab.running()
        again = start_lab(tmp_path / "realm")
        assert again.running() and again.kdc_port == lab.kdc_port
        assert again.admin_password == lab.admin_password
    finally:
        lab.stop()


def test_cli_start_show_stop_never_prints_the_password(tmp_path) -> None:
    directory = tmp_path / "cli"
    run = [sys.executable, "-m", "novajoin.cmd.krb5_lab"]
    started = subprocess.run([*run, "start", str(directory)], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    password = (directory / "admin.password").read_text().strip()
    assert password and password not in started.stdout + started.stderr
    assert '"running": true' in started.stdout
    stopped = subprocess.run([*run, "stop", str(directory)], capture_output=True, text=True)
    assert stopped.returncode == 0
    shown = subprocess.run([*run, "show", str(directory)], capture_output=True, text=True)
    assert '"running": false' in shown.stdout
