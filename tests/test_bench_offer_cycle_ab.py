"""The alternating offer-cycle benchmark runs both trees and writes every run's figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import valueroute

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_offer_cycle_ab_alternates_the_two_trees_and_writes_each_run(tmp_path: Path) -> None:
    src = str(Path(valueroute.__file__).resolve().parents[1])
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_offer_cycle_ab.py"),
            src,
            src,
            "--runs=3",
            "--agents=40",
            "--waiting=200",
            "--cycles=300",
            "--repeats=1",
        ],
        env={**os.environ, "VALUEROUTE_BENCH_RESULTS": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    written = json.loads((tmp_path / "bench_offer_cycle_ab.json").read_text())
    assert written["agents"] == 40
    assert written["waiting"] == 200
    for label in ("before", "after"):
        runs = written["cycle_us"][label]
        assert len(runs) == 3
        assert all(figure > 0 for figure in runs)
        assert written["median_us"][label] == sorted(runs)[1]
    # Runs alternate: the second run starts with the "after" tree.
    lines = [line for line in completed.stdout.splitlines() if line.startswith("run ")]
    assert [line.split()[2].rstrip(":") for line in lines] == [
        "before",
        "after",
        "after",
        "before",
        "before",
        "after",
    ]
