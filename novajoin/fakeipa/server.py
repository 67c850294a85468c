"""FakeIPAServer: the simulator's HTTPS listener plus its admin listener.

The stdlib threaded server is enough for hundreds of concurrent clients when
it is set up like a real one: a deep accept backlog, TCP_NODELAY, the TLS
handshake in the connection's own thread (a slow or broken client must not
stall the accept loop) and an idle timeout on kept-alive connections, as
Apache's KeepAliveTimeout (clients must cope with the server closing an
idle pooled connection).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from novajoin.fakeipa.admin import AdminHandler
from novajoin.fakeipa.http import IPAApp, IPARequestHandler
from novajoin.fakeipa.negotiate import Acceptor
from novajoin.fakeipa.sessions import DEFAULT_SESSION_TIMEOUT, SessionStore
from novajoin.fakeipa.tls import ensure_certificates, server_context

LOG = logging.getLogger(__name__)

DEFAULT_KEEPALIVE_TIMEOUT = 5.0
HANDSHAKE_TIMEOUT = 10.0
_LOOPBACK = ("127.0.0.1", "localhost")


class _Server(ThreadingHTTPServer):
    """Threaded HTTP(S) server tracking its connections for a clean stop."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ssl_context = ssl_context
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        conn = request
        try:
            if self.ssl_context is not None:
                request.settimeout(HANDSHAKE_TIMEOUT)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            with self._conns_lock:
                self._conns.add(conn)
            self.finish_request(conn, client_address)
        except (OSError, ssl.SSLError) as exc:
            LOG.debug("connection from %s ended: %s", client_address[0], exc)
        except Exception:
            LOG.exception("connection from %s failed", client_address[0])
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            self._close(conn)

    @staticmethod
    def _close(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        LOG.debug("error on connection from %s", client_address[0], exc_info=True)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def _check_loopback(host: str) -> None:
    if host not in _LOOPBACK and not host.startswith("127."):
        raise ValueError(f"the simulator listens on loopback only, not {host!r}")


class FakeIPAServer:
    """An IPA simulator on 127.0.0.1: ``with FakeIPAServer(...) as ipa: ipa.url``.

    Attributes once started: ``url`` (``https://127.0.0.1:PORT/ipa``),
    ``base_url``, ``admin_url``, ``ca_file``, ``port``, ``admin_port``,
    ``app`` (shared state: engine, sessions, call log, faults).
    """

    def __init__(
        self,
        *,
        keytab: Path | str,
        realm: str = "EXAMPLE.TEST",
        domain: str | None = None,
        fqdn: str | None = None,
        state_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_host: str = "127.0.0.1",
        admin_port: int = 0,
        insecure_http: bool = False,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        engine: Any = None,
    ) -> None:
        _check_loopback(host)
        _check_loopback(admin_host)
        self.realm = realm
        self.domain = domain or realm.lower()
        self.fqdn = fqdn or f"ipa.{self.domain}"
        self.keytab = Path(keytab)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fake-ipa-")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir)
        self.host, self.requested_port = host, port
        self.admin_host, self.requested_admin_port = admin_host, admin_port
        self.insecure_http = insecure_http
        self.keepalive_timeout = keepalive_timeout
        self.session_timeout = session_timeout
        self._engine = engine
        self.app: IPAApp | None = None
        self.ca_file: Path | None = None
        self._server: _Server | None = None
        self._admin: _Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> FakeIPAServer:
        if self._server is not None:
            return self
        engine = self._engine
        if engine is None:
            from novajoin.fakeipa.engine import Engine

            engine = Engine(realm=self.realm, domain=self.domain, server_fqdn=self.fqdn)
        acceptor = Acceptor(self.keytab)
        self.app = IPAApp(
            engine=engine,
            acceptor=acceptor,
            fqdn=self.fqdn,
            realm=self.realm,
            secure=not self.insecure_http,
            sessions=SessionStore(self.session_timeout),
        )
        ctx = None
        if not self.insecure_http:
            certs = ensure_certificates(self.state_dir, self.fqdn, self.realm)
            self.ca_file = certs.ca_file
            ctx = server_context(certs)
        handler = type(
            "BoundIPARequestHandler",
            (IPARequestHandler,),
            {"app": self.app, "timeout": self.keepalive_timeout},
        )
        admin_handler = type("BoundAdminHandler", (AdminHandler,), {"app": self.app})
        self._server = _Server((self.host, self.requested_port), handler, ctx)
        try:
            self._admin = _Server((self.admin_host, self.requested_admin_port), admin_handler)
        except OSError:
            self._server.server_close()
            self._server = None
            raise
        for name, srv in (("fake-ipa", self._server), ("fake-ipa-admin", self._admin)):
            thread = threading.Thread(
                target=srv.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        LOG.info("fake IPA %s listening on %s (admin %s)", self.fqdn, self.url, self.admin_url)
        return self

    def stop(self) -> None:
        for srv in (self._server, self._admin):
            if srv is not None:
                srv.shutdown()
                srv.close_connections()
                srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._server = self._admin = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeIPAServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_address[1]

    @property
    def admin_port(self) -> int:
        if self._admin is None:
            raise RuntimeError("server not started")
        return self._admin.server_address[1]

    @property
    def scheme(self) -> str:
        return "http" if self.insecure_http else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/ipa"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def describe(self) -> dict[str, Any]:
        """What the CLI prints and writes to the ready file."""
        return {
            "url": self.url,
            "admin_url": self.admin_url,
            "ca_file": str(self.ca_file) if self.ca_file else None,
            "port": self.port,
            "admin_port": self.admin_port,
            "fqdn": self.fqdn,
            "realm": self.realm,
            "domain": self.domain,
        }
