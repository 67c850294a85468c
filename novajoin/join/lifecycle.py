"""What happens in IPA after enrollment: instance delete and rebuild, and DNS for its addresses.

Used by ``novajoin-notify`` (and later the reconciler); stateless, so any number of
consumers can run these concurrently and a notification can be delivered twice or late.

* Hosts are found by ownership (``hosts.find_owned_hosts``), never by re-deriving a
  name from the instance's metadata: a host of another instance, or one novajoin did
  not create, is never touched.
* DNS records are removed only where a TXT marker (``dns.DNSMarker``) proves that
  novajoin published that address for that instance; zones are looked up in IPA on
  every operation (nothing cached across calls).
* Writes are idempotent: "already there" (EmptyModlist, DuplicateEntry) and "already
  gone" (NotFound, AttrValueNotFound, AlreadyInactive) count as done, so a duplicate
  or out-of-order event ends with ``changed=False``.
* Errors: transport, authentication and protocol failures raise ``IPAUnavailable``
  (transient: retry later); any other IPA command error raises ``IPACommandFailed``.
  All IPA calls of one operation share ``deadline`` seconds.
* Every IPA change is one INFO line on the ``novajoin.audit`` logger (action,
  instance, fqdn, ip); nothing secret exists in this module to log.

IPA round trips per operation (reads are batched together, then all writes in one
``batch``; measured from the simulator's call log by tests/functional/test_join_lifecycle.py):

=============================================  ===========  =====================
operation                                      round trips  of which write batches
=============================================  ===========  =====================
instance_deleted, no host owned (dup / early)  1            0
instance_deleted, host owned                   2            1 (DNS, host_del)
  ... managing a subhost, or another zone      3            1 (DNS, services, host_del)
  ... a shared subhost/service lost its link   5            2 (+ re-read, sweep)
instance_updated, nothing asked in metadata    0            0
instance_updated, something missing            3            1
instance_updated, all in place                 2            0
instance_rebuilt                               2            1 (host_disable)
instance_rebuilt, no host owned                1            0
floating_ip_associated / fixed_ips_created     3            1
  ... duplicate (records already right)        2            0
  ... no host owned by the instance            1            0
floating_ip_disassociated                      3            1
  ... nothing novajoin published for it        2            0
port_deleted                                   3            1
  ... nothing novajoin published for the port  2            0
=============================================  ===========  =====================

(1) ``batch[host_find, dnszone_find]`` — or ``dnszone_find`` alone when no instance is
named; (2) one ``batch`` of ``dnsrecord_show`` / ``dnsrecord_find`` reads (one find per
forward zone where an address or port must be searched; for a delete also the subhosts and
services the host manages, ``man_by_host``); (3) one ``batch`` of writes.  Managed
services and subhosts: see ``novajoin.join.services`` (ownership by subhost marker and
IPA's ``managedby``).

A delete's round trip 1 also asks ``host_find`` with ``all`` (IPA then lists the hosts
each host manages) and ``dnsrecord_find`` of the instance's DNS markers in the zone the
previous delete found for the configured domain; when that proves what round trip 2
would read (``records_from_round_one``: no subhost, every host in that zone, a complete
answer), round trip 2 is skipped and the writes are the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from novajoin.ipa import BatchItem, IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join import dns, placement, services
from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.join.hosts import OwnedHost, host_find_call, owned_hosts
from novajoin.join.marker import valid_instance_id
from novajoin.join.model import ItemError, JoinSettings

LOG = logging.getLogger("novajoin.join")
AUDIT = logging.getLogger("novajoin.audit")

DELETED = "deleted"
DISABLED = "disabled"
DNS_ADDED = "dns-added"
DNS_REMOVED = "dns-removed"
SERVICES_ADDED = "services-added"

Call = tuple[str, list[Any], dict[str, Any]]

_DONE_ADD = (ipa_errors.EmptyModlist, ipa_errors.DuplicateEntry)
_DONE_DEL = (ipa_errors.NotFound, ipa_errors.AttrValueNotFound)
_NO_RECORD = (ipa_errors.NotFound,)
# An IPA without integrated DNS answers dnszone_find with NotFound ("DNS is not configured").
_NO_DNS = (ipa_errors.NotFound, ipa_errors.CommandError)
# A delete's search for the instance's DNS markers: its host names, and perhaps a few
# stale ones; more than this and round trip 2 reads the hosts' names one by one.
_MARKED_SIZELIMIT = 100


@dataclass(frozen=True)
class Outcome:
    """What an operation did; ``changed`` is False when there was nothing to do."""

    action: str
    changed: bool
    detail: str = ""
    round_trips: int = field(default=0, compare=False)


@dataclass(frozen=True)
class _Write:
    """One write of a batch and the audit line it earns when it changes something."""

    call: Call
    done: tuple[type[ipa_errors.IPAError], ...]
    audit: str
    instance: str
    fqdn: str
    ip: str = "-"


@dataclass(frozen=True)
class _Record:
    """One DNS record (all types of one name) as dnsrecord_show / _find render it."""

    zone: str
    rel: str
    entry: dict[str, Any]

    @property
    def name(self) -> str:
        return self.zone if self.rel == "@" else f"{self.rel}.{self.zone}"

    def values(self, attr: str) -> list[str]:
        return dns.record_values(self.entry, attr)

    def markers(self) -> list[tuple[str, dns.DNSMarker]]:
        return dns.markers(self.values("txtrecord"))

    def stored_address(self, address: str) -> str | None:
        """The stored A/AAAA value equal to ``address`` (IPA deletes by exact value)."""
        for value in self.values(dns.record_attr(address)):
            if dns.same_address(value, address):
                return value
        return None


class _Operation:
    """The IPA round trips of one public operation, all within its deadline."""

    def __init__(self, ipa: IPAClient, budget: float, clock: Callable[[], float]) -> None:
        self._ipa = ipa
        self._budget = budget
        self._clock = clock
        self._deadline = clock() + budget
        self.round_trips = 0

    def run(self, calls: Sequence[Call]) -> list[BatchItem]:
        """One round trip: a plain request for one call, a ``batch`` for several."""
        if not calls:
            return []
        remaining = self._deadline - self._clock()
        first = calls[0][0]
        if remaining <= 0.001:
            raise IPAUnavailable(f"IPA time budget of {self._budget:g}s used up before {first}")
        self.round_trips += 1
        try:
            return self._ipa.run(calls, deadline=remaining)
        except ipa_errors.IPAError as exc:  # the batch itself was refused
            raise _command_failed("batch", exc) from None
        except ipa_errors.IPAClientError as exc:
            # Transport, authentication and protocol failures: try again later.
            what = first if len(calls) == 1 else "batch"
            raise IPAUnavailable(f"IPA {what} failed: {exc}") from None


def _command_failed(command: str, exc: ipa_errors.IPAError) -> IPACommandFailed:
    LOG.error("IPA %s failed: %s (%s): %s", command, exc.name, exc.code, exc.message)
    return IPACommandFailed(f"IPA {command} failed: {exc.name} ({exc.code})",
                            ipa_error=f"{exc.name} ({exc.code})")


def _result(
    item: BatchItem, command: str, done: tuple[type[ipa_errors.IPAError], ...] = ()
) -> dict[str, Any] | None:
    """The item's result; None for an error that means "already done"; else raise."""
    if item.error is None:
        return item.result or {}
    if done and isinstance(item.error, done):
        return None
    raise _command_failed(command, item.error)


class InstanceLifecycle:
    """Instance delete / rebuild and floating / fixed IP DNS, acting only on what novajoin owns."""

    def __init__(
        self,
        ipa: IPAClient,
        settings: JoinSettings,
        *,
        deadline: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if deadline <= 0:
            raise ValueError("deadline must be positive")
        self._ipa = ipa
        self.settings = settings
        self.deadline = deadline
        self._clock = clock
        # Where a delete looks for the instance's DNS markers in round trip 1: the
        # forward zone of the configured domain in the previous answer.  A hint only
        # (a wrong guess costs round trip 2, never a wrong write), so sharing it
        # between threads needs no lock.
        self._zone_hint = dns.absolute(settings.domain)

    # -- instance events -----------------------------------------------------------------

    def instance_deleted(self, instance_id: str) -> Outcome:
        """Remove every host novajoin owns for this instance, with its DNS and services.

        Found by ownership in IPA, never by names derived from the deleted instance's
        metadata.  The records novajoin published for the host (TXT marker, A/AAAA,
        PTR) are removed, then ``host_del(updatedns=True)`` removes the host, its
        services and its remaining A/AAAA/SSHFP/PTR.  NotFound = done; a duplicate or
        early delete finds no host and returns ``changed=False`` without writing.
        Reads then writes: two round trips, three when round trip 1 cannot prove what
        to remove (a subhost, a host outside the guessed zone; ``records_from_round_one``).
        """
        if not self._valid_instance(instance_id):
            return Outcome(DELETED, False, "malformed instance id")
        instance_id = instance_id.lower()
        op = self._operation()
        guess = self._zone_hint
        hosts, zones, found = self._delete_reads(op, instance_id, guess)
        self._zone_hint = (dns.forward_zone(self.settings.domain, zones)
                           or dns.absolute(self.settings.domain))
        if not hosts:
            LOG.info("instance %s deleted: no host in IPA is owned by it, nothing to do",
                     instance_id)
            return Outcome(DELETED, False, f"no host in IPA is owned by instance {instance_id}",
                           op.round_trips)
        direct = records_from_round_one(hosts, zones, guess, found)
        if direct is not None:
            records, owned_writes, shared = direct, [], []
        else:
            records, owned_writes, shared = self._host_records(op, hosts, zones, instance_id)
        writes: list[_Write] = list(owned_writes)  # subhosts / services first
        for host in hosts:
            record = records.get(host.fqdn)
            if record is not None:
                writes.extend(self._unpublish_writes(
                    record, lambda m: m.instance_id == instance_id, zones))
            writes.append(_Write(("host_del", [host.fqdn], {"updatedns": True}),
                                 (ipa_errors.NotFound,), "host-del", instance_id, host.fqdn))
        changed = self._write(op, writes)
        if shared:
            # Unlinked from objects other hosts still managed: re-read them and delete
            # those nobody manages any more (e.g. the other instance went meanwhile).
            sweep = services.sweep(shared, op.run(shared))
            changed += self._write(op, [self._as_write(w, instance_id) for w in sweep])
        names = ", ".join(h.fqdn for h in hosts)
        detail = f"removed {names}" if changed else f"{names} already gone"
        return Outcome(DELETED, bool(changed), detail, op.round_trips)

    def instance_rebuilt(self, instance_id: str) -> Outcome:
        """Revoke the keys of the owned host (``host_disable``) so it enrolls again.

        The rebuilt instance then gets a new OTP through the REST path (JoinService
        re-keys an owned host that has neither keytab nor password).  AlreadyInactive
        (no keys to revoke) and NotFound count as done.
        """
        if not self._valid_instance(instance_id):
            return Outcome(DISABLED, False, "malformed instance id")
        op = self._operation()
        [item] = op.run([host_find_call(instance_id)])
        answer = _result(item, "host_find")
        assert answer is not None
        hosts = owned_hosts(answer, instance_id)
        if not hosts:
            LOG.info("instance %s rebuilt: no host in IPA is owned by it, nothing to revoke",
                     instance_id)
            return Outcome(DISABLED, False, f"no host in IPA is owned by instance {instance_id}",
                           op.round_trips)
        writes = [_Write(("host_disable", [h.fqdn], {}),
                         (ipa_errors.AlreadyInactive, ipa_errors.NotFound), "host-disable",
                         instance_id, h.fqdn) for h in hosts]
        changed = self._write(op, writes)
        names = ", ".join(h.fqdn for h in hosts)
        detail = f"keys of {names} revoked" if changed else f"{names} had no keys to revoke"
        return Outcome(DISABLED, bool(changed), detail, op.round_trips)

    def instance_updated(
        self, instance_id: str, metadata: Mapping[str, object]
    ) -> Outcome:
        """Add the managed services, host classes and hostgroups the metadata now asks for.

        Only additions: a service that disappeared from the metadata stays until the
        instance is deleted.  Update notifications are delivered out of order and
        retried, so a stale update could remove a service a newer one asked for (and
        the instance may still be using its keytab); additions are idempotent in any
        order.  The host is found by ownership; its project is the one in its marker.
        No IPA call at all when the metadata asks for none of these.
        """
        if not self._valid_instance(instance_id):
            return Outcome(SERVICES_ADDED, False, "malformed instance id")
        instance_id = instance_id.lower()
        if not services.requested(metadata) and not placement.requested(metadata):
            return Outcome(SERVICES_ADDED, False, "no managed service or placement asked for")
        op = self._operation()
        command, args, options = host_find_call(instance_id)
        [item] = op.run([(command, args, {**options, "no_members": False})])
        answer = _result(item, "host_find")
        assert answer is not None
        hosts = owned_hosts(answer, instance_id)
        if not hosts:
            return Outcome(SERVICES_ADDED, False,
                           f"no host in IPA is owned by instance {instance_id}", op.round_trips)
        entries = {h.fqdn: e for e in answer.get("result") or []
                   if isinstance(e, Mapping) for h in hosts
                   if h.fqdn in [str(v).lower() for v in (e.get("fqdn") or [])]}
        wanted = [self._wanted(h, metadata) for h in hosts]
        reads = [services.read_calls(w) for w in wanted]
        items = op.run([c for r in reads for c in r])
        writes: list[_Write] = []
        errors: list[ItemError] = []
        created: list[tuple[services.Wanted, list[str]]] = []
        start = 0
        for want, calls in zip(wanted, reads, strict=True):
            seen = services.observe(want, items[start:start + len(calls)])
            start += len(calls)
            plan = services.plan(want, entries.get(want.fqdn), seen)
            writes += [self._as_write(w, instance_id) for w in plan.writes]
            errors += plan.errors
            if plan.created:
                created.append((want, plan.created))
        raced: set[str] = set()
        changed = self._write_checked(op, writes, errors, raced)
        for want, subs in created:  # subhosts another request created first: whose?
            subs = [s for s in subs if s in raced]
            if subs:
                undo, lost = services.undo_foreign(want, subs,
                                                   op.run(services.verify_calls(subs)))
                errors += lost
                self._write_checked(op, [self._as_write(w, instance_id) for w in undo],
                                    errors, raced)
        for error in errors:
            LOG.warning("instance %s: metadata item %s not applied: %s", instance_id,
                        error.item, error.error)
        detail = "applied" if changed else "already in place"
        if errors:
            detail += f"; {len(errors)} item(s) refused"
        return Outcome(SERVICES_ADDED, bool(changed), detail, op.round_trips)

    def _wanted(self, host: OwnedHost, metadata: Mapping[str, object]) -> services.Wanted:
        project = host.marker.project_id
        requests, errors = services.parse(metadata, hostname=host.fqdn,
                                          domain=self.settings.domain,
                                          realm=self.settings.realm)
        chosen = placement.Placement()
        if placement.requested(metadata):
            policy = self.settings.placement
            # By project id only: the listener has no keystone look-up.
            chosen = placement.decide(metadata, policy.rule_for(project) if policy else None)
        return services.Wanted(host.fqdn, project, host.marker.instance_id,
                               self.settings.realm, tuple(requests), chosen, tuple(errors))

    def _write_checked(self, op: _Operation, writes: list[_Write],
                       errors: list[ItemError], raced: set[str]) -> int:
        """One batch of additive writes; item failures become errors, not exceptions.

        ``raced`` receives the subhosts whose creation found them already there.
        """
        changed = 0
        for write, item in zip(writes, op.run([w.call for w in writes]), strict=True):
            done, error = services.check(
                services.Write(write.call, write.fqdn, write.audit, write.fqdn, write.done),
                item)
            if error:
                errors.append(ItemError(write.call[1][0], error))
            elif not done and write.audit == "subhost-add":
                raced.add(write.fqdn)
            elif done:
                changed += 1
                AUDIT.info("action=%s instance=%s fqdn=%s ip=-", write.audit, write.instance,
                           write.fqdn)
        return changed

    # -- addresses -----------------------------------------------------------------------

    def floating_ip_associated(
        self, instance_id: str, address: str, *, port_id: str | None = None
    ) -> Outcome:
        """Publish A/AAAA + PTR + TXT marker for a floating IP on the instance's host name.

        Stale novajoin publications of the same address on other names (a floating IP
        moved between instances without a disassociate event) are removed.
        """
        return self._publish(instance_id, [address], port_id, dns.FLOATING)

    def fixed_ips_created(self, instance_id: str, addresses: Sequence[str]) -> Outcome:
        """Publish the instance's fixed IPs like floating ones (``kind=fixed``, no port)."""
        return self._publish(instance_id, list(addresses), None, dns.FIXED)

    def floating_ip_disassociated(self, address: str, *, port_id: str | None = None) -> Outcome:
        """Remove what novajoin published for this floating IP (and port, when given).

        Records are found with ``dnsrecord_find(zone, arecord=address)`` in every forward
        zone; only names whose TXT marker names this address (kind floating, and this
        port when given) are changed.  Nothing found (e.g. disassociate delivered before
        associate) returns ``changed=False``.
        """
        try:
            address = dns.normalize_address(address)
        except ValueError:
            return self._refused(DNS_REMOVED, "not an IP address")
        if port_id is not None and not dns.valid_port_id(port_id):
            return self._refused(DNS_REMOVED, "malformed port id")

        def owned(m: dns.DNSMarker) -> bool:
            return (m.kind == dns.FLOATING and m.address == address
                    and (port_id is None or m.port_id == port_id))

        attr = dns.record_attr(address)
        return self._unpublish(lambda zone: ("dnsrecord_find", [zone], {attr: [address]}),
                               owned, f"floating IP {address}")

    def port_deleted(self, port_id: str, instance_id: str | None) -> Outcome:
        """Remove the records novajoin published through a deleted port.

        neutron disassociates a deleted port's floating IPs without a floatingip
        notification; the TXT markers carry the port id, so the records are found by
        searching the markers (``dnsrecord_find`` criteria ``port=<id>``) and checked
        exactly (and against ``instance_id`` when given).
        """
        if not dns.valid_port_id(port_id):
            return self._refused(DNS_REMOVED, "malformed port id")
        if instance_id is not None and not valid_instance_id(instance_id):
            return self._refused(DNS_REMOVED, "malformed instance id")
        instance = instance_id.lower() if instance_id else None

        def owned(m: dns.DNSMarker) -> bool:
            return m.port_id == port_id and (instance is None or m.instance_id == instance)

        return self._unpublish(lambda zone: ("dnsrecord_find", [zone, f"port={port_id}"], {}),
                               owned, f"port {port_id}")

    # -- publishing ----------------------------------------------------------------------

    def _publish(
        self, instance_id: str, addresses: list[str], port_id: str | None, kind: str
    ) -> Outcome:
        if not self._valid_instance(instance_id):
            return Outcome(DNS_ADDED, False, "malformed instance id")
        if port_id is not None and not dns.valid_port_id(port_id):
            return self._refused(DNS_ADDED, "malformed port id")
        try:
            wanted = [dns.DNSMarker(instance_id, a, port_id, kind) for a in addresses]
        except ValueError:
            return self._refused(DNS_ADDED, "not an IP address")
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return Outcome(DNS_ADDED, False, "no address given")
        op = self._operation()
        hosts, zones = self._hosts_and_zones(op, instance_id)
        what = ", ".join(m.address for m in wanted)
        if not hosts:
            LOG.info("instance %s: no host in IPA is owned by it; DNS for %s not published",
                     instance_id, what)
            return Outcome(DNS_ADDED, False,
                           f"no host in IPA is owned by instance {instance_id} (not enrolled "
                           "through novajoin, or already deleted)", op.round_trips)
        targets = [(h, z) for h in hosts if (z := self._zone_of(h, zones)) is not None]
        if not targets:
            return Outcome(DNS_ADDED, False, "no IPA DNS zone contains the host name",
                           op.round_trips)
        reverse = self._reverse_zones([m.address for m in wanted], zones)
        forward = sorted(z for z in zones if not dns.is_reverse_zone(z))

        # Round trip 2: the host names' records, every name holding each address, PTRs.
        reads: list[Call] = [("dnsrecord_show", [z, dns.relative_name(h.fqdn, z)], {})
                             for h, z in targets]
        for m in wanted:
            reads += [("dnsrecord_find", [z], {m.record_attr: [m.address]}) for z in forward]
        ptr_reads = [(m.address, reverse[m.address]) for m in wanted if reverse[m.address]]
        reads += [("dnsrecord_show", [rz, dns.relative_name(dns.reverse_name(a), rz)], {})
                  for a, rz in ptr_reads]
        items = iter(op.run(reads))
        own = {h.fqdn: self._shown(next(items), z, dns.relative_name(h.fqdn, z))
               for h, z in targets}
        holders = {m.address: [r for z in forward for r in self._found(next(items), z)]
                   for m in wanted}
        ptrs = {a: (self._shown(next(items), rz, dns.relative_name(dns.reverse_name(a), rz))
                    or _Record(rz, dns.relative_name(dns.reverse_name(a), rz), {}))
                for a, rz in ptr_reads}

        own_names = {dns.absolute(h.fqdn) for h, _ in targets}
        removals: list[_Write] = []
        additions: list[_Write] = []
        for m in wanted:
            for record in holders[m.address]:
                if record.name in own_names:
                    continue
                removals += self._takeover_writes(record, m, ptrs.get(m.address))
            for host, zone in targets:
                rel = dns.relative_name(host.fqdn, zone)
                record = own[host.fqdn] or _Record(zone, rel, {})
                additions += self._add_writes(record, host, m, ptrs.get(m.address))
        changed = self._write(op, removals + additions)
        names = ", ".join(h.fqdn for h, _ in targets)
        detail = (f"{what} published for {names}" if changed
                  else f"{what} already published for {names}")
        if len(ptr_reads) < len(wanted):
            detail += " (no reverse zone for some addresses: forward records only)"
        return Outcome(DNS_ADDED, bool(changed), detail, op.round_trips)

    def _add_writes(
        self, record: _Record, host: OwnedHost, want: dns.DNSMarker, ptr: _Record | None
    ) -> list[_Write]:
        """What is missing on the host's own name (and its PTR) for one address."""
        writes: list[_Write] = []
        ip, instance = want.address, want.instance_id
        stale = [v for v, m in record.markers() if m.address == ip and m != want]
        if stale:  # e.g. the same address, now through another port
            writes.append(_Write(("dnsrecord_del", [record.zone, record.rel],
                                  {"txtrecord": stale}), _DONE_DEL, "dns-del-marker",
                                 instance, host.fqdn, ip))
        options: dict[str, Any] = {}
        if record.stored_address(ip) is None:
            options[want.record_attr] = [ip]
        if want.format() not in record.values("txtrecord"):
            options["txtrecord"] = [want.format()]
        if options:
            # A/AAAA and its marker in one command: IPA applies both or neither.
            writes.append(_Write(("dnsrecord_add", [record.zone, record.rel], options),
                                 _DONE_ADD, "dns-add", instance, host.fqdn, ip))
        target = dns.absolute(host.fqdn)
        if ptr is not None and target not in {dns.absolute(v) for v in ptr.values("ptrrecord")}:
            writes.append(_Write(("dnsrecord_add", [ptr.zone, ptr.rel], {"ptrrecord": [target]}),
                                 _DONE_ADD, "dns-add-ptr", instance, host.fqdn, ip))
        return writes

    def _takeover_writes(
        self, record: _Record, want: dns.DNSMarker, ptr: _Record | None
    ) -> list[_Write]:
        """Remove novajoin's earlier publication of ``want.address`` on another name."""
        ip = want.address
        mine = [(v, m) for v, m in record.markers() if m.address == ip]
        if not mine:
            return []  # not published by novajoin: never touched
        writes: list[_Write] = []
        previous = mine[0][1].instance_id
        if ptr is not None:
            for value in ptr.values("ptrrecord"):
                if dns.absolute(value) == record.name:
                    writes.append(_Write(("dnsrecord_del", [ptr.zone, ptr.rel],
                                          {"ptrrecord": [value]}), _DONE_DEL, "dns-del-ptr",
                                         previous, record.name.rstrip("."), ip))
        options: dict[str, Any] = {"txtrecord": [v for v, _ in mine]}
        stored = record.stored_address(ip)
        if stored is not None:
            options[want.record_attr] = [stored]
        writes.append(_Write(("dnsrecord_del", [record.zone, record.rel], options), _DONE_DEL,
                             "dns-del", previous, record.name.rstrip("."), ip))
        return writes

    # -- unpublishing --------------------------------------------------------------------

    def _unpublish(
        self,
        search: Callable[[str], Call],
        owned: Callable[[dns.DNSMarker], bool],
        what: str,
    ) -> Outcome:
        op = self._operation()
        [item] = op.run([_zone_find_call()])
        zones = _zones(_result(item, "dnszone_find", _NO_DNS) or {})
        forward = sorted(z for z in zones if not dns.is_reverse_zone(z))
        if not forward:
            return Outcome(DNS_REMOVED, False, "IPA has no forward DNS zone", op.round_trips)
        found = op.run([search(z) for z in forward])
        writes: list[_Write] = []
        for zone, entry in zip(forward, found, strict=True):
            for record in self._found(entry, zone):
                writes += self._unpublish_writes(record, owned, zones)
        if not writes:
            LOG.info("DNS for %s: nothing published by novajoin, nothing to remove", what)
            return Outcome(DNS_REMOVED, False, f"no record published by novajoin for {what}",
                           op.round_trips)
        changed = self._write(op, writes)
        detail = f"records for {what} removed" if changed else f"records for {what} already gone"
        return Outcome(DNS_REMOVED, bool(changed), detail, op.round_trips)

    def _unpublish_writes(
        self, record: _Record, owned: Callable[[dns.DNSMarker], bool], zones: list[str]
    ) -> list[_Write]:
        """Delete the markers ``owned`` selects on one name, their A/AAAA and PTRs.

        An address still claimed by another marker on the same name keeps its A/AAAA.
        PTR deletes are blind (value = this name): NotFound / AttrValueNotFound = done.
        The forward delete comes last, so the TXT proof stays until everything else went.
        """
        markers = record.markers()
        selected = [(v, m) for v, m in markers if owned(m)]
        if not selected:
            return []
        kept = {m.address for v, m in markers if not owned(m)}
        fqdn = record.name.rstrip(".")
        writes: list[_Write] = []
        options: dict[str, Any] = {"txtrecord": [v for v, _ in selected]}
        for address in sorted({m.address for _, m in selected} - kept):
            instance = next(m.instance_id for _, m in selected if m.address == address)
            stored = record.stored_address(address)
            if stored is not None:
                options.setdefault(dns.record_attr(address), []).append(stored)
            rzone = dns.reverse_zone(address, zones)
            if rzone is not None:
                rel = dns.relative_name(dns.reverse_name(address), rzone)
                writes.append(_Write(("dnsrecord_del", [rzone, rel], {"ptrrecord": [record.name]}),
                                     _DONE_DEL, "dns-del-ptr", instance, fqdn, address))
        first = selected[0][1]
        ips = ",".join(sorted({m.address for _, m in selected}))
        writes.append(_Write(("dnsrecord_del", [record.zone, record.rel], options), _DONE_DEL,
                             "dns-del", first.instance_id, fqdn, ips))
        return writes

    # -- reads ---------------------------------------------------------------------------

    def _hosts_and_zones(
        self, op: _Operation, instance_id: str
    ) -> tuple[list[OwnedHost], list[str]]:
        """Round trip 1: the instance's owned hosts and IPA's DNS zones, in one batch."""
        find, zone_find = op.run([host_find_call(instance_id), _zone_find_call()])
        return _owned_and_zones(find, zone_find, instance_id)

    def _delete_reads(
        self, op: _Operation, instance_id: str, zone: str
    ) -> tuple[list[OwnedHost], list[str], BatchItem]:
        """Round trip 1 of a delete: as ``_hosts_and_zones``, with what the hosts manage,
        and the names in ``zone`` that carry the instance's DNS markers (unchecked)."""
        marked: Call = ("dnsrecord_find", [zone, dns.search_term(instance_id)],
                        {"sizelimit": _MARKED_SIZELIMIT})
        find, zone_find, found = op.run([host_find_call(instance_id, managing=True),
                                         _zone_find_call(), marked])
        hosts, zones = _owned_and_zones(find, zone_find, instance_id)
        return hosts, zones, found

    def _host_records(
        self, op: _Operation, hosts: list[OwnedHost], zones: list[str], instance_id: str
    ) -> tuple[dict[str, _Record], list[_Write], list[Call]]:
        """Round trip 2 of a delete: each host's DNS record, and what the hosts manage.

        Returns the records, the writes that remove the subhosts and services only these
        hosts manage (or just their links), and the reads of what stays shared.
        """
        targets = [(h, z) for h in hosts if (z := self._zone_of(h, zones, warn=False))]
        reads: list[Call] = [("dnsrecord_show", [z, dns.relative_name(h.fqdn, z)], {})
                             for h, z in targets]
        reads += services.cleanup_calls([h.fqdn for h in hosts])
        items = op.run(reads)
        records: dict[str, _Record] = {}
        for (host, zone), item in zip(targets, items[:len(targets)], strict=True):
            record = self._shown(item, zone, dns.relative_name(host.fqdn, zone))
            if record is not None:
                records[host.fqdn] = record
        host_item, service_item = items[len(targets):]
        host_answer = _result(host_item, "host_find") or {}
        service_answer = _result(service_item, "service_find") or {}
        planned, shared = services.cleanup([h.fqdn for h in hosts], host_answer,
                                           service_answer)
        return records, [self._as_write(w, instance_id) for w in planned], shared

    @staticmethod
    def _as_write(write: services.Write, instance_id: str) -> _Write:
        return _Write(write.call, write.done, write.audit, instance_id, write.target)

    @staticmethod
    def _shown(item: BatchItem, zone: str, rel: str) -> _Record | None:
        entry = _result(item, "dnsrecord_show", _NO_RECORD)
        if entry is None:
            return None
        result = entry.get("result")
        if not isinstance(result, dict):
            raise IPAUnavailable("IPA dnsrecord_show: answer without a record")
        return _Record(zone, rel, result)

    @staticmethod
    def _found(item: BatchItem, zone: str) -> list[_Record]:
        answer = _result(item, "dnsrecord_find", _NO_RECORD)
        if answer is None:
            return []  # the zone went away meanwhile
        entries = answer.get("result")
        if not isinstance(entries, list):
            raise IPAUnavailable("IPA dnsrecord_find: answer without a result list")
        records = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            names = dns.record_values(entry, "idnsname")
            if names:
                records.append(_Record(zone, _relative(names[0], zone), entry))
        return records

    @staticmethod
    def _zone_of(host: OwnedHost, zones: list[str], *, warn: bool = True) -> str | None:
        zone = dns.forward_zone(host.fqdn, zones)
        if zone is None and warn:
            LOG.warning("no IPA DNS zone contains %s: its DNS records cannot be managed",
                        host.fqdn)
        return zone

    @staticmethod
    def _reverse_zones(addresses: Iterable[str], zones: list[str]) -> dict[str, str | None]:
        found = {a: dns.reverse_zone(a, zones) for a in addresses}
        missing = sorted(a for a, z in found.items() if z is None)
        if missing:
            LOG.warning("no reverse DNS zone in IPA for %s: publishing forward records only",
                        ", ".join(missing))
        return found

    # -- writes --------------------------------------------------------------------------

    def _write(self, op: _Operation, writes: list[_Write]) -> int:
        """One round trip for all writes; returns how many changed something."""
        items = op.run([w.call for w in writes])
        changed = 0
        failure: IPACommandFailed | None = None
        for write, item in zip(writes, items, strict=True):
            try:
                result = _result(item, write.call[0], write.done)
            except IPACommandFailed as exc:
                failure = failure or exc  # audit the other items first
                continue
            if result is None:
                # "Already done" after a resend: our first attempt most likely did it.
                if item.error is None or item.error.attempts <= 1:
                    continue
                AUDIT.info("action=%s instance=%s fqdn=%s ip=%s resent=%d", write.audit,
                           write.instance, write.fqdn, write.ip, item.error.attempts)
                changed += 1
                continue
            changed += 1
            AUDIT.info("action=%s instance=%s fqdn=%s ip=%s", write.audit, write.instance,
                       write.fqdn, write.ip)
        if failure is not None:
            raise failure
        return changed

    # -- helpers -------------------------------------------------------------------------

    def _operation(self) -> _Operation:
        return _Operation(self._ipa, self.deadline, self._clock)

    @staticmethod
    def _valid_instance(instance_id: str) -> bool:
        if valid_instance_id(instance_id):
            return True
        LOG.warning("ignoring an event with a malformed instance id")
        return False

    @staticmethod
    def _refused(action: str, why: str) -> Outcome:
        LOG.warning("ignoring a DNS event: %s", why)
        return Outcome(action, False, why)


def _owned_and_zones(
    find: BatchItem, zone_find: BatchItem, instance_id: str
) -> tuple[list[OwnedHost], list[str]]:
    answer = _result(find, "host_find")
    assert answer is not None
    hosts = owned_hosts(answer, instance_id)
    # No DNS in this IPA (zone_find refused, e.g. DNS not installed) is no reason
    # to keep a host of a deleted instance.
    zones_answer = _result(zone_find, "dnszone_find", _NO_DNS)
    return hosts, _zones(zones_answer or {})


def records_from_round_one(
    hosts: Sequence[OwnedHost], zones: Sequence[str], guessed_zone: str, found: BatchItem
) -> dict[str, _Record] | None:
    """The DNS records round trip 2 of a delete would read, if round trip 1 proves them.

    Round trip 1 of a delete also asked ``dnsrecord_find(guessed_zone, <instance's
    marker>)``.  Its answer replaces round trip 2 only when that is provably what
    round trip 2 would conclude:

    * no host manages anything but these hosts (``managing``), so there is no subhost
      or subhost service to clean up (the hosts' own services go with ``host_del``);
    * every host that has a forward zone in ``zones`` (this delete's fresh list) has
      it equal to ``guessed_zone`` — a host without one has no record to read either;
    * the find answered, from an existing zone, untruncated.

    Then the records are those found on exactly the hosts' own names: a name the find
    did not return holds no marker of this instance, from which ``_unpublish_writes``
    would remove nothing.  None means: read as round trip 2 always did.
    """
    owned = {h.fqdn for h in hosts}
    if any(h.managing - owned for h in hosts):
        return None
    names: dict[str, str] = {}
    for host in hosts:
        zone = dns.forward_zone(host.fqdn, zones)
        if zone is None:
            continue
        if zone != dns.absolute(guessed_zone):
            return None
        names[dns.relative_name(host.fqdn, zone)] = host.fqdn
    if not names:
        return {}
    if found.error is not None:
        return None  # e.g. the guessed zone does not exist
    answer = found.result or {}
    if answer.get("truncated") or not isinstance(answer.get("result"), list):
        return None
    zone = dns.absolute(guessed_zone)
    return {names[r.rel]: r for r in InstanceLifecycle._found(found, zone) if r.rel in names}


def _zone_find_call() -> Call:
    # sizelimit 0: every zone (IPA's default limit would hide zones past 100).
    return ("dnszone_find", [], {"pkey_only": True, "sizelimit": 0})


def _zones(answer: dict[str, Any]) -> list[str]:
    entries = answer.get("result") or []
    if answer.get("truncated"):
        LOG.warning("IPA truncated the DNS zone list: some zones may be missed")
    zones = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            zones += [dns.absolute(v) for v in dns.record_values(entry, "idnsname")]
    return zones


def _relative(name: str, zone: str) -> str:
    """A record name as IPA renders it (relative, "@", or absolute) made relative to ``zone``."""
    name = name.strip().lower()
    if name == "@" or dns.absolute(name) == zone:
        return "@"
    if name.endswith("."):
        return dns.relative_name(name, zone)
    return name
