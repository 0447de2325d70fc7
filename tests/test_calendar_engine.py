"""Business calendars in the engine and in scoring: working-time due times,
aging, slack, ramps, starvation and SLA warnings, checked against instants
written out by hand (datetimes in the calendar's zone) and against the
calendar's own ``elapsed`` as an independent reference for scores."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from valueroute import (
    AgentSpec,
    AgingPriority,
    Engine,
    InvalidInputError,
    LeastSlack,
    PriorityRamp,
    TaskList,
    TaskSpec,
    ValueAtRisk,
    ValueRouteError,
)
from valueroute.calendar import BusinessCalendar
from valueroute.engine import StarvationGuard
from valueroute.models import to_seconds
from valueroute.scoring import Ramp, _steps_taken, explain
from valueroute.task import Task

WEEKDAYS = {day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS, name="berlin")
ZONE = BERLIN.zone


def at(*fields: int) -> float:
    """Epoch seconds of a Berlin local time."""
    return dt.datetime(*fields, tzinfo=ZONE).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_engine(clock: Clock, **settings: Any) -> tuple[Engine, list[Any]]:
    engine = Engine(clock=clock, calendars={"berlin": BERLIN}, offer_timeout=None, **settings)
    events: list[Any] = []
    engine.subscribe(events.append)
    return engine, events


# ------------------------------------------------------------------ due_in and SLA warnings


def test_working_due_and_warning_across_weekend_and_autumn_dst() -> None:
    # Friday 23 Oct 2026 16:00 CEST; clocks go back on Sunday 25 Oct.
    clock = Clock(at(2026, 10, 23, 16, 0))
    engine, events = make_engine(clock, sla_warning=7 * 3600)
    task = engine.submit(TaskSpec(id="claim", calendar="berlin", due_in=8 * 3600))
    # 2 h on Friday, 6 h on Monday (CET now): due Monday 14:00.
    assert task.due == at(2026, 10, 26, 14, 0)
    # 7 working hours before it: 1 h on Friday, so Friday 17:00 CEST (a wall-time
    # warning would have come on Monday 07:00).
    warning = at(2026, 10, 23, 17, 0)
    assert engine.next_wakeup() == warning
    clock.t = warning - 0.001
    engine.advance()
    assert not [e for e in events if e.kind == "sla_warning"]
    clock.t = warning
    engine.advance()
    warned = [e for e in events if e.kind == "sla_warning"]
    assert len(warned) == 1
    assert warned[0].task == "claim"
    assert engine.next_wakeup() == at(2026, 10, 26, 14, 0)


def test_working_warning_on_the_spring_dst_monday() -> None:
    # Friday 27 Mar 2026 17:00 CET; clocks go forward on Sunday 29 Mar.
    clock = Clock(at(2026, 3, 27, 17, 0))
    engine, events = make_engine(clock, sla_warning=3600)
    task = engine.submit(TaskSpec(id="claim", calendar="berlin", due_in=3 * 3600))
    assert task.due == at(2026, 3, 30, 10, 0)
    assert engine.next_wakeup() == at(2026, 3, 30, 9, 0)
    clock.t = at(2026, 3, 30, 9, 0)
    engine.advance()
    assert [e.task for e in events if e.kind == "sla_warning"] == ["claim"]


def test_default_calendar_applies_to_tasks_naming_none() -> None:
    clock = Clock(at(2026, 12, 4, 16, 30))
    engine = Engine(clock=clock, calendars={"berlin": BERLIN}, calendar="berlin")
    task = engine.submit(TaskSpec(id="t", due_in=8 * 3600))
    assert task.calendar is BERLIN
    assert task.due == at(2026, 12, 7, 14, 30)


def test_due_in_without_calendar_is_wall_time() -> None:
    clock = Clock(1000.0)
    engine = Engine(clock=clock)
    task = engine.submit(TaskSpec(id="t", due_in=60))
    assert task.calendar is None
    assert task.due == 1060.0


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(at(2026, 1, 1), at(2027, 1, 1)),
    due_in=st.floats(1.0, 200 * 3600.0),
    warning=st.floats(1.0, 100 * 3600.0),
)
def test_warning_fires_when_the_working_time_left_reaches_the_setting(
    start: float, due_in: float, warning: float
) -> None:
    clock = Clock(start)
    engine, events = make_engine(clock, sla_warning=warning)
    task = engine.submit(TaskSpec(id="t", calendar="berlin", due_in=due_in))
    assert task.due is not None
    assert BERLIN.elapsed(start, task.due) == pytest.approx(due_in, abs=1e-3)
    # Where the two are equal, float rounding of W decides either way.
    assume(abs(due_in - warning) > 1e-3)
    wake = engine.next_wakeup()
    if due_in <= warning:
        assert wake == task.due  # no warning: less working time than the setting
        return
    assert BERLIN.elapsed(wake, task.due) == pytest.approx(warning, abs=1e-3)
    # The first such instant: a moment earlier more working time was left, or
    # the calendar was closed and the instant is at the opening... which add never
    # returns for a positive span, so more working time was left.
    assert BERLIN.elapsed(wake - 1.0, task.due) > warning
    clock.t = wake
    engine.advance()
    assert [e.kind for e in events].count("sla_warning") == 1


# ------------------------------------------------------------------ refusals change nothing


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"calendars": {"berlin": "not a calendar"}}, "calendars['berlin']"),
        ({"calendars": {1: BERLIN}}, "calendars"),
        ({"calendars": {"": BERLIN}}, "calendars"),
        ({"calendars": [BERLIN]}, "calendars"),
        ({"calendars": {"berlin": BERLIN}, "calendar": "paris"}, "calendar"),
        ({"calendar": "berlin"}, "calendar"),
        ({"calendars": {"berlin": BERLIN}, "calendar": 3}, "calendar"),
    ],
)
def test_bad_calendar_settings_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Engine(**kwargs)
    assert str(caught.value).startswith(field + ":")


def _unchanged(engine: Engine, action: Any) -> ValueRouteError:
    digest, count = engine.digest(), engine.event_count
    with pytest.raises(ValueRouteError) as caught:
        action()
    assert engine.digest() == digest
    assert engine.event_count == count
    return caught.value


def test_unknown_calendar_name_is_refused_and_changes_nothing() -> None:
    clock = Clock(at(2026, 12, 4, 10, 0))
    engine, _ = make_engine(clock)
    engine.submit(TaskSpec(id="first"))
    clock.t += 10
    error = _unchanged(engine, lambda: engine.submit(TaskSpec(id="t", calendar="paris", due_in=60)))
    assert isinstance(error, InvalidInputError)
    assert "calendar" in str(error)
    assert "'paris'" in str(error)
    assert engine.now == at(2026, 12, 4, 10, 0)


def test_instants_a_calendar_cannot_answer_for_are_refused_and_change_nothing() -> None:
    clock = Clock(at(2026, 12, 4, 10, 0))
    engine, _ = make_engine(clock)
    error = _unchanged(
        engine, lambda: engine.submit(TaskSpec(id="t", calendar="berlin", created=9e11))
    )
    assert str(error).startswith("created:")
    error = _unchanged(
        engine, lambda: engine.submit(TaskSpec(id="t", calendar="berlin", due=-9e11))
    )
    assert str(error).startswith("due:")
    clock.t = 5e11
    error = _unchanged(
        engine, lambda: engine.submit(TaskSpec(id="t", calendar="berlin", due_in=60))
    )
    assert str(error).startswith("clock:")
    assert engine.now == -math.inf


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"due": 10.0, "due_in": 60}, "TaskSpec.(model)"),
        ({"due_in": 0}, "TaskSpec.due_in"),
        ({"due_in": -5}, "TaskSpec.due_in"),
        ({"due_in": math.inf}, "TaskSpec.due_in"),
        ({"due_in": math.nan}, "TaskSpec.due_in"),
        ({"due_in": 2e12}, "TaskSpec.due_in"),
        ({"due_in": True}, "TaskSpec.due_in"),
        ({"due_in": "8 hours"}, "TaskSpec.due_in"),
        ({"calendar": ""}, "TaskSpec.calendar"),
        ({"calendar": 7}, "TaskSpec.calendar"),
        ({"priority": True}, "TaskSpec.priority"),
        ({"value": True}, "TaskSpec.value"),
        ({"value": False}, "TaskSpec.value"),
    ],
)
def test_bad_task_fields_are_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    clock = Clock(at(2026, 12, 4, 10, 0))
    engine, _ = make_engine(clock)
    error = _unchanged(engine, lambda: engine.submit(fields))
    assert isinstance(error, InvalidInputError)
    assert str(error).startswith(field)


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        1e309,
        10**400,
        -(10**400),
        "12",
        None,
        [1],
        True,
        dt.datetime(2026, 1, 1),
    ],
    ids=["nan", "inf", "-inf", "1e309", "1e400", "-1e400", "text", "None", "list", "bool", "naive"],
)
def test_to_seconds_refuses_with_invalid_input_naming_the_argument(value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        to_seconds(value)
    assert "value" in str(caught.value)
    assert len(str(caught.value)) < 400


# ------------------------------------------------------------------ policies in working time


def task_with(created: float, *, priority: int = 0, due: float | None = None, seq: int = 0) -> Task:
    task = Task(id=f"t{seq}", seq=seq, created=created, priority=priority, due=due)
    task.calendar = BERLIN
    return task


def score(policy: Any, task: Task, now: float) -> float:
    return float(policy.segment(task, now).at(now))


INSTANTS = [
    at(2026, 12, 4, 7, 0),
    at(2026, 12, 4, 8, 0),
    at(2026, 12, 4, 12, 0),
    at(2026, 12, 4, 18, 0),
    at(2026, 12, 5, 12, 0),
    at(2026, 12, 7, 8, 0),
    at(2026, 12, 7, 9, 30),
]


@pytest.mark.parametrize("now", INSTANTS)
def test_working_aging_counts_only_open_hours(now: float) -> None:
    policy = AgingPriority(seconds_per_point=600, clock="working")
    task = task_with(at(2026, 12, 4, 7, 30), priority=2)
    expected = 2 + BERLIN.elapsed(task.created, now) / 600
    assert score(policy, task, now) == pytest.approx(expected, abs=1e-6)
    # One segment on the calendar's clock, never ending at an opening or closing;
    # as a wall piece it ends at the calendar's next breakpoint.
    segment = policy.segment(task, now)
    assert segment.clock is BERLIN
    assert segment.until == math.inf
    wall = segment.on_wall(now)
    assert wall.clock is None
    assert wall.until == BERLIN.piece(now)[2]
    assert wall.at(now) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("now", INSTANTS)
def test_working_least_slack_is_minus_working_slack(now: float) -> None:
    policy = LeastSlack(300, clock="working")
    task = task_with(at(2026, 12, 4, 9, 0), due=at(2026, 12, 7, 10, 0))
    expected = -(BERLIN.elapsed(now, at(2026, 12, 7, 10, 0)) - 300)
    assert score(policy, task, now) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("now", INSTANTS)
@pytest.mark.parametrize("mode", ["log", "linear"])
def test_working_value_at_risk_follows_the_model_over_working_time(now: float, mode: Any) -> None:
    policy = ValueAtRisk(3600, handle_seconds=600, mode=mode, clock="working", tolerance=0.001)
    task = task_with(at(2026, 12, 4, 9, 0), due=at(2026, 12, 7, 10, 0))
    task.value = 100.0
    lead = BERLIN.elapsed(at(2026, 12, 7, 10, 0), now) + 600
    var = 100.0 * math.exp(min(0.0, lead / 3600))
    assert policy.value_at_risk(task, now) == pytest.approx(var, rel=1e-9)
    if mode == "log":
        assert score(policy, task, now) == pytest.approx(math.log(var), abs=1e-6)
    else:
        assert var <= score(policy, task, now) <= var * 1.001 + 1e-6


def test_working_ramp_steps_at_working_instants() -> None:
    ramp = Ramp(step=1, every=3600)
    policy = PriorityRamp(default=ramp, clock="working")
    task = task_with(at(2026, 12, 4, 16, 30))
    # Steps at 17:30 Friday, then 08:30 and 09:30 Monday.
    assert score(policy, task, at(2026, 12, 4, 17, 29)) == 0
    assert policy.segment(task, at(2026, 12, 4, 17, 0)).until == at(2026, 12, 4, 17, 30)
    assert score(policy, task, at(2026, 12, 4, 17, 30)) == 1
    assert policy.segment(task, at(2026, 12, 4, 17, 30)).until == at(2026, 12, 7, 8, 30)
    assert score(policy, task, at(2026, 12, 6, 12, 0)) == 1
    assert score(policy, task, at(2026, 12, 7, 8, 30)) == 2
    assert score(policy, task, at(2026, 12, 7, 9, 30)) == 3


def test_working_starvation_guard_limit_is_in_working_time() -> None:
    guard = StarvationGuard(AgingPriority(60), 3600, clock="working")
    task = task_with(at(2026, 12, 4, 17, 30))
    assert guard.segment(task, at(2026, 12, 5, 12, 0)).until == at(2026, 12, 7, 8, 30)
    assert score(guard, task, at(2026, 12, 7, 8, 30)) == pytest.approx(1e12 + 3600, abs=1e-3)


def test_a_task_without_calendar_keeps_wall_time_under_a_working_clock() -> None:
    task = Task(id="t", seq=0, created=100.0, priority=1)
    for wall, working in [
        (AgingPriority(60), AgingPriority(60, clock="working")),
        (LeastSlack(0, due_after=600), LeastSlack(0, due_after=600, clock="working")),
    ]:
        assert wall.segment(task, 500.0) == working.segment(task, 500.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: AgingPriority(60, clock="business"),
        lambda: LeastSlack(0, clock=None),
        lambda: PriorityRamp(clock=1),
        lambda: ValueAtRisk(60, clock="WORKING"),
        lambda: StarvationGuard(AgingPriority(60), 60, clock="x"),
    ],
)
def test_a_clock_other_than_wall_or_working_is_refused(build: Any) -> None:
    with pytest.raises(InvalidInputError, match="clock"):
        build()


def test_tasklist_best_is_exact_across_openings_with_working_aging() -> None:
    tasks = TaskList(AgingPriority(seconds_per_point=600, clock="working"))
    tasks.add(TaskSpec(id="old", priority=0), now=at(2026, 12, 4, 9, 0))
    tasks.add(TaskSpec(id="young", priority=1), now=at(2026, 12, 4, 17, 50))
    for task in tasks:
        task.calendar = BERLIN
    tasks.set_policy(AgingPriority(seconds_per_point=600, clock="working"), now=tasks.now)
    group = tasks.group_for("voice", {})
    # old has aged 8h50 working time by 17:50: far ahead.
    best = tasks.best([group], now=at(2026, 12, 7, 8, 0))
    assert best is not None
    assert best.id == "old"


# ------------------------------------------------------------------ explain, snapshots, ramps


def test_explain_shows_both_clocks() -> None:
    clock = Clock(at(2026, 12, 4, 17, 0))
    engine, _ = make_engine(clock, policy=AgingPriority(600, clock="working"))
    engine.submit(TaskSpec(id="t", calendar="berlin", due_in=2 * 3600))
    clock.t = at(2026, 12, 7, 8, 30)
    shown = engine.explain("t")
    assert shown["calendar"] == "berlin"
    assert shown["age"] == clock.t - at(2026, 12, 4, 17, 0)
    assert shown["working_age"] == pytest.approx(5400)
    assert shown["working_time_to_due"] == pytest.approx(1800)
    assert shown["time_to_due"] == pytest.approx(1800)
    document = explain(AgingPriority(600, clock="working"), engine.get("t"), clock.t).to_dict()
    assert document["segment"]["clock"] == "berlin"
    assert document["segment"]["slope"] == pytest.approx(1 / 600)
    wall = Engine(clock=clock)
    wall.submit(TaskSpec(id="w"))
    assert wall.explain("w")["calendar"] is None
    assert "working_age" not in wall.explain("w")


def test_snapshot_restores_the_calendar_of_each_task() -> None:
    from valueroute._snapshot import restore, snapshot

    clock = Clock(at(2026, 12, 4, 17, 0))
    engine, _ = make_engine(clock, sla_warning=1800, policy=AgingPriority(60, clock="working"))
    engine.add_agent(AgentSpec(id="ann"), ready=False)
    engine.submit(TaskSpec(id="a", calendar="berlin", due_in=3 * 3600))
    engine.submit(TaskSpec(id="b", due=at(2026, 12, 8, 9, 0)))
    data = snapshot(engine)
    fresh, _ = make_engine(clock, sla_warning=1800, policy=AgingPriority(60, clock="working"))
    restore(data, fresh)
    assert fresh.get("a").calendar is BERLIN
    assert fresh.get("b").calendar is None
    assert fresh.digest() == engine.digest()
    assert fresh.next_wakeup() == engine.next_wakeup()


def test_working_aging_is_never_refiled_at_openings_and_closings() -> None:
    # Scores on the calendar's clock keep their order as it opens and closes:
    # the list has no breakpoint, yet answers exactly on both sides of one.
    tasks = TaskList(AgingPriority(600, clock="working"))
    created = [at(2026, 12, 4, 17, 30), at(2026, 12, 4, 9, 0), at(2026, 12, 5, 10, 0)]
    for index, (when, priority) in enumerate(zip(created, [3, 1, 2], strict=True)):
        task = Task(id=f"t{index}", seq=index, created=when, priority=priority)
        task.calendar = BERLIN
        tasks.add(task, now=at(2026, 12, 5, 11, 0))
    assert tasks.next_breakpoint() == math.inf
    group = tasks.groups[0]
    for now in (at(2026, 12, 7, 8, 0), at(2026, 12, 7, 8, 0) + 1, at(2026, 12, 7, 10, 30)):
        scores = {
            task.id: task.priority + BERLIN.elapsed(task.created, now) / 600 for task in tasks
        }
        best = tasks.best([group], now)
        assert best is not None
        assert best.id == max(scores, key=lambda task_id: scores[task_id])
        assert tasks.score(best, now) == pytest.approx(scores[best.id], abs=1e-9)
    tasks._check()


def test_a_snapshot_refuses_a_score_on_a_clock_the_engine_does_not_know() -> None:
    from valueroute._snapshot import snapshot
    from valueroute.scoring import Segment

    elsewhere = BusinessCalendar(timezone="America/New_York", hours=WEEKDAYS, name="ny")

    class OnAnotherClock:
        name = "another_clock"

        def segment(self, task: Task, now: float) -> Segment:
            return Segment(0.0, 1.0, math.inf, elsewhere)

    clock = Clock(at(2026, 12, 4, 17, 0))
    engine, _ = make_engine(clock, policy=OnAnotherClock())
    engine.submit(TaskSpec(id="t"))
    with pytest.raises(InvalidInputError, match="not one of the engine's calendars"):
        snapshot(engine)


def test_a_snapshot_keeps_working_time_scores_exact_after_the_next_opening() -> None:
    from valueroute._snapshot import restore, snapshot

    clock = Clock(at(2026, 12, 4, 9, 0))  # Friday, the office open
    policy = AgingPriority(600, clock="working")
    engine, _ = make_engine(clock, policy=policy)
    for index in range(3):
        clock.t += 3600
        engine.submit(TaskSpec(id=f"t{index}", priority=2 - index, calendar="berlin"))
    clock.t = at(2026, 12, 5, 12, 0)  # Saturday, closed
    fresh, _ = make_engine(clock, policy=policy)
    restore(snapshot(engine), fresh)
    assert fresh.digest() == engine.digest()
    # Monday, after the opening: same order, same scores, both exact.
    later = at(2026, 12, 7, 9, 45)
    kept = fresh.tasklist.top(3, later)
    assert [(task.id, score) for task, score in kept] == [
        (task.id, score) for task, score in engine.tasklist.top(3, later)
    ]
    for task, score in kept:
        waited = BERLIN.elapsed(task.created, later)
        assert score == pytest.approx(task.priority + waited / 600, abs=1e-9)


def test_ramp_every_below_the_bound_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="every"):
        Ramp(step=1, every=1e-300)


def test_steps_taken_is_computed_not_counted_at_huge_times() -> None:
    # Stepping one at a time would never end: floats cannot tell 1e50 + k apart.
    assert _steps_taken(0.0, 0.001, 1e50) == pytest.approx(1e53, rel=1e-9)


# ------------------------------------------------------------------ rules


def claims_rules(then: dict[str, Any], calendars: Any = None) -> Any:
    from valueroute.rules import load_rules

    return load_rules(
        {
            "name": "claims",
            "classification": {"rules": [{"name": "claims-due", "then": then}]},
        },
        calendars={"berlin": BERLIN} if calendars is None else calendars,
    )


def test_a_rule_sets_the_calendar_and_a_business_due() -> None:
    clock = Clock(at(2026, 12, 4, 16, 30))
    rules = claims_rules({"calendar": "berlin", "due_in": "8 business hours"})
    engine, _ = make_engine(clock, rules=rules, sla_warning=3600)
    task = engine.submit(TaskSpec(id="t"))
    assert task.calendar is BERLIN
    assert task.due == at(2026, 12, 7, 14, 30)
    assert engine.next_wakeup() == at(2026, 12, 7, 13, 30)


@pytest.mark.parametrize(
    ("due_in", "seconds"),
    [
        ("8 hours", 8 * 3600),
        ("30 minutes", 1800),
        (" 1 hour ", 3600),
        ("90 seconds", 90),
        (28800, 28800),
        ("1.5 hours", 5400),
    ],
)
def test_wall_durations_in_rules(due_in: Any, seconds: float) -> None:
    clock = Clock(at(2026, 12, 4, 16, 30))
    engine, _ = make_engine(clock, rules=claims_rules({"due_in": due_in}))
    assert engine.submit(TaskSpec(id="t")).due == clock.t + seconds


@pytest.mark.parametrize(
    "due_in",
    [
        "8 business days",
        "eight hours",
        "8",
        "8 hourss",
        "-8 hours",
        "8 Business hours",
        "",
        "1e3 hours",
        "9" * 20 + " hours",
    ],
)
def test_a_duration_that_does_not_parse_is_refused_at_load_naming_the_rule(due_in: Any) -> None:
    from valueroute.errors import RuleError

    with pytest.raises(RuleError) as caught:
        claims_rules({"due_in": due_in})
    assert "claims-due" in str(caught.value)
    assert "due_in" in str(caught.value)
    assert len(str(caught.value)) < 500


def test_a_bool_due_in_is_refused_at_load() -> None:
    from valueroute.errors import RuleError

    with pytest.raises(RuleError, match=r"then\.due_in: got True"):
        claims_rules({"due_in": True})


def test_an_unknown_calendar_in_a_rule_is_refused_at_load() -> None:
    from valueroute.errors import RuleError

    with pytest.raises(RuleError, match=r"claims-due.*calendar.*'paris'"):
        claims_rules({"calendar": "paris"})
    with pytest.raises(RuleError, match="calendars"):
        claims_rules({"due_in": 60}, calendars=["berlin"])


def test_a_business_due_for_a_task_without_calendar_is_refused_and_changes_nothing() -> None:
    from valueroute.errors import RuleError

    clock = Clock(at(2026, 12, 4, 16, 30))
    engine, _ = make_engine(clock, rules=claims_rules({"due_in": "2 business hours"}))
    error = _unchanged(engine, lambda: engine.submit(TaskSpec(id="t")))
    assert isinstance(error, RuleError)
    assert "claims-due" in str(error)
    assert "'t'" in str(error)
    # With a calendar the same rule applies.
    task = engine.submit(TaskSpec(id="t", calendar="berlin"))
    assert task.due == at(2026, 12, 7, 8, 30)


def test_an_engine_refuses_rules_loaded_with_other_calendars() -> None:
    other = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS, name="berlin")
    rules = claims_rules({"calendar": "berlin"}, calendars={"berlin": other})
    with pytest.raises(InvalidInputError, match=r"^rules:"):
        Engine(rules=rules, calendars={"berlin": BERLIN})
    engine = Engine(calendars={"berlin": BERLIN})
    digest = engine.digest()
    with pytest.raises(InvalidInputError, match=r"^rules:"):
        engine.set_rules(rules)
    assert engine.digest() == digest


def test_removing_rules_restores_the_calendar_a_rule_set() -> None:
    clock = Clock(at(2026, 12, 4, 16, 30))
    engine, _ = make_engine(clock, rules=claims_rules({"calendar": "berlin"}))
    task = engine.submit(TaskSpec(id="t"))
    assert task.calendar is BERLIN
    engine.set_rules(None)
    assert task.calendar is None


def test_snapshot_keeps_a_calendar_set_by_rules_and_its_baseline() -> None:
    from valueroute._snapshot import restore, snapshot

    clock = Clock(at(2026, 12, 4, 16, 30))
    rules = claims_rules({"calendar": "berlin", "due_in": "1 business hours"})
    engine, _ = make_engine(clock, rules=rules)
    spec = TaskSpec(id="t")
    engine.submit(spec)
    fresh, _ = make_engine(clock, rules=rules)
    restore(snapshot(engine, specs={"t": spec}), fresh)
    assert fresh.get("t").calendar is BERLIN
    assert fresh.digest() == engine.digest()
    fresh.set_rules(None)
    assert fresh.get("t").calendar is None


@pytest.mark.parametrize("source", [5, None, [], object()])
def test_rule_loaders_refuse_arguments_of_the_wrong_type(source: Any) -> None:
    from valueroute import Fifo
    from valueroute.errors import RuleError
    from valueroute.rules import dry_run, load_rules, parse_rules

    with pytest.raises(RuleError):
        load_rules(source)
    with pytest.raises(RuleError):
        parse_rules(source)
    with pytest.raises(InvalidInputError, match=r"^rules:"):
        dry_run(source or 5, Fifo(), [TaskSpec(id="x")], now=0.0)
    with pytest.raises(InvalidInputError, match=r"^specs"):
        dry_run(None, Fifo(), [source], now=0.0)


# ------------------------------------------------------------------ journal


def test_a_journal_recovers_tasks_with_their_calendars(tmp_path: Any) -> None:
    from valueroute.errors import ValueRouteError as Refused
    from valueroute.journal import DurableEngine

    clock = Clock(at(2026, 12, 4, 16, 30))

    def factory(read: Any, calendars: Any = None) -> Engine:
        return Engine(
            clock=read,
            calendars={"berlin": BERLIN} if calendars is None else calendars,
            policy=AgingPriority(60, clock="working"),
            sla_warning=600,
        )

    path = tmp_path / "journal.db"
    durable = DurableEngine.open(path, factory, clock=clock)
    durable.submit(TaskSpec(id="a", calendar="berlin", due_in=3600))
    clock.t += 10
    durable.submit(TaskSpec(id="b", calendar="berlin", due_in=7200))
    digest = durable.engine.digest()
    durable.close()

    again = DurableEngine.open(path, factory, clock=clock)
    assert again.engine.get("a").calendar is BERLIN
    assert again.engine.get("b").due == BERLIN.add(at(2026, 12, 4, 16, 30) + 10, 7200)
    assert again.engine.digest() == digest
    again.close()

    with pytest.raises(Refused, match="calendar"):
        DurableEngine.open(path, lambda read: factory(read, calendars={}), clock=clock)


RULES_NAMING_A_CALENDAR = """
name = "claims"
[[classification.rules]]
name = "claims-due"
when = { field = "type", op = "==", value = "claim" }
then = { calendar = "berlin", due_in = "8 business hours" }
"""


@pytest.mark.parametrize("snapshot_first", [False, True], ids=["replay", "snapshot"])
def test_a_journal_takes_rules_naming_a_calendar_at_run_time(
    tmp_path: Any, snapshot_first: bool
) -> None:
    """Rules set through the journal are compiled with the engine's calendars, live
    and again on recovery (from the records or from a snapshot holding them)."""
    from valueroute.journal import DurableEngine

    clock = Clock(at(2026, 12, 4, 16, 30))

    def factory(read: Any) -> Engine:
        return Engine(clock=read, calendars={"berlin": BERLIN})

    path = tmp_path / "journal.db"
    durable = DurableEngine.open(path, factory, clock=clock)
    durable.set_rules(RULES_NAMING_A_CALENDAR)
    durable.submit(TaskSpec(id="c", type="claim"))
    assert durable.engine.get("c").due == at(2026, 12, 7, 14, 30)
    if snapshot_first:
        durable.snapshot()
    clock.t += 60
    durable.submit(TaskSpec(id="d", type="claim"))
    digest = durable.engine.digest()
    durable.close()

    again = DurableEngine.open(path, factory, clock=clock)
    assert again.engine.get("c").calendar is BERLIN
    assert again.engine.get("d").due == BERLIN.add(at(2026, 12, 4, 16, 31), 8 * 3600)
    assert again.engine.digest() == digest
    again.close()


# ------------------------------------------------------------------ outside an engine


@pytest.mark.parametrize(
    "spec",
    [TaskSpec(id="c", calendar="berlin"), TaskSpec(id="d", due_in=60)],
    ids=["calendar", "due_in"],
)
def test_a_task_list_refuses_a_spec_it_cannot_honour(spec: TaskSpec) -> None:
    # Filed without its calendar or its due time, it would be scored wrongly.
    tasks = TaskList(AgingPriority())
    with pytest.raises(InvalidInputError, match=r"^item\.(calendar|due_in):"):
        tasks.add(spec, now=0.0)
    with pytest.raises(InvalidInputError, match=r"^item\.(calendar|due_in):"):
        tasks.extend([TaskSpec(id="ok"), spec], now=0.0)
    assert len(tasks) == 0


def test_apply_spec_resolves_calendars_and_keeps_the_spec_valid() -> None:
    rules = claims_rules({"calendar": "berlin", "due_in": "8 business hours"})
    now = at(2026, 12, 4, 16, 30)
    classified = rules.apply_spec(TaskSpec(id="t"), now)
    assert classified.calendar == "berlin"
    assert classified.due == at(2026, 12, 7, 14, 30)
    assert classified.due_in is None
    business = claims_rules({"due_in": "8 business hours"})
    named = business.apply_spec(TaskSpec(id="t", calendar="berlin"), now)
    assert named.due == at(2026, 12, 7, 14, 30)
    with pytest.raises(InvalidInputError, match=r"^spec\.calendar:"):
        business.apply_spec(TaskSpec(id="t", calendar="paris"), now)
    with pytest.raises(InvalidInputError, match=r"^spec\.due_in:"):
        business.apply_spec(TaskSpec(id="t", due_in=60), now)
