"""Erlang C, Erlang A and simulation size the same queue of impatient callers.

160 calls an hour of 3 minutes each (8 Erlangs); callers hang up after 2
minutes on average (exponential patience); the target is 80 % answered within
20 seconds, counting callers who hang up as missed. Erlang C ignores that
callers leave, so it over-staffs; Erlang A models them exactly, and the
simulation (the real routing engine, with the lower 95 % confidence bound
of the service level over 5 replications required to reach 80 %) should land
on Erlang A's answer, or one agent above it when the bound's width decides.

A second run gives the same calls lognormal handle times with a coefficient
of variation of 2 (a long tail of difficult calls), which neither formula
models.
"""

from __future__ import annotations

import time

from valueroute.erlang import erlang_a, required_agents, service_level
from valueroute.sim import InlineExecutor, Scenario, StaffingTarget, staff_by_simulation

AHT = 180.0
TRAFFIC = 8.0
PATIENCE = 120.0
TARGET = StaffingTarget(service_level=0.8, awt=20.0)


def scenario(handle: dict[str, object]) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "impatient callers",
            "horizon_seconds": 40 * 3600.0,
            "warmup_seconds": 3600.0,
            "replications": 5,
            "seed": 11,
            "task_types": [
                {
                    "name": "calls",
                    "sla_seconds": 20.0,
                    "handle": handle,
                    "patience": {"kind": "exponential", "mean_seconds": PATIENCE},
                }
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": TRAFFIC / AHT * 3600}
            ],
            "agent_groups": [{"name": "agents", "count": 10}],
        }
    )


erlang_c_agents = required_agents(TRAFFIC, aht=AHT, service_level=0.8, awt=20.0)
erlang_a_agents = required_agents(TRAFFIC, aht=AHT, service_level=0.8, awt=20.0, patience=PATIENCE)
print(f"{TRAFFIC:g} Erlangs, AHT {AHT:g} s, mean patience {PATIENCE:g} s, target 80 % in 20 s")
print(
    f"Erlang C: {erlang_c_agents} agents "
    f"(its service level there {service_level(erlang_c_agents, TRAFFIC, aht=AHT, awt=20.0):.3f})"
)
level_a = erlang_a(erlang_a_agents, TRAFFIC, aht=AHT, patience=PATIENCE, awt=20.0)
print(
    f"Erlang A: {erlang_a_agents} agents (service level {level_a.service_level_offered:.3f}, "
    f"abandonment {level_a.p_abandon:.3f})"
)

for label, handle in (
    ("exponential handle times", {"kind": "exponential", "mean_seconds": AHT}),
    ("lognormal handle times, cv 2", {"kind": "lognormal", "mean_seconds": AHT, "cv": 2.0}),
):
    began = time.perf_counter()
    result = staff_by_simulation(scenario(handle), targets=TARGET, executor=InlineExecutor())
    seconds = time.perf_counter() - began
    (check,) = result.checks
    print(f"\nSimulation, {label}: {result.staffing['agents']} agents")
    print(
        f"  service level {check.mean:.3f}, lower 95 % bound {check.bound:.3f}; "
        f"one fewer: bound {result.one_fewer['agents'][0].bound:.3f}"
    )
    print(
        f"  agent-hours {result.agent_hours:.0f} vs Erlang C {erlang_c_agents * result.hours:.0f}"
        f" ({result.agent_hours - erlang_c_agents * result.hours:+.0f})"
    )
    print(
        f"  {len(result.evaluations)} staffings simulated, {result.runs} replications, "
        f"{seconds:.1f} s"
    )
