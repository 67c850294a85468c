"""The --dry-run table and the one-line summary that ends every run."""

from __future__ import annotations

from novajoin.reconcile import plan as plan_mod
from novajoin.reconcile.apply import Result

_COLUMNS = ("ACTION", "INSTANCE", "TARGET", "IP", "REASON")


def table(plan: plan_mod.Plan, *, with_kept: bool = True) -> str:
    """A fixed-width table of the plan's actions (and what it keeps, and why)."""
    rows = [(a.kind, a.instance_id, a.target, a.address or "-", a.reason)
            for a in plan.actions]
    if with_kept:
        rows += [(a.kind, a.instance_id, a.target, a.address or "-", a.reason)
                 for a in plan.kept]
    if not rows:
        return "nothing to do"
    widths = [max(len(_COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS[:4], widths, strict=True))
             + "  " + _COLUMNS[4]]
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row[:4], widths, strict=True))
                     + "  " + row[4])
    return "\n".join(lines)


def skipped(reason: str) -> str:
    """The summary of a run that did not act (another node holds the lock, ...)."""
    return f"reconcile summary: skipped=1 reason={reason!r}"


def summary(plan: plan_mod.Plan, result: Result | None, *, dry_run: bool) -> str:
    """``reconcile summary: ...`` with counts; stable key=value words for log parsers."""
    kinds = (plan_mod.DELETE_INSTANCE, plan_mod.EXPIRE_OTP, plan_mod.REMOVE_FLOATING_DNS)
    words = [f"dry_run={int(dry_run)}", f"hosts={plan.hosts_seen}",
             f"servers={plan.servers_seen}"]
    for kind in kinds:
        key = kind.replace("-", "_")
        words.append(f"planned_{key}={len(plan.of(kind))}")
        if result is not None:
            words.append(f"done_{key}={result.changed[kind]}")
            words.append(f"failed_{key}={result.failed[kind]}")
    words.append(f"kept={len(plan.kept)}")
    words.append(f"problems={len(plan.problems)}")
    text = "reconcile summary: " + " ".join(words)
    if plan.problems:
        text += " (" + "; ".join(plan.problems) + ")"
    return text
