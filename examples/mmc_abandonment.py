"""M/M/c+M (callers abandon) in the simulator against Erlang A.

Patience is exponential with mean ``PATIENCE``: the Erlang A (Palm) model.
Even with fewer agents than Erlangs the queue is stable, because impatient
callers leave; the table compares abandonment, probability of waiting and
the service level of offered calls with the formula.
"""

from __future__ import annotations

from valueroute.erlang import erlang_a
from valueroute.sim import Scenario, simulate

AHT = 240.0
PATIENCE = 120.0
TRAFFIC = 12.0
AWT = 20.0


def scenario(agents: int) -> Scenario:
    return Scenario.model_validate(
        {
            "name": f"M/M/{agents}+M",
            "horizon_seconds": 80_000,
            "warmup_seconds": 4_000,
            "replications": 4,
            "seed": 11,
            "task_types": [
                {
                    "name": "calls",
                    "sla_seconds": AWT,
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                    "patience": {"kind": "exponential", "mean_seconds": PATIENCE},
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


print(f"M/M/c+M, traffic {TRAFFIC:g} E, AHT {AHT:g} s, mean patience {PATIENCE:g} s")
print(
    f"{'agents':>6} {'P(abandon) sim':>16} {'Erlang A':>9} {'P(wait) sim':>16} {'Erlang A':>9}"
    f" {'SL sim':>16} {'Erlang A':>9}"
)
for agents in (10, 12, 14):
    result = simulate(scenario(agents))
    theory = erlang_a(agents, TRAFFIC, aht=AHT, patience=PATIENCE, awt=AWT)
    print(
        f"{agents:>6} {cell(result, 'abandonment_rate'):>16} {theory.p_abandon:>9.3f}"
        f" {cell(result, 'p_wait'):>16} {theory.p_wait:>9.3f}"
        f" {cell(result, 'service_level'):>16} {theory.service_level_offered:>9.3f}"
    )
