"""Priority classes: predict Tuesday 11 May 1999 with one class of callers and with the bank's two.

With ``classes="priority"`` each simulated call is a high-priority customer
with the share the training days show among their queued calls (per
service type and band of the day), high-priority callers get the bank's
1.5-minute head start, and each class has its own patience (Kaplan-Meier
on the training days' queued calls of that class). The result records the
fitted shares and which patience estimate every type and class got, and
splits the prediction by class. Two training days are far too little
history: this shows the mechanism, not its accuracy (docs/backtest.md).
"""

from valueroute.backtest import run_backtest, tally_calls
from valueroute.datasets import load_anonymous_bank

calls = load_anonymous_bank()
results = {
    classes: run_backtest(
        calls,
        train=("1999-05-09", "1999-05-10"),
        predict=("1999-05-11", "1999-05-11"),
        hours=(7, 22),
        replications=3,
        seed=0,
        classes=classes,
    )
    for classes in ("one", "priority")
}

priority = results["priority"]
model = priority.class_model
assert model is not None
print(
    f"fitted on {model['fit_window'][0]} to {model['fit_window'][1]}, bands {model['band_hours']}"
)
print("type  queued  high share per band                      patience regular / high")
for name, shares in model["high_share"].items():
    source = model["patience_source"][name]
    print(
        f"{name:<4} {model['queued_calls'][name]['queued']:7d}  "
        + " ".join(f"{s:4.2f}" for s in shares)
        + f"   {source['regular']} / {source['high']}"
    )

high = priority.predicted_high
assert high is not None
everyone = priority.predicted
regular_abandoned = everyone.abandoned.sum() - high.abandoned.sum()
regular_queued = everyone.queued.sum() - high.queued.sum()
# The log shows the class of queued calls (priority 2 is high), which is all
# the share of queued callers who hung up needs.
hours = slice(*priority.hours)
logged = tally_calls(calls, priority.days)
logged_high = tally_calls(calls.select(calls.priority == 2), priority.days)
seen_high = logged_high.abandoned[:, hours].sum() / logged_high.queued[:, hours].sum()
seen_regular = (logged.abandoned[:, hours].sum() - logged_high.abandoned[:, hours].sum()) / (
    logged.queued[:, hours].sum() - logged_high.queued[:, hours].sum()
)
print("\nTuesday, queued callers who hung up (observed / predicted with the two classes):")
print(
    f"  high    {100 * seen_high:5.1f} % / {100 * high.abandoned.sum() / high.queued.sum():5.1f} %"
)
print(f"  regular {100 * seen_regular:5.1f} % / {100 * regular_abandoned / regular_queued:5.1f} %")
print("\n                 observed   one class   two classes")
for kpi, scale, unit in (
    ("queued_share", 100.0, "%"),
    ("abandonment", 100.0, "%"),
    ("mean_wait", 1.0, "s"),
):
    observed = results["one"].errors[kpi].period_observed
    line = f"{kpi:<15} {scale * observed:8.1f} {unit}"
    for classes in ("one", "priority"):
        line += f" {scale * results[classes].errors[kpi].period_predicted:9.1f} {unit}"
    print(line)
