"""Forecast the Anonymous Bank's calls from history, then staff the forecast day.

Without an argument: the bundled excerpt (9-11 May 1999), where Sunday and
Monday predict Tuesday. With the full cleaned file: October 1999 predicted
from everything before it, with Israeli holidays and the bank's opening
hours, scored hour by hour against the log and against the 4-week mean.
Either way the forecast day is staffed by Erlang C (80 % in 20 s) with
handle times fitted on the training days only.

    python examples/forecast_bank.py [anonymous_bank_1999_calls_clean.csv.gz]
"""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np

from valueroute.calendar import BusinessCalendar
from valueroute.datasets import load_anonymous_bank
from valueroute.erlang import staff_intervals
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.forecast import ArrivalLog, fit_handle_times, fit_patience, forecast_volumes

HOURS = slice(7, 22)


def main(argv: list[str]) -> int:
    """Forecast and staff the excerpt, or October 1999 of the full file in ``argv[0]``."""
    try:
        _forecast(argv[0] if argv else None)
    except ValueRouteError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


def _forecast(path: str | None) -> None:
    full = path is not None
    calls = load_anonymous_bank(path)
    log = ArrivalLog.from_calls(calls)
    bank = BusinessCalendar(
        timezone="Asia/Jerusalem",
        hours={
            **{day: [("07:00", "24:00")] for day in ("sun", "mon", "tue", "wed", "thu")},
            "fri": [("07:00", "14:00")],
            "sat": [("20:00", "24:00")],
        },
        holidays={"country": "IL"},
    )
    start, days = (dt.date(1999, 10, 1), 31) if full else (dt.date(1999, 5, 11), 1)
    if start not in log.observed_days:
        raise InvalidInputError(
            f"path: the log holds no calls on {start} (expected the full cleaned file, "
            "which runs to 31 October 1999)",
            [("path", path, "the full cleaned Anonymous Bank file")],
        )
    forecast = forecast_volumes(
        log,
        start=start,
        days=days,
        model="profile",
        calendar=bank,
        holidays={"country": "IL"},
        eves_like="fri",
    )
    working = [i for i, day in enumerate(forecast.days) if day.weekday() in (6, 0, 1, 2, 3)]
    actual = log.counts(forecast.days, interval_minutes=60, task_types=forecast.task_types).sum(
        axis=2
    )
    predicted = forecast.total[working][:, HOURS]
    seen = actual[working][:, HOURS]
    inside = (seen >= forecast.total_lower[working][:, HOURS]) & (
        seen <= forecast.total_upper[working][:, HOURS]
    )
    error = np.abs(predicted - seen).sum() / seen.sum()
    print(
        f"{forecast.model} forecast of {len(working)} working day(s) from {start}, 07:00-22:00: "
        f"hourly error {error:.1%}, {inside.mean():.0%} of hours inside the 80 % interval"
    )
    if full:
        # The 4-week same-weekday mean, the baseline to beat.
        before = [start - dt.timedelta(days=i) for i in range(1, 29)]
        history = log.counts(before, interval_minutes=60, task_types=log.task_types).sum(axis=2)
        baseline = np.array(
            [
                history[[j for j, d in enumerate(before) if d.weekday() == day.weekday()]].mean(
                    axis=0
                )
                for day in (forecast.days[i] for i in working)
            ]
        )[:, HOURS]
        baseline_error = np.abs(baseline - seen).sum() / seen.sum()
        print(f"4-week same-weekday mean: hourly error {baseline_error:.1%}")

    day = forecast.days[working[0]]
    row = forecast.days.index(day)
    print(f"\n{day} ({forecast.kinds[row]}), all types")
    print(f"{'hour':<6} {'forecast':>9} {'80 % interval':>14} {'actual':>7}")
    for hour in range(7, 22):
        low, high = forecast.total_lower[row, hour], forecast.total_upper[row, hour]
        print(
            f"{hour:02d}:00 {forecast.total[row, hour]:>9.0f} {f'{low:.0f}-{high:.0f}':>14} "
            f"{actual[row, hour]:>7.0f}"
        )

    # Handle times and patience from the training days only, then staff the day.
    training = (log.observed_days[0], start)
    handle = fit_handle_times(calls, train=training)
    patience = fit_patience(calls, train=training)
    print(
        f"\nPS handle time 10:00-13:00: mean {handle.aht('PS', seconds=11 * 3600):.0f} s; "
        f"patience (Kaplan-Meier, all types): {patience['all'].survival(60):.0%} of callers "
        "would wait beyond 60 s"
    )
    erlang = forecast.to_erlang(day)
    assert erlang.aht is not None
    table = staff_intervals(
        erlang.calls[HOURS], interval=3600, aht=erlang.aht[HOURS], service_level=0.8, awt=20
    )
    print("agents for 80 % in 20 s, 07:00-21:00:", " ".join(str(n) for n in table.agents))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
