"""Carry a plan out through the domain layer, one action at a time.

Every change goes through ``InstanceLifecycle`` (hosts, services, DNS of a gone
instance; floating-IP DNS) or ``novajoin.join.expiry`` (unused OTPs): the same
code, ownership checks and audit lines as novajoin-notify.  A failed action is
counted and reported; the others still run (each is idempotent, the next run
retries what failed).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from novajoin.ipa import IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join import expiry
from novajoin.join.errors import IPAUnavailable
from novajoin.join.lifecycle import InstanceLifecycle, Outcome
from novajoin.reconcile import plan as plan_mod

LOG = logging.getLogger("novajoin.reconcile")
AUDIT = logging.getLogger("novajoin.audit")


@dataclass
class Result:
    """Counts by action kind: changed, already done (unchanged), failed."""

    changed: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _one(action: plan_mod.Action, lifecycle: InstanceLifecycle, ipa: IPAClient,
         deadline: float) -> Outcome:
    if action.kind == plan_mod.DELETE_INSTANCE:
        return lifecycle.instance_deleted(action.instance_id)
    if action.kind == plan_mod.EXPIRE_OTP:
        return expiry.expire_otp(ipa, action.target, action.instance_id, deadline=deadline)
    if action.kind == plan_mod.REMOVE_FLOATING_DNS:
        return lifecycle.floating_ip_disassociated(action.address, port_id=action.port_id)
    raise ValueError(f"unknown action {action.kind}")


def apply(plan: plan_mod.Plan, lifecycle: InstanceLifecycle, ipa: IPAClient) -> Result:
    result = Result()
    for action in plan.actions:
        try:
            outcome = _one(action, lifecycle, ipa, lifecycle.deadline)
        except (IPAUnavailable, ipa_errors.IPAClientError, ipa_errors.IPAError) as exc:
            result.failed[action.kind] += 1
            result.errors.append(f"{action.kind} {action.target}: {exc}")
            LOG.error("reconcile: %s %s (instance %s) failed: %s", action.kind, action.target,
                      action.instance_id, exc)
            continue
        if outcome.changed:
            result.changed[action.kind] += 1
            AUDIT.info("action=reconcile-%s instance=%s target=%s ip=%s reason=%r",
                       action.kind, action.instance_id, action.target, action.address or "-",
                       action.reason)
        else:
            result.unchanged[action.kind] += 1
            LOG.info("reconcile: %s %s: nothing to do (%s)", action.kind, action.target,
                     outcome.detail)
    return result
