"""The Keystone rig itself: a real Keystone on loopback issues and validates tokens.

The vendordata tests behind Keystone (test_keystone_auth.py) trust this rig;
these tests make a broken rig fail here, with its logs, rather than there.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exceptions

from novajoin.testing import keystone as keystone_rig
from novajoin.testing.keystone import Keystone, KeystoneStartError, shared_keystone


@pytest.fixture(scope="session")
def keystone(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Keystone:
    return shared_keystone(request, tmp_path_factory)


def test_keystone_serves_identity_v3_on_loopback(keystone: Keystone) -> None:
    assert keystone.url == f"http://127.0.0.1:{keystone.port}/v3"
    assert keystone.process.poll() is None
    assert 0 < keystone.start_seconds < keystone_rig.START_TIMEOUT
    print(f"\nkeystone started in {keystone.start_seconds:.1f} s on port {keystone.port}")
    response = httpx.get(keystone.url, timeout=10)
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"].startswith("v3.")
    assert version["status"] == "stable"


def test_bootstrap_created_the_roles_and_the_catalog(keystone: Keystone) -> None:
    for role in keystone_rig.ROLES:
        assert keystone.role_id(role)
    token = keystone.validate(keystone.token("admin", keystone.admin_password, "admin"))
    identity = [s for s in token["catalog"] if s["type"] == "identity"]
    assert identity, "keystonemiddleware finds the identity endpoint in the catalog"
    urls = {e["interface"]: e["url"] for e in identity[0]["endpoints"]}
    assert urls == {"public": keystone.url, "internal": keystone.url, "admin": keystone.url}


def test_issued_token_validates_with_the_users_roles(keystone: Keystone) -> None:
    name = f"svc-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    user_id = keystone.create_user(name, password, project="service", roles=["service"])

    token = keystone.token(name, password, "service")
    body = keystone.validate(token)

    assert body["user"]["id"] == user_id
    assert body["project"]["name"] == "service"
    assert [role["name"] for role in body["roles"]] == ["service"]
    assert body["methods"] == ["password"]


def test_member_token_has_only_member(keystone: Keystone) -> None:
    name = f"member-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    keystone.create_user(name, password, project="demo", roles=["member"])
    body = keystone.validate(keystone.token(name, password, "demo"))
    # reader is implied by member in Keystone's default role inference
    assert "member" in {role["name"] for role in body["roles"]}
    assert not {"service", "admin"} & {role["name"] for role in body["roles"]}


def test_wrong_password_and_bogus_token_are_refused(keystone: Keystone) -> None:
    name = f"user-{secrets.token_hex(4)}"
    keystone.create_user(name, "right-password", project="demo", roles=["member"])
    with pytest.raises(ks_exceptions.Unauthorized):
        keystone.token(name, "wrong-password", "demo")
    with pytest.raises(ks_exceptions.NotFound):
        keystone.validate("gAAAAABbogus-token-" + secrets.token_hex(16))


def test_failed_start_raises_with_the_log_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write_config = keystone_rig.write_config

    def broken_config(workdir: Path) -> Path:
        conf = real_write_config(workdir)
        text = conf.read_text().replace(
            f"sqlite:///{workdir / 'keystone.db'}", "sqlite:////nonexistent-dir/keystone.db"
        )
        conf.write_text(text)
        return conf

    monkeypatch.setattr(keystone_rig, "write_config", broken_config)
    with pytest.raises(KeystoneStartError) as failure:
        keystone_rig.start_keystone(tmp_path / "ks", timeout=60)
    message = str(failure.value)
    assert "db_sync" in message
    assert "tail" in message
    assert "unable to open database file" in message
