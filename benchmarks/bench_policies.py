"""The policy benchmark in full mode: every standard scenario, every relation.

Runs ``valueroute bench`` without ``--fast`` over the standard scenarios
shipped with the package (``src/valueroute/data/bench/``, listed by
``valueroute.bench.bundled_bench_scenarios()``), prints the tables, writes
benchmarks/results/bench_policies.json (the whole report) and
benchmarks/results/bench_policies/ (CSV and report.html with its plots
embedded). The baseline of every comparison is measured in the same run:
each scenario's first variant, on the same simulated customers.

    python benchmarks/bench_policies.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

from _timing import results_dir
from valueroute.bench import run_bench


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fast", action="store_true", help="the short CI runs instead")
    args = parser.parse_args()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        report = run_bench(fast=args.fast, executor=pool)
    print(report.table())
    print()
    print(f"{'scenario':<22}{'variants':>9}{'replications':>14}{'seconds':>10}  relations")
    for result in report.scenarios:
        verdicts = " ".join(
            ("pass" if o.holds else "FAIL") if o.tested else "skip" for o in result.relations
        )
        print(
            f"{result.name:<22}{len(result.variants):>9}{result.replications:>14}"
            f"{result.elapsed_seconds:>10.1f}  {verdicts}"
        )
    results = results_dir()
    (results / "bench_policies.json").write_text(report.to_json(), encoding="utf-8")
    report.write(results / "bench_policies")
    print(f"\nall relations hold: {report.all_hold}; {time.perf_counter() - started:.0f} s in all")
    return 0 if report.all_hold else 1


if __name__ == "__main__":
    raise SystemExit(main())
