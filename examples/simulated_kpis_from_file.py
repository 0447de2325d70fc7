"""A simulated day's KPIs, and the same KPIs from the day's exported event file.

The simulator counts its KPIs with the event aggregator a live engine uses
(valueroute.kpi): record the run's events, export them as JSON Lines, read
them back into a fresh aggregator with the run's settings, and the result is
the run's result.

    python examples/simulated_kpis_from_file.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from valueroute.events import Event
from valueroute.journal import export_events, import_events
from valueroute.scenarios import load_scenario
from valueroute.sim import World

scenario = load_scenario("demo")
world = World(scenario, replication=0)
events: list[Event] = []
world.engine.subscribe(events.append)
world.run()
result = world.result()

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "day.jsonl"
    export_events(events, path)
    replayed = world.new_aggregator()
    replayed.feed(import_events(path))
end = world.engine_origin + scenario.horizon_seconds
from_file = world.result(report=replayed.report(now=end))

print(f"{len(events):,} events; per type: offered, answered, abandoned, service level")
for name, kpis in result.kpis.items():
    again = from_file.kpis[name]
    assert (kpis["offered"], kpis["answered"]) == (again["offered"], again["answered"])
    print(
        f"  {name:<14}{kpis['offered']:>7.0f}{kpis['answered']:>7.0f}"
        f"{kpis['abandoned']:>7.0f}{kpis['service_level']:>8.1%}"
    )
print("the event file gives the same counts for every type")
