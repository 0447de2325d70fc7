"""``valueroute forecast``: interval volumes for the coming days, from a log of arrivals.

Reads the Anonymous Bank layout (``excerpt`` for the bundled three days, or
the path of the cleaned file) or, with ``--timestamps``, any CSV with one
arrival per row; prints one line per forecast day, or the whole forecast as
CSV; with ``--out`` it also writes, per day, the ``interval,calls,aht`` CSV
``valueroute staff`` reads and the arrival-profile CSV the simulator reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from valueroute.calendar import WEEKDAYS, load_calendar
from valueroute.cli import integer, iso_day, number, output_folder, write_failure
from valueroute.cli.output import csv_text, table
from valueroute.datasets import load_anonymous_bank
from valueroute.errors import InvalidInputError
from valueroute.forecast import MODELS, ArrivalLog, IntervalForecast, forecast_volumes
from valueroute.forecast import read_arrivals_csv as _read_arrivals_csv

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``forecast`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "forecast",
        help="forecast interval volumes per type for the coming days from a log of arrivals",
        description=(
            "Train on the log's days before --start and forecast --days days from it, interval "
            "by interval and type by type, with prediction intervals. LOG is 'excerpt' (the "
            "bundled Anonymous Bank days), the cleaned Anonymous Bank CSV, or with --timestamps "
            "any CSV with one arrival per row."
        ),
    )
    parser.add_argument("log", help="'excerpt', or the path of the log (CSV, plain or gzip)")
    parser.add_argument(
        "--start",
        type=iso_day,
        required=True,
        help="first day to forecast, YYYY-MM-DD (required, no default)",
    )
    parser.add_argument(
        "--days", type=integer(low=1, high=3660), default=7, help="days to forecast (default: 7)"
    )
    parser.add_argument(
        "--model", choices=MODELS, default="profile", help="forecasting model (default: profile)"
    )
    parser.add_argument(
        "--interval-minutes",
        type=int,
        choices=(15, 30, 60),
        default=60,
        help="interval length (default: 60)",
    )
    parser.add_argument(
        "--train-start", type=iso_day, help="first training day (default: the log's first)"
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
        help="business calendar file (.toml, .json, .yaml): days it keeps closed are closed "
        "days (default: none)",
    )
    parser.add_argument(
        "--eves-like",
        choices=WEEKDAYS,
        help="forecast an eve without precedent as this weekday (default: as a regular day)",
    )
    parser.add_argument(
        "--level",
        type=number(low=0.0, high=1.0, low_open=True, high_open=True),
        default=0.8,
        help="coverage of the prediction intervals (default: 0.8)",
    )
    parser.add_argument(
        "--seed", type=integer(low=0, high=2**63 - 1), default=0, help="random seed (default: 0)"
    )
    timestamps = parser.add_argument_group("a CSV of timestamps (with --timestamps)")
    timestamps.add_argument(
        "--timestamps", action="store_true", help="read LOG as one arrival per row"
    )
    timestamps.add_argument(
        "--time-column",
        default="timestamp",
        help="column of local ISO date-times (default: timestamp)",
    )
    timestamps.add_argument(
        "--type-column", help="column of task types (default: none, every arrival 'all')"
    )
    parser.add_argument(
        "--out",
        metavar="FOLDER",
        help="also write forecast.csv and, per day, staff-DAY.csv (for valueroute staff) and "
        "profiles-DAY.csv (the simulator's arrival profiles) into FOLDER (default: none)",
    )
    parser.add_argument(
        "--csv", action="store_true", help="print the whole forecast as CSV instead of a summary"
    )
    parser.set_defaults(run=run)


def _log(args: argparse.Namespace) -> ArrivalLog:
    if args.timestamps:
        if args.log == "excerpt":
            raise InvalidInputError(
                "log: got 'excerpt' with --timestamps (expected the path of a CSV of timestamps)",
                [("log", "excerpt", "a CSV path")],
            )
        return _read_arrivals_csv(
            args.log, time_column=args.time_column, type_column=args.type_column
        )
    return ArrivalLog.from_calls(load_anonymous_bank(None if args.log == "excerpt" else args.log))


def _rows(forecast: IntervalForecast) -> list[list[object]]:
    rows: list[list[object]] = []
    for d, day in enumerate(forecast.days):
        for i, label in enumerate(forecast.labels):
            for t, task_type in enumerate(forecast.task_types):
                rows.append(
                    [
                        day.isoformat(),
                        forecast.kinds[d],
                        label,
                        task_type,
                        float(forecast.volume[d, i, t]),
                        float(forecast.lower[d, i, t]),
                        float(forecast.upper[d, i, t]),
                        float(forecast.aht[i, t]),
                    ]
                )
    return rows


_HEADER = ["day", "kind", "interval_start", "task_type", "volume", "lower", "upper", "aht"]


def _write(folder: Path, forecast: IntervalForecast) -> list[Path]:
    from valueroute.sim.planning import write_profile_csv

    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "forecast.csv"
        path.write_text(csv_text(_HEADER, _rows(forecast)), encoding="utf-8")
        written.append(path)
        for day in forecast.days:
            written.append(forecast.write_forecast_csv(folder / f"staff-{day}.csv", day=day))
            written.append(
                write_profile_csv(forecast.to_profiles(day), folder / f"profiles-{day}.csv")
            )
    except OSError as exc:
        raise write_failure("--out", folder, exc) from None
    return written


def run(args: argparse.Namespace) -> int:
    """Run ``valueroute forecast``; returns the exit code."""
    folder = None if args.out is None else output_folder(args.out)
    log = _log(args)
    forecast = forecast_volumes(
        log,
        start=args.start,
        days=args.days,
        model=args.model,
        train_start=args.train_start,
        interval_minutes=args.interval_minutes,
        calendar=None if args.calendar is None else load_calendar(args.calendar),
        holidays=None if args.holidays is None else {"country": args.holidays},
        eves_like=args.eves_like,
        level=args.level,
        seed=args.seed,
    )
    if args.csv:
        print(csv_text(_HEADER, _rows(forecast)), end="")
    else:
        percent = f"{forecast.level:.0%}"
        rows = []
        for d, day in enumerate(forecast.days):
            busiest = int(np.argmax(forecast.total[d]))
            low, high = forecast.total_lower[d, busiest], forecast.total_upper[d, busiest]
            rows.append(
                [
                    f"{day} {day.strftime('%a')}",
                    forecast.kinds[d],
                    f"{forecast.total[d].sum():.0f}",
                    forecast.labels[busiest],
                    f"{forecast.total[d, busiest]:.0f}",
                    f"{low:.0f}-{high:.0f}",
                ]
            )
        print(
            f"{forecast.model} forecast of {len(forecast.task_types)} task type(s), "
            f"{forecast.interval_minutes}-minute intervals, {percent} prediction intervals"
        )
        print(
            table(
                ["day", "kind", "calls", "busiest", "its calls", f"{percent} interval"],
                rows,
                text=(1, 3),
            )
        )
    if folder is not None:
        written = _write(folder, forecast)
        print(f"wrote {len(written)} files into {folder}")
    return 0
