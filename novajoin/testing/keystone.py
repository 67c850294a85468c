"""A real Keystone (PyPI ``keystone``) on 127.0.0.1 for tests: SQLite, fernet tokens.

Why a real one: novajoin-server validates tokens with keystonemiddleware, and
only a real Keystone proves that the token nova sends is accepted and that
the policy's roles come out of a real token.

``start_keystone(workdir)`` writes keystone.conf (SQLite, fernet token and
receipt key repositories, credential keys, the test speed-ups: 4 password
hash rounds and an in-memory dogpile cache), runs ``keystone-manage``
db_sync / fernet_setup / credential_setup, starts this module as a
subprocess that serves ``keystone.server.wsgi.initialize_public_application()``
with cheroot on an ephemeral port, and runs ``bootstrap`` (admin user, roles
admin, manager, member, reader, service, the public endpoint) in parallel
with the server's start-up.  Start-up is bounded; a failure raises
:class:`KeystoneStartError` with the tail of the logs.

Run as ``python -m novajoin.testing.keystone --config-dir D --ready-file F``
it is the tiny server wrapper: keystone parses ``sys.argv`` with oslo.config,
so the wrapper clears ``sys.argv[1:]`` before building the application.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 60.0
HOST = "127.0.0.1"
DEFAULT_DOMAIN = "default"
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
ROLES = ("admin", "manager", "member", "reader", "service")


class KeystoneStartError(RuntimeError):
    """Keystone did not come up; the message carries the tail of its logs."""


@dataclass
class Keystone:
    """A running Keystone subprocess and helpers to populate it.

    ``url`` is the identity endpoint (``http://127.0.0.1:P/v3``), which is also
    what ``auth_url`` / ``www_authenticate_uri`` take.
    """

    port: int
    dir: Path
    admin_password: str
    process: subprocess.Popen[bytes] = field(repr=False)
    start_seconds: float = 0.0
    _admin: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/v3"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.dir / "keystone.log"

    def log_tail(self, chars: int = 4000) -> str:
        return _tail(self.dir, chars)

    # -- keystoneauth ---------------------------------------------------------

    def password_auth(
        self, username: str, password: str, project_name: str | None = None
    ) -> Any:
        """A keystoneauth1 v3 Password plugin (project-scoped when a project is given)."""
        from keystoneauth1.identity import v3

        scope: dict[str, str] = {}
        if project_name is not None:
            scope = {"project_name": project_name, "project_domain_id": DEFAULT_DOMAIN}
        return v3.Password(
            auth_url=self.url,
            username=username,
            password=password,
            user_domain_id=DEFAULT_DOMAIN,
            **scope,
        )

    def session(self, username: str, password: str, project_name: str | None = None) -> Any:
        from keystoneauth1 import session

        return session.Session(auth=self.password_auth(username, password, project_name))

    def token(self, username: str, password: str, project_name: str | None = None) -> str:
        """Issue a token for the user (project-scoped if ``project_name``)."""
        return self.session(username, password, project_name).get_token()

    def admin_session(self) -> Any:
        if self._admin is None:
            self._admin = self.session(ADMIN_USER, self.admin_password, ADMIN_PROJECT)
        return self._admin

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.admin_session().request(
            self.url + path, method, raise_exc=True, **kwargs
        )
        return response.json() if response.content else None

    def validate(self, token: str) -> dict[str, Any]:
        """Validate ``token`` as the admin would (GET /v3/auth/tokens); the token body."""
        return self._call("GET", "/auth/tokens", headers={"X-Subject-Token": token})["token"]

    def role_id(self, name: str) -> str:
        roles = self._call("GET", "/roles", params={"name": name})["roles"]
        if not roles:
            raise LookupError(f"no role {name!r}")
        return roles[0]["id"]

    def create_project(self, name: str) -> str:
        """Create (or find) a project in the default domain; its id."""
        found = self._call("GET", "/projects", params={"name": name})["projects"]
        if found:
            return found[0]["id"]
        body = {"project": {"name": name, "domain_id": DEFAULT_DOMAIN, "enabled": True}}
        return self._call("POST", "/projects", json=body)["project"]["id"]

    def create_user(
        self,
        name: str,
        password: str,
        *,
        project: str,
        roles: tuple[str, ...] | list[str] = ("member",),
    ) -> str:
        """Create a user with ``roles`` on ``project`` (a name; created if missing); its id."""
        project_id = self.create_project(project)
        body = {
            "user": {
                "name": name,
                "password": password,
                "domain_id": DEFAULT_DOMAIN,
                "default_project_id": project_id,
                "enabled": True,
            }
        }
        user_id = self._call("POST", "/users", json=body)["user"]["id"]
        for role in roles:
            self._call(
                "PUT", f"/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}"
            )
        return user_id

    # -- lifecycle ------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server by its pid (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> Keystone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tail(workdir: Path, chars: int = 4000) -> str:
    parts = []
    for name in ("manage.log", "server.log", "keystone.log"):
        path = workdir / name
        if path.exists():
            text = path.read_text(errors="replace").strip()
            if text:
                parts.append(f"--- {name} (tail) ---\n{text[-chars:]}")
    return "\n".join(parts) or "(no logs)"


def write_config(workdir: Path) -> Path:
    """Write keystone.conf and the key repository directories; the config path."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("fernet-keys", "receipt-keys", "credential-keys"):
        (workdir / name).mkdir(mode=0o700, exist_ok=True)
    conf = workdir / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"log_file = {workdir / 'keystone.log'}\n"
        "[database]\n"
        f"connection = sqlite:///{workdir / 'keystone.db'}\n"
        "[fernet_tokens]\n"
        f"key_repository = {workdir / 'fernet-keys'}\n"
        "[fernet_receipts]\n"
        f"key_repository = {workdir / 'receipt-keys'}\n"
        "[credential]\n"
        f"key_repository = {workdir / 'credential-keys'}\n"
        "[identity]\n"
        # Tests only: bcrypt at 4 rounds makes token issue ~10x faster.
        "password_hash_rounds = 4\n"
        "[cache]\n"
        "enabled = true\n"
        "backend = dogpile.cache.memory\n"
    )
    return conf


def _manage_argv(conf: Path, *args: str) -> list[str]:
    return [sys.executable, "-W", "ignore", "-c",
            "from keystone.cmd.manage import main; main()",
            "--config-file", str(conf), *args]


# One interpreter for db_sync, fernet_setup and credential_setup (keystone's
# imports take ~2 s per process); CONF.reset() lets cli.main run again.
_PREPARE = """
import sys
from keystone.cmd import cli
conf, user, group = sys.argv[1:4]
owner = ['--keystone-user', user, '--keystone-group', group]
for args in (['db_sync'], ['fernet_setup', *owner], ['credential_setup', *owner]):
    cli.CONF.reset()
    cli.main(argv=['keystone-manage', '--config-file', conf, *args])
"""


def start_keystone(workdir: Path, *, timeout: float = START_TIMEOUT) -> Keystone:
    """Create a fresh Keystone in ``workdir`` and start it on 127.0.0.1 (ephemeral port)."""
    started = time.monotonic()
    deadline = started + timeout
    workdir = Path(workdir)
    conf = write_config(workdir)
    with open(workdir / "manage.log", "ab") as log:
        try:
            prep = subprocess.run(
                [sys.executable, "-W", "ignore", "-c", _PREPARE, str(conf),
                 str(os.getuid()), str(os.getgid())],
                stdout=log, stderr=log, timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KeystoneStartError(f"keystone db_sync timed out\n{_tail(workdir)}") from exc
    if prep.returncode != 0:
        raise KeystoneStartError(
            f"keystone db_sync/fernet_setup/credential_setup failed\n{_tail(workdir)}"
        )

    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "OS_KEYSTONE_CONFIG_DIR": str(workdir), "PYTHONWARNINGS": "ignore"}
    with open(workdir / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "novajoin.testing.keystone",
             "--config-dir", str(workdir), "--ready-file", str(ready)],
            stdout=log, stderr=log, env=env, start_new_session=True,
        )
    admin_password = secrets.token_urlsafe(18)
    keystone = Keystone(port=0, dir=workdir, admin_password=admin_password, process=proc)
    try:
        port = _wait_for(ready, proc, workdir, deadline, key="port")
        keystone.port = port
        # Bootstrap while the server imports keystone; the password goes by
        # environment, never by argument.
        with open(workdir / "manage.log", "ab") as log:
            boot = subprocess.Popen(
                _manage_argv(conf, "bootstrap",
                             "--bootstrap-username", ADMIN_USER,
                             "--bootstrap-project-name", ADMIN_PROJECT,
                             "--bootstrap-role-name", "admin",
                             "--bootstrap-region-id", "RegionOne",
                             "--bootstrap-public-url", keystone.url,
                             "--bootstrap-internal-url", keystone.url,
                             "--bootstrap-admin-url", keystone.url),
                stdout=log, stderr=log,
                env={**env, "OS_BOOTSTRAP_PASSWORD": admin_password},
            )
        try:
            rc = boot.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            boot.kill()
            boot.wait()
            raise KeystoneStartError(f"keystone bootstrap timed out\n{_tail(workdir)}") from exc
        if rc != 0:
            raise KeystoneStartError(f"keystone bootstrap failed ({rc})\n{_tail(workdir)}")
        _wait_for(ready, proc, workdir, deadline, key="serving")
        _wait_http(keystone, deadline)
    except BaseException:
        keystone.stop()
        raise
    keystone.start_seconds = time.monotonic() - started
    return keystone


def _wait_for(ready: Path, proc: subprocess.Popen[bytes], workdir: Path,
              deadline: float, *, key: str) -> Any:
    while True:
        if ready.exists():
            try:
                info = json.loads(ready.read_text())
            except ValueError:
                info = {}
            if key in info:
                return info[key]
        if proc.poll() is not None:
            raise KeystoneStartError(f"keystone exited ({proc.returncode})\n{_tail(workdir)}")
        if time.monotonic() > deadline:
            raise KeystoneStartError(f"keystone did not start in time\n{_tail(workdir)}")
        time.sleep(0.02)


def _wait_http(keystone: Keystone, deadline: float) -> None:
    last: object = None
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if keystone.process.poll() is not None:
                break
            try:
                response = client.get(keystone.url)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.05)
    raise KeystoneStartError(f"keystone not answering ({last})\n{keystone.log_tail()}")


# -- one Keystone per test session ---------------------------------------------

_SHARED: Keystone | None = None
_SHARED_LOCK = threading.Lock()


def shared_keystone(request: Any, tmp_path_factory: Any) -> Keystone:
    """Body of a session-scoped pytest fixture: one Keystone for the whole session.

    Several test modules may each declare a session fixture calling this; the
    first starts Keystone and registers its stop on the session, the others
    get the same instance.
    """
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is not None and _SHARED.process.poll() is None:
            return _SHARED
        keystone = start_keystone(tmp_path_factory.mktemp("keystone"))
        _SHARED = keystone

    def stop() -> None:
        global _SHARED
        keystone.stop()
        with _SHARED_LOCK:
            if _SHARED is keystone:
                _SHARED = None

    # A session-scoped fixture's finalizer runs at the end of the session.
    request.addfinalizer(stop)
    return keystone


# -- the server wrapper (subprocess) ------------------------------------------


def _write_ready(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="novajoin.testing.keystone")
    parser.add_argument("--config-dir", required=True)
    parser.add_argument("--ready-file", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    # keystone feeds sys.argv to oslo.config; our arguments would kill it.
    sys.argv[1:] = []
    os.environ["OS_KEYSTONE_CONFIG_DIR"] = args.config_dir

    from cheroot import wsgi

    def not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting\n"]

    # Bind first so the port is known (bootstrap needs it) while keystone loads.
    server = wsgi.Server((HOST, 0), not_ready, numthreads=args.threads,
                         request_queue_size=128)
    server.prepare()
    port = server.bind_addr[1]
    _write_ready(args.ready_file, {"port": port, "pid": os.getpid()})

    from keystone.server import wsgi as keystone_wsgi

    server.wsgi_app = keystone_wsgi.initialize_public_application()

    def on_term(signum: int, frame: object) -> None:
        # Unwind serve() in the main thread; stop() below joins the workers.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    _write_ready(args.ready_file, {"port": port, "pid": os.getpid(), "serving": True})
    try:
        server.serve()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve(sys.argv[1:]))
