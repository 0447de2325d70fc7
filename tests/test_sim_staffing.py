"""Simulation-based staffing against independent references.

- Single skill, FIFO, exponential everything (M/M/c): the simulation staffing
  is Erlang C's exact minimum, for loads where Erlang C's service level at
  that minimum clears the target by more than the confidence bound's width
  (a margin of 0.05; closer than that, the lower 95 % bound over a few
  replications can sit below the target while the mean is above it, and the
  simulation answer is one agent more: see docs/staffing.md).
- Minimality: re-simulated here with plain ``simulate`` and the same seed, and
  judged with SciPy's t quantile, the returned staffing meets the targets and
  one agent fewer in any group misses them.
- Where Erlang C misleads: callers who abandon (M/M/c+M). Erlang C, which
  ignores abandonment, over-staffs; the simulation agrees with Erlang A, the
  exact M/M/c+M answer.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from valueroute.erlang import erlang_a, required_agents, service_level
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.sim import InlineExecutor, Scenario, simulate
from valueroute.sim.staffing import (
    StaffingTarget,
    _judge,
    staff_by_simulation,
    staff_intervals_by_simulation,
)

AHT = 60.0
SL = StaffingTarget(service_level=0.8, awt=20.0)


def single_queue(
    *,
    traffic: float,
    agents: int = 5,
    calls: int = 4000,
    patience: float | None = None,
    replications: int = 5,
    seed: int = 3,
) -> Scenario:
    """M/M/c (or M/M/c+M) with about ``calls`` calls per replication."""
    task_type: dict[str, Any] = {
        "name": "calls",
        "handle": {"kind": "exponential", "mean_seconds": AHT},
        "sla_seconds": 20.0,
    }
    if patience is not None:
        task_type["patience"] = {"kind": "exponential", "mean_seconds": patience}
    rate = traffic / AHT
    horizon = calls / rate
    return Scenario.model_validate(
        {
            "horizon_seconds": horizon,
            "warmup_seconds": 0.05 * horizon,
            "replications": replications,
            "seed": seed,
            "task_types": [task_type],
            "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": rate * 3600}],
            "agent_groups": [{"name": "agents", "count": agents}],
        }
    )


def t_bound(values: list[float], *, confidence: float, lower: bool) -> float:
    """One-sided Student t confidence bound, computed with SciPy."""
    n = len(values)
    mean = sum(values) / n
    deviation = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    spread = stats.t.ppf(confidence, n - 1) * deviation / math.sqrt(n)
    return float(mean - spread if lower else mean + spread)


def service_level_bound(scenario: Scenario, counts: dict[str, int], task_type: str) -> float:
    data = scenario.model_dump()
    for group in data["agent_groups"]:
        group["count"] = counts[group["name"]]
    result = simulate(Scenario.model_validate(data), executor=InlineExecutor())
    values = [r.kpis[task_type]["service_level"] for r in result.replications]
    return t_bound(values, confidence=0.95, lower=True)


# ------------------------------------------------------------ M/M/c vs Erlang C


@pytest.mark.parametrize(("traffic", "start"), [(2.0, None), (8.0, None), (12.0, {"agents": 1})])
def test_single_skill_fifo_staffing_equals_erlang_c(
    traffic: float, start: dict[str, int] | None
) -> None:
    expected = required_agents(traffic, aht=AHT, service_level=0.8, awt=20.0)
    # The loads are chosen where Erlang C's answer is clear-cut (see the module docstring).
    assert service_level(expected, traffic, aht=AHT, awt=20.0) >= 0.85
    assert service_level(expected - 1, traffic, aht=AHT, awt=20.0) < 0.8
    result = staff_by_simulation(
        single_queue(traffic=traffic), targets=SL, start=start, executor=InlineExecutor()
    )
    assert result.staffing == {"agents": expected}
    if start is None:
        # The pilot measures the offered load; Erlang C from it is the search's start.
        assert result.offered_load["agents"] == pytest.approx(traffic, rel=0.05)
        assert abs(result.erlang["agents"] - expected) <= 1


# ------------------------------------------------------------ minimality, several groups


def n_design(*, a_only: int = 3, flex: int = 3) -> Scenario:
    """Type a (4 Erlangs) served by both groups, type b (2 Erlangs) by the flexible group only."""
    return Scenario.model_validate(
        {
            "horizon_seconds": 20_000.0,
            "warmup_seconds": 1_000.0,
            "replications": 4,
            "seed": 5,
            "task_types": [
                {
                    "name": "a",
                    "skills": {"a": 1},
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                },
                {
                    "name": "b",
                    "skills": {"b": 1},
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                },
            ],
            "arrivals": [
                {"kind": "poisson", "task_type": "a", "rate_per_hour": 4 / AHT * 3600},
                {"kind": "poisson", "task_type": "b", "rate_per_hour": 2 / AHT * 3600},
            ],
            "agent_groups": [
                {"name": "a_only", "skills": {"a": 1}, "count": a_only},
                {"name": "flex", "skills": {"a": 1, "b": 1}, "count": flex},
            ],
        }
    )


def test_two_groups_staffing_is_minimal_one_fewer_in_any_group_misses() -> None:
    scenario = n_design()
    targets = [
        StaffingTarget(task_type="a", service_level=0.8),
        StaffingTarget(task_type="b", service_level=0.8),
    ]
    result = staff_by_simulation(scenario, targets=targets, executor=InlineExecutor())
    found = result.staffing
    assert all(check.met for check in result.checks)
    for task_type in ("a", "b"):
        assert service_level_bound(scenario, found, task_type) >= 0.8
    for group in found:
        assert found[group] > 0
        fewer = {**found, group: found[group] - 1}
        worst = min(service_level_bound(scenario, fewer, t) for t in ("a", "b"))
        assert worst < 0.8, f"{group} at {fewer[group]} still meets the targets"
        assert result.one_fewer[group], "the result names the target that one fewer misses"
    # Every staffing was simulated once; the runs add up.
    staffings = [e.staffing for e in result.evaluations]
    assert len(staffings) == len(set(staffings))
    assert result.runs == 4 * (len(staffings) + 1)


def test_same_answer_on_any_executor() -> None:
    scenario = single_queue(traffic=3.0, calls=1500, replications=3)
    inline = staff_by_simulation(scenario, targets=SL, executor=InlineExecutor())
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = staff_by_simulation(scenario, targets=SL, executor=pool)
    assert threaded.staffing == inline.staffing
    assert [e.staffing for e in threaded.evaluations] == [e.staffing for e in inline.evaluations]
    assert threaded.checks == inline.checks


# ------------------------------------------------------------ where Erlang C misleads


def test_abandonment_erlang_c_overstaffs_and_simulation_agrees_with_erlang_a() -> None:
    traffic, patience = 8.0, 60.0
    erlang_c_answer = required_agents(traffic, aht=AHT, service_level=0.8, awt=20.0)
    erlang_a_answer = required_agents(
        traffic, aht=AHT, service_level=0.8, awt=20.0, patience=patience
    )
    assert (erlang_c_answer, erlang_a_answer) == (11, 9)
    result = staff_by_simulation(
        single_queue(traffic=traffic, patience=patience), targets=SL, executor=InlineExecutor()
    )
    assert result.staffing == {"agents": erlang_a_answer}
    assert result.erlang == {"agents": erlang_c_answer}
    assert result.agent_hours < result.erlang_agent_hours
    # The simulated service level at the answer agrees with Erlang A's value there.
    level = erlang_a(9, traffic, aht=AHT, patience=patience, awt=20.0).service_level_offered
    (check,) = result.checks
    assert abs(check.mean - level) < 0.03


def test_abandonment_target_met_with_its_upper_bound() -> None:
    target = StaffingTarget(abandon=0.05)
    result = staff_by_simulation(
        single_queue(traffic=8.0, patience=60.0, calls=2000),
        targets=target,
        executor=InlineExecutor(),
    )
    (check,) = result.checks
    assert check.kpi == "abandonment_rate"
    assert check.bound <= 0.05 < check.bound + 1  # upper bound under the goal
    (miss,) = result.one_fewer["agents"]
    assert miss.bound > 0.05
    # Erlang A's abandonment at the answer and one fewer brackets the goal the same way.
    n = result.staffing["agents"]
    assert erlang_a(n - 2, 8.0, aht=AHT, patience=60.0).p_abandon > 0.05
    assert erlang_a(n + 1, 8.0, aht=AHT, patience=60.0).p_abandon < 0.05


# ------------------------------------------------------------ interval by interval


def day(volumes: list[float], *, replications: int = 4) -> Scenario:
    return Scenario.model_validate(
        {
            "horizon_seconds": len(volumes) * 1800.0,
            "interval_minutes": 30,
            "replications": replications,
            "seed": 5,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": AHT},
                    "sla_seconds": 20.0,
                }
            ],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": "calls",
                    "interval_minutes": 30,
                    "volumes": volumes,
                }
            ],
            "agent_groups": [{"name": "agents", "count": 8}],
        }
    )


def interval_level(scenario: Scenario, heads: list[int], interval: int) -> float:
    """Lower 95 % bound of interval ``interval``'s service level, simulated independently."""
    data = scenario.model_dump()
    data["horizon_seconds"] = (interval + 2) * 1800.0
    # The interval's count stays on for the next interval, which drains it.
    data["agent_groups"][0].update(count=None, headcount=[*heads, heads[-1]])
    result = simulate(Scenario.model_validate(data), executor=InlineExecutor())
    values = []
    for replication in result.replications:
        (row,) = [r for r in replication.intervals if r["interval_start"] == interval * 1800.0]
        values.append(row["service_level"])
    return t_bound(values, confidence=0.95, lower=True)


def test_interval_staffing_meets_each_interval_and_one_fewer_misses() -> None:
    scenario = day([60, 240, 120])
    result = staff_intervals_by_simulation(scenario, targets=SL, executor=InlineExecutor())
    heads = result.headcount["agents"]
    assert len(heads) == 3 == len(result.erlang)
    for i in range(3):
        assert interval_level(scenario, heads[: i + 1], i) >= 0.8
        fewer = [*heads[:i], heads[i] - 1]
        assert interval_level(scenario, fewer, i) < 0.8
    # Busier intervals need more agents, as they do under Erlang C.
    assert heads[1] > heads[2] > heads[0]
    assert result.erlang[1] > result.erlang[2] > result.erlang[0]
    assert result.agent_hours == pytest.approx(sum(heads) * 0.5)
    assert len(result.day_checks) == 3


def test_interval_staffing_of_an_empty_interval_is_zero() -> None:
    result = staff_intervals_by_simulation(
        day([120, 0]), targets=SL, confidence=0.5, executor=InlineExecutor()
    )
    assert result.headcount["agents"][1] == 0
    assert result.offered[1] == 0


# ------------------------------------------------------------ the confidence rule


@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12),
    st.floats(0.0, 1.0),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_judge_uses_a_one_sided_student_t_bound(
    values: list[float], goal: float, confidence: float
) -> None:
    level = _judge("all", "service_level", goal, values, confidence=confidence, offered=1.0)
    expected = t_bound(values, confidence=confidence, lower=True)
    assert level.bound == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert level.met == (level.bound >= goal)
    wait = _judge("all", "asa", goal, values, confidence=confidence, offered=1.0)
    assert wait.bound >= wait.mean >= level.bound
    assert wait.met == (wait.bound <= goal)
    mean_only = _judge("all", "asa", goal, values, confidence=0.5, offered=1.0)
    assert mean_only.bound == pytest.approx(sum(values) / len(values))


def test_judge_kpi_undefined_with_work_offered_is_a_miss() -> None:
    check = _judge("all", "service_level", 0.8, [math.nan] * 3, confidence=0.95, offered=10.0)
    assert not check.met
    assert check.n == 0
    nothing = _judge("all", "service_level", 0.8, [math.nan] * 3, confidence=0.95, offered=0.0)
    assert nothing.met, "an interval without work needs nobody"


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"service_level": 1.5}, "service_level"),
        ({"service_level": 0.8, "awt": -1.0}, "awt"),
        ({"asa": math.nan}, "asa"),
        ({"abandon": 2.0}, "abandon"),
        ({}, "targets"),
        ({"awt": 20.0, "asa": 30.0}, "awt"),
        ({"task_type": "", "asa": 30.0}, "task_type"),
    ],
)
def test_bad_target_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        StaffingTarget(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"targets": StaffingTarget(task_type="nope", asa=10.0)}, "targets.0.task_type"),
        ({"targets": []}, "targets"),
        (
            {
                "targets": [
                    StaffingTarget(service_level=0.8, awt=20.0),
                    StaffingTarget(service_level=0.9, awt=10.0),
                ]
            },
            "targets.1.awt",
        ),
        ({"targets": SL, "confidence": 1.0}, "confidence"),
        ({"targets": SL, "confidence": 0.3}, "confidence"),
        ({"targets": SL, "replications": 1}, "replications"),
        ({"targets": SL, "max_agents": 0}, "max_agents"),
        ({"targets": SL, "cost_per_hour": {"nobody": 20.0}}, "cost_per_hour"),
        ({"targets": SL, "start": {"agents": -1}}, "start.agents"),
        ({"targets": SL, "start": {"others": 3}}, "start"),
    ],
)
def test_bad_options_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        staff_by_simulation(single_queue(traffic=2.0, calls=200), **kwargs)


def test_unreachable_target_within_max_agents_says_so() -> None:
    scenario = single_queue(traffic=8.0, calls=500, replications=2)
    with pytest.raises(ValueRouteError, match="max_agents: got 5"):
        staff_by_simulation(
            scenario, targets=SL, start={"agents": 2}, max_agents=5, executor=InlineExecutor()
        )
