"""One-time passwords derived, not stored.

``OTP = encode(HMAC-SHA256(otp_key, "novajoin-otp/1\\0" fqdn "\\0" instance "\\0" nonce))``

Every replica holding the shared ``otp_key`` recomputes the same OTP from
what IPA stores (the nonce in the host's ownership marker), so repeated
requests need no IPA write and no in-process cache.  The OTP is a word
over an unambiguous alphabet (no 0 O 1 l I), safe unquoted in a shell and
easy to read off a console.  32 characters carry ~186 bits.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from novajoin.join.errors import OTPKeyError

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
KEY_BYTES = 32
MIN_KEY_BYTES = 16
MIN_LENGTH = 16
MAX_LENGTH = 256
_DOMAIN = b"novajoin-otp/1\0"
_NONCE_DOMAIN = b"novajoin-nonce/1\0"
# Characters taken from one 256-bit HMAC block: 57**32 < 2**187, so reducing
# the block modulo 57**32 has a bias below 2**-69.
_PER_BLOCK = 32


def _message(fqdn: str, instance_id: str, nonce: str) -> bytes:
    return _DOMAIN + b"\0".join(
        part.encode("utf-8") for part in (fqdn.lower(), instance_id.lower(), nonce))


def compute_otp(key: bytes, fqdn: str, instance_id: str, nonce: str, length: int = 32) -> str:
    """The OTP of one enrollment generation (deterministic in all inputs)."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"OTP length must be within {MIN_LENGTH}..{MAX_LENGTH}")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError("OTP key too short")
    message = _message(fqdn, instance_id, nonce)
    base = len(ALPHABET)
    out: list[str] = []
    block = 0
    while len(out) < length:
        # Block 0 is exactly the documented HMAC; longer OTPs extend it.
        data = message if block == 0 else message + b"\0" + block.to_bytes(4, "big")
        number = int.from_bytes(hmac.new(key, data, hashlib.sha256).digest(), "big")
        for _ in range(min(_PER_BLOCK, length - len(out))):
            number, digit = divmod(number, base)
            out.append(ALPHABET[digit])
        block += 1
    return "".join(out)


def verify_otp(
    key: bytes, fqdn: str, instance_id: str, nonce: str, candidate: str, length: int = 32
) -> bool:
    """Constant-time check of an OTP against its derivation."""
    expected = compute_otp(key, fqdn, instance_id, nonce, length)
    return hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))


def new_nonce() -> str:
    """A fresh nonce for a new enrollment generation (not secret; the key is)."""
    return secrets.token_hex(12)


def next_nonce(key: bytes, nonce: str) -> str:
    """The nonce of the generation after ``nonce`` (re-keying a host whose keys were revoked).

    Deterministic so that concurrent re-keying requests on any replica write
    the same password and hand out the same OTP.
    """
    digest = hmac.new(key, _NONCE_DOMAIN + nonce.encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def load_otp_key(path: str | os.PathLike[str]) -> bytes:
    """Read the shared OTP key; refuse a file others could read."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    except FileNotFoundError:
        raise OTPKeyError(f"OTP key file {name} does not exist "
                          "(create it once and copy it to every replica)") from None
    except OSError as exc:
        raise OTPKeyError(f"cannot open OTP key file {name}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OTPKeyError(f"OTP key file {name} is not a regular file")
        if info.st_mode & 0o077:
            raise OTPKeyError(
                f"OTP key file {name} is readable by group or others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); it must be 0600 or 0400")
        key = b""
        while len(key) <= 4096:
            chunk = os.read(fd, 4097 - len(key))
            if not chunk:
                break
            key += chunk
    finally:
        os.close(fd)
    if len(key) > 4096:
        raise OTPKeyError(f"OTP key file {name} is too large to be a key")
    if len(key) < MIN_KEY_BYTES:
        raise OTPKeyError(f"OTP key file {name} holds fewer than {MIN_KEY_BYTES} bytes")
    return key


def create_otp_key(path: str | os.PathLike[str], *, overwrite: bool = False) -> bytes:
    """Write a new random key with mode 0600, atomically; return it.

    An existing key is kept (``OTPKeyError``) unless ``overwrite``: replacing
    it changes the OTP of every host not yet enrolled.
    """
    target = Path(path)
    key = secrets.token_bytes(KEY_BYTES)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the target exists: no race
            except FileExistsError:
                raise OTPKeyError(f"OTP key file {target} already exists") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return key
