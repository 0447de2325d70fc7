"""``valueroute bench``: routing policies and agent selections on standard scenarios."""

from __future__ import annotations

import argparse
import os
import textwrap
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from valueroute.bench import (
    CSV_COLUMNS,
    BenchReport,
    ScenarioResult,
    bundled_bench_scenarios,
    load_bench_scenario,
    run_bench,
)
from valueroute.cli import integer, output_folder, policy_option, write_failure
from valueroute.cli.output import ProgressLine, csv_text, figure, table, terminal_width
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
        type=policy_option,
        metavar="NAME[:KEY=VALUE,...]",
        help="a policy (repeat; replaces the scenarios' own list; the first is the baseline): "
        "a name, a name with parameters (aging_priority:seconds_per_point=30), or "
        "module:attribute with --allow-code (default: each scenario's own list)",
    )
    parser.add_argument(
        "--selection",
        action="append",
        help="an agent-selection strategy name (repeat; default: each scenario's own list)",
    )
    parser.add_argument(
        "--replications",
        type=integer(low=2, high=10_000),
        help="replications per variant, 2 to 10000 (default: the scenario's, for --fast or full "
        "runs)",
    )
    parser.add_argument(
        "--seed", type=integer(low=0), help="random seed (default: each scenario's)"
    )
    parser.add_argument(
        "--out",
        help="folder for bench.json, bench.csv, plots and report.html (created; checked "
        "before the run; default: none)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    shape.add_argument(
        "--csv",
        action="store_true",
        help="print one CSV row per (scenario, variant, type, KPI), the columns of bench.csv",
    )
    parser.add_argument(
        "--fast", action="store_true", help="the short runs of each scenario (as CI runs them)"
    )
    workers = parser.add_mutually_exclusive_group()
    workers.add_argument(
        "--jobs",
        type=integer(low=1, high=1024),
        default=None,
        help="worker processes, 1 to 1024, used up to the number of CPUs; 1 runs in this "
        "process (default: one per CPU, as simulate)",
    )
    workers.add_argument(
        "--serial",
        action="store_true",
        help="run everything in this process, one replication after another (as --jobs 1)",
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


class _Progress:
    """One progress line per scenario (``run_bench`` reports a scenario name and a fraction)."""

    def __init__(self) -> None:
        self.line: ProgressLine | None = None

    def __call__(self, name: str, fraction: float) -> None:
        if self.line is None or self.line.label != name:
            self.close()
            self.line = ProgressLine(name)
        self.line(fraction)

    def close(self) -> None:
        if self.line is not None:
            self.line.close()


_SHOWN: tuple[tuple[str, str, str, float], ...] = (
    # (KPI, column title with its unit, format, scale)
    ("service_level", "SL %", "{:.1f}", 100.0),
    ("asa", "ASA s", "{:.1f}", 1.0),
    ("p90_wait", "p90 wait s", "{:.1f}", 1.0),
    ("abandonment_rate", "abandoned %", "{:.1f}", 100.0),
    ("value_lost", "value lost", "{:.0f}", 1.0),
    ("value_sla_attainment", "value SLA %", "{:.1f}", 100.0),
    ("holding_cost_per_hour", "holding cost/h", "{:.1f}", 1.0),
    ("occupancy", "occupancy %", "{:.1f}", 100.0),
    ("load_fairness", "Jain fairness", "{:.3f}", 1.0),
)


def _cells(kpis: dict[str, dict[str, float]], *, signed: bool) -> list[str]:
    cells = []
    for kpi, _, pattern, scale in _SHOWN:
        figures = kpis.get(kpi)
        if figures is None:
            cells.append("-")
            continue
        fmt = pattern.replace("{:", "{:+") if signed else pattern
        cells.append(figure(figures["mean"] * scale, fmt, figures["half_width"] * scale))
    return cells


def scenario_text(result: ScenarioResult, width: int) -> str:
    """One scenario's table (the "all" row of each variant and difference), ranks and verdicts."""
    lines = [
        textwrap.fill(
            f"== {result.title} ({result.mode}: {result.replications} replications, seed "
            f"{result.seed}, scenario {result.scenario_hash[:12]}) ==",
            width=width,
        ),
        textwrap.fill(
            "all task types; means ± 95% half-widths; Δ = paired difference against the "
            f"baseline {result.baseline}; SL % = share answered within each type's service "
            "level threshold T (the scenario's sla_seconds)",
            width=width,
        ),
        "",
    ]
    titles = ["variant", *(title for _, title, _, _ in _SHOWN)]
    rows = [[label, *_cells(result.summary[label]["all"], signed=False)] for label in result.labels]
    rows += [
        ["Δ " + label, *_cells(differences["all"], signed=True)]
        for label, differences in result.differences.items()
    ]
    lines.append(table(titles, rows, width=width))
    lines.append("")
    for kpi, ranks in result.ranking.items():
        places = ", ".join(f"{rank.rank}. {rank.label}" for rank in ranks)
        lines.append(textwrap.fill(f"rank by {kpi}: {places}", width=width, subsequent_indent="  "))
    for outcome in result.relations:
        mark = "PASS" if outcome.holds else "FAIL"
        if not outcome.tested:
            mark = "skip"
        statement = outcome.relation.statement or outcome.relation.kind
        lines.append(textwrap.fill(f"[{mark}] {statement}:", width=width, subsequent_indent="  "))
        lines.append(
            textwrap.fill(
                outcome.detail, width=width, initial_indent="       ", subsequent_indent="       "
            )
        )
    return "\n".join(lines)


def _csv(report: BenchReport) -> str:
    rows: list[list[Any]] = [
        [row[column] for column in CSV_COLUMNS]
        for scenario in report.scenarios
        for row in scenario.rows()
    ]
    return csv_text(CSV_COLUMNS, rows)


def run(args: argparse.Namespace) -> int:
    scenarios = [load_bench_scenario(name) for name in args.scenario] or None
    folder = None if args.out is None else output_folder(args.out)
    executor: Executor | None = None
    jobs = 1 if args.serial else min(args.jobs or os.cpu_count() or 1, os.cpu_count() or 1)
    if jobs > 1:
        executor = ProcessPoolExecutor(max_workers=jobs)
    progress = _Progress()
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
            progress=progress,
        )
    finally:
        progress.close()
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
    elif args.csv:
        print(_csv(report), end="")
    else:
        width = terminal_width()
        print("\n\n".join(scenario_text(s, width) for s in report.scenarios))
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
