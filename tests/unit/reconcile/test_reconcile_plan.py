"""The reconciler's decisions (pure): definite absence, grace period, OTP expiry, floating DNS."""

from __future__ import annotations

import datetime

from novajoin.join.dns import DNSMarker
from novajoin.reconcile import plan
from novajoin.reconcile.inventory import DNSPublication, FloatingIP, IPAHost, Server

NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
SETTINGS = plan.Settings(grace_period=3600, otp_expiry=86400)


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def host(n: int, *, keytab: bool = True, password: bool = False) -> IPAHost:
    return IPAHost(f"vm{n}.example.test", uid(n), "p1", keytab, password)


def server(n: int, *, created: datetime.datetime = NOW - 2 * HOUR,
           launched: datetime.datetime | None = None, status: str = "ACTIVE",
           updated: datetime.datetime | None = None) -> Server:
    return Server(uid(n), status, created, updated or created, launched)


def build(hosts, servers, deleted=None, confirmed=None, **kw):
    return plan.build(hosts, kw.pop("settings", SETTINGS), NOW, servers=servers,
                      recently_deleted={} if deleted is None else deleted,
                      confirmed={} if confirmed is None else confirmed, **kw)


def test_gone_instance_is_removed_only_after_a_404_confirmation() -> None:
    hosts = [host(1), host(2), host(3)]
    servers = {uid(1): server(1)}
    assert plan.missing_instances(hosts, servers) == [uid(2), uid(3)]
    result = build(hosts, servers, confirmed={uid(2): None, uid(3): server(3)})
    assert [(a.kind, a.instance_id) for a in result.actions] == [
        (plan.DELETE_INSTANCE, uid(2))]


def test_unconfirmed_or_indefinite_nova_removes_nothing() -> None:
    hosts = [host(1), host(2)]
    result = build(hosts, {}, confirmed={uid(1): None})  # uid(2) never confirmed
    assert [a.instance_id for a in result.of(plan.DELETE_INSTANCE)] == [uid(1)]
    for missing in ("servers", "recently_deleted", "confirmed"):
        inputs = {"servers": {}, "recently_deleted": {},
                  "confirmed": {uid(1): None, uid(2): None}}
        inputs[missing] = None
        result = plan.build(hosts, SETTINGS, NOW, **inputs)
        assert result.actions == []
        assert {a.instance_id for a in result.kept} == {uid(1), uid(2)}


def test_instance_deleted_within_the_grace_period_is_kept() -> None:
    hosts = [host(1), host(2)]
    deleted = {uid(1): server(1, status="DELETED", updated=NOW - 0.5 * HOUR)}
    result = build(hosts, {}, deleted=deleted, confirmed={uid(1): None, uid(2): None})
    assert [a.instance_id for a in result.actions] == [uid(2)]
    assert [a.instance_id for a in result.kept] == [uid(1)]
    assert "grace period" in result.kept[0].reason


def test_all_hosts_of_an_instance_are_one_action() -> None:
    hosts = [host(1), IPAHost("other.example.test", uid(1), "p1", True, False)]
    result = build(hosts, {}, confirmed={uid(1): None})
    assert len(result.actions) == 1
    assert result.actions[0].target == "vm1.example.test,other.example.test"


def test_max_deletes_safety_valve() -> None:
    hosts = [host(n) for n in range(5)]
    settings = plan.Settings(3600, 0, max_deletes=3)
    result = build(hosts, {}, confirmed={uid(n): None for n in range(5)}, settings=settings)
    assert result.actions == []
    assert len(result.kept) == 5
    assert "max_deletes" in result.problems[0]


def test_otp_expires_after_the_deadline_counted_from_launch() -> None:
    hosts = [host(1, keytab=False, password=True),   # launched 25 h ago: expire
             host(2, keytab=False, password=True),   # relaunched (rebuild) 1 h ago: keep
             host(3, keytab=True),                    # enrolled
             host(4, keytab=False, password=True),   # never launched, created 2 h ago
             host(5, keytab=False, password=False)]  # no password at all
    servers = {uid(1): server(1, created=NOW - 30 * HOUR, launched=NOW - 25 * HOUR),
               uid(2): server(2, created=NOW - 30 * HOUR, launched=NOW - HOUR),
               uid(3): server(3, created=NOW - 30 * HOUR),
               uid(4): server(4),
               uid(5): server(5, created=NOW - 30 * HOUR)}
    result = build(hosts, servers)
    assert [(a.kind, a.target) for a in result.actions] == [
        (plan.EXPIRE_OTP, "vm1.example.test")]
    off = build(hosts, servers, settings=plan.Settings(3600, 0))
    assert off.actions == []


def test_otp_expiry_needs_nova() -> None:
    hosts = [host(1, keytab=False, password=True)]
    result = plan.build(hosts, SETTINGS, NOW, servers=None, recently_deleted=None,
                        confirmed=None)
    assert result.actions == []


def pub(n: int, address: str, port: str | None) -> DNSPublication:
    return DNSPublication(f"vm{n}.example.test.", DNSMarker(uid(n), address, port))


def test_floating_dns_removed_when_neutron_no_longer_associates_it() -> None:
    old = NOW - 2 * HOUR
    pubs = [pub(1, "203.0.113.1", "port-a"),   # still associated with port-a: keep
            pub(2, "203.0.113.2", "port-b"),   # not associated any more: remove
            pub(3, "203.0.113.3", "port-c"),   # now on another port: remove
            pub(4, "203.0.113.4", "port-d"),   # released (unknown to neutron): remove
            pub(5, "203.0.113.5", "port-e")]   # disassociated a minute ago: grace
    fips = {"203.0.113.1": FloatingIP("203.0.113.1", "port-a", old),
            "203.0.113.2": FloatingIP("203.0.113.2", None, old),
            "203.0.113.3": FloatingIP("203.0.113.3", "port-x", old),
            "203.0.113.5": FloatingIP("203.0.113.5", None, NOW - datetime.timedelta(minutes=1))}
    result = build([], {}, publications=pubs, floating_ips=fips)
    removed = {(a.address, a.port_id) for a in result.of(plan.REMOVE_FLOATING_DNS)}
    assert removed == {("203.0.113.2", "port-b"), ("203.0.113.3", "port-c"),
                       ("203.0.113.4", "port-d")}
    assert [a.address for a in result.kept] == ["203.0.113.5"]
    unknown = build([], {}, publications=pubs, floating_ips=None)
    assert unknown.actions == [] and len(unknown.kept) == len(pubs)
