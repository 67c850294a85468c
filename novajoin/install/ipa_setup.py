"""``novajoin-ipa-setup``: the role, the principal and the keytab, from admin credentials.

The IPA writes live in ``novajoin.join.rbac``; this module adds what only an
installer does: admin credentials, ``ipa-getkeytab`` and the keytab file.

Secrets: the admin password is read from a prompt or a file, kept in memory,
and used twice, both in-process: a password login to IPA's JSON-RPC and a
GSSAPI password acquisition that stores a TGT in a private ccache. Child
processes (``ipa-getkeytab``, ``kinit``) get that ccache through
``KRB5CCNAME`` and never see the password, in argv, environment or stdin.
"""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gssapi
import gssapi.exceptions
import gssapi.raw

from novajoin.install.files import InstallError, Owner, set_owner_mode
from novajoin.ipa import IPAClient, IPAClientError, IPAServer, KerberosAuth, PasswordAuth
from novajoin.join import rbac

LOG = logging.getLogger("novajoin.install")

DEFAULT_GETKEYTAB = "ipa-getkeytab"
GETKEYTAB_TIMEOUT = 120.0


@dataclass
class AdminCredentials:
    """An IPA admin: a password (never shown) or a keytab."""

    principal: str
    password: str | None = field(default=None, repr=False)
    keytab: str | None = None

    def full_principal(self, realm: str) -> str:
        return self.principal if "@" in self.principal else f"{self.principal}@{realm}"


@dataclass
class SetupOptions:
    servers: list[str]
    hostname: str
    realm: str
    admin: AdminCredentials
    server_name: str | None = None
    cafile: str | None = None
    keytab: str | None = None  # where to write nova/<fqdn>'s keytab (None: don't)
    user: str = "novajoin"
    getkeytab_command: str = DEFAULT_GETKEYTAB
    force_keytab: bool = False
    precreate: bool = False


@dataclass
class SetupResult:
    principal: str
    changes: list[str] = field(default_factory=list)
    keytab_written: bool = False
    otp: str | None = field(default=None, repr=False)


def read_password_file(path: str) -> str:
    """The first line of the file (a trailing newline is not part of the password)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InstallError(f"cannot read password file {path}: {exc.strerror}") from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise InstallError(f"password file {path} is empty")
    return password


def prompt_password(principal: str, prompt: Callable[[str], str] = getpass.getpass) -> str:
    try:
        password = prompt(f"Password for {principal}: ")
    except EOFError:
        password = ""
    if not password:
        raise InstallError("no password given")
    return password


def ipa_servers(opts: SetupOptions) -> list[IPAServer]:
    try:
        return [IPAServer(url, name=opts.server_name or "") for url in opts.servers]
    except ValueError as exc:
        raise InstallError(f"--server: {exc}") from None


def admin_client(opts: SetupOptions) -> IPAClient:
    servers = ipa_servers(opts)
    admin = opts.admin
    if admin.keytab:
        auth: KerberosAuth | PasswordAuth = KerberosAuth(admin.full_principal(opts.realm),
                                                         admin.keytab)
    elif admin.password:
        auth = PasswordAuth(admin.principal, admin.password)
    else:
        raise InstallError("no IPA admin credentials (password or keytab)")
    return IPAClient(servers, auth=auth, ca_file=opts.cafile, timeout=30.0, deadline=120.0)


def keytab_problem(principal: str, keytab: str, server_name: str) -> str | None:
    """Why ``keytab`` cannot authenticate ``principal`` to IPA, or None when it can.

    A real exchange with the KDC: a TGT from the keytab, then a ticket for
    HTTP@<server>, in a private MEMORY ccache.
    """
    if not os.path.isfile(keytab):
        return f"keytab {keytab} does not exist"
    try:
        creds = gssapi.Credentials(
            name=gssapi.Name(principal, gssapi.NameType.kerberos_principal), usage="initiate",
            store={"client_keytab": keytab, "ccache": f"MEMORY:novajoin-check-{uuid.uuid4().hex}"})
        context = gssapi.SecurityContext(
            name=gssapi.Name(f"HTTP@{server_name}", gssapi.NameType.hostbased_service),
            creds=creds, usage="initiate")
        context.step()
    except gssapi.exceptions.GSSError as exc:
        return f"keytab {keytab} does not authenticate {principal}: {exc.gen_message()}"
    return None


class _AdminCCache:
    """A private FILE ccache holding the admin's TGT, for child processes."""

    def __init__(self, admin: AdminCredentials, realm: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="novajoin-ccache-"))
        self.name = f"FILE:{self.dir / 'ccache'}"
        principal = admin.full_principal(realm)
        try:
            if admin.keytab:
                self._from_keytab(principal, admin.keytab)
            else:
                self._from_password(principal, admin.password or "")
        except BaseException:
            self.close()
            raise

    def _from_password(self, principal: str, password: str) -> None:
        name = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
        try:
            acquired = gssapi.raw.acquire_cred_with_password(
                name, password.encode("utf-8"), usage="initiate")
            gssapi.raw.store_cred_into({"ccache": self.name}, acquired.creds,
                                       usage="initiate", overwrite=True)
        except gssapi.exceptions.GSSError as exc:
            raise InstallError(f"Kerberos login as {principal} failed: "
                               f"{exc.gen_message()}") from None

    def _from_keytab(self, principal: str, keytab: str) -> None:
        proc = subprocess.run(["kinit", "-k", "-t", keytab, principal],
                              env=self.env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode:
            raise InstallError(f"kinit as {principal} failed: {proc.stderr.strip()[:300]}")

    def env(self) -> dict[str, str]:
        return {**os.environ, "KRB5CCNAME": self.name}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def fetch_keytab(opts: SetupOptions, principal: str, owner: Owner | None) -> None:
    """Run ipa-getkeytab into a new file, then move it into place 0600.

    ipa-getkeytab gives the principal new keys: any keytab fetched before
    stops working, which is why ``ensure_keytab`` only calls this when the
    current keytab does not work (or ``--force-keytab``).
    """
    assert opts.keytab is not None
    target = Path(opts.keytab)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.new")
    command = [*shlex.split(opts.getkeytab_command), "-s", ipa_servers(opts)[0].name,
               "-p", principal, "-k", str(tmp)]
    ccache = _AdminCCache(opts.admin, opts.realm)
    try:
        LOG.info("retrieving keytab of %s with %s", principal, command[0])
        try:
            proc = subprocess.run(command, env=ccache.env(), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=GETKEYTAB_TIMEOUT,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallError(f"cannot run {command[0]}: {exc}") from None
        if proc.returncode or not tmp.exists():
            detail = (proc.stderr or proc.stdout).strip()[:500]
            raise InstallError(f"{command[0]} failed (exit {proc.returncode}): {detail}")
        set_owner_mode(tmp, 0o600, owner)
        os.replace(tmp, target)
    finally:
        ccache.close()
        tmp.unlink(missing_ok=True)


def ensure_keytab(opts: SetupOptions, principal: str, owner: Owner | None) -> bool:
    """Keep a working keytab (fixing owner and mode); fetch one otherwise."""
    assert opts.keytab is not None
    server = ipa_servers(opts)[0].name
    problem = keytab_problem(principal, opts.keytab, server)
    if problem is None and not opts.force_keytab:
        set_owner_mode(Path(opts.keytab), 0o600, owner)
        LOG.info("keytab %s already authenticates %s; kept", opts.keytab, principal)
        return False
    if problem:
        LOG.info("%s; retrieving a new one", problem)
    fetch_keytab(opts, principal, owner)
    problem = keytab_problem(principal, opts.keytab, server)
    if problem:
        raise InstallError(f"the new {problem}")
    return True


def run(opts: SetupOptions) -> SetupResult:
    """Complete the IPA role, the principal and (unless precreate) the keytab."""
    try:
        principal = rbac.service_principal(opts.hostname, opts.realm)
    except ValueError as exc:
        raise InstallError(f"--hostname: {exc}") from None
    result = SetupResult(principal=principal)
    owner = Owner.lookup(opts.user) if opts.keytab and not opts.precreate else None
    try:
        with admin_client(opts) as client:
            client.ping()  # fail on credentials before anything else
            if opts.precreate:
                result.otp = rbac.precreate_host(client, opts.hostname.lower())
                result.changes.append(f"host {opts.hostname.lower()} has a new OTP")
            result.changes += rbac.ensure(client, principal)
    except rbac.RBACError as exc:
        raise InstallError(str(exc)) from None
    except IPAClientError as exc:
        raise InstallError(f"IPA: {exc}") from None
    if opts.keytab and not opts.precreate:
        result.keytab_written = ensure_keytab(opts, principal, owner)
    return result


def add_arguments(parser: object, *, password_option: bool) -> None:
    """Options shared by novajoin-ipa-setup and novajoin-install."""
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    ipa = parser.add_argument_group("IPA")
    ipa.add_argument("--server", action="append", dest="servers", metavar="URL",
                     help="IPA JSON-RPC base URL, e.g. https://ipa.example.com/ipa "
                     "(repeat for replicas)")
    ipa.add_argument("--server-name", help="the IPA server's FQDN when --server is an IP "
                     "address (Referer, Kerberos target, ipa-getkeytab -s)")
    ipa.add_argument("--cafile", help="CA certificate of IPA (default /etc/ipa/ca.crt if it "
                     "exists, else the system CAs)")
    ipa.add_argument("--realm", help="Kerberos realm (default: --domain in upper case)")
    ipa.add_argument("--hostname", help="FQDN of the novajoin host (default: this host's FQDN)")
    creds = parser.add_argument_group("IPA admin credentials")
    creds.add_argument("--principal", default="admin",
                       help="IPA admin principal (default admin)")
    creds.add_argument("--password-file", help="file whose first line is the admin password "
                       "(default: prompt, without echo)")
    if password_option:
        creds.add_argument("--password", help=argparse.SUPPRESS)
    creds.add_argument("--admin-keytab", help="authenticate --principal with this keytab "
                       "instead of a password")
    keytab = parser.add_argument_group("service keytab")
    keytab.add_argument("--user", default="novajoin", help="system user owning the keytab "
                        "and join.conf; the systemd units run as it (default novajoin; chown "
                        "only when run as root)")
    keytab.add_argument("--getkeytab-command", default=DEFAULT_GETKEYTAB,
                        help="command retrieving the keytab, called as "
                        "'CMD -s SERVER -p PRINCIPAL -k FILE' with the admin's ticket in "
                        "KRB5CCNAME (default: FreeIPA's ipa-getkeytab, from the "
                        "freeipa-client / ipa-client package)")
    keytab.add_argument("--force-keytab", action="store_true",
                        help="retrieve a new keytab even if the current one works "
                        "(invalidates copies on other hosts)")


def admin_credentials(principal: str, password_file: str | None, admin_keytab: str | None,
                      password: str | None = None) -> AdminCredentials:
    if admin_keytab:
        return AdminCredentials(principal, keytab=admin_keytab)
    if password is None:
        password = (read_password_file(password_file) if password_file
                    else prompt_password(principal))
    return AdminCredentials(principal, password=password)


def default_cafile(cafile: str | None) -> str | None:
    if cafile:
        return cafile
    return "/etc/ipa/ca.crt" if os.path.exists("/etc/ipa/ca.crt") else None


def realm_of(realm: str | None, domain: str | None, hostname: str) -> str:
    if realm:
        return realm.upper()
    if domain:
        return domain.upper()
    if "." in hostname:
        return hostname.split(".", 1)[1].upper()
    raise InstallError("--realm is required")


def summary(result: SetupResult) -> Sequence[str]:
    lines = [f"principal {result.principal}"]
    lines += result.changes or ["IPA: nothing to change"]
    if result.keytab_written:
        lines.append("keytab retrieved")
    return lines
