"""TaskList behaviour, one specification per test."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_code import RampAfterTen
from valueroute import (
    AgingPriority,
    ClockError,
    DuplicateTaskError,
    Fifo,
    InvalidInputError,
    PolicyError,
    Rescored,
    Segment,
    StrictPriority,
    Task,
    TaskList,
    TaskSpec,
    UnknownTaskError,
)


def _ids(tasks: TaskList, now: float) -> list[str]:
    return [task.id for task, _ in tasks.top(100, now)]


def test_equal_scores_go_to_the_older_task_then_the_first_submitted() -> None:
    tasks = TaskList(StrictPriority())
    tasks.add(TaskSpec(id="late", priority=1, created=5.0), now=10.0)
    tasks.add(TaskSpec(id="early", priority=1, created=2.0), now=10.0)
    tasks.add(TaskSpec(id="same-time-second", priority=1, created=5.0), now=10.0)
    assert _ids(tasks, 10.0) == ["early", "late", "same-time-second"]


def test_strict_priority_serves_higher_priority_first_whatever_the_age() -> None:
    tasks = TaskList(StrictPriority())
    tasks.add(TaskSpec(id="old-low", priority=1), now=0.0)
    tasks.add(TaskSpec(id="new-high", priority=2), now=1000.0)
    assert _ids(tasks, 5000.0) == ["new-high", "old-low"]


def test_fifo_serves_the_oldest_first() -> None:
    tasks = TaskList(Fifo())
    tasks.add(TaskSpec(id="b", priority=9), now=1.0)
    tasks.add(TaskSpec(id="a", priority=0, created=0.0), now=1.0)
    assert _ids(tasks, 2.0) == ["a", "b"]


def test_waiting_task_overtakes_a_higher_priority_one_exactly_when_its_score_passes() -> None:
    # Aging: one point = 60 s. "low" (prio 0, t=0) and "high" (prio 2, t=60).
    # Scores: low = t/60, high = 2 + (t-60)/60 = 1 + t/60: high always leads by 1.
    # "mid" (prio 1, t=0) scores 1 + t/60: ties with high, and is older, so wins.
    tasks = TaskList(AgingPriority(seconds_per_point=60))
    tasks.add(TaskSpec(id="low", priority=0), now=0.0)
    tasks.add(TaskSpec(id="high", priority=2), now=60.0)
    assert _ids(tasks, 60.0) == ["high", "low"]
    tasks.add(TaskSpec(id="mid", priority=1, created=0.0), now=60.0)
    assert _ids(tasks, 120.0) == ["mid", "high", "low"]


class Ramp:
    """+1 point after 30 s of age, once (a piecewise-constant score)."""

    name = "ramp"

    def segment(self, task: Task, now: float) -> Segment:
        if now - task.created < 30:
            return Segment(float(task.priority), 0.0, task.created + 30)
        return Segment(task.priority + 1.0, 0.0)


def test_a_ramp_reorders_at_its_breakpoint_and_not_before() -> None:
    tasks = TaskList(Ramp())
    tasks.add(TaskSpec(id="old", priority=1), now=0.0)
    tasks.add(TaskSpec(id="new", priority=2, created=10.0), now=10.0)
    group = tasks.group_for("voice", {})
    assert tasks.best([group], 29.999).id == "new"
    # At t=30 "old" ramps to 2, ties with "new" and wins on age.
    assert tasks.best([group], 30.0).id == "old"
    # A query leaves the list's time at 10, where "old"'s piece still ends at
    # 30; a command at 30 moves the time and files the next piece.
    assert tasks.now == 10.0
    assert tasks.next_breakpoint() == 30.0
    tasks._check()
    tasks.add(TaskSpec(id="later", priority=0), now=30.0)
    assert tasks.next_breakpoint() == 40.0
    tasks._check()


def test_removing_the_head_exposes_the_next_task() -> None:
    tasks = TaskList(StrictPriority())
    for priority in range(5):
        tasks.add(TaskSpec(id=f"p{priority}", priority=priority), now=0.0)
    group = tasks.group_for("voice", {})
    assert tasks.remove("p4").id == "p4"
    assert tasks.best([group], 1.0).id == "p3"
    tasks._check()


def test_best_of_no_groups_or_empty_groups_is_none() -> None:
    tasks = TaskList()
    email = tasks.group_for("email", {"claims": 1})
    assert tasks.best([], 0.0) is None
    assert tasks.best([email], 0.0) is None
    tasks.add(TaskSpec(id="x", channel="email", skills={"claims": 1}), now=1.0)
    tasks.remove("x")
    assert tasks.best([email], 2.0) is None


def test_best_only_looks_at_the_groups_given() -> None:
    tasks = TaskList(StrictPriority())
    tasks.add(TaskSpec(id="claims", priority=9, skills={"claims": 2}), now=0.0)
    tasks.add(TaskSpec(id="billing", priority=1, skills={"billing": 1}), now=0.0)
    billing = tasks.group_for("voice", {"billing": 1})
    assert tasks.best([billing], 1.0).id == "billing"


def test_update_moves_a_task_to_its_new_group_and_score() -> None:
    tasks = TaskList(StrictPriority())
    tasks.add(TaskSpec(id="a", priority=1, skills={"billing": 1}), now=0.0)
    tasks.add(TaskSpec(id="b", priority=2, skills={"billing": 1}), now=0.0)
    billing = tasks.group_for("voice", {"billing": 1})
    claims = tasks.group_for("voice", {"claims": 1})
    updated = tasks.update("a", now=1.0, priority=5)
    assert updated.version == 1
    assert tasks.best([billing], 1.0).id == "a"
    tasks.update("a", now=2.0, skills={"claims": 1})
    assert tasks.best([billing], 2.0).id == "b"
    assert tasks.best([claims], 2.0).id == "a"
    tasks._check()


def test_a_failed_update_changes_nothing() -> None:
    tasks = TaskList(StrictPriority())
    tasks.add(TaskSpec(id="a", priority=1, value=10.0), now=0.0)
    with pytest.raises(InvalidInputError, match="value: got -5"):
        tasks.update("a", now=1.0, priority=7, value=-5)
    task = tasks.get("a")
    assert (task.priority, task.value, task.version) == (1, 10.0, 0)
    with pytest.raises(UnknownTaskError, match="'nope'"):
        tasks.update("nope", now=1.0, priority=1)
    with pytest.raises(InvalidInputError, match="skills"):
        tasks.update("a", now=1.0, skills={"x": -1})
    tasks._check()


def test_time_must_not_run_backwards() -> None:
    tasks = TaskList()
    tasks.add(TaskSpec(id="a"), now=10.0)
    with pytest.raises(ClockError, match=r"got 5\.0"):
        tasks.best([], 5.0)
    with pytest.raises(ClockError):
        tasks.add(TaskSpec(id="b"), now=math.nan)
    assert "b" not in tasks


def test_a_duplicate_id_is_refused_and_changes_nothing() -> None:
    tasks = TaskList()
    tasks.add(TaskSpec(id="a", priority=1), now=0.0)
    with pytest.raises(DuplicateTaskError, match="'a'"):
        tasks.add(TaskSpec(id="a", priority=9), now=1.0)
    assert tasks.get("a").priority == 1
    assert len(tasks) == 1


class BrokenPolicy:
    name = "broken"

    def segment(self, task: Task, now: float) -> Segment:
        if task.priority > 5:
            return Segment(math.nan, 0.0)
        return Segment(float(task.priority), 0.0)


def test_a_policy_giving_an_unusable_segment_is_reported_and_changes_nothing() -> None:
    tasks = TaskList(BrokenPolicy())
    tasks.add(TaskSpec(id="ok", priority=1), now=0.0)
    with pytest.raises(PolicyError, match="'bad'"):
        tasks.add(TaskSpec(id="bad", priority=9), now=0.0)
    assert "bad" not in tasks
    with pytest.raises(PolicyError):
        tasks.update("ok", now=0.0, priority=9)
    assert tasks.get("ok").priority == 1
    tasks._check()


def test_a_policy_failing_when_a_piece_ends_loses_no_task() -> None:
    policy = RampAfterTen()
    tasks = TaskList(policy)
    tasks.add(TaskSpec(id="early", priority=1), now=0.0)
    tasks.add(TaskSpec(id="late", priority=2), now=5.0)
    group = tasks.group_for("voice", {})
    policy.broken = True
    with pytest.raises(PolicyError, match="'early'"):
        tasks.best([group], 12.0)
    tasks._check()
    policy.broken = False
    # Both still waiting; "early" is on its ramp (1 + 14) once the policy
    # works, "late" still on its first piece (2).
    assert _ids(tasks, 14.0) == ["early", "late"]
    assert tasks.best([group], 14.0) is tasks.get("early")
    tasks._check()


class _CountsRamps(RampAfterTen):
    def __init__(self) -> None:
        super().__init__()
        self.ramps = 0

    def segment(self, task: Task, now: float) -> Segment:
        if now >= task.created + 10.0:
            self.ramps += 1
        return super().segment(task, now)


def test_a_task_re_filed_with_the_same_piece_end_moves_once_when_it_ends() -> None:
    policy = _CountsRamps()
    tasks = TaskList(policy)
    tasks.add(TaskSpec(id="t", priority=1), now=0.0)
    # Re-filed with its first piece ending at 10 again: two equal breakpoints.
    tasks.update("t", now=1.0, priority=2)
    tasks.best([tasks.group_for("voice", {})], 11.0)
    assert policy.ramps == 1
    tasks._check()


def test_set_policy_rescores_waiting_tasks_at_once() -> None:
    tasks = TaskList(Fifo())
    tasks.add(TaskSpec(id="old-low", priority=0), now=0.0)
    tasks.add(TaskSpec(id="new-high", priority=3), now=10.0)
    assert _ids(tasks, 10.0) == ["old-low", "new-high"]
    tasks.set_policy(StrictPriority(), now=11.0)
    assert _ids(tasks, 11.0) == ["new-high", "old-low"]
    with pytest.raises(PolicyError):
        tasks.set_policy(_AlwaysBroken(), now=12.0)
    assert tasks.policy.name == "strict_priority"
    assert _ids(tasks, 12.0) == ["new-high", "old-low"]
    tasks._check()


class _AlwaysBroken:
    name = "always_broken"

    def segment(self, task: Task, now: float) -> Segment:
        return Segment(0.0, 0.0, now)


def test_extend_files_many_tasks_like_repeated_add() -> None:
    specs = [TaskSpec(id=f"t{i}", priority=i % 3, created=float(i % 7)) for i in range(50)]
    bulk = TaskList(AgingPriority(seconds_per_point=4))
    bulk.extend(specs, now=10.0)
    one_by_one = TaskList(AgingPriority(seconds_per_point=4))
    for spec in specs:
        one_by_one.add(spec, now=10.0)
    assert _ids(bulk, 20.0) == _ids(one_by_one, 20.0)
    bulk._check()


def test_extend_is_all_or_nothing() -> None:
    tasks = TaskList()
    tasks.add(TaskSpec(id="t3"), now=0.0)
    with pytest.raises(DuplicateTaskError):
        tasks.extend([TaskSpec(id=f"t{i}") for i in range(5)], now=1.0)
    assert len(tasks) == 1
    tasks._check()


def test_rescored_user_function_is_refreshed_every_interval() -> None:
    def by_value(task: Task, now: float) -> float:
        return task.value * (now - task.created)

    tasks = TaskList(Rescored(by_value, interval=10.0))
    tasks.add(TaskSpec(id="cheap", value=1.0), now=0.0)
    tasks.add(TaskSpec(id="dear", value=3.0), now=5.0)
    # At t=5 both were scored: cheap 5, dear 0. Stale until cheap's refresh at 10.
    assert _ids(tasks, 9.0) == ["cheap", "dear"]
    # At t=15 both refreshed: cheap 15, dear 30.
    assert _ids(tasks, 15.0) == ["dear", "cheap"]


def test_supervisor_views_filter_count_and_page() -> None:
    tasks = TaskList(StrictPriority())
    for i in range(10):
        tasks.add(
            TaskSpec(
                id=f"t{i}",
                priority=i,
                type="claim" if i % 2 else "sale",
                department="north" if i < 5 else "south",
            ),
            now=float(i),
        )
    assert tasks.counts("type") == {"claim": 5, "sale": 5}
    assert tasks.counts("department") == {"north": 5, "south": 5}
    claims = tasks.top(2, 10.0, type="claim", offset=1)
    assert [task.id for task, _ in claims] == ["t7", "t5"]
    oldest = tasks.oldest(10.0, department="south")
    assert oldest is not None
    assert oldest[0].id == "t5"
    assert oldest[1] == 5.0
    with pytest.raises(InvalidInputError, match="by: got 'colour'"):
        tasks.counts("colour")  # type: ignore[arg-type]


def test_a_record_made_from_a_spec_equals_one_built_field_by_field() -> None:
    spec = TaskSpec(
        id="a", skills={"x": 1}, department="d", attributes={"k": 1}, due=5.0, created=2.0
    )
    made = Task.from_spec(spec, seq=3, now=9.0)
    built = Task(
        id="a",
        seq=3,
        created=2.0,
        type=spec.type,
        channel=spec.channel,
        value=spec.value,
        priority=spec.priority,
        due=5.0,
        skills={"x": 1.0},
        department="d",
        attributes={"k": 1},
    )
    for slot in Task.__slots__:
        left, right = getattr(made, slot), getattr(built, slot)
        if hasattr(left, "items"):
            assert dict(left) == dict(right), slot
        else:
            assert left == right, slot
    assert Task.from_spec(TaskSpec(id="b"), seq=0, now=7.0).created == 7.0


def test_breakpoints_of_removed_tasks_do_not_pile_up() -> None:
    tasks = TaskList(Ramp())
    for i in range(20_000):
        tasks.add(TaskSpec(id=f"t{i}"), now=float(i) * 1e-3)
        tasks.remove(f"t{i}")
    # Every task left a breakpoint 30 s ahead; the list keeps only live ones.
    assert len(tasks._breakpoints) <= 2 * len(tasks) + 4096 + 1
    assert tasks.next_breakpoint() == float("inf")
    tasks._check()


# ---------------------------------------------------------------- rounding

UNIT = 2.0**-53  # float64 unit roundoff
EPOCH = st.floats(1.5e9, 2.2e9)  # seconds since 1970: 2017 to 2039
SLOPES = st.one_of(
    st.floats(1e-5, 100.0),
    st.sampled_from([1 / 60, 1 / 120, 1 / 3600, 1.0, 0.25, 3.0]),
)


def rounding_bound(slope: float, created: float, now: float, priority: int, score: float) -> float:
    """The documented bound (docs/tasklist.md, "Rounding") on |score - exact score|."""
    age = abs(now - created)
    return (
        UNIT
        * (slope * (2 * abs(created) + abs(now) + age) + abs(priority) + abs(score))
        * (1 + 2.0**-50)
    )


@settings(max_examples=500, deadline=None)
@given(
    created=EPOCH,
    age=st.floats(0.0, 1e6),
    seconds_per_point=st.floats(1e-2, 1e5),
    priority=st.integers(0, 10),
)
def test_scores_at_epoch_times_are_within_the_documented_rounding(
    created: float, age: float, seconds_per_point: float, priority: int
) -> None:
    tasks = TaskList(AgingPriority(seconds_per_point))
    task = tasks.add(TaskSpec(id="t", priority=priority, created=created), now=created)
    now = created + age
    score = tasks.score(task, now)
    assert tasks.top(1, now)[0][1] == score
    # The exact score, from the exact times and the exact rate 1 / seconds_per_point.
    exact = priority + (Fraction(now) - Fraction(created)) / Fraction(seconds_per_point)
    slope = 1 / seconds_per_point
    assert abs(Fraction(score) - exact) <= Fraction(
        rounding_bound(slope, created, now, priority, score)
    )


class _PerTypeRate:
    """priority + rate(type) x age: tasks of two types sit in buckets of two slopes."""

    name = "per_type_rate"

    def __init__(self, rates: dict[str, float]) -> None:
        self.rates = rates

    def segment(self, task: Task, now: float) -> Segment:
        rate = self.rates[task.type]
        return Segment(task.priority - task.created * rate, rate)


@settings(max_examples=500, deadline=None)
@given(
    slopes=st.tuples(SLOPES, SLOPES),
    created=st.tuples(EPOCH, EPOCH),
    priorities=st.tuples(st.integers(0, 10), st.integers(0, 10)),
    ahead=st.floats(0.0, 1e6),
)
def test_rounding_never_reorders_tasks_further_apart_than_the_bound(
    slopes: tuple[float, float],
    created: tuple[float, float],
    priorities: tuple[int, int],
    ahead: float,
) -> None:
    policy = _PerTypeRate({"a": slopes[0], "b": slopes[1]})
    tasks = TaskList(policy)
    first = min(created)
    for name, when, priority in zip("ab", created, priorities, strict=True):
        spec = TaskSpec(id=name, type=name, priority=priority, created=when)
        tasks.add(spec, now=first)
    now = max(created) + ahead
    page = tasks.top(2, now)
    exact = {
        task.id: task.priority + (Fraction(now) - Fraction(task.created)) * Fraction(task.slope)
        for task, _ in page
    }
    for task, score in page:
        bound = rounding_bound(task.slope, task.created, now, task.priority, score)
        assert abs(Fraction(score) - exact[task.id]) <= Fraction(bound)
    (high, _), (low, _) = page
    margin = sum(rounding_bound(t.slope, t.created, now, t.priority, s) for t, s in page)
    # Ranked second only if not clearly worse: by more than both bounds.
    assert exact[low.id] - exact[high.id] <= Fraction(margin)
