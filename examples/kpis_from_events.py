"""Interval KPIs from the engine's events: live, from a simulated day, from a file.

1. A live engine with a KpiAggregator attached: a few calls, answered,
   abandoned, with the figures a supervisor would see.
2. A simulated morning: the same aggregator on the simulator's engine gives
   the simulator's own KPIs, half hour by half hour.
3. The morning's events exported as JSON Lines and read back: the same report.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from valueroute.engine import Engine
from valueroute.events import Event
from valueroute.journal import export_events, import_events
from valueroute.kpi import KpiAggregator
from valueroute.sim import Scenario
from valueroute.sim.world import World


def shown(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


# 1. Live --------------------------------------------------------------------

now = [0.0]
engine = Engine(clock=lambda: now[0], offer_timeout=None, auto_accept=True)
live = KpiAggregator(interval_seconds=900, sla_seconds={"calls": 20, "claims": 120})
live.attach(engine)
engine.add_agent({"id": "ann"}, ready=True)
engine.submit({"id": "c1", "type": "calls", "value": 2})  # ann answers at once
engine.submit({"id": "c2", "type": "calls", "value": 5})
engine.submit({"id": "k1", "type": "claims", "value": 40, "due": 300})
now[0] = 12.0
engine.cancel("c2", reason="abandoned")  # the caller gave up after 12 s
now[0] = 200.0
engine.complete("c1")  # ann takes the claim next: past its 120 s target, before its due time
now[0] = 500.0
engine.complete("k1")

print("Live engine, whole report:")
print(f"{'type':<8} {'offered':>7} {'answered':>8} {'abandoned':>9} {'SL':>5} {'ASA s':>6}"
      f" {'value on time':>13} {'value lost':>10}")  # fmt: skip
for name, figures in live.report().by_type().items():
    lost = figures["value_lost_late"] + figures["value_lost_abandoned"]
    print(
        f"{name:<8} {figures['offered']:>7.0f} {figures['answered']:>8.0f}"
        f" {figures['abandoned']:>9.0f} {shown(figures['service_level']):>5}"
        f" {shown(figures['asa'], 0):>6} {figures['value_on_time']:>13.0f} {lost:>10.0f}"
    )
ann = live.report().by_agent()["ann"]
print(
    f"ann: {ann['answered']:.0f} answered, occupancy {ann['occupancy']:.0%}, AHT {ann['aht']:.0f} s"
)

# 2. A simulated morning -------------------------------------------------------

scenario = Scenario.model_validate(
    {
        "name": "morning",
        "horizon_seconds": 4 * 3600,
        "interval_minutes": 30,
        "seed": 3,
        "task_types": [
            {
                "name": "calls",
                "value": 1.0,
                "sla_seconds": 20,
                "handle": {"kind": "exponential", "mean_seconds": 200},
                "patience": {"kind": "exponential", "mean_seconds": 90},
            }
        ],
        "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 120}],
        "agent_groups": [{"name": "agents", "headcount": [5, 6, 7, 7, 6, 6, 7, 5]}],
    }
)
world = World(scenario)
morning = KpiAggregator(
    interval_seconds=scenario.interval_seconds,
    sla_seconds={t.name: t.sla_seconds for t in scenario.task_types},
)
morning.attach(world.engine)
recorded: list[Event] = []
world.engine.subscribe(recorded.append)
world.run()
report = morning.report(now=scenario.horizon_seconds)

print("\nSimulated morning, by arrival half hour:")
print(f"{'start':>5} {'offered':>7} {'answered':>8} {'abandoned':>9} {'SL':>5} {'ASA s':>6}")
for row in report.intervals():
    start = (
        f"{int(row['interval_start'] // 3600):02d}:{int(row['interval_start'] % 3600 // 60):02d}"
    )
    print(
        f"{start:>5} {row['offered']:>7.0f} {row['answered']:>8.0f} {row['abandoned']:>9.0f}"
        f" {shown(row['service_level']):>5} {shown(row['asa'], 1):>6}"
    )
ours = report.by_type()["all"]
theirs = world.result().kpis["all"]
print(
    f"service level: aggregator {ours['service_level']:.4f}, "
    f"simulator {theirs['service_level']:.4f}; AHT: {ours['aht']:.2f} s and {theirs['aht']:.2f} s"
)

# 3. The same morning from an event file ------------------------------------

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "morning.jsonl"
    export_events(recorded, path)
    from_file = KpiAggregator(
        interval_seconds=scenario.interval_seconds,
        sla_seconds={t.name: t.sla_seconds for t in scenario.task_types},
    )
    from_file.feed(import_events(path))
    same = from_file.report(now=scenario.horizon_seconds) == report
    print(
        f"\n{len(recorded)} events written to a JSON Lines file and read back: same report: {same}"
    )
