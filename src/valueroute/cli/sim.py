"""``valueroute simulate`` and ``valueroute compare``: what-if days from the shell."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from valueroute.cli import integer, output_folder, shown, write_failure
from valueroute.errors import InvalidInputError
from valueroute.scenarios import load_scenario
from valueroute.sim.run import ComparisonResult, SimulationResult, compare, simulate

__all__ = ["register", "run_compare", "run_simulate"]

MAX_REPLICATIONS = 10_000
"""The most replications a command runs (as a scenario file may ask for)."""

_SHOWN = (
    ("offered", "offered", "{:.0f}"),
    ("answered", "answered", "{:.0f}"),
    ("abandoned", "abandoned", "{:.0f}"),
    ("service_level", "SL", "{:.1%}"),
    ("asa", "ASA s", "{:.1f}"),
    ("p90_wait", "p90 wait", "{:.1f}"),
    ("aht", "AHT s", "{:.0f}"),
    ("value_sla_attainment", "value SLA", "{:.1%}"),
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file (.toml, .json, .yaml) or 'demo'")
    parser.add_argument(
        "--replications",
        type=integer(low=1, high=MAX_REPLICATIONS),
        help=f"replications, 1 to {MAX_REPLICATIONS} (default: the scenario's)",
    )
    parser.add_argument("--seed", type=integer(low=0), help="random seed (default: the scenario's)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help="allow the scenario to load policies or strategies from Python modules",
    )
    parser.add_argument(
        "--serial", action="store_true", help="run replications one after another in-process"
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write a self-contained HTML report (KPIs with confidence intervals, per-interval "
        "charts, the scenario) to FILE (its folder is created; checked before the run)",
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
        help="folder to write result.json and CSV tables into (created; checked before the run)",
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
        help="a policy name (repeat; the first is the baseline), e.g. fifo",
    )
    cmp.set_defaults(run=run_compare)


class _Progress:
    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent != self.shown and sys.stderr.isatty():
            self.shown = percent
            end = "\n" if percent >= 100 else ""
            print(f"\r{self.label}: {percent:3d}%", end=end, file=sys.stderr, flush=True)


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
    result = simulate(
        scenario,
        replications=args.replications,
        seed=args.seed,
        allow_code=args.allow_code,
        executor=_executor(args),
        progress=_Progress(f"simulating {scenario.name}"),
    )
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
    _print_result(result)
    if folder is not None:
        print(f"\nwritten: {folder / 'result.json'} and CSV tables")
    if report is not None:
        print(f"\nreport: {report}")
    return 0


def _format(value: float, pattern: str) -> str:
    return "-" if math.isnan(value) else pattern.format(value)


def _print_result(result: SimulationResult) -> None:
    count = len(result.replications)
    print(
        f"{result.scenario}: policy {result.policy}, {count} replication"
        f"{'s' if count != 1 else ''}, seed {result.seed}"
    )
    print("(means; ± is the 95% confidence half-width over replications)\n")
    header = f"{'type':<16}" + "".join(f"{title:>18}" for _, title, _ in _SHOWN)
    print(header)
    for task_type, kpis in result.summary.items():
        cells = []
        for kpi, _, pattern in _SHOWN:
            figures = kpis[kpi]
            text = _format(figures["mean"], pattern)
            if not math.isnan(figures["half_width"]):
                text += " ±" + _format(figures["half_width"], pattern).rstrip("%")
                if pattern.endswith("%}"):
                    text += "%"
            cells.append(f"{text:>18}")
        print(f"{task_type:<16}" + "".join(cells))
    print(f"\n{'agent group':<20}{'occupancy':>12}{'staffed hours':>16}")
    for group, group_figures in result.groups.items():
        occupancy = _format(group_figures["occupancy"]["mean"], "{:.1%}")
        hours = _format(group_figures["staffed_hours"]["mean"], "{:.1f}")
        print(f"{group:<20}{occupancy:>12}{hours:>16}")


def run_compare(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if len(args.policy) < 2:
        raise InvalidInputError(
            f"--policy: got {len(args.policy)} (expected two or more --policy options)",
            [("--policy", len(args.policy), "two or more policies")],
        )
    report = _report_file(args.report)
    result = compare(
        scenario,
        policies=args.policy,
        replications=args.replications,
        seed=args.seed,
        allow_code=args.allow_code,
        executor=_executor(args),
        progress=_Progress(f"comparing on {scenario.name}"),
    )
    _write_report(result, report)
    if args.json:
        print(result.to_json())
        return 0
    _print_comparison(result)
    if report is not None:
        print(f"\nreport: {report}")
    return 0


def _print_comparison(result: ComparisonResult) -> None:
    print(f"baseline: {result.baseline} (differences are policy − baseline, paired, 95% CI)\n")
    header = f"{'policy':<20}{'type':<16}" + "".join(f"{title:>14}" for _, title, _ in _SHOWN[3:])
    print(header)
    for label, run in result.results.items():
        for task_type, kpis in run.summary.items():
            cells = "".join(
                f"{_format(kpis[kpi]['mean'], pattern):>14}" for kpi, _, pattern in _SHOWN[3:]
            )
            print(f"{label:<20}{task_type:<16}{cells}")
    for label, table in result.differences.items():
        print(f"\n{label} − {result.baseline}:")
        for task_type, kpis in table.items():
            parts = []
            for kpi, _, pattern in _SHOWN[3:]:
                mean = kpis[kpi]["mean"]
                half = kpis[kpi]["half_width"]
                text = _format(mean, pattern.replace("{:", "{:+"))
                if not math.isnan(half):
                    text += f" ±{_format(half, pattern)}"
                parts.append(f"{text:>14}")
            print(f"  {task_type:<16}" + "".join(parts))
