"""``valueroute bench``: routing policies and agent selections on standard scenarios."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor

from valueroute.bench import BenchReport, bundled_bench_scenarios, load_bench_scenario, run_bench
from valueroute.cli import integer, output_folder, write_failure
from valueroute.errors import InvalidInputError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark routing policies on standard scenarios",
        description=(
            "Run each scenario under every policy and agent selection on the same simulated "
            "customers (common random numbers), print KPI means with 95% intervals, paired "
            "differences against the baseline and rankings, and check the relations theory "
            "predicts. Without SCENARIO, runs the standard suite shipped with valueroute: "
            + ", ".join(bundled_bench_scenarios())
            + ". Exit code 1 when a relation fails, 2 on an error."
        ),
    )
    parser.add_argument(
        "scenario",
        nargs="*",
        help="bench scenario files (.toml or .json) or names of the standard scenarios",
    )
    parser.add_argument(
        "--policy",
        action="append",
        help="a policy name (repeat; replaces the scenarios' own list; the first is the "
        "baseline); module:attribute with --allow-code",
    )
    parser.add_argument(
        "--selection", action="append", help="an agent-selection strategy name (repeat)"
    )
    parser.add_argument(
        "--replications",
        type=integer(low=2, high=10_000),
        help="replications per variant, 2 to 10000 (as a bench file's run lengths)",
    )
    parser.add_argument(
        "--seed", type=integer(low=0), help="random seed (default: each scenario's)"
    )
    parser.add_argument(
        "--out",
        help="folder for bench.json, bench.csv, plots and report.html (created; checked "
        "before the run)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--fast", action="store_true", help="the short runs of each scenario (as CI runs them)"
    )
    parser.add_argument(
        "--jobs",
        type=integer(low=1, high=1024),
        default=1,
        help="worker processes, 1 to 1024, used up to the number of CPUs (default 1: in "
        "this process)",
    )
    parser.add_argument(
        "--no-plots", action="store_true", help="skip the PNG plots (they need matplotlib)"
    )
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
    scenarios = [load_bench_scenario(name) for name in args.scenario] or None
    folder = None if args.out is None else output_folder(args.out)
    executor: Executor | None = None
    if args.jobs > 1:
        executor = ProcessPoolExecutor(max_workers=min(args.jobs, os.cpu_count() or 1))
    try:
        report: BenchReport = run_bench(
            scenarios,
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
    no_plots: InvalidInputError | None = None
    if folder is not None:
        plots = not args.no_plots
        if plots:
            from valueroute._bench_report import check_plotting

            try:
                check_plotting()
            except InvalidInputError as exc:
                no_plots, plots = exc, False
        try:
            report.write(folder, plots=plots)
        except OSError as exc:
            raise write_failure("--out", folder, exc) from None
    if args.json:
        print(report.to_json())
    else:
        print(report.table())
        if folder is not None:
            images = "" if no_plots is not None or args.no_plots else ", plots"
            print(f"\nwritten: {folder / 'report.html'}, bench.json, bench.csv{images}")
    if no_plots is not None:
        raise InvalidInputError(
            f"--out: wrote bench.json, bench.csv and report.html into {str(folder)[:160]!r} "
            "but no plots: matplotlib is not installed (expected `pip install "
            "'valueroute[plot]'`, or --no-plots)",
            [("--out", str(folder)[:160], "matplotlib for the plots, or --no-plots")],
        )
    return 0 if report.all_hold else 1
