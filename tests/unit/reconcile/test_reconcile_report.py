"""The --dry-run table and the summary line."""

from __future__ import annotations

from collections import Counter

from novajoin.reconcile import plan, report
from novajoin.reconcile.apply import Result


def test_table_lists_actions_then_kept_with_reasons() -> None:
    the_plan = plan.Plan(
        actions=[plan.Action(plan.DELETE_INSTANCE, "u1", "vm1.example.test", "nova: 404")],
        kept=[plan.Action(plan.KEEP, "u2", "vm2.example.test", "within the grace period")])
    lines = report.table(the_plan).splitlines()
    assert lines[0].split() == ["ACTION", "INSTANCE", "TARGET", "IP", "REASON"]
    assert lines[1].split()[:3] == [plan.DELETE_INSTANCE, "u1", "vm1.example.test"]
    assert lines[2].startswith(plan.KEEP) and lines[2].endswith("within the grace period")
    assert report.table(plan.Plan()) == "nothing to do"


def test_summary_counts() -> None:
    the_plan = plan.Plan(
        actions=[plan.Action(plan.DELETE_INSTANCE, "u1", "a", "r"),
                 plan.Action(plan.DELETE_INSTANCE, "u2", "b", "r")],
        hosts_seen=5, servers_seen=3, problems=["nova list: HTTP 500"])
    result = Result(changed=Counter({plan.DELETE_INSTANCE: 1}),
                    failed=Counter({plan.DELETE_INSTANCE: 1}))
    line = report.summary(the_plan, result, dry_run=False)
    words = dict(w.split("=", 1) for w in line.split(" (")[0].split()[2:])
    assert words["hosts"] == "5" and words["servers"] == "3"
    assert words["planned_delete_instance"] == "2"
    assert words["done_delete_instance"] == "1" and words["failed_delete_instance"] == "1"
    assert words["problems"] == "1" and "HTTP 500" in line
    assert "done_" not in report.summary(the_plan, None, dry_run=True)
    assert report.skipped("busy").startswith("reconcile summary: skipped=1")
