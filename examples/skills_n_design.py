"""The N design of skills-based routing: who should the flexible agents serve first?

Two call types and two agent groups. Dedicated agents speak only English;
bilingual agents take English and Spanish calls. English callers are many
and cheap to keep waiting; Spanish callers are few, valuable and only the
bilingual agents can serve them. Which queue should a bilingual agent take
from when both wait? We compare routing policies on the same simulated
customers (common random numbers), so the differences are the policies'
own, with paired 95 % confidence intervals.
"""

from __future__ import annotations

from valueroute.sim import Scenario, compare

scenario = Scenario.model_validate(
    {
        "name": "N design",
        "horizon_seconds": 8 * 3600,
        "replications": 6,
        "seed": 2026,
        "task_types": [
            {
                "name": "english",
                "skills": {"english": 1},
                "value": 10,
                "sla_seconds": 30,
                "handle": {"kind": "exponential", "mean_seconds": 240},
                "patience": {"kind": "exponential", "mean_seconds": 300},
            },
            {
                "name": "spanish",
                "skills": {"spanish": 1},
                "value": 60,
                "priority": 1,
                "sla_seconds": 30,
                "handle": {"kind": "exponential", "mean_seconds": 300},
                "patience": {"kind": "exponential", "mean_seconds": 180},
            },
        ],
        "arrivals": [
            {"kind": "poisson", "task_type": "english", "rate_per_hour": 220},
            {"kind": "poisson", "task_type": "spanish", "rate_per_hour": 40},
        ],
        "agent_groups": [
            {"name": "dedicated", "skills": {"english": 1}, "count": 12},
            {"name": "bilingual", "skills": {"english": 1, "spanish": 1}, "count": 6},
        ],
    }
)

result = compare(
    scenario,
    policies=[
        "fifo",
        "strict_priority",
        {"policy": "aging_priority", "seconds_per_point": 60},
    ],
)
print(f"{scenario.name}: {scenario.replications} paired replications, baseline {result.baseline}")
print(f"{'policy':<16} {'type':<8} {'SL':>7} {'ASA s':>7} {'abandoned':>10} {'value lost':>11}")
for label, run in result.results.items():
    for task_type in ("english", "spanish", "all"):
        k = run.summary[task_type]
        lost = k["value_lost_abandoned"]["mean"] + k["value_lost_late"]["mean"]
        print(
            f"{label:<16} {task_type:<8} {k['service_level']['mean']:>7.1%}"
            f" {k['asa']['mean']:>7.1f} {k['abandonment_rate']['mean']:>10.1%} {lost:>11.0f}"
        )
for label, table in result.differences.items():
    d = table["spanish"]["service_level"]
    print(
        f"{label} − {result.baseline}: Spanish service level {d['mean']:+.1%}"
        f" (95% CI {d['ci_low']:+.1%} to {d['ci_high']:+.1%})"
    )
