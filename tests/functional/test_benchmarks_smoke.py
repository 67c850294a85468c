"""The benchmark command still runs end to end (tiny sizes) and its counts hold.

Timing figures are not asserted (they belong to ``benchmarks/``); the round-trip counts
are exact and come from the simulator's call log, so they are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from novajoin.testing import rabbit

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_runs_and_prints_the_table(tmp_path: Path) -> None:
    rabbit.ensure_rabbitmq()
    out = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--levels", "1:2,4:8", "--deletes", "12",
         "--cost-instances", "8", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "IPA round trips" in run.stdout and "delete storm: 12 deletes" in run.stdout
    results = json.loads((out / "results.json").read_text())
    rt = results["round_trips"]
    assert (rt["first_calls"], rt["first_writes"]) == (2.0, 1.0)
    assert (rt["repeat_calls"], rt["elsewhere_calls"]) == (0.0, 1.0)
    assert results["window_off"]["round_trips"]["repeat_calls"] == 1.0
    delete = results["delete"]
    assert delete["deleted"] == 12 and delete["round_trips"] == 2.0
    for row in results["levels"]:
        assert row["novajoin"]["errors"] == 0 and row["ipa-limit"]["errors"] == 0
        # the limit makes exactly the calls novajoin makes for the same pattern
        assert row["novajoin"]["ipa_calls"] == row["ipa-limit"]["ipa_calls"]
