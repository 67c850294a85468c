"""A test double of nova's compute API (and neutron's floating IPs) for the reconciler.

::

    with FakeNova() as nova:
        nova.add_server(uuid, project_id, hostname)
        nova.delete_server(uuid)          # nova forgets it (GET -> 404), listed as DELETED
        nova.inject(status=403)           # every API answer is a 403 (or 500, ...)
        nova.outage()                     # connections are dropped without an answer

It answers with nova's real response shapes, on 127.0.0.1 only:

* ``GET /compute/`` and ``GET /compute/v2.1/`` — version discovery documents;
* ``GET /compute/v2.1/servers/detail`` — ``{"servers": [...], "servers_links": [...]}``,
  paginated with ``limit`` / ``marker`` (a ``next`` link while a page is full), every
  project with ``all_tenants``; ``changes-since`` also returns deleted servers
  (status ``DELETED``), as nova does;
* ``GET /compute/v2.1/servers/{id}`` — ``{"server": {...}}`` or nova's 404 body
  ``{"itemNotFound": {"code": 404, "message": "Instance <id> could not be found."}}``;
* ``GET /network/`` and ``GET /network/v2.0/floatingips`` — neutron's floating IPs
  (``limit`` / ``marker`` with ``floatingips_links``).

Requests need an ``X-Auth-Token`` (401 otherwise), so a client that is not configured
with credentials fails the way it would against nova.  ``requests`` records every
path asked, for tests that count calls.
"""

from __future__ import annotations

import datetime
import json
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPUTE = "/compute"
NETWORK = "/network"
MAX_MICROVERSION = "2.96"


def iso(moment: datetime.datetime) -> str:
    """nova's timestamp format (``2024-05-01T12:00:00Z``)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Server:
    id: str
    project_id: str
    name: str
    status: str = "ACTIVE"
    created: datetime.datetime = field(default_factory=utcnow)
    updated: datetime.datetime = field(default_factory=utcnow)
    launched_at: datetime.datetime | None = None
    deleted: bool = False


@dataclass
class FloatingIP:
    id: str
    address: str
    project_id: str
    port_id: str | None = None
    fixed_ip_address: str | None = None
    updated: datetime.datetime = field(default_factory=utcnow)


class FakeNova:
    """nova's compute API and neutron's floating IPs, controllable (module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, Server] = {}
        self._fips: dict[str, FloatingIP] = {}
        self._fault: tuple[int | None, str] | None = None  # (status or None=drop, path part)
        self.requests: list[str] = []
        self.tokens: set[str] = {"novajoin-test-token"}
        handler = type("Handler", (_Handler,), {"nova": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 128
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def compute_url(self) -> str:
        """The compute endpoint as a Keystone catalog (or endpoint_override) names it."""
        return f"{self.base_url}{COMPUTE}/v2.1"

    @property
    def network_url(self) -> str:
        return f"{self.base_url}{NETWORK}"

    def start(self) -> FakeNova:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="fake-nova")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeNova:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------------

    def add_server(self, server_id: str, project_id: str, name: str, *,
                   status: str = "ACTIVE", created: datetime.datetime | None = None,
                   launched_at: datetime.datetime | None = None) -> Server:
        now = utcnow()
        server = Server(server_id.lower(), project_id, name, status, created or now,
                        created or now, launched_at)
        with self._lock:
            self._servers[server.id] = server
        return server

    def delete_server(self, server_id: str, *, at: datetime.datetime | None = None) -> None:
        """nova soft-deletes: GET says 404, ``changes-since`` still lists it as DELETED."""
        with self._lock:
            server = self._servers[server_id.lower()]
            server.deleted, server.status, server.updated = True, "DELETED", at or utcnow()

    def purge_server(self, server_id: str) -> None:
        """``nova-manage db archive_deleted_rows``: no trace of the server any more."""
        with self._lock:
            self._servers.pop(server_id.lower(), None)

    def add_floating_ip(self, address: str, project_id: str, *, port_id: str | None = None,
                        fixed_ip_address: str | None = None,
                        updated: datetime.datetime | None = None) -> FloatingIP:
        fip = FloatingIP(str(uuid.uuid4()), address, project_id, port_id, fixed_ip_address,
                         updated or utcnow())
        with self._lock:
            self._fips[fip.id] = fip
        return fip

    def inject(self, status: int, path: str = "") -> None:
        """Answer every request whose path contains ``path`` with this HTTP status."""
        with self._lock:
            self._fault = (status, path)

    def outage(self, path: str = "") -> None:
        """Drop connections (no answer at all) for paths containing ``path``."""
        with self._lock:
            self._fault = (None, path)

    def clear_faults(self) -> None:
        with self._lock:
            self._fault = None

    # -- views -------------------------------------------------------------------------

    def _server_view(self, server: Server) -> dict[str, Any]:
        link = f"{self.compute_url}/servers/{server.id}"
        return {
            "id": server.id,
            "name": server.name,
            "status": server.status,
            "tenant_id": server.project_id,
            "user_id": "9b8f7e6d5c4b3a29180f7e6d5c4b3a29",
            "metadata": {},
            "hostId": "",
            "image": {"id": "a1b2c3d4-0000-4000-8000-000000000001",
                      "links": [{"rel": "bookmark", "href": f"{self.base_url}/images/x"}]},
            "flavor": {"id": "1", "links": [{"rel": "bookmark",
                                             "href": f"{self.base_url}/flavors/1"}]},
            "created": iso(server.created),
            "updated": iso(server.updated),
            "addresses": {},
            "accessIPv4": "",
            "accessIPv6": "",
            "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "OS-EXT-AZ:availability_zone": "nova",
            "config_drive": "",
            "key_name": None,
            "OS-SRV-USG:launched_at": (server.launched_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
                                       if server.launched_at else None),
            "OS-SRV-USG:terminated_at": None,
            "OS-EXT-SRV-ATTR:host": "compute-1",
            "OS-EXT-SRV-ATTR:instance_name": "instance-00000001",
            "OS-EXT-SRV-ATTR:hypervisor_hostname": "compute-1",
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:vm_state": "deleted" if server.deleted else "active",
            "OS-EXT-STS:power_state": 0 if server.deleted else 1,
            "os-extended-volumes:volumes_attached": [],
            "security_groups": [{"name": "default"}],
        }

    def _list_servers(self, query: dict[str, str]) -> dict[str, Any]:
        since = _parse_time(query["changes-since"]) if "changes-since" in query else None
        all_tenants = ("all_tenants" in query
                       and query["all_tenants"].lower() not in ("0", "false", "no"))
        with self._lock:
            servers = sorted(self._servers.values(), key=lambda s: (s.created, s.id))
            if since is not None:
                servers = [s for s in servers if s.updated >= since]
            else:
                servers = [s for s in servers if not s.deleted]
            if not all_tenants:
                servers = []  # the test token is not a project member: nothing of its own
            views = [self._server_view(s) for s in servers]
        return _page(views, query, "servers", f"{self.compute_url}/servers/detail", 1000)

    def _list_fips(self, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            fips = sorted(self._fips.values(), key=lambda f: f.id)
            views = [{
                "id": f.id, "floating_ip_address": f.address, "floating_network_id":
                "c0ffee00-0000-4000-8000-000000000001", "router_id": None,
                "port_id": f.port_id, "fixed_ip_address": f.fixed_ip_address,
                "status": "ACTIVE" if f.port_id else "DOWN", "tenant_id": f.project_id,
                "project_id": f.project_id, "description": "", "dns_domain": "",
                "dns_name": "", "port_details": None, "tags": [], "qos_policy_id": None,
                "created_at": iso(f.updated), "updated_at": iso(f.updated),
                "revision_number": 1,
            } for f in fips]
        return _page(views, query, "floatingips", f"{self.network_url}/v2.0/floatingips", 0)

    def _get_server(self, server_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            server = self._servers.get(server_id.lower())
            view = self._server_view(server) if server and not server.deleted else None
        if view is None:
            return 404, {"itemNotFound": {
                "code": 404, "message": f"Instance {server_id} could not be found."}}
        return 200, {"server": view}

    def _versions(self) -> dict[str, Any]:
        return {"versions": [self._version_doc("v2.0"), self._version_doc("v2.1")]}

    def _version_doc(self, vid: str) -> dict[str, Any]:
        current = vid == "v2.1"
        return {
            "id": vid,
            "status": "CURRENT" if current else "SUPPORTED",
            "version": MAX_MICROVERSION if current else "",
            "min_version": "2.1" if current else "",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.base_url}{COMPUTE}/{vid}/"}],
        }

    def dispatch(self, method: str, raw_path: str, token: str | None
                 ) -> tuple[int | None, dict[str, Any] | None]:
        """(status, body); status None means: drop the connection."""
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path.rstrip("/") or "/"
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(raw_path)
            fault = self._fault
        if fault is not None and fault[1] in raw_path:
            status, _ = fault
            if status is None:
                return None, None
            return status, _error_body(status)
        if method != "GET":
            return 405, _error_body(405)
        if path in (COMPUTE, NETWORK):
            if path == NETWORK:
                return 200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
                    {"rel": "self", "href": f"{self.network_url}/v2.0/"}]}]}
            return 300, self._versions()
        if path == f"{COMPUTE}/v2.1":
            return 200, {"version": self._version_doc("v2.1")}
        if token not in self.tokens:
            return 401, {"error": {"code": 401, "title": "Unauthorized",
                                   "message": "The request you have made requires "
                                   "authentication."}}
        if path == f"{COMPUTE}/v2.1/servers/detail":
            return 200, self._list_servers(query)
        if path.startswith(f"{COMPUTE}/v2.1/servers/"):
            return self._get_server(path.rsplit("/", 1)[1])
        if path == f"{NETWORK}/v2.0/floatingips":
            return 200, self._list_fips(query)
        return 404, {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}


def _page(views: list[dict[str, Any]], query: dict[str, str], key: str, url: str,
          default_limit: int) -> dict[str, Any]:
    marker = query.get("marker")
    if marker:
        ids = [v["id"] for v in views]
        # nova answers 400 to an unknown marker; an empty page is enough here.
        views = views[ids.index(marker) + 1:] if marker in ids else []
    limit = int(query.get("limit") or default_limit or len(views) or 1)
    page = views[:limit]
    body: dict[str, Any] = {key: page}
    if len(views) > limit and page:
        params = {k: v for k, v in query.items() if k != "marker"}
        params.update(limit=str(limit), marker=page[-1]["id"])
        body[f"{key}_links"] = [{"rel": "next",
                                 "href": f"{url}?{urllib.parse.urlencode(params)}"}]
    return body


_TITLES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
           405: "methodNotAllowed", 500: "computeFault", 503: "serviceUnavailable"}


def _error_body(status: int) -> dict[str, Any]:
    name = _TITLES.get(status, "computeFault")
    messages = {403: "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants "
                     "to be performed.",
                500: "Unexpected API Error. Please report this at "
                     "http://bugs.launchpad.net/nova/ and attach the Nova API log if possible."}
    return {name: {"code": status, "message": messages.get(status, name)}}


class _Handler(BaseHTTPRequestHandler):
    nova: FakeNova
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, body = self.nova.dispatch(method, self.path, self.headers.get("X-Auth-Token"))
        if status is None:
            self.close_connection = True
            self.connection.close()
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-openstack-request-id", f"req-{uuid.uuid4()}")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
