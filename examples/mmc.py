"""M/M/c in the simulator against Erlang C, for a few staffing levels.

The routing engine runs in a SimPy world with FIFO routing; exponential
arrivals and handle times make it the textbook M/M/c queue, whose
probability of waiting, average speed of answer and service level Erlang C
gives exactly. Each row shows the replication mean ± the 95 % confidence
half-width next to the formula.
"""

from __future__ import annotations

from valueroute.erlang import average_speed_of_answer, erlang_c, service_level
from valueroute.sim import Scenario, simulate

AHT = 180.0  # seconds
TRAFFIC = 8.0  # Erlangs: 160 calls an hour of 3 minutes each
AWT = 20.0  # service-level target: answered within 20 seconds


def scenario(agents: int) -> Scenario:
    return Scenario.model_validate(
        {
            "name": f"M/M/{agents}",
            "horizon_seconds": 60_000,
            "warmup_seconds": 3_000,
            "replications": 8,
            "seed": 7,
            "task_types": [
                {
                    "name": "calls",
                    "sla_seconds": AWT,
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                }
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": TRAFFIC / AHT * 3600}
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
        }
    )


def cell(result: object, kpi: str) -> str:
    figures = result.summary["calls"][kpi]  # type: ignore[attr-defined]
    return f"{figures['mean']:.3f} ± {figures['half_width']:.3f}"


print(f"M/M/c, traffic {TRAFFIC:g} Erlangs, AHT {AHT:g} s; simulated (95% CI) vs Erlang C")
print(
    f"{'agents':>6} {'P(wait) sim':>16} {'Erlang C':>9} {'ASA sim':>16} {'Erlang C':>9}"
    f" {'SL sim':>16} {'Erlang C':>9}"
)
for agents in (10, 11, 12):
    result = simulate(scenario(agents))
    print(
        f"{agents:>6} {cell(result, 'p_wait'):>16} {erlang_c(agents, TRAFFIC):>9.3f}"
        f" {cell(result, 'asa'):>16} {average_speed_of_answer(agents, TRAFFIC, aht=AHT):>9.3f}"
        f" {cell(result, 'service_level'):>16}"
        f" {service_level(agents, TRAFFIC, aht=AHT, awt=AWT):>9.3f}"
    )
