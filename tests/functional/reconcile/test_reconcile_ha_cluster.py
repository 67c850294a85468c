"""HA: two novajoin-server replicas and two novajoin-notify listeners on one pool.

They share nothing but IPA, the broker and the OTP key file.  A boot storm
(nova's own client, 20 workers, 7 calls per instance spread over both
replicas) gives one host and one OTP per instance; then 100+ deletes go
through RabbitMQ (some delivered twice, in both formats) and are consumed by
the two listeners of one pool: every deleted instance's host goes, each
listener takes a share, no live host is touched.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from novajoin.join.otp import create_otp_key
from novajoin.testing import notifications as n
from novajoin.testing.nova_vendordata import NovaConfig, NovaVendordata
from novajoin.testing.nova_vendordata import make_instance as nova_instance
from novajoin.testing.novajoin_notify import (
    NovajoinNotify,
    hosts,
    ipa_calls,
    notify_overrides,
    wait_for,
)
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides

STORM = 40
CALLS = 7
LIVE_OF_STORM = 20
MORE_DOOMED = 100
WRITES = {"host_del", "host_disable", "host_mod", "service_del", "dnsrecord_del",
          "dnsrecord_mod", "dnsrecord_add"}


@pytest.fixture
def cluster(fake_ipa: Any, vhost: Any, tmp_path: Path
            ) -> Iterator[tuple[list[NovajoinServer], list[NovajoinNotify]]]:
    key = tmp_path / "otp.key"
    create_otp_key(key)
    servers = [NovajoinServer(tmp_path / f"server-{i}", ipa_overrides(fake_ipa, key))
               for i in range(2)]
    listeners = [NovajoinNotify(tmp_path / f"notify-{i}",
                                notify_overrides(fake_ipa, vhost.transport_url,
                                                 executor_threads=8))
                 for i in range(2)]
    try:
        for process in [*servers, *listeners]:
            process.start()
        yield servers, listeners
    finally:
        for process in [*listeners, *servers]:
            process.stop()


def _handled(listener: NovajoinNotify) -> float:
    return sum(v for k, v in listener.metrics().items()
               if k.startswith("novajoin_notifications_total") and "delete.end" in k)


def test_two_servers_two_listeners_storm_then_deletes(
    fake_ipa: Any, vhost: Any, cluster: tuple[list[NovajoinServer], list[NovajoinNotify]],
    enroll: Callable[..., Any], tmp_path: Path,
) -> None:
    servers, listeners = cluster
    tag = f"{random.randrange(16**4):04x}"
    storm = [nova_instance(f"ha{tag}-{i:02d}") for i in range(STORM)]
    targets = [f"{s.url}/v1/" for s in servers]
    calls = [(i, c % 2) for i in range(STORM) for c in range(CALLS)]
    random.shuffle(calls)
    otps: dict[int, set[str]] = defaultdict(set)
    errors: list[str] = []
    started = time.monotonic()
    with NovaVendordata(NovaConfig(target_url=targets[0], failure_fatal=True),
                        tmp_path / "nova") as nova:
        def one(call: tuple[int, int]) -> None:
            index, replica = call
            try:
                answer = nova.join(storm[index], target_url=targets[replica])
                otps[index].add(answer["ipaotp"])
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        with ThreadPoolExecutor(20) as pool:
            list(pool.map(one, calls, timeout=90))
    print(f"\nstorm: {len(calls)} calls over 2 replicas in {time.monotonic() - started:.1f} s")
    assert not errors, errors[:3]
    assert all(len(o) == 1 for o in otps.values()) and len(otps) == STORM
    fqdns = {i: f"{inst.hostname}.{fake_ipa.domain}" for i, inst in enumerate(storm)}
    for index, otp in otps.items():
        fake_ipa.admin.enroll(fqdns[index], next(iter(otp)))

    more = enroll(MORE_DOOMED, f"hd{tag}")
    live = {fqdns[i] for i in range(LIVE_OF_STORM)}
    doomed = [(n.Instance(uuid=storm[i].uuid, hostname=storm[i].hostname,
                          project_id=storm[i].project_id), fqdns[i])
              for i in range(LIVE_OF_STORM, STORM)] + list(more)
    before = {k: v for k, v in hosts(fake_ipa).items() if k in live}
    assert set(before) == live
    since = fake_ipa.admin.last_call_seq()

    wait_for(lambda: (q := vhost.queue("novajoin")) is not None and q.consumers == 2, 30.0,
             "both listeners consuming on the pool queue")
    started = time.monotonic()
    with n.NovaPublisher(vhost.transport_url) as legacy, \
            n.NovaPublisher(vhost.transport_url, format="versioned") as versioned:
        for position, (instance, _) in enumerate(doomed):
            legacy.instance_deleted(instance)
            if position % 3 == 0:
                versioned.instance_deleted(instance)  # the same delete, twice on the bus
    doomed_fqdns = {f for _, f in doomed}
    wait_for(lambda: not doomed_fqdns & set(hosts(fake_ipa)), 90.0,
             "every deleted instance's host to go")
    vhost.wait_drained("novajoin", 30.0)
    print(f"deletes: {len(doomed)} through 2 listeners in {time.monotonic() - started:.1f} s")

    after = hosts(fake_ipa)
    assert set(after) - {f for _, f in more} == live
    assert {k: after[k] for k in live} == before, "a live host changed"
    calls_log = ipa_calls(fake_ipa, since)
    live_names = {f.split(".", 1)[0] for f in live}
    touched = [c for c in calls_log if c["method"] in WRITES
               and any(name in str(c["params"]) for name in live_names)]
    assert not touched, touched[:3]
    # Each delete removed its host once; a second delivery found nothing to do.
    deletes = Counter(c["params"][0][0] for c in calls_log
                      if c["method"] == "host_del" and c.get("outcome") == "ok")
    assert set(deletes) == doomed_fqdns and max(deletes.values()) == 1
    shares = [_handled(listener) for listener in listeners]
    print(f"delete.end handled per listener: {shares}")
    assert sum(shares) >= len(doomed)
    # The prefetch default (2 x executor threads) lets both consumers of the pool work.
    assert min(shares) > 0, shares
    for process in [*servers, *listeners]:
        assert "Traceback" not in process.log_text()
