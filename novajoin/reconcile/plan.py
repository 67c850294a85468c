"""The reconciler's decisions, as a pure function of what it read (no I/O).

Rules (docs/ha.md "Reconciler" explains them for operators):

* **Host of a gone instance** — removed (host, services, DNS) only when all of:
  the instance is absent from nova's full listing, nova answered ``GET
  /servers/{id}`` with its own 404 ``itemNotFound``, and nova does not list it
  among the servers deleted within the grace period (``changes-since``).  The
  grace period is measured on nova's clock (its deletion time), so it is
  stateless: any reconciler on any node reaches the same decision, and
  nothing is remembered between runs.  An instance nova has purged (archived
  rows) has no deletion time left; it was deleted long ago, so it qualifies.
* **Nothing definite, nothing deleted** — if nova's listing, the grace query or
  any confirmation was not a definite answer, no host is removed in this run.
* **Unused one-time password** — the host of a *living* instance that still has
  a password and no keytab ``otp_expiry`` seconds after the instance was
  launched (nova's ``launched_at``, which a rebuild resets; else ``created``)
  loses its password.
* **Floating IP DNS** — a floating-IP marker whose address neutron no longer
  associates with the marker's port (address unknown to neutron, not
  associated, or associated with another port) is removed, unless neutron
  changed that floating IP within the grace period (novajoin-notify may be
  handling it).  Nothing is removed when neutron's listing failed.
* **Safety valve** — more instances to remove than ``max_deletes`` (when set):
  none is removed, the run reports it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from novajoin.reconcile.inventory import DNSPublication, FloatingIP, IPAHost, Server

DELETE_INSTANCE = "delete-instance"
EXPIRE_OTP = "expire-otp"
REMOVE_FLOATING_DNS = "remove-floating-dns"
KEEP = "keep"


@dataclass(frozen=True)
class Action:
    """One change the plan makes (or, with kind KEEP, deliberately does not make)."""

    kind: str
    instance_id: str
    target: str  # host names, or the DNS name
    reason: str
    address: str = ""
    port_id: str | None = None


@dataclass(frozen=True)
class Settings:
    grace_period: float  # seconds
    otp_expiry: float  # seconds; 0 = never
    max_deletes: int = 0  # 0 = no limit


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    kept: list[Action] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    hosts_seen: int = 0
    servers_seen: int = 0

    def of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]


def missing_instances(hosts: list[IPAHost], servers: dict[str, Server]) -> list[str]:
    """Instances owning a host that nova's listing does not show (to confirm one by one)."""
    return sorted({h.instance_id for h in hosts} - set(servers))


def build(
    hosts: list[IPAHost],
    settings: Settings,
    now: datetime.datetime,
    *,
    servers: dict[str, Server] | None,
    recently_deleted: dict[str, Server] | None,
    confirmed: dict[str, Server | None] | None,
    publications: list[DNSPublication] | None = None,
    floating_ips: dict[str, FloatingIP] | None = None,
    problems: list[str] | None = None,
) -> Plan:
    """The plan.  ``None`` for a cloud-side input means: nova/neutron gave no definite answer."""
    plan = Plan(problems=list(problems or []), hosts_seen=len(hosts),
                servers_seen=len(servers or {}))
    by_instance: dict[str, list[IPAHost]] = defaultdict(list)
    for host in hosts:
        by_instance[host.instance_id].append(host)

    nova_definite = servers is not None and recently_deleted is not None and confirmed is not None
    live: dict[str, Server] = dict(servers or {})
    deletes: list[Action] = []
    for instance_id in sorted(by_instance):
        names = ",".join(h.fqdn for h in by_instance[instance_id])
        if instance_id in live:
            continue
        if not nova_definite:
            plan.kept.append(Action(KEEP, instance_id, names,
                                    "nova gave no definite answer: nothing is removed"))
            continue
        assert confirmed is not None and recently_deleted is not None
        if instance_id not in confirmed:
            plan.kept.append(Action(KEEP, instance_id, names, "not confirmed with nova"))
            continue
        server = confirmed[instance_id]
        if server is not None:
            live[instance_id] = server  # created after the listing, or paging moved
            continue
        deleted = recently_deleted.get(instance_id)
        if deleted is not None:
            when = deleted.updated.isoformat() if deleted.updated else "recently"
            plan.kept.append(Action(KEEP, instance_id, names,
                                    f"deleted at {when}, within the grace period"))
            continue
        deletes.append(Action(DELETE_INSTANCE, instance_id, names,
                              "nova: instance not found (404)"))
    if settings.max_deletes and len(deletes) > settings.max_deletes:
        plan.problems.append(f"{len(deletes)} instances to remove exceed max_deletes="
                             f"{settings.max_deletes}: none removed")
        plan.kept += [Action(KEEP, a.instance_id, a.target, "over max_deletes")
                      for a in deletes]
    else:
        plan.actions += deletes

    if settings.otp_expiry > 0:
        limit = datetime.timedelta(seconds=settings.otp_expiry)
        for host in hosts:
            server = live.get(host.instance_id)
            if server is None or host.has_keytab or not host.has_password:
                continue
            if server.started is None or now - server.started <= limit:
                continue
            plan.actions.append(Action(
                EXPIRE_OTP, host.instance_id, host.fqdn,
                f"not enrolled {int((now - server.started).total_seconds())} s after launch"))

    if publications is not None:
        _floating(plan, publications, floating_ips, settings, now)
    return plan


def _floating(plan: Plan, publications: list[DNSPublication],
              floating_ips: dict[str, FloatingIP] | None, settings: Settings,
              now: datetime.datetime) -> None:
    grace = datetime.timedelta(seconds=settings.grace_period)
    seen: set[tuple[str, str | None]] = set()
    for pub in sorted(publications, key=lambda p: (p.marker.address, p.name)):
        m = pub.marker
        key = (m.address, m.port_id)
        if key in seen:
            continue
        if floating_ips is None:
            plan.kept.append(Action(KEEP, m.instance_id, pub.name,
                                    "neutron gave no definite answer", m.address, m.port_id))
            continue
        fip = floating_ips.get(m.address)
        if fip is not None and fip.port_id is not None and (
                m.port_id is None or fip.port_id == m.port_id):
            continue  # still associated as published
        if fip is not None and fip.updated is not None and now - fip.updated < grace:
            plan.kept.append(Action(KEEP, m.instance_id, pub.name,
                                    "floating IP changed within the grace period",
                                    m.address, m.port_id))
            continue
        seen.add(key)
        why = ("floating IP unknown to neutron" if fip is None
               else "floating IP not associated" if fip.port_id is None
               else "floating IP associated with another port")
        plan.actions.append(Action(REMOVE_FLOATING_DNS, m.instance_id, pub.name, why,
                                   m.address, m.port_id))
