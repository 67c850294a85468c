"""ipalib's conversion and validation rules, as the simulator applies them."""

from __future__ import annotations

import pytest

from novajoin.fakeipa.params import Param
from novajoin.fakeipa.spec import hostname_problem, parse_param
from novajoin.ipa import errors


def test_parse_param_spec_suffixes() -> None:
    assert (parse_param("fqdn").required, parse_param("fqdn").multivalue) == (True, False)
    assert (parse_param("l?").required, parse_param("l?").multivalue) == (False, False)
    assert (parse_param("host*").required, parse_param("host*").multivalue) == (False, True)
    assert (parse_param("fqdn+").required, parse_param("fqdn+").multivalue) == (True, True)
    flag = parse_param("force:f")
    assert flag.kind == "flag" and flag.default is False and flag.autofill
    assert parse_param("all:f=1").default is True
    assert parse_param("idnssoaretry:i=900").default == 900
    enum = parse_param("ipapermright*:e.right")
    assert enum.kind == "enum" and "write" in enum.values
    assert parse_param("fqdn@hostname").param_name == "hostname"


@pytest.mark.parametrize(("raw", "expected"), [
    (True, True), (False, False), ("true", True), ("TRUE", True), ("False", False),
    ("1", True), ("0", False), (1, True), (0, False),
])
def test_bool_accepts_ipa_truths(raw, expected) -> None:
    assert Param("all", kind="flag").convert(raw) is expected


def test_bool_rejects_other_values() -> None:
    with pytest.raises(errors.ConversionError, match="invalid 'all': must be True or False"):
        Param("all", kind="flag").convert("yes")
    with pytest.raises(errors.ConversionError, match="Only one value is allowed"):
        Param("all", kind="flag").convert([True, False])


def test_str_converts_numbers_and_rejects_lists_and_dicts() -> None:
    p = Param("description", required=False)
    assert p.convert(5) == "5"
    assert p.convert("") is None
    with pytest.raises(errors.ConversionError) as exc:
        p.convert(["a", "b"])
    assert exc.value.message == "invalid 'description': Only one value is allowed"
    with pytest.raises(errors.ConversionError, match="must be Unicode text"):
        p.convert({"a": 1})


def test_multivalue_wraps_scalars_and_drops_nulls() -> None:
    p = Param("host", required=False, multivalue=True)
    assert p.convert("a") == ("a",)
    assert p.convert(["a", "", None, "b"]) == ("a", "b")
    assert p.convert([]) is None


def test_int_conversion_uses_cli_name() -> None:
    p = Param("dnsttl", kind="int", required=False, cli_name="ttl")
    assert p.convert("42") == 42
    assert p.convert(3.0) == 3
    with pytest.raises(errors.ConversionError) as exc:
        p.convert("forty")
    assert exc.value.message == "invalid 'ttl': must be an integer"
    assert exc.value.data == {"name": "ttl", "error": "must be an integer"}


def test_required_and_whitespace_and_enum_rules() -> None:
    with pytest.raises(errors.RequirementError, match="'fqdn' is required"):
        Param("fqdn").validate(None)
    with pytest.raises(errors.ValidationError,
                       match="invalid 'desc': Leading and trailing spaces are not allowed"):
        Param("description", cli_name="desc").validate(" x")
    enum = parse_param("ipapermbindruletype:e.bind=permission")
    with pytest.raises(errors.ValidationError) as exc:
        enum.validate("nobody")
    assert exc.value.message == ("invalid 'ipapermbindruletype': must be one of 'permission', "
                                 "'all', 'anonymous', 'self'")


def test_password_is_secret_and_keeps_spaces() -> None:
    p = parse_param("userpassword?:p@password")
    assert p.secret and p.safe_value("x") == "********"
    p.validate(" spaced ")  # HostPassword allows surrounding whitespace


@pytest.mark.parametrize(("name", "problem"), [
    ("web1.example.test", None),
    ("web_1.example.test", "only letters, numbers, '-' are allowed. "
                           "DNS label may not start or end with '-'"),
    ("-web.example.test", "only letters, numbers, '-' are allowed. "
                          "DNS label may not start or end with '-'"),
    ("web1", "not fully qualified"),
    ("web..example.test", "hostname contains empty label (consecutive dots)"),
])
def test_hostname_rules(name, problem) -> None:
    expected = None if problem is None else f"invalid domain-name: {problem}"
    assert hostname_problem(name) == expected
