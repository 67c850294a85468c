"""The command pipeline: JSON-RPC shape, versions, args/options, errors, secrets."""

from __future__ import annotations

import pytest

from novajoin.fakeipa.engine import Engine
from novajoin.ipa import errors


def test_ping_and_missing_version_warning(engine: Engine) -> None:
    result = engine.execute("ping", [[], {}], principal="admin@EXAMPLE.TEST")
    assert result["summary"] == "IPA server version 4.13.1. API version 2.257"
    [message] = result["messages"]
    assert message["name"] == "VersionMissing" and message["code"] == 13001
    assert message["data"] == {"server_version": "2.257"}


def test_method_with_version_suffix(engine: Engine) -> None:
    assert engine.is_known("host_add/1") and engine.is_known("host_add")
    assert not engine.is_known("host_add/2") and not engine.is_known("user_add")
    with pytest.raises(errors.CommandError, match="unknown command 'host_add/2'"):
        engine.execute("host_add/2", [[], {}], principal="x")


@pytest.mark.parametrize(("params", "text"), [
    (None, 'Request is missing "params"'),
    ({"a": 1}, "params must be a list"),
    ([[]], "params must contain [args, options]"),
    (["x", {}], "params[0] (aka args) must be a list"),
    ([[], []], "params[1] (aka options) must be a dict"),
])
def test_malformed_params_are_json_errors(engine: Engine, params, text) -> None:
    with pytest.raises(errors.JSONError) as exc:
        engine.execute("ping", params, principal="x")
    assert exc.value.message == f"Invalid JSON-RPC request: {text}"


def test_version_rules(call) -> None:
    assert call("ping", version="2.251")["summary"]  # older minor: accepted
    assert "messages" not in call("ping", version="2.999")
    with pytest.raises(errors.VersionError) as exc:
        call("ping", version="3.0")
    assert exc.value.message == ("3.0 client incompatible with 2.257 server at "
                                 "'https://ipa.example.test/ipa/xml'")
    with pytest.raises(errors.VersionError):
        call("ping", version="banana")


def test_argument_and_option_errors(call) -> None:
    with pytest.raises(errors.ZeroArgumentError, match="command 'ping' takes no arguments"):
        call("ping", "x")
    with pytest.raises(errors.MaxArgumentError) as exc:
        call("host_show", "a.example.test", "b")
    assert exc.value.message == "command 'host_show' takes at most 1 argument"
    with pytest.raises(errors.MaxArgumentError, match="takes at most 2 arguments"):
        call("dnsrecord_show", "example.test", "www", "x")
    with pytest.raises(errors.OptionError) as exc:
        call("host_add", "a.example.test", force=True, otp="x")
    assert exc.value.message == "Unknown option: otp" and exc.value.data == {"option": "otp"}
    with pytest.raises(errors.RequirementError, match="'fqdn' is required"):
        call("host_show")
    with pytest.raises(errors.RequirementError, match="'fqdn' is required"):
        call("host_show", "")
    with pytest.raises(errors.OverlapError):
        call("host_show", "a.example.test", fqdn="a.example.test")


def test_argument_may_be_given_as_option(call) -> None:
    result = call("host_show", fqdn="ipa.example.test")
    assert result["value"] == "ipa.example.test"


def test_conversion_errors(call) -> None:
    with pytest.raises(errors.ConversionError, match="invalid 'force': must be True or False"):
        call("host_add", "a.example.test", force="perhaps")
    with pytest.raises(errors.ConversionError, match="Only one value is allowed"):
        call("host_add", "a.example.test", force=True, description=["a", "b"])
    with pytest.raises(errors.ConversionError, match="must be Unicode text"):
        call("host_add", {"x": 1}, force=True)
    # strings for flags are fine, as with IPA
    assert call("host_add", "a.example.test", force="true")["value"] == "a.example.test"


def test_multivalue_last_argument_takes_the_rest(call) -> None:
    call("host_add", "a.example.test", force=True)
    call("host_add", "b.example.test", force=True)
    result = call("host_del", "a.example.test", "b.example.test")
    assert result["value"] == ["a.example.test", "b.example.test"]
    assert result["summary"] == 'Deleted host "a.example.test,b.example.test"'


def test_redact_masks_secrets_everywhere(engine: Engine) -> None:
    params = [["h.example.test"], {"userpassword": "s3cret", "force": True}]
    assert engine.redact("host_add", params) == [
        ["h.example.test"], {"userpassword": "********", "force": True}]
    assert params[1]["userpassword"] == "s3cret"  # a copy, not the original
    batch = [[{"method": "host_mod", "params": [["h"], {"userpassword": "s3cret"}]}], {}]
    assert "s3cret" not in repr(engine.redact("batch", batch))
    assert engine.redact("x", "garbage") == "garbage"


def test_errors_never_echo_a_password(call) -> None:
    with pytest.raises(errors.IPAError) as exc:
        call("host_add", "bad_name.example.test", userpassword="Sup3rSecret")
    assert "Sup3rSecret" not in repr(exc.value.to_json())


def test_env(call) -> None:
    result = call("env", "realm", "domain", "nonsense")
    assert result["result"] == {"realm": "EXAMPLE.TEST", "domain": "example.test"}
    assert result["count"] == 2 and result["total"] > 2 and result["summary"] == "2 variables"
