"""Fixtures for the notification scenarios: real RabbitMQ, a vhost per test, the IPA simulator.

``vhost``   a throwaway RabbitMQ vhost (novajoin.testing.rabbit.Vhost), deleted after the test;
            ``vhost.transport_url`` is what publishers and novajoin-notify connect to.
``ipa``     an IPAClient on the simulator (nova keytab), for JoinService and direct checks.
``enroll``  ``enroll(n, prefix)`` creates n novajoin-owned hosts in the simulator through
            JoinService (in-process, real IPAClient, 8 threads) and returns their Instances
            (``fqdn`` attribute added by the returned EnrolledInstance).
``notify``  ``notify(**overrides)`` builds (not starts) a NovajoinNotify on this vhost and
            simulator; every one made is stopped at teardown.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from novajoin.ipa import IPAClient
from novajoin.join import InstanceRequest, JoinService, JoinSettings
from novajoin.testing import rabbit
from novajoin.testing.notifications import FixedIP, Instance, make_instance
from novajoin.testing.novajoin_notify import NovajoinNotify, notify_overrides

ENROLL_THREADS = 8


@pytest.fixture(scope="session")
def rabbitmq() -> None:
    try:
        rabbit.ensure_rabbitmq()
    except rabbit.RabbitUnavailable as exc:
        pytest.fail(f"RabbitMQ is required on 127.0.0.1:5672: {exc}")


@pytest.fixture
def vhost(rabbitmq: None) -> Iterator[rabbit.Vhost]:
    with rabbit.Vhost() as created:
        yield created


@dataclass(frozen=True)
class Enrolled:
    """An instance novajoin enrolled: what nova knows plus the IPA host name."""

    instance: Instance
    fqdn: str
    otp: str | None = field(default=None, repr=False)


@pytest.fixture
def enroll(fake_ipa: Any, ipa: IPAClient) -> Callable[..., list[Enrolled]]:
    settings = JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm,
                            ipa_server=fake_ipa.fqdn, ipa_deadline=10.0)
    service = JoinService(ipa, settings, otp_key=secrets.token_bytes(32))

    def make(count: int, prefix: str | None = None, *, with_ip: bool = False,
             keep_otp: bool = False) -> list[Enrolled]:
        tag = prefix or f"vm{secrets.token_hex(2)}"
        instances = [
            make_instance(f"{tag}-{i:03d}",
                          fixed_ips=(FixedIP(f"10.{(i >> 8) & 255}.{i & 255}.10"),)
                          if with_ip else ())
            for i in range(count)
        ]

        def one(instance: Instance) -> Enrolled:
            answer = service.join(InstanceRequest(
                instance_id=instance.uuid, project_id=instance.project_id,
                hostname=instance.hostname, image_id=instance.image_uuid,
                metadata=dict(instance.metadata)))
            assert answer.hostname, f"enrollment refused: {answer}"
            return Enrolled(instance, answer.hostname, answer.otp if keep_otp else None)

        with ThreadPoolExecutor(ENROLL_THREADS) as pool:
            return list(pool.map(one, instances, timeout=120))

    return make


@pytest.fixture
def notify(
    fake_ipa: Any, vhost: rabbit.Vhost, tmp_path: Path
) -> Iterator[Callable[..., NovajoinNotify]]:
    made: list[NovajoinNotify] = []

    def make(name: str = "notify", **notify_options: Any) -> NovajoinNotify:
        instance = NovajoinNotify(
            tmp_path / name, notify_overrides(fake_ipa, vhost.transport_url, **notify_options))
        made.append(instance)
        return instance

    try:
        yield make
    finally:
        for instance in made:
            instance.stop()

