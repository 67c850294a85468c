"""``novajoin-notify``: keep IPA in step with nova and neutron notifications.

Reads the same join.conf as novajoin-server (IPA url, keytab, principal,
domain, ...) plus oslo.messaging's ``transport_url`` and the ``[notify]``
group.  SIGTERM/SIGINT: stop consuming, let messages in flight finish
(retry sleeps are cut short and their messages requeued), exit 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from oslo_log import log as oslo_logging

from novajoin import conf as novajoin_conf
from novajoin.cmd import build_or_report

LOG = logging.getLogger("novajoin.notify")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    conf = novajoin_conf.load(args, prog="novajoin-notify")
    oslo_logging.setup(conf, "novajoin")
    from novajoin.notify import listener

    service = build_or_report(LOG, lambda: listener.build_service(conf))
    if service is None:
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            LOG.info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        service.start()
        while not stop.wait(1.0):
            pass
        service.stop()
        service.wait()
    finally:
        service.close()
    LOG.info("novajoin-notify stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
