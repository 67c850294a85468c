"""The delivery policy: when a notification is acked, retried, requeued or dropped.

oslo.messaging alone offers two wrong answers (LAB-FACTS): an endpoint
exception either acks and loses the message, or, with ``allow_requeue``,
requeues it at once, every few milliseconds, forever.  ``Delivery.deliver``
never raises and returns HANDLED (ack) or REQUEUE:

* success — ack after the domain layer returned, i.e. after IPA confirmed
  (NotFound on a delete is a success there).
* ``IPAUnavailable`` (transient) — retry in-process with exponential backoff
  and jitter (``initial`` doubling up to ``maximum``) for at most ``window``
  seconds; then sleep ``requeue_delay`` and REQUEUE.  A message therefore
  comes back at most once per ``window + requeue_delay`` per consumer
  thread, and is never dropped for being transient.
* ``Poison`` (unreadable payload, unknown version, missing field) and
  ``IPACommandFailed`` (IPA refused; retrying cannot fix it) — one WARNING
  naming the message id, counted as poison, ack.
* any other exception (a bug) — traceback logged the first time for that
  message id, one line after; sleep ``requeue_delay`` and REQUEUE; after
  ``max_error_redeliveries`` requeues of the same message id in this process,
  one ERROR and ack (counted as poison): a bug neither hot-loops nor drops
  silently.

While the listener stops, pending sleeps end at once and the message is
requeued, so SIGTERM is not held up by an IPA outage.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oslo_messaging import NotificationResult

from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.notify import metrics as m
from novajoin.notify.payloads import Poison

LOG = logging.getLogger("novajoin.notify")

HANDLED = NotificationResult.HANDLED
REQUEUE = NotificationResult.REQUEUE

# Message ids whose unexpected failures are remembered (oldest forgotten first).
_MAX_TRACKED = 10_000


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 0.5
    maximum: float = 10.0
    window: float = 60.0
    requeue_delay: float = 5.0
    max_error_redeliveries: int = 5

    @classmethod
    def from_conf(cls, group: Any) -> RetryPolicy:
        return cls(initial=group.retry_initial, maximum=group.retry_max,
                   window=group.retry_window, requeue_delay=group.requeue_delay,
                   max_error_redeliveries=group.max_error_redeliveries)

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Delay before retry number ``attempt`` (1-based): half fixed, half jitter."""
        base = min(self.maximum, self.initial * (2 ** (attempt - 1)))
        return base / 2 + rand() * base / 2


class Delivery:
    """Applies a RetryPolicy to one unit of work per notification (thread-safe)."""

    def __init__(
        self,
        policy: RetryPolicy,
        metrics: m.Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], bool] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.metrics = metrics
        self._clock = clock
        self._stopping = threading.Event()
        # sleep(seconds) -> True when woken because the listener is stopping.
        self._sleep = sleep or self._stopping.wait
        self._rand = rand
        self._errors: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """End retry sleeps now: in-flight messages are requeued for another consumer."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def deliver(self, event_type: str, message_id: str, work: Callable[[], Any]) -> str:
        """Run ``work`` under the policy; HANDLED (ack) or REQUEUE.  Never raises."""
        start = self._clock()
        try:
            return self._deliver(event_type, message_id, work, start)
        finally:
            self.metrics.observe(event_type, self._clock() - start)

    def _deliver(
        self, event_type: str, message_id: str, work: Callable[[], Any], start: float
    ) -> str:
        attempt = 0
        while True:
            # Log outside the except blocks: oslo.log appends the exception in
            # flight to every line, and these outcomes need no traceback.
            failure: Exception | None = None
            try:
                outcome = work()
            except (Poison, IPAUnavailable) as exc:
                failure = exc
            except Exception:
                return self._unexpected(event_type, message_id)
            if failure is None:
                return self._success(event_type, message_id, outcome)
            if isinstance(failure, Poison):
                LOG.warning("poison notification %s (%s) dropped: %s", message_id, event_type,
                            failure)
                return self._ack(event_type, message_id, m.POISON)
            if isinstance(failure, IPACommandFailed):
                LOG.warning("notification %s (%s) dropped: IPA refused it (%s): %s",
                            message_id, event_type, failure.ipa_error or "error", failure)
                return self._ack(event_type, message_id, m.POISON)
            attempt += 1
            delay = self.policy.backoff(attempt, self._rand)
            elapsed = self._clock() - start
            if self.stopping or elapsed + delay > self.policy.window:
                LOG.warning("notification %s (%s): IPA unavailable after %d attempt(s) in "
                            "%.1f s (%s); requeued", message_id, event_type, attempt,
                            elapsed, failure)
                return self._requeue(event_type)
            LOG.debug("notification %s (%s): IPA unavailable (%s); retry %d in %.2f s",
                      message_id, event_type, failure, attempt, delay)
            if self._sleep(delay):
                return self._requeue(event_type)

    def _success(self, event_type: str, message_id: str, outcome: Any) -> str:
        if outcome is None:
            result = m.IGNORED
        elif getattr(outcome, "changed", False):
            result = m.DONE
        else:
            result = m.NOOP
        LOG.debug("notification %s (%s): %s %s", message_id, event_type, result,
                  getattr(outcome, "detail", ""))
        return self._ack(event_type, message_id, result)

    def _ack(self, event_type: str, message_id: str, outcome: str) -> str:
        with self._lock:
            self._errors.pop(message_id, None)
        self.metrics.count(event_type, outcome)
        return HANDLED

    def _requeue(self, event_type: str) -> str:
        if not self.stopping:
            self._sleep(self.policy.requeue_delay)
        self.metrics.count(event_type, m.REQUEUED)
        return REQUEUE

    def _unexpected(self, event_type: str, message_id: str) -> str:
        with self._lock:
            failures = self._errors.pop(message_id, 0) + 1
            self._errors[message_id] = failures
            while len(self._errors) > _MAX_TRACKED:
                self._errors.popitem(last=False)
        limit = self.policy.max_error_redeliveries
        if failures > limit:
            log = LOG.exception if failures == 1 else LOG.error
            log("notification %s (%s) dropped: handling failed %d times with an "
                      "unexpected error", message_id, event_type, failures)
            return self._ack(event_type, message_id, m.POISON)
        if failures == 1:
            LOG.exception("notification %s (%s): unexpected error; requeued (dropped after %d "
                          "more failures)", message_id, event_type, limit)
        else:
            LOG.warning("notification %s (%s): unexpected error again (%d); requeued",
                        message_id, event_type, failures)
        return self._requeue(event_type)
