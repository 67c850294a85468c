"""A throwaway MIT Kerberos realm on 127.0.0.1, for tests and the demo.

Everything lives in one directory: the KDC database, ``krb5.conf``,
``kdc.conf`` and the keytabs.  Nothing in /etc is read or changed: processes
that should use the lab get ``KRB5_CONFIG`` / ``KRB5_KDC_PROFILE`` pointing
here (see :meth:`KerberosLab.env`).  A realm with its keytabs and a running
KDC takes well under a second.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REALM = "EXAMPLE.TEST"
DEFAULT_IPA_FQDN = "ipa.example.test"
DEFAULT_NOVA_HOST = "novajoin.example.test"
_STATE = "lab.json"


class LabError(RuntimeError):
    """The lab could not be created or started."""


def _tool(name: str) -> str:
    for folder in (None, "/usr/sbin", "/usr/local/sbin", "/sbin"):
        found = shutil.which(name, path=folder)
        if found:
            return found
    raise LabError(
        f"{name} not found: install krb5-kdc, krb5-admin-server and krb5-user"
    )


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (killed, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # Field 3, after the parenthesised command name, is the state letter.
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class KerberosLab:
    """A running (or stopped) lab realm; see :func:`start_lab`."""

    dir: Path
    realm: str = DEFAULT_REALM
    kdc_port: int = 0
    ipa_fqdn: str = DEFAULT_IPA_FQDN
    nova_host: str = DEFAULT_NOVA_HOST
    admin_password: str = field(default="", repr=False)

    @property
    def krb5_config(self) -> Path:
        return self.dir / "krb5.conf"

    @property
    def kdc_profile(self) -> Path:
        return self.dir / "kdc.conf"

    @property
    def pid_file(self) -> Path:
        return self.dir / "kdc.pid"

    @property
    def http_principal(self) -> str:
        return f"HTTP/{self.ipa_fqdn}@{self.realm}"

    @property
    def http_keytab(self) -> Path:
        return self.dir / "http.keytab"

    @property
    def nova_principal(self) -> str:
        return f"nova/{self.nova_host}@{self.realm}"

    @property
    def nova_keytab(self) -> Path:
        return self.dir / "nova.keytab"

    @property
    def admin_principal(self) -> str:
        return f"admin@{self.realm}"

    @property
    def admin_password_file(self) -> Path:
        return self.dir / "admin.password"

    def env(self) -> dict[str, str]:
        """Environment variables that make krb5 use this lab."""
        return {
            "KRB5_CONFIG": str(self.krb5_config),
            "KRB5_KDC_PROFILE": str(self.kdc_profile),
        }

    def _kadmin(self, query: str) -> None:
        # The query may hold a password: pass it on stdin, never in argv.
        proc = subprocess.run(
            [_tool("kadmin.local"), "-r", self.realm],
            input=query + "\nquit\n",
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if proc.returncode != 0 or "error" in proc.stderr.lower():
            first = query.split()[0]
            raise LabError(f"kadmin.local {first} failed: {proc.stderr.strip()[:500]}")

    def add_principal(self, name: str, password: str | None = None) -> str:
        """Create a principal (random key unless a password is given)."""
        principal = name if "@" in name else f"{name}@{self.realm}"
        if password is None:
            self._kadmin(f"addprinc -randkey {principal}")
        else:
            self._kadmin(f"addprinc -pw {password} {principal}")
        return principal

    def export_keytab(self, principal: str, path: Path) -> Path:
        """Write the principal's keys to a keytab (mode 0600).

        ``-norandkey`` keeps the keys, so keytabs exported earlier stay valid.
        """
        path = Path(path)
        self._kadmin(f"ktadd -norandkey -k {path} {principal}")
        path.chmod(0o600)
        return path

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)

    def stop(self) -> None:
        """Stop the KDC (by its pid file); the realm's files stay."""
        pid = self.pid()
        if pid is None:
            return
        # krb5kdc takes ~2 s to act on SIGTERM; the lab is throwaway, so a
        # short grace period then SIGKILL keeps test teardown fast.
        for sig, grace in ((signal.SIGTERM, 0.2), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.01)
            if not _alive(pid):
                break
        self.pid_file.unlink(missing_ok=True)

    def save(self) -> None:
        state = {
            "realm": self.realm,
            "kdc_port": self.kdc_port,
            "ipa_fqdn": self.ipa_fqdn,
            "nova_host": self.nova_host,
        }
        (self.dir / _STATE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> KerberosLab:
        directory = Path(directory)
        state = json.loads((directory / _STATE).read_text())
        lab = cls(dir=directory, **state)
        pw_file = lab.admin_password_file
        if pw_file.exists():
            lab.admin_password = pw_file.read_text().strip()
        return lab


def _write_configs(lab: KerberosLab) -> None:
    d = lab.dir
    lab.krb5_config.write_text(
        f"""[libdefaults]
    default_realm = {lab.realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1
    ticket_lifetime = 10h
    forwardable = true

[realms]
    {lab.realm} = {{
        kdc = 127.0.0.1:{lab.kdc_port}
    }}

[domain_realm]
    .{lab.ipa_fqdn.split(".", 1)[1]} = {lab.realm}
"""
    )
    lab.kdc_profile.write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{lab.kdc_port}
    kdc_tcp_listen = 127.0.0.1:{lab.kdc_port}

[realms]
    {lab.realm} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        max_life = 10h
        max_renewable_life = 7d
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{d}/kdc.log
"""
    )
    (d / "kadm5.acl").write_text(f"admin@{lab.realm} *\n")


def start_lab(
    directory: Path | str,
    *,
    realm: str = DEFAULT_REALM,
    ipa_fqdn: str = DEFAULT_IPA_FQDN,
    nova_host: str = DEFAULT_NOVA_HOST,
) -> KerberosLab:
    """Create a realm in ``directory`` (or reuse one there) and start its KDC.

    Creates ``HTTP/<ipa_fqdn>`` (the simulator's acceptor, ``http.keytab``),
    ``nova/<nova_host>`` (novajoin's service principal, ``nova.keytab``) and
    ``admin`` with a random password kept in ``admin.password`` (0600).
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / _STATE).exists():
        lab = KerberosLab.load(directory)
        if not lab.running():
            _launch_kdc(lab)
        return lab

    lab = KerberosLab(
        dir=directory,
        realm=realm,
        kdc_port=_free_port(),
        ipa_fqdn=ipa_fqdn,
        nova_host=nova_host,
        admin_password=secrets.token_urlsafe(18),
    )
    _write_configs(lab)
    master = secrets.token_urlsafe(24)
    proc = subprocess.run(
        [_tool("kdb5_util"), "create", "-s", "-r", realm, "-W"],
        input=f"{master}\n{master}\n",
        env={**os.environ, **lab.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise LabError(f"kdb5_util create failed: {proc.stderr.strip()[:500]}")
    lab.add_principal(f"HTTP/{ipa_fqdn}")
    lab.add_principal(f"nova/{nova_host}")
    lab.add_principal("admin", lab.admin_password)
    lab.export_keytab(lab.http_principal, lab.http_keytab)
    lab.export_keytab(lab.nova_principal, lab.nova_keytab)
    fd = os.open(lab.admin_password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(lab.admin_password + "\n")
    lab.save()
    _launch_kdc(lab)
    return lab


def _launch_kdc(lab: KerberosLab) -> None:
    proc = subprocess.run(
        [_tool("krb5kdc"), "-r", lab.realm, "-P", str(lab.pid_file)],
        env={**os.environ, **lab.env()},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if proc.returncode != 0:
        raise LabError(f"krb5kdc failed to start: {proc.stderr.strip()[:500]}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if lab.running():
            try:
                with socket.create_connection(("127.0.0.1", lab.kdc_port), timeout=0.2):
                    return
            except OSError:
                pass
        time.sleep(0.02)
    raise LabError(f"KDC did not listen on 127.0.0.1:{lab.kdc_port}; see {lab.dir}/kdc.log")
