"""``valueroute simulate`` and ``valueroute compare``: what-if days from the shell."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valueroute.cli import integer, output_folder, policy_option, shown, write_failure
from valueroute.cli.output import ProgressLine, csv_text, figure, name_cell, table, terminal_width
from valueroute.errors import InvalidInputError
from valueroute.scenarios import load_scenario
from valueroute.sim.run import ComparisonResult, SimulationResult, compare, simulate
from valueroute.sim.scenario import Scenario

__all__ = ["register", "run_compare", "run_simulate"]

MAX_REPLICATIONS = 10_000
"""The most replications a command runs (as a scenario file may ask for)."""

_SHOWN: tuple[tuple[str, str, str, float], ...] = (
    # (KPI, column title with its unit, format, scale)
    ("offered", "offered", "{:.0f}", 1.0),
    ("answered", "answered", "{:.0f}", 1.0),
    ("abandoned", "abandoned", "{:.0f}", 1.0),
    ("service_level", "SL %", "{:.1f}", 100.0),
    ("asa", "ASA s", "{:.1f}", 1.0),
    ("p90_wait", "p90 wait s", "{:.1f}", 1.0),
    ("aht", "AHT s", "{:.0f}", 1.0),
    ("value_sla_attainment", "value SLA %", "{:.1f}", 100.0),
)
_COMPARED = _SHOWN[3:]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (.toml, .json, .yaml) or 'demo'")
    parser.add_argument(
        "--replications",
        type=integer(low=1, high=MAX_REPLICATIONS),
        help=f"replications, 1 to {MAX_REPLICATIONS} (default: the scenario's)",
    )
    parser.add_argument("--seed", type=integer(low=0), help="random seed (default: the scenario's)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    shape.add_argument(
        "--csv",
        action="store_true",
        help="print the table as CSV (one row per name and KPI: mean, half-width, interval, n)",
    )
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help="allow the scenario to load policies or strategies from Python modules",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="run replications one after another in this process (default: one worker "
        "process per CPU, as bench does)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write a self-contained HTML report (KPIs with confidence intervals, per-interval "
        "charts, the scenario) to FILE (its folder is created; checked before the run; "
        "default: no report)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = subparsers.add_parser(
        "simulate",
        help="simulate a contact-centre scenario with the routing engine",
        description=(
            "Run a scenario's replications (the real routing engine in a SimPy world) and "
            "print per-type KPIs with 95% confidence intervals. SCENARIO 'demo' is a "
            "bundled multi-skill day."
        ),
    )
    _common(sim)
    sim.add_argument(
        "--out",
        help="folder to write result.json and CSV tables into (created; checked before the run; "
        "default: none)",
    )
    sim.set_defaults(run=run_simulate)
    cmp = subparsers.add_parser(
        "compare",
        help="compare routing policies on the same simulated customers",
        description=(
            "Run the scenario under each --policy with common random numbers and print each "
            "policy's KPIs and the paired difference against the first policy."
        ),
    )
    _common(cmp)
    cmp.add_argument(
        "--policy",
        action="append",
        required=True,
        type=policy_option,
        metavar="NAME[:KEY=VALUE,...]",
        help="a policy (repeat; the first is the baseline): a name (fifo), a name with "
        "parameters (aging_priority:seconds_per_point=30), or module:attribute with --allow-code; "
        "no default: give two or more",
    )
    cmp.set_defaults(run=run_compare)


def _executor(args: argparse.Namespace) -> Any:
    if args.serial:
        from valueroute.sim.run import InlineExecutor

        return InlineExecutor()
    return None


def _report_file(text: str | None) -> Path | None:
    """The --report file: its folder created and the file checked writable before the run."""
    if text is None:
        return None
    path = Path(text)
    try:
        folder = path.is_dir()
        if not folder:
            path.parent.mkdir(parents=True, exist_ok=True)
            existed = path.exists()
            with path.open("a", encoding="utf-8"):
                pass
            if not existed:
                path.unlink()
    except (OSError, ValueError) as exc:  # ValueError: a NUL or unencodable character
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)[:80]
        raise InvalidInputError(
            f"--report: got {shown(text)} (cannot write there: {reason}; expected a file "
            "that can be created and written)",
            [("--report", text[:80], "a writable file path")],
        ) from None
    if folder:
        raise InvalidInputError(
            f"--report: got {shown(text)} (an existing folder; expected a file to write the "
            "HTML report into)",
            [("--report", text[:80], "a file path")],
        )
    return path


def _write_report(result: SimulationResult | ComparisonResult, path: Path | None) -> None:
    if path is None:
        return
    from valueroute.sim.report import report_html

    try:
        path.write_text(report_html(result), encoding="utf-8")
    except OSError as exc:
        raise write_failure("--report", path, exc) from None


def run_simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    folder = None if args.out is None else output_folder(args.out)
    report = _report_file(args.report)
    progress = ProgressLine(f"simulating {scenario.name}")
    try:
        result = simulate(
            scenario,
            replications=args.replications,
            seed=args.seed,
            allow_code=args.allow_code,
            executor=_executor(args),
            progress=progress,
        )
    finally:
        progress.close()
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "result.json").write_text(result.to_json(), encoding="utf-8")
            result.to_csv(folder)
        except OSError as exc:
            raise write_failure("--out", folder, exc) from None
    _write_report(result, report)
    if args.json:
        print(result.to_json(replications=False))
        return 0
    if args.csv:
        print(_result_csv(result), end="")
        return 0
    _print_result(result, scenario)
    if folder is not None:
        print(f"\nwritten: {folder / 'result.json'} and CSV tables")
    if report is not None:
        print(f"\nreport: {report}")
    return 0


_FIGURES = ("mean", "half_width", "ci_low", "ci_high", "n")


def _thresholds(scenario: Scenario, width: int) -> str:
    """The service-level threshold T of each type, as the table's note (wrapped to width)."""
    parts = [
        f"{name_cell(t.name)} {t.sla_seconds:g} s"
        + (" of working time" if t.sla_clock == "working" else "")
        for t in scenario.task_types
    ]
    text = (
        "SL % = share answered within T ("
        + scenario.service_level_definition
        + " definition); T: "
        + ", ".join(parts)
    )
    return textwrap.fill(text, width=width, subsequent_indent="  ")


def _cells(
    kpis: dict[str, dict[str, float]],
    shown: Sequence[tuple[str, str, str, float]],
    *,
    sign: bool = False,
    half: bool = True,
) -> list[str]:
    cells = []
    for kpi, _, pattern, scale in shown:
        figures = kpis[kpi]
        fmt = pattern.replace("{:", "{:+") if sign else pattern
        cells.append(
            figure(figures["mean"] * scale, fmt, figures["half_width"] * scale if half else None)
        )
    return cells


def _print_result(result: SimulationResult, scenario: Scenario) -> None:
    width = terminal_width()
    count = len(result.replications)
    print(
        textwrap.fill(
            f"{result.scenario}: policy {result.policy}, {count} replication"
            f"{'s' if count != 1 else ''}, seed {result.seed}",
            width=width,
        )
    )
    print("means over replications; ± is the 95% confidence half-width")
    print(_thresholds(scenario, width) + "\n")
    titles = ["type", *(title for _, title, _, _ in _SHOWN)]
    rows = [[name, *_cells(kpis, _SHOWN)] for name, kpis in result.summary.items()]
    print(table(titles, rows, width=width))
    groups = [
        [
            group,
            figure(figures["occupancy"]["mean"] * 100, "{:.1f}"),
            figure(figures["staffed_hours"]["mean"], "{:.1f}"),
        ]
        for group, figures in result.groups.items()
    ]
    print()
    print(table(["agent group", "occupancy %", "staffed hours"], groups, width=width))


def _result_csv(result: SimulationResult) -> str:
    rows: list[list[Any]] = []
    for table_name, source in (("type", result.summary), ("group", result.groups)):
        for name, kpis in source.items():
            for kpi, figures in kpis.items():
                rows.append([table_name, name, kpi, *(figures.get(f) for f in _FIGURES)])
    return csv_text(["table", "name", "kpi", *_FIGURES], rows)


def _without_label(policy: str | dict[str, Any]) -> str | dict[str, Any]:
    """compare labels policies by name: the setting without the command line's label."""
    if isinstance(policy, dict):
        return {key: value for key, value in policy.items() if key != "label"}
    return policy


def run_compare(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if len(args.policy) < 2:
        raise InvalidInputError(
            f"--policy: got {len(args.policy)} (expected two or more --policy options)",
            [("--policy", len(args.policy), "two or more policies")],
        )
    report = _report_file(args.report)
    progress = ProgressLine(f"comparing on {scenario.name}")
    try:
        result = compare(
            scenario,
            policies=[_without_label(policy) for policy in args.policy],
            replications=args.replications,
            seed=args.seed,
            allow_code=args.allow_code,
            executor=_executor(args),
            progress=progress,
        )
    finally:
        progress.close()
    _write_report(result, report)
    if args.json:
        print(result.to_json())
        return 0
    if args.csv:
        print(_comparison_csv(result), end="")
        return 0
    _print_comparison(result, scenario)
    if report is not None:
        print(f"\nreport: {report}")
    return 0


def _print_comparison(result: ComparisonResult, scenario: Scenario) -> None:
    width = terminal_width()
    print(
        textwrap.fill(
            f"{scenario.name}: baseline {result.baseline}; means over replications, "
            "differences are policy − baseline on the same customers (paired), ± the 95% "
            "half-width",
            width=width,
        )
    )
    print(_thresholds(scenario, width) + "\n")
    titles = ["policy", "type", *(title for _, title, _, _ in _COMPARED)]
    rows = [
        [label, name, *_cells(kpis, _COMPARED, half=False)]
        for label, run in result.results.items()
        for name, kpis in run.summary.items()
    ]
    print(table(titles, rows, names=2, width=width))
    for label, differences in result.differences.items():
        print("\n" + textwrap.fill(f"{label} − {result.baseline}:", width=width))
        rows = [[name, *_cells(kpis, _COMPARED, sign=True)] for name, kpis in differences.items()]
        print(table(["type", *(title for _, title, _, _ in _COMPARED)], rows, width=width))


def _comparison_csv(result: ComparisonResult) -> str:
    rows: list[list[Any]] = []
    for label, run in result.results.items():
        for name, kpis in run.summary.items():
            for kpi, figures in kpis.items():
                rows.append([label, "mean", name, kpi, *(figures.get(f) for f in _FIGURES)])
    for label, differences in result.differences.items():
        for name, kpis in differences.items():
            for kpi, figures in kpis.items():
                rows.append([label, "difference", name, kpi, *(figures.get(f) for f in _FIGURES)])
    return csv_text(["policy", "figure", "type", "kpi", *_FIGURES], rows)
