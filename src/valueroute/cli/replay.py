"""``valueroute replay``: replay recorded days of a call log and compare with what happened.

Reads the Anonymous Bank layout (``excerpt`` for the bundled three days, or
the path of the cleaned file), runs :func:`valueroute.replay.build_replay`
and :func:`valueroute.replay.run_replay`, and prints per hour the observed
and simulated abandonment and mean wait; ``--json`` prints every figure,
``--csv`` the hours as CSV, and ``--calls-csv FILE`` writes every call's
outcome, observed and in each replication.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from valueroute.cli import integer, iso_day, shown, write_failure
from valueroute.cli.output import csv_text
from valueroute.datasets import load_anonymous_bank
from valueroute.errors import InvalidInputError
from valueroute.replay import HourFigures, ReplayComparison, build_replay, run_replay

__all__ = ["register", "run"]

_FIGURES = ("calls", "queued", "served", "abandoned", "mean_wait", "abandonment")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "replay",
        help="replay recorded days of a call log through the simulator and compare per hour",
        description=(
            "Every call that asked for an agent arrives at its recorded time with its recorded "
            "priority and service time; the agents available per interval are read off the "
            "moments callers waited (or, with --staffing seen, all agents seen serving); callers "
            "who hung up keep their recorded patience, served callers get one drawn beyond "
            "their recorded wait. Prints per hour the abandonment of queued calls and the mean "
            "wait of served calls, observed and simulated. LOG is 'excerpt' (the bundled "
            "Anonymous Bank days) or the cleaned Anonymous Bank CSV."
        ),
    )
    parser.add_argument(
        "log", help="'excerpt', or the path of the cleaned log (CSV, plain or gzip)"
    )
    parser.add_argument(
        "--days",
        nargs="+",
        type=iso_day,
        metavar="DAY",
        help="ISO dates to replay, need not be consecutive (default: every day in the log)",
    )
    parser.add_argument(
        "--replications",
        type=integer(low=1, high=1000),
        default=5,
        help="simulations, each redrawing the served callers' patience (default: 5)",
    )
    parser.add_argument(
        "--seed", type=integer(low=0, high=2**63 - 1), default=0, help="random seed (default: 0)"
    )
    parser.add_argument(
        "--interval-minutes",
        type=int,
        choices=(15, 30, 60),
        default=30,
        help="headcount intervals (default: 30)",
    )
    parser.add_argument(
        "--staffing",
        choices=("available", "seen"),
        default="available",
        help="headcount: agents serving while callers waited, or every agent seen serving "
        "(default: available)",
    )
    parser.add_argument(
        "--calls-csv",
        metavar="FILE",
        type=Path,
        help="also write every call's outcome, one row per call and replication "
        "(default: not written)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    shape.add_argument("--csv", action="store_true", help="print one row per hour as CSV")
    parser.set_defaults(run=run)


def _check_output(path: Path) -> None:
    """Refuse a --calls-csv that cannot be written before the (long) replay runs."""
    if path.is_dir():
        raise InvalidInputError(
            f"--calls-csv: got {shown(str(path))} (expected a file path, not a folder)",
            [("--calls-csv", str(path), "a writable file path")],
        )
    if not path.parent.is_dir():
        raise InvalidInputError(
            f"--calls-csv: got {shown(str(path))} (expected a file in an existing folder; "
            f"{shown(str(path.parent))} is not one)",
            [("--calls-csv", str(path), "a file in an existing folder")],
        )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _figures(row: HourFigures) -> dict[str, float | None]:
    values = dataclasses.asdict(row)
    return {name: _number(float(values[name])) for name in _FIGURES}


def _as_dict(comparison: ReplayComparison, days: tuple[str, ...], staffing: str) -> dict[str, Any]:
    return {
        "days": list(days),
        "staffing": staffing,
        "replications": comparison.replications,
        "hours": [
            {"hour": obs.hour, "observed": _figures(obs), "simulated": _figures(sim)}
            for obs, sim in zip(comparison.observed, comparison.simulated, strict=True)
            if obs.calls
        ],
        "all": {
            "observed": _figures(comparison.observed_all),
            "simulated": _figures(comparison.simulated_all),
        },
        "classes": {
            name: {
                "observed": _figures(obs),
                "simulated": _figures(comparison.simulated_by_class[name]),
            }
            for name, obs in comparison.observed_by_class.items()
        },
    }


def _csv_rows(comparison: ReplayComparison) -> tuple[list[str], list[list[Any]]]:
    header = ["hour"] + [
        f"{name}_{side}" for side in ("observed", "simulated") for name in _FIGURES
    ]
    rows = []
    for obs, sim in zip(comparison.observed, comparison.simulated, strict=True):
        if not obs.calls:
            continue
        observed, simulated = _figures(obs), _figures(sim)
        rows.append(
            [obs.hour]
            + [observed[name] for name in _FIGURES]
            + [simulated[name] for name in _FIGURES]
        )
    return header, rows


def _write_calls(path: Path, comparison: ReplayComparison) -> int:
    columns = comparison.calls.columns()
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(zip(*(values.tolist() for values in columns.values()), strict=True))
    except OSError as exc:
        raise write_failure("--calls-csv", path, exc) from None
    return len(columns["call_id"])


def run(args: argparse.Namespace) -> int:
    """Run ``valueroute replay``; returns the exit code."""
    if args.calls_csv is not None:
        _check_output(args.calls_csv)
    calls = load_anonymous_bank(None if args.log == "excerpt" else args.log, days=args.days)
    replay = build_replay(
        calls,
        days=args.days,
        interval_minutes=args.interval_minutes,
        staffing=args.staffing,
    )
    comparison = run_replay(replay, replications=args.replications, seed=args.seed)
    if args.json:
        print(json.dumps(_as_dict(comparison, replay.days, replay.staffing), indent=2))
    elif args.csv:
        header, rows = _csv_rows(comparison)
        print(csv_text(header, rows), end="")
    else:
        print(
            f"replay of {', '.join(replay.days)}: {len(replay.arrivals)} calls, "
            f"{comparison.replications} replication(s), staffing {replay.staffing!r}"
        )
        print("aband% = share of queued calls that hung up; wait = mean wait of served calls (s)")
        print(comparison.table())
    if args.calls_csv is not None:
        written = _write_calls(args.calls_csv, comparison)
        if not (args.json or args.csv):
            print(f"per-call outcomes: {args.calls_csv} ({written} rows)")
    return 0
