"""``valueroute backtest``: predict days of a call log from the days before them, and score.

Reads the Anonymous Bank layout (``excerpt`` for the bundled three days, or
the path of the cleaned file), runs :func:`valueroute.backtest.run_backtest`
and prints one line per KPI with the model's and the naive baseline's
errors; ``--json`` prints the whole result, ``--csv`` one row per day and
interval.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from valueroute.backtest import CLASSES, KPIS, SUPPLIES, BacktestResult, run_backtest
from valueroute.calendar import WEEKDAYS, load_calendar
from valueroute.cli import integer, iso_day, number, shown
from valueroute.cli.output import csv_text, figure, table
from valueroute.datasets import load_anonymous_bank
from valueroute.forecast import MODELS

__all__ = ["register", "run"]


def _weekdays(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [w for w in chosen if w not in WEEKDAYS]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(
            f"got {shown(text)} (expected weekday keys among {', '.join(WEEKDAYS)}, "
            "separated by commas)"
        )
    return chosen


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``backtest`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "backtest",
        help="predict days of a call log from the days before them, simulate, and score",
        description=(
            "Forecast the prediction window's volumes, fit handle times and patience, take the "
            "supply from --roster or estimate it (--supply), all from the training window only; "
            "simulate each predicted day and compare per interval with the log (volume, share "
            "queued, abandonment, mean wait of served calls, service level), beside a naive "
            "baseline "
            "(the last weeks' figures of the same weekday and interval). LOG is 'excerpt' (the "
            "bundled Anonymous Bank days) or the cleaned Anonymous Bank CSV."
        ),
    )
    parser.add_argument(
        "log", help="'excerpt', or the path of the cleaned log (CSV, plain or gzip)"
    )
    parser.add_argument(
        "--train",
        nargs=2,
        type=iso_day,
        metavar=("FIRST", "LAST"),
        required=True,
        help="training window, first and last day included (required, no default)",
    )
    parser.add_argument(
        "--predict",
        nargs=2,
        type=iso_day,
        metavar=("FIRST", "LAST"),
        required=True,
        help="prediction window, first and last day included (required, no default)",
    )
    parser.add_argument(
        "--roster",
        metavar="FILE",
        help="roster CSV (interval and agents or scheduled columns, optional day column) "
        "(default: estimated from the training weeks)",
    )
    parser.add_argument(
        "--supply",
        choices=SUPPLIES,
        default="counted",
        help="without --roster, how the supply is estimated from the training weeks: "
        "'counted' (agents the log shows serving while callers waited) or 'calibrated' "
        "(that count adjusted until simulating the training days reproduces their share "
        "queued and abandoned) (default: counted)",
    )
    parser.add_argument(
        "--classes",
        choices=CLASSES,
        default="one",
        help="how waiting callers are modelled: 'one' (one class served in order of arrival) "
        "or 'priority' (the bank's two classes: high-priority callers with a 90 s head start "
        "and their own patience, in the share the training days' queued calls show) "
        "(default: one)",
    )
    parser.add_argument(
        "--replications",
        type=integer(low=1, high=1000),
        default=5,
        help="simulations of each predicted day (default: 5)",
    )
    parser.add_argument(
        "--seed", type=integer(low=0, high=2**63 - 1), default=0, help="random seed (default: 0)"
    )
    parser.add_argument(
        "--hours",
        nargs=2,
        type=integer(low=0, high=24),
        metavar=("FIRST", "END"),
        default=[0, 24],
        help="score the intervals from FIRST to END o'clock (default: 0 24)",
    )
    parser.add_argument(
        "--weekdays",
        type=_weekdays,
        help="score only these weekdays, e.g. sun,mon,tue,wed,thu (default: every day)",
    )
    parser.add_argument(
        "--interval-minutes",
        type=int,
        choices=(15, 30, 60),
        default=60,
        help="interval length (default: 60)",
    )
    parser.add_argument(
        "--model", choices=MODELS, default="profile", help="forecasting model (default: profile)"
    )
    parser.add_argument(
        "--awt",
        type=number(low=0.0, high=1e9),
        default=20.0,
        help="service level's target answer time in seconds (default: 20)",
    )
    parser.add_argument(
        "--holidays",
        metavar="COUNTRY",
        help="country code for holidays and eves from the holidays package, e.g. IL "
        "(default: none)",
    )
    parser.add_argument(
        "--calendar",
        metavar="FILE",
        help="business calendar file (.toml, .json, .yaml) (default: none)",
    )
    parser.add_argument(
        "--eves-like",
        choices=WEEKDAYS,
        help="forecast an eve without precedent as this weekday (default: as a regular day)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    shape.add_argument(
        "--csv", action="store_true", help="print one row per day and interval as CSV"
    )
    parser.set_defaults(run=run)


_UNITS = {
    "volume": ("calls/day", 1.0, "{:.1f}"),
    "queued_share": ("points", 100.0, "{:.1f}"),
    "abandonment": ("points", 100.0, "{:.1f}"),
    "mean_wait": ("seconds", 1.0, "{:.1f}"),
    "service_level": ("points", 100.0, "{:.1f}"),
}


def _summary(result: BacktestResult) -> str:
    errors, naive = result.errors, result.naive_errors
    rows = []
    for kpi in KPIS:
        unit, scale, pattern = _UNITS[kpi]
        mine, base = errors[kpi], naive[kpi]
        period_scale = scale / len(result.days) if kpi == "volume" else scale
        rows.append(
            [
                kpi,
                unit,
                figure(scale * mine.hour_mae, pattern),
                figure(scale * base.hour_mae, pattern),
                f"{mine.hours_within_15pct}/{mine.hours}",
                figure(period_scale * mine.period_observed, pattern),
                figure(period_scale * mine.period_predicted, pattern),
                figure(period_scale * base.period_predicted, pattern),
            ]
        )
    head = (
        f"back-test of {len(result.days)} day(s) {result.days[0]} to {result.days[-1]}, "
        f"hours {result.hours[0]:02d}-{result.hours[1]:02d}, trained on {result.train[0]} to "
        f"{result.train[1]}; {result.replications} replication(s), supply {result.roster_source}"
        + (", priority classes" if result.classes == "priority" else "")
    )
    titles = [
        "kpi",
        "unit",
        "hourly error",
        "naive",
        "hours ±15%",
        "observed",
        "predicted",
        "naive",
    ]
    return head + "\n" + table(titles, rows, text=(1,))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``valueroute backtest``; returns the exit code."""
    calendar = None if args.calendar is None else load_calendar(args.calendar)
    calls = load_anonymous_bank(None if args.log == "excerpt" else args.log)
    result = run_backtest(
        calls,
        train=tuple(args.train),
        predict=tuple(args.predict),
        roster=args.roster,
        supply=args.supply,
        classes=args.classes,
        replications=args.replications,
        seed=args.seed,
        hours=tuple(args.hours),
        weekdays=args.weekdays,
        interval_minutes=args.interval_minutes,
        model=args.model,
        awt=args.awt,
        calendar=calendar,
        holidays=None if args.holidays is None else {"country": args.holidays},
        eves_like=args.eves_like,
    )
    if args.json:
        print(json.dumps(_plain(result.to_dict()), indent=2))
    elif args.csv:
        columns = result.columns()
        header = list(columns)
        rows = [list(row) for row in zip(*columns.values(), strict=True)]
        print(csv_text(header, rows), end="")
    else:
        print(_summary(result))
    return 0
