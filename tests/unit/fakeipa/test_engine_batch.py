"""batch: per-item results and errors, nested validation, no whole failure."""

from __future__ import annotations


def test_batch_items_succeed_and_fail_independently(call) -> None:
    result = call("batch", [
        {"method": "host_add", "params": [["w1.example.test"], {"force": True}]},
        {"method": "host_show", "params": [["missing.example.test"], {}]},
        {"method": "host_show/1", "params": [["w1.example.test"], {"bogus": 1}]},
        {"method": "no_such", "params": [[], {}]},
        {"method": "host_show", "params": "junk"},
        {"params": [[], {}]},
        {"method": "host_add", "params": [["w1.example.test"], {"force": True}]},
    ])
    assert result["count"] == 7
    ok, missing, bogus, unknown, junk, nomethod, dup = result["results"]
    assert ok["error"] is None and ok["value"] == "w1.example.test"
    assert "messages" not in ok  # nested calls inherit the batch's version
    assert missing == {"error": "missing.example.test: host not found", "error_code": 4001,
                       "error_name": "NotFound",
                       "error_kw": {"reason": "missing.example.test: host not found"}}
    assert bogus["error"] == "invalid 'params': Unknown option: bogus"
    assert bogus["error_code"] == 3008
    assert unknown["error_name"] == "CommandError" and unknown["error_code"] == 905
    assert junk["error"] == "invalid 'params': must contain a tuple (list, dict)"
    assert nomethod["error"] == "'method' is required" and nomethod["error_code"] == 3007
    assert dup["error_code"] == 4002


def test_batch_keeponly(call) -> None:
    result = call("batch", [{"method": "host_show", "params": [["ipa.example.test"], {}]}],
                  keeponly=["fqdn"])
    assert result["results"][0]["result"] == {"fqdn": ["ipa.example.test"]}


def test_batch_rejects_non_dict_methods(call) -> None:
    import pytest

    from novajoin.ipa import errors

    with pytest.raises(errors.ConversionError, match="invalid 'methods': must be dictionary"):
        call("batch", ["host_show"])
