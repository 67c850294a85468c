"""Fixtures for the reconciler: the IPA simulator, the nova test double, real Redis.

``nova``        a running FakeNova (novajoin.testing.fake_nova) on 127.0.0.1.
``ipa``         an IPAClient on the simulator (nova keytab).
``enroll``      ``enroll(n, prefix, enrolled=True)``: n instances known to ``nova``, each
                with its host created through JoinService (and enrolled with its OTP in
                the simulator unless ``enrolled=False``); returns [(Instance, fqdn)].
``reconcile``   ``reconcile(*cli_args, **reconcile_options)`` runs the real
                ``novajoin-reconcile`` console script once against the simulator and
                ``nova`` (reached through [reconcile] compute/network_endpoint_override,
                authenticated by keystoneauth's admin_token plugin) and returns the
                CompletedProcess (stdout, stderr, returncode).
``redis_url``   redis://127.0.0.1:6379, started if it does not answer.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from novajoin.ipa import IPAClient
from novajoin.join import InstanceRequest, JoinService, JoinSettings
from novajoin.testing.fake_nova import FakeNova
from novajoin.testing.notifications import Instance, make_instance
from novajoin.testing.reconcile_rig import (
    REDIS_URL,
    RUN_TIMEOUT,
    reconcile_command,
    reconcile_config,
)


def redis_answers(timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not redis_answers():
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("Redis is required on 127.0.0.1:6379 and redis-server is missing")
        subprocess.run([server, "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                        "--port", "6379", "--save", "", "--appendonly", "no",
                        "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                       check=False, timeout=30)
        deadline = time.monotonic() + 15
        while not redis_answers():
            if time.monotonic() > deadline:
                pytest.fail("Redis did not start on 127.0.0.1:6379")
            time.sleep(0.2)
    return REDIS_URL


@pytest.fixture
def nova() -> Iterator[FakeNova]:
    with FakeNova() as fake:
        yield fake


@pytest.fixture
def enroll(fake_ipa: Any, ipa: IPAClient, nova: FakeNova
           ) -> Callable[..., list[tuple[Instance, str]]]:
    settings = JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm,
                            ipa_server=fake_ipa.fqdn, ipa_deadline=10.0)
    service = JoinService(ipa, settings, otp_key=secrets.token_bytes(32))

    def make(count: int, prefix: str, *, enrolled: bool = True, **server: Any
             ) -> list[tuple[Instance, str]]:
        instances = [make_instance(f"{prefix}-{i:03d}") for i in range(count)]

        def one(instance: Instance) -> tuple[Instance, str]:
            nova.add_server(instance.uuid, instance.project_id, instance.hostname, **server)
            answer = service.join(InstanceRequest(
                instance_id=instance.uuid, project_id=instance.project_id,
                hostname=instance.hostname, metadata=dict(instance.metadata)))
            assert answer.hostname and answer.otp, f"enrollment refused: {answer}"
            if enrolled:
                fake_ipa.admin.enroll(answer.hostname, answer.otp)
            return instance, answer.hostname

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, instances, timeout=120))

    return make


@pytest.fixture
def reconcile(fake_ipa: Any, nova: FakeNova, redis_url: str, tmp_path: Path
              ) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        config = reconcile_config(fake_ipa, nova, tmp_path / "reconcile.conf", redis_url,
                                  **options)
        return subprocess.run(reconcile_command(config, *args), capture_output=True,
                              text=True, timeout=RUN_TIMEOUT, env=dict(os.environ),
                              cwd=tmp_path, check=False)

    return run


@pytest.fixture(scope="session")
def rabbitmq() -> None:
    from novajoin.testing import rabbit

    try:
        rabbit.ensure_rabbitmq()
    except rabbit.RabbitUnavailable as exc:
        pytest.fail(f"RabbitMQ is required on 127.0.0.1:5672: {exc}")


@pytest.fixture
def vhost(rabbitmq: None) -> Iterator[Any]:
    from novajoin.testing import rabbit

    with rabbit.Vhost() as created:
        yield created
