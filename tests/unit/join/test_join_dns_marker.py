"""The DNS ownership marker (TXT value) of novajoin.join.dns: format and strict parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novajoin.join import dns

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
PORT = "5a6b7c8d-0000-4000-8000-123456789abc"


def test_format_is_the_documented_line():
    marker = dns.DNSMarker(UUID.upper(), "192.0.2.7", PORT, dns.FLOATING)
    assert marker.format() == (f"novajoin:v1 instance={UUID} ip=192.0.2.7 port={PORT} "
                               "kind=floating")
    fixed = dns.DNSMarker(UUID, "2001:DB8::0:1", None, dns.FIXED)
    assert fixed.format() == f"novajoin:v1 instance={UUID} ip=2001:db8::1 port=- kind=fixed"
    assert fixed.record_attr == "aaaarecord"


@pytest.mark.parametrize("marker", [
    dns.DNSMarker(UUID, "192.0.2.7", PORT, dns.FLOATING),
    dns.DNSMarker(UUID, "2001:db8::1", None, dns.FIXED),
])
def test_round_trip(marker):
    assert dns.parse_txt(marker.format()) == marker
    assert dns.parse_txt(f'"{marker.format()}"') == marker  # zone-file style quotes


@pytest.mark.parametrize("value", [
    None, 42, "", "v=spf1 -all", "novajoin:v2 instance=x ip=192.0.2.7 port=- kind=fixed",
    "novajoin:v1 ip=192.0.2.7 port=- kind=fixed",  # no instance
    f"novajoin:v1 instance={UUID} port=- kind=fixed",  # no ip
    f"novajoin:v1 instance={UUID} ip=192.0.2.7 kind=fixed",  # no port
    f"novajoin:v1 instance={UUID} ip=192.0.2.7 port=-",  # no kind
    f"novajoin:v1 instance={UUID} ip=192.0.2.300 port=- kind=fixed",
    f"novajoin:v1 instance={UUID} ip=192.0.2.7 port=- kind=elastic",
    f"novajoin:v1 instance={UUID} instance={UUID} ip=192.0.2.7 port=- kind=fixed",
    f"novajoin:v1 instance={UUID} ip=192.0.2.7 port=a/b kind=fixed",
    f"novajoin:v1 instance={UUID} ip=192.0.2.7 port=- kind=fixed garbage",
    f"see novajoin:v1 instance={UUID} ip=192.0.2.7 port=- kind=fixed",
])
def test_incomplete_or_damaged_markers_are_not_ours(value):
    assert dns.parse_txt(value) is None


def test_unknown_fields_are_ignored():
    value = f"novajoin:v1 instance={UUID} ip=192.0.2.7 port=- kind=fixed since=2024"
    assert dns.parse_txt(value) == dns.DNSMarker(UUID, "192.0.2.7", None, dns.FIXED)


def test_markers_keep_the_stored_value():
    stored = f"novajoin:v1  instance={UUID} ip=192.0.2.7 port=- kind=fixed"
    found = dns.markers(["v=spf1 -all", stored])
    assert found == [(stored, dns.DNSMarker(UUID, "192.0.2.7", None, dns.FIXED))]


def test_invalid_marker_values_are_refused():
    with pytest.raises(ValueError):
        dns.DNSMarker("not valid!", "192.0.2.7")
    with pytest.raises(ValueError):
        dns.DNSMarker(UUID, "192.0.2.7", "has space")
    with pytest.raises(ValueError):
        dns.DNSMarker(UUID, "192.0.2.7", None, "other")


@given(st.text(max_size=200))
def test_parse_never_raises(text):
    marker = dns.parse_txt(text)
    assert marker is None or dns.parse_txt(marker.format()) == marker


@given(st.ip_addresses(), st.sampled_from(dns.KINDS),
       st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True)))
def test_any_marker_round_trips(address, kind, port):
    marker = dns.DNSMarker(UUID, str(address), port, kind)
    assert dns.parse_txt(marker.format()) == marker
