"""glance / keystone look-ups through a real keystoneauth1 Session against a tiny
loopback server that answers with glance's and keystone's JSON shapes; and the TTL cache."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint
from keystoneauth1.identity import v3

from novajoin.join import (
    GlanceImageLookup,
    KeystoneProjectLookup,
    LookupUnavailable,
    ProjectNotFound,
    TTLCache,
)

TOKEN = "gAAAAAB-test-token"
IMAGE = {
    "id": "1bea47ed-f6a9-463b-b423-14b9cca9ad27", "name": "fedora-40", "status": "active",
    "visibility": "public", "os_distro": "fedora", "os_version": "40", "ipa_enroll": "True",
    "min_disk": 0, "min_ram": 0, "size": 123, "tags": [], "protected": False,
    "container_format": "bare", "disk_format": "qcow2", "self": "/v2/images/1bea",
}
PROJECT = {"id": "a1b2c3", "name": "Dev Team_1", "domain_id": "default", "enabled": True,
           "description": "", "is_domain": False, "parent_id": "default", "tags": [],
           "links": {"self": "http://x/v3/projects/a1b2c3"}}


class Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        server: LoopbackCloud = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/v3/auth/tokens":
            base = server.base
            catalog = [
                {"type": "image", "name": "glance", "endpoints": [
                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne",
                     "url": f"{base}/image", "id": "e1"}]},
                {"type": "identity", "name": "keystone", "endpoints": [
                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne",
                     "url": f"{base}/identity", "id": "e2"}]},
            ]
            self._send(201, {"token": {
                "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2024-01-01T00:00:00.000000Z",
                "user": {"id": "u1", "name": "novajoin", "domain": {"id": "default",
                                                                    "name": "Default"}},
                "project": {"id": "p1", "name": "service", "domain": {"id": "default",
                                                                      "name": "Default"}},
                "roles": [{"id": "r1", "name": "service"}], "catalog": catalog,
            }}, {"X-Subject-Token": TOKEN})
            return
        self._send(404, {"error": "no"})

    def do_GET(self) -> None:
        server: LoopbackCloud = self.server  # type: ignore[assignment]
        path = self.path
        server.requests.append(path)
        if path.rstrip("/") == "/identity":
            self._send(300, {"versions": {"values": [{
                "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{server.base}/identity/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}]}})
            return
        if self.headers.get("X-Auth-Token") != TOKEN:
            self._send(401, {"error": {"code": 401, "title": "Unauthorized"}})
            return
        if server.status:
            self._send(server.status, {"error": "injected"})
            return
        images = {f"/image/v2/images/{IMAGE['id']}", f"/v2/images/{IMAGE['id']}"}
        if path in images:
            self._send(200, IMAGE)
        elif path in {"/identity/v3/projects/a1b2c3", "/v3/projects/a1b2c3"}:
            self._send(200, {"project": PROJECT})
        elif path.startswith(("/image/v2/images/", "/v2/images/")):
            self._send(404, {"message": "No image found with ID x", "code": "404 Not Found"})
        elif "/projects/" in path:
            self._send(404, {"error": {"code": 404, "message": "Could not find project",
                                       "title": "Not Found"}})
        else:
            self._send(404, {"error": "unknown path"})


class LoopbackCloud(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[str] = []
        self.status = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def cloud() -> Iterator[LoopbackCloud]:
    server = LoopbackCloud()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def catalog_session(cloud: LoopbackCloud) -> ksa_session.Session:
    """A service-credentials session: v3 password auth, endpoints from the catalog."""
    auth = v3.Password(auth_url=f"{cloud.base}/v3", username="novajoin", password="secret",
                       project_name="service", user_domain_id="default",
                       project_domain_id="default")
    return ksa_session.Session(auth=auth, timeout=5)


def test_glance_properties_from_catalog(cloud, catalog_session):
    images = GlanceImageLookup(catalog_session, interface="public")
    props = images.properties(IMAGE["id"])
    assert props["os_distro"] == "fedora" and props["ipa_enroll"] == "True"
    assert "min_disk" not in props  # only string properties
    assert cloud.requests[-1] == f"/image/v2/images/{IMAGE['id']}"


def test_glance_cache_and_not_found(cloud, catalog_session):
    images = GlanceImageLookup(catalog_session, ttl=60)
    for _ in range(5):
        images.properties(IMAGE["id"])
        assert images.properties("missing-image") == {}
    image_requests = [p for p in cloud.requests if "/images/" in p]
    assert len(image_requests) == 2
    assert images.properties("") == {}


def test_glance_failure_is_unavailable_and_not_cached(cloud, catalog_session):
    images = GlanceImageLookup(catalog_session, ttl=60)
    cloud.status = 503
    with pytest.raises(LookupUnavailable):
        images.properties(IMAGE["id"])
    cloud.status = 0
    assert images.properties(IMAGE["id"])["os_version"] == "40"


def test_glance_unreachable(cloud):
    session = ksa_session.Session(auth=token_endpoint.Token("http://127.0.0.1:9", TOKEN),
                                  timeout=2)
    with pytest.raises(LookupUnavailable) as info:
        GlanceImageLookup(session).properties(IMAGE["id"])
    assert TOKEN not in str(info.value)


def test_glance_with_fixed_endpoint(cloud):
    session = ksa_session.Session(auth=token_endpoint.Token(cloud.base, TOKEN))
    assert GlanceImageLookup(session).properties(IMAGE["id"])["os_distro"] == "fedora"
    # Path segments are quoted: an id cannot walk the URL.
    assert GlanceImageLookup(session).properties("../../v3/projects/a1b2c3") == {}
    assert cloud.requests[-1] == "/v2/images/..%2F..%2Fv3%2Fprojects%2Fa1b2c3"


def test_project_name_with_version_discovery(cloud, catalog_session):
    projects = KeystoneProjectLookup(catalog_session, ttl=60)
    assert projects.name("a1b2c3") == "Dev Team_1"
    assert projects.name("a1b2c3") == "Dev Team_1"
    assert cloud.requests.count("/identity/v3/projects/a1b2c3") == 1
    with pytest.raises(ProjectNotFound):
        projects.name("nope")


def test_project_with_fixed_v3_endpoint(cloud):
    session = ksa_session.Session(auth=token_endpoint.Token(f"{cloud.base}/v3", TOKEN))
    assert KeystoneProjectLookup(session).name("a1b2c3") == "Dev Team_1"
    cloud.status = 500
    with pytest.raises(LookupUnavailable):
        KeystoneProjectLookup(session).name("a1b2c3")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_expires():
    clock = Clock()
    cache: TTLCache[int] = TTLCache(ttl=10, max_entries=4, clock=clock)
    loads: list[str] = []

    def load(key: str) -> int:
        loads.append(key)
        return len(loads)

    assert cache.get_or_load("a", lambda: load("a")) == 1
    clock.now += 9.9
    assert cache.get_or_load("a", lambda: load("a")) == 1
    clock.now += 0.2
    assert cache.get_or_load("a", lambda: load("a")) == 2
    assert loads == ["a", "a"]


def test_ttl_cache_is_bounded_lru():
    cache: TTLCache[str] = TTLCache(ttl=100, max_entries=3, clock=Clock())
    for key in "abc":
        cache.put(key, key)
    assert cache.get("a") == (True, "a")  # a is now the most recent
    cache.put("d", "d")
    assert len(cache) == 3
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, "a")


def test_ttl_cache_disabled_and_threads():
    cache: TTLCache[int] = TTLCache(ttl=0)
    cache.put("a", 1)
    assert cache.get("a") == (False, None)
    shared: TTLCache[int] = TTLCache(ttl=60, max_entries=50)

    def work(n: int) -> None:
        for i in range(200):
            shared.put(f"{n}-{i}", i)
            shared.get(f"{n}-{i - 1}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(shared) == 50
