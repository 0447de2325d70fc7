"""``valueroute erlang`` and ``valueroute staff``: Erlang analytics from the shell.

``valueroute staff --simulate SCENARIO`` sizes a scenario's agent groups by
simulation instead (``valueroute.sim.staffing``), beside Erlang C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from valueroute.cli import integer, number, shown
from valueroute.cli.output import (
    CountingExecutor,
    ProgressLine,
    csv_text,
    figure,
    table,
    terminal_width,
)
from valueroute.erlang import (
    average_speed_of_answer,
    erlang_a,
    erlang_c,
    occupancy,
    read_forecast,
    required_agents,
    service_level,
    staff_intervals,
)
from valueroute.errors import ErlangError, InvalidInputError

MAX_TRAFFIC = 1e9
"""The largest offered load, in Erlangs, the commands accept (far beyond any operation)."""

MAX_REPLICATIONS = 10_000
"""The most replications ``staff --simulate`` runs per staffing (as a scenario file may ask)."""

MAX_AGENTS = 1_000_000_000
"""The most agents ``--agents`` and ``--max-agents`` accept."""

_SHARE = number(low=0.0, high=1.0, low_open=True, high_open=True)
_SECONDS = number(low=0.0, low_open=True, unit=" of seconds")

__all__ = ["register", "run_erlang", "run_staff"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_erlang(subparsers)
    _register_staff(subparsers)


DEFAULT_AWT = 20.0
"""The acceptable wait, in seconds, of a service-level target given without --awt."""


def _add_targets(parser: argparse.ArgumentParser, *, simulate: bool) -> None:
    parser.add_argument(
        "--target",
        type=_SHARE,
        help="service-level target: share of calls answered within --awt, between 0 and 1 "
        "(e.g. 0.8; default: none)",
    )
    parser.add_argument(
        "--awt",
        type=number(low=0.0, unit=" of seconds"),
        default=None,
        help=f"acceptable waiting time of the service level, in seconds (default: {DEFAULT_AWT:g}"
        + ("; with --simulate, each task type's sla_seconds)" if simulate else ")"),
    )
    parser.add_argument(
        "--asa", type=_SECONDS, help="average-speed-of-answer target in seconds (default: none)"
    )
    parser.add_argument(
        "--abandon",
        type=_SHARE,
        help="abandonment target, a share between 0 and 1 (needs --patience; default: none)",
    )
    parser.add_argument(
        "--max-occupancy",
        type=number(low=0.0, high=1.0, low_open=True),
        help="occupancy cap, a share between 0 and 1 (e.g. 0.85; default: none)",
    )
    parser.add_argument(
        "--patience",
        type=_SECONDS,
        help="mean patience in seconds: switches from Erlang C to Erlang A (abandonment; "
        "default: none, Erlang C)",
    )
    parser.add_argument(
        "--definition",
        choices=("offered", "answered"),
        default="offered",
        help="Erlang A service level of all offered calls or of answered calls (default: offered)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    shape.add_argument("--csv", action="store_true", help="print the table as CSV")


def _register_erlang(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "erlang",
        help="evaluate a staffing level or find the agents a target needs (Erlang C / A)",
        description=(
            "Give the load as --traffic ERLANGS or as --calls N --interval SECONDS; then "
            "--agents N to evaluate it, or targets (--target 0.8 --awt 20, --asa, --abandon, "
            "--max-occupancy) to find the fewest agents that meet them all. --patience "
            "switches to Erlang A."
        ),
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--traffic",
        type=number(low=0.0, high=MAX_TRAFFIC, unit=" of Erlangs"),
        help=f"offered load in Erlangs, at most {MAX_TRAFFIC:g} (default: none; or give --calls "
        "and --interval)",
    )
    load.add_argument(
        "--calls",
        type=number(low=0.0),
        help="calls offered in the interval, a count (default: none)",
    )
    load.add_argument(
        "--interval", type=_SECONDS, help="interval length in seconds (with --calls; no default)"
    )
    load.add_argument(
        "--aht", type=_SECONDS, default=180.0, help="mean handle time in seconds (default: 180)"
    )
    parser.add_argument(
        "--agents",
        type=integer(low=0, high=MAX_AGENTS),
        help="agents to evaluate, a count (default: find the fewest that meet the targets)",
    )
    _add_targets(parser, simulate=False)
    parser.set_defaults(run=run_erlang)


def _register_staff(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "staff",
        help="required agents per interval of a forecast CSV, or of a scenario by simulation",
        description=(
            "Read a forecast CSV with the columns interval,calls[,aht] and print the fewest "
            "agents per interval that meet the targets, the square-root staffing estimate "
            "beside them, and the agents to schedule after shrinkage. With --simulate "
            "SCENARIO instead, find the fewest agents per agent group (with --per-interval: "
            "per group and interval) for which simulation meets the targets with the given "
            "confidence, beside Erlang C."
        ),
    )
    parser.add_argument(
        "forecast", nargs="?", help="CSV file with columns interval,calls and optionally aht"
    )
    sim = parser.add_argument_group("simulation (with --simulate)")
    sim.add_argument(
        "--simulate",
        metavar="SCENARIO",
        help="scenario file (.toml, .json, .yaml) or 'demo' to staff by simulation (default: none, "
        "staff the forecast by Erlang C or A)",
    )
    sim.add_argument(
        "--type",
        dest="task_type",
        default="all",
        help="task type the targets apply to (default: all, every type together)",
    )
    sim.add_argument(
        "--confidence",
        type=number(low=0.5, high=1.0),
        default=0.95,
        help="one-sided confidence of the bound that must meet the target, 0.5 to 1 "
        "(default: 0.95)",
    )
    sim.add_argument(
        "--replications",
        type=integer(low=1, high=MAX_REPLICATIONS),
        help=f"replications, 1 to {MAX_REPLICATIONS} (default: the scenario's)",
    )
    sim.add_argument("--seed", type=integer(low=0), help="random seed (default: the scenario's)")
    sim.add_argument(
        "--per-interval",
        action="store_true",
        help="staff each interval of the scenario (default: one staffing for the whole period)",
    )
    sim.add_argument(
        "--cost-per-hour",
        type=number(low=0.0),
        help="cost of one agent-hour, in your currency (default: none, no cost shown)",
    )
    sim.add_argument(
        "--max-agents",
        type=integer(low=1, high=MAX_AGENTS),
        default=1000,
        help="most agents per group, a count (default: 1000)",
    )
    sim.add_argument(
        "--serial",
        action="store_true",
        help="run replications in this process (default: one worker process per CPU)",
    )
    sim.add_argument(
        "--allow-code",
        action="store_true",
        help="let the scenario load policies or strategies from Python modules (default: off)",
    )
    parser.add_argument(
        "--aht",
        type=_SECONDS,
        help="mean handle time in seconds for rows without an aht value (default: none; "
        "needed when a row has none)",
    )
    parser.add_argument(
        "--interval",
        type=_SECONDS,
        default=900.0,
        help="interval length in seconds (default: 900, a quarter hour)",
    )
    parser.add_argument(
        "--shrinkage",
        type=number(low=0.0, high=1.0, high_open=True),
        default=0.0,
        help="share of paid time not available for calls, in [0, 1) (default: 0)",
    )
    parser.add_argument(
        "--scenario-out",
        metavar="FILE",
        help="also write the forecast day with these agents per interval as a scenario file "
        "(.toml or .json) that `valueroute simulate FILE` runs (default: none)",
    )
    _add_targets(parser, simulate=True)
    parser.set_defaults(run=run_staff)


def _traffic(args: argparse.Namespace) -> float:
    if args.traffic is not None:
        if args.calls is not None or args.interval is not None:
            raise ErlangError("give the load either as --traffic or as --calls with --interval")
        return float(args.traffic)
    if args.calls is None or args.interval is None:
        raise ErlangError(
            "no load given: use --traffic ERLANGS, or --calls N --interval SECONDS --aht SECONDS"
        )
    traffic = float(args.calls) * float(args.aht) / float(args.interval)
    _check_traffic(traffic, "--calls × --aht / --interval")
    return traffic


def _check_traffic(traffic: float, where: str) -> None:
    """Refuse a load too large to compute (the formulas' arrays grow with it)."""
    if not traffic <= MAX_TRAFFIC:
        raise ErlangError(f"{where}: got {traffic:g} Erlangs (expected at most {MAX_TRAFFIC:g})")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_erlang(args: argparse.Namespace) -> int:
    traffic = _traffic(args)
    if args.awt is None:
        args.awt = DEFAULT_AWT
    has_target = any(
        value is not None for value in (args.target, args.asa, args.abandon, args.max_occupancy)
    )
    if args.agents is None and not has_target:
        raise ErlangError(
            "nothing to do: give --agents N to evaluate, or a target such as "
            "--target 0.8 --awt 20 to find the agents needed"
        )
    if args.agents is not None and has_target:
        raise ErlangError("give either --agents to evaluate or targets to staff for, not both")
    if args.agents is None:
        agents = required_agents(
            traffic,
            aht=args.aht,
            service_level=args.target,
            awt=args.awt if args.target is not None else None,
            asa=args.asa,
            abandon=args.abandon,
            max_occupancy=args.max_occupancy,
            patience=args.patience,
            definition=args.definition,
        )
    else:
        agents = args.agents
    report: dict[str, Any] = {
        "agents": int(agents),
        "traffic": traffic,
        "aht": float(args.aht),
        "awt": float(args.awt),
        "model": "erlang_a" if args.patience is not None else "erlang_c",
    }
    if args.patience is None:
        report.update(
            p_wait=erlang_c(agents, traffic),
            service_level=service_level(agents, traffic, aht=args.aht, awt=args.awt),
            asa=_finite(average_speed_of_answer(agents, traffic, aht=args.aht)),
            occupancy=occupancy(agents, traffic),
        )
    else:
        result = erlang_a(agents, traffic, aht=args.aht, patience=args.patience, awt=args.awt)
        report.update(
            patience=float(args.patience),
            p_wait=result.p_wait,
            service_level=result.service_level(args.definition),
            service_level_offered=result.service_level_offered,
            service_level_answered=result.service_level_answered,
            asa=_finite(result.asa),
            occupancy=result.occupancy,
            p_abandon=result.p_abandon,
            mean_wait=result.mean_wait,
        )
    if args.json:
        print(json.dumps(report))
        return 0
    if args.csv:
        print(csv_text(list(report), [list(report.values())]), end="")
        return 0
    model = "Erlang A" if args.patience is not None else "Erlang C"
    action = "required" if args.agents is None else "evaluated"
    print(f"{model}: {report['agents']} agents ({action}) for {traffic:.4g} Erlangs")
    asa = report["asa"]
    rows = [
        ["probability of waiting", "%", figure(report["p_wait"] * 100, "{:.2f}")],
        [
            f"service level within {args.awt:g} s",
            "%",
            figure(report["service_level"] * 100, "{:.2f}"),
        ],
        ["average speed of answer", "s", "unbounded" if asa is None else f"{asa:.1f}"],
        ["occupancy", "%", figure(report["occupancy"] * 100, "{:.2f}")],
    ]
    if "p_abandon" in report:
        rows.append(["probability of abandoning", "%", figure(report["p_abandon"] * 100, "{:.2f}")])
    print(table(["figure", "unit", "value"], rows, names=2))
    return 0


def run_staff(args: argparse.Namespace) -> int:
    if args.simulate is not None:
        return _run_staff_simulation(args)
    if args.forecast is None:
        raise ErlangError("give a forecast CSV, or --simulate SCENARIO to staff by simulation")
    forecast = read_forecast(_forecast_lines(args.forecast))
    missing_aht = forecast.aht is None or bool(np.isnan(forecast.aht).any())
    if missing_aht and args.aht is None:
        raise ErlangError(
            "the forecast has rows without an aht value: give --aht SECONDS as the default"
        )
    handles: Any
    if forecast.aht is None:
        handles = float(args.aht)
    else:
        default = float(args.aht) if args.aht is not None else 0.0
        handles = np.where(np.isnan(forecast.aht), default, forecast.aht)
    with np.errstate(over="ignore"):
        biggest = float(np.max(forecast.calls * handles)) / float(args.interval)
    _check_traffic(biggest, "forecast calls × aht / --interval")
    awt: float | None = args.awt
    if awt is None and args.target is not None:
        awt = DEFAULT_AWT
    staffing = staff_intervals(
        forecast.calls,
        interval=args.interval,
        aht=handles,
        labels=forecast.labels,
        service_level=args.target,
        awt=awt,
        asa=args.asa,
        abandon=args.abandon,
        max_occupancy=args.max_occupancy,
        patience=args.patience,
        shrinkage=args.shrinkage,
        definition=args.definition,
    )
    if args.scenario_out is not None:
        _write_forecast_scenario(args, forecast, staffing, DEFAULT_AWT if awt is None else awt)
    if args.json:
        print(staffing.to_json())
        return 0
    if args.csv:
        print(staffing.to_csv(), end="")
        return 0
    abandon = staffing.p_abandon is not None
    titles = [
        "interval",
        "calls",
        "load Erl",
        "agents",
        "sqrt agents",
        "scheduled",
        f"SL % ({0.0 if awt is None else awt:g} s)",
        "ASA s",
        "occup. %",
    ]
    if abandon:
        titles.append("aband. %")
    rows = []
    for row in staffing.rows():
        cells = [
            str(row["interval"]),
            f"{row['calls']:g}",
            f"{row['traffic']:.2f}",
            str(row["agents"]),
            str(row["sqrt_agents"]),
            str(row["scheduled"]),
            f"{row['service_level'] * 100:.1f}",
            "-" if row["asa"] is None else f"{row['asa']:.1f}",
            f"{row['occupancy'] * 100:.1f}",
        ]
        if abandon:
            cells.append(f"{row['p_abandon'] * 100:.1f}")
        rows.append(cells)
    print(table(titles, rows))
    totals = staffing.totals()
    print(
        textwrap.fill(
            f"total: {totals['calls']:g} calls, {totals['agent_intervals']} agent-intervals "
            f"({totals['scheduled_intervals']} scheduled after {args.shrinkage:.0%} shrinkage), "
            f"peak {totals['peak_agents']} agents; intervals of {args.interval:g} s",
            width=terminal_width(),
        )
    )
    return 0


def _write_forecast_scenario(
    args: argparse.Namespace, forecast: Any, staffing: Any, awt: float
) -> None:
    """Write the forecast day with the staffing's agents per interval as a scenario file.

    Agents on duty are the table's ``agents`` (shrinkage is not simulated);
    handle times follow the forecast's aht per interval; --patience makes
    callers abandon with exponential patience of that mean, as Erlang A assumes.
    """
    from valueroute.sim.planning import scenario_from_forecast, write_scenario

    minutes = {900.0: 15, 1800.0: 30, 3600.0: 60}.get(float(args.interval))
    if minutes is None:
        raise InvalidInputError(
            f"--interval: got {args.interval:g} with --scenario-out (expected 900, 1800 or 3600 "
            "seconds: a scenario's intervals are 15, 30 or 60 minutes)",
            [("--interval", args.interval, "900, 1800 or 3600")],
        )
    scenario = scenario_from_forecast(
        forecast,
        staffing=staffing,
        aht=args.aht,
        patience=(
            None
            if args.patience is None
            else {"kind": "exponential", "mean_seconds": args.patience}
        ),
        service_level=(0.8 if args.target is None else float(args.target), float(awt)),
        name=Path(args.forecast).stem or "forecast",
        interval_minutes=minutes,  # type: ignore[arg-type]
        replications=10,
    )
    path = write_scenario(scenario, args.scenario_out)
    message = f"wrote {path} (run it with: valueroute simulate {path})"
    print(message, file=sys.stderr if args.json or args.csv else sys.stdout)


def _forecast_lines(name: str) -> list[str]:
    """The lines of a forecast file, or an error naming the file and why it cannot be read."""
    path = Path(name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ErlangError(
            f"cannot read forecast {shown(name)}: {exc.strerror or type(exc).__name__}"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ErlangError(
            f"cannot read forecast {shown(name)}: not UTF-8 text (byte {exc.start}); "
            "expected a UTF-8 CSV with the columns interval,calls[,aht]"
        ) from None
    return text.splitlines(keepends=True)


_FORECAST_ONLY = ("patience", "max_occupancy")


def _run_staff_simulation(args: argparse.Namespace) -> int:
    from valueroute.scenarios import load_scenario
    from valueroute.sim.run import InlineExecutor
    from valueroute.sim.staffing import (
        IntervalStaffingResult,
        StaffingResult,
        StaffingTarget,
        staff_by_simulation,
        staff_intervals_by_simulation,
    )

    if args.forecast is not None:
        raise InvalidInputError(
            f"forecast: got {args.forecast!r} together with --simulate (expected one of them)",
            [("forecast", args.forecast, "no forecast with --simulate")],
        )
    for name in _FORECAST_ONLY:
        if getattr(args, name) not in (None, False):
            option = "--" + name.replace("_", "-")
            raise InvalidInputError(
                f"{option}: got {getattr(args, name)!r} with --simulate (expected it only with "
                "a forecast; the scenario describes patience itself)",
                [(option, getattr(args, name), "not given with --simulate")],
            )
    if args.scenario_out is not None:
        raise InvalidInputError(
            f"--scenario-out: got {shown(args.scenario_out)} with --simulate (expected it only "
            "with a forecast: the scenario is already a file)",
            [("--scenario-out", args.scenario_out[:80], "not given with --simulate")],
        )
    if args.shrinkage:
        raise InvalidInputError(
            f"--shrinkage: got {args.shrinkage!r} with --simulate (expected it only with a "
            "forecast)",
            [("--shrinkage", args.shrinkage, "not given with --simulate")],
        )
    if args.awt is not None and args.target is None:
        raise InvalidInputError(
            f"--awt: got {args.awt:g} without --target (expected --awt only with a "
            "service-level --target, whose threshold it sets)",
            [("--awt", args.awt, "given with --target")],
        )
    target = StaffingTarget(
        task_type=args.task_type,
        service_level=args.target,
        awt=args.awt if args.target is not None else None,
        asa=args.asa,
        abandon=args.abandon,
    )
    scenario = load_scenario(args.simulate)
    inner: Executor = InlineExecutor()
    if not args.serial and (os.cpu_count() or 1) > 1:
        inner = ProcessPoolExecutor(max_workers=os.cpu_count() or 1)
    progress = ProgressLine(f"staffing {scenario.name} by simulation")
    executor = CountingExecutor(inner, progress, "replications run")
    options = {
        "targets": target,
        "confidence": args.confidence,
        "replications": args.replications,
        "seed": args.seed,
        "max_agents": args.max_agents,
        "cost_per_hour": args.cost_per_hour,
        "executor": executor,
        "allow_code": args.allow_code,
    }
    try:
        result: StaffingResult | IntervalStaffingResult = (
            staff_intervals_by_simulation(scenario, **options)
            if args.per_interval
            else staff_by_simulation(scenario, **options)
        )
    finally:
        progress.close()
        inner.shutdown()
    if args.json:
        print(result.to_json())
    elif args.csv:
        print(_staffing_csv(result), end="")
    elif isinstance(result, StaffingResult):
        _print_staffing(result, target, scenario)
    else:
        _print_interval_staffing(result, target, scenario)
    return 0


def _target_text(target: Any, scenario: Any, confidence: float) -> str:
    """What the staffing had to meet, with the service level's threshold in seconds."""
    goals = []
    if target.service_level is not None:
        if target.awt is not None:
            within = f"{target.awt:g} s"
        else:
            within = (
                "T ("
                + ", ".join(
                    f"{t.name} {t.sla_seconds:g} s"
                    for t in scenario.task_types
                    if target.task_type in ("all", t.name)
                )
                + ")"
            )
        goals.append(f"service level >= {target.service_level:.0%} within {within}")
    if target.asa is not None:
        goals.append(f"ASA <= {target.asa:g} s")
    if target.abandon is not None:
        goals.append(f"abandoned <= {target.abandon:.1%}")
    return (
        f"{scenario.name}: fewest agents for which the {confidence:.0%} one-sided bound of "
        f"type {target.task_type} meets " + ", ".join(goals)
    )


def _print_staffing(result: Any, target: Any, scenario: Any) -> None:
    width = terminal_width()
    print(textwrap.fill(_target_text(target, scenario, result.confidence), width=width) + "\n")
    rows = [
        [g, f"{result.offered_load[g]:.2f}", str(result.erlang[g]), str(result.staffing[g])]
        for g in result.groups
    ]
    rows.append(
        ["agent-hours", "", f"{result.erlang_agent_hours:.1f}", f"{result.agent_hours:.1f}"]
    )
    if not math.isnan(result.cost(result.staffing)):
        cost = [f"{result.cost(result.erlang):.2f}", f"{result.cost(result.staffing):.2f}"]
        rows.append(["cost", "", *cost])
    titles = ["group", "load Erl", "Erlang C agents", "simulation agents"]
    print(table(titles, rows, width=width))
    print()
    for check in result.checks:
        print(
            textwrap.fill(
                f"{check.task_type} {check.kpi}: mean {check.mean:.4f}, {result.confidence:.0%} "
                f"bound {check.bound:.4f}, goal {check.goal:g}",
                width=width,
                initial_indent="  ",
                subsequent_indent="    ",
            )
        )
    print(f"{len(result.evaluations)} staffings simulated, {result.runs} replications in all")


def _print_interval_staffing(result: Any, target: Any, scenario: Any) -> None:
    width = terminal_width()
    print(textwrap.fill(_target_text(target, scenario, result.confidence), width=width) + "\n")
    totals = result.totals()
    titles = ["start h", "offered", "Erlang C agents", "simulation agents", *result.groups]
    titles.append("whole-day check")
    rows = []
    for i in range(result.intervals):
        verdict = "; ".join(
            f"{c.kpi} {c.mean:.3f}{'' if c.met else ' (missed)'}" for c in result.day_checks[i]
        )
        rows.append(
            [
                f"{i * result.interval_seconds / 3600.0:.2f}",
                f"{result.offered[i]:.1f}",
                str(result.erlang[i]),
                str(totals[i]),
                *(str(result.headcount[g][i]) for g in result.groups),
                verdict,
            ]
        )
    print(table(titles, rows, text=(len(titles) - 1,), width=width))
    print(
        textwrap.fill(
            f"agent-hours: Erlang C {result.erlang_agent_hours:.1f}, simulation "
            f"{result.agent_hours:.1f}; {result.staffings_simulated} staffings simulated, "
            f"{result.runs} replications in all",
            width=width,
        )
    )


def _staffing_csv(result: Any) -> str:
    """Whole period: one row per group; per interval: one row per interval and group."""
    from valueroute.sim.staffing import StaffingResult

    if isinstance(result, StaffingResult):
        rows: list[list[Any]] = [
            [g, result.offered_load[g], result.erlang[g], result.staffing[g]] for g in result.groups
        ]
        return csv_text(["group", "load_erlangs", "erlang_c_agents", "simulation_agents"], rows)
    rows = []
    for index in range(len(result.offered)):
        start = index * result.interval_seconds
        for group in result.groups:
            rows.append(
                [
                    start,
                    result.offered[index],
                    result.erlang[index],
                    group,
                    result.headcount[group][index],
                ]
            )
    header = ["start_seconds", "offered", "erlang_c_agents", "group", "simulation_agents"]
    return csv_text(header, rows)
