"""Payload readers: the fields nova and neutron really send, and garbage → Poison."""

from __future__ import annotations

import pytest

from novajoin.notify import payloads
from novajoin.notify.payloads import Poison

UUID = "5f3e1a4c-7b2d-4c8e-9a1f-0d6b2c3e4f50"


def versioned(data, version="1.8", name="InstanceActionPayload"):
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": version, "nova_object.data": data}


def ip(address, version="1.0"):
    return versioned({"address": address, "version": 4, "port_uuid": "p1"}, version,
                     "IpPayload")


@pytest.mark.parametrize(("payload", "expected"), [
    ({"instance_id": UUID, "hostname": "vm1", "tenant_id": "t"}, UUID),
    ({"instance_id": UUID.upper()}, UUID),
])
def test_legacy_instance_id(payload, expected):
    assert payloads.legacy_instance_id(payload) == expected


@pytest.mark.parametrize("payload", [
    None, "text", [], {}, {"instance_id": None}, {"instance_id": 42},
    {"instance_id": "not a uuid!"}, {"uuid": UUID},
])
def test_legacy_instance_id_garbage_is_poison(payload):
    with pytest.raises(Poison):
        payloads.legacy_instance_id(payload)


@pytest.mark.parametrize("version", ["1.0", "1.8", "1.15"])
def test_versioned_instance_id_known_major(version):
    payload = versioned({"uuid": UUID, "host_name": "vm1"}, version)
    assert payloads.versioned_instance_id(payload) == UUID


@pytest.mark.parametrize("payload", [
    versioned({"uuid": UUID}, "2.0"),                     # unknown major
    versioned({"uuid": UUID}, "x.1"),
    versioned({"uuid": UUID}, None),
    {"nova_object.data": {"uuid": UUID}},                 # no version
    versioned(None),
    versioned({"host_name": "vm1"}),                      # missing uuid
    versioned({"uuid": "../../etc"}),
    {"instance_id": UUID},                                # legacy shape on a versioned event
    "garbage",
])
def test_versioned_garbage_is_poison(payload):
    with pytest.raises(Poison):
        payloads.versioned_instance_id(payload)


def test_fixed_ips_legacy_and_versioned():
    legacy = {"instance_id": UUID, "fixed_ips": [
        {"address": "10.0.0.5", "version": 4, "type": "fixed", "label": "private"},
        {"address": "fd00::5", "version": 6, "type": "fixed"},
        {"address": "10.0.0.5", "version": 4, "type": "fixed"},
    ]}
    assert payloads.legacy_fixed_ips(legacy) == ["10.0.0.5", "fd00::5"]
    payload = versioned({"uuid": UUID, "ip_addresses": [ip("10.0.0.6"), ip("FD00::6")]},
                        name="InstanceCreatePayload")
    assert payloads.versioned_ip_addresses(payload) == ["10.0.0.6", "fd00::6"]
    assert payloads.legacy_fixed_ips({"instance_id": UUID}) == []


@pytest.mark.parametrize("payload", [
    {"fixed_ips": "10.0.0.5"},
    {"fixed_ips": [{"address": "10.0.0.999"}]},
    {"fixed_ips": [{"ip": "10.0.0.5"}]},
    {"fixed_ips": ["10.0.0.5"]},
])
def test_legacy_fixed_ips_garbage(payload):
    with pytest.raises(Poison):
        payloads.legacy_fixed_ips(payload)


def test_versioned_ip_with_unknown_major_is_poison():
    with pytest.raises(Poison, match="major"):
        payloads.versioned_ip_addresses(versioned({"uuid": UUID,
                                                   "ip_addresses": [ip("10.0.0.6", "2.0")]}))


def test_nova_network_floating_ip():
    assert payloads.legacy_floating_ip({"floating_ip": "172.24.4.10", "instance_id": UUID}) == (
        UUID, "172.24.4.10")
    with pytest.raises(Poison):
        payloads.legacy_floating_ip({"floating_ip": "nope", "instance_id": UUID})
    with pytest.raises(Poison):
        payloads.legacy_floating_ip({"floating_ip": "172.24.4.10"})


def fip(**kw):
    body = {"id": "f1", "floating_ip_address": "172.24.4.10", "fixed_ip_address": "10.0.0.5",
            "port_id": "port-1", "router_id": "r1", "tenant_id": "t",
            "port_details": {"device_id": UUID, "device_owner": "compute:nova",
                             "name": "", "status": "ACTIVE"}}
    body.update(kw)
    return {"floatingip": body}


def test_neutron_floatingip_associated():
    got = payloads.neutron_floatingip(fip())
    assert got == payloads.FloatingIP("172.24.4.10", "port-1", UUID, "compute:nova")


def test_neutron_floatingip_disassociated_and_without_details():
    got = payloads.neutron_floatingip(fip(port_id=None, fixed_ip_address=None,
                                          port_details=None))
    assert got == payloads.FloatingIP("172.24.4.10", None, None, None)
    got = payloads.neutron_floatingip(fip(port_details={"device_id": "", "device_owner": ""}))
    assert (got.device_id, got.device_owner) == (None, None)


@pytest.mark.parametrize("payload", [
    {}, {"floatingip": None}, {"floatingip": []}, fip(floating_ip_address=None),
    fip(floating_ip_address="x"), fip(port_id=7), fip(port_details="x"),
])
def test_neutron_floatingip_garbage(payload):
    with pytest.raises(Poison):
        payloads.neutron_floatingip(payload)


def test_neutron_deleted_floatingip_and_port():
    assert payloads.neutron_deleted_floatingip_address(
        {"floatingip_id": "f1", **fip()}) == "172.24.4.10"
    with pytest.raises(Poison):
        payloads.neutron_deleted_floatingip_address({"floatingip_id": "f1"})
    port = {"port_id": "port-1", "port": {"id": "port-1", "device_id": UUID,
                                          "device_owner": "compute:az1"}}
    assert payloads.neutron_deleted_port(port) == payloads.DeletedPort("port-1", UUID,
                                                                       "compute:az1")
    assert payloads.neutron_deleted_port({"port_id": "port-2"}) == payloads.DeletedPort(
        "port-2", None, None)
    with pytest.raises(Poison):
        payloads.neutron_deleted_port({"port": {"device_id": UUID}})
