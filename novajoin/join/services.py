"""Managed service principals: metadata parsing, and planning IPA writes from IPA state.

Metadata formats (compatible with TripleO and the later novajoin):

* ``managed_service_<name>`` = ``svc/host.domain`` — one principal; ``host.domain`` is a
  *subhost* (e.g. a VIP name) created if missing and managed by the instance's host.
* ``compact_service_<svc>`` = JSON list of networks — ``svc/<short>.<net>.<domain>`` per
  network (``<short>`` = the instance's host name without domain).
* ``compact_services`` = JSON object ``{svc: [networks]}`` — the legacy form of the above,
  ignored when any ``compact_service_`` key exists.

Bad JSON or an invalid principal is an ``ItemError`` for that item; the others go on.

Everything here is pure: the callers (``JoinService`` for the REST path,
``InstanceLifecycle`` for notifications) run ``read_calls`` in one batch, hand the
answers to ``plan``, run its writes in one batch and check each item with ``check``.
Nothing is written that IPA already has, so a repeat request writes nothing.

Ownership: a subhost carries ``marker.SubhostMarker`` (project, creating instance); a
subhost without it, or of another project, is never managed nor deleted.  Which hosts
manage a subhost or service is IPA's ``managedby`` — ``cleanup`` removes a subhost or
service only when no other host manages it, else just this host's link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from novajoin.ipa import BatchItem
from novajoin.ipa import errors as ipa_errors
from novajoin.join import naming
from novajoin.join.marker import SubhostMarker, parse_subhost
from novajoin.join.model import ItemError
from novajoin.join.placement import Placement

MANAGED_PREFIX = "managed_service_"
COMPACT_PREFIX = "compact_service_"
COMPACT_LEGACY = "compact_services"
MAX_SERVICES = 32
MAX_FQDN = 253

_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", re.ASCII)
_SHOWN = 70
ALREADY_MEMBER = "This entry is already a member"
NOT_MEMBER = "This entry is not a member"

Call = tuple[str, list[Any], dict[str, Any]]


# -- parsing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRequest:
    """One principal an instance asks for, and the metadata item that asked."""

    service: str
    host: str  # lower-case FQDN, no trailing dot
    item: str

    @property
    def principal(self) -> str:
        return f"{self.service}/{self.host}"


def requested(metadata: Mapping[str, object]) -> bool:
    """Whether any key of the metadata asks for managed services."""
    return any(k.startswith((MANAGED_PREFIX, COMPACT_PREFIX)) or k == COMPACT_LEGACY
               for k in metadata)


def parse(
    metadata: Mapping[str, object], *, hostname: str, domain: str, realm: str
) -> tuple[list[ServiceRequest], list[ItemError]]:
    """The principals the metadata asks for (deduplicated, bounded) and per-item errors.

    ``hostname`` is the instance's FQDN (its first label names compact services);
    every principal's host must lie inside ``domain``.
    """
    short = hostname.split(".", 1)[0].lower()
    domain = domain.lower().rstrip(".")
    found: list[ServiceRequest] = []
    errors: list[ItemError] = []

    def add(service: str, host: str, item: str) -> None:
        problem = _principal_problem(service, host, domain)
        if problem:
            errors.append(ItemError(item, problem))
            return
        found.append(ServiceRequest(service, host.lower().rstrip("."), item))

    compact_keys = sorted(k for k in metadata if k.startswith(COMPACT_PREFIX))
    for key in sorted(metadata):
        value = metadata[key]
        if key.startswith(MANAGED_PREFIX):
            if not isinstance(value, str) or not value.strip():
                errors.append(ItemError(key, "must be a principal service/host.domain"))
                continue
            principal, _, prin_realm = value.strip().partition("@")
            if prin_realm and prin_realm.upper() != realm.upper():
                errors.append(ItemError(key, f"the principal's realm is not {realm}"))
                continue
            service, sep, host = principal.partition("/")
            if not sep:
                errors.append(ItemError(key, "must be a principal service/host.domain"))
                continue
            add(service, host, key)
        elif key.startswith(COMPACT_PREFIX):
            service = key[len(COMPACT_PREFIX):]
            networks = _json(value, list, key, errors)
            if networks is not None:
                for network in networks:
                    _compact(service, network, short, domain, key, add, errors)
        elif key == COMPACT_LEGACY:
            if compact_keys:
                continue  # the per-service keys replace the legacy object
            services = _json(value, dict, key, errors)
            for service, networks in (services or {}).items():
                item = f"{key}:{str(service)[:_SHOWN]}"
                if not isinstance(networks, list):
                    errors.append(ItemError(item, "must map a service to a list of networks"))
                    continue
                for network in networks:
                    _compact(str(service), network, short, domain, item, add, errors)

    unique: dict[str, ServiceRequest] = {}
    for request in found:
        unique.setdefault(request.principal.lower(), request)
    requests = list(unique.values())
    if len(requests) > MAX_SERVICES:
        errors.append(ItemError("services", f"at most {MAX_SERVICES} services are accepted; "
                                f"{len(requests) - MAX_SERVICES} ignored"))
        requests = requests[:MAX_SERVICES]
    return requests, errors


def _json(value: object, kind: type, key: str, errors: list[ItemError]) -> Any:
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, kind):
        what = "a JSON list of networks" if kind is list else "a JSON object {service: [networks]}"
        errors.append(ItemError(key, f"must be {what}"))
        return None
    return data


def _compact(service: str, network: object, short: str, domain: str, item: str,
             add: Any, errors: list[ItemError]) -> None:
    if not isinstance(network, str) or naming.label_problem(network.lower()):
        errors.append(ItemError(item, f"network {str(network)[:_SHOWN]!r} is not a DNS label"))
        return
    add(service, f"{short}.{network.lower()}.{domain}", item)


def _principal_problem(service: str, host: str, domain: str) -> str | None:
    if not _SERVICE.fullmatch(service):
        return f"service name {service[:_SHOWN]!r} is invalid"
    if service.lower() == "host":
        return "host/ principals belong to IPA enrollment, not to managed services"
    host = host.lower().rstrip(".")
    if len(host) > MAX_FQDN or not host.endswith(f".{domain}"):
        return f"host {host[:_SHOWN]!r} is not a name inside {domain}"
    if any(naming.label_problem(label) for label in host.split(".")):
        return f"host {host[:_SHOWN]!r} is not a valid DNS name"
    return None


# -- reading IPA state -----------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """Everything one host should have besides itself."""

    fqdn: str
    project_id: str
    instance_id: str
    realm: str
    services: tuple[ServiceRequest, ...] = ()
    placement: Placement = field(default_factory=Placement)
    errors: tuple[ItemError, ...] = ()  # items refused before asking IPA

    @property
    def subhosts(self) -> list[str]:
        return sorted({s.host for s in self.services if s.host != self.fqdn})

    @property
    def empty(self) -> bool:
        return not self.services and self.placement.empty

    def canonical(self, request: ServiceRequest) -> str:
        return f"{request.principal}@{self.realm}"


def read_calls(wanted: Wanted) -> list[Call]:
    """The reads ``plan`` needs, after the host's own ``host_show`` (not included)."""
    calls: list[Call] = [("host_show", [h], {}) for h in wanted.subhosts]
    calls += [("service_show", [s.principal], {}) for s in wanted.services]
    calls += [("hostgroup_show", [g], {"no_members": True})
              for g in wanted.placement.hostgroups]
    return calls


@dataclass
class Observed:
    """What IPA holds of the things ``Wanted`` names (None: not found)."""

    subhosts: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    hostgroups: dict[str, bool] = field(default_factory=dict)
    errors: list[ItemError] = field(default_factory=list)


def observe(wanted: Wanted, items: Sequence[BatchItem]) -> Observed:
    """Turn the answers to ``read_calls(wanted)`` into an ``Observed``."""
    seen = Observed()
    it = iter(items)
    for host in wanted.subhosts:
        seen.subhosts[host] = _entry(next(it), f"subhost {host}", seen.errors)
    for request in wanted.services:
        seen.services[request.principal] = _entry(next(it), request.item, seen.errors)
    for group in wanted.placement.hostgroups:
        seen.hostgroups[group] = _entry(next(it), f"ipa_hostgroups:{group}",
                                        seen.errors) is not None
    return seen


def _entry(item: BatchItem, what: str, errors: list[ItemError]) -> dict[str, Any] | None:
    if item.error is None:
        result = (item.result or {}).get("result")
        return result if isinstance(result, dict) else {}
    if isinstance(item.error, ipa_errors.NotFound):
        return None
    errors.append(ItemError(what, f"IPA could not read it: {item.error.name}"))
    return {"unreadable": True}


def _values(entry: Mapping[str, Any] | None, attr: str) -> list[str]:
    values = (entry or {}).get(attr) or []
    if isinstance(values, str):
        values = [values]
    return [v for v in values if isinstance(v, str)]


def _managers(entry: Mapping[str, Any] | None) -> set[str]:
    return {v.lower().rstrip(".") for v in _values(entry, "managedby_host")}


# -- planning writes -------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One write of a batch: the item it serves and the audit line it earns."""

    call: Call
    item: str
    audit: str
    target: str
    done: tuple[type[ipa_errors.IPAError], ...] = ()
    subject: str = ""  # the principal, subhost or "hostgroup:<cn>" / "hostclass" it serves


@dataclass
class Plan:
    writes: list[Write] = field(default_factory=list)
    services: list[ServiceRequest] = field(default_factory=list)
    hostgroups: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    # Subhosts this plan creates: if another request created one first, its marker
    # must be checked afterwards (``verify_calls``).
    created: list[str] = field(default_factory=list)


_DUP = (ipa_errors.DuplicateEntry,)


def plan(wanted: Wanted, host: Mapping[str, Any] | None, seen: Observed) -> Plan:
    """The writes that bring IPA to ``wanted``; ``host`` is the host's own entry
    (None: it is being created with the classes already in its ``host_add``)."""
    out = Plan(errors=[*wanted.errors, *seen.errors])
    fqdn = wanted.fqdn
    marker = SubhostMarker(wanted.project_id, wanted.instance_id)
    bad_subhosts: dict[str, str] = {}
    for sub in wanted.subhosts:
        entry = seen.subhosts.get(sub)
        if entry is None:
            out.writes.append(Write(("host_add", [sub], {
                "force": True, "description": marker.format(), "no_members": True}),
                f"subhost {sub}", "subhost-add", sub, _DUP, sub))
            out.created.append(sub)
            out.writes.append(_link("host_add_managedby", sub, fqdn, f"subhost {sub}", sub))
            continue
        if entry.get("unreadable"):
            bad_subhosts[sub] = "IPA could not read it"
            continue
        owner = parse_subhost(entry.get("description"))
        if owner is None:
            bad_subhosts[sub] = f"host {sub} exists in IPA and is not a novajoin subhost"
        elif owner.project_id != wanted.project_id:
            bad_subhosts[sub] = f"host {sub} belongs to another project"
        elif fqdn not in _managers(entry):
            out.writes.append(_link("host_add_managedby", sub, fqdn, f"subhost {sub}", sub))
    for request in wanted.services:
        if request.host in bad_subhosts:
            out.errors.append(ItemError(request.item, bad_subhosts[request.host]))
            continue
        entry = seen.services.get(request.principal)
        if entry is not None and entry.get("unreadable"):
            continue  # already reported by observe()
        if entry is None:
            out.writes.append(Write(("service_add", [request.principal],
                                     {"force": True, "no_members": True}),
                                    request.item, "service-add", request.principal, _DUP,
                                    request.principal))
        if request.host != fqdn and fqdn not in _managers(entry):
            out.writes.append(_link("service_add_host", request.principal, fqdn, request.item,
                                    request.principal))
        out.services.append(request)
    _plan_placement(wanted, host, seen, out)
    return out


def _plan_placement(wanted: Wanted, host: Mapping[str, Any] | None, seen: Observed,
                    out: Plan) -> None:
    placement = wanted.placement
    out.errors.extend(placement.errors)
    if host is not None and placement.classes:
        have = _values(host, "userclass")
        missing = [c for c in placement.classes if c not in have]
        if missing:
            out.writes.append(Write(("host_mod", [wanted.fqdn], {
                "userclass": have + missing, "no_members": True}), "ipa_hostclass",
                "hostclass-add", wanted.fqdn, (ipa_errors.EmptyModlist,), "hostclass"))
    out.classes.extend(placement.classes)
    groups = {g.lower() for g in _values(host, "memberof_hostgroup")}
    for group in placement.hostgroups:
        item = f"ipa_hostgroups:{group}"
        if not seen.hostgroups.get(group):
            if group in seen.hostgroups:
                out.errors.append(ItemError(item, f"hostgroup {group} does not exist in IPA"))
            continue
        if group not in groups:
            out.writes.append(Write(("hostgroup_add_member", [group], {
                "host": [wanted.fqdn], "no_members": True}), item, "hostgroup-add",
                f"{group}:{wanted.fqdn}", (), f"hostgroup:{group}"))
        out.hostgroups.append(group)


def _link(command: str, target: str, manager: str, item: str, subject: str = "") -> Write:
    return Write((command, [target], {"host": [manager], "no_members": True}), item,
                 command.replace("_", "-"), f"{target}<-{manager}", (), subject or target)


# -- checking results --------------------------------------------------------------------


def check(write: Write, item: BatchItem) -> tuple[bool, str | None]:
    """(changed, error) of one write's answer; "already done" is (False, None)."""
    if item.error is not None:
        if write.done and isinstance(item.error, write.done):
            return item.error.attempts > 1, None  # a resent write that had landed
        return False, f"IPA {write.call[0]} failed: {item.error.name}: {item.error.message}"
    result = item.result or {}
    failed = result.get("failed")
    if isinstance(failed, Mapping):
        problems = [f"{name}: {why}" for name, why in _failures(failed)
                    if why not in (ALREADY_MEMBER, NOT_MEMBER)]
        if problems:
            return False, f"IPA {write.call[0]} failed: {'; '.join(problems)}"
        return bool(result.get("completed")), None
    return True, None


def _failures(failed: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for kinds in failed.values():
        if not isinstance(kinds, Mapping):
            continue
        for pairs in kinds.values():
            for pair in pairs or ():
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    yield str(pair[0]), str(pair[1])


def verify_calls(created: Sequence[str]) -> list[Call]:
    return [("host_show", [h], {"no_members": True}) for h in created]


def undo_foreign(wanted: Wanted, created: Sequence[str], items: Sequence[BatchItem]
                 ) -> tuple[list[Write], list[ItemError]]:
    """After a lost subhost-creation race: unlink from subhosts of another project."""
    writes: list[Write] = []
    errors: list[ItemError] = []
    for sub, item in zip(created, items, strict=True):
        entry = (item.result or {}).get("result") if item.error is None else None
        owner = parse_subhost((entry or {}).get("description"))
        if owner is not None and owner.project_id == wanted.project_id:
            continue
        writes.append(_link("host_remove_managedby", sub, wanted.fqdn, f"subhost {sub}"))
        for request in wanted.services:
            if request.host == sub:
                writes.append(_link("service_remove_host", request.principal, wanted.fqdn,
                                    request.item, request.principal))
                errors.append(ItemError(request.item,
                                        f"host {sub} was just created for another project"))
    return writes, errors


# -- cleanup when an instance's host goes --------------------------------------------------


def cleanup_calls(hosts: Sequence[str]) -> list[Call]:
    """The subhosts and services the hosts manage (``host_find`` lists a host itself)."""
    return [("host_find", [], {"man_by_host": list(hosts), "no_members": False,
                               "sizelimit": 0}),
            ("service_find", [], {"man_by_host": list(hosts), "no_members": False,
                                  "sizelimit": 0})] if hosts else []


def cleanup(owned: Iterable[str], host_answer: Mapping[str, Any],
            service_answer: Mapping[str, Any]) -> tuple[list[Write], list[Call]]:
    """Writes that remove what only ``owned`` manage, and the reads of what stays shared.

    A subhost (novajoin marker) managed by no other host is deleted with its services;
    a service on a surviving novajoin subhost managed by no other host is deleted;
    anything still managed by another host only loses the link.  The second list reads
    those shared objects again after the writes (``sweep``): two instances deleted at
    the same moment each unlink, and the later read sees that nobody manages them.
    """
    mine = {h.lower() for h in owned}
    writes: list[Write] = []
    shared: list[Call] = []
    subhosts: dict[str, bool] = {}  # novajoin subhost -> deleted now
    for entry in _entries(host_answer):
        name = _fqdn(entry)
        if name is None or name in mine or parse_subhost(entry.get("description")) is None:
            continue
        links = sorted(mine & _managers(entry))
        if not _managers(entry) - mine - {name}:
            writes.append(Write(("host_del", [name], {"updatedns": True}), f"subhost {name}",
                                "subhost-del", name, (ipa_errors.NotFound,)))
            subhosts[name] = True
        else:
            writes.append(Write(("host_remove_managedby", [name], {"host": links}),
                                f"subhost {name}", "host-remove-managedby",
                                f"{name}<-{','.join(links)}", (ipa_errors.NotFound,)))
            shared.append(("host_show", [name], {}))
            subhosts[name] = False
    for entry in _entries(service_answer):
        principal = next(iter(_values(entry, "krbprincipalname")), "")
        host = principal.split("@", 1)[0].partition("/")[2].lower()
        if host not in subhosts or subhosts[host]:
            continue  # own host's services go with it; others are not novajoin's
        links = sorted(mine & _managers(entry))
        name = principal.split("@", 1)[0]
        if not _managers(entry) - mine - {host}:
            writes.append(Write(("service_del", [name], {}), name, "service-del", name,
                                (ipa_errors.NotFound,)))
        else:
            writes.append(Write(("service_remove_host", [name], {"host": links}), name,
                                "service-remove-host", f"{name}<-{','.join(links)}",
                                (ipa_errors.NotFound,)))
            shared.append(("service_show", [name], {}))
    return writes, shared


def sweep(shared: Sequence[Call], items: Sequence[BatchItem]) -> list[Write]:
    """Deletes of the shared objects that, re-read, no other host manages any more."""
    writes: list[Write] = []
    for (command, args, _), item in zip(shared, items, strict=True):
        if item.error is not None:
            continue  # gone already (NotFound) or unreadable: leave it
        entry = (item.result or {}).get("result") or {}
        name = args[0]
        own = name.lower() if command == "host_show" else name.partition("/")[2].lower()
        if _managers(entry) - {own}:
            continue
        if command == "host_show":
            writes.append(Write(("host_del", [name], {"updatedns": True}), f"subhost {name}",
                                "subhost-del", name, (ipa_errors.NotFound,)))
        else:
            writes.append(Write(("service_del", [name], {}), name, "service-del", name,
                                (ipa_errors.NotFound,)))
    return writes


def _entries(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = answer.get("result")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _fqdn(entry: Mapping[str, Any]) -> str | None:
    names = _values(entry, "fqdn")
    return names[0].lower().rstrip(".") if names else None
