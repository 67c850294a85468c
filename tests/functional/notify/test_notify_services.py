"""Managed services through real nova notifications: update adds, delete cleans up.

A real ``novajoin-notify`` consumes ``instance.update`` (versioned) and
``compute.instance.delete.end`` (legacy) from RabbitMQ and acts on the simulator.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable
from typing import Any

from novajoin.ipa import IPAClient
from novajoin.join import InstanceRequest, JoinService, JoinSettings
from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, wait_for
from novajoin.testing.rabbit import Vhost

WAIT = 20.0


def test_update_adds_services_and_delete_removes_them(
    fake_ipa: Any, ipa: IPAClient, vhost: Vhost, notify: Callable[..., NovajoinNotify],
) -> None:
    domain, realm = fake_ipa.domain, fake_ipa.realm
    vip = f"api.internalapi.{domain}"
    first = n.make_instance("svc-a", metadata={"ipa_enroll": "True",
                                               "managed_service_api": f"HTTP/{vip}"})
    second = n.make_instance("svc-b", metadata={"ipa_enroll": "True",
                                                "managed_service_api": f"HTTP/{vip}"})
    service = JoinService(ipa, JoinSettings(domain=domain, realm=realm, ipa_deadline=10.0),
                          otp_key=secrets.token_bytes(32))
    for instance in (first, second):
        answer = service.join(InstanceRequest(instance.uuid, instance.project_id,
                                              instance.hostname, metadata=instance.metadata))
        assert answer.extras.services == (f"HTTP/{vip}@{realm}",)

    grown = dataclasses.replace(first, metadata={
        **first.metadata, "compact_service_nfs": json.dumps(["storage"])})
    nfs = f"nfs/svc-a.storage.{domain}@{realm}".lower()
    http = f"http/{vip}@{realm}".lower()

    def services() -> dict[str, Any]:
        return fake_ipa.admin.state()["services"]

    with notify(notification_format="both").start():
        n.NovaPublisher(vhost.transport_url, format="versioned").instance_event(grown, "update")
        wait_for(lambda: nfs in services(), WAIT, "the service that appeared")

        legacy = n.NovaPublisher(vhost.transport_url, format="legacy")
        legacy.instance_deleted(first)
        wait_for(lambda: f"svc-a.{domain}" not in hosts(fake_ipa), WAIT, "first host gone")
        wait_for(lambda: nfs not in services(), WAIT, "first instance's own services gone")
        assert set(services()[http]["managedby"]) == {vip, f"svc-b.{domain}"}

        legacy.instance_deleted(second)
        wait_for(lambda: not hosts(fake_ipa), WAIT, "every novajoin host gone")
        vhost.wait_drained("novajoin", WAIT)
    assert http not in services()
