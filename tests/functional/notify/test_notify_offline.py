"""An instance deleted while novajoin-notify is down is cleaned up when it comes back.

The pool queue outlives the listener (it is declared by the first run and
not auto-deleted), so nova's delete.end waits there until a listener
consumes it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from novajoin.testing import notifications as n
from novajoin.testing.novajoin_notify import NovajoinNotify, hosts, wait_for
from novajoin.testing.rabbit import Vhost

WAIT = 20.0


def test_delete_while_stopped_is_handled_at_start(
    fake_ipa: Any, vhost: Vhost, enroll: Callable[..., Any],
    notify: Callable[..., NovajoinNotify],
) -> None:
    deleted, live = enroll(2, "offline")
    listener = notify()
    listener.start()
    assert listener.stop() == 0, listener.log_text()[-2000:]
    queue = vhost.queue("novajoin")
    assert queue is not None and queue.consumers == 0, "the pool queue must outlive the run"

    with n.NovaPublisher(vhost.transport_url) as pub:
        pub.instance_deleted(deleted.instance)
    # Both delete.start and delete.end wait in the queue; IPA is untouched meanwhile.
    wait_for(lambda: (vhost.queue("novajoin") or queue).messages == 2, WAIT,
             "the two delete notifications to wait in the pool queue")
    time.sleep(0.5)
    assert deleted.fqdn in hosts(fake_ipa)

    listener.start()
    wait_for(lambda: deleted.fqdn not in hosts(fake_ipa), WAIT, "the deleted host to go")
    drained = vhost.wait_drained("novajoin", WAIT)
    assert drained.unacked == 0
    assert set(hosts(fake_ipa)) == {live.fqdn}
    assert listener.stop() == 0
    assert "Traceback" not in listener.log_text()
