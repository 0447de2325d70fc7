"""Predictive back-test on the Anonymous Bank's full log, month by month (docs/backtest.md).

Every month from February to October 1999 is predicted from the days before
it (forecast, handle times, patience and supply all from those days), each
Sunday to Thursday simulated 10 times, and the hours 07:00-22:00 scored
against the log, beside the naive baseline (the last four weeks' figures of
the same weekday and hour). The protocol was fixed in docs/backtest.md
before the run. Prints each month against the goals and writes
``benchmarks/results/bench_backtest.json``.

    python benchmarks/bench_backtest.py [--data PATH] [--months 2,3,...] [--replications 10]
    python benchmarks/bench_backtest.py --supply calibrated   # the second protocol
    python benchmarks/bench_backtest.py --classes priority    # the third protocol
    python benchmarks/bench_backtest.py --quick     # the bundled excerpt, a few seconds

``--supply calibrated`` estimates the supply by calibration against the
model (docs/backtest.md, "A second protocol: calibrated supply") and writes
``benchmarks/results/bench_backtest_calibrated.json``. ``--classes priority``
models the bank's two priority classes (docs/backtest.md, "A third protocol:
priority classes") and adds ``_priority`` to the file name; it also applies
to ``--diagnose-calibration`` and ``--quick``.

Without the full file (``../shared/data`` beside the checkout, or ``--data``)
it says so, writes a JSON that says so, and stops with status 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from valueroute.backtest import KPIS, BacktestResult, Classes, Roster, run_backtest
from valueroute.calendar import BusinessCalendar
from valueroute.datasets import CallRecords, agents_on_duty, available_agents, load_anonymous_bank

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import results_dir

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "anonymous_bank_1999_calls_clean.csv.gz"
)
HOURS = (7, 22)
WORKING = ["sun", "mon", "tue", "wed", "thu"]
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
# Goals from the issue (docs/backtest.md).
HOURLY_ABANDONMENT_POINTS = 4.0
MONTH_ABANDONMENT_POINTS = 3.0
MONTH_WAIT_RELATIVE = 0.20
UNITS = {
    "volume": ("calls/day", 1.0),
    "queued_share": ("points", 100.0),
    "abandonment": ("points", 100.0),
    "mean_wait": ("s", 1.0),
    "service_level": ("points", 100.0),
}


def month_summary(
    month: str, result: BacktestResult, seconds: float, calls: CallRecords | None = None
) -> dict[str, Any]:
    errors, naive = result.errors, result.naive_errors
    abandonment = errors["abandonment"]
    wait = errors["mean_wait"]
    beats = {kpi: errors[kpi].hour_mae < naive[kpi].hour_mae for kpi in KPIS}
    return {
        "month": month,
        "days": len(result.days),
        "calls": float(result.observed.calls.sum()),
        "seconds": seconds,
        "agents_simulated": mean_agents(result.roster, result),
        "agents_counted": None
        if result.counted_roster is None
        else mean_agents(result.counted_roster, result),
        "errors": {kpi: e.to_dict() for kpi, e in errors.items()},
        "naive_errors": {kpi: e.to_dict() for kpi, e in naive.items()},
        "classes": result.classes,
        "by_class": None if calls is None else by_class(result, calls),
        "goals": {
            "hourly_abandonment": 100 * abandonment.hour_mae <= HOURLY_ABANDONMENT_POINTS,
            "month_abandonment": abs(100 * abandonment.period_error) <= MONTH_ABANDONMENT_POINTS,
            "month_mean_wait": abs(wait.period_relative) <= MONTH_WAIT_RELATIVE,
            "beats_naive": beats,
            "beats_naive_everywhere": all(beats.values()),
        },
    }


def by_class(result: BacktestResult, calls: CallRecords) -> dict[str, Any] | None:
    """The share of queued callers who hung up, per class, observed and predicted, over the
    scored days and hours. The log shows the class of queued calls (priority 2 is high),
    which is all this share needs. ``None`` without priority classes."""
    from valueroute.backtest import Tally, tally_calls

    if result.predicted_high is None:
        return None
    hours = slice(*result.hours)
    every = np.ones(len(result.days), dtype=bool)
    observed_high = tally_calls(
        calls.select(calls.priority == 2), result.days, interval_minutes=result.interval_minutes
    ).select(every, hours)

    def rest(whole: Tally, part: Tally) -> Tally:
        return Tally(*(getattr(whole, n) - getattr(part, n) for n in _FIELDS))

    pairs = {
        "high": (observed_high, result.predicted_high),
        "regular": (
            rest(result.observed, observed_high),
            rest(result.predicted, result.predicted_high),
        ),
    }
    return {
        name: {
            "abandonment_observed": float(seen.kpi("abandonment", axis=(0, 1))),
            "abandonment_predicted": float(made.kpi("abandonment", axis=(0, 1))),
            "queued_observed": float(seen.queued.sum()),
            "queued_predicted": float(made.queued.sum()),
        }
        for name, (seen, made) in pairs.items()
    }


_FIELDS = ("calls", "queued", "served", "abandoned", "wait_sum", "in_time")


def mean_agents(roster: Roster, result: BacktestResult) -> float:
    """The roster's mean agents over the scored days' intervals from HOURS[0] to HOURS[1]."""
    per_hour = 60 // roster.interval_minutes
    window = slice(result.hours[0] * per_hour, result.hours[1] * per_hour)
    return float(np.mean([roster.for_day(day)[window] for day in result.days]))


def print_month(summary: dict[str, Any]) -> None:
    print(
        f"\n{summary['month']}: {summary['days']} days, {summary['calls']:,.0f} calls asked "
        f"for an agent, {summary['seconds']:.1f} s"
    )
    if summary["agents_counted"] is not None:
        print(
            f"  agents per interval {HOURS[0]:02d}-{HOURS[1]:02d}: simulated "
            f"{summary['agents_simulated']:.2f}, counted {summary['agents_counted']:.2f}"
        )
    print(
        f"  {'kpi':<14}{'hourly error':>14}{'naive':>10}{'hours ±15%':>12}"
        f"{'month pred':>12}{'month obs':>11}{'naive':>9}"
    )
    for kpi in KPIS:
        unit, scale = UNITS[kpi]
        e, n = summary["errors"][kpi], summary["naive_errors"][kpi]
        print(
            f"  {kpi:<14}{scale * e['hour_mae']:>10.1f} {unit[:3]:<3}{scale * n['hour_mae']:>10.1f}"
            f"{e['hours_within_15pct']:>6}/{e['hours']:<5}"
            f"{scale * e['period_predicted']:>12.1f}{scale * e['period_observed']:>11.1f}"
            f"{scale * n['period_predicted']:>9.1f}"
        )
    if summary.get("by_class"):
        for name, part in summary["by_class"].items():
            print(
                f"  {name} queued callers who hung up: observed "
                f"{100 * part['abandonment_observed']:.1f} %, predicted "
                f"{100 * part['abandonment_predicted']:.1f} %"
            )
    goals = summary["goals"]
    lost = [k for k, ok in goals["beats_naive"].items() if not ok]
    print(
        f"  goals: hourly abandonment <= 4 pt {_mark(goals['hourly_abandonment'])}, "
        f"month abandonment ±3 pt {_mark(goals['month_abandonment'])}, "
        f"month wait ±20 % {_mark(goals['month_mean_wait'])}, "
        f"beats naive on every KPI {_mark(goals['beats_naive_everywhere'])}"
        + (f" (not on {', '.join(lost)})" if lost else "")
    )


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def own_supply(calls: CallRecords, first: dt.date, last: dt.date) -> Roster:
    """The agents available in the predicted month itself, read off its own log.

    For the --diagnose-supply run only: it takes the supply from the days it
    predicts, which the back-test never does, to show how much of the error
    the supply accounts for. Same rule as the estimate from the training
    weeks (valueroute.replay's): agents serving while callers waited at least
    10 % of the half hour, else the agents seen serving.
    """
    day = calls.day.astype("datetime64[D]")
    month = calls.select((day >= np.datetime64(first, "D")) & (day <= np.datetime64(last, "D")))
    seen = agents_on_duty(month, interval_minutes=30)
    available = available_agents(month, interval_minutes=30)
    estimate = np.floor(np.nan_to_num(available.serving) + 0.5)
    counts = np.where(available.waiting_share >= 0.1, estimate, seen.counts)
    return Roster(
        interval_minutes=30,
        by_day={
            dt.date.fromisoformat(d): tuple(int(n) for n in counts[row])
            for row, d in enumerate(seen.days)
        },
    )


def calibration_fit(
    calls: CallRecords, first: dt.date, replications: int, classes: Classes = "one"
) -> dict[str, Any]:
    """How the counted and the calibrated supply reproduce the training days they come from.

    For the --diagnose-calibration run only (not a back-test: it scores
    training days, in sample): the month's weekdays' supply is estimated
    both ways exactly as the back-test does, then each weekday's training
    days are simulated again with either roster (other random numbers than
    the calibration's) and scored against those days' own log, hours
    HOURS, pooled over the days as the back-test pools the predicted ones.
    ``classes`` is the back-test's model of waiting callers, used for the
    calibration and the simulations alike.
    """
    import tempfile

    from valueroute import backtest as bt
    from valueroute.forecast import ArrivalLog, day_kinds

    day = calls.day.astype("datetime64[D]")
    training = calls.select(day < np.datetime64(first, "D"))
    train = (dt.date(1999, 1, 1), first - dt.timedelta(days=1))
    types = ArrivalLog.from_calls(training, routed_only=True).task_types
    fits = bt._fit(training, train, types, 8, classes)
    seen = [dt.date.fromisoformat(d) for d in training.days()]
    kinds = day_kinds(seen, calendar=BANK, holidays=HOLIDAYS)
    regular = {d for d, k in zip(seen, kinds, strict=True) if k == "regular"}
    weekdays = [first + dt.timedelta(days=k) for k in range(7)]
    weekdays = [d for d in weekdays if d.weekday() in (6, 0, 1, 2, 3)]
    counted = bt._estimated_roster(training, weekdays, weeks=4, regular=regular)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        calibrated = bt._calibrated_roster(
            training,
            counted,
            weekdays,
            fits,
            weeks=4,
            regular=regular,
            seed=0,
            task_types=types,
            folder=folder,
        )
        rows: dict[str, list[bt.Tally]] = {"counted": [], "calibrated": []}
        high_rows: dict[str, list[bt.Tally]] = {"counted": [], "calibrated": []}
        scored: list[dt.date] = []
        for weekday in weekdays:
            for training_day in bt._supply_days(seen, weekday, weeks=4, regular=regular):
                scored.append(training_day)
                volume = bt._routed_volumes(training, training_day, types)
                for name, roster in (("counted", counted), ("calibrated", calibrated)):
                    runs = []
                    high_runs = []
                    for replication in range(replications):
                        rng = np.random.default_rng([7, replication, training_day.toordinal()])
                        entry, routed, kind, handle, patience, high = bt._day_arrivals(
                            volume, fits, interval_minutes=30, rng=rng
                        )
                        outcome, wait = bt._simulate_day(
                            routed,
                            kind,
                            handle,
                            patience,
                            roster.for_day(weekday),
                            roster_minutes=30,
                            task_types=types,
                            folder=folder,
                            high=high if classes == "priority" else None,
                        )
                        slot = np.minimum(entry // 3600, 23).astype(np.int64)
                        runs.append(
                            bt._tally_arrays(
                                np.zeros(slot.size, dtype=np.int64),
                                slot,
                                outcome,
                                wait,
                                days=1,
                                intervals=24,
                                awt=20.0,
                            )
                        )
                        high_runs.append(
                            bt._tally_arrays(
                                np.zeros(int(high.sum()), dtype=np.int64),
                                slot[high],
                                outcome[high],
                                wait[high],
                                days=1,
                                intervals=24,
                                awt=20.0,
                            )
                        )
                    high_rows[name].append(
                        bt.Tally(
                            *(
                                np.mean([getattr(r, n) for r in high_runs], axis=0)
                                for n in bt._TALLY_FIELDS
                            )
                        )
                    )
                    rows[name].append(
                        bt.Tally(
                            *(
                                np.mean([getattr(r, n) for r in runs], axis=0)
                                for n in bt._TALLY_FIELDS
                            )
                        )
                    )
    every = np.ones(len(scored), dtype=bool)
    window = slice(*HOURS)
    observed = bt.tally_calls(training, scored, awt=20.0).select(every, window)
    # The log's class shows for queued calls only: enough for the abandonment of
    # the queued callers of each class.
    observed_high = bt.tally_calls(
        training.select(training.priority == 2), scored, awt=20.0
    ).select(every, window)
    result: dict[str, Any] = {
        "month": first.strftime("%Y-%m"),
        "training_days": len(scored),
        "classes": classes,
    }
    for name, tallies in rows.items():
        simulated = bt.Tally(
            *(np.vstack([getattr(t, n) for t in tallies]) for n in bt._TALLY_FIELDS)
        ).select(every, window)
        result[name] = {
            kpi: bt._errors(kpi, simulated, observed).to_dict()
            for kpi in ("queued_share", "abandonment", "mean_wait")
        }
        if classes == "priority":
            simulated_high = bt.Tally(
                *(np.vstack([getattr(t, n) for t in high_rows[name]]) for n in bt._TALLY_FIELDS)
            ).select(every, window)
            for label, sim, obs in (
                ("high", simulated_high, observed_high),
                (
                    "regular",
                    difference(simulated, simulated_high),
                    difference(observed, observed_high),
                ),
            ):
                result[name][f"abandonment_{label}"] = bt._errors("abandonment", sim, obs).to_dict()
    return result


def difference(whole: Any, part: Any) -> Any:
    """The tally of the calls of ``whole`` that are not in ``part``."""
    from valueroute import backtest as bt

    return bt.Tally(*(getattr(whole, n) - getattr(part, n) for n in bt._TALLY_FIELDS))


def print_fit(fit: dict[str, Any]) -> None:
    print(f"\n{fit['month']}: {fit['training_days']} training days simulated again")
    for name in ("counted", "calibrated"):
        errors = fit[name]
        print(
            f"  {name:<11} hourly error: share queued "
            f"{100 * errors['queued_share']['hour_mae']:5.1f} pt, abandonment "
            f"{100 * errors['abandonment']['hour_mae']:5.1f} pt, mean wait "
            f"{errors['mean_wait']['hour_mae']:6.1f} s; period abandonment "
            f"{100 * errors['abandonment']['period_predicted']:5.1f} % (observed "
            f"{100 * errors['abandonment']['period_observed']:5.1f} %), mean wait "
            f"{errors['mean_wait']['period_predicted']:5.1f} s (observed "
            f"{errors['mean_wait']['period_observed']:5.1f} s)"
        )
        for label in ("high", "regular"):
            if f"abandonment_{label}" in errors:
                part = errors[f"abandonment_{label}"]
                print(
                    f"  {'':<11} {label} queued callers' abandonment "
                    f"{100 * part['period_predicted']:5.1f} % (observed "
                    f"{100 * part['period_observed']:5.1f} %)"
                )


def months_of(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--months", default="2,3,4,5,6,7,8,9,10")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="the bundled excerpt only")
    parser.add_argument(
        "--diagnose-supply",
        action="store_true",
        help="a diagnostic, not the back-test: take each month's supply from its own log "
        "(writes bench_backtest_own_supply.json)",
    )
    parser.add_argument(
        "--supply",
        choices=("counted", "calibrated"),
        default="counted",
        help="how the supply is estimated from the training weeks (default: counted)",
    )
    parser.add_argument(
        "--classes",
        choices=("one", "priority"),
        default="one",
        help="how waiting callers are modelled: one class in order of arrival, or the bank's "
        "two priority classes (default: one)",
    )
    parser.add_argument(
        "--diagnose-calibration",
        action="store_true",
        help="a diagnostic, not the back-test: simulate each month's training days again with "
        "the counted and the calibrated supply and score them in sample "
        "(writes bench_backtest_calibration_fit.json)",
    )
    args = parser.parse_args()
    if args.diagnose_calibration:
        calls = load_anonymous_bank(args.data)
        fits = []
        for month in months_of(args.months):
            fit = calibration_fit(
                calls, dt.date(1999, month, 1), replications=3, classes=args.classes
            )
            print_fit(fit)
            fits.append(fit)
        suffix = "_priority" if args.classes == "priority" else ""
        target = results_dir() / f"bench_backtest_calibration_fit{suffix}.json"
        target.write_text(
            json.dumps(
                {
                    "benchmark": "bench_backtest",
                    "diagnostic": "calibration fit",
                    "classes": args.classes,
                    "months": fits,
                },
                indent=2,
                default=lambda v: None if isinstance(v, float) and math.isnan(v) else v,
            )
        )
        print(f"\nwrote {target}")
        return
    if args.diagnose_supply and args.supply != "counted":
        parser.error("--diagnose-supply gives each month its own supply: leave --supply out")
    out = results_dir() / (
        "bench_backtest_own_supply.json"
        if args.diagnose_supply
        else f"bench_backtest{'_calibrated' if args.supply == 'calibrated' else ''}"
        f"{'_priority' if args.classes == 'priority' else ''}.json"
    )
    if args.quick:
        calls = load_anonymous_bank()
        start = time.perf_counter()
        result = run_backtest(
            calls,
            train=("1999-05-09", "1999-05-10"),
            predict=("1999-05-11", "1999-05-11"),
            hours=HOURS,
            replications=2,
            supply=args.supply,
            classes=args.classes,
        )
        summary = month_summary("1999-05-11 (excerpt)", result, time.perf_counter() - start, calls)
        print_month(summary)
        out.write_text(
            json.dumps(
                {"benchmark": "bench_backtest", "quick": True, "months": [summary]},
                indent=2,
                allow_nan=True,
            )
        )
        print(f"\nwrote {out}")
        return
    if not args.data.is_file():
        print(f"no full log at {args.data}: nothing measured")
        out.write_text(json.dumps({"benchmark": "bench_backtest", "skipped": "no full log"}))
        return
    calls = load_anonymous_bank(args.data)
    summaries = []
    for month in months_of(args.months):
        first = dt.date(1999, month, 1)
        last = dt.date(1999 + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        start = time.perf_counter()
        result = run_backtest(
            calls,
            train=("1999-01-01", first - dt.timedelta(days=1)),
            predict=(first, last),
            roster=own_supply(calls, first, last) if args.diagnose_supply else None,
            supply=args.supply,
            classes=args.classes,
            replications=args.replications,
            seed=0,
            hours=HOURS,
            weekdays=WORKING,
            calendar=BANK,
            holidays=HOLIDAYS,
            eves_like="fri",
        )
        summary = month_summary(first.strftime("%Y-%m"), result, time.perf_counter() - start, calls)
        print_month(summary)
        summaries.append(summary)
    hourly = [100 * s["errors"]["abandonment"]["hour_mae"] for s in summaries]
    naive = [100 * s["naive_errors"]["abandonment"]["hour_mae"] for s in summaries]
    print(
        f"\nhourly abandonment error, mean over months: {sum(hourly) / len(hourly):.1f} points "
        f"(naive {sum(naive) / len(naive):.1f})"
    )
    for goal in (
        "hourly_abandonment",
        "month_abandonment",
        "month_mean_wait",
        "beats_naive_everywhere",
    ):
        met = sum(1 for s in summaries if s["goals"][goal])
        print(f"  {goal}: met in {met} of {len(summaries)} months")
    out.write_text(
        json.dumps(
            {
                "benchmark": "bench_backtest",
                "replications": args.replications,
                "classes": args.classes,
                "supply": "own month (diagnostic)"
                if args.diagnose_supply
                else f"training weeks, {args.supply}",
                "months": summaries,
            },
            indent=2,
            default=lambda v: None if isinstance(v, float) and math.isnan(v) else v,
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
