"""Files of a novajoin deployment: where they go, with which owner and mode.

Every path is a path on the target system (what goes into join.conf and
nova.conf); ``Layout.host(path)`` prefixes it with ``--root`` for writing,
so tests and image builders can install into a directory.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from novajoin.join import otp
from novajoin.join.errors import OTPKeyError

LOG = logging.getLogger("novajoin.install")

CONF_DIR = "/etc/novajoin"
JOIN_CONF = f"{CONF_DIR}/join.conf"
KEYTAB = f"{CONF_DIR}/krb5.keytab"
OTP_KEY = f"{CONF_DIR}/otp.key"
CLOUD_CONFIG = f"{CONF_DIR}/cloud-config-novajoin.json"
ENROLL_SCRIPT = f"{CONF_DIR}/novajoin-enroll.sh"
NOVA_CONF = "/etc/nova/nova.conf"
NEUTRON_CONF = "/etc/neutron/neutron.conf"

# data file shipped in the package -> (installed path, mode)
DATA_FILES = {
    "cloud-config-novajoin.json": (CLOUD_CONFIG, 0o644),
    "novajoin-enroll.sh": (ENROLL_SCRIPT, 0o755),
}


class InstallError(Exception):
    """The installation cannot go on; the message says why."""


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    name: str

    @classmethod
    def lookup(cls, user: str) -> Owner | None:
        """The system user, or None when chown is impossible (not root)."""
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            if os.geteuid() == 0:
                raise InstallError(f"system user {user!r} does not exist") from None
            LOG.warning("system user %r does not exist; files stay owned by uid %d",
                        user, os.geteuid())
            return None
        if os.geteuid() != 0 and entry.pw_uid != os.geteuid():
            LOG.warning("not root: files stay owned by uid %d, not %s", os.geteuid(), user)
            return None
        return cls(entry.pw_uid, entry.pw_gid, user)

    def describe(self) -> str:
        try:
            group = grp.getgrgid(self.gid).gr_name
        except KeyError:
            group = str(self.gid)
        return f"{self.name}:{group}"


@dataclass(frozen=True)
class Layout:
    root: Path = Path("/")

    def host(self, path: str) -> Path:
        """Where a target-system path lives on this machine."""
        return self.root / path.lstrip("/")


def set_owner_mode(path: Path, mode: int, owner: Owner | None) -> None:
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.uid, owner.gid)


def write_atomic(path: Path, data: bytes, mode: int, owner: Owner | None) -> None:
    """Replace ``path`` atomically; the new file never exists with a wider mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        set_owner_mode(tmp, mode, owner)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_if_changed(path: Path, text: str, mode: int, owner: Owner | None,
                     *, keep_owner: bool = False) -> bool:
    """Write when the content differs; fix owner and mode either way.

    ``keep_owner``: an existing file keeps its owner and mode (nova.conf is
    not ours to re-own).
    """
    data = text.encode("utf-8")
    try:
        info = path.stat()
        current = path.read_bytes()
    except FileNotFoundError:
        write_atomic(path, data, mode, owner)
        return True
    if keep_owner:
        mode = info.st_mode & 0o7777
        owner = Owner(info.st_uid, info.st_gid, str(info.st_uid))
    if current != data:
        write_atomic(path, data, mode, owner)
        return True
    set_owner_mode(path, mode, owner)
    return False


def ensure_dir(path: Path, mode: int, owner: Owner | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, -1, owner.gid)  # root keeps the directory, the group reads it


def ensure_otp_key(layout: Layout, owner: Owner | None, path: str = OTP_KEY) -> bool:
    """Create the shared OTP key once (0600, owned by the service user).

    An existing key is kept: replacing it would change the OTP of every
    host not yet enrolled, and every replica must hold the same key.
    """
    target = layout.host(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    created = False
    if not target.exists():
        try:
            otp.create_otp_key(target)
            created = True
        except OTPKeyError:  # created by a concurrent run: keep theirs
            pass
    set_owner_mode(target, 0o600, owner)
    otp.load_otp_key(target)  # refuses a short or unreadable key
    return created


def install_data_files(layout: Layout) -> list[str]:
    """Copy the static cloud-config and the enrollment script; return what changed."""
    changed = []
    data = resources.files("novajoin.install").joinpath("data")
    for name, (path, mode) in DATA_FILES.items():
        source = data.joinpath(name)
        if not source.is_file():
            LOG.warning("package data %s is missing; %s not installed", name, path)
            continue
        content = source.read_bytes()
        target = layout.host(path)
        if target.exists() and target.read_bytes() == content:
            set_owner_mode(target, mode, None)
            continue
        write_atomic(target, content, mode, None)  # root-owned: nova reads it
        changed.append(path)
    return changed
