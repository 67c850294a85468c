"""The real RabbitMQ on 127.0.0.1:5672 for tests: make sure it runs, give each test a vhost.

::

    ensure_rabbitmq()
    with Vhost() as vhost:
        url = transport_url(vhost.name)          # rabbit://guest:guest@127.0.0.1:5672/<vhost>
        ...
        assert vhost.queue("novajoin").messages == 0

A throwaway vhost per test isolates exchanges and queues completely (a queue
left by one test never receives another test's messages) and is cheap
(``rabbitmqctl`` takes ~0.4 s per call).  The vhost is deleted at the end,
which removes everything in it.  ``rabbitmqctl`` needs root (or the rabbitmq
user's Erlang cookie); every call is bounded in time.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

HOST = "127.0.0.1"
PORT = 5672
USER = "guest"
PASSWORD = "guest"  # noqa: S105 - the lab broker's well-known account, loopback only
START_TIMEOUT = 60.0
CTL_TIMEOUT = 30.0


class RabbitUnavailable(RuntimeError):
    """RabbitMQ is not answering and could not be started."""


def answers(host: str = HOST, port: int = PORT, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on the AMQP port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_rabbitmq(timeout: float = START_TIMEOUT) -> None:
    """Start ``rabbitmq-server -detached`` unless the broker already answers; wait for it."""
    if answers():
        return
    server = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    try:
        subprocess.run([server, "-detached"], check=False, timeout=CTL_TIMEOUT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RabbitUnavailable(f"cannot start rabbitmq-server: {exc}") from None
    deadline = time.monotonic() + timeout
    while not answers():
        if time.monotonic() > deadline:
            raise RabbitUnavailable(
                f"RabbitMQ did not answer on {HOST}:{PORT} within {timeout:g} s")
        time.sleep(0.5)
    # The port opens a moment before the broker accepts vhost commands.
    while _ctl("await_startup", check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RabbitUnavailable("RabbitMQ did not finish starting")
        time.sleep(0.5)


def _ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    result = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=CTL_TIMEOUT)
    if check and result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result


def transport_url(vhost: str, host: str = HOST, port: int = PORT) -> str:
    """oslo.messaging transport URL of ``vhost`` (the name is URL-quoted)."""
    quoted = urllib.parse.quote(vhost, safe="")
    return f"rabbit://{USER}:{PASSWORD}@{host}:{port}/{quoted}"


@dataclass(frozen=True)
class QueueStats:
    """What ``rabbitmqctl list_queues`` says about one queue."""

    name: str
    messages: int  # ready + unacknowledged
    unacked: int
    consumers: int

    @property
    def ready(self) -> int:
        return self.messages - self.unacked


class Vhost:
    """A throwaway vhost ``novajoin-test-<random>`` with full permissions for guest."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"novajoin-test-{secrets.token_hex(4)}"
        self.created = False

    @property
    def transport_url(self) -> str:
        return transport_url(self.name)

    def create(self) -> Vhost:
        _ctl("add_vhost", self.name)
        self.created = True
        _ctl("set_permissions", "-p", self.name, USER, ".*", ".*", ".*")
        return self

    def delete(self) -> None:
        if self.created:
            _ctl("delete_vhost", self.name, check=False)
            self.created = False

    def __enter__(self) -> Vhost:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def queues(self) -> dict[str, QueueStats]:
        """Every queue of the vhost with its message, unacked and consumer counts."""
        out = _ctl("list_queues", "-p", self.name, "name", "messages",
                   "messages_unacknowledged", "consumers", "--no-table-headers", "-q").stdout
        stats: dict[str, QueueStats] = {}
        for line in out.splitlines():
            fields = line.split()
            if len(fields) != 4:
                continue
            name, messages, unacked, consumers = fields
            stats[name] = QueueStats(name, int(messages), int(unacked), int(consumers))
        return stats

    def queue(self, name: str) -> QueueStats | None:
        return self.queues().get(name)

    def bindings(self) -> set[tuple[str, str, str]]:
        """(exchange, queue, routing key) of every queue binding (default exchange excluded)."""
        out = _ctl("list_bindings", "-p", self.name, "source_name", "destination_name",
                   "routing_key", "--no-table-headers", "-q").stdout
        found: set[tuple[str, str, str]] = set()
        for line in out.splitlines():
            fields = line.split("\t")
            if len(fields) == 3 and fields[0]:
                found.add((fields[0], fields[1], fields[2]))
        return found

    def wait_drained(self, queue: str, timeout: float, *, poll: float = 0.5) -> QueueStats:
        """Wait until ``queue`` exists and holds no message (ready or unacked); return its stats.

        Raises AssertionError with the last stats on timeout.
        """
        deadline = time.monotonic() + timeout
        last: QueueStats | None = None
        while True:
            last = self.queue(queue)
            if last is not None and last.messages == 0:
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"queue {queue!r} not drained after {timeout:g} s: {last}")
            time.sleep(poll)
