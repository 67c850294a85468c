"""service_*, hostgroup_* and the RBAC commands an installer uses."""

from __future__ import annotations

import pytest

from novajoin.ipa import errors

HOST = "nova.example.test"
NOVA = f"nova/{HOST}@EXAMPLE.TEST"


@pytest.fixture
def host(call) -> str:
    call("host_add", HOST, force=True)
    return HOST


def test_service_lifecycle(call, host) -> None:
    added = call("service_add", f"nova/{HOST}", force=True)
    assert added["value"] == NOVA and added["summary"] == f'Added service "{NOVA}"'
    entry = added["result"]
    assert entry["dn"] == f"krbprincipalname={NOVA},cn=services,cn=accounts,dc=example,dc=test"
    assert entry["krbprincipalname"] == [NOVA] and entry["managedby_host"] == [HOST]
    with pytest.raises(errors.DuplicateEntry, match=f'service with name "{NOVA}" already exists'):
        call("service_add", NOVA, force=True)
    shown = call("service_show", f"nova/{HOST}")["result"]
    assert shown["has_keytab"] is False
    assert call("service_find", HOST)["summary"] == "1 service matched"
    deleted = call("service_del", NOVA)
    assert deleted["value"] == [NOVA] and deleted["summary"] == f'Deleted service "{NOVA}"'
    with pytest.raises(errors.NotFound, match=f"{NOVA}: service not found"):
        call("service_show", NOVA)


def test_service_add_errors(call, host) -> None:
    with pytest.raises(errors.MalformedServicePrincipal) as exc:
        call("service_add", "nova", force=True)
    assert exc.value.message == ("Service principal is not of the form: service/fully-qualified "
                                 "host name: missing service")
    with pytest.raises(errors.RealmMismatch):
        call("service_add", f"nova/{HOST}@OTHER.TEST", force=True)
    with pytest.raises(errors.NotFound) as exc:
        call("service_add", "nova/ghost.example.test", force=True)
    assert exc.value.message == "The host 'ghost.example.test' does not exist to add a service to."
    with pytest.raises(errors.HostService):
        call("service_add", f"host/{HOST}")
    with pytest.raises(errors.DNSNotARecordError):
        call("service_add", f"nova/{HOST}")
    assert call("service_add", "nova/ghost.example.test", force=True,
                skip_host_check=True)["value"] == "nova/ghost.example.test@EXAMPLE.TEST"


def test_service_add_and_remove_host(call, host) -> None:
    call("host_add", "other.example.test", force=True)
    call("service_add", f"HTTP/{HOST}", force=True)
    result = call("service_add_host", f"HTTP/{HOST}", host=["other.example.test", "x.test", HOST])
    assert result["completed"] == 1
    assert result["failed"] == {"managedby": {"host": [
        ["x.test", "no such entry"], [HOST, "This entry is already a member"]]}}
    assert result["result"]["managedby_host"] == ["nova.example.test", "other.example.test"]
    removed = call("service_remove_host", f"HTTP/{HOST}", host=["other.example.test"])
    assert removed["completed"] == 1 and removed["result"]["managedby_host"] == [HOST]


def test_hostgroups(call, host) -> None:
    added = call("hostgroup_add", "Compute", description="nova computes")
    assert added["value"] == "compute" and added["summary"] == 'Added hostgroup "compute"'
    assert added["result"]["dn"] == "cn=compute,cn=hostgroups,cn=accounts,dc=example,dc=test"
    with pytest.raises(errors.DuplicateEntry):
        call("hostgroup_add", "compute")
    with pytest.raises(errors.ValidationError, match="may only include letters"):
        call("hostgroup_add", "bad group")
    call("hostgroup_add", "inner")
    result = call("hostgroup_add_member", "compute", host=[HOST, "ghost.example.test"],
                  hostgroup=["inner"])
    assert result["completed"] == 2
    assert result["failed"] == {"member": {"host": [["ghost.example.test", "no such entry"]],
                                           "hostgroup": []}}
    assert result["result"]["member_host"] == [HOST]
    assert call("hostgroup_show", "inner")["result"]["memberof_hostgroup"] == ["compute"]
    assert call("host_show", HOST)["result"]["memberof_hostgroup"] == ["compute"]
    assert call("hostgroup_find", host=[HOST])["count"] == 1
    again = call("hostgroup_remove_member", "compute", host=[HOST, HOST])
    assert again["completed"] == 1
    assert again["failed"]["member"]["host"] == [[HOST, "This entry is not a member"]]
    assert call("hostgroup_del", "compute")["value"] == ["compute"]
    with pytest.raises(errors.NotFound, match="compute: hostgroup not found"):
        call("hostgroup_show", "compute")


def test_least_privilege_role_for_nova(call, host) -> None:
    call("service_add", f"nova/{HOST}", force=True)
    perm = call("permission_add", "Modify host userclass", ipapermright=["write"], type="host",
                attrs=["userclass"])
    assert perm["result"]["ipapermright"] == ["write"]
    assert perm["result"]["ipapermbindruletype"] == ["permission"]
    call("privilege_add", "Nova Host Management", description="nova")
    priv = call("privilege_add_permission", "Nova Host Management",
                permission=["System: add hosts", "Modify host userclass", "nope"])
    assert priv["completed"] == 2
    assert priv["failed"] == {"member": {"permission": [["nope", "no such entry"]]}}
    assert priv["result"]["memberof_permission"] == ["Modify host userclass", "System: Add Hosts"]
    call("role_add", "Nova Host Manager", description="nova")
    role = call("role_add_privilege", "Nova Host Manager", privilege=["Nova Host Management"])
    assert role["completed"] == 1 and role["result"]["memberof_privilege"] == [
        "Nova Host Management"]
    member = call("role_add_member", "Nova Host Manager", service=[f"nova/{HOST}"],
                  user=["admin"])
    assert member["completed"] == 1
    assert member["failed"]["member"]["user"] == [["admin", "no such entry"]]
    assert member["result"]["member_service"] == [NOVA]
    again = call("role_add_member", "Nova Host Manager", service=[NOVA])
    assert again["failed"]["member"]["service"] == [[NOVA, "This entry is already a member"]]
    shown = call("privilege_show", "nova host management")["result"]
    assert shown["member_role"] == ["Nova Host Manager"]
    assert call("role_find", "Nova")["summary"] == "1 role matched"
    assert call("permission_show", "Modify host userclass")["result"]["member_privilege"] == [
        "Nova Host Management"]
    mod = call("permission_mod", "Modify host userclass", attrs=["userclass", "description"])
    assert mod["result"]["attrs"] == ["userclass", "description"]
    with pytest.raises(errors.EmptyModlist):
        call("permission_mod", "Modify host userclass", attrs=["userclass", "description"])
    with pytest.raises(errors.DuplicateEntry,
                       match='role with name "nova host manager" already exists'):
        call("role_add", "nova host manager")
    with pytest.raises(errors.NotFound, match="x: privilege not found"):
        call("privilege_show", "x")
    assert call("permission_find", "userclass")["count"] == 1
    assert call("permission_add_member", "Modify host userclass",
                privilege=["Host Administrators"])["completed"] == 1
