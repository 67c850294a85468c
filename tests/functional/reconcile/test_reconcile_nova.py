"""novajoin-reconcile against the IPA simulator and the nova test double.

Deletes whose notifications were dropped: one run leaves IPA with exactly the
hosts of the instances nova still has (and those deleted within the grace
period).  A nova that answers 403, 500 or nothing at all makes the run delete
nothing and say so.  --dry-run prints the plan and changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from novajoin.testing.fake_nova import FakeNova
from novajoin.testing.novajoin_notify import hosts, ipa_calls, zone_records
from novajoin.testing.reconcile_rig import summary

WRITES = {"host_del", "host_disable", "host_mod", "service_del", "dnsrecord_del",
          "dnsrecord_mod", "dnsrecord_add"}
LONG_AGO = datetime.timedelta(hours=3)


def writes(fake_ipa: Any, since: int) -> list[dict[str, Any]]:
    return [c for c in ipa_calls(fake_ipa, since) if c["method"] in WRITES]


def test_dropped_deletes_one_run_leaves_exactly_the_live_hosts(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], reconcile: Callable[..., Any],
) -> None:
    live = enroll(20, "live")
    doomed = enroll(25, "gone")
    recent = enroll(5, "recent")
    now = datetime.datetime.now(datetime.UTC)
    for instance, _ in doomed[:15]:
        nova.delete_server(instance.uuid, at=now - LONG_AGO)   # notification dropped
    for instance, _ in doomed[15:]:
        nova.delete_server(instance.uuid, at=now - LONG_AGO)
        nova.purge_server(instance.uuid)                        # archived since
    for instance, _ in recent:
        nova.delete_server(instance.uuid)                       # listener may be at it
    since = fake_ipa.admin.last_call_seq()

    run = reconcile(grace_period=3600)
    assert run.returncode == 0, run.stderr + run.stdout
    words = summary(run.stdout)
    assert words["done_delete_instance"] == "25" and words["kept"] == "5", run.stdout
    assert set(hosts(fake_ipa)) == {f for _, f in live} | {f for _, f in recent}
    assert "Traceback" not in run.stderr

    # nova confirmed each absence itself, one GET per candidate instance
    gets = [r for r in nova.requests if "/servers/" in r and "/servers/detail" not in r]
    assert len(gets) == 30
    deleted = {c["params"][0][0] for c in writes(fake_ipa, since) if c["method"] == "host_del"}
    assert deleted == {f for _, f in doomed}

    # after the grace period: exactly the live instances' hosts
    run = reconcile(grace_period=0)
    assert run.returncode == 0, run.stderr
    assert set(hosts(fake_ipa)) == {f for _, f in live}
    run = reconcile(grace_period=0)
    assert summary(run.stdout)["planned_delete_instance"] == "0"


@pytest.mark.parametrize("fault,path", [
    (403, ""), (500, ""), (503, ""), (None, ""),      # the listing fails
    (403, "/servers/0"), (500, "/servers/"),          # a confirmation fails
    (None, "changes-since"),                          # the grace query fails
], ids=["403", "500", "503", "outage", "get-403", "get-500", "grace-outage"])
def test_nova_failure_deletes_nothing(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], reconcile: Callable[..., Any],
    fault: int | None, path: str,
) -> None:
    live = enroll(3, "live")
    doomed = enroll(4, "gone")
    for instance, _ in doomed:
        nova.delete_server(instance.uuid, at=datetime.datetime.now(datetime.UTC) - LONG_AGO)
    if path == "/servers/0":
        path = f"/servers/{doomed[0][0].uuid}"   # the other GETs answer 404
    before = hosts(fake_ipa)
    since = fake_ipa.admin.last_call_seq()
    if fault is None:
        nova.outage(path)
    else:
        nova.inject(fault, path)

    run = reconcile(grace_period=0)
    assert run.returncode == 1, run.stdout + run.stderr
    words = summary(run.stdout)
    assert words["problems"] == "1" and words["planned_delete_instance"] == "0", run.stdout
    assert hosts(fake_ipa) == before
    assert writes(fake_ipa, since) == []
    assert len(before) == len(live) + len(doomed)

    nova.clear_faults()   # nova is back: the next run repairs
    run = reconcile(grace_period=0)
    assert run.returncode == 0, run.stdout
    assert set(hosts(fake_ipa)) == {f for _, f in live}


def test_dry_run_prints_the_plan_and_changes_nothing(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], reconcile: Callable[..., Any],
) -> None:
    enroll(3, "live")
    doomed = enroll(3, "gone")
    stale = enroll(2, "stale", enrolled=False,
                   created=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2))
    for instance, _ in doomed:
        nova.delete_server(instance.uuid, at=datetime.datetime.now(datetime.UTC) - LONG_AGO)
    before = hosts(fake_ipa)
    since = fake_ipa.admin.last_call_seq()

    run = reconcile("--dry-run", grace_period=600, otp_expiry=3600)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["ACTION", "INSTANCE", "TARGET", "IP", "REASON"]
    planned = {(line.split()[0], line.split()[2]) for line in lines[1:] if line[:1].isalpha()
               and not line.startswith("reconcile")}
    assert planned == ({("delete-instance", f) for _, f in doomed}
                       | {("expire-otp", f) for _, f in stale})
    words = summary(run.stdout)
    assert words["dry_run"] == "1" and words["planned_delete_instance"] == "3"
    assert words["planned_expire_otp"] == "2"
    assert hosts(fake_ipa) == before
    assert writes(fake_ipa, since) == []


def test_otp_of_a_host_that_never_enrolled_is_withdrawn(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], reconcile: Callable[..., Any],
) -> None:
    fresh = enroll(1, "fresh", enrolled=False)
    enrolled = enroll(1, "done")
    stale = enroll(2, "stale", enrolled=False,
                   created=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2))
    since = fake_ipa.admin.last_call_seq()

    run = reconcile(grace_period=600, otp_expiry=3600)
    assert run.returncode == 0, run.stderr
    words = summary(run.stdout)
    assert words["done_expire_otp"] == "2" and words["failed_expire_otp"] == "0"
    state = fake_ipa.admin.state()["hosts"]
    for _, fqdn in stale:
        assert state[fqdn]["has_password"] is False and state[fqdn]["has_keytab"] is False
    for _, fqdn in fresh:
        assert state[fqdn]["has_password"] is True
    for _, fqdn in enrolled:
        assert state[fqdn]["has_keytab"] is True
    assert sorted(c["method"] for c in writes(fake_ipa, since)) == ["host_mod", "host_mod"]
    # The next run has nothing left to do.
    again = reconcile(grace_period=600, otp_expiry=3600)
    assert again.returncode == 0 and summary(again.stdout)["planned_expire_otp"] == "0"


def test_dns_of_released_floating_ips_is_removed(
    fake_ipa: Any, ipa: Any, nova: FakeNova, enroll: Callable[..., Any],
    reconcile: Callable[..., Any],
) -> None:
    """Only markers whose floating IP neutron no longer has on that port go."""
    from novajoin.join import InstanceLifecycle, JoinSettings

    (keep, keep_fqdn), (gone, gone_fqdn), (moved, moved_fqdn) = enroll(3, "fip")
    lifecycle = InstanceLifecycle(ipa, JoinSettings(domain=fake_ipa.domain,
                                                    realm=fake_ipa.realm))
    long_ago = datetime.datetime.now(datetime.UTC) - LONG_AGO
    published = [(keep, "203.0.113.10", "port-keep", "port-keep"),
                 (gone, "203.0.113.11", "port-gone", None),
                 (moved, "203.0.113.12", "port-moved", "another-port")]
    for instance, address, port, now_on in published:
        assert lifecycle.floating_ip_associated(instance.uuid, address, port_id=port).changed
        nova.add_floating_ip(address, instance.project_id, port_id=now_on, updated=long_ago)
    since = fake_ipa.admin.last_call_seq()

    run = reconcile(grace_period=600)
    assert run.returncode == 0, run.stderr
    words = summary(run.stdout)
    assert words["done_remove_floating_dns"] == "2", run.stdout
    records = str(zone_records(fake_ipa, fake_ipa.domain))
    assert "203.0.113.10" in records
    assert "203.0.113.11" not in records and "203.0.113.12" not in records
    # Hosts are untouched: only DNS records were withdrawn.
    assert {keep_fqdn, gone_fqdn, moved_fqdn} <= set(hosts(fake_ipa))
    assert not [c for c in writes(fake_ipa, since) if c["method"] == "host_del"]
    again = reconcile(grace_period=600)
    assert summary(again.stdout)["planned_remove_floating_dns"] == "0"
