"""dnszone_* and dnsrecord_*: A, AAAA, PTR, reverse zones."""

from __future__ import annotations

import re

import pytest

from novajoin.ipa import errors

REV4 = "2.0.192.in-addr.arpa."


def test_zone_add_show_find(call) -> None:
    added = call("dnszone_add", "cloud.test")
    assert added["value"] == {"__dns_name__": "cloud.test."}
    assert added["result"]["idnsname"] == [{"__dns_name__": "cloud.test."}]
    assert added["result"]["dn"] == "idnsname=cloud.test.,cn=dns,dc=example,dc=test"
    with pytest.raises(errors.DuplicateEntry):
        call("dnszone_add", "cloud.test.")
    assert call("dnszone_show", "cloud.test.")["result"]["idnssoaretry"] == ["900"]
    assert call("dnszone_show", "cloud.test", raw=True)["result"]["idnsname"] == ["cloud.test."]
    assert call("dnszone_find")["count"] == 2
    assert call("dnszone_find", "cloud")["summary"] == "1 DNS zone matched"
    with pytest.raises(errors.NotFound, match=re.escape("nope.test.: DNS zone not found")):
        call("dnszone_show", "nope.test")
    reverse = call("dnszone_add", name_from_ip="192.0.2.0/24")
    assert reverse["value"] == {"__dns_name__": REV4}
    assert call("dnszone_find", forward_only=True)["count"] == 2


def test_record_add_del_a_and_aaaa(call) -> None:
    added = call("dnsrecord_add", "example.test", "www", arecord=["192.0.2.1"])
    assert added["value"] == {"__dns_name__": "www"}
    assert added["result"]["arecord"] == ["192.0.2.1"]
    with pytest.raises(errors.EmptyModlist):
        call("dnsrecord_add", "example.test", "www", arecord="192.0.2.1")
    call("dnsrecord_add", "example.test", "www", aaaarecord=["2001:db8:0::1"])
    rec = call("dnsrecord_show", "example.test.", "www")["result"]
    assert rec["aaaarecord"] == ["2001:db8::1"]
    with pytest.raises(errors.AttrValueNotFound,
                       match=re.escape("A record does not contain '192.0.2.9'")):
        call("dnsrecord_del", "example.test", "www", arecord=["192.0.2.9"])
    call("dnsrecord_del", "example.test", "www", arecord=["192.0.2.1"])
    deleted = call("dnsrecord_del", "example.test", "www", aaaarecord=["2001:db8::1"])
    assert deleted == {"result": {"failed": []}, "summary": 'Deleted record "www"',
                       "value": [{"__dns_name__": "www"}]}
    with pytest.raises(errors.NotFound, match="www: DNS resource record not found"):
        call("dnsrecord_show", "example.test", "www")
    with pytest.raises(errors.OptionError):
        call("dnsrecord_add", "example.test", "www")
    with pytest.raises(errors.ValidationError) as exc:
        call("dnsrecord_add", "example.test", "www", arecord=["2001:db8::1"])
    assert exc.value.message == ("invalid 'a_rec': invalid IP address version (is 6, must be "
                                 "4)!")


def test_create_reverse_and_ptr(call) -> None:
    with pytest.raises(errors.NonFatalError) as exc:
        call("dnsrecord_add", "example.test", "vm", arecord=["192.0.2.5"],
             a_extra_create_reverse=True)
    assert exc.value.code == 4304 and "reverse zone" in exc.value.message
    call("dnszone_add", REV4)
    call("dnsrecord_add", "example.test", "vm2", a_part_ip_address="192.0.2.6",
         a_extra_create_reverse=True)
    ptr = call("dnsrecord_show", REV4, "6")["result"]
    assert ptr["ptrrecord"] == ["vm2.example.test."]
    with pytest.raises(errors.DuplicateEntry,
                       match=re.escape("Reverse record for IP address 192.0.2.6")):
        call("dnsrecord_add", "example.test", "vm3", arecord=["192.0.2.6"],
             a_extra_create_reverse=True)
    call("dnsrecord_add", REV4, "7", ptrrecord=["vm7.example.test."])
    assert call("dnsrecord_find", REV4, ptrrecord=["vm7.example.test."])["count"] == 1
    call("dnsrecord_del", REV4, "7", del_all=True)
    assert call("dnsrecord_find", REV4, "7")["count"] == 0


def test_ipv6_reverse_zone(call) -> None:
    zone = "8.b.d.0.1.0.0.2.ip6.arpa."
    call("dnszone_add", zone)
    call("dnsrecord_add", "example.test", "v6", aaaarecord=["2001:db8::5"],
         aaaa_extra_create_reverse=True)
    found = call("dnsrecord_find", zone)
    ptrs = [e for e in found["result"] if "ptrrecord" in e]
    assert ptrs[0]["ptrrecord"] == ["v6.example.test."]


def test_record_del_changes_nothing_when_one_value_is_missing(call) -> None:
    call("dnsrecord_add", "example.test", "pair", arecord=["192.0.2.1", "192.0.2.2"])
    with pytest.raises(errors.AttrValueNotFound):
        call("dnsrecord_del", "example.test", "pair", arecord=["192.0.2.1", "192.0.2.9"])
    kept = call("dnsrecord_show", "example.test", "pair")["result"]["arecord"]
    assert sorted(kept) == ["192.0.2.1", "192.0.2.2"]
