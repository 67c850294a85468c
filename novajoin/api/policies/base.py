"""Reusable check strings."""

from __future__ import annotations

from oslo_policy import policy

SERVICE_OR_ADMIN = "service_or_admin"

RULES = [
    policy.RuleDefault(
        SERVICE_OR_ADMIN,
        "role:service or role:admin",
        description="A service user (nova's, with the 'service' role) or an administrator.",
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return RULES
