"""``novajoin-fake-ipa``: run the IPA simulator (HTTPS JSON-RPC + admin API).

Once both listeners are up it prints one JSON line (url, admin_url,
ca_file, pid, ...) on stdout and, with ``--ready-file``, writes the same
JSON there (atomically), so scripts and test fixtures know where to
connect.  ``--lab DIR`` starts a throwaway Kerberos realm first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from novajoin.fakeipa.server import DEFAULT_KEEPALIVE_TIMEOUT, FakeIPAServer
from novajoin.fakeipa.sessions import DEFAULT_SESSION_TIMEOUT

LOG = logging.getLogger("novajoin.fake_ipa")


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {value!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"bad port in {value!r}")
    if host != "localhost" and not host.startswith("127."):
        raise argparse.ArgumentTypeError("the simulator listens on 127.0.0.1 only")
    return host, number


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="novajoin-fake-ipa",
        description="FreeIPA simulator: strict JSON-RPC over HTTPS with Kerberos login.",
    )
    p.add_argument("--listen", type=_address, default=("127.0.0.1", 0),
                   help="HOST:PORT of the IPA endpoint (default 127.0.0.1:0 = any free port)")
    p.add_argument("--admin-listen", type=_address, default=("127.0.0.1", 0),
                   help="HOST:PORT of the admin API (default 127.0.0.1:0)")
    p.add_argument("--realm", help="Kerberos realm (default EXAMPLE.TEST or the lab's)")
    p.add_argument("--domain", help="DNS domain (default: realm in lower case)")
    p.add_argument("--fqdn", help="IPA server name (default ipa.<domain> or the lab's)")
    p.add_argument("--keytab", type=Path, help="keytab of HTTP/<fqdn> (acceptor)")
    p.add_argument("--lab", type=Path, metavar="DIR",
                   help="create and start a throwaway KDC in DIR and use its HTTP keytab")
    p.add_argument("--state-dir", type=Path,
                   help="where certificates are kept (default: a temporary directory)")
    p.add_argument("--insecure-http", action="store_true",
                   help="serve plain HTTP (the ipa_session cookie is then not Secure)")
    p.add_argument("--keepalive-timeout", type=_positive, default=DEFAULT_KEEPALIVE_TIMEOUT,
                   help="seconds an idle kept-alive connection stays open (default 5)")
    p.add_argument("--session-timeout", type=_positive, default=DEFAULT_SESSION_TIMEOUT,
                   help="session inactivity timeout in seconds (default 1200)")
    p.add_argument("--ready-file", type=Path,
                   help="write the connection details as JSON here once listening")
    p.add_argument("--log-level", default="INFO",
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def _write_ready(path: Path, info: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    lab = None
    if args.lab is not None:
        from novajoin.testing.krb5lab import start_lab

        lab = start_lab(args.lab)
        os.environ.update(lab.env())
        LOG.info("Kerberos lab %s running on 127.0.0.1:%d", lab.realm, lab.kdc_port)
    elif args.keytab is None:
        build_parser().error("--keytab (or --lab) is required")

    realm = args.realm or (lab.realm if lab else "EXAMPLE.TEST")
    domain = args.domain or realm.lower()
    fqdn = args.fqdn or (lab.ipa_fqdn if lab else f"ipa.{domain}")
    keytab = args.keytab or (lab.http_keytab if lab else None)

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        LOG.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    server = FakeIPAServer(
        keytab=keytab,
        realm=realm,
        domain=domain,
        fqdn=fqdn,
        state_dir=args.state_dir,
        host=args.listen[0],
        port=args.listen[1],
        admin_host=args.admin_listen[0],
        admin_port=args.admin_listen[1],
        insecure_http=args.insecure_http,
        keepalive_timeout=args.keepalive_timeout,
        session_timeout=args.session_timeout,
    )
    try:
        server.start()
        info = {**server.describe(), "pid": os.getpid()}
        if lab is not None:
            info["lab"] = str(lab.dir)
        if args.ready_file is not None:
            _write_ready(args.ready_file, info)
        print(json.dumps(info), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        if lab is not None:
            lab.stop()
        if args.ready_file is not None:
            args.ready_file.unlink(missing_ok=True)
        LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
