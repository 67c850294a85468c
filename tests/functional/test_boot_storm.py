"""Boot storm: 50 instances x 7 calls, 20 concurrent nova workers, 2 novajoin-server replicas.

nova asks for an instance's vendordata about six times while it builds the
config drive and once more when the instance reads the metadata service,
from any of its workers, and a load balancer spreads the calls over the
replicas.  The replicas share nothing but IPA and the OTP key file.  What
must hold (DESIGN.md §3, issue 3): exactly one host per instance, one OTP per
instance whoever answered, every OTP accepted by the enrollment, at most one
IPA write per instance, and no error at all.

The caller is nova's own client, used from 20 threads with one
configuration (it is thread-safe that way; see
novajoin.testing.nova_vendordata).  Each call goes to one replica, chosen
in turn over a seeded shuffle of all 350 calls, through nova's own request
code; ``vendordata_dynamic_failure_fatal`` is on so that any non-2xx or
transport error surfaces (nova would silently serve ``{}``).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keystoneauth1 import exceptions as ks_exceptions

from novajoin.join.otp import create_otp_key
from novajoin.testing.nova_vendordata import Instance, NovaConfig, NovaVendordata, make_instance
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides

INSTANCES = 50
CONFIG_DRIVE_CALLS = 6
METADATA_CALLS = 1
CLIENTS = 20
REPLICAS = 2
STORM_DEADLINE = 90.0  # seconds; the storm takes a few seconds on 2 cores


@dataclass
class Call:
    instance: int
    kind: str  # "config-drive" or "metadata"
    replica: int
    answer: dict[str, Any] | None = None
    status: int | None = None  # HTTP status nova saw when it failed
    error: str | None = None
    seconds: float = 0.0


@pytest.fixture
def replicas(
    fake_ipa: Any, tmp_path: Path
) -> Iterator[list[NovajoinServer]]:
    """Two novajoin-server processes: same IPA, same OTP key file, nothing else shared."""
    key = tmp_path / "otp.key"
    create_otp_key(key)
    servers = [
        NovajoinServer(tmp_path / f"replica-{i}", ipa_overrides(fake_ipa, key)).start()
        for i in range(REPLICAS)
    ]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _run_storm(
    nova: NovaVendordata, instances: list[Instance], targets: list[str], seed: int
) -> list[Call]:
    calls = [
        Call(index, kind, 0)
        for index in range(len(instances))
        for kind in ["config-drive"] * CONFIG_DRIVE_CALLS + ["metadata"] * METADATA_CALLS
    ]
    random.Random(seed).shuffle(calls)
    for position, call in enumerate(calls):
        call.replica = position % len(targets)  # alternate over the shuffled calls

    def one(call: Call) -> None:
        started = time.monotonic()
        try:
            call.answer = nova.join(instances[call.instance], target_url=targets[call.replica])
        except ks_exceptions.HttpError as exc:
            call.status, call.error = exc.http_status, type(exc).__name__
        except Exception as exc:  # timeouts and connection errors: recorded, asserted below
            call.error = f"{type(exc).__name__}: {exc}"
        finally:
            call.seconds = time.monotonic() - started

    with ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="nova-worker") as pool:
        futures = [pool.submit(one, call) for call in calls]
        _done, pending = wait(futures, timeout=STORM_DEADLINE)
        for future in pending:
            future.cancel()
    assert not pending, f"{len(pending)} calls still pending after {STORM_DEADLINE} s"
    return calls


def _writes(calls_log: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    """(successful writes by command, failed write attempts by IPA error name)."""
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for entry in calls_log:
        method = (entry.get("method") or "").partition("/")[0]
        if method == "batch":
            items = (entry.get("params") or [[]])[0] or []
            if any(str(i.get("method", "")).partition("/")[0] in ("host_add", "host_mod")
                   for i in items if isinstance(i, dict)):
                pytest.fail("batched writes: count them per item before trusting this test")
        if method not in ("host_add", "host_mod"):
            continue
        if entry["outcome"] == "ok":
            ok[method] += 1
        else:
            failed[f"{method}:{entry['outcome']}"] += 1
    return ok, failed


@pytest.mark.parametrize("ipa_latency", [0.0, 0.02], ids=["fast-ipa", "ipa-20ms"])
def test_boot_storm_one_host_and_one_otp_per_instance(
    fake_ipa: Any, replicas: list[NovajoinServer], tmp_path: Path, ipa_latency: float
) -> None:
    if ipa_latency:
        # Slower IPA answers widen the window in which first requests race.
        fake_ipa.admin.set_latency(ipa_latency)
    seed = random.SystemRandom().randrange(2**32)
    run = uuid.uuid4().hex[:6]
    instances = [make_instance(f"storm-{run}-{i:02d}", enroll=True) for i in range(INSTANCES)]
    targets = [f"{server.url}/v1/" for server in replicas]
    fake_ipa.admin.clear_calls()
    since = fake_ipa.admin.last_call_seq()

    config = NovaConfig(target_url=targets[0], failure_fatal=True)
    with NovaVendordata(config, tmp_path / "nova") as nova:
        started = time.monotonic()
        calls = _run_storm(nova, instances, targets, seed)
        elapsed = time.monotonic() - started

    durations = sorted(call.seconds for call in calls)
    p95 = durations[int(len(durations) * 0.95) - 1]
    print(f"\nboot storm (seed {seed}): {len(calls)} calls in {elapsed:.2f} s, "
          f"median {statistics.median(durations) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {durations[-1] * 1000:.0f} ms, IPA latency {ipa_latency * 1000:.0f} ms")

    # No error at all (so no 5xx): nova saw a 2xx JSON answer for every call.
    failures = [(c.instance, c.replica, c.status, c.error) for c in calls if c.error]
    assert not failures, f"seed {seed}: {len(failures)} failed calls, e.g. {failures[:5]}"
    assert Counter(call.replica for call in calls) == {0: 175, 1: 175}

    # One OTP per instance, whichever replica and whichever call.
    otps: dict[int, set[str]] = defaultdict(set)
    for call in calls:
        assert call.answer is not None
        fqdn = f"{instances[call.instance].hostname}.{fake_ipa.domain}"
        assert call.answer["hostname"] == fqdn, call.answer.get("error")
        assert call.answer["krb_realm"] == fake_ipa.realm
        assert "error" not in call.answer
        otps[call.instance].add(call.answer["ipaotp"])
    several = {i: len(o) for i, o in otps.items() if len(o) != 1}
    assert not several, f"seed {seed}: instances handed several OTPs: {several}"
    assert len(otps) == INSTANCES
    assert len({next(iter(o)) for o in otps.values()}) == INSTANCES, "OTPs must differ"

    # Exactly one host per instance.
    expected = {f"{inst.hostname}.{fake_ipa.domain}" for inst in instances}
    hosts = set(fake_ipa.admin.state()["hosts"]) - {fake_ipa.fqdn}
    assert hosts == expected

    # At most one IPA write per instance (successful host_add + host_mod), and the
    # only failed write attempts are the add races IPA settles (DuplicateEntry).
    ok, failed = _writes(fake_ipa.admin.calls(since))
    print(f"IPA writes: {dict(ok)}, refused write attempts: {dict(failed)}")
    assert sum(ok.values()) <= INSTANCES
    assert ok["host_add"] == INSTANCES
    assert set(failed) <= {"host_add:DuplicateEntry"}

    # Every OTP is accepted by the enrollment (ipa-client-install's view).
    for index, otp_set in otps.items():
        fqdn = f"{instances[index].hostname}.{fake_ipa.domain}"
        fake_ipa.admin.enroll(fqdn, next(iter(otp_set)))
    state = fake_ipa.admin.state()["hosts"]
    assert all(state[fqdn]["has_keytab"] for fqdn in expected)

    for server in replicas:
        assert server.process is not None and server.process.poll() is None
        log = server.log_text()
        assert "Traceback" not in log
        leaked = [otp for o in otps.values() for otp in o if otp in log]
        assert not leaked, "an OTP reached a server log"
