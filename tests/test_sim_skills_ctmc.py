"""Skill-based routing in the simulator against a continuous-time Markov chain.

An N design: calls of type A need skill ``a``, calls of type B skill ``b``;
``c1`` specialists have ``a`` only, ``c2`` flexible agents have both. Under
``least_skilled`` agent selection an A call goes to an idle specialist before
an idle flexible agent; under ``strict_priority`` with B above A a freed
flexible agent takes a waiting B call before a waiting A call, and a freed
specialist the A call waiting longest. With Poisson arrivals, exponential
handle times (per type) and exponential patience (per type), the numbers of
busy specialists, of flexible agents busy on A and on B, and of A and B calls
waiting form a Markov chain. Its stationary distribution, solved numerically
on a truncated state space, gives per type the share of calls that wait
(PASTA), the share that abandon (θ E[q] / λ) and the mean wait of answered
and abandoned calls together (E[q] / λ, Little's law on the queue).

The simulator runs the same routing engine as a live host, with its KPIs
counted from the engine's events; each figure must lie inside the 99 %
Student t interval of independent replications. The chain of the same
centre without the specialists-first rule (A calls to flexible agents as
readily) is solved too, to show the check can tell the two apart.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import spsolve

from valueroute.sim import InlineExecutor, Scenario, simulate
from valueroute.sim.metrics import mean_ci

SPECIALISTS, FLEXIBLE = 3, 3
AHT = {"A": 60.0, "B": 90.0}
PATIENCE = {"A": 120.0, "B": 60.0}
RATE = {"A": 0.045, "B": 0.02}  # calls per second: 2.7 + 1.8 Erlangs on 6 agents
TRUNCATE = 40  # calls waiting per type in the chain


def solve_chain(*, specialists_first: bool) -> dict[str, dict[str, float]]:
    """Per type: p_wait, abandonment_rate, mean_wait of the N design's chain.

    State: (d, fa, fb, qa, qb) busy specialists, flexible agents busy on A
    and on B, calls waiting of A and B. Without ``specialists_first`` an A
    call finding both kinds idle goes to either in proportion to how many
    are idle (what choosing among idle agents regardless of skills gives).
    """
    mu_a, mu_b = 1 / AHT["A"], 1 / AHT["B"]
    theta_a, theta_b = 1 / PATIENCE["A"], 1 / PATIENCE["B"]
    lam_a, lam_b = RATE["A"], RATE["B"]
    states = []
    for d, fa, fb, qa, qb in itertools.product(
        range(SPECIALISTS + 1),
        range(FLEXIBLE + 1),
        range(FLEXIBLE + 1),
        range(TRUNCATE + 1),
        range(TRUNCATE + 1),
    ):
        f = fa + fb
        if f > FLEXIBLE:
            continue
        if qa and (d < SPECIALISTS or f < FLEXIBLE):
            continue  # an A call waits only while every agent with a is busy
        if qb and f < FLEXIBLE:
            continue
        states.append((d, fa, fb, qa, qb))
    index = {s: i for i, s in enumerate(states)}
    rows: list[int] = []
    cols: list[int] = []
    rates: list[float] = []

    def move(source: tuple[int, ...], target: tuple[int, ...], rate: float) -> None:
        if rate > 0 and target != source:
            rows.append(index[source])
            cols.append(index[target])
            rates.append(rate)

    for s in states:
        d, fa, fb, qa, qb = s
        f = fa + fb
        # A arrives.
        if d < SPECIALISTS and f < FLEXIBLE and not specialists_first:
            idle_d, idle_f = SPECIALISTS - d, FLEXIBLE - f
            move(s, (d + 1, fa, fb, qa, qb), lam_a * idle_d / (idle_d + idle_f))
            move(s, (d, fa + 1, fb, qa, qb), lam_a * idle_f / (idle_d + idle_f))
        elif d < SPECIALISTS:
            move(s, (d + 1, fa, fb, qa, qb), lam_a)
        elif f < FLEXIBLE:
            move(s, (d, fa + 1, fb, qa, qb), lam_a)
        elif qa < TRUNCATE:
            move(s, (d, fa, fb, qa + 1, qb), lam_a)
        # B arrives.
        if f < FLEXIBLE:
            move(s, (d, fa, fb + 1, qa, qb), lam_b)
        elif qb < TRUNCATE:
            move(s, (d, fa, fb, qa, qb + 1), lam_b)
        # A specialist finishes: takes the next A call, if any.
        if d:
            move(s, (d, fa, fb, qa - 1, qb) if qa else (d - 1, fa, fb, qa, qb), d * mu_a)
        # A flexible agent finishes (an A or a B call): B first, then A.
        for busy, rate, freed in ((fa, mu_a, (d, fa - 1, fb)), (fb, mu_b, (d, fa, fb - 1))):
            if not busy:
                continue
            d2, fa2, fb2 = freed
            if qb:
                target = (d2, fa2, fb2 + 1, qa, qb - 1)
            elif qa:
                target = (d2, fa2 + 1, fb2, qa - 1, qb)
            else:
                target = (d2, fa2, fb2, qa, qb)
            move(s, target, busy * rate)
        # Abandonment.
        if qa:
            move(s, (d, fa, fb, qa - 1, qb), qa * theta_a)
        if qb:
            move(s, (d, fa, fb, qa, qb - 1), qb * theta_b)

    n = len(states)
    generator = csr_matrix((rates, (rows, cols)), shape=(n, n)).tolil()
    out = np.asarray(generator.sum(axis=1)).ravel()
    generator.setdiag(-out)
    # πQ = 0 with Σπ = 1: the last balance equation replaced by the sum.
    system = generator.T.tolil()
    system[n - 1, :] = 1.0
    rhs = np.zeros(n)
    rhs[n - 1] = 1.0
    pi = spsolve(system.tocsr(), rhs)
    assert np.all(pi > -1e-12)
    arr = np.array(states)
    d, fa, fb, qa, qb = arr.T
    f = fa + fb
    assert pi[(qa == TRUNCATE) | (qb == TRUNCATE)].sum() < 1e-9  # truncation is negligible
    mean_qa, mean_qb = float(pi @ qa), float(pi @ qb)
    return {
        "A": {
            "p_wait": float(pi[(d == SPECIALISTS) & (f == FLEXIBLE)].sum()),
            "abandonment_rate": theta_a * mean_qa / lam_a,
            "mean_wait": mean_qa / lam_a,
        },
        "B": {
            "p_wait": float(pi[f == FLEXIBLE].sum()),
            "abandonment_rate": theta_b * mean_qb / lam_b,
            "mean_wait": mean_qb / lam_b,
        },
    }


def n_design(horizon: float) -> Scenario:
    types: list[dict[str, Any]] = [
        {
            "name": name,
            "skills": {name.lower(): 1},
            "priority": 1 if name == "B" else 0,
            "handle": {"kind": "exponential", "mean_seconds": AHT[name]},
            "patience": {"kind": "exponential", "mean_seconds": PATIENCE[name]},
        }
        for name in ("A", "B")
    ]
    return Scenario.model_validate(
        {
            "horizon_seconds": horizon,
            "warmup_seconds": 0.05 * horizon,
            "replications": 5,
            "seed": 17,
            "task_types": types,
            "arrivals": [
                {"kind": "poisson", "task_type": name, "rate_per_hour": RATE[name] * 3600}
                for name in ("A", "B")
            ],
            "agent_groups": [
                {"name": "specialists", "skills": {"a": 1}, "count": SPECIALISTS},
                {"name": "flexible", "skills": {"a": 1, "b": 1}, "count": FLEXIBLE},
            ],
            "routing": {"policy": "strict_priority", "agent_selection": "least_skilled"},
        }
    )


def test_an_n_design_with_specialists_first_and_b_first_matches_its_markov_chain() -> None:
    theory = solve_chain(specialists_first=True)
    other = solve_chain(specialists_first=False)
    result = simulate(n_design(500_000.0), executor=InlineExecutor())
    told_apart = False
    for name in ("A", "B"):
        for figure in ("p_wait", "abandonment_rate", "mean_wait"):
            values = [r.kpis[name][figure] for r in result.replications]
            mean, half = mean_ci(values, confidence=0.99)
            expected = theory[name][figure]
            assert abs(mean - expected) <= half, (
                f"{name} {figure}: chain {expected:.5f} outside {mean:.5f} ± {half:.5f}"
            )
            told_apart = told_apart or abs(mean - other[name][figure]) > half
    # Sending A calls to flexible agents as readily would show.
    assert told_apart
