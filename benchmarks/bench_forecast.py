"""Forecast accuracy on the Anonymous Bank's full log, month by month (docs/forecasting.md).

Every month from February to October 1999 is predicted whole from the calls
before its first day; the hours 07:00-22:00 of its Sundays to Thursdays are
scored against what the log shows. The protocol (months, hours, regular days,
error measure) was fixed in docs/forecasting.md before measuring. The
baselines are computed here, in the same run, from the same counts: the
4-week same-weekday mean and last week's same weekday.

    python benchmarks/bench_forecast.py [--data PATH] [--models profile,seasonal_naive]
        [--months 2,3,...] [--draws 2000]

Without the full file (``../shared/data`` beside the checkout, or ``--data``)
it says so, writes a JSON that says so, and stops with status 0.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

from valueroute.calendar import BusinessCalendar
from valueroute.datasets import load_anonymous_bank
from valueroute.forecast import MODELS, ArrivalLog, day_kinds, forecast_volumes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import results_dir

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "anonymous_bank_1999_calls_clean.csv.gz"
)
DAILY = DEFAULT_DATA.parent / "anonymous_bank_1999_daily_metrics_thirdparty.csv.gz"
HOURS = slice(7, 22)
WORKING = {6, 0, 1, 2, 3}  # Sunday to Thursday (date.weekday(): Monday is 0)
HOLIDAYS = {"country": "IL"}
# The bank's opening hours (the data's documentation), closed on public holidays.
BANK = BusinessCalendar(
    timezone="Asia/Jerusalem",
    hours={
        **{day: [("07:00", "24:00")] for day in ("sun", "mon", "tue", "wed", "thu")},
        "fri": [("07:00", "14:00")],
        "sat": [("20:00", "24:00")],
    },
    holidays=HOLIDAYS,
)


def month_days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((following - first).days)]


def baselines(
    log: ArrivalLog, first: dt.date, days: list[dt.date]
) -> dict[str, dict[dt.date, np.ndarray]]:
    """Hourly counts of the 4-week same-weekday mean and of last week, per target day."""
    observed = set(log.observed_days)
    before = [first - dt.timedelta(days=i) for i in range(1, 29)]
    kept = [d for d in before if d in observed]
    counts = log.counts(kept, interval_minutes=60, task_types=log.task_types).sum(axis=2)
    by_day = dict(zip(kept, counts, strict=True))
    mean4: dict[dt.date, np.ndarray] = {}
    last: dict[dt.date, np.ndarray] = {}
    for day in days:
        same = [d for d in kept if d.weekday() == day.weekday()]
        mean4[day] = np.mean([by_day[d] for d in same], axis=0)
        last[day] = by_day[max(same)]
    return {"4-week mean": mean4, "last week": last}


def hourly_handle(log: ArrivalLog, days: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """Served calls and their summed handle time per day and hour of arrival."""
    count = np.zeros((len(days), 24))
    total = np.zeros((len(days), 24))
    row_of = {d: i for i, d in enumerate(days)}
    rows = np.array([row_of.get(d, -1) for d in log.day.tolist()])
    served = (rows >= 0) & ~np.isnan(log.handle_time)
    hours = (log.seconds[served] // 3600).astype(int)
    np.add.at(count, (rows[served], hours), 1.0)
    np.add.at(total, (rows[served], hours), log.handle_time[served])
    return count, total


def handle_errors(predicted: np.ndarray, count: np.ndarray, total: np.ndarray) -> dict[str, float]:
    """Hourly AHT error weighted by served calls, and the error of the period's mean."""
    seen = count > 0
    actual = np.where(seen, total / np.where(seen, count, 1.0), 0.0)
    hourly = float((count * np.abs(predicted - actual))[seen].sum() / total[seen].sum())
    mean_predicted = float((count * predicted)[seen].sum() / count[seen].sum())
    mean_actual = float(total[seen].sum() / count[seen].sum())
    return {"hourly": hourly, "period_mean": mean_predicted / mean_actual - 1.0}


def daily_totals(path: Path) -> dict[dt.date, float]:
    """``total_calls`` per day of the third-party daily aggregates."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return {
            dt.date.fromisoformat(row["date"]): float(row["total_calls"])
            for row in csv.DictReader(handle)
        }


def holdout(log: ArrivalLog, path: Path, models: list[str], draws: int) -> list[dict[str, object]]:
    """November and December's daily totals, predicted from the log up to October."""
    actual_by_day = daily_totals(path)
    start = dt.date(1999, 11, 1)
    span = 61
    rows: list[dict[str, object]] = []
    forecasts = {
        model: forecast_volumes(
            log,
            start=start,
            days=span,
            model=model,  # type: ignore[arg-type]
            calendar=BANK,
            holidays=HOLIDAYS,
            eves_like="fri",
            draws=draws,
            seed=11,
        )
        for model in models
    }
    observed = set(log.observed_days)
    before = [start - dt.timedelta(days=i) for i in range(1, 29)]
    kept = [d for d in before if d in observed]
    history = log.counts(kept, interval_minutes=60, task_types=log.task_types).sum(axis=(1, 2))
    by_day = dict(zip(kept, history, strict=True))
    for month in (11, 12):
        days = [d for d in month_days(1999, month) if d.weekday() in WORKING and d in actual_by_day]
        kinds = day_kinds(days, calendar=BANK, holidays=HOLIDAYS)
        regular = np.array([k == "regular" for k in kinds])
        actual = np.array([actual_by_day[d] for d in days])
        row: dict[str, object] = {
            "month": f"1999-{month}",
            "days": len(days),
            "regular_days": int(regular.sum()),
            "calls": float(actual.sum()),
        }
        same = {d: [b for b in kept if b.weekday() == d.weekday()] for d in days}
        baselines_daily = {
            "4-week mean": np.array([np.mean([by_day[b] for b in same[d]]) for d in days]),
            "last week": np.array([by_day[max(same[d])] for d in days]),
        }
        for name, predicted in baselines_daily.items():
            row[name] = {
                "regular": score(predicted[regular], actual[regular], None, None)[0],
                "all": score(predicted, actual, None, None)[0],
            }
        for model, forecast in forecasts.items():
            pick = [forecast.days.index(d) for d in days]
            predicted = forecast.total[pick].sum(axis=1)
            regular_error = score(predicted[regular], actual[regular], None, None)[0]
            all_error, coverage = score(
                predicted, actual, forecast.day_lower[pick], forecast.day_upper[pick]
            )
            row[model] = {"regular": regular_error, "all": all_error, "coverage_80": coverage}
        rows.append(row)
    return rows


def table_lines(rows: list[dict[str, object]], names: list[str]) -> list[str]:
    lines = [f"{'month':<8} {'days':>4} " + " ".join(f"{n:>22}" for n in names)]
    for row in rows:
        cells = []
        for name in names:
            cell = row[name]
            assert isinstance(cell, dict)
            text = f"{cell['regular']:6.1%} / {cell['all']:6.1%}"
            if cell.get("coverage_80") is not None:
                text += f" {cell['coverage_80']:4.0%}"
            cells.append(f"{text:>22}")
        lines.append(f"{row['month']:<8} {row['days']:>4} " + " ".join(cells))
    return lines


def score(
    predicted: np.ndarray, actual: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None
) -> tuple[float, float | None]:
    error = float(np.abs(predicted - actual).sum() / actual.sum())
    if lower is None or upper is None:
        return error, None
    inside = (actual >= lower) & (actual <= upper)
    return error, float(inside.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--months", default="2,3,4,5,6,7,8,9,10")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument(
        "--no-holdout",
        dest="holdout",
        action="store_false",
        help="skip November and December's daily totals from the third-party aggregates",
    )
    args = parser.parse_args()
    out = results_dir() / "bench_forecast.json"
    if not args.data.is_file():
        print(f"no full log at {args.data}; nothing measured (give --data)")
        out.write_text(json.dumps({"benchmark": "bench_forecast", "skipped": "no full log"}))
        return
    models = [m for m in args.models.split(",") if m]
    months = [int(m) for m in args.months.split(",") if m]
    started = time.perf_counter()
    log = ArrivalLog.from_calls(load_anonymous_bank(args.data))
    observed = set(log.observed_days)
    rows = []
    for month in months:
        days = [d for d in month_days(1999, month) if d.weekday() in WORKING and d in observed]
        first = dt.date(1999, month, 1)
        kinds = day_kinds(days, holidays=HOLIDAYS)
        regular = np.array([k == "regular" for k in kinds])
        actual = log.counts(days, interval_minutes=60, task_types=log.task_types).sum(axis=2)[
            :, HOURS
        ]
        row: dict[str, object] = {
            "month": f"1999-{month:02d}",
            "days": len(days),
            "regular_days": int(regular.sum()),
            "calls": float(actual.sum()),
        }
        for name, table in baselines(log, first, days).items():
            predicted = np.array([table[d][HOURS] for d in days])
            row[name] = {
                "regular": score(predicted[regular], actual[regular], None, None)[0],
                "all": score(predicted, actual, None, None)[0],
            }
        count, total = hourly_handle(log, days)
        count, total = count[:, HOURS], total[:, HOURS]
        before = [first - dt.timedelta(days=i) for i in range(1, 29)]
        past_count, past_total = hourly_handle(log, before)
        four_weeks = np.array(
            [
                past_total[[j for j, b in enumerate(before) if b.weekday() == d.weekday()]].sum(0)
                / np.maximum(
                    past_count[[j for j, b in enumerate(before) if b.weekday() == d.weekday()]].sum(
                        0
                    ),
                    1.0,
                )
                for d in days
            ]
        )[:, HOURS]
        row["aht 4-week mean"] = handle_errors(four_weeks, count, total)
        span = len(month_days(1999, month))
        for model in models:
            begun = time.perf_counter()
            forecast = forecast_volumes(
                log,
                start=first,
                days=span,
                model=model,  # type: ignore[arg-type]
                calendar=BANK,
                holidays=HOLIDAYS,
                eves_like="fri",
                draws=args.draws,
                seed=month,
            )
            pick = [forecast.days.index(d) for d in days]
            predicted = forecast.total[pick][:, HOURS]
            lower = forecast.total_lower[pick][:, HOURS]
            upper = forecast.total_upper[pick][:, HOURS]
            regular_error = score(predicted[regular], actual[regular], None, None)[0]
            all_error, coverage = score(predicted, actual, lower, upper)
            fitted = np.array([forecast.to_erlang(d).aht for d in days])[:, HOURS]
            row[f"aht {model}"] = handle_errors(fitted, count, total)
            row[model] = {
                "regular": regular_error,
                "all": all_error,
                "coverage_80": coverage,
                "seconds": time.perf_counter() - begun,
            }
        rows.append(row)

    names = ["4-week mean", "last week", *models]
    print("Hourly volume error, Sun-Thu 07:00-22:00, regular days / all days; 80 % coverage")
    print("\n".join(table_lines(rows, names)))
    print(
        "\nMean handle time, Sun-Thu 07:00-22:00: hourly error weighted by served calls "
        "/ error of the month's mean"
    )
    shown_model = "profile" if "profile" in models else models[0]
    aht_names = ["aht 4-week mean", f"aht {shown_model}"]
    print(f"{'month':<8} " + " ".join(f"{n:>22}" for n in aht_names))
    for row in rows:
        cells = [row[n] for n in aht_names]
        print(
            f"{row['month']:<8} "
            + " ".join(
                f"{c['hourly']:>9.1%} / {c['period_mean']:>+7.1%}    "  # type: ignore[index]
                for c in cells
            )
        )
    held_out: list[dict[str, object]] = []
    daily_path = args.data.parent / DAILY.name
    if args.holdout and daily_path.is_file():
        held_out = holdout(log, daily_path, models, args.draws)
        print(
            "\nHeld out: daily totals (all hours) of November and December, from the log up "
            "to October; regular days / all days; 80 % coverage of the day's total"
        )
        print("\n".join(table_lines(held_out, names)))
    summary = {}
    for name in names:
        cells = [row[name] for row in rows]
        summary[name] = {
            key: [float(c[key]) for c in cells if isinstance(c, dict) and c.get(key) is not None]
            for key in ("regular", "all", "coverage_80")
        }
    for model in models:
        wins = all(
            row[model]["all"] < min(row["4-week mean"]["all"], row["last week"]["all"])  # type: ignore[index]
            and row[model]["regular"]  # type: ignore[index]
            < min(row["4-week mean"]["regular"], row["last week"]["regular"])  # type: ignore[index]
            for row in rows
        )
        seconds = [float(row[model]["seconds"]) for row in rows]  # type: ignore[index]
        print(
            f"{model}: better than both baselines on regular and all days in every month: {wins}; "
            f"{sum(seconds) / len(seconds):.2f} s per month forecast"
        )
    out.write_text(
        json.dumps(
            {
                "benchmark": "bench_forecast",
                "protocol": "docs/forecasting.md",
                "months": rows,
                "held_out_daily": held_out,
                "summary": summary,
                "seconds": time.perf_counter() - started,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
