"""novajoin-server behind a real Keystone: nova's service token in, everyone else out.

Keystone (PyPI keystone, SQLite, fernet) is started once per session; the
server runs ``auth_strategy = keystone`` with keystonemiddleware validating
tokens against it (its own service user has the ``service`` role), and the
policy lets the ``service`` role (or admin) create.  The callers:

* nova's own client with ``[vendordata_dynamic_auth] auth_type = password`` as
  a user with the ``service`` role - accepted, a join answer;
* the same request without a token, with an invalid token, with the token of
  a user who has only ``member`` - 401, 401, 403.  nova hides statuses (it
  serves ``{}`` for any error), so the statuses are read with httpx sending
  exactly nova's headers and body, and with nova's client in
  ``vendordata_dynamic_failure_fatal`` mode, where nova re-raises
  keystoneauth's typed error.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exceptions

from novajoin.join.otp import create_otp_key
from novajoin.testing.keystone import Keystone, shared_keystone
from novajoin.testing.nova_vendordata import (
    NOVA_HEADERS,
    NovaConfig,
    NovaVendordata,
    make_instance,
    nova_body,
)
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides


@pytest.fixture(scope="session")
def keystone(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Keystone:
    return shared_keystone(request, tmp_path_factory)


@dataclass(frozen=True)
class User:
    name: str
    password: str
    project: str
    auth_url: str


@dataclass(frozen=True)
class Users:
    middleware: User  # novajoin's own service user (validates tokens)
    nova: User  # nova's service user: role service
    member: User  # an ordinary project member
    admin: User


def _user(keystone: Keystone, prefix: str, project: str, roles: list[str]) -> User:
    user = User(f"{prefix}-{secrets.token_hex(3)}", secrets.token_urlsafe(16), project,
                keystone.url)
    keystone.create_user(user.name, user.password, project=project, roles=roles)
    return user


@pytest.fixture(scope="module")
def users(keystone: Keystone) -> Users:
    return Users(
        middleware=_user(keystone, "novajoin", "service", ["service"]),
        nova=_user(keystone, "nova", "service", ["service"]),
        member=_user(keystone, "alice", "demo", ["member"]),
        admin=User("admin", keystone.admin_password, "admin", keystone.url),
    )


@pytest.fixture(scope="module")
def novajoin_server(
    _fake_ipa_shared: Any,
    keystone: Keystone,
    users: Users,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NovajoinServer]:
    workdir = tmp_path_factory.mktemp("novajoin-keystone")
    key = workdir / "otp.key"
    create_otp_key(key)
    overrides = ipa_overrides(_fake_ipa_shared, key, auth_strategy="keystone")
    overrides["keystone_authtoken"] = {
        "www_authenticate_uri": keystone.url,
        "auth_url": keystone.url,
        "auth_type": "password",
        "username": users.middleware.name,
        "password": users.middleware.password,
        "project_name": users.middleware.project,
        "user_domain_id": "default",
        "project_domain_id": "default",
        # every request is validated by Keystone: no cached verdicts
        "token_cache_time": -1,
        "http_connect_timeout": 5,
    }
    with NovajoinServer(workdir, overrides) as server:
        yield server


def _nova(server: NovajoinServer, workdir: Path, user: User | None = None,
          **extra: Any) -> NovaVendordata:
    auth: dict[str, Any] = {}
    if user is not None:
        auth = {"auth_type": "password", "auth_url": user.auth_url, "username": user.name,
                "password": user.password, "project_name": user.project}
    return NovaVendordata(NovaConfig(target_url=f"{server.url}/v1/", **auth, **extra), workdir)


def _post(server: NovajoinServer, token: str | None) -> httpx.Response:
    """Exactly nova's request, token or not."""
    headers = dict(NOVA_HEADERS)
    if token is not None:
        headers["X-Auth-Token"] = token
    body = nova_body(make_instance(f"vm-{uuid.uuid4().hex[:8]}", enroll=True))
    return httpx.post(f"{server.url}/v1/", content=json.dumps(body), headers=headers,
                      timeout=10)


def test_nova_service_token_is_accepted(
    fake_ipa: Any, keystone: Keystone, users: Users, novajoin_server: NovajoinServer,
    tmp_path: Path,
) -> None:
    name = f"vm-{uuid.uuid4().hex[:8]}"
    with _nova(novajoin_server, tmp_path, users.nova, failure_fatal=True) as nova:
        join = nova.join(make_instance(name, enroll=True))
    assert join["hostname"] == f"{name}.{fake_ipa.domain}"
    assert join["krb_realm"] == fake_ipa.realm
    fake_ipa.admin.enroll(join["hostname"], join["ipaotp"])


def test_admin_token_is_accepted(
    fake_ipa: Any, keystone: Keystone, users: Users, novajoin_server: NovajoinServer
) -> None:
    response = _post(novajoin_server, keystone.token("admin", users.admin.password, "admin"))
    assert response.status_code == 200, response.text
    assert response.json()["ipaotp"]


def test_no_token_is_401(
    fake_ipa: Any, keystone: Keystone, novajoin_server: NovajoinServer, tmp_path: Path
) -> None:
    response = _post(novajoin_server, None)
    assert response.status_code == 401
    assert keystone.url.rsplit("/v3", 1)[0] in response.headers.get("WWW-Authenticate", "")

    # nova without [vendordata_dynamic_auth] sends no token: it serves {} ...
    with _nova(novajoin_server, tmp_path) as nova:
        assert nova.get(make_instance("vm-noauth", enroll=True)) == {"join": {}}
    # ... and, when failures are fatal, raises keystoneauth's 401.
    with _nova(novajoin_server, tmp_path, failure_fatal=True) as nova, \
            pytest.raises(ks_exceptions.Unauthorized):
        nova.join(make_instance("vm-noauth", enroll=True))
    assert fake_ipa.admin.state()["hosts"].keys() == {fake_ipa.fqdn}


def test_invalid_token_is_401(
    fake_ipa: Any, novajoin_server: NovajoinServer, tmp_path: Path
) -> None:
    bogus = "gAAAAAB" + secrets.token_urlsafe(120)
    response = _post(novajoin_server, bogus)
    assert response.status_code == 401
    assert bogus not in novajoin_server.log_text()

    config = {"auth_type": "admin_token", "token": bogus, "failure_fatal": True}
    with _nova(novajoin_server, tmp_path, **config) as nova, \
            pytest.raises(ks_exceptions.Unauthorized):
        nova.join(make_instance("vm-bogus", enroll=True))
    assert fake_ipa.admin.state()["hosts"].keys() == {fake_ipa.fqdn}


def test_member_token_is_403(
    fake_ipa: Any, keystone: Keystone, users: Users, novajoin_server: NovajoinServer,
    tmp_path: Path,
) -> None:
    token = keystone.token(users.member.name, users.member.password, users.member.project)
    response = _post(novajoin_server, token)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()

    with _nova(novajoin_server, tmp_path, users.member) as nova:
        assert nova.get(make_instance("vm-member", enroll=True)) == {"join": {}}
    with _nova(novajoin_server, tmp_path, users.member, failure_fatal=True) as nova, \
            pytest.raises(ks_exceptions.Forbidden):
        nova.join(make_instance("vm-member", enroll=True))
    assert fake_ipa.admin.state()["hosts"].keys() == {fake_ipa.fqdn}
    assert ipa_write_count(fake_ipa) == 0


def ipa_write_count(fake_ipa: Any) -> int:
    return sum(
        1 for call in fake_ipa.admin.calls()
        if (call.get("method") or "").partition("/")[0] in {"host_add", "host_mod", "batch"}
    )
