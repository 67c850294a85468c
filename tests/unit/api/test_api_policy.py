"""Policy in code: nova's service user (or admin) may create vendordata; nobody else."""

from __future__ import annotations

import pytest
from api_helpers import RecordingJoinService, call, valid_body
from oslo_context import context

from novajoin import conf as novajoin_conf
from novajoin.api import deploy, policy
from novajoin.api.policies import vendordata


@pytest.fixture
def enforcer():
    conf = novajoin_conf.load([], config_files=[])
    return policy.make_enforcer(conf)


@pytest.mark.parametrize(("roles", "allowed"), [
    (["service"], True), (["admin"], True), (["service", "reader"], True),
    (["member"], False), (["reader"], False), ([], False), (["manager"], False),
])
def test_default_rule(enforcer, roles, allowed):
    creds = {"roles": roles, "project_id": "p1", "user_id": "u1"}
    assert enforcer.enforce(vendordata.CREATE, {}, creds) is allowed


def test_authorize_raises_forbidden(enforcer):
    ctx = context.RequestContext(roles=["member"], project_id="p1")
    with pytest.raises(policy.Forbidden):
        policy.authorize(enforcer, vendordata.CREATE, ctx)
    policy.authorize(enforcer, vendordata.CREATE, context.RequestContext(roles=["service"]))


def test_rule_is_documented():
    from novajoin.api.policies import list_rules

    rules = {rule.name: rule for rule in list_rules()}
    assert rules[vendordata.CREATE].check_str == "rule:service_or_admin"
    assert rules["service_or_admin"].check_str == "role:service or role:admin"


def _router_with_policy():
    conf = novajoin_conf.load([], config_files=[])
    service = RecordingJoinService()
    ctx = deploy.build_context(conf, join_service=service)  # auth_strategy keystone by default
    from novajoin.api.handler import Router

    return Router(ctx), service


@pytest.mark.parametrize(("roles", "status"), [("service", 200), ("admin", 200),
                                               ("member", 403), ("", 403)])
def test_handler_enforces_policy_from_token_headers(roles, status):
    # The headers keystonemiddleware sets after validating a token.
    router, service = _router_with_policy()
    headers = {"X-Roles": roles, "X-Project-Id": "p1", "X-User-Id": "u1",
               "X-Identity-Status": "Confirmed"}
    response = call(router, "POST", "/v1/", valid_body(), headers=headers)
    assert response.status_int == status
    if status == 403:
        assert response.json["error"]["code"] == 403
        assert service.requests == []
