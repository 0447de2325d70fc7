"""Back-test the bundled excerpt: predict Tuesday 11 May 1999 from the Sunday and Monday before.

The forecast, handle times, patience and the agents available for calls all
come from the two training days; Tuesday is simulated and compared hour by
hour with what the log shows, beside the naive baseline (the same weekday
and hour of the last weeks: here no Tuesday is known, so every training day
is pooled). Two days are far too little history for a good forecast: this
shows the pipeline, not its accuracy (see docs/backtest.md for the full log).
"""

from valueroute.backtest import KPIS, run_backtest
from valueroute.datasets import load_anonymous_bank

calls = load_anonymous_bank()
result = run_backtest(
    calls,
    train=("1999-05-09", "1999-05-10"),
    predict=("1999-05-11", "1999-05-11"),
    hours=(7, 22),
    replications=3,
    seed=0,
)

print("hour   calls obs  pred  naive   aband% obs  pred  naive   wait obs  pred  naive")
for row in result.hour_table():
    print(
        f"{row['interval']}  {row['volume_observed']:9.0f} {row['volume_predicted']:5.0f}"
        f" {row['volume_naive']:6.0f}   {100 * row['abandonment_observed']:10.1f}"
        f" {100 * row['abandonment_predicted']:5.1f} {100 * row['abandonment_naive']:6.1f}"
        f"   {row['mean_wait_observed']:8.0f} {row['mean_wait_predicted']:5.0f}"
        f" {row['mean_wait_naive']:6.0f}"
    )

print("\nmean absolute error over the hours (model / naive baseline):")
for kpi in KPIS:
    scale, unit = (1.0, "calls") if kpi == "volume" else (100.0, "points")
    if kpi == "mean_wait":
        scale, unit = 1.0, "seconds"
    mine, base = result.errors[kpi], result.naive_errors[kpi]
    print(f"  {kpi:<14} {scale * mine.hour_mae:6.1f} / {scale * base.hour_mae:6.1f} {unit}")
centre, low, high = result.period_interval("abandonment")
print(
    f"\nTuesday's abandonment: observed {100 * result.errors['abandonment'].period_observed:.1f} %,"
    f" predicted {100 * centre:.1f} % (95 % simulation interval {100 * low:.1f}-{100 * high:.1f})"
)
