"""Counted and calibrated supply: predict Tuesday 11 May 1999 from the Sunday and Monday before.

The counted supply is what the log shows (agents serving while callers
waited); the calibrated one starts from that count and searches, per half
hour, the agents at which simulating the training days with the model's own
arrivals, handle times and patience reproduces their share queued and share
abandoned (docs/backtest.md, "The calibrated supply"). Both predictions of
Tuesday are scored against the log. Two training days are far too little
history: this shows the mechanism, not its accuracy.
"""

from valueroute.backtest import KPIS, run_backtest
from valueroute.datasets import load_anonymous_bank

calls = load_anonymous_bank()
results = {
    supply: run_backtest(
        calls,
        train=("1999-05-09", "1999-05-10"),
        predict=("1999-05-11", "1999-05-11"),
        hours=(7, 22),
        replications=2,
        seed=0,
        supply=supply,
    )
    for supply in ("counted", "calibrated")
}
calibrated = results["calibrated"]
tuesday = calibrated.days[0]
assert calibrated.counted_roster is not None
counted_agents = calibrated.counted_roster.for_day(tuesday)
calibrated_agents = calibrated.roster.for_day(tuesday)

print("agents per half hour on Tuesday (counted -> calibrated)")
for half_hour in range(14, 44, 2):
    pair = "   ".join(
        f"{h // 2:02d}:{30 * (h % 2):02d} {counted_agents[h]:2d} -> {calibrated_agents[h]:2d}"
        for h in (half_hour, half_hour + 1)
    )
    print(f"  {pair}")

print("\nmean absolute error over the hours: counted / calibrated / naive baseline")
for kpi in KPIS:
    scale, unit = (1.0, "calls") if kpi == "volume" else (100.0, "points")
    if kpi == "mean_wait":
        scale, unit = 1.0, "seconds"
    counted_error = results["counted"].errors[kpi].hour_mae
    calibrated_error = calibrated.errors[kpi].hour_mae
    naive_error = calibrated.naive_errors[kpi].hour_mae
    print(
        f"  {kpi:<14} {scale * counted_error:6.1f} / {scale * calibrated_error:6.1f}"
        f" / {scale * naive_error:6.1f} {unit}"
    )
