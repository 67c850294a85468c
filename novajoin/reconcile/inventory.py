"""What IPA holds for novajoin, and what nova and neutron know (read-only).

IPA side: every host whose description carries a valid ownership marker
(``host_find`` narrowed by the marker prefix, then each marker parsed
exactly), and every DNS name carrying a novajoin TXT marker of kind
``floating``.  Cloud side (openstacksdk on a keystoneauth session with the
``[service_credentials]`` identity): every server of every project, the
servers nova deleted within the grace period (``changes-since`` lists them
as DELETED), per-server confirmation (``GET /servers/{id}``) and neutron's
floating IPs.

Only nova's own "this instance does not exist" counts as absence: a 404 whose
body is nova's ``itemNotFound``.  403, 5xx, a 404 without that body (a
misrouted endpoint), a timeout or a refused connection are *unknown*, and
the caller must then delete nothing.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from novajoin.ipa import IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join import dns
from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.join.marker import PREFIX, parse

LOG = logging.getLogger("novajoin.reconcile")

GONE = "gone"
LIVE = "live"


class CloudUnavailable(Exception):
    """nova or neutron did not give a definite answer (403, 5xx, unreachable, ...)."""


@dataclass(frozen=True)
class IPAHost:
    """A host novajoin owns, as IPA described it."""

    fqdn: str
    instance_id: str
    project_id: str
    has_keytab: bool
    has_password: bool


@dataclass(frozen=True)
class DNSPublication:
    """One floating-IP TXT marker novajoin wrote on a DNS name."""

    name: str  # absolute
    marker: dns.DNSMarker


@dataclass(frozen=True)
class Server:
    """What the reconciler needs of a nova server."""

    id: str
    status: str
    created: datetime.datetime | None
    updated: datetime.datetime | None
    launched: datetime.datetime | None

    @property
    def started(self) -> datetime.datetime | None:
        """When the current enrollment could start: launch (or relaunch), else creation."""
        return self.launched or self.created


@dataclass(frozen=True)
class FloatingIP:
    address: str
    port_id: str | None
    updated: datetime.datetime | None


def parse_time(value: object) -> datetime.datetime | None:
    """nova/neutron timestamps (with or without zone, 'Z' or not) as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


# -- IPA -------------------------------------------------------------------------------------

def _ipa(ipa: IPAClient, command: str, args: list[Any], options: dict[str, Any],
         deadline: float) -> dict[str, Any]:
    try:
        return ipa.request(command, args, options, deadline=deadline)
    except ipa_errors.IPAError as exc:
        raise IPACommandFailed(f"IPA {command} failed: {exc.name} ({exc.code})",
                               ipa_error=f"{exc.name} ({exc.code})") from None
    except ipa_errors.IPAClientError as exc:
        raise IPAUnavailable(f"IPA {command} failed: {exc}") from None


def owned_hosts(ipa: IPAClient, *, deadline: float = 60.0) -> list[IPAHost]:
    """Every host whose description holds exactly one valid novajoin ownership marker."""
    answer = _ipa(ipa, "host_find", [PREFIX], {"no_members": True, "sizelimit": 0}, deadline)
    if answer.get("truncated"):
        # Missing hosts are only left for the next run: nothing is deleted for them.
        LOG.warning("IPA truncated the host search: some novajoin hosts are not checked "
                    "in this run (raise IPA's search size limit)")
    hosts: list[IPAHost] = []
    for entry in answer.get("result") or []:
        if not isinstance(entry, dict):
            continue
        marker = parse(entry.get("description"))
        fqdn = entry.get("fqdn")
        if isinstance(fqdn, list):
            fqdn = fqdn[0] if fqdn else None
        if marker is None or not isinstance(fqdn, str) or not fqdn:
            continue
        hosts.append(IPAHost(fqdn.lower().rstrip("."), marker.instance_id, marker.project_id,
                             bool(entry.get("has_keytab")), bool(entry.get("has_password"))))
    return sorted(hosts, key=lambda h: h.fqdn)


def floating_publications(ipa: IPAClient, *, deadline: float = 60.0) -> list[DNSPublication]:
    """Every floating-IP marker novajoin wrote, in every forward zone of IPA DNS."""
    try:
        zones_answer = ipa.request("dnszone_find", [], {"pkey_only": True, "sizelimit": 0},
                                   deadline=deadline)
    except (ipa_errors.NotFound, ipa_errors.CommandError):
        return []  # IPA without DNS
    except ipa_errors.IPAError as exc:
        raise IPACommandFailed(f"IPA dnszone_find failed: {exc.name} ({exc.code})",
                               ipa_error=f"{exc.name} ({exc.code})") from None
    except ipa_errors.IPAClientError as exc:
        raise IPAUnavailable(f"IPA dnszone_find failed: {exc}") from None
    zones = [dns.absolute(v) for entry in zones_answer.get("result") or []
             if isinstance(entry, dict) for v in dns.record_values(entry, "idnsname")]
    forward = sorted(z for z in zones if not dns.is_reverse_zone(z))
    if not forward:
        return []
    found: list[DNSPublication] = []
    items = ipa.batch([("dnsrecord_find", [z, f"kind={dns.FLOATING}"], {"sizelimit": 0})
                       for z in forward], deadline=deadline)
    for zone, item in zip(forward, items, strict=True):
        if item.error is not None:
            if isinstance(item.error, ipa_errors.NotFound):
                continue
            raise IPACommandFailed(f"IPA dnsrecord_find failed: {item.error.name}",
                                   ipa_error=item.error.name)
        for entry in (item.result or {}).get("result") or []:
            if not isinstance(entry, dict):
                continue
            names = dns.record_values(entry, "idnsname")
            if not names:
                continue
            name = names[0].strip().lower()
            if name == "@" or dns.absolute(name) == zone:
                absolute = zone
            elif name.endswith("."):
                absolute = name
            else:
                absolute = f"{name}.{zone}"
            for _, marker in dns.markers(dns.record_values(entry, "txtrecord")):
                if marker.kind == dns.FLOATING:
                    found.append(DNSPublication(absolute, marker))
    return found


# -- nova and neutron ------------------------------------------------------------------------

def _unknown(what: str, exc: BaseException) -> CloudUnavailable:
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    detail = f"HTTP {status}" if status else type(exc).__name__
    return CloudUnavailable(f"{what}: {detail}")


def _is_nova_not_found(exc: BaseException) -> bool:
    """A 404 carrying nova's own ``itemNotFound`` body: the instance does not exist."""
    if getattr(exc, "status_code", None) != 404:
        return False
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("itemNotFound"), dict)


def _server(resource: Any) -> Server:
    return Server(
        id=str(resource.id).lower(),
        status=str(resource.status or ""),
        created=parse_time(getattr(resource, "created_at", None)),
        updated=parse_time(getattr(resource, "updated_at", None)),
        launched=parse_time(getattr(resource, "launched_at", None)),
    )


class Cloud:
    """nova and neutron through openstacksdk; every failure is CloudUnavailable."""

    def __init__(self, connection: Any, *, page_size: int = 1000) -> None:
        self._conn = connection
        self._page = page_size

    def servers(self) -> dict[str, Server]:
        """Every server nova knows, all projects (deleted ones excluded)."""
        try:
            found = self._conn.compute.servers(details=True, all_projects=True,
                                               limit=self._page)
            return {s.id: s for s in map(_server, found)}
        except Exception as exc:
            raise _unknown("nova server list", exc) from None

    def deleted_since(self, since: datetime.datetime) -> dict[str, Server]:
        """Servers nova deleted at or after ``since`` (its ``changes-since`` filter)."""
        stamp = since.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            found = self._conn.compute.servers(details=True, all_projects=True,
                                               changes_since=stamp, limit=self._page)
            servers = [_server(s) for s in found]
        except Exception as exc:
            raise _unknown("nova changes-since", exc) from None
        return {s.id: s for s in servers if s.status.upper() in ("DELETED", "SOFT_DELETED")}

    def confirm(self, instance_ids: Iterable[str]) -> dict[str, Server | None]:
        """GET each server: a Server when it exists, None when nova says 404 itemNotFound.

        Raises CloudUnavailable at the first answer that is neither.
        """
        out: dict[str, Server | None] = {}
        for instance_id in instance_ids:
            try:
                out[instance_id] = _server(self._conn.compute.get_server(instance_id))
            except Exception as exc:
                if _is_nova_not_found(exc):
                    out[instance_id] = None
                    continue
                raise _unknown(f"nova GET server {instance_id}", exc) from None
        return out

    def floating_ips(self) -> dict[str, FloatingIP]:
        """neutron's floating IPs by address."""
        try:
            found = list(self._conn.network.ips(limit=self._page))
        except Exception as exc:
            raise _unknown("neutron floating IP list", exc) from None
        out: dict[str, FloatingIP] = {}
        for fip in found:
            try:
                address = dns.normalize_address(fip.floating_ip_address)
            except ValueError:
                continue
            out[address] = FloatingIP(address, fip.port_id or None,
                                      parse_time(getattr(fip, "updated_at", None)))
        return out


def connect(session: Any, *, compute_endpoint: str | None = None,
            network_endpoint: str | None = None, region_name: str | None = None,
            interface: str | None = None) -> Any:
    """An openstacksdk Connection on a keystoneauth session (catalog or overrides)."""
    import openstack.connection

    options: dict[str, Any] = {"session": session}
    if compute_endpoint:
        options["compute_endpoint_override"] = compute_endpoint
    if network_endpoint:
        options["network_endpoint_override"] = network_endpoint
    if region_name:
        options["region_name"] = region_name
    if interface:
        options["interface"] = interface
    return openstack.connection.Connection(**options)
