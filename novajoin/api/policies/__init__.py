"""Policy in code (oslo.policy); ``list_rules`` feeds oslopolicy-sample-generator."""

from __future__ import annotations

import itertools

from oslo_policy import policy

from novajoin.api.policies import base, vendordata


def list_rules() -> list[policy.RuleDefault]:
    return list(itertools.chain(base.list_rules(), vendordata.list_rules()))
