"""The glance namespace, created through openstacksdk against a local Glance v2 stand-in."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openstack
import pytest

from novajoin.install import glance


class _Glance:
    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.properties: dict[str, dict[str, dict[str, Any]]] = {}
        self.associations: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []


def _handler(db: _Glance) -> type[BaseHTTPRequestHandler]:
    ns_path = re.compile(r"^/v2/metadefs/namespaces/([^/]+)(?:/(properties|resource_types))?$")

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            db.requests.append(("GET", path, None))
            if path.rstrip("/") in ("", "/v2"):
                host = self.headers.get("Host")
                self._reply(200, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [
                    {"rel": "self", "href": f"http://{host}/v2/"}]}]})
                return
            m = ns_path.match(path)
            if not m:
                self._reply(404, {"message": "not found"})
                return
            from urllib.parse import unquote
            ns, sub = unquote(m.group(1)), m.group(2)
            if ns not in db.namespaces:
                self._reply(404, {"message": f"namespace {ns} not found"})
            elif sub == "properties":
                self._reply(200, {"properties": db.properties[ns]})
            elif sub == "resource_types":
                self._reply(200, {"resource_type_associations": db.associations[ns]})
            else:
                self._reply(200, db.namespaces[ns])

        def do_POST(self) -> None:
            from urllib.parse import unquote
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            path = self.path.split("?", 1)[0]
            db.requests.append(("POST", path, body))
            if path == "/v2/metadefs/namespaces":
                ns = body["namespace"]
                if ns in db.namespaces:
                    self._reply(409, {"message": "exists"})
                    return
                db.namespaces[ns] = body
                db.properties[ns], db.associations[ns] = {}, []
                self._reply(201, body)
                return
            m = ns_path.match(path)
            if not m or unquote(m.group(1)) not in db.namespaces:
                self._reply(404, {"message": "not found"})
                return
            ns = unquote(m.group(1))
            if m.group(2) == "properties":
                db.properties[ns][body["name"]] = body
            else:
                db.associations[ns].append(body)
            self._reply(201, body)

    return Handler


@pytest.fixture
def glance_api() -> Iterator[tuple[str, _Glance]]:
    db = _Glance()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(db))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", db
    finally:
        server.shutdown()
        server.server_close()


def _connect(url: str) -> Any:
    return openstack.connection.Connection(
        auth_type="none", image_endpoint_override=f"{url}/v2")


def test_namespace_created_once(glance_api):
    url, db = glance_api
    conn = _connect(url)
    changes = glance.ensure_namespace(conn)
    assert len(changes) == 5
    ns = db.namespaces[glance.NAMESPACE]
    assert ns["visibility"] == "public" and ns["protected"] is True
    props = db.properties[glance.NAMESPACE]
    assert props["ipa_enroll"]["type"] == "boolean"
    assert props["ipa_hostclass"]["type"] == "string"
    assert sorted(a["name"] for a in db.associations[glance.NAMESPACE]) == [
        "OS::Glance::Image", "OS::Nova::Server"]

    posts = sum(1 for method, *_ in db.requests if method == "POST")
    assert glance.ensure_namespace(_connect(url)) == []
    assert sum(1 for method, *_ in db.requests if method == "POST") == posts


def test_partial_namespace_is_completed(glance_api):
    url, db = glance_api
    db.namespaces[glance.NAMESPACE] = {"namespace": glance.NAMESPACE}
    db.properties[glance.NAMESPACE] = {"ipa_enroll": {"name": "ipa_enroll", "type": "boolean",
                                                      "title": "x"}}
    db.associations[glance.NAMESPACE] = [{"name": "OS::Glance::Image"}]
    changes = glance.ensure_namespace(_connect(url))
    assert changes == ["glance: added property ipa_hostclass",
                       f"glance: associated {glance.NAMESPACE} with OS::Nova::Server"]


def test_unreachable_glance_is_a_clear_error():
    conn = _connect("http://127.0.0.1:9")
    with pytest.raises(glance.GlanceError, match="glance metadefs"):
        glance.ensure_namespace(conn)
