"""Each handler, driven by messages published exactly as nova and neutron publish them.

A real ``novajoin-notify`` (notification_format=both) consumes from a
throwaway vhost on the real RabbitMQ and acts on the IPA simulator; the
assertions look at IPA's state only (hosts, services, DNS records).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from novajoin.ipa import IPAClient
from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, wait_for, zone_records
from novajoin.testing.rabbit import Vhost

WAIT = 20.0
REVERSE_ZONE = "4.24.172.in-addr.arpa."


def _short(fqdn: str, domain: str) -> str:
    return fqdn[: -len(domain) - 1]


def _txt_markers(records: dict[str, Any], name: str) -> list[str]:
    return [v for v in records.get(name, {}).get("txtrecord", []) if v.startswith("novajoin:")]


def test_instance_delete_legacy_versioned_compute_and_api(
    fake_ipa: Any, ipa: IPAClient, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    enrolled = enroll(4, "del")
    legacy, compute, api, live = enrolled
    zone = f"{fake_ipa.domain}."
    for item in enrolled:
        # What ipa-client-install leaves behind: an A record and a service of the host.
        ipa.request("dnsrecord_add", [zone, _short(item.fqdn, fake_ipa.domain)],
                    {"arecord": [f"10.1.0.{enrolled.index(item) + 10}"]})
        ipa.request("service_add", [f"HTTP/{item.fqdn}"], {})
    with notify(notification_format="both").start():
        with n.NovaPublisher(vhost.transport_url, host="cmp-1") as pub:
            pub.instance_deleted(legacy.instance)
        with n.NovaPublisher(vhost.transport_url, host="cmp-2", format="versioned") as pub:
            pub.instance_deleted(compute.instance)
        with n.NovaPublisher(vhost.transport_url, host="api-1", format="versioned",
                             api=True) as pub:
            pub.instance_deleted(api.instance)
        gone = {legacy.fqdn, compute.fqdn, api.fqdn}
        wait_for(lambda: not gone & set(hosts(fake_ipa)), WAIT, "the three hosts to go")
        vhost.wait_drained("novajoin", WAIT)
    state = fake_ipa.admin.state()
    assert set(hosts(fake_ipa)) == {live.fqdn}
    services = {s["principal"].split("@")[0] for s in state["services"].values()}
    assert f"HTTP/{live.fqdn}" in services
    assert not {f"HTTP/{fqdn}" for fqdn in gone} & services
    records = zone_records(fake_ipa, zone)
    for item in (legacy, compute, api):
        assert not records.get(_short(item.fqdn, fake_ipa.domain), {}).get("arecord")
    assert records[_short(live.fqdn, fake_ipa.domain)]["arecord"] == ["10.1.0.13"]


def test_neutron_floating_ip_associate_disassociate_delete_and_port_delete(
    fake_ipa: Any, ipa: IPAClient, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    ipa.request("dnszone_add", [REVERSE_ZONE], {})
    (item,) = enroll(1, "fip", with_ip=True)
    inst, fixed = item.instance, item.instance.fixed_ips[0]
    zone, name = f"{fake_ipa.domain}.", _short(item.fqdn, fake_ipa.domain)
    fip = n.FloatingIP("172.24.4.10", project_id=inst.project_id)

    def a_records() -> list[str]:
        return zone_records(fake_ipa, zone).get(name, {}).get("arecord", [])

    def ptr() -> list[str]:
        return zone_records(fake_ipa, REVERSE_ZONE).get("10", {}).get("ptrrecord", [])

    def published() -> bool:
        return a_records() == ["172.24.4.10"] and ptr() == [f"{item.fqdn}."]

    def unpublished() -> bool:
        return not a_records() and not ptr() and not _txt_markers(
            zone_records(fake_ipa, zone), name)

    listener = notify().start()
    with n.NeutronPublisher(vhost.transport_url) as pub:
        pub.floatingip_created(fip)  # not associated yet: nothing to publish
        pub.floatingip_updated(fip.associate(inst, fixed))
        wait_for(published, WAIT, "A and PTR of the associated floating IP")
        assert _txt_markers(zone_records(fake_ipa, zone), name), "no ownership TXT record"

        pub.floatingip_updated(fip.disassociate())
        wait_for(unpublished, WAIT, "records gone after disassociate")

        pub.floatingip_updated(fip.associate(inst, fixed))
        wait_for(published, WAIT, "records back after the second associate")
        pub.floatingip_deleted(fip)
        wait_for(unpublished, WAIT, "records gone after floatingip.delete.end")

        pub.floatingip_updated(fip.associate(inst, fixed))
        wait_for(published, WAIT, "records back after the third associate")
        # neutron drops the port's floating IPs with no floatingip notification at all.
        pub.port_deleted(inst, fixed)
        wait_for(unpublished, WAIT, "records gone after port.delete.end")

        # No reverse zone for this address: forward record only, with a warning.
        other = n.FloatingIP("198.51.100.7", project_id=inst.project_id)
        pub.floatingip_updated(other.associate(inst, fixed))
        wait_for(lambda: a_records() == ["198.51.100.7"], WAIT, "forward-only record")
    vhost.wait_drained("novajoin", WAIT)
    assert item.fqdn in hosts(fake_ipa), "floating IP events must never touch the host"
    log = listener.log_text()
    assert "198.51.100.7" in log and "WARNING" in log
    assert "Traceback" not in log


def test_nova_network_floating_ip(
    fake_ipa: Any, ipa: IPAClient, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    ipa.request("dnszone_add", [REVERSE_ZONE], {})
    (item,) = enroll(1, "novanet")
    zone, name = f"{fake_ipa.domain}.", _short(item.fqdn, fake_ipa.domain)

    def a_records() -> list[str]:
        return zone_records(fake_ipa, zone).get(name, {}).get("arecord", [])

    def ptr() -> list[str]:
        return zone_records(fake_ipa, REVERSE_ZONE).get("21", {}).get("ptrrecord", [])

    with notify(notification_format="legacy").start(), \
            n.NovaNetworkPublisher(vhost.transport_url) as pub:
        pub.associated(item.instance, "172.24.4.21")
        wait_for(lambda: a_records() == ["172.24.4.21"] and ptr() == [f"{item.fqdn}."],
                 WAIT, "nova-network floating IP published")
        pub.disassociated(item.instance, "172.24.4.21")
        wait_for(lambda: not a_records() and not ptr(), WAIT, "nova-network floating IP gone")
        vhost.wait_drained("novajoin", WAIT)
    assert item.fqdn in hosts(fake_ipa)


def test_rebuild_revokes_keys_legacy_and_versioned(
    fake_ipa: Any, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    legacy, versioned, untouched = enroll(3, "rebuild", keep_otp=True)
    for item in (legacy, versioned, untouched):
        fake_ipa.admin.enroll(item.fqdn, item.otp)
    assert all(hosts(fake_ipa)[i.fqdn]["has_keytab"] for i in (legacy, versioned, untouched))
    with notify().start():
        with n.NovaPublisher(vhost.transport_url) as pub:
            pub.instance_rebuilt(legacy.instance)
        with n.NovaPublisher(vhost.transport_url, format="versioned") as pub:
            pub.instance_rebuilt(versioned.instance)
        wait_for(lambda: not any(hosts(fake_ipa)[i.fqdn]["has_keytab"]
                                 for i in (legacy, versioned)), WAIT, "keys revoked")
        vhost.wait_drained("novajoin", WAIT)
    state = hosts(fake_ipa)
    assert {legacy.fqdn, versioned.fqdn, untouched.fqdn} <= set(state)
    assert state[untouched.fqdn]["has_keytab"]
