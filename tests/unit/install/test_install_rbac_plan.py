"""The pure planner of the IPA role (novajoin.join.rbac)."""

from __future__ import annotations

import pytest

from novajoin.join import rbac

P = "nova/nj.example.test@EXAMPLE.TEST"


def _complete() -> rbac.Observed:
    perms = {p.name: {"type": [p.type], "ipapermright": list(p.rights), "attrs": list(p.attrs)}
             for p in rbac.CUSTOM_PERMISSIONS}
    perms |= {n: {"cn": [n]} for n in rbac.SYSTEM_PERMISSIONS}
    return rbac.Observed(
        permissions=perms,
        privilege={"memberof_permission": [n.upper() for n in rbac.all_permissions()]},
        role={"memberof_privilege": [rbac.PRIVILEGE], "member_service": [P]},
        service={"krbprincipalname": [P]})


def test_complete_role_needs_nothing():
    assert rbac.plan(_complete(), P) == []
    assert rbac.problems(_complete(), P) == []


def test_empty_ipa_gets_everything_in_order():
    obs = _complete()
    obs.permissions.update({p.name: None for p in rbac.CUSTOM_PERMISSIONS})
    obs.privilege = obs.role = obs.service = None
    commands = [s.call[0] for s in rbac.plan(obs, P)]
    assert commands == ["permission_add"] * len(rbac.CUSTOM_PERMISSIONS) + [
        "privilege_add", "privilege_add_permission", "role_add", "role_add_privilege",
        "service_add", "role_add_member"]


def test_drifted_permission_is_restored_and_missing_member_added():
    obs = _complete()
    name = rbac.CUSTOM_PERMISSIONS[0].name
    obs.permissions[name] = {"type": ["host"], "ipapermright": ["write"],
                             "attrs": ["description"]}
    obs.role = {"memberof_privilege": [rbac.PRIVILEGE]}
    steps = rbac.plan(obs, P)
    assert [s.call for s in steps] == [
        ("permission_mod", [name], {"attrs": ["userpassword"]}),
        ("role_add_member", [rbac.ROLE], {"service": [P]})]
    assert rbac.problems(obs, P)[1] == (
        f"IPA: missing: make {P} a member of role {rbac.ROLE!r}")


def test_missing_system_permission_is_an_error():
    obs = _complete()
    obs.permissions["System: Add Hosts"] = None
    with pytest.raises(rbac.RBACError, match="System: Add Hosts"):
        rbac.plan(obs, P)


@pytest.mark.parametrize("bad", ["novajoin", "a/b.example", "x@y.z", ""])
def test_service_principal_needs_an_fqdn(bad):
    with pytest.raises(ValueError):
        rbac.service_principal(bad, "EXAMPLE.TEST")
