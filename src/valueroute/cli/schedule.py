"""``valueroute schedule``: the cheapest roster of shifts for required agents per interval."""

from __future__ import annotations

import argparse
import csv
import io
import textwrap
from pathlib import Path

from valueroute.cli import integer, number, output_folder, shown, write_failure
from valueroute.cli.output import ProgressLine, table, terminal_width
from valueroute.errors import InvalidInputError
from valueroute.schedule import (
    RepairResult,
    Schedule,
    ScheduleSpec,
    load_schedule_spec,
    repair_by_simulation,
    solve_schedule,
)

__all__ = ["read_requirements", "register", "run_schedule"]

MAX_REPLICATIONS = 10_000
_COLUMNS = ("required", "scheduled", "agents")
"""Requirement columns a CSV may hold, in the order they are looked for."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="the cheapest roster of shifts (with breaks) for required agents per interval",
        description=(
            "Read a schedule spec (.toml, .json, .yaml: interval length, shift templates with "
            "starts, lengths, breaks and costs, head-count limits, optional days off and "
            "budget) and required agents per interval (in the spec, or --requirements CSV), "
            "and print the cheapest roster, proven optimal by a mixed-integer program. With "
            "--simulate SCENARIO, simulate the roster and add the cheapest shifts where an "
            "interval misses the targets, until they hold."
        ),
    )
    parser.add_argument("spec", help="schedule spec file (.toml, .json, .yaml)")
    parser.add_argument(
        "--requirements",
        metavar="FILE",
        help="CSV of required agents per interval: the column 'required', else 'scheduled' "
        "(what `valueroute staff --csv` prints after shrinkage), else 'agents' "
        "(default: the spec's requirements)",
    )
    parser.add_argument(
        "--budget",
        type=number(low=0.0),
        help="most the roster may cost; coverage may then fall short (default: the spec's, "
        "else full coverage)",
    )
    parser.add_argument(
        "--time-limit",
        type=number(low=0.0, low_open=True, high=86_400.0),
        help="seconds the solver may take (default: the spec's, else 60)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of tables")
    shape.add_argument("--csv", action="store_true", help="print the interval table as CSV")
    parser.add_argument(
        "--out",
        help="folder to write schedule.json, intervals.csv and shifts.csv into (created; "
        "default: none)",
    )
    sim = parser.add_argument_group("simulate and repair (with --simulate)")
    sim.add_argument(
        "--simulate",
        metavar="SCENARIO",
        help="scenario file the roster is simulated in (default: none, no simulation)",
    )
    sim.add_argument(
        "--group",
        help="agent group of the scenario that works the roster (default: its only group)",
    )
    sim.add_argument(
        "--offset",
        type=number(low=0.0, high=1e9),
        default=0.0,
        help="scenario second at which the schedule's first interval begins (default: 0)",
    )
    sim.add_argument(
        "--service-level",
        type=number(low=0.0, high=1.0),
        help="target share answered within --awt in every interval, 0 to 1 (default: 0.8 "
        "when no target is given)",
    )
    sim.add_argument(
        "--awt",
        type=number(low=0.0),
        help="seconds of the service-level target (default: each task type's sla_seconds)",
    )
    sim.add_argument(
        "--asa",
        type=number(low=0.0),
        help="target most mean wait, in seconds (default: no mean-wait target)",
    )
    sim.add_argument(
        "--abandon",
        type=number(low=0.0, high=1.0),
        help="target most abandonment share, 0 to 1 (default: no abandonment target)",
    )
    sim.add_argument(
        "--type",
        dest="task_type",
        default="all",
        help="task type the targets apply to (default: all types together)",
    )
    sim.add_argument(
        "--replications",
        type=integer(low=1, high=MAX_REPLICATIONS),
        default=10,
        help="replications per round (default: 10)",
    )
    sim.add_argument("--seed", type=integer(low=0), help="random seed (default: the scenario's)")
    sim.add_argument(
        "--confidence",
        type=number(low=0.5, high=1.0, high_open=True),
        default=0.5,
        help="one-sided confidence of the bound that must meet a target, 0.5 (the pooled "
        "figure itself) to below 1 (default: 0.5)",
    )
    sim.add_argument(
        "--min-offered",
        type=number(low=0.0),
        default=1.0,
        help="intervals with fewer tasks per replication are not judged (default: 1)",
    )
    sim.add_argument(
        "--max-rounds",
        type=integer(low=0, high=1000),
        default=10,
        help="most repair rounds (default: 10)",
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
    parser.set_defaults(run=run_schedule)


def read_requirements(path: str) -> list[int]:
    """Required agents per interval from a CSV file (see ``--requirements``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or "not readable"
        raise InvalidInputError(
            f"--requirements: got {shown(path)} (cannot be read: {reason}; expected a CSV file)",
            [("--requirements", path[:160], "a readable CSV file")],
        ) from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        fields = [name.strip() for name in reader.fieldnames or []]
        column = next((name for name in _COLUMNS if name in fields), None)
        if column is None:
            raise InvalidInputError(
                f"--requirements: columns {shown(','.join(fields))[:120]} have none of "
                f"{', '.join(_COLUMNS)} (expected a column of required agents per interval)",
                [("--requirements", fields, f"a column named one of {_COLUMNS}")],
            )
        values: list[int] = []
        for line, row in enumerate(reader, start=2):
            cell = next(
                (
                    (value or "").strip()
                    for key, value in row.items()
                    if key and key.strip() == column
                ),
                "",
            )
            if not (cell.isascii() and cell.isdigit()) or len(cell) > 6:
                raise InvalidInputError(
                    f"--requirements line {line}: {column} got {shown(cell)} (expected a whole "
                    "number of agents >= 0)",
                    [(f"--requirements line {line}", cell[:40], "a whole number >= 0")],
                )
            values.append(int(cell))
    except csv.Error as exc:
        raise InvalidInputError(
            f"--requirements: not a readable CSV ({str(exc)[:120]})",
            [("--requirements", path[:160], "a CSV file")],
        ) from None
    if not values:
        raise InvalidInputError(
            "--requirements: the file has no rows (expected one row per interval)",
            [("--requirements", path[:160], "one row per interval")],
        )
    return values


def _spec(args: argparse.Namespace) -> ScheduleSpec:
    spec = load_schedule_spec(args.spec)
    changes: dict[str, object] = {}
    if args.budget is not None:
        changes["budget"] = args.budget
    if args.time_limit is not None:
        changes["time_limit_seconds"] = args.time_limit
    if not changes:
        return spec
    return ScheduleSpec.model_validate({**spec.model_dump(), **changes})


def _targets(args: argparse.Namespace) -> object:
    from valueroute.sim.staffing import StaffingTarget

    level = args.service_level
    if level is None and args.asa is None and args.abandon is None:
        level = 0.8
    if args.awt is not None and level is None:
        raise InvalidInputError(
            f"--awt: got {args.awt:g} without --service-level (expected --awt only with a "
            "service-level target)",
            [("--awt", args.awt, "--service-level too")],
        )
    return StaffingTarget(
        task_type=args.task_type,
        service_level=level,
        awt=args.awt,
        asa=args.asa,
        abandon=args.abandon,
    )


def run_schedule(args: argparse.Namespace) -> int:
    spec = _spec(args)
    folder = None if args.out is None else output_folder(args.out)
    requirements = None if args.requirements is None else read_requirements(args.requirements)
    if requirements is None and spec.requirements is None:
        raise InvalidInputError(
            "requirements: the spec has none (expected requirements = [...] in the spec, or "
            "--requirements FILE)",
            [("requirements", None, "requirements in the spec or --requirements")],
        )
    repaired: RepairResult | None = None
    if args.simulate is None:
        schedule = solve_schedule(requirements, spec)
    else:
        repaired = _repair(args, spec, requirements)
        schedule = repaired.schedule
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            document = repaired.to_json() if repaired is not None else schedule.to_json()
            (folder / "schedule.json").write_text(document, encoding="utf-8")
            (folder / "intervals.csv").write_text(schedule.to_csv("intervals"), encoding="utf-8")
            (folder / "shifts.csv").write_text(schedule.to_csv("shifts"), encoding="utf-8")
        except OSError as exc:
            raise write_failure("--out", folder, exc) from None
    if args.json:
        print(repaired.to_json() if repaired is not None else schedule.to_json())
        return 0
    if args.csv:
        print(schedule.to_csv("intervals"), end="")
        return 0
    _print_schedule(schedule)
    if repaired is not None:
        _print_repair(repaired)
    if folder is not None:
        print(f"\nwritten: {folder / 'schedule.json'}, intervals.csv and shifts.csv")
    return 0


def _repair(
    args: argparse.Namespace, spec: ScheduleSpec, requirements: list[int] | None
) -> RepairResult:
    from valueroute.scenarios import load_scenario
    from valueroute.sim.run import InlineExecutor

    scenario = load_scenario(args.simulate)
    progress = ProgressLine("simulating the roster")
    try:
        return repair_by_simulation(
            scenario,
            spec,
            requirements,
            targets=_targets(args),  # type: ignore[arg-type]
            group=args.group,
            offset_seconds=args.offset,
            replications=args.replications,
            seed=args.seed,
            confidence=args.confidence,
            min_offered=args.min_offered,
            max_rounds=args.max_rounds,
            executor=InlineExecutor() if args.serial else None,
            allow_code=args.allow_code,
        )
    finally:
        progress.close()


def _print_schedule(schedule: Schedule) -> None:
    width = terminal_width()
    totals = schedule.totals()
    verdict = "proven optimal" if schedule.status == "optimal" else "time limit reached"
    print(
        textwrap.fill(
            f"{schedule.agents} shifts, {schedule.paid_hours:g} paid hours, cost "
            f"{schedule.cost:.2f} ({verdict}, {schedule.solve_seconds:.2f} s); "
            f"{'every interval covered' if schedule.covered else 'short in some intervals'}, "
            f"{totals['over_coverage_hours']:g} agent-hours above the requirement",
            width=width,
        )
    )
    print()
    several_days = any(shift.day for shift in schedule.shifts)
    rows = [
        [
            row["template"],
            *([str(row["day"])] if several_days else []),
            f"{row['start']}-{row['end']}",
            str(row["count"]),
            row["breaks"] or "-",
            f"{row['paid_hours']:g}",
            f"{row['cost']:.2f}",
        ]
        for row in schedule.shift_rows()
    ]
    titles = ["template", *(["day"] if several_days else []), "shift", "count"]
    titles += ["breaks (start+min)", "paid h", "cost"]
    print(table(titles, rows, text=(len(titles) - 3,), width=width))
    print()
    rows = [
        [
            row["interval"],
            str(row["requirement"]),
            str(row["headcount"]),
            f"{row['coverage']:+d}",
        ]
        for row in schedule.interval_rows()
    ]
    print(table(["interval", "required", "on duty", "over/under"], rows, width=width))


def _print_repair(result: RepairResult) -> None:
    width = terminal_width()
    print()
    rows = [
        [
            str(r.round),
            f"{r.cost:.2f}",
            str(r.shifts),
            str(len({c.interval for c in r.missed})),
            f"{r.added_cost:+.2f}",
        ]
        for r in result.rounds
    ]
    print(table(["round", "cost", "shifts", "intervals missed", "added"], rows, width=width))
    verdict = "converged" if result.converged else "not converged"
    print(textwrap.fill(f"{verdict}: {result.reason} ({result.seconds:.1f} s)", width=width))
    if result.skipped:
        labels = ", ".join(result.schedule.labels[t] for t in result.skipped)
        print(textwrap.fill(f"not judged (too few tasks): {labels}", width=width))
