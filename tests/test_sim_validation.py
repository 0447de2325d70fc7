"""The simulator against queueing theory and its own conservation laws.

Each analytic check runs independent replications and asks the steady-state
value to lie inside a 99 % Student t confidence interval of the replication
means (widened by nothing else). Loads and horizons are chosen so the whole
file runs in well under a minute on one core.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.erlang import average_speed_of_answer, erlang_a, erlang_c, service_level
from valueroute.events import Event, EventKind
from valueroute.sim import InlineExecutor, Scenario, World, simulate
from valueroute.sim.metrics import WaitHistogram, mean_ci, student_t_quantile

AHT = 60.0


def single_queue(
    *,
    agents: int,
    traffic: float,
    horizon: float,
    patience: float | None = None,
    sla: float = 20.0,
    replications: int = 5,
    seed: int = 11,
) -> Scenario:
    task_type: dict[str, Any] = {
        "name": "calls",
        "handle": {"kind": "exponential", "mean_seconds": AHT},
        "sla_seconds": sla,
    }
    if patience is not None:
        task_type["patience"] = {"kind": "exponential", "mean_seconds": patience}
    return Scenario.model_validate(
        {
            "horizon_seconds": horizon,
            "warmup_seconds": 0.05 * horizon,
            "replications": replications,
            "seed": seed,
            "task_types": [task_type],
            "arrivals": [
                {"kind": "poisson", "task_type": "calls", "rate_per_hour": traffic / AHT * 3600}
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
        }
    )


def within_ci(values: list[float], expected: float, *, confidence: float = 0.99) -> None:
    mean, half = mean_ci(values, confidence=confidence)
    assert abs(mean - expected) <= half, (
        f"theory {expected:.5f} outside {mean:.5f} ± {half:.5f} ({confidence:.0%} CI)"
    )


def kpi(result: Any, name: str, task_type: str = "calls") -> list[float]:
    return [r.kpis[task_type][name] for r in result.replications]


# ---------------------------------------------------------------- Erlang C and A


def test_mmc_fifo_matches_erlang_c_wait_probability_asa_and_service_level() -> None:
    scenario = single_queue(agents=10, traffic=8.0, horizon=80_000.0)
    result = simulate(scenario, executor=InlineExecutor())
    within_ci(kpi(result, "p_wait"), erlang_c(10, 8.0))
    within_ci(kpi(result, "asa"), average_speed_of_answer(10, 8.0, aht=AHT))
    within_ci(kpi(result, "service_level"), service_level(10, 8.0, aht=AHT, awt=20.0))
    # Occupancy A / n: agents are busy 80 % of the time.
    within_ci([r.groups["agents"]["occupancy"] for r in result.replications], 0.8)


def test_mmc_with_exponential_patience_matches_erlang_a() -> None:
    scenario = single_queue(agents=10, traffic=10.0, horizon=60_000.0, patience=AHT)
    result = simulate(scenario, executor=InlineExecutor())
    theory = erlang_a(10, 10.0, aht=AHT, patience=AHT, awt=20.0)
    # P(abandon) of all arrivals: every arrival either is answered or abandons
    # (those still waiting at the end are a handful out of tens of thousands).
    within_ci(kpi(result, "abandonment_rate"), theory.p_abandon)
    within_ci(kpi(result, "p_wait"), theory.p_wait)
    within_ci(kpi(result, "mean_wait"), theory.mean_wait)
    within_ci(kpi(result, "service_level"), theory.service_level_offered)


def test_two_priority_classes_match_cobhams_formula() -> None:
    # M/M/c non-preemptive priority, equal service rates (Cobham 1954; Gross and
    # Harris, Fundamentals of Queueing Theory, 3.4): with σ_k the load of classes
    # 1..k over cμ, W_k = C(c, A) / (cμ (1 − σ_{k−1})(1 − σ_k)).
    agents, high, low = 5, 1.6, 2.4  # Erlangs
    per_hour = {"high": high / AHT * 3600, "low": low / AHT * 3600}
    scenario = Scenario.model_validate(
        {
            "horizon_seconds": 80_000.0,
            "warmup_seconds": 4_000.0,
            "replications": 5,
            "seed": 5,
            "task_types": [
                {
                    "name": name,
                    "priority": 1 if name == "high" else 0,
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                }
                for name in ("high", "low")
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": name, "rate_per_hour": rate}
                for name, rate in per_hour.items()
            ],
            "agent_groups": [{"name": "agents", "count": agents}],
            "routing": {"policy": "strict_priority"},
        }
    )
    result = simulate(scenario, executor=InlineExecutor())
    c_mu = agents / AHT
    waiting = erlang_c(agents, high + low)
    sigma_high = high / agents
    sigma_all = (high + low) / agents
    w_high = waiting / (c_mu * (1 - sigma_high))
    w_low = waiting / (c_mu * (1 - sigma_high) * (1 - sigma_all))
    within_ci(kpi(result, "asa", "high"), w_high)
    within_ci(kpi(result, "asa", "low"), w_low)
    assert w_low > 3 * w_high  # the check can tell the classes apart


# ---------------------------------------------------------------- relations


def demo_like(*, warmup: float = 0.0, retrials: bool = True) -> Scenario:
    voice: dict[str, Any] = {
        "name": "voice",
        "skills": {"sales": 1},
        "value": 50,
        "handle": {"kind": "lognormal", "mean_seconds": 240, "cv": 1.0},
        "handle_by_group": {"specialists": 0.7},
        "patience": {"kind": "exponential", "mean_seconds": 90},
        "forward_probability": 0.2,
        "forward_to": "email",
    }
    if retrials:
        voice |= {
            "retrial_probability": 0.5,
            "retrial_delay": {"kind": "exponential", "mean_seconds": 300},
            "retrial_type": "email",
        }
    return Scenario.model_validate(
        {
            "horizon_seconds": 14_400.0,
            "warmup_seconds": warmup,
            "interval_minutes": 30,
            "seed": 3,
            "task_types": [
                voice,
                {
                    "name": "email",
                    "channel": "email",
                    "skills": {"claims": 1},
                    "value": 200,
                    "sla_seconds": 3600,
                    "due_seconds": 3600,
                    "handle": {"kind": "gamma", "mean_seconds": 600, "cv": 0.5},
                },
            ],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": "voice",
                    "interval_minutes": 60,
                    "volumes": [200, 320, 280, 150],
                },
                {"kind": "poisson", "task_type": "email", "rate_per_hour": 20},
            ],
            "agent_groups": [
                {
                    "name": "specialists",
                    "skills": {"sales": 2},
                    "shifts": [
                        {
                            "start_seconds": 0,
                            "end_seconds": 14_400,
                            "count": 6,
                            "breaks": [{"start_seconds": 5_000, "duration_seconds": 900}],
                        }
                    ],
                },
                {
                    "name": "mixed",
                    "skills": {"sales": 1, "claims": 1},
                    "capacity": {"voice": 1, "email": 2},
                    "headcount": [8, 10, 12, 12, 10, 8, 6, 4],
                },
            ],
            "routing": {"policy": "aging_priority", "wrap_up_seconds": 20},
        }
    )


def test_every_task_is_answered_abandoned_or_still_waiting_at_the_end() -> None:
    world = World(demo_like())
    world.run()
    result = world.result()
    for name in ("voice", "email", "all"):
        k = result.kpis[name]
        assert k["offered"] == k["answered"] + k["abandoned"] + k["waiting_at_end"]
        assert k["answered"] == k["completed"] + k["in_service_at_end"]
    # The engine's own counters agree: every submitted task is one offered.
    counts = result.engine_counts
    assert counts["voice"]["submitted"] == result.kpis["voice"]["offered"]
    assert counts["email"]["submitted"] == result.kpis["email"]["offered"]
    assert counts["voice"].get("canceled", 0) == result.kpis["voice"]["abandoned"]
    # Tasks still open in the engine are exactly those waiting or being served
    # (with wrap-up, a served task stays open until its wrap-up ends).
    open_tasks = len(world.engine)
    waiting = result.kpis["all"]["waiting_at_end"]
    in_service = result.kpis["all"]["in_service_at_end"]
    assert waiting + in_service <= open_tasks
    assert result.kpis["voice"]["retrials"] > 0
    assert result.kpis["voice"]["forwarded"] > 0
    # Per-interval counts add up to the totals.
    for name in ("voice", "email"):
        rows = [row for row in result.intervals if row["type"] == name]
        assert sum(row["offered"] for row in rows) == result.kpis[name]["offered"]
        assert sum(row["answered"] for row in rows) == result.kpis[name]["answered"]
    world.engine._check()


def test_littles_law_holds_for_the_queue() -> None:
    scenario = single_queue(agents=10, traffic=9.5, horizon=60_000.0, patience=120.0)
    result = simulate(scenario, replications=1, executor=InlineExecutor())
    k = result.replications[0].kpis["calls"]
    # L = λ W: time-average queue length against arrival rate × mean time in queue.
    little = k["arrival_rate_per_hour"] / 3600.0 * k["mean_wait"]
    assert k["mean_queue"] == pytest.approx(little, rel=0.02)
    assert k["mean_queue"] > 1.0


def test_agents_off_duty_get_no_work_and_leave_right_after_their_last_task() -> None:
    world = World(demo_like(retrials=False))
    log: list[Event] = []
    world.engine.subscribe(log.append)
    world.run()
    state: dict[str, str] = {}
    leaving_since: dict[str, float] = {}
    last_completion: dict[str, float] = {}
    left_busy = 0
    for event in log:
        agent = event.agent or ""
        if event.kind in (EventKind.agent_added, EventKind.agent_state_changed):
            state[agent] = str(event.data.get("state"))
            if event.data.get("reason") == "end_of_duty":
                leaving_since[agent] = event.time
            elif state[agent] == "offline" and agent in leaving_since:
                # Gone the moment its last task (and wrap-up) ended, not later.
                assert event.time == last_completion[agent]
                assert last_completion[agent] >= leaving_since.pop(agent)
                left_busy += 1
        if event.kind is EventKind.task_completed:
            last_completion[agent] = event.time
        if event.kind is EventKind.task_offered:
            # Nobody on a break or off duty is offered work.
            assert state[agent] in ("ready", "busy"), event
    assert left_busy > 0
    result = world.result()
    # Scheduled time, plus the minutes spent finishing calls past a break's start.
    scheduled = 6 * (4 - 0.25)
    assert scheduled <= result.groups["specialists"]["staffed_hours"] <= scheduled + 6 * 0.5


def test_a_task_no_agent_is_on_duty_for_waits_until_the_end() -> None:
    scenario = single_queue(agents=1, traffic=0.5, horizon=7_200.0)
    data = scenario.model_dump()
    data["warmup_seconds"] = 0.0
    data["agent_groups"] = [{"name": "agents", "headcount": [3, 0, 0, 0], "interval_minutes": 30}]
    result = simulate(Scenario.model_validate(data), replications=1)
    rows = [row for row in result.replications[0].intervals if row["interval_start"] >= 1800]
    assert sum(row["answered"] for row in rows) == 0
    assert result.replications[0].kpis["calls"]["waiting_at_end"] == sum(
        row["offered"] for row in rows
    )
    # Three agents for half an hour, plus the time to finish the calls they held then.
    assert 1.5 <= result.replications[0].groups["agents"]["staffed_hours"] <= 1.5 + 3 * 0.5


# ---------------------------------------------------------------- randomness


def test_the_same_seed_gives_identical_results() -> None:
    first = simulate(demo_like(), replications=2, executor=InlineExecutor())
    second = simulate(demo_like(), replications=2, executor=InlineExecutor())
    assert first.to_dict() == second.to_dict()
    other = simulate(demo_like(), replications=2, seed=4, executor=InlineExecutor())
    assert other.to_dict()["summary"] != first.to_dict()["summary"]


def customers_seen(scenario: Scenario) -> list[tuple[float, str, float, float]]:
    """(arrival, type, handle, patience) of every primary arrival, as the world drew them."""
    world = World(scenario)
    seen: list[tuple[float, str, float, float]] = []

    def record(event: Event) -> None:
        if event.kind is EventKind.task_submitted:
            customer = world._open[event.task or ""]
            seen.append((event.time, str(event.data["type"]), customer.handle, customer.patience))

    world.engine.subscribe(record)
    world.run()
    return seen


def test_different_policies_under_one_seed_see_the_same_customers() -> None:
    base = demo_like(retrials=False)
    by_policy = {
        name: customers_seen(base.with_routing(policy=name, policy_params={}))
        for name in ("fifo", "strict_priority")
    }
    fifo, priority = by_policy["fifo"], by_policy["strict_priority"]
    # Forwarded e-mails follow service completions, which the policy moves;
    # the primary voice customers must be the very same.
    voice_fifo = [c for c in fifo if c[1] == "voice"]
    voice_priority = [c for c in priority if c[1] == "voice"]
    assert voice_fifo == voice_priority
    assert len(voice_fifo) > 500


# ---------------------------------------------------------------- statistics helpers


@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_wait_histogram_quantiles_are_within_half_a_bin_of_the_exact_ones(
    waits: list[float],
) -> None:
    histogram = WaitHistogram()
    for wait in waits:
        histogram.add(wait)
    ordered = sorted(waits)
    for q in (0.5, 0.9, 0.99):
        estimate = histogram.quantile(q)
        # The estimate lies between the order statistics around rank q·n, up to
        # the bin's relative width (10^(1/100) − 1 < 2.4 %).
        rank = q * len(ordered)
        low = ordered[max(0, math.ceil(rank) - 1)]
        high = ordered[min(len(ordered) - 1, math.ceil(rank))]
        # Waits under 1 ms share the first bin: they read as at most 1.03 ms.
        assert low * (1 - 0.024) - 1.03e-3 <= estimate <= high * (1 + 0.024) + 1.03e-3


@pytest.mark.parametrize("df", [1, 2, 5, 10, 29, 30, 31, 60, 200, 10_000])
@pytest.mark.parametrize("p", [0.95, 0.975, 0.995])
def test_student_t_quantile_matches_scipy(df: int, p: float) -> None:
    stats = pytest.importorskip("scipy.stats")
    exact = float(stats.t.ppf(p, df))
    tolerance = 1e-6 if (p == 0.975 and df <= 30) else (2e-2 if df < 5 else 2e-3)
    assert student_t_quantile(p, df) == pytest.approx(exact, rel=tolerance)


def test_confidence_intervals_cover_the_mean_at_their_nominal_rate() -> None:
    rng = np.random.default_rng(2026)
    covered = 0
    trials = 2000
    for _ in range(trials):
        sample = rng.exponential(1.0, size=8).tolist()
        mean, half = mean_ci(sample, confidence=0.95)
        covered += abs(mean - 1.0) <= half
    # Skewed data: a t interval covers a bit less than 95 % with n = 8.
    assert 0.88 <= covered / trials <= 0.97
