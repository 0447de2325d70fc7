"""Size a team for a day: Erlang C and Erlang A staffing from a quarter-hour forecast.

Run from the repository root:

    python examples/erlang_staffing.py
"""

from __future__ import annotations

from pathlib import Path

from valueroute.erlang import (
    erlang_a,
    erlang_c,
    read_forecast,
    required_agents,
    service_level,
    staff_intervals,
)

FORECAST = Path(__file__).with_name("forecast_day.csv")

# One interval by hand: 100 calls in half an hour, 3-minute calls = 10 Erlangs.
traffic = 100 * 180.0 / 1800.0
agents = required_agents(traffic, aht=180.0, service_level=0.8, awt=20.0)
print(f"{traffic:g} Erlangs, 80% in 20 s: {agents} agents")
print(
    f"  with {agents}: P(wait) {erlang_c(agents, traffic):.3f}, "
    f"service level {service_level(agents, traffic, aht=180.0, awt=20.0):.3f}"
)
print(
    f"  with {agents - 1}: service level "
    f"{service_level(agents - 1, traffic, aht=180.0, awt=20.0):.3f} (misses the target)"
)

# The same interval when callers hang up after two minutes on average (Erlang A).
result = erlang_a(agents - 1, traffic, aht=180.0, patience=120.0, awt=20.0)
print(
    f"  Erlang A with {agents - 1} agents and 120 s patience: "
    f"{result.service_level_offered:.3f} of offered calls answered within 20 s, "
    f"{result.p_abandon:.3f} abandon"
)

# A whole day from the forecast file, 30 % shrinkage.
forecast = read_forecast(FORECAST)
assert forecast.aht is not None
for patience in (None, 150.0):
    table = staff_intervals(
        forecast.calls,
        interval=900.0,
        aht=forecast.aht,
        labels=forecast.labels,
        service_level=0.8,
        awt=20.0,
        patience=patience,
        shrinkage=0.3,
    )
    totals = table.totals()
    model = "Erlang C" if patience is None else f"Erlang A, {patience:g} s patience"
    print(
        f"{model}: peak {totals['peak_agents']} agents, "
        f"{totals['agent_intervals'] / 4:g} agent-hours on the phones, "
        f"{totals['scheduled_intervals'] / 4:g} scheduled; "
        f"square-root rule {int(table.sqrt_agents.sum()) / 4:g}"
    )
print(table.to_csv().splitlines()[0])
print(table.to_csv().splitlines()[10])
