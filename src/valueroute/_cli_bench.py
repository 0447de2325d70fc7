"""``valueroute bench``: routing policies and agent selections on standard scenarios."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from valueroute.bench import BenchReport, run_bench

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark routing policies on standard scenarios",
        description=(
            "Run each scenario under every policy and agent selection on the same simulated "
            "customers (common random numbers), print KPI means with 95%% intervals, paired "
            "differences against the baseline and rankings, and check the relations theory "
            "predicts. Without SCENARIO, runs the standard suite. Exit code 1 when a "
            "relation fails."
        ),
    )
    parser.add_argument("scenario", nargs="*", help="bench scenario files (.toml or .json)")
    parser.add_argument(
        "--policy",
        action="append",
        help="a policy name (repeat; replaces the scenarios' own list; the first is the "
        "baseline); module:attribute with --allow-code",
    )
    parser.add_argument(
        "--selection", action="append", help="an agent-selection strategy name (repeat)"
    )
    parser.add_argument("--replications", type=int, help="replications per variant")
    parser.add_argument("--seed", type=int, help="random seed (default: each scenario's)")
    parser.add_argument("--out", help="folder for bench.json, bench.csv, plots and report.html")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--fast", action="store_true", help="the short runs of each scenario (as CI runs them)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (default 1: in this process)"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help="allow policies or strategies loaded from Python modules (module:attribute)",
    )
    parser.set_defaults(run=run)


def _progress(name: str, fraction: float) -> None:
    if sys.stderr.isatty():
        end = "\n" if fraction >= 1.0 else ""
        print(f"\r{name}: {fraction:4.0%}", end=end, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    executor: Executor | None = None
    if args.jobs is not None and args.jobs > 1:
        executor = ProcessPoolExecutor(max_workers=min(args.jobs, os.cpu_count() or 1))
    try:
        report: BenchReport = run_bench(
            args.scenario or None,
            policies=args.policy,
            selections=args.selection,
            replications=args.replications,
            seed=args.seed,
            fast=args.fast,
            executor=executor,
            allow_code=args.allow_code,
            progress=_progress,
        )
    finally:
        if executor is not None:
            executor.shutdown()
    if args.out:
        report.write(Path(args.out), plots=not args.no_plots)
    if args.json:
        print(report.to_json())
    else:
        print(report.table())
        if args.out:
            print(f"\nwritten: {Path(args.out) / 'report.html'}, bench.json, bench.csv")
    return 0 if report.all_hold else 1
