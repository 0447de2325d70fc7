"""Every benchmark script still runs end to end (tiny sizes; speed is not checked here).

The figures in docs/performance.md come from these scripts; a script that
stopped running would leave them unreproducible. Results go to a scratch
folder through ``VALUEROUTE_BENCH_RESULTS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

RUNS = {
    "bench_agents": ["--agents", "400", "--repeats", "1"],
    "bench_engine": ["--agents", "300", "--waiting", "2000", "--cycles", "3000", "--warmup", "300"],
    "bench_tasklist": ["--tasks", "5000", "--cycles", "3000"],
    "bench_sim": [
        "--tasks",
        "3000",
        "--ciw-tasks",
        "500",
        "--day-tasks",
        "3000",
        "--memory-tasks",
        "2000",
    ],
    "bench_rules": ["--tasks", "500", "--passes", "1"],
    "bench_journal": ["--cycles", "500", "--every-cycles", "100"],
    "bench_calendar": ["--calls", "2000", "--repeats", "1"],
    "bench_calendar_engine": ["--tasks", "300", "--queries", "300", "--repeats", "1"],
    "bench_erlang": ["--repeats", "1"],
    "bench_import": ["--repeats", "1"],
    "bench_sim_inputs": ["--repeats", "1"],
    "bench_auto_accept": [
        "--agents",
        "200",
        "--waiting",
        "1000",
        "--cycles",
        "1000",
        "--repeats",
        "1",
    ],
    "bench_concurrent_offers": [
        "--agents",
        "200",
        "--waiting",
        "1000",
        "--cycles",
        "1000",
        "--repeats",
        "1",
    ],
    "bench_expressions": ["--agents", "300", "--repeats", "1"],
    "bench_kpi": ["--tasks", "3000", "--repeats", "1"],
    "bench_store": [
        "--cycles",
        "300",
        "--every-cycles",
        "20",
        "--open-tasks",
        "500",
        "--tail",
        "50",
    ],
    "bench_failover": ["--rounds", "2", "--lag-seconds", "0.5"],
    "bench_serve": ["--seconds", "0.5", "--clients", "4", "--rounds", "1"],
    "bench_schedule": [
        "--peaks",
        "20",
        "--repair-peak",
        "20",
        "--replications",
        "2",
        "--max-rounds",
        "1",
        "--week-peak",
        "0",
    ],
    "bench_forecast": ["--months", "10", "--models", "profile", "--draws", "200", "--no-holdout"],
    "bench_backtest": ["--quick"],
    "bench_recovery": ["--open-tasks", "2000", "--agents", "20", "--tail", "200", "--runs", "1"],
    "bench_collector": ["--tasks", "2000", "--repeats", "1"],
    "bench_workflow_triggers": ["--waiting", "200", "--agents", "50"],
}


# Run elsewhere: bench_offer_cycle_ab by tests/test_bench_offer_cycle_ab.py;
# bench_policies is `valueroute bench` over the bundled scenarios, whose short
# runs tests/test_bench.py makes through run_bench(fast=True).
RUN_ELSEWHERE = {"bench_offer_cycle_ab", "bench_policies"}


def test_every_benchmark_script_is_run_here_or_named_elsewhere() -> None:
    scripts = {path.stem for path in BENCHMARKS.glob("bench_*.py")}
    assert scripts == set(RUNS) | RUN_ELSEWHERE


@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_runs_and_writes_its_results(name: str, tmp_path: Path) -> None:
    beside_scripts = BENCHMARKS / "results" / f"{name}.json"
    before = beside_scripts.stat().st_mtime_ns if beside_scripts.exists() else None
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *RUNS[name]],
        env={**os.environ, "VALUEROUTE_BENCH_RESULTS": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    written = json.loads((tmp_path / f"{name}.json").read_text())
    assert written
    # The results of a real run beside the scripts are left alone.
    after = beside_scripts.stat().st_mtime_ns if beside_scripts.exists() else None
    assert after == before


def test_engine_benchmark_measures_engine_and_bare_model_on_the_same_traffic(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_engine.py"), *RUNS["bench_engine"]],
        env={**os.environ, "VALUEROUTE_BENCH_RESULTS": str(tmp_path)},
        capture_output=True,
        check=True,
        timeout=300,
    )
    (result,) = json.loads((tmp_path / "bench_engine.json").read_text())["results"]
    assert result["cycles"] == 3000
    assert result["warmup_cycles"] == 300
    assert result["cycles_per_s"] > 0
    assert result["bare_cycles_per_s"] > 0
    assert result["open_tasks_after"] >= 2000
