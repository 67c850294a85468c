"""Who may ask for an instance's join data (and so obtain an OTP)."""

from __future__ import annotations

from oslo_policy import policy

from novajoin.api.policies import base

CREATE = "novajoin:vendordata:create"

RULES = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=f"rule:{base.SERVICE_OR_ADMIN}",
        description="Enroll an instance in IPA and return its join data (an OTP). Only "
        "nova's metadata service should do this, so the default is the service role "
        "(nova's service user) or admin.",
        operations=[
            {"method": "POST", "path": "/v1/"},
            {"method": "POST", "path": "/v1"},
        ],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return RULES
