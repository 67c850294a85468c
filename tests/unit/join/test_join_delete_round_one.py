"""When round trip 1 of a delete is enough: ``lifecycle.records_from_round_one``.

Round trip 1 asks ``host_find`` (with ``all``: what each host manages), ``dnszone_find`` and
``dnsrecord_find(<guessed zone>, <the instance's marker>)``.  Round trip 2 (``dnsrecord_show``
per host, ``host_find`` / ``service_find`` by ``man_by_host``) is skipped only when those
answers prove what it would have read; None means "read as before".
"""

from __future__ import annotations

from typing import Any

import pytest

from novajoin.ipa import BatchItem
from novajoin.ipa import errors as ipa_errors
from novajoin.join import dns
from novajoin.join.hosts import OwnedHost, host_find_call, managed_hosts, owned_hosts
from novajoin.join.lifecycle import records_from_round_one
from novajoin.join.marker import Marker

INSTANCE = "5a1d0e7c-3b2f-4e6a-9c8d-7f6e5d4c3b2a"
ZONE = "example.test."
ZONES = [ZONE, "sub.example.test.", "2.0.192.in-addr.arpa."]
MARK = dns.DNSMarker(INSTANCE, "192.0.2.7").format()


def host(fqdn: str, *managing: str) -> OwnedHost:
    return OwnedHost(fqdn, Marker(INSTANCE, "proj", "nonce1234"), True, False,
                     frozenset(managing or (fqdn,)))


def record(name: str, **attrs: list[str]) -> dict[str, Any]:
    return {"idnsname": [{"__dns_name__": name}], "dn": f"idnsname={name},...", **attrs}


def found(*records: dict[str, Any], truncated: bool = False) -> BatchItem:
    return BatchItem(result={"result": list(records), "count": len(records),
                             "truncated": truncated})


VM1 = "vm1.example.test"
VM1_RECORD = record("vm1", arecord=["192.0.2.7"], txtrecord=[MARK])


def test_plain_host_with_its_record() -> None:
    records = records_from_round_one([host(VM1)], ZONES, ZONE, found(VM1_RECORD))
    assert records is not None and list(records) == [VM1]
    assert (records[VM1].zone, records[VM1].rel, records[VM1].name) == (
        ZONE, "vm1", "vm1.example.test.")
    assert records[VM1].markers()[0][1].instance_id == INSTANCE


def test_no_record_found_means_nothing_to_unpublish() -> None:
    assert records_from_round_one([host(VM1)], ZONES, ZONE, found()) == {}


def test_records_on_other_names_are_not_used() -> None:
    # A marker of this instance left on another name is not what round trip 2 reads.
    stale = record("old-name", txtrecord=[MARK])
    apex = record("@", txtrecord=[MARK])
    assert records_from_round_one([host(VM1)], ZONES, ZONE, found(stale, apex)) == {}


def test_two_hosts_of_one_instance() -> None:
    vm2 = "vm2.example.test"
    hosts = [host(VM1, VM1, vm2), host(vm2)]  # one manages the other: both are going
    records = records_from_round_one(hosts, ZONES, ZONE, found(
        VM1_RECORD, record("vm2", txtrecord=[MARK])))
    assert records is not None and sorted(records) == [VM1, vm2]


@pytest.mark.parametrize("managing", [
    ("vip.example.test", VM1),  # a subhost: round trip 2 decides what goes with it
    ("vip.example.test",),
    ("fqdn=odd,cn=elsewhere",),
])
def test_managing_anything_else_reads_again(managing) -> None:
    assert records_from_round_one([host(VM1, *managing)], ZONES, ZONE,
                                  found(VM1_RECORD)) is None


def test_host_outside_the_guessed_zone_reads_again() -> None:
    sub = "vm3.sub.example.test"
    assert records_from_round_one([host(sub)], ZONES, ZONE, found()) is None
    # ... unless the guess was that zone.
    records = records_from_round_one([host(sub)], ZONES, "sub.example.test",
                                     found(record("vm3", txtrecord=[MARK])))
    assert records is not None and list(records) == [sub]


def test_host_in_no_zone_needs_no_record() -> None:
    refused = BatchItem(error=ipa_errors.NotFound("DNS is not configured"))
    assert records_from_round_one([host(VM1)], [], ZONE, refused) == {}
    assert records_from_round_one([host("vm1.other.test")], ZONES, ZONE, refused) == {}


@pytest.mark.parametrize("answer", [
    BatchItem(error=ipa_errors.NotFound("example.test.: DNS zone not found")),
    BatchItem(error=ipa_errors.ACIError("Insufficient access")),
    found(VM1_RECORD, truncated=True),
    BatchItem(result={"summary": "no result list"}),
])
def test_an_unusable_find_reads_again(answer) -> None:
    assert records_from_round_one([host(VM1)], ZONES, ZONE, answer) is None


def test_managing_is_read_from_names_or_raw_dns_absent_is_empty() -> None:
    assert managed_hosts({"managing_host": ["VIP.example.test", "vm1.example.test."]}) == {
        "vip.example.test", "vm1.example.test"}
    assert managed_hosts({"managing": [
        "fqdn=vip.example.test,cn=computers,cn=accounts,dc=example,dc=test"]}) == {
        "vip.example.test"}
    assert managed_hosts({}) == managed_hosts({"managing_host": []}) == frozenset()
    assert managed_hosts({"managing": ["cn=x,dc=test"]}) == {"cn=x,dc=test"}


def test_owned_hosts_carry_what_they_manage() -> None:
    entry = {"fqdn": [VM1], "description": [Marker(INSTANCE, "proj", "nonce1234").format()],
             "managing_host": [VM1, "vip.example.test"], "has_keytab": True}
    [owned] = owned_hosts({"result": [entry]}, INSTANCE)
    assert owned.managing == {VM1, "vip.example.test"}


def test_host_find_call_asks_all_only_for_managing() -> None:
    assert "all" not in host_find_call(INSTANCE)[2]
    command, args, options = host_find_call(INSTANCE, managing=True)
    assert (command, args, options["all"]) == ("host_find", [f"instance={INSTANCE}"], True)
    assert dns.search_term(INSTANCE.upper()) == f"instance={INSTANCE}"
    assert dns.search_term(INSTANCE) in MARK
