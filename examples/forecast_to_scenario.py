"""From a forecast CSV to a simulated day: staff by Erlang C, then check it by simulation.

The forecast (interval,calls,aht) is staffed per quarter hour for 80 % of
calls answered within 20 seconds; the staffing and the forecast become a
scenario file that `valueroute simulate` runs, and the same scenario is
simulated here, hour by hour, beside what Erlang C promised.

    python examples/forecast_to_scenario.py [FORECAST.csv]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from valueroute.erlang import read_forecast, staff_intervals
from valueroute.sim import InlineExecutor, load_profile_csv, load_scenario, simulate
from valueroute.sim.planning import (
    profile_from_forecast,
    scenario_from_forecast,
    write_profile_csv,
    write_scenario,
)

HERE = Path(__file__).resolve().parent
source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "forecast_day.csv"

forecast = read_forecast(source)
assert forecast.aht is not None, "this example needs an aht column"
table = staff_intervals(forecast.calls, interval=900, aht=forecast.aht, service_level=0.8, awt=20)
scenario = scenario_from_forecast(
    forecast, staffing=table, service_level=(0.8, 20), name="forecast day", replications=8
)

with tempfile.TemporaryDirectory() as folder:
    # The scenario as a file `valueroute simulate day.toml` runs, read back equal.
    path = write_scenario(scenario, Path(folder) / "day.toml")
    assert load_scenario(path) == scenario
    # The forecast as the simulator's profile CSV, read back equal.
    profile = profile_from_forecast(forecast, task_type="voice")
    profile_path = write_profile_csv(profile, Path(folder) / "profile.csv")
    assert load_profile_csv(profile_path) == [profile]
    print(f"{path.name}: {len(path.read_text().splitlines())} lines; profile CSV starts")
    print("  " + "\n  ".join(profile_path.read_text().splitlines()[:3]))

result = simulate(scenario, seed=1, executor=InlineExecutor())
level = result.summary["all"]["service_level"]
calls = forecast.calls
planned = float((table.service_level * calls).sum() / calls.sum())
print(
    f"\n{calls.sum():.0f} calls, {table.agents.sum() / 4:.1f} agent-hours; service level "
    f"{level['mean']:.3f} (95 % CI {level['ci_low']:.3f} to {level['ci_high']:.3f}) "
    f"simulated over {len(result.replications)} days, Erlang C planned {planned:.3f}"
)

# Hour by hour: the simulated share answered within 20 s against Erlang C's.
hours = len(calls) // 4
within = np.zeros(hours)
closed = np.zeros(hours)
for replication in result.replications:
    for row in replication.intervals:
        hour = int(row["interval_start"] // 3600)
        within[hour] += row["answered_within"]
        closed[hour] += row["answered"] + row["abandoned"]
print(f"\n{'hour':<6} {'calls':>6} {'agents':>12} {'Erlang C':>9} {'simulated':>10}")
for hour in range(hours):
    quarter = slice(4 * hour, 4 * hour + 4)
    erlang = float((table.service_level[quarter] * calls[quarter]).sum() / calls[quarter].sum())
    agents = "-".join(sorted({str(n) for n in table.agents[quarter]}, key=int))
    print(
        f"{forecast.labels[4 * hour]:<6} {calls[quarter].sum():>6.0f} {agents:>12} "
        f"{erlang:>9.3f} {within[hour] / closed[hour]:>10.3f}"
    )
