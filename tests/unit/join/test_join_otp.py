"""OTP derivation and the OTP key file (novajoin.join.otp)."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novajoin.join import OTPKeyError, compute_otp, create_otp_key, load_otp_key, verify_otp
from novajoin.join.otp import ALPHABET, new_nonce, next_nonce

KEY = b"k" * 32
FQDN = "vm1.example.test"
UUID = "0b7b2cbe-2f1d-4c55-9a4c-8d6c1f2e3a4b"
NONCE = "00ff00ff00ff00ff00ff00ff"


def test_alphabet_is_unambiguous_and_shell_safe():
    assert not set("0O1lI") & set(ALPHABET)
    assert all(c.isascii() and c.isalnum() for c in ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 57


def test_deterministic_for_the_same_inputs():
    otp = compute_otp(KEY, FQDN, UUID, NONCE)
    assert otp == compute_otp(KEY, FQDN, UUID, NONCE)
    assert otp == compute_otp(KEY, FQDN.upper(), UUID.upper(), NONCE)
    assert len(otp) == 32 and set(otp) <= set(ALPHABET)


def test_different_per_key_instance_nonce_and_name():
    base = compute_otp(KEY, FQDN, UUID, NONCE)
    others = {
        compute_otp(b"x" * 32, FQDN, UUID, NONCE),
        compute_otp(KEY, "vm2.example.test", UUID, NONCE),
        compute_otp(KEY, FQDN, UUID.replace("0b", "0c"), NONCE),
        compute_otp(KEY, FQDN, UUID, "00ff00ff00ff00ff00ff00fe"),
    }
    assert base not in others and len(others) == 4


def test_fields_are_separated():
    """No shifting of text between fields gives the same OTP."""
    assert compute_otp(KEY, "ab", "c", NONCE) != compute_otp(KEY, "a", "bc", NONCE)


@pytest.mark.parametrize("length", [16, 31, 32, 33, 64, 100, 256])
def test_lengths(length):
    otp = compute_otp(KEY, FQDN, UUID, NONCE, length)
    assert len(otp) == length and set(otp) <= set(ALPHABET)
    if length > 32:
        assert otp[:32] == compute_otp(KEY, FQDN, UUID, NONCE, 32)


@pytest.mark.parametrize("length", [0, 15, 257])
def test_bad_lengths(length):
    with pytest.raises(ValueError):
        compute_otp(KEY, FQDN, UUID, NONCE, length)


def test_short_key_refused():
    with pytest.raises(ValueError):
        compute_otp(b"short", FQDN, UUID, NONCE)


def test_characters_are_roughly_uniform():
    counts = dict.fromkeys(ALPHABET, 0)
    for i in range(400):
        for c in compute_otp(KEY, FQDN, UUID, f"{i:024x}"):
            counts[c] += 1
    expected = 400 * 32 / len(ALPHABET)
    assert all(0.6 * expected < n < 1.4 * expected for n in counts.values())


def test_verify():
    otp = compute_otp(KEY, FQDN, UUID, NONCE)
    assert verify_otp(KEY, FQDN, UUID, NONCE, otp)
    assert not verify_otp(KEY, FQDN, UUID, NONCE, otp[:-1] + "x")
    assert not verify_otp(KEY, FQDN, UUID, NONCE, "ünïcode")


def test_nonces():
    assert len({new_nonce() for _ in range(100)}) == 100
    assert new_nonce().isalnum()
    n1 = next_nonce(KEY, NONCE)
    assert n1 == next_nonce(KEY, NONCE) and n1 != NONCE and n1.isalnum() and len(n1) == 24
    assert next_nonce(b"y" * 32, NONCE) != n1


@given(st.text(max_size=80), st.text(max_size=80), st.text(max_size=40))
def test_any_text_inputs(fqdn, instance, nonce):
    otp = compute_otp(KEY, fqdn, instance, nonce)
    assert len(otp) == 32 and set(otp) <= set(ALPHABET)


def test_create_and_load_key(tmp_path):
    path = tmp_path / "otp.key"
    key = create_otp_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_otp_key(path) == key
    with pytest.raises(OTPKeyError, match="already exists"):
        create_otp_key(path)
    assert load_otp_key(path) == key
    assert create_otp_key(path, overwrite=True) != key
    assert [p.name for p in tmp_path.iterdir()] == ["otp.key"]  # no temp files left


def test_concurrent_creation_keeps_one_key(tmp_path):
    path = tmp_path / "otp.key"
    made: list[bytes] = []
    errors: list[Exception] = []

    def make() -> None:
        try:
            made.append(create_otp_key(path))
        except OTPKeyError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(made) == 1 and len(errors) == 7
    assert load_otp_key(path) == made[0]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "otp.key"
    create_otp_key(path)
    os.chmod(path, mode)
    with pytest.raises(OTPKeyError, match="readable by group or others"):
        load_otp_key(path)


def test_load_problems(tmp_path):
    with pytest.raises(OTPKeyError, match="does not exist"):
        load_otp_key(tmp_path / "missing")
    short = tmp_path / "short"
    short.write_bytes(b"abc")
    short.chmod(0o600)
    with pytest.raises(OTPKeyError, match="fewer than"):
        load_otp_key(short)
    link = tmp_path / "link"
    create_otp_key(tmp_path / "real")
    link.symlink_to(tmp_path / "real")
    with pytest.raises(OTPKeyError):
        load_otp_key(link)
    with pytest.raises(OTPKeyError):
        load_otp_key(tmp_path)
