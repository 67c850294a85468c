"""The delivery policy under a fake clock: bounded retries, requeue, poison once, ack."""

from __future__ import annotations

import logging

import pytest
from notify_fakes import FakeOutcome

from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.notify import metrics as m
from novajoin.notify.delivery import HANDLED, REQUEUE, Delivery, RetryPolicy
from novajoin.notify.payloads import Poison

EVENT = "instance.delete.end"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.sleeps.append(seconds)
        self.now += seconds
        return False


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make(fake_time, **policy):
    metrics = m.Metrics()
    policy.setdefault("initial", 1.0)
    policy.setdefault("maximum", 8.0)
    policy.setdefault("window", 30.0)
    policy.setdefault("requeue_delay", 5.0)
    policy.setdefault("max_error_redeliveries", 2)
    delivery = Delivery(RetryPolicy(**policy), metrics, clock=fake_time.clock,
                        sleep=fake_time.sleep, rand=lambda: 1.0)
    return delivery, metrics


def failing(times, exc, result=None):
    calls = {"n": 0}

    def work():
        calls["n"] += 1
        if calls["n"] <= times:
            raise exc
        return result or FakeOutcome("deleted")

    return work, calls


def test_success_acks_once_counted(fake_time):
    delivery, metrics = make(fake_time)
    assert delivery.deliver(EVENT, "m1", lambda: FakeOutcome("deleted")) == HANDLED
    assert delivery.deliver(EVENT, "m2", lambda: FakeOutcome("deleted", changed=False)) == HANDLED
    assert delivery.deliver(EVENT, "m3", lambda: None) == HANDLED
    assert (metrics.value(EVENT, m.DONE), metrics.value(EVENT, m.NOOP),
            metrics.value(EVENT, m.IGNORED)) == (1, 1, 1)
    assert fake_time.sleeps == []
    assert metrics.registry.get_sample_value("novajoin_notification_seconds_count",
                                             {"event_type": EVENT}) == 3


def test_transient_retried_with_backoff_then_acked(fake_time):
    delivery, metrics = make(fake_time)
    work, calls = failing(3, IPAUnavailable("down"))
    assert delivery.deliver(EVENT, "m1", work) == HANDLED
    assert calls["n"] == 4
    assert fake_time.sleeps == [1.0, 2.0, 4.0]  # doubling (jitter pinned to its top)
    assert metrics.value(EVENT, m.DONE) == 1
    assert metrics.value(EVENT, m.REQUEUED) == 0


def test_transient_past_window_sleeps_then_requeues(fake_time, caplog):
    caplog.set_level(logging.WARNING, "novajoin.notify")
    delivery, metrics = make(fake_time)
    work, calls = failing(10**6, IPAUnavailable("down"))
    start = fake_time.now
    assert delivery.deliver(EVENT, "m1", work) == REQUEUE
    # 1+2+4+8+8 = 23 s of backoff; the next 8 s would pass the 30 s window.
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 5.0]
    assert calls["n"] == 6
    assert fake_time.now - start <= 30.0 + 5.0
    assert metrics.value(EVENT, m.REQUEUED) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "m1" in warnings[0].getMessage()


def test_redeliveries_bounded_during_outage(fake_time):
    """A 30 s outage: each delivery holds the message >= window, so few redeliveries."""
    delivery, metrics = make(fake_time, window=20.0)
    outage_ends = fake_time.now + 30.0

    def work():
        if fake_time.now < outage_ends:
            raise IPAUnavailable("down")
        return FakeOutcome("deleted")

    deliveries = 0
    result = REQUEUE
    while result == REQUEUE:
        deliveries += 1
        assert deliveries < 10
        result = delivery.deliver(EVENT, "m1", work)
    assert deliveries == 2
    assert metrics.value(EVENT, m.DONE) == 1


def test_jitter_stays_within_half_and_full_delay():
    policy = RetryPolicy(initial=1.0, maximum=8.0)
    assert policy.backoff(1, lambda: 0.0) == 0.5
    assert policy.backoff(1, lambda: 1.0) == 1.0
    assert policy.backoff(10, lambda: 0.0) == 4.0
    assert policy.backoff(10, lambda: 1.0) == 8.0


@pytest.mark.parametrize("exc", [Poison("no uuid"),
                                 IPACommandFailed("refused", ipa_error="ACIError")])
def test_poison_acked_with_one_warning(fake_time, caplog, exc):
    caplog.set_level(logging.DEBUG, "novajoin.notify")
    delivery, metrics = make(fake_time)
    work, calls = failing(10**6, exc)
    assert delivery.deliver(EVENT, "msg-42", work) == HANDLED
    assert calls["n"] == 1
    assert fake_time.sleeps == []
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "msg-42" in warnings[0].getMessage()
    assert metrics.value(EVENT, m.POISON) == 1


def test_unexpected_error_requeued_with_delay_then_dropped(fake_time, caplog):
    caplog.set_level(logging.DEBUG, "novajoin.notify")
    delivery, metrics = make(fake_time, max_error_redeliveries=2)
    work, calls = failing(10**6, KeyError("bug"))
    results = [delivery.deliver(EVENT, "m7", work) for _ in range(3)]
    assert results == [REQUEUE, REQUEUE, HANDLED]
    assert calls["n"] == 3
    assert fake_time.sleeps == [5.0, 5.0]  # never an immediate requeue
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and not r.exc_info]
    assert len(errors) == 1 and "m7" in errors[0].getMessage()
    assert metrics.value(EVENT, m.REQUEUED) == 2
    assert metrics.value(EVENT, m.POISON) == 1
    # Another message id has its own budget.
    assert delivery.deliver(EVENT, "m8", work) == REQUEUE


def test_success_forgets_earlier_unexpected_errors(fake_time):
    delivery, _ = make(fake_time, max_error_redeliveries=1)
    work, _ = failing(1, RuntimeError("bug"))
    assert delivery.deliver(EVENT, "m1", work) == REQUEUE
    assert delivery.deliver(EVENT, "m1", work) == HANDLED
    bad, _ = failing(10**6, RuntimeError("bug"))
    assert delivery.deliver(EVENT, "m1", bad) == REQUEUE  # budget restarted


def test_stop_cuts_retry_sleeps_and_requeues_at_once():
    metrics = m.Metrics()
    delivery = Delivery(RetryPolicy(initial=60.0, maximum=60.0, window=600.0,
                                    requeue_delay=60.0), metrics)
    delivery.stop()
    work, calls = failing(10**6, IPAUnavailable("down"))
    assert delivery.deliver(EVENT, "m1", work) == REQUEUE
    assert calls["n"] == 1
    assert metrics.value(EVENT, m.REQUEUED) == 1
