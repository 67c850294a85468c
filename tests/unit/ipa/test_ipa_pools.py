"""The client's connection pools: split limits, one pool per thread, all closed."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from novajoin.ipa.client import _ShardedTransport


class RecordingPool(httpx.BaseTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        self.limits = limits
        self.threads: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.threads.append(threading.get_ident())
        return httpx.Response(200, content=b"{}")


def _sharded(limits: httpx.Limits) -> tuple[_ShardedTransport, list[RecordingPool]]:
    pools: list[RecordingPool] = []

    def make(share: httpx.Limits) -> RecordingPool:
        pools.append(RecordingPool(share))
        return pools[-1]

    return _ShardedTransport(make, limits), pools


def _get(transport: httpx.BaseTransport) -> None:
    transport.handle_request(httpx.Request("POST", "https://ipa.example.test/ipa/session/json"))


def test_limits_are_shared_out_so_the_totals_stay() -> None:
    _, pools = _sharded(httpx.Limits(max_connections=64, max_keepalive_connections=32,
                                     keepalive_expiry=7.0))
    assert len(pools) == _ShardedTransport.SHARDS
    assert sum(p.limits.max_connections for p in pools) == 64
    assert sum(p.limits.max_keepalive_connections for p in pools) == 32
    assert {p.limits.keepalive_expiry for p in pools} == {7.0}


def test_small_and_unbounded_limits() -> None:
    _, pools = _sharded(httpx.Limits(max_connections=3, max_keepalive_connections=None))
    assert {p.limits.max_connections for p in pools} == {1}  # never 0: a pool must connect
    assert {p.limits.max_keepalive_connections for p in pools} == {None}


def test_a_thread_keeps_to_one_pool_and_threads_are_spread_evenly() -> None:
    transport, pools = _sharded(httpx.Limits(max_connections=64, max_keepalive_connections=32))
    threads_n = 3 * _ShardedTransport.SHARDS
    start = threading.Barrier(threads_n)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            _get(transport)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    pool_of: dict[int, set[int]] = {}
    for index, pool in enumerate(pools):
        for ident in pool.threads:
            pool_of.setdefault(ident, set()).add(index)
    assert len(pool_of) == threads_n
    assert all(len(indexes) == 1 for indexes in pool_of.values())
    per_pool = Counter(next(iter(indexes)) for indexes in pool_of.values())
    assert sorted(per_pool.values()) == [3] * _ShardedTransport.SHARDS


def test_close_closes_every_pool() -> None:
    transport, pools = _sharded(httpx.Limits(max_connections=8))
    closed: list[int] = []
    for index, pool in enumerate(pools):
        pool.close = lambda index=index: closed.append(index)  # type: ignore[method-assign]
    transport.close()
    assert sorted(closed) == list(range(len(pools)))
