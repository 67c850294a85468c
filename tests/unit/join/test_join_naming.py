"""Hostname -> FQDN rules (novajoin.join.naming)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from novajoin.join import InvalidName, host_fqdn, normalize_project
from novajoin.join.naming import MAX_FQDN, label_problem, project_label, validate_domain

DOMAIN = "example.test"


@pytest.mark.parametrize(("hostname", "fqdn"), [
    ("vm1", "vm1.example.test"),
    ("VM1", "vm1.example.test"),
    ("web-01", "web-01.example.test"),
    ("0", "0.example.test"),
    ("123abc", "123abc.example.test"),
    ("vm1.example.test", "vm1.example.test"),
    ("VM1.Example.Test", "vm1.example.test"),
    ("a" * 51, "a" * 51 + ".example.test"),  # exactly 64
])
def test_good_hostnames(hostname, fqdn):
    assert host_fqdn(hostname, DOMAIN) == fqdn


@pytest.mark.parametrize(("hostname", "why"), [
    ("", "no hostname"),
    ("bad_name", "letters, digits"),
    ("two words", "letters, digits"),
    (" vm1", "letters, digits"),
    ("vm1\n", "letters, digits"),
    ("vm1\x00", "letters, digits"),
    ("-vm", "start or end"),
    ("vm-", "start or end"),
    ("vm1.", "must not end with '.'"),
    ("vm1.example.test.", "must not end with '.'"),
    (".vm1", "not a short name"),
    ("..", "must not end"),
    ("vm1..example.test", "not a short name"),
    ("vm1.other.test", "not a short name"),
    ("example.test", "not a short name"),
    (".example.test", "not a short name"),
    ("ünïcode", "ASCII"),
    ("vm\u212a", "ASCII"),  # KELVIN SIGN lower-cases to an ASCII 'k'
    ("\uff56\uff4d\uff11", "ASCII"),  # full-width "vm1"
    ("x" * 64, "longer than 63"),
    ("a" * 52, "at most 64"),
    ("x" * 300, "longer than 63"),
])
def test_bad_hostnames_are_refused_with_a_reason(hostname, why):
    with pytest.raises(InvalidName) as info:
        host_fqdn(hostname, DOMAIN)
    assert why in str(info.value)
    assert len(str(info.value)) < 300  # hostile input is quoted, not echoed whole


@pytest.mark.parametrize("value", [None, 42, b"vm1", ["vm1"]])
def test_non_string_hostname_is_refused(value):
    with pytest.raises(InvalidName):
        host_fqdn(value, DOMAIN)


def test_project_subdomain():
    assert host_fqdn("vm1", DOMAIN, project="Dev") == "vm1.dev.example.test"
    assert host_fqdn("vm1.dev.example.test", DOMAIN, project="dev") == "vm1.dev.example.test"
    # The bare domain suffix is stripped too: the project label is ours to add.
    assert host_fqdn("vm1.example.test", DOMAIN, project="dev") == "vm1.dev.example.test"
    assert host_fqdn("vm1", DOMAIN, project="Dev Team_1") == "vm1.dev-team-1.example.test"
    with pytest.raises(InvalidName, match="project name"):
        host_fqdn("vm1", DOMAIN, project="Dev Team", normalize=False)
    with pytest.raises(InvalidName, match="project name"):
        host_fqdn("vm1", DOMAIN, project="___")
    with pytest.raises(InvalidName, match="project name"):
        host_fqdn("vm1", DOMAIN, project="p" * 64)
    with pytest.raises(InvalidName, match="at most 64"):
        host_fqdn("vm1", DOMAIN, project="p" * 50)


@pytest.mark.parametrize(("name", "normalized"), [
    ("dev", "dev"),
    ("Dev Team", "dev-team"),
    ("--x--", "x"),
    ("a.b", "a-b"),
    ("ünï", "n"),
    ("_admin_", "admin"),
    ("***", ""),
])
def test_normalize_project(name, normalized):
    assert normalize_project(name) == normalized


def test_project_label_without_normalisation():
    assert project_label("Dev-1", normalize=False) == "dev-1"
    for bad in ("dev team", "dév", "", "-x"):
        with pytest.raises(InvalidName):
            project_label(bad, normalize=False)


def test_domain_validation():
    assert validate_domain("Example.TEST") == "example.test"
    for bad in ("", "example..test", "exa_mple.test", "ex\u00e4mple.test", "example.test."):
        with pytest.raises(ValueError):
            validate_domain(bad)


def test_label_problem():
    assert label_problem("ok-1") is None
    assert label_problem("") == "empty DNS label"
    assert "63" in (label_problem("a" * 64) or "")


_LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"


@given(st.text(max_size=300))
@settings(max_examples=400, deadline=None)
def test_any_text_gives_a_valid_fqdn_or_a_refusal(text):
    try:
        fqdn = host_fqdn(text, DOMAIN)
    except InvalidName as exc:
        assert str(exc)
        return
    assert fqdn.endswith("." + DOMAIN) and len(fqdn) <= MAX_FQDN
    label = fqdn[: -len(DOMAIN) - 1]
    assert label_problem(label) is None and fqdn == fqdn.lower()


@given(st.text(max_size=100), st.text(max_size=100), st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_project_gives_a_valid_fqdn_or_a_refusal(hostname, project, normalize):
    try:
        fqdn = host_fqdn(hostname, DOMAIN, project=project, normalize=normalize)
    except InvalidName:
        return
    labels = fqdn.split(".")
    assert len(labels) == 4 and all(label_problem(x) is None for x in labels)
    assert len(fqdn) <= MAX_FQDN


@given(st.text(alphabet=_LABEL_ALPHABET, min_size=1, max_size=63))
def test_valid_labels_are_kept(label):
    if label_problem(label) is None and len(label) + len(DOMAIN) + 1 <= MAX_FQDN:
        assert host_fqdn(label, DOMAIN) == f"{label}.{DOMAIN}"
        assert host_fqdn(label.upper(), DOMAIN) == f"{label}.{DOMAIN}"
