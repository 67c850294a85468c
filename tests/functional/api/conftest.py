"""Fixtures for the REST service: a real novajoin-server subprocess on the simulator.

``novajoin_server(**overrides)`` starts ``novajoin-server`` (noauth unless
overridden) configured for the ``fake_ipa`` simulator and the lab's nova
keytab; servers are stopped at teardown.  ``otp_key_file`` is a fresh 0600
key.  ``nova_body(**changes)`` is a request body shaped like nova's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from novajoin.join.otp import create_otp_key
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides

NOVA_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": "openstack-nova-vendordata",
}


@pytest.fixture
def otp_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "otp.key"
    create_otp_key(path)
    return path


@pytest.fixture
def novajoin_server(
    fake_ipa: Any, otp_key_file: Path, tmp_path: Path
) -> Iterator[Callable[..., NovajoinServer]]:
    started: list[NovajoinServer] = []

    def start(sections: dict[str, dict[str, Any]] | None = None, **default: Any) -> NovajoinServer:
        config = ipa_overrides(fake_ipa, otp_key_file, **default)
        for section, options in (sections or {}).items():
            config.setdefault(section, {}).update(options)
        server = NovajoinServer(tmp_path / f"novajoin-{len(started)}", config)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def nova_body() -> Callable[..., dict[str, Any]]:
    def make(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "project-id": "0b8c1a4e6d1f4b0fa6a3d6d5c2b7e901",
            "instance-id": str(uuid.uuid4()),
            "image-id": str(uuid.uuid4()),
            "user-data": None,
            "hostname": "vm-" + uuid.uuid4().hex[:8],
            "metadata": {"ipa_enroll": "True"},
            "boot-roles": "member,reader",
        }
        for key, value in changes.items():
            key = key.replace("_", "-")
            if value is ...:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    return make
