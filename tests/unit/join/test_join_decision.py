"""The enrollment decision (novajoin.join.decision) and the answer shapes (model)."""

from __future__ import annotations

import pytest

from novajoin.join import JoinAnswer, JoinSettings, decide, os_version, parse_flag
from novajoin.join.decision import instance_choice


@pytest.mark.parametrize(("value", "flag"), [
    ("true", True), ("True", True), ("TRUE", True), (" true ", True), (True, True),
    ("false", False), ("False", False), (False, False),
    ("1", None), ("yes", None), ("", None), (None, None), (1, None), ("truex", None),
])
def test_parse_flag(value, flag):
    assert parse_flag(value) is flag


@pytest.mark.parametrize(("metadata", "image", "enroll", "source"), [
    ({"ipa_enroll": "true"}, {}, True, "instance"),
    ({"ipa_enroll": "True"}, {"ipa_enroll": "false"}, True, "instance"),
    ({"ipa_enroll": "false"}, {"ipa_enroll": "True"}, False, "instance"),  # instance wins
    ({"ipa_enroll": "yes"}, {"ipa_enroll": "True"}, False, "instance"),  # explicit, not true
    ({}, {"ipa_enroll": "True"}, True, "image"),
    ({"other": "x"}, {"ipa_enroll": "true"}, True, "image"),
    ({}, {"ipa_enroll": "false"}, False, "image"),
    ({}, {"ipa_enroll": "1"}, False, "image"),
    ({}, {}, False, "default"),
    (None, None, False, "default"),
    ({}, None, False, "default"),  # boot from volume: no image
])
def test_decide(metadata, image, enroll, source):
    found = decide(metadata, image)
    assert (found.enroll, found.source) == (enroll, source)


def test_instance_choice():
    assert instance_choice({}) is None
    assert instance_choice({"ipa_enroll": "TRUE"}) is True
    assert instance_choice({"ipa_enroll": "nope"}) is False


@pytest.mark.parametrize(("props", "expected"), [
    ({"os_distro": "fedora", "os_version": "40"}, "fedora 40"),
    ({"os_distro": " rhel ", "os_version": ""}, "rhel"),
    ({"os_version": "22.04"}, "22.04"),
    ({"os_distro": "ubuntu\n\tjammy", "os_version": "22.04\x00"}, "ubuntu jammy 22.04"),
    ({"os_distro": 7}, None),
    ({}, None),
    (None, None),
])
def test_os_version(props, expected):
    assert os_version(props) == expected


def test_os_version_is_bounded():
    assert len(os_version({"os_distro": "x" * 500, "os_version": "y" * 500}) or "") <= 129


SETTINGS = JoinSettings(domain="example.test", realm="EXAMPLE.TEST", ipa_server="ipa.example.test")


def test_answer_shapes():
    assert JoinAnswer.not_requested().to_json() == {}
    issued = JoinAnswer.issued(SETTINGS, "vm1.example.test", "S3cretOtp")
    assert issued.to_json() == {
        "hostname": "vm1.example.test", "ipaotp": "S3cretOtp", "krb_realm": "EXAMPLE.TEST",
        "ipa_domain": "example.test", "ipa_server": "ipa.example.test"}
    assert "S3cretOtp" not in repr(issued)
    enrolled = JoinAnswer.enrolled(SETTINGS, "vm1.example.test").to_json()
    assert enrolled["enrolled"] is True and "ipaotp" not in enrolled
    refused = JoinAnswer.refused(SETTINGS, None, "bad name", "invalid-hostname")
    assert refused.to_json() == {"hostname": None, "krb_realm": "EXAMPLE.TEST",
                                 "error": "bad name"}
    no_server = JoinSettings(domain="example.test", realm="EXAMPLE.TEST")
    assert "ipa_server" not in JoinAnswer.issued(no_server, "a.example.test", "x").to_json()
