"""host_* commands and enrollment: the state machine novajoin depends on."""

from __future__ import annotations

import pytest

from novajoin.fakeipa.engine import Engine
from novajoin.ipa import errors

FQDN = "vm1.example.test"


def test_add_with_password_has_no_principal_until_enrolled(engine: Engine, call) -> None:
    result = call("host_add", FQDN, force=True, userpassword="otp-1")
    entry = result["result"]
    assert result["summary"] == f'Added host "{FQDN}"' and result["value"] == FQDN
    assert entry["dn"] == f"fqdn={FQDN},cn=computers,cn=accounts,dc=example,dc=test"
    assert entry["fqdn"] == [FQDN] and entry["managedby_host"] == [FQDN]
    assert entry["has_password"] is True and entry["has_keytab"] is False
    assert "krbprincipalname" not in entry and "userpassword" not in entry
    assert "randompassword" not in entry

    with pytest.raises(errors.ACIError):
        engine.enroll(FQDN, "wrong")
    enrolled = engine.enroll(FQDN, "otp-1")
    assert enrolled["has_keytab"] is True and enrolled["has_password"] is False
    assert enrolled["krbprincipalname"] == [f"host/{FQDN}@EXAMPLE.TEST"]
    shown = call("host_show", FQDN)["result"]
    assert shown["has_keytab"] is True and shown["has_password"] is False
    with pytest.raises(errors.ACIError):
        engine.enroll(FQDN, "otp-1")  # the OTP was consumed


def test_random_password_returned_once(engine: Engine, call) -> None:
    entry = call("host_add", FQDN, force=True, random=True)["result"]
    otp = entry["randompassword"]
    assert len(otp) >= 16 and entry["has_password"] is True
    assert "randompassword" not in call("host_show", FQDN, all=True)["result"]
    assert otp not in repr(engine.snapshot())
    engine.enroll(FQDN, otp)


def test_add_without_password_gets_principal(call) -> None:
    entry = call("host_add", FQDN, force=True, description="d")["result"]
    assert entry["krbprincipalname"] == [f"host/{FQDN}@EXAMPLE.TEST"]
    assert entry["krbcanonicalname"] == [f"host/{FQDN}@EXAMPLE.TEST"]
    assert entry["description"] == ["d"] and entry["has_password"] is False


def test_add_errors(call) -> None:
    with pytest.raises(errors.DNSNotARecordError) as exc:
        call("host_add", FQDN)
    assert exc.value.message == f"Host '{FQDN}' does not have corresponding DNS A/AAAA record"
    with pytest.raises(errors.ValidationError) as exc:
        call("host_add", "vm_1.example.test", force=True)
    assert exc.value.message == ("invalid 'hostname': invalid domain-name: only letters, "
                                 "numbers, '-' are allowed. DNS label may not start or end with "
                                 "'-'")
    with pytest.raises(errors.ValidationError, match="not fully qualified"):
        call("host_add", "vm1", force=True)
    call("host_add", "VM1.Example.Test.", force=True)  # normalized
    with pytest.raises(errors.DuplicateEntry) as exc:
        call("host_add", FQDN, force=True)
    assert exc.value.message == f'host with name "{FQDN}" already exists'


def test_add_resolvable_with_dns_record_or_ip_address(call) -> None:
    call("dnsrecord_add", "example.test", "vm1", arecord=["192.0.2.10"])
    assert call("host_add", FQDN)["value"] == FQDN
    call("dnszone_add", "2.0.192.in-addr.arpa.")
    call("host_add", "vm2.example.test", ip_address="192.0.2.11")
    rec = call("dnsrecord_show", "example.test", "vm2")["result"]
    assert rec["arecord"] == ["192.0.2.11"]
    ptr = call("dnsrecord_show", "2.0.192.in-addr.arpa.", "11")["result"]
    assert ptr["ptrrecord"] == ["vm2.example.test."]
    with pytest.raises(errors.ValidationError, match="invalid 'ip_address'"):
        call("host_add", "vm3.example.test", ip_address="300.1.1.1")


def test_mod_rules(engine: Engine, call) -> None:
    call("host_add", FQDN, force=True, userpassword="otp-1")
    with pytest.raises(errors.EmptyModlist, match="no modifications to be performed"):
        call("host_mod", FQDN)
    call("host_mod", FQDN, userpassword="otp-2")  # an OTP may be reset before enrollment
    with pytest.raises(errors.ACIError):
        engine.enroll(FQDN, "otp-1")
    engine.enroll(FQDN, "otp-2")
    with pytest.raises(errors.ValidationError) as exc:
        call("host_mod", FQDN, userpassword="otp-3")
    assert exc.value.message == "invalid 'password': Password cannot be set on enrolled host."
    with pytest.raises(errors.ValidationError):
        call("host_mod", FQDN, random=True)
    mod = call("host_mod", FQDN, nsosversion="Fedora", setattr=["userclass=nova"])
    assert mod["summary"] == f'Modified host "{FQDN}"'
    assert mod["result"]["nsosversion"] == ["Fedora"] and mod["result"]["userclass"] == ["nova"]
    with pytest.raises(errors.EmptyModlist):
        call("host_mod", FQDN, nsosversion="Fedora")
    with pytest.raises(errors.NotFound) as exc:
        call("host_mod", "nope.example.test", description="x")
    assert exc.value.message == "nope.example.test: host not found"


def test_mod_random_returns_new_password(engine: Engine, call) -> None:
    call("host_add", FQDN, force=True, random=True)
    otp = call("host_mod", FQDN, random=True)["result"]["randompassword"]
    engine.enroll(FQDN, otp)


def test_del_removes_services_and_dns(call) -> None:
    call("dnszone_add", "2.0.192.in-addr.arpa.")
    call("host_add", FQDN, ip_address="192.0.2.10")
    call("service_add", f"nova/{FQDN}")
    result = call("host_del", FQDN, updatedns=True)
    assert result == {"result": {"failed": []}, "summary": f'Deleted host "{FQDN}"',
                      "value": [FQDN]}
    assert call("service_find", FQDN)["count"] == 0
    with pytest.raises(errors.NotFound):
        call("dnsrecord_show", "example.test", "vm1")
    with pytest.raises(errors.NotFound):
        call("dnsrecord_show", "2.0.192.in-addr.arpa.", "10")
    with pytest.raises(errors.NotFound):
        call("host_del", FQDN)
    kept = call("host_del", FQDN, "ghost.example.test", **{"continue": True})
    assert kept["value"] == [] and kept["result"]["failed"] == [FQDN, "ghost.example.test"]
    with pytest.raises(errors.ValidationError, match="master"):
        call("host_del", "ipa.example.test")


def test_del_without_updatedns_keeps_records(call) -> None:
    call("host_add", FQDN, ip_address="192.0.2.10")
    call("host_del", FQDN)
    assert call("dnsrecord_show", "example.test", "vm1")["result"]["arecord"] == ["192.0.2.10"]


def test_disable(engine: Engine, call) -> None:
    call("host_add", FQDN, force=True, userpassword="otp")
    with pytest.raises(errors.AlreadyInactive, match="This entry is already disabled"):
        call("host_disable", FQDN)
    engine.enroll(FQDN, "otp")
    call("service_add", f"HTTP/{FQDN}", force=True)
    result = call("host_disable", FQDN)
    assert result == {"result": True, "summary": f'Disabled host "{FQDN}"', "value": FQDN}
    assert call("host_show", FQDN)["result"]["has_keytab"] is False
    # a disabled host may get a new OTP and enroll again
    call("host_mod", FQDN, userpassword="otp-2")
    engine.enroll(FQDN, "otp-2")


def test_show_all_raw_and_find(call) -> None:
    call("host_add", FQDN, force=True, nshostlocation="rack 1")
    call("host_add", "vm2.example.test", force=True)
    entry = call("host_show", FQDN, all=True)["result"]
    assert "objectclass" in entry and entry["serverhostname"] == ["vm1"]
    assert "managedby" in call("host_show", FQDN, raw=True)["result"]
    assert "managedby_host" not in call("host_show", FQDN, no_members=True)["result"]
    found = call("host_find", "vm")
    assert found["count"] == 2 and found["summary"] == "2 hosts matched"
    assert found["truncated"] is False
    assert call("host_find", nshostlocation="rack 1")["summary"] == "1 host matched"
    limited = call("host_find", "vm", sizelimit=1)
    assert limited["count"] == 1 and limited["truncated"] is True
    assert call("host_find", "vm", pkey_only=True)["result"][0] == {
        "dn": f"fqdn={FQDN},cn=computers,cn=accounts,dc=example,dc=test", "fqdn": [FQDN]}
    assert call("host_find", "nothing-like-it")["count"] == 0


def test_enroll_unknown_host(engine: Engine) -> None:
    with pytest.raises(errors.NotFound):
        engine.enroll("ghost.example.test", "x")


def test_snapshot_and_reset(engine: Engine, call) -> None:
    call("host_add", FQDN, force=True, userpassword="topsecret")
    snap = engine.snapshot()
    assert snap["hosts"][FQDN]["has_password"] is True
    assert "topsecret" not in repr(snap)
    engine.reset()
    assert FQDN not in engine.snapshot()["hosts"]
    assert "ipa.example.test" in engine.snapshot()["hosts"]


def test_host_mod_with_empty_password_withdraws_the_otp(call) -> None:
    call("host_add", "otp1.example.test", force=True, userpassword="Secret123")
    shown = call("host_mod", "otp1.example.test", userpassword="")["result"]
    assert shown["has_password"] is False and shown["has_keytab"] is False
    with pytest.raises(errors.EmptyModlist):
        call("host_mod", "otp1.example.test", userpassword="")
