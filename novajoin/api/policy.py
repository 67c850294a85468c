"""The policy enforcer, one per app (not global), built from the app's config."""

from __future__ import annotations

from oslo_config import cfg
from oslo_context import context
from oslo_policy import policy

from novajoin.api import policies


class Forbidden(Exception):
    """The caller's roles do not satisfy the rule."""


def make_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    # Checks take the project from the token, never from the request body.
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    return enforcer


def authorize(
    enforcer: policy.Enforcer, rule: str, ctx: context.RequestContext, target: dict | None = None
) -> None:
    try:
        enforcer.authorize(rule, target or {}, ctx, do_raise=True)
    except policy.PolicyNotAuthorized:
        raise Forbidden(rule) from None
