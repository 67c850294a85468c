"""novajoin-notify end to end: real RabbitMQ, nova's own Notifier, the IPA simulator.

Hosts enrolled through JoinService disappear when nova publishes their
delete (legacy from compute, versioned from nova-api); a live instance's
host is untouched; a poison message is acked and reported once; SIGTERM
exits 0.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from novajoin.ipa import Backoff, IPAClient, IPAServer, KerberosAuth
from novajoin.join import OTP_ISSUED, InstanceRequest, JoinService, JoinSettings
from novajoin.testing import rabbit
from novajoin.testing.notifications import NovaPublisher, make_instance, nova_object
from novajoin.testing.novajoin_notify import NovajoinNotify, notify_overrides

TIMEOUT = 30.0


@pytest.fixture
def vhost() -> Iterator[rabbit.Vhost]:
    try:
        rabbit.ensure_rabbitmq()
    except rabbit.RabbitUnavailable as exc:
        pytest.skip(f"RabbitMQ unavailable: {exc}")
    with rabbit.Vhost() as vh:
        yield vh


@pytest.fixture
def join_service(fake_ipa: Any) -> Iterator[JoinService]:
    client = IPAClient(IPAServer(fake_ipa.url, name=fake_ipa.fqdn),
                       auth=KerberosAuth(fake_ipa.lab.nova_principal, fake_ipa.lab.nova_keytab),
                       ca_file=fake_ipa.ca_file, backoff=Backoff(base=0.01, cap=0.05))
    settings = JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm,
                            ipa_server=fake_ipa.fqdn)
    yield JoinService(client, settings, otp_key=secrets.token_bytes(32))
    client.close()


def enroll(service: JoinService, fake_ipa: Any, instance: Any) -> str:
    answer = service.join(InstanceRequest(instance_id=instance.uuid, hostname=instance.hostname,
                                          project_id=instance.project_id,
                                          metadata={"ipa_enroll": "true"}))
    assert answer.status == OTP_ISSUED
    fake_ipa.admin.enroll(answer.hostname, answer.otp)  # ipa-client-install on the instance
    return str(answer.hostname)


def hosts(fake_ipa: Any) -> set[str]:
    return set(fake_ipa.admin.state()["hosts"])


def wait_for(predicate: Any, what: str, listener: NovajoinNotify) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {TIMEOUT:g} s\n{listener.log_text()[-4000:]}")
        time.sleep(0.2)


def test_deletes_remove_owned_hosts_and_poison_is_reported_once(
    fake_ipa: Any, vhost: rabbit.Vhost, join_service: JoinService, tmp_path: Path
) -> None:
    legacy_vm = make_instance("notify-legacy")
    versioned_vm = make_instance("notify-versioned")
    live_vm = make_instance("notify-live")
    fqdns = {vm.uuid: enroll(join_service, fake_ipa, vm)
             for vm in (legacy_vm, versioned_vm, live_vm)}
    assert set(fqdns.values()) <= hosts(fake_ipa)

    overrides = notify_overrides(fake_ipa, vhost.transport_url, retry_window=2.0,
                                 requeue_delay=0.5)
    listener = NovajoinNotify(tmp_path / "notify", overrides).start()
    try:
        # One pool queue, bound to <topic>.info on both exchanges, never notifications.info.
        bindings = vhost.bindings()
        assert ("nova", "novajoin", "notifications.info") in bindings
        assert ("nova", "novajoin", "versioned_notifications.info") in bindings
        assert ("neutron", "novajoin", "notifications.info") in bindings
        assert vhost.queue("notifications.info") is None

        with NovaPublisher(vhost.transport_url, format="versioned", api=True) as api:
            api.publish("instance.delete.end",
                        nova_object("InstanceActionPayload", "9.0", {"uuid": live_vm.uuid}))
            api.instance_deleted(versioned_vm)
        with NovaPublisher(vhost.transport_url, format="legacy") as compute:
            compute.instance_deleted(legacy_vm)
            compute.instance_event(live_vm, "update")  # not handled: filtered out

        gone = {fqdns[legacy_vm.uuid], fqdns[versioned_vm.uuid]}
        wait_for(lambda: not gone & hosts(fake_ipa), "deleted instances' hosts gone", listener)
        vhost.wait_drained("novajoin", TIMEOUT)
        assert fqdns[live_vm.uuid] in hosts(fake_ipa)

        samples = listener.metrics()
        assert samples['novajoin_notifications_total{event_type="instance.delete.end",'
                       'outcome="poison"}'] == 1
        assert samples['novajoin_notifications_total{event_type="instance.delete.end",'
                       'outcome="done"}'] == 1
        assert samples['novajoin_notifications_total{event_type="compute.instance.delete.end",'
                       'outcome="done"}'] == 1
        assert not any('outcome="requeued"' in key and value for key, value in samples.items())
        # delete.start (same routing key as delete.end) is acked by the poll thread, unseen.
        assert not any("delete.start" in key for key in samples), sorted(samples)
    finally:
        code = listener.stop()
    assert code == 0
    log = listener.log_text()
    poison_lines = [line for line in log.splitlines() if "poison notification" in line]
    assert len(poison_lines) == 1, log[-4000:]
    assert re.search(r"poison notification [0-9a-f-]{36} \(instance.delete.end\)",
                     poison_lines[0])
    assert "novajoin-notify consuming: pool novajoin" in log
    assert "Traceback" not in log
