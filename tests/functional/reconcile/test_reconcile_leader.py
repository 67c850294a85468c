"""One active reconciler (real Redis through tooz): two at once never both act."""

from __future__ import annotations

import datetime
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from novajoin.reconcile.leader import Leader
from novajoin.testing.fake_nova import FakeNova
from novajoin.testing.novajoin_notify import hosts, ipa_calls
from novajoin.testing.reconcile_rig import RUN_TIMEOUT, reconcile_command, reconcile_config, summary


def test_lock_is_exclusive_and_released(redis_url: str) -> None:
    name = f"novajoin-test-{uuid.uuid4().hex[:8]}"
    with Leader(redis_url, name) as a, Leader(redis_url, name) as b:
        with a.turn() as a_acts:
            assert a_acts
            with b.turn() as b_acts:
                assert not b_acts
        with b.turn() as b_acts:
            assert b_acts


def test_two_reconcilers_at_once_never_both_act(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], redis_url: str, tmp_path: Path,
) -> None:
    live = enroll(5, "live")
    doomed = enroll(20, "gone")
    for instance, _ in doomed:
        nova.delete_server(instance.uuid, at=datetime.datetime.now(datetime.UTC)
                           - datetime.timedelta(hours=2))
    since = fake_ipa.admin.last_call_seq()
    fake_ipa.admin.set_latency(0.05)  # a run takes a few seconds: the two overlap
    lock = f"novajoin-test-{uuid.uuid4().hex[:8]}"
    procs = []
    for i in range(2):
        config = reconcile_config(fake_ipa, nova, tmp_path / f"r{i}.conf", redis_url,
                                  grace_period=0, lock_name=lock)
        procs.append(subprocess.Popen(reconcile_command(config), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=RUN_TIMEOUT) for p in procs]
    fake_ipa.admin.set_latency(0.0)

    words = [summary(out) for out, _ in outputs]
    acted = [w for w in words if "skipped" not in w]
    skipped = [w for w in words if "skipped" in w]
    assert len(acted) == 1 and len(skipped) == 1, outputs
    assert acted[0]["done_delete_instance"] == "20"
    assert all(p.returncode == 0 for p in procs), outputs
    assert set(hosts(fake_ipa)) == {f for _, f in live}
    # Every host was deleted exactly once: only one process wrote to IPA.
    deletes = Counter(c["params"][0][0] for c in ipa_calls(fake_ipa, since)
                      if c["method"] == "host_del")
    assert deletes == Counter({f: 1 for _, f in doomed})


def test_service_mode_runs_every_interval_and_stops_on_sigterm(
    fake_ipa: Any, nova: FakeNova, enroll: Callable[..., Any], redis_url: str, tmp_path: Path,
) -> None:
    import os
    import signal
    import time

    from novajoin.testing.reconcile_rig import reconcile_command, reconcile_config

    live = enroll(2, "svc")
    config = reconcile_config(fake_ipa, nova, tmp_path / "service.conf", redis_url,
                              grace_period=600)
    proc = subprocess.Popen(reconcile_command(config, "--service", "--interval", "0.5"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        runs = 0
        while time.monotonic() < deadline and runs < 3:
            time.sleep(0.2)
            runs = sum(1 for c in fake_ipa.admin.calls() if "host_find" in str(c["method"]))
        assert runs >= 3, "the service did not run again at its interval"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.count("reconcile summary:") + err.count("reconcile summary:") >= 3
    assert set(f for _, f in live) <= set(fake_ipa.admin.state()["hosts"])
