"""Scoring policies: each against its formula written out independently here.

The central check feeds each policy's segments to a real TaskList and compares
the order it serves at random later times with a brute-force sort by the
policy's direct score formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.errors import InvalidInputError, PolicyError, ValueRouteError
from valueroute.scoring import (
    NO_DUE_SCORE,
    AgingPriority,
    CMu,
    CMuTheta,
    Composite,
    EarliestDue,
    Fifo,
    Kleinrock,
    LeastSlack,
    Policy,
    PriorityRamp,
    Ramp,
    Rescored,
    Segment,
    StrictPriority,
    ValueAtRisk,
    as_policy,
    policy_by_name,
)
from valueroute.task import Task
from valueroute.tasklist import TaskList

TYPES = ("claim", "sales", "support")
HANDLE = {"claim": 600.0, "sales": 240.0, "*": 300.0}
PATIENCE = {"claim": 3600.0, "*": 120.0}
RATES = {"sales": 0.5, "*": 0.125}
WAIT = {"claim": 900.0, "*": 200.0}


def handle_of(task_type: str) -> float:
    return HANDLE.get(task_type, HANDLE["*"])


def patience_of(task_type: str) -> float:
    return PATIENCE.get(task_type, PATIENCE["*"])


def rate_of(task_type: str) -> float:
    return RATES.get(task_type, RATES["*"])


def wait_of(task_type: str) -> float:
    return WAIT.get(task_type, WAIT["*"])


# ---------------------------------------------------------------- direct formulas


def ramp_score(task: Task, t: float, ramp: Ramp) -> float:
    """priority + capped count of ramp steps + capped overdue steps, by counting."""
    origin = task.created + ramp.after
    steps = 0
    while origin + (steps + 1) * ramp.every <= t:
        steps += 1
    climb = steps * ramp.step
    if ramp.cap is not None:
        climb = min(climb, max(0.0, ramp.cap - task.priority))
    overdue = 0.0
    if task.due is not None and ramp.overdue_step > 0 and t >= task.due:
        if ramp.overdue_every is None:
            count = 1
        else:
            count = 0
            while task.due + count * ramp.overdue_every <= t:
                count += 1
        overdue = count * ramp.overdue_step
        if ramp.overdue_cap is not None:
            overdue = min(overdue, ramp.overdue_cap)
    return task.priority + climb + overdue


def cost_of(task: Task) -> float:
    """The c-mu policies' cost without ``cost``: the value, 1 for a task with none (value 0)."""
    return task.value if task.value > 0 else 1.0


RAMP = Ramp(step=1, every=90, cap=14, after=30, overdue_step=5, overdue_every=120, overdue_cap=25)


def value_at_risk(task: Task, t: float) -> float:
    if task.due is None or task.value <= 0:
        return 0.0
    slack = task.due - handle_of(task.type) - t
    return task.value * min(1.0, math.exp(-slack / wait_of(task.type)))


DIRECT: dict[str, Callable[[Task, float], float]] = {
    "fifo": lambda task, t: t - task.created,
    "strict_priority": lambda task, t: float(task.priority),
    "aging_priority": lambda task, t: task.priority + (t - task.created) / 45.0,
    "edd": lambda task, t: -math.inf if task.due is None else -task.due,
    "least_slack": lambda task, t: (
        -math.inf if task.due is None else -(task.due - t - handle_of(task.type))
    ),
    "ramp": lambda task, t: ramp_score(task, t, RAMP),
    "cmu": lambda task, t: cost_of(task) / handle_of(task.type),
    "kleinrock": lambda task, t: rate_of(task.type) * (t - task.created),
    "cmu_theta": lambda task, t: cost_of(task) * patience_of(task.type) / handle_of(task.type),
    "value_at_risk": value_at_risk,
    "composite": lambda task, t: (
        2.0 * (task.priority + (t - task.created) / 45.0)
        + 0.01 * cost_of(task) / handle_of(task.type)
        + 0.5 * ramp_score(task, t, RAMP)
    ),
}


def build(name: str) -> Policy:
    if name == "aging_priority":
        return AgingPriority(seconds_per_point=45)
    if name in ("least_slack", "cmu"):
        return policy_by_name(name, handle_seconds=HANDLE)
    if name == "ramp":
        return PriorityRamp(default=RAMP)
    if name == "kleinrock":
        return Kleinrock(RATES)
    if name == "cmu_theta":
        return CMuTheta(HANDLE, PATIENCE)
    if name == "value_at_risk":
        return ValueAtRisk(WAIT, handle_seconds=HANDLE)
    if name == "composite":
        return Composite(
            [(2.0, AgingPriority(45)), (0.01, CMu(HANDLE)), (0.5, PriorityRamp(default=RAMP))]
        )
    return policy_by_name(name)


@dataclass
class Spec:
    created: float
    type: str
    priority: int
    value: float
    due_in: float | None


specs = st.lists(
    st.builds(
        Spec,
        created=st.integers(0, 2000).map(float),
        type=st.sampled_from(TYPES),
        priority=st.integers(0, 9),
        value=st.integers(0, 1000).map(float),
        due_in=st.none() | st.integers(0, 3000).map(float),
    ),
    min_size=1,
    max_size=25,
)
offsets = st.lists(st.floats(0.0, 1500.0), min_size=1, max_size=6)


def make_task(index: int, spec: Spec) -> Task:
    return Task(
        id=f"t{index}",
        seq=index,
        created=spec.created,
        type=spec.type,
        priority=spec.priority,
        value=spec.value,
        due=None if spec.due_in is None else spec.created + spec.due_in,
    )


def filled_list(policy: Policy, task_specs: list[Spec]) -> tuple[TaskList, float]:
    tasks = TaskList(policy)
    ordered = sorted(enumerate(task_specs), key=lambda pair: pair[1].created)
    for index, spec in ordered:
        tasks.add(make_task(index, spec), now=spec.created)
    tasks._check()
    return tasks, ordered[-1][1].created


def assert_served_in_score_order(
    served: list[Task], score: Callable[[Task, float], float], t: float, rel: float = 0.0
) -> None:
    values = [score(task, t) for task in served]
    for (first, a), (second, b) in zip(
        zip(served, values, strict=True), zip(served[1:], values[1:], strict=True), strict=False
    ):
        if a == b == -math.inf:
            # No due time: served last, oldest first.
            assert (first.created, first.seq) < (second.created, second.seq)
            continue
        slack = 0.0
        if math.isfinite(a) and math.isfinite(b):
            slack = 1e-9 * (1.0 + abs(a) + abs(b)) + rel * max(abs(a), abs(b))
        assert a >= b - slack, (
            f"at t={t}: {first.id} (score {a}) served before {second.id} (score {b})"
        )


@pytest.mark.parametrize("name", sorted(DIRECT))
@given(task_specs=specs, later=offsets)
def test_task_list_order_matches_brute_force_sort(
    name: str, task_specs: list[Spec], later: list[float]
) -> None:
    policy = build(name)
    tasks, last = filled_list(policy, task_specs)
    everyone = sorted(f"t{i}" for i in range(len(task_specs)))

    def check_at(t: float) -> None:
        served = [task for task, _ in tasks.ranked(t)]
        assert sorted(task.id for task in served) == everyone
        assert_served_in_score_order(served, DIRECT[name], t)
        tasks._check()

    for offset in sorted(later):
        check_at(last + offset)
    # Probe the next breakpoints and the instant just before each.
    for _ in range(8):
        upcoming = tasks.next_breakpoint()
        if not math.isfinite(upcoming):
            break
        before = math.nextafter(upcoming, -math.inf)
        if before >= tasks.now:
            check_at(before)
        check_at(upcoming)


@given(task_specs=specs, later=offsets)
def test_value_at_risk_linear_mode_is_within_tolerance_and_ordered(
    task_specs: list[Spec], later: list[float]
) -> None:
    tolerance = 0.02
    policy = ValueAtRisk(WAIT, handle_seconds=HANDLE, mode="linear", tolerance=tolerance)
    tasks, last = filled_list(policy, task_specs)
    for offset in sorted(later):
        t = last + offset
        served = []
        for task, score in tasks.ranked(t):
            exact = value_at_risk(task, t)
            # A chord lies above the convex curve, by at most tolerance x the curve.
            assert exact - 1e-9 * (1 + exact) <= score <= exact * (1 + tolerance) + 1e-9
            served.append(task)
        assert_served_in_score_order(served, value_at_risk, t, rel=tolerance)


# ---------------------------------------------------------------- properties


ramps = st.builds(
    Ramp,
    step=st.integers(1, 5),
    every=st.integers(1, 300),
    cap=st.none() | st.integers(0, 30),
    after=st.integers(0, 300),
    overdue_step=st.integers(0, 5),
    overdue_every=st.none() | st.integers(1, 300),
    overdue_cap=st.none() | st.integers(0, 30),
)


@given(
    ramp=ramps,
    priority=st.integers(0, 20),
    due_in=st.none() | st.integers(0, 2000),
    times=st.lists(st.floats(0, 5000), min_size=2, max_size=20),
)
def test_ramp_is_monotone_capped_and_matches_counting(
    ramp: Ramp, priority: int, due_in: int | None, times: list[float]
) -> None:
    created = 1000.0
    task = Task(
        id="r",
        seq=0,
        created=created,
        priority=priority,
        due=None if due_in is None else created + due_in,
    )
    policy = PriorityRamp(default=ramp)
    previous = -math.inf
    for offset in sorted(times):
        now = created + offset
        segment = policy.segment(task, now)
        score = segment.at(now)
        assert score == ramp_score(task, now, ramp)
        assert score >= previous
        previous = score
        assert segment.until > now
        # Constant on the whole piece: the score just before `until` is the same.
        if math.isfinite(segment.until):
            just_before = math.nextafter(segment.until, -math.inf)
            assert ramp_score(task, just_before, ramp) == score
            assert ramp_score(task, segment.until, ramp) > score
        if ramp.cap is not None:
            without_overdue = PriorityRamp(
                default=Ramp(step=ramp.step, every=ramp.every, cap=ramp.cap, after=ramp.after)
            )
            assert without_overdue.segment(task, now).at(now) <= max(priority, ramp.cap)


@given(
    dues=st.lists(st.integers(0, 10_000), min_size=1, max_size=30, unique=True),
    now=st.integers(10_000, 20_000),
)
def test_edd_serves_by_due_time(dues: list[int], now: int) -> None:
    tasks = TaskList(EarliestDue())
    for index, due in enumerate(dues):
        tasks.add(Task(id=f"d{index}", seq=index, created=0.0, due=float(due)), now=0.0)
    served = [task.due for task, _ in tasks.ranked(float(now))]
    assert served == sorted(float(d) for d in dues)


def test_tasks_without_due_time_go_last_oldest_first() -> None:
    tasks = TaskList(EarliestDue())
    tasks.add(Task(id="late-none", seq=0, created=5.0), now=5.0)
    tasks.add(Task(id="due", seq=1, created=6.0, due=1e9), now=6.0)
    tasks.add(Task(id="early-none", seq=2, created=1.0), now=7.0)
    assert [task.id for task, _ in tasks.ranked(8.0)] == ["due", "early-none", "late-none"]
    with_horizon = EarliestDue(due_after=100.0)
    assert with_horizon.segment(Task(id="x", seq=0, created=5.0), 6.0) == Segment(-105.0, 0.0)


@given(
    weights=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
    task_spec=specs.map(lambda s: s[0]),
    offset=st.floats(0, 5000),
)
def test_composite_equals_weighted_sum_of_parts(
    weights: list[float], task_spec: Spec, offset: float
) -> None:
    parts: list[Policy] = [AgingPriority(45), PriorityRamp(default=RAMP), LeastSlack(HANDLE)]
    composite = Composite(list(zip(weights, parts, strict=True)))
    task = make_task(0, task_spec)
    now = task.created + offset
    segment = composite.segment(task, now)
    pieces = [part.segment(task, now) for part in parts]
    expected = sum(w * p.at(now) for w, p in zip(weights, pieces, strict=True))
    magnitude = sum(
        abs(w * p.base) + abs(w * p.slope * now) for w, p in zip(weights, pieces, strict=True)
    )
    assert segment.at(now) == pytest.approx(expected, abs=1e-9 * (1 + magnitude))
    assert segment.until == min(p.until for p in pieces)
    assert segment.slope == pytest.approx(
        sum(w * p.slope for w, p in zip(weights, pieces, strict=True))
    )


# ---------------------------------------------------------------- examples per policy


def test_fifo_strict_and_aging_keep_their_meaning() -> None:
    task = Task(id="a", seq=0, created=100.0, priority=3)
    assert Fifo().segment(task, 150.0).at(150.0) == 50.0
    assert StrictPriority().segment(task, 150.0) == Segment(3.0, 0.0)
    assert AgingPriority(60).segment(task, 220.0).at(220.0) == pytest.approx(5.0)


def test_least_slack_prefers_longer_work_for_equal_due_times() -> None:
    policy = LeastSlack({"long": 900, "*": 60})
    long = Task(id="l", seq=0, created=0.0, type="long", due=1000.0)
    short = Task(id="s", seq=1, created=0.0, type="short", due=1000.0)
    assert policy.segment(long, 10.0).at(10.0) == 10.0 + 900.0 - 1000.0
    assert policy.segment(long, 10.0).at(10.0) > policy.segment(short, 10.0).at(10.0)


def test_ramp_from_rule_overrides_the_type_ramp() -> None:
    policy = PriorityRamp({"claim": {"step": 1, "every": 60}})
    task = Task(id="c", seq=0, created=0.0, type="claim", priority=1)
    assert policy.segment(task, 125.0) == Segment(3.0, 0.0, 180.0)
    task.ramp = Ramp(step=10, every=100, cap=15)
    assert policy.segment(task, 125.0) == Segment(11.0, 0.0, 200.0)
    assert policy.segment(task, 250.0) == Segment(15.0, 0.0, math.inf)
    task.ramp = "fast"
    with pytest.raises(PolicyError, match="ramp"):
        policy.segment(task, 300.0)


def test_overdue_penalty_steps_at_the_due_time() -> None:
    policy = PriorityRamp(default=Ramp(step=1, every=1e6, overdue_step=5, overdue_every=60))
    task = Task(id="o", seq=0, created=0.0, priority=2, due=100.0)
    assert policy.segment(task, 99.0) == Segment(2.0, 0.0, 100.0)
    assert policy.segment(task, 100.0) == Segment(7.0, 0.0, 160.0)
    assert policy.segment(task, 170.0).at(170.0) == 12.0


def test_index_policies_match_their_textbook_formulas() -> None:
    task = Task(id="k", seq=0, created=100.0, type="claim", value=1200.0)
    assert CMu(HANDLE).segment(task, 0.0).at(0.0) == 1200.0 / 600.0
    assert CMu(HANDLE, cost={"claim": 3.0, "*": 1.0}).segment(task, 0.0).at(0.0) == 3.0 / 600.0
    assert CMuTheta(HANDLE, PATIENCE).segment(task, 0.0).at(0.0) == pytest.approx(
        1200.0 * (1 / 600.0) / (1 / 3600.0)
    )
    assert Kleinrock(RATES).segment(task, 300.0).at(300.0) == pytest.approx(0.125 * 200.0)
    quadratic = Kleinrock.from_quadratic_cost({"claim": 6.0, "*": 1.0}, HANDLE)
    # d/dw (c w^2 / 2) x mu = c w / handle
    assert quadratic.segment(task, 400.0).at(400.0) == pytest.approx(6.0 * 300.0 / 600.0)


def test_value_at_risk_log_mode_reports_the_log_and_is_flat_when_late() -> None:
    policy = ValueAtRisk(100.0)
    task = Task(id="v", seq=0, created=0.0, value=50.0, due=1000.0)
    segment = policy.segment(task, 800.0)
    assert segment.until == 1000.0
    assert math.exp(segment.at(800.0)) == pytest.approx(50.0 * math.exp(-2.0))
    assert policy.segment(task, 1000.0) == Segment(math.log(50.0), 0.0)
    assert policy.value_at_risk(task, 1500.0) == 50.0
    assert policy.segment(Task(id="n", seq=1, created=0.0, value=5.0), 0.0).base == NO_DUE_SCORE


def test_rescored_policy_holds_its_score_for_the_interval() -> None:
    policy = as_policy(lambda task, now: now * 2, interval=30)
    assert isinstance(policy, Rescored)
    assert policy.segment(Task(id="x", seq=0, created=0.0), 10.0) == Segment(20.0, 0.0, 40.0)


# ---------------------------------------------------------------- construction errors


def test_as_policy_accepts_policies_and_callables_and_refuses_the_rest() -> None:
    fifo = Fifo()
    assert as_policy(fifo) is fifo
    assert as_policy(lambda task, now: 1.0).interval == 60.0  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match="expected an object with name"):
        as_policy(42)
    with pytest.raises(InvalidInputError, match="interval"):
        as_policy(fifo, interval=5)


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("nope", {}, "expected one of"),
        ("fifo", {"speed": 1}, "speed"),
        ("least_slack", {"handle_seconds": {"claim": 60}}, "'\\*' entry"),
        ("cmu", {"handle_seconds": 0}, "handle_seconds"),
        ("cmu", {"handle_seconds": math.nan}, "handle_seconds"),
        ("kleinrock", {"rates": -1}, "rates"),
        ("ramp", {"default": {"step": 1}}, "ramp"),
        ("ramp", {"default": {"step": 1, "every": 0}}, "every"),
        ("ramp", {"default": {"step": 1, "every": 5, "speed": 2}}, "speed"),
        ("value_at_risk", {"expected_wait": 60, "mode": "cubic"}, "mode"),
        ("value_at_risk", {"expected_wait": 60, "tolerance": 2}, "tolerance"),
        ("composite", {"parts": []}, "at least one"),
        ("composite", {"parts": [{"policy": "value_at_risk", "expected_wait": 9}]}, "log"),
        ("composite", {"parts": [{"weight": 1}]}, "policy"),
        ("composite", {"parts": "fifo"}, "list"),
    ],
)
def test_bad_parameters_name_the_field(name: str, params: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        policy_by_name(name, **params)


def test_composite_refuses_rescored_parts_and_bad_weights() -> None:
    with pytest.raises(InvalidInputError, match="exact policy"):
        Composite([(1.0, Rescored(lambda task, now: 0.0, interval=5))])
    with pytest.raises(InvalidInputError, match="weight"):
        Composite([(math.inf, Fifo())])
    with pytest.raises(ValueRouteError, match="policy"):
        Composite([(1.0, "fifo")])  # type: ignore[list-item]


def test_every_name_builds_a_policy_with_that_name() -> None:
    params: dict[str, dict[str, object]] = {
        "least_slack": {"handle_seconds": 60},
        "cmu": {"handle_seconds": 60},
        "kleinrock": {"rates": 1},
        "cmu_theta": {"handle_seconds": 60, "patience_seconds": 30},
        "value_at_risk": {"expected_wait": 60},
        "composite": {"parts": [{"policy": "fifo"}]},
    }
    for name in sorted(DIRECT):
        policy = policy_by_name(name, **params.get(name, {}))
        assert isinstance(policy, Policy)
        assert policy.name == name
