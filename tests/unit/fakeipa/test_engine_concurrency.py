"""execute() is called from many server threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from novajoin.fakeipa.engine import Engine
from novajoin.ipa import errors


def test_concurrent_adds_create_each_host_exactly_once(engine: Engine) -> None:
    def add(i: int) -> str:
        fqdn = f"vm{i % 10}.example.test"
        try:
            engine.execute("host_add", [[fqdn], {"force": True, "random": True,
                                                 "version": "2.257"}], principal="x")
        except errors.DuplicateEntry:
            return "dup"
        return "ok"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(add, range(200)))
    assert outcomes.count("ok") == 10 and outcomes.count("dup") == 190
    hosts = engine.snapshot()["hosts"]
    assert sum(1 for h in hosts if h.startswith("vm")) == 10
