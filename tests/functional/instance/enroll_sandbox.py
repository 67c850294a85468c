"""A sandbox for novajoin-enroll.sh: fake tools on PATH, a metadata server, a config drive.

Nothing outside ``tmp_path`` is touched: the script's IPA paths, log file and
temporary directory are redirected through its ``NOVAJOIN_*`` variables, and
``ipa-client-install`` and ``logger`` are fakes that record what they were given.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "novajoin" / "install" / "data" / "novajoin-enroll.sh"

FAKE_IPA_CLIENT_INSTALL = """#!/bin/sh
# Records its arguments, one per line, like the real one would receive them.
for arg in "$@"; do printf '%s\\n' "$arg"; done > "$FAKE_IPA_ARGS"
echo "fake ipa-client-install: configured"
exit "${FAKE_IPA_RC:-0}"
"""

FAKE_LOGGER = """#!/bin/sh
# Stands in for syslog: appends what would be logged.
printf '%s\\n' "$*" >> "$FAKE_SYSLOG"
"""

OTP = "Zq7Xk2mPw9Rt4Vb8Nc3Hd6Jf5Lg2Ys7A"


def answer(**join: Any) -> dict[str, Any]:
    """A vendor_data2.json document with ``join`` and an unrelated target."""
    return {"other-target": {"ipaotp": "NOT-THIS-ONE", "nested": {"hostname": "x"}},
            "join": join}


def otp_answer(otp: str = OTP) -> dict[str, Any]:
    return answer(hostname="vm1.example.test", ipaotp=otp, krb_realm="EXAMPLE.TEST",
                  ipa_domain="example.test", ipa_server="ipa.example.test")


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    log: str
    syslog: str
    ipa_args: list[str] | None

    @property
    def everything(self) -> str:
        """All the script's output channels, to search for secrets."""
        return "\n".join((self.stdout, self.stderr, self.log, self.syslog))


# One HTTP answer: (status, body) or "drop" to close the connection unanswered.
Reply = tuple[int, Any] | str


@dataclass
class MetadataServer:
    """Serves scripted replies per path on 127.0.0.1; records every request."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    default: dict[str, Reply] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def vendor_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openstack/latest/vendor_data2.json"

    def next_reply(self, path: str) -> Reply:
        self.hits.append(path)
        queue = self.replies.get(path)
        if queue:
            return queue.pop(0)
        return self.default.get(path, (404, {"error": "not found"}))


@contextmanager
def metadata_server() -> Iterator[MetadataServer]:
    state = MetadataServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = state.next_reply(self.path)
            if reply == "drop":
                self.close_connection = True
                self.connection.close()
                return
            assert isinstance(reply, tuple)
            status, body = reply
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Sandbox:
    """The script's world under ``root``; ``run()`` executes it there."""

    def __init__(self, root: Path, shell: list[str] | None = None,
                 awk: str | None = None) -> None:
        self.root = root
        self.shell = shell or ["sh"]
        self.bin = root / "bin"
        self.bin.mkdir()
        self._tool("ipa-client-install", FAKE_IPA_CLIENT_INSTALL)
        self._tool("logger", FAKE_LOGGER)
        if awk:
            (self.bin / "awk").symlink_to(awk)
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        self.config_drive = root / "config-drive"
        self.ipa_args = root / "ipa-args"
        self.default_conf = root / "etc" / "ipa" / "default.conf"
        self.sysrestore = root / "var" / "lib" / "ipa-client" / "sysrestore"
        self.log = root / "enroll.log"
        self.syslog = root / "syslog"
        self.env: dict[str, str] = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.tmp),
            "FAKE_IPA_ARGS": str(self.ipa_args),
            "FAKE_SYSLOG": str(self.syslog),
            "NOVAJOIN_REQUIRE_ROOT": "0",
            "NOVAJOIN_INSTALL_CLIENT": "0",
            "NOVAJOIN_IPA_DEFAULT_CONF": str(self.default_conf),
            "NOVAJOIN_IPA_SYSRESTORE": str(self.sysrestore),
            "NOVAJOIN_LOG_FILE": str(self.log),
            # No config drive unless a test writes one (no device is probed).
            "NOVAJOIN_CONFIG_DRIVE_DIR": str(self.config_drive),
            # Nothing listens on port 9 (discard): a metadata read fails fast.
            "NOVAJOIN_METADATA_URL": "http://127.0.0.1:9/openstack/latest/vendor_data2.json",
            "NOVAJOIN_ATTEMPTS": "5",
            "NOVAJOIN_RETRY_MAX_SLEEP": "0",
            "NOVAJOIN_HTTP_TIMEOUT": "3",
        }

    def _tool(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)

    def write_config_drive(self, vendor_data2: Any, meta_data: Any | None = None) -> None:
        latest = self.config_drive / "openstack" / "latest"
        latest.mkdir(parents=True, exist_ok=True)
        text = vendor_data2 if isinstance(vendor_data2, str) else json.dumps(vendor_data2)
        (latest / "vendor_data2.json").write_text(text)
        if meta_data is not None:
            (latest / "meta_data.json").write_text(json.dumps(meta_data))

    def use_metadata_server(self, server: MetadataServer) -> None:
        self.env["NOVAJOIN_METADATA_URL"] = server.vendor_url

    def run(self, *args: str, timeout: float = 60) -> Result:
        proc = subprocess.run(
            [*self.shell, str(SCRIPT), *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
        ipa_args = self.ipa_args.read_text().splitlines() if self.ipa_args.exists() else None
        return Result(
            rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
            log=self.log.read_text() if self.log.exists() else "",
            syslog=self.syslog.read_text() if self.syslog.exists() else "",
            ipa_args=ipa_args,
        )

    def leftovers(self) -> list[Path]:
        """Whatever the script left in its TMPDIR (it must clean up)."""
        return sorted(self.tmp.rglob("*"))


def shells() -> list[list[str]]:
    """POSIX shells present here to run the script with (dash catches bashisms)."""
    found = [[path] for name in ("dash", "bash") if (path := shutil.which(name))]
    if busybox := shutil.which("busybox"):
        found.append([busybox, "sh"])
    return found or [["sh"]]


def awks() -> list[str]:
    """awk implementations present here (the script must work with each)."""
    return [path for name in ("mawk", "gawk", "original-awk", "busybox")
            if (path := shutil.which(name))]
