"""InstanceLifecycle against the IPA simulator, with a real IPAClient on the lab's nova keytab.

Hosts are created the real way (JoinService.join, then the simulator's enrollment);
round trips and writes are counted from the simulator's call log, nested batch
commands included.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from typing import Any

import pytest

from novajoin.ipa import BatchItem, IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join import (
    OTP_ISSUED,
    DNSMarker,
    InstanceLifecycle,
    InstanceRequest,
    IPACommandFailed,
    IPAUnavailable,
    JoinService,
    JoinSettings,
    find_owned_hosts,
)
from novajoin.join import dns as jdns
from novajoin.join import lifecycle as lifecycle_module

PROJECT = "6f1e2d3c4b5a69788796a5b4c3d2e1f0"
WRITES = {"host_add", "host_mod", "host_del", "host_disable", "dnsrecord_add",
          "dnsrecord_del", "dnsrecord_mod", "service_add", "service_del", "dnszone_add"}
ZONE = "example.test."
REV4 = "2.0.192.in-addr.arpa."
REV6 = "8.b.d.0.1.0.0.2.ip6.arpa."


@pytest.fixture
def settings(fake_ipa: Any) -> JoinSettings:
    return JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm, ipa_server=fake_ipa.fqdn)


@pytest.fixture
def joiner(ipa: IPAClient, settings: JoinSettings) -> JoinService:
    return JoinService(ipa, settings, otp_key=secrets.token_bytes(32))


@pytest.fixture
def life(ipa: IPAClient, settings: JoinSettings) -> InstanceLifecycle:
    return InstanceLifecycle(ipa, settings, deadline=10.0)


def enrolled(joiner: JoinService, fake_ipa: Any, hostname: str, *, enroll: bool = True,
             metadata: dict[str, str] | None = None) -> tuple[str, str]:
    """A novajoin host created through JoinService.join; (instance id, fqdn)."""
    instance = str(uuid.uuid4())
    answer = joiner.join(InstanceRequest(instance_id=instance, project_id=PROJECT,
                                         hostname=hostname,
                                         metadata={"ipa_enroll": "true", **(metadata or {})}))
    assert answer.status == OTP_ISSUED and answer.hostname and answer.otp
    if enroll:
        fake_ipa.admin.enroll(answer.hostname, answer.otp)
    return instance, answer.hostname


def enroll_as(ipa: IPAClient, fake_ipa: Any, instance: str, hostname: str, *,
              domain: str | None = None, metadata: dict[str, str] | None = None
              ) -> JoinSettings:
    """An enrolled novajoin host of a given instance; the settings it was named with."""
    settings = JoinSettings(domain=domain or fake_ipa.domain, realm=fake_ipa.realm,
                            ipa_server=fake_ipa.fqdn)
    joiner = JoinService(ipa, settings, otp_key=secrets.token_bytes(32))
    answer = joiner.join(InstanceRequest(instance_id=instance, project_id=PROJECT,
                                         hostname=hostname,
                                         metadata={"ipa_enroll": "true", **(metadata or {})}))
    assert answer.status == OTP_ISSUED and answer.hostname and answer.otp
    fake_ipa.admin.enroll(answer.hostname, answer.otp)
    return settings


# -- call log and state helpers ----------------------------------------------------------------
def calls(fake_ipa: Any, since: int) -> list[dict[str, Any]]:
    """JSON-RPC calls after ``since`` (logins excluded)."""
    return [c for c in fake_ipa.admin.calls(since) if c["method"]]


def commands(entries: list[dict[str, Any]]) -> list[str]:
    """Every IPA command run, nested batch items included."""
    out = []
    for entry in entries:
        method = entry["method"].split("/")[0]
        if method == "batch":
            out += [item["method"].split("/")[0] for item in entry["params"][0]]
        else:
            out.append(method)
    return out


def writes(entries: list[dict[str, Any]]) -> list[str]:
    return [c for c in commands(entries) if c in WRITES]


def write_calls(entries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Every write run, nested batch items included: (command, params)."""
    out = []
    for entry in entries:
        method = entry["method"].split("/")[0]
        items = entry["params"][0] if method == "batch" else [entry]
        for item in items:
            command = item["method"].split("/")[0]
            if command in WRITES or command.endswith(("_remove_host", "_remove_managedby")):
                out.append((command, item["params"]))
    return out


def durable(state: dict[str, Any]) -> dict[str, Any]:
    """What two builds of the same scenario share: names, links and DNS records
    (unique ids and OTP nonces differ from build to build)."""
    return {"hosts": {k: h["managedby"] for k, h in state["hosts"].items()},
            "services": {k: s["managedby"] for k, s in state["services"].items()},
            "dns": {k: z["records"] for k, z in state["dnszones"].items()}}


def record(fake_ipa: Any, zone: str, name: str) -> dict[str, list[str]]:
    """One name's records in the simulator's state (empty attributes left out)."""
    zones = fake_ipa.admin.state()["dnszones"]
    found = zones.get(zone, {}).get("records", {}).get(name, {})
    return {attr: values for attr, values in found.items() if values}


def audit(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "novajoin.audit"]


def reverse_zone(ipa: IPAClient, network: str) -> None:
    ipa.call("dnszone_add", name_from_ip=network)


def marker(instance: str, ip: str, port: str | None = None, kind: str = "floating") -> str:
    return DNSMarker(instance, ip, port, kind).format()


# -- delete --------------------------------------------------------------------------------------
def test_delete_removes_host_services_and_dns(life, joiner, ipa, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    instance, fqdn = enrolled(joiner, fake_ipa, "del1")
    ipa.call("service_add", f"HTTP/{fqdn}@{fake_ipa.realm}", force=True)
    reverse_zone(ipa, "192.0.2.0/24")
    port = str(uuid.uuid4())
    assert life.floating_ip_associated(instance, "192.0.2.10", port_id=port).changed
    assert record(fake_ipa, ZONE, "del1") == {
        "arecord": ["192.0.2.10"], "txtrecord": [marker(instance, "192.0.2.10", port)]}
    assert record(fake_ipa, REV4, "10") == {"ptrrecord": ["del1.example.test."]}
    state = fake_ipa.admin.state()
    assert f"http/{fqdn}@{fake_ipa.realm}".lower() in state["services"]

    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    outcome = life.instance_deleted(instance.upper())
    assert outcome.action == "deleted" and outcome.changed, outcome
    state = fake_ipa.admin.state()
    assert fqdn not in state["hosts"]
    assert not any(s["principal"].endswith(f"/{fqdn}@{fake_ipa.realm}")
                   for s in state["services"].values())
    assert "del1" not in state["dnszones"][ZONE]["records"]
    assert "10" not in state["dnszones"][REV4]["records"]
    log = calls(fake_ipa, seq)
    # batch[host_find (all: what it manages), dnszone_find, dnsrecord_find of the
    # instance's markers], then one batch of writes: the host manages only itself.
    assert len(log) == outcome.round_trips == 2
    assert commands(log[:1]) == ["host_find", "dnszone_find", "dnsrecord_find"]
    assert writes(log) == ["dnsrecord_del", "dnsrecord_del", "host_del"]
    lines = audit(caplog)
    assert len(lines) == 3 and all(instance in line for line in lines)
    assert any("action=host-del" in line and fqdn in line for line in lines)

    # A duplicate (or late) delete: one read, no write, nothing changed.
    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    again = life.instance_deleted(instance)
    assert again.changed is False and again.round_trips == 1
    log = calls(fake_ipa, seq)
    assert len(log) == 1 and writes(log) == []
    assert audit(caplog) == []
    assert any(r.levelno == logging.INFO and "nothing to do" in r.getMessage()
               for r in caplog.records)


def test_delete_before_the_host_exists_is_a_noop(life, fake_ipa):
    seq = fake_ipa.admin.last_call_seq()
    outcome = life.instance_deleted(str(uuid.uuid4()))
    assert outcome.changed is False and "no host" in outcome.detail
    assert writes(calls(fake_ipa, seq)) == []


def test_delete_of_a_not_enrolled_host_without_dns(life, joiner, fake_ipa):
    instance, fqdn = enrolled(joiner, fake_ipa, "del2", enroll=False)
    seq = fake_ipa.admin.last_call_seq()
    outcome = life.instance_deleted(instance)
    assert outcome.changed and outcome.round_trips == 2
    assert fqdn not in fake_ipa.admin.state()["hosts"]
    assert writes(calls(fake_ipa, seq)) == ["host_del"]


def test_foreign_and_other_instances_hosts_are_never_touched(life, joiner, ipa, fake_ipa):
    owner, fqdn = enrolled(joiner, fake_ipa, "mine")
    stranger = str(uuid.uuid4())
    # Not created by novajoin, but its description mentions the stranger's id.
    ipa.call("host_add", "admin1.example.test", force=True,
             description=f"hand made; instance={stranger}")
    # A marker naming a longer id that contains the stranger's: the substring search
    # finds it, the exact check must not.
    ipa.call("host_add", "lookalike.example.test", force=True,
             description=f"novajoin:v1 instance={stranger}-0 project={PROJECT} nonce=abcdefgh12")
    ipa.call("dnsrecord_add", ZONE, "admin1", arecord=["192.0.2.50"])
    before = fake_ipa.admin.state()

    seq = fake_ipa.admin.last_call_seq()
    assert find_owned_hosts(ipa, stranger) == []
    assert life.instance_deleted(stranger).changed is False
    assert life.instance_rebuilt(stranger).changed is False
    assert life.floating_ip_associated(stranger, "192.0.2.51").changed is False
    assert life.fixed_ips_created(stranger, ["192.0.2.52"]).changed is False
    assert life.floating_ip_disassociated("192.0.2.50").changed is False
    assert writes(calls(fake_ipa, seq)) == []
    after = fake_ipa.admin.state()
    assert after["hosts"] == before["hosts"] and after["dnszones"] == before["dnszones"]

    [owned] = find_owned_hosts(ipa, owner)
    assert owned.fqdn == fqdn and owned.has_keytab and not owned.has_password
    assert owned.marker.owned_by(owner) and owned.marker.project_id == PROJECT


def test_delete_of_a_host_managing_a_vip_reads_again_and_removes_it(
        life, joiner, ipa, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    vip = "vip1.example.test"
    instance, fqdn = enrolled(joiner, fake_ipa, "vipowner", metadata={
        "managed_service_web": f"HTTP/{vip}", "managed_service_own": "nfs/vipowner.example.test"})
    state = fake_ipa.admin.state()
    assert vip in state["hosts"] and f"http/{vip}@{fake_ipa.realm}".lower() in state["services"]
    assert ipa.call("host_show", fqdn, all=True)["result"]["managing_host"] == [vip, fqdn]

    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    outcome = life.instance_deleted(instance)
    assert outcome.changed
    log = calls(fake_ipa, seq)
    # Round trip 1 shows the host manages a subhost: round trip 2 as before, then writes.
    assert len(log) == outcome.round_trips == 3
    assert commands(log[1:2]) == ["dnsrecord_show", "host_find", "service_find"]
    assert writes(log) == ["host_del", "host_del"]
    state = fake_ipa.admin.state()
    assert vip not in state["hosts"] and fqdn not in state["hosts"]
    assert not any(vip in key or fqdn in key for key in state["services"])
    assert [line.split()[0] for line in audit(caplog)] == ["action=subhost-del", "action=host-del"]


def test_a_wrong_zone_guess_costs_one_round_trip_once(make_client, fake_ipa):
    # Hosts named in sub.example.test, a domain IPA has no zone of its own for: the
    # records live in example.test., which the first delete learns from IPA's answer.
    ipa = make_client()
    settings = JoinSettings(domain="sub.example.test", realm=fake_ipa.realm,
                            ipa_server=fake_ipa.fqdn)
    joiner = JoinService(ipa, settings, otp_key=secrets.token_bytes(32))
    life = InstanceLifecycle(ipa, settings, deadline=10.0)
    first, fqdn1 = enrolled(joiner, fake_ipa, "guess1")
    second, fqdn2 = enrolled(joiner, fake_ipa, "guess2")
    assert (fqdn1, fqdn2) == ("guess1.sub.example.test", "guess2.sub.example.test")
    for instance, ip in ((first, "192.0.2.31"), (second, "192.0.2.32")):
        assert life.floating_ip_associated(instance, ip).changed
    assert record(fake_ipa, ZONE, "guess2.sub")["arecord"] == ["192.0.2.32"]

    outcomes = [life.instance_deleted(first), life.instance_deleted(second)]
    assert [o.round_trips for o in outcomes] == [3, 2] and all(o.changed for o in outcomes)
    records = fake_ipa.admin.state()["dnszones"][ZONE]["records"]
    assert "guess1.sub" not in records and "guess2.sub" not in records


class WithoutDNS:
    """An IPAClient as IPA without integrated DNS answers it: every DNS command is refused
    with NotFound ("DNS is not configured"); everything else reaches the simulator."""

    def __init__(self, ipa: IPAClient) -> None:
        self._ipa = ipa

    @staticmethod
    def _refused() -> ipa_errors.NotFound:
        return ipa_errors.NotFound("DNS is not configured",
                                   data={"reason": "DNS is not configured"})

    def request(self, command: str, args: Any = (), options: Any = None, *,
                deadline: float | None = None) -> dict[str, Any]:
        if command.startswith("dns"):
            raise self._refused()
        return self._ipa.request(command, args, options, deadline=deadline)

    # IPAClient's own one-round-trip rule, over this wrapper's request() and batch().
    run = IPAClient.run

    def batch(self, calls: Any, *, deadline: float | None = None) -> list[BatchItem]:
        calls = list(calls)
        passed = [c for c in calls if not c[0].startswith("dns")]
        answers = iter(self._ipa.batch(passed, deadline=deadline) if passed else [])
        return [BatchItem(error=self._refused()) if c[0].startswith("dns") else next(answers)
                for c in calls]


# Each builds, for one fixed instance id, a state a delete may meet; returns the domain
# the deployment names hosts in.
def _plain(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    enroll_as(ipa, fake_ipa, instance, "eq-plain")
    return fake_ipa.domain


def _with_records(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    settings = enroll_as(ipa, fake_ipa, instance, "eq-rec")
    reverse_zone(ipa, "192.0.2.0/24")
    ipa.call("dnszone_add", name_from_ip="2001:db8::/32")
    life = InstanceLifecycle(ipa, settings)
    assert life.floating_ip_associated(instance, "192.0.2.41",
                                       port_id="7d2b0a4e-port").changed
    assert life.fixed_ips_created(instance, ["192.0.2.42", "2001:db8::42"]).changed
    # Another instance's publication and an admin's record on the same name stay.
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    ipa.call("dnsrecord_add", ZONE, "eq-rec", arecord=["192.0.2.43", "192.0.2.44"],
             txtrecord=[marker(other, "192.0.2.43")])
    return fake_ipa.domain


def _in_sub_zone(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    domain = f"sub.{fake_ipa.domain}"
    ipa.call("dnszone_add", f"{domain}.")
    settings = enroll_as(ipa, fake_ipa, instance, "eq-sub", domain=domain)
    assert InstanceLifecycle(ipa, settings).floating_ip_associated(instance,
                                                                   "192.0.2.45").changed
    return domain


def _zone_of_its_own(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    settings = enroll_as(ipa, fake_ipa, instance, "eq-own")
    ipa.call("dnszone_add", f"eq-own.{fake_ipa.domain}.")
    assert InstanceLifecycle(ipa, settings).floating_ip_associated(instance,
                                                                   "192.0.2.46").changed
    return fake_ipa.domain


def _managing_a_vip(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    enroll_as(ipa, fake_ipa, instance, "eq-vip", metadata={
        "managed_service_web": f"HTTP/eq-vip1.{fake_ipa.domain}",
        "compact_service_nfs": '["storage"]'})
    return fake_ipa.domain


def _without_dns(ipa: IPAClient, fake_ipa: Any, instance: str) -> str:
    enroll_as(ipa, fake_ipa, instance, "eq-nodns")
    return fake_ipa.domain


EQUAL_WRITES_STATES = {
    # name: (builder, IPA without DNS, round trips of the delete: 3-round path, now)
    "plain": (_plain, False, 3, 2),
    "records": (_with_records, False, 3, 2),
    "sub-zone": (_in_sub_zone, False, 3, 2),
    "zone-of-its-own": (_zone_of_its_own, False, 3, 3),
    "vip-subhost": (_managing_a_vip, False, 3, 3),
    "dns-not-installed": (_without_dns, True, 3, 2),
}


@pytest.mark.parametrize("name", EQUAL_WRITES_STATES)
def test_two_round_trip_delete_writes_what_three_did(name, make_client, fake_ipa, monkeypatch):
    build, no_dns, slow_trips, fast_trips = EQUAL_WRITES_STATES[name]
    instance = "5a1d0e7c-3b2f-4e6a-9c8d-7f6e5d4c3b2a"
    seen = []
    for direct in (False, True):
        fake_ipa.admin.reset()
        ipa = make_client()
        domain = build(ipa, fake_ipa, instance)
        before = fake_ipa.admin.state()
        client: Any = WithoutDNS(ipa) if no_dns else ipa
        life = InstanceLifecycle(client, JoinSettings(domain=domain, realm=fake_ipa.realm,
                                                      ipa_server=fake_ipa.fqdn))
        with monkeypatch.context() as patch:
            if not direct:  # what every delete did before round trip 1 could prove enough
                patch.setattr(lifecycle_module, "records_from_round_one", lambda *a: None)
            seq = fake_ipa.admin.last_call_seq()
            outcome = life.instance_deleted(instance)
        assert outcome.changed
        assert outcome.round_trips == (fast_trips if direct else slow_trips)
        seen.append((write_calls(calls(fake_ipa, seq)), durable(before),
                     durable(fake_ipa.admin.state())))
    assert seen[0] == seen[1]
    written, before, after = seen[1]
    assert [c[0] for c in written][-1] == "host_del"
    assert before != after


# -- rebuild -------------------------------------------------------------------------------------
def test_rebuild_revokes_keys_and_join_gives_a_new_otp(life, joiner, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    instance = str(uuid.uuid4())
    req = InstanceRequest(instance_id=instance, project_id=PROJECT, hostname="rb1",
                          metadata={"ipa_enroll": "true"})
    first = joiner.join(req)
    fake_ipa.admin.enroll(first.hostname, first.otp)
    assert joiner.join(req).otp is None  # enrolled: no OTP

    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    outcome = life.instance_rebuilt(instance)
    assert outcome.action == "disabled" and outcome.changed
    log = calls(fake_ipa, seq)
    assert commands(log) == ["host_find", "host_disable"] and outcome.round_trips == 2
    assert [line.split()[0] for line in audit(caplog)] == ["action=host-disable"]
    assert fake_ipa.admin.state()["hosts"]["rb1.example.test"]["has_keytab"] is False

    second = joiner.join(req)
    assert second.status == OTP_ISSUED and second.otp and second.otp != first.otp
    assert joiner.join(req).otp == second.otp  # one OTP per enrollment again
    # A duplicate rebuild event before the new enrollment: nothing to revoke.
    assert life.instance_rebuilt(instance).changed is False
    assert fake_ipa.admin.enroll("rb1.example.test", second.otp)["has_keytab"] is True


# -- floating IPs --------------------------------------------------------------------------------
def test_floating_ip_associate_disassociate(life, joiner, ipa, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    instance, fqdn = enrolled(joiner, fake_ipa, "fip1")
    reverse_zone(ipa, "192.0.2.0/24")
    # The instance's own record, not published by novajoin: must survive everything.
    ipa.call("dnsrecord_add", ZONE, "fip1", arecord=["192.0.2.99"])
    port = str(uuid.uuid4())

    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    added = life.floating_ip_associated(instance, "192.0.2.20", port_id=port)
    assert added.action == "dns-added" and added.changed
    log = calls(fake_ipa, seq)
    assert len(log) == added.round_trips == 3
    assert writes(log) == ["dnsrecord_add", "dnsrecord_add"]
    assert record(fake_ipa, ZONE, "fip1") == {
        "arecord": ["192.0.2.99", "192.0.2.20"],
        "txtrecord": [marker(instance, "192.0.2.20", port)]}
    assert record(fake_ipa, REV4, "20") == {"ptrrecord": [f"{fqdn}."]}
    assert len(audit(caplog)) == 2
    assert all("192.0.2.20" in line and fqdn in line for line in audit(caplog))

    # Duplicate delivery: reads only.
    seq = fake_ipa.admin.last_call_seq()
    again = life.floating_ip_associated(instance, "192.0.2.20", port_id=port)
    assert again.changed is False and again.round_trips == 2
    assert writes(calls(fake_ipa, seq)) == []

    seq = fake_ipa.admin.last_call_seq()
    caplog.clear()
    removed = life.floating_ip_disassociated("192.0.2.20")
    assert removed.action == "dns-removed" and removed.changed
    log = calls(fake_ipa, seq)
    assert len(log) == removed.round_trips == 3
    assert writes(log) == ["dnsrecord_del", "dnsrecord_del"]
    assert record(fake_ipa, ZONE, "fip1") == {"arecord": ["192.0.2.99"]}
    assert record(fake_ipa, REV4, "20") == {}
    assert len(audit(caplog)) == 2

    seq = fake_ipa.admin.last_call_seq()
    twice = life.floating_ip_disassociated("192.0.2.20")
    assert twice.changed is False and twice.round_trips == 2
    assert writes(calls(fake_ipa, seq)) == []


def test_no_reverse_zone_gives_forward_records_and_one_warning(life, joiner, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    instance, _ = enrolled(joiner, fake_ipa, "fwd1")
    outcome = life.floating_ip_associated(instance, "198.51.100.7")
    assert outcome.changed and "forward records only" in outcome.detail
    assert record(fake_ipa, ZONE, "fwd1") == {
        "arecord": ["198.51.100.7"], "txtrecord": [marker(instance, "198.51.100.7")]}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "reverse" in warnings[0].getMessage()
    assert life.floating_ip_disassociated("198.51.100.7").changed
    assert record(fake_ipa, ZONE, "fwd1") == {}


def test_out_of_order_and_unknown_events_are_safe(life, joiner, ipa, fake_ipa):
    instance, _ = enrolled(joiner, fake_ipa, "ooo1")
    reverse_zone(ipa, "192.0.2.0/24")
    seq = fake_ipa.admin.last_call_seq()
    # Disassociate delivered before its associate: nothing to remove.
    assert life.floating_ip_disassociated("192.0.2.30").changed is False
    assert life.port_deleted(str(uuid.uuid4()), instance).changed is False
    # Associate for an instance novajoin never enrolled (or already deleted).
    orphan = life.floating_ip_associated(str(uuid.uuid4()), "192.0.2.31")
    assert orphan.changed is False and "no host in IPA is owned by instance" in orphan.detail
    # Malformed input is refused before any IPA call.
    assert life.floating_ip_associated(instance, "not-an-ip").changed is False
    assert life.floating_ip_associated(instance, "192.0.2.32", port_id="a b").changed is False
    assert life.instance_deleted("../etc").changed is False
    assert writes(calls(fake_ipa, seq)) == []
    # The late associate then publishes normally.
    assert life.floating_ip_associated(instance, "192.0.2.30").changed


def test_port_deleted_removes_only_that_ports_records(life, joiner, ipa, fake_ipa):
    instance, fqdn = enrolled(joiner, fake_ipa, "port1")
    reverse_zone(ipa, "192.0.2.0/24")
    port_a, port_b = str(uuid.uuid4()), str(uuid.uuid4())
    assert life.floating_ip_associated(instance, "192.0.2.40", port_id=port_a).changed
    assert life.floating_ip_associated(instance, "192.0.2.41", port_id=port_b).changed
    # Another instance's port id on the instance: a wrong pairing changes nothing.
    assert life.port_deleted(port_a, str(uuid.uuid4())).changed is False

    seq = fake_ipa.admin.last_call_seq()
    outcome = life.port_deleted(port_a, instance)
    assert outcome.changed and outcome.round_trips == 3
    assert writes(calls(fake_ipa, seq)) == ["dnsrecord_del", "dnsrecord_del"]
    assert record(fake_ipa, ZONE, "port1") == {
        "arecord": ["192.0.2.41"], "txtrecord": [marker(instance, "192.0.2.41", port_b)]}
    assert record(fake_ipa, REV4, "40") == {}
    assert record(fake_ipa, REV4, "41") == {"ptrrecord": [f"{fqdn}."]}
    # Without the instance id (neutron did not say which device): found by the marker.
    assert life.port_deleted(port_b, None).changed
    assert record(fake_ipa, ZONE, "port1") == {}
    assert life.port_deleted(port_b, None).changed is False


def test_floating_ip_moved_to_another_instance(life, joiner, ipa, fake_ipa):
    """neutron re-associates without a disassociate event: the old name loses the address."""
    first, fqdn1 = enrolled(joiner, fake_ipa, "move1")
    second, fqdn2 = enrolled(joiner, fake_ipa, "move2")
    reverse_zone(ipa, "192.0.2.0/24")
    # An admin's own record for the same address (no marker): never touched.
    ipa.call("dnsrecord_add", ZONE, "static", arecord=["192.0.2.60"])
    port1, port2 = str(uuid.uuid4()), str(uuid.uuid4())
    assert life.floating_ip_associated(first, "192.0.2.60", port_id=port1).changed
    assert life.floating_ip_associated(second, "192.0.2.60", port_id=port2).changed
    assert record(fake_ipa, ZONE, "move1") == {}
    assert record(fake_ipa, ZONE, "move2") == {
        "arecord": ["192.0.2.60"], "txtrecord": [marker(second, "192.0.2.60", port2)]}
    assert record(fake_ipa, ZONE, "static") == {"arecord": ["192.0.2.60"]}
    assert record(fake_ipa, REV4, "60") == {"ptrrecord": [f"{fqdn2}."]}
    # The late disassociate of the first port must not remove the second's records.
    assert life.floating_ip_disassociated("192.0.2.60", port_id=port1).changed is False
    assert record(fake_ipa, ZONE, "move2")["arecord"] == ["192.0.2.60"]
    # Deleting the first instance leaves the second one's address alone.
    assert life.instance_deleted(first).changed
    assert record(fake_ipa, ZONE, "move2")["arecord"] == ["192.0.2.60"]
    assert record(fake_ipa, REV4, "60") == {"ptrrecord": [f"{fqdn2}."]}
    assert fqdn1 not in fake_ipa.admin.state()["hosts"]


def test_fixed_ips_v4_and_v6(life, joiner, ipa, fake_ipa):
    instance, fqdn = enrolled(joiner, fake_ipa, "fix1")
    reverse_zone(ipa, "192.0.2.0/24")
    reverse_zone(ipa, "2001:db8::/32")
    seq = fake_ipa.admin.last_call_seq()
    outcome = life.fixed_ips_created(instance, ["192.0.2.70", "2001:DB8::70"])
    assert outcome.changed and outcome.round_trips == 3
    # One write batch for everything: (A+TXT), PTR, (AAAA+TXT), PTR.
    log = calls(fake_ipa, seq)
    assert writes(log) == ["dnsrecord_add"] * 4 and log[-1]["method"].startswith("batch")
    rec = record(fake_ipa, ZONE, "fix1")
    assert rec["arecord"] == ["192.0.2.70"] and rec["aaaarecord"] == ["2001:db8::70"]
    assert sorted(rec["txtrecord"]) == sorted([marker(instance, "192.0.2.70", kind="fixed"),
                                               marker(instance, "2001:db8::70", kind="fixed")])
    v6 = jdns.relative_name(jdns.reverse_name("2001:db8::70"), REV6)
    assert record(fake_ipa, REV6, v6) == {"ptrrecord": [f"{fqdn}."]}
    assert life.fixed_ips_created(instance, ["192.0.2.70", "2001:db8::70"]).changed is False
    # Floating-IP events never remove fixed-IP records.
    assert life.floating_ip_disassociated("192.0.2.70").changed is False

    assert life.instance_deleted(instance).changed
    assert record(fake_ipa, ZONE, "fix1") == {}
    assert record(fake_ipa, REV4, "70") == {} and record(fake_ipa, REV6, v6) == {}


# -- failures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["reset", "http500"])
def test_ipa_down_raises_ipaunavailable_within_the_deadline(make_client, settings, joiner,
                                                            fake_ipa, fault):
    instance, fqdn = enrolled(joiner, fake_ipa, "down1")
    budget = 1.5
    life = InstanceLifecycle(make_client(connect_retries=50, timeout=10.0), settings,
                             deadline=budget)
    fake_ipa.admin.inject_fault(fault, duration=30)
    try:
        for operation in (lambda: life.instance_deleted(instance),
                          lambda: life.floating_ip_disassociated("192.0.2.80")):
            began = time.monotonic()
            with pytest.raises(IPAUnavailable) as info:
                operation()
            assert not isinstance(info.value, IPACommandFailed)
            assert time.monotonic() - began <= budget + 0.3
    finally:
        fake_ipa.admin.clear_faults()
    assert fqdn in fake_ipa.admin.state()["hosts"]


def test_ipa_refusing_a_command_is_ipacommandfailed(life, joiner, fake_ipa):
    instance, fqdn = enrolled(joiner, fake_ipa, "aci1")
    fake_ipa.admin.inject_fault("aci", commands=["host_disable"])
    with pytest.raises(IPACommandFailed) as info:
        life.instance_rebuilt(instance)
    assert "ACIError" in str(info.value)
    fake_ipa.admin.inject_fault("aci", commands=["batch"])
    with pytest.raises(IPACommandFailed):
        life.instance_deleted(instance)
    assert fqdn in fake_ipa.admin.state()["hosts"]
