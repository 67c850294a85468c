"""``novajoin-server``: the vendordata REST service on cheroot's threaded WSGI server.

No eventlet: each request runs in a worker thread (``server_threads``) and
waits for IPA there.  SIGTERM/SIGINT stop accepting, let requests in flight
finish (``server_shutdown_timeout``) and exit 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from cheroot import wsgi
from oslo_log import log as oslo_logging

from novajoin import conf as novajoin_conf
from novajoin.api import deploy
from novajoin.cmd import build_or_report

LOG = logging.getLogger("novajoin.server")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    conf = novajoin_conf.load(args, prog="novajoin-server")
    oslo_logging.setup(conf, "novajoin")
    ctx = build_or_report(LOG, lambda: deploy.build_context(conf))
    app = None if ctx is None else build_or_report(LOG, lambda: deploy.loadapp(ctx))
    if ctx is None or app is None:
        return 2
    server = wsgi.Server(
        (conf.join_listen, conf.join_listen_port),
        app,
        numthreads=conf.server_threads,
        request_queue_size=128,
        shutdown_timeout=conf.server_shutdown_timeout,
        server_name="novajoin",
    )
    stopper: list[threading.Thread] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopper:
            return
        LOG.info("signal %d: shutting down", signum)
        # stop() joins the workers; run it off the main thread, whose serve()
        # loop then returns because the server is no longer ready.
        thread = threading.Thread(target=server.stop, name="novajoin-stop")
        stopper.append(thread)
        thread.start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.prepare()
    except OSError as exc:
        LOG.error("cannot listen on %s:%s: %s", conf.join_listen, conf.join_listen_port,
                  exc.strerror)
        ctx.close()
        return 1
    host, port = server.bind_addr[:2]
    LOG.info("novajoin-server listening on http://%s:%s (auth_strategy=%s, %d threads)",
             host, port, conf.auth_strategy, conf.server_threads)
    try:
        server.serve()
    finally:
        for thread in stopper:
            thread.join()
        server.stop()
        ctx.close()
    LOG.info("novajoin-server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
