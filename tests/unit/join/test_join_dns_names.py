"""Reverse-zone naming and zone matching of novajoin.join.dns (pure logic)."""

from __future__ import annotations

import pytest

from novajoin.join import dns

ZONES = ["example.test.", "proj.example.test.", "2.0.192.in-addr.arpa.",
         "192.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", "other.test."]


def test_reverse_name_ipv4():
    assert dns.reverse_name("192.0.2.7") == "7.2.0.192.in-addr.arpa."


def test_reverse_name_ipv6_is_32_nibbles():
    name = dns.reverse_name("2001:db8::1")
    labels = name.rstrip(".").split(".")
    assert name.endswith(".8.b.d.0.1.0.0.2.ip6.arpa.")
    assert labels[:2] == ["1", "0"] and len(labels) == 32 + 2


def test_reverse_zone_is_the_longest_match():
    assert dns.reverse_zone("192.0.2.7", ZONES) == "2.0.192.in-addr.arpa."
    assert dns.reverse_zone("192.0.3.7", ZONES) == "192.in-addr.arpa."
    assert dns.reverse_zone("198.51.100.1", ZONES) is None
    assert dns.reverse_zone("2001:db8::1", ZONES) == "8.b.d.0.1.0.0.2.ip6.arpa."
    assert dns.reverse_zone("2001:db9::1", ZONES) is None


def test_reverse_zone_does_not_match_a_label_prefix():
    # "12.0.192.in-addr.arpa." must not be taken for "2.0.192.in-addr.arpa.".
    assert dns.reverse_zone("192.0.12.7", ["2.0.192.in-addr.arpa."]) is None


def test_forward_zone_longest_and_never_reverse():
    assert dns.forward_zone("vm1.example.test", ZONES) == "example.test."
    assert dns.forward_zone("vm1.proj.example.test", ZONES) == "proj.example.test."
    assert dns.forward_zone("VM1.Proj.Example.Test.", ZONES) == "proj.example.test."
    assert dns.forward_zone("vm1.nowhere.test", ZONES) is None
    assert dns.forward_zone("x.notexample.test", ["example.test."]) is None
    assert dns.forward_zone("7.2.0.192.in-addr.arpa", ZONES) is None


def test_relative_name():
    assert dns.relative_name("vm1.proj.example.test", "example.test.") == "vm1.proj"
    assert dns.relative_name("example.test.", "example.test") == "@"
    assert dns.relative_name(dns.reverse_name("192.0.2.7"), "2.0.192.in-addr.arpa.") == "7"
    with pytest.raises(ValueError):
        dns.relative_name("vm1.other.test", "example.test.")


def test_is_reverse_zone():
    assert dns.is_reverse_zone("2.0.192.in-addr.arpa")
    assert dns.is_reverse_zone("ip6.arpa.")
    assert not dns.is_reverse_zone("example.test.")
    assert not dns.is_reverse_zone("arpa.example.test.")


def test_unwrap_and_record_values():
    entry = {"idnsname": [{"__dns_name__": "vm1"}], "arecord": ["192.0.2.7"],
             "txtrecord": "single"}
    assert dns.record_values(entry, "idnsname") == ["vm1"]
    assert dns.record_values(entry, "arecord") == ["192.0.2.7"]
    assert dns.record_values(entry, "txtrecord") == ["single"]
    assert dns.record_values(entry, "ptrrecord") == []
    assert dns.unwrap("plain") == "plain"


def test_addresses():
    assert dns.normalize_address(" 2001:DB8:0::1 ") == "2001:db8::1"
    assert dns.record_attr("192.0.2.7") == "arecord"
    assert dns.record_attr("2001:db8::1") == "aaaarecord"
    assert dns.same_address("2001:db8::1", "2001:DB8:0:0::1")
    assert not dns.same_address("192.0.2.7", "bogus")
    with pytest.raises(ValueError):
        dns.normalize_address("192.0.2.300")
