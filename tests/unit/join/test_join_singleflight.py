"""SingleFlight coalesces overlapping calls and keeps nothing afterwards."""

from __future__ import annotations

import threading

import pytest

from novajoin.join.singleflight import FlightTimeout, SingleFlight


def _overlap(flights: SingleFlight, fn, callers: int = 8) -> list[object]:
    started = threading.Barrier(callers)
    results: list[object] = []
    lock = threading.Lock()

    def call() -> None:
        started.wait(timeout=5)
        try:
            outcome: object = flights.do("k", fn, timeout=5)
        except Exception as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results


def test_overlapping_calls_run_once_and_share_the_result() -> None:
    flights: SingleFlight[int] = SingleFlight()
    runs = []
    release = threading.Event()

    def slow() -> int:
        runs.append(1)
        release.wait(timeout=5)
        return 42

    timer = threading.Timer(0.2, release.set)
    timer.start()
    assert _overlap(flights, slow) == [42] * 8
    assert len(runs) == 1
    assert flights.in_flight() == 0


def test_an_error_reaches_every_waiter_and_is_not_remembered() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = threading.Event()

    def failing() -> int:
        release.wait(timeout=5)
        raise RuntimeError("ipa down")

    threading.Timer(0.2, release.set).start()
    results = _overlap(flights, failing)
    assert all(isinstance(r, RuntimeError) for r in results)
    # Nothing is cached: the next call runs again.
    assert flights.do("k", lambda: 7, timeout=1) == 7


def test_a_waiter_gives_up_at_its_timeout() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = threading.Event()
    leader = threading.Thread(target=lambda: flights.do("k", lambda: release.wait(5) and 1,
                                                        timeout=5))
    leader.start()
    while flights.in_flight() == 0:
        threading.Event().wait(0.01)
    with pytest.raises(FlightTimeout):
        flights.do("k", lambda: 2, timeout=0.1)
    release.set()
    leader.join(timeout=5)
    assert flights.in_flight() == 0


def test_different_keys_do_not_wait_for_each_other() -> None:
    flights: SingleFlight[str] = SingleFlight()
    assert flights.do("a", lambda: "a", timeout=1) == "a"
    assert flights.do("b", lambda: "b", timeout=1) == "b"
