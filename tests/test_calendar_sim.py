"""Business calendars in the simulator: closed hours, shifts by calendar, working-time SLA.

Each test checks the simulated world against an independent account of the
same day: the calendar's own answers, hand-counted arrivals, and a FIFO
recursion for identical agents.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valueroute.calendar import calendar_from
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.sim import Scenario, World

HOUR = 3600.0
DAY = 86_400.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {"timezone": "UTC", "hours": {day: [["09:00", "17:00"]] for day in WEEKDAYS}}
MONDAY = "2026-01-05T00:00:00+00:00"  # a Monday, midnight UTC


def scenario(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "horizon_seconds": DAY,
        "start": MONDAY,
        "calendars": {"office": copy.deepcopy(OFFICE)},
        "task_types": [
            {
                "name": "calls",
                "calendar": "office",
                "sla_seconds": 60,
                "handle": {"kind": "exponential", "mean_seconds": 300},
            }
        ],
        "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 6}],
        "agent_groups": [{"name": "agents", "count": 3, "calendar": "office"}],
    }
    data.update(changes)
    return data


def trace(tmp_path: Path, times: list[float], name: str = "calls") -> dict[str, Any]:
    path = tmp_path / f"{name}.csv"
    path.write_text("time,task_type\n" + "".join(f"{t!r},{name}\n" for t in times))
    return {"kind": "trace", "path": str(path)}


class Recorder:
    """Per-task times from the engine's events (the engine's clock is simulated seconds)."""

    def __init__(self, world: World) -> None:
        self.submitted: dict[str, float] = {}
        self.assigned: dict[str, float] = {}
        self.completed: dict[str, float] = {}
        self.abandoned: dict[str, float] = {}
        self.breached: dict[str, float] = {}
        self.world = world
        world.engine.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        task = str(event.task)
        if event.kind is EventKind.task_submitted:
            self.submitted[task] = self.world.env.now
        elif event.kind is EventKind.task_assigned:
            self.assigned[task] = self.world.env.now
        elif event.kind is EventKind.task_completed:
            self.completed[task] = self.world.env.now
        elif event.kind is EventKind.task_canceled:
            self.abandoned[task] = self.world.env.now
        elif event.kind is EventKind.sla_breached:
            self.breached[task] = self.world.env.now


def run(data: dict[str, Any], replication: int = 0) -> tuple[World, Recorder, dict[str, Any]]:
    world = World(Scenario.model_validate(data), replication=replication)
    recorder = Recorder(world)
    world.run()
    return world, recorder, world.result().kpis


# ------------------------------------------------------------ closed hours, waiting


def fifo_answers(
    arrivals: list[tuple[str, float]],
    handle: dict[str, float],
    servers: int,
    opens: float,
    closes: float,
) -> dict[str, float]:
    """FIFO with identical servers on duty in [opens, closes): each task's answer time.

    The Kiefer-Wolfowitz recursion: the next task in arrival order starts
    when it has arrived and the earliest free server is free and on duty;
    a start at or after closing does not happen within the day.
    """
    free = [opens] * servers
    answers: dict[str, float] = {}
    for task, arrived in arrivals:
        index = min(range(servers), key=free.__getitem__)
        begin = max(arrived, free[index], opens)
        if begin >= closes:
            break
        answers[task] = begin
        free[index] = begin + handle[task]
    return answers


@pytest.mark.parametrize("replication", range(3))
def test_agents_on_an_office_calendar_answer_only_while_it_is_open(replication: int) -> None:
    world, seen, kpis = run(scenario(), replication)
    opens, closes = 9 * HOUR, 17 * HOUR
    assert seen.assigned, "nothing was answered"
    # No answer while closed; every agent is logged in the 8 open hours, plus
    # the end of a task it holds at closing time (one at a time: voice).
    assert all(opens <= t < closes for t in seen.assigned.values())
    overrun = sum(max(0.0, t - closes) for t in seen.completed.values())
    logged_in = world.result().groups["agents"]["logged_in_seconds"]
    assert logged_in == pytest.approx(8 * 3 * HOUR + overrun)
    # The same day by an independent FIFO recursion: identical agents, the
    # tasks' own handle times (every answered task completes before the
    # horizon: agents end their last task, then leave).
    handle = {task: seen.completed[task] - seen.assigned[task] for task in seen.assigned}
    order = sorted(seen.submitted.items(), key=lambda item: (item[1], int(item[0])))
    expected = fifo_answers(order, handle, 3, opens, closes)
    assert set(seen.assigned) == set(expected)
    for task, answered in expected.items():
        assert seen.assigned[task] == pytest.approx(answered, abs=1e-6)
    # Night arrivals wait for the opening: the first three (spare agents)
    # are answered at 09:00 sharp, with no working time spent waiting.
    night = [task for task, t in order if t < opens]
    assert len(night) >= 3
    office = calendar_from(OFFICE)
    start = world.start
    for task in night[:3]:
        assert seen.assigned[task] == opens
        assert office.elapsed(start + seen.submitted[task], start + opens) == 0.0
    # Those arriving after closing are still waiting at the end.
    late = sum(t >= closes for _, t in order)
    assert kpis["calls"]["waiting_at_end"] >= late > 0
    assert kpis["calls"]["refused_closed"] == 0


# ------------------------------------------------------------ closed hours, refused


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    times=st.lists(
        st.floats(min_value=0.0, max_value=3 * DAY - 1.0, allow_nan=False).map(round),
        min_size=1,
        max_size=40,
    ),
    boundaries=st.lists(
        st.sampled_from([9 * HOUR, 17 * HOUR, DAY + 9 * HOUR, 2 * DAY + 17 * HOUR])
    ),
)
def test_refuse_drops_exactly_the_arrivals_in_closed_hours(
    tmp_path: Path, times: list[float], boundaries: list[float]
) -> None:
    # Saturday 10 January 2026 00:00 UTC: Saturday and Sunday are closed all day.
    arrivals = sorted(float(t) for t in [*times, *boundaries])
    data = scenario(
        horizon_seconds=3 * DAY,
        start="2026-01-09T00:00:00+00:00",  # Friday
        arrivals=[trace(tmp_path, arrivals)],
        agent_groups=[{"name": "agents", "count": 2}],  # on duty all the time
    )
    data["task_types"][0]["closed"] = "refuse"
    _, seen, kpis = run(data)

    def is_open(t: float) -> bool:  # Friday 09:00-17:00 only, in these three days
        return t < DAY and 9 * HOUR <= t < 17 * HOUR

    closed = sum(not is_open(t) for t in arrivals)
    assert kpis["calls"]["refused_closed"] == closed
    assert kpis["all"]["refused_closed"] == closed
    assert kpis["calls"]["offered"] == len(arrivals) - closed
    assert sorted(seen.submitted.values()) == [t for t in arrivals if is_open(t)]


# ------------------------------------------------------------ service level in working time


def test_service_level_in_working_time_equals_the_hand_count_from_task_outcomes() -> None:
    data = scenario(horizon_seconds=2 * DAY)
    kind = data["task_types"][0]
    kind["sla_clock"] = "working"
    kind["sla_seconds"] = 600
    kind["patience"] = {"kind": "exponential", "mean_seconds": 4 * HOUR}
    data["agent_groups"][0]["count"] = 1
    world, seen, kpis = run(data)
    office = calendar_from(OFFICE)
    start = world.start
    working = {
        task: office.elapsed(start + seen.submitted[task], start + t)
        for task, t in seen.assigned.items()
    }
    wall = {task: t - seen.submitted[task] for task, t in seen.assigned.items()}
    closed = len(seen.assigned) + len(seen.abandoned)
    assert seen.abandoned, "no abandonment: the test needs both outcomes"
    by_hand = sum(w <= 600 for w in working.values()) / closed
    in_wall_time = sum(w <= 600 for w in wall.values()) / closed
    assert kpis["calls"]["service_level"] == pytest.approx(by_hand, abs=1e-12)
    assert by_hand > in_wall_time  # night arrivals answered at opening count as on time
    # Waits and speed of answer stay in wall time.
    assert kpis["calls"]["asa"] == pytest.approx(sum(wall.values()) / len(wall))


def test_a_working_time_due_is_counted_in_the_calendar(tmp_path: Path) -> None:
    data = scenario(
        horizon_seconds=2 * DAY,
        arrivals=[trace(tmp_path, [16.5 * HOUR])],  # Monday 16:30
        agent_groups=[{"name": "agents", "count": 0, "calendar": "office"}],
    )
    data["task_types"][0].update(sla_clock="working", due_seconds=HOUR)
    _, seen, _ = run(data)
    # Half an hour on Monday, half an hour from Tuesday's opening.
    assert list(seen.breached.values()) == [DAY + 9.5 * HOUR]


# ------------------------------------------------------------ calendars in the engine


@pytest.mark.parametrize(("clock", "first"), [("working", "urgent"), ("wall", "routine")])
def test_policies_age_tasks_in_their_calendars_working_time(
    tmp_path: Path, clock: str, first: str
) -> None:
    # A routine task from Friday 16:00 (one working hour old at Monday's
    # opening, 65 wall hours) and an urgent one from Monday 08:59 (priority
    # 5 = 6000 s of age at 1200 s a point; no working age). Working-time
    # aging answers the urgent one first, wall-time aging the routine one.
    friday = 4 * DAY + 16 * HOUR
    monday = 7 * DAY + 8 * HOUR + 59 * 60
    routine = trace(tmp_path, [friday], "routine")
    urgent = trace(tmp_path, [monday], "urgent")
    handle = {"kind": "deterministic", "value_seconds": 600}
    data = scenario(
        horizon_seconds=8 * DAY,
        task_types=[
            {"name": "routine", "calendar": "office", "handle": handle},
            {"name": "urgent", "calendar": "office", "priority": 5, "handle": handle},
        ],
        arrivals=[routine, urgent],
        agent_groups=[{"name": "agents", "count": 0, "calendar": "office"}],
        routing={
            "policy": "aging_priority",
            "policy_params": {"seconds_per_point": 1200, "clock": clock},
        },
    )
    # Nobody works on Friday afternoon: one agent comes on Monday at 09:00.
    data["agent_groups"].append(
        {
            "name": "monday",
            "shifts": [{"start_seconds": 7 * DAY + 9 * HOUR, "end_seconds": 8 * DAY, "count": 1}],
        }
    )
    world, seen, _ = run(data)
    assert world.engine.calendars.keys() == {"office"}
    order = sorted(seen.assigned, key=seen.assigned.__getitem__)
    names = {"1": "routine", "2": "urgent"}
    assert [names[task] for task in order] == [first, "urgent" if first == "routine" else "routine"]
    assert seen.assigned[order[0]] == 7 * DAY + 9 * HOUR


def test_tasks_carry_their_types_calendar_into_the_engine(tmp_path: Path) -> None:
    data = scenario(
        arrivals=[trace(tmp_path, [HOUR, 2 * HOUR]), trace(tmp_path, [3 * HOUR], "walk_ins")],
        agent_groups=[{"name": "agents", "count": 0, "calendar": "office"}],
    )
    data["task_types"].append(
        {"name": "walk_ins", "handle": {"kind": "exponential", "mean_seconds": 60}}
    )
    world = World(Scenario.model_validate(data))
    world.run()
    office = world.engine.calendars["office"]
    now = world.engine_origin + world.env.now
    assert world.engine_origin == world.start
    tasks = {task.id: task for task, _ in world.engine.tasklist.top(10, now=now)}
    assert sorted(tasks) == ["1", "2", "3"]
    assert tasks["1"].calendar is office
    assert tasks["2"].calendar is office
    assert tasks["3"].calendar is None
    # The engine's clock is the wall instant: simulated second s is start + s.
    assert [tasks[t].created - world.start for t in ("1", "2", "3")] == [HOUR, 2 * HOUR, 3 * HOUR]


def test_a_rule_file_may_name_the_scenarios_calendars(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'name = "office"\n\n[[classification.rules]]\nname = "calls keep office hours"\n'
        'when = { field = "type", op = "==", value = "calls" }\n'
        'then = { calendar = "office", due_in = "1 business hours" }\n'
    )
    data = scenario(
        horizon_seconds=2 * DAY,
        arrivals=[trace(tmp_path, [16.5 * HOUR])],  # Monday 16:30
        agent_groups=[{"name": "agents", "count": 0, "calendar": "office"}],
        routing={"rules": str(rules)},
    )
    del data["task_types"][0]["calendar"]  # the rule gives the calendar
    _, seen, _ = run(data)
    assert list(seen.breached.values()) == [DAY + 9.5 * HOUR]


# ------------------------------------------------------------ simulated time on the calendar


def test_simulated_time_maps_to_calendar_instants_across_a_dst_change() -> None:
    berlin = {"timezone": "Europe/Berlin", "hours": {d: [["09:00", "17:00"]] for d in WEEKDAYS}}
    data = scenario(
        horizon_seconds=4 * DAY,
        start="2026-03-28T00:00",  # Saturday, local time in Berlin (CET)
        calendars={"berlin": berlin},
        agent_groups=[{"name": "agents", "count": 1, "calendar": "berlin"}],
    )
    data["task_types"][0]["calendar"] = "berlin"
    world, seen, _ = run(data)
    zone = ZoneInfo("Europe/Berlin")
    assert world.start == dt.datetime(2026, 3, 28, tzinfo=zone).timestamp()
    # Clocks go forward on Sunday 29 March: Monday 09:00 CEST is 56 hours
    # (not 57) after Saturday 00:00 CET.
    monday_nine = dt.datetime(2026, 3, 30, 9, tzinfo=zone).timestamp() - world.start
    assert monday_nine == 56 * HOUR
    assert world._open_periods(world.calendars["berlin"]) == [
        (56 * HOUR, 64 * HOUR),
        (80 * HOUR, 88 * HOUR),
    ]
    assert min(seen.assigned.values()) == 56 * HOUR
    assert all(
        56 * HOUR <= t < 64 * HOUR or 80 * HOUR <= t < 88 * HOUR for t in seen.assigned.values()
    )


def test_agents_on_a_calendar_open_around_the_clock_stay_on_duty_for_a_long_horizon() -> None:
    data = scenario(
        horizon_seconds=800 * DAY,
        calendars={"always": {"timezone": "Europe/Berlin", "hours": "24/7"}},
        arrivals=[{"kind": "poisson", "task_type": "calls", "rate_per_hour": 0.01}],
        agent_groups=[{"name": "agents", "count": 2, "calendar": "always"}],
    )
    data["task_types"][0]["calendar"] = "always"
    fresh = World(Scenario.model_validate(data))
    # One stretch on duty: never off and on again where the calendar's table
    # of periods is extended.
    duty = [(at, on) for at, _, agent, on in fresh._schedule if agent == "agents-1"]
    assert duty == [(0.0, True)]
    world, _, _ = run(data)
    logged_in = world.result().groups["agents"]["logged_in_seconds"]
    assert logged_in == pytest.approx(2 * 800 * DAY)


def test_the_default_start_is_monday_midnight_in_the_first_calendars_zone() -> None:
    data = scenario()
    del data["start"]
    data["calendars"] = {
        "tokyo": {"timezone": "Asia/Tokyo", "hours": "24/7"},
        "office": copy.deepcopy(OFFICE),
    }
    built = Scenario.model_validate(data)
    expected = dt.datetime(2026, 1, 5, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
    assert built.start_instant() == expected
    assert Scenario.model_validate(scenario(start=expected)).start_instant() == expected


def test_the_report_says_which_types_count_working_time_or_refuse_while_closed() -> None:
    from valueroute.sim import InlineExecutor, simulate
    from valueroute.sim.report import report_html

    data = scenario()
    data["task_types"][0].update(sla_clock="working", closed="refuse", name="mail")
    data["arrivals"][0]["task_type"] = "mail"
    result = simulate(Scenario.model_validate(data), replications=2, executor=InlineExecutor())
    page = report_html(result)
    assert "Service level in working time (answered within T working seconds" in page
    assert "refused (refused_closed, not offered): mail." in page
    assert result.summary["mail"]["refused_closed"]["mean"] > 0
    plain = report_html(simulate(Scenario.model_validate(scenario()), executor=InlineExecutor()))
    assert "working time" not in plain
    assert "refused_closed, not offered" not in plain


# ------------------------------------------------------------ validation


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInputError) as caught:
        Scenario.model_validate(data)
    return str(caught.value)


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = scenario()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("task_types", 0, "calendar"), "nights", "task_types.0.calendar"),
        (("agent_groups", 0, "calendar"), "nights", "agent_groups.0.calendar"),
        (("calendars",), {"office": {"timezone": "Nowhere/City", "hours": "24/7"}}, "calendars"),
        (("calendars",), {"office": {"timezone": "UTC"}}, "calendars.office"),
        (("calendars",), {"office": {**OFFICE, "name": "other"}}, "calendars.office"),
        (("start",), "next monday", "start"),
        (("start",), True, "start"),
        (("start",), math.inf, "start"),
        (("start",), "0001-01-01T00:00", "start"),
        (("start",), "x" * 10_000, "start"),
        (("task_types", 0, "closed"), "later", "task_types.0.closed"),
        (("task_types", 0, "sla_clock"), "lunar", "task_types.0.sla_clock"),
        (("horizon_seconds",), 1e12, "horizon_seconds"),
    ],
)
def test_calendar_fields_are_checked_naming_the_field(
    path: tuple[Any, ...], value: Any, named: str
) -> None:
    message = error_of(_with(path, value))
    assert named in message
    assert len(message) < 1000


@pytest.mark.parametrize("due", [2e9, 9.9e8])
def test_a_working_time_due_the_calendar_cannot_count_is_refused(due: float) -> None:
    # 9.9e8 working seconds of an 8-hour weekday office are over 130 years:
    # more than the calendar searches ahead (2e9 is beyond any span it counts).
    data = scenario()
    data["task_types"][0].update(sla_clock="working", due_seconds=due)
    assert "task_types.0.due_seconds" in error_of(data)
    data["task_types"][0]["due_seconds"] = 8 * HOUR * 5 * 52  # a working year
    Scenario.model_validate(data)


def test_a_group_whose_calendar_never_opens_within_the_horizon_is_refused() -> None:
    # From Saturday 00:00 for a day: the weekday office never opens.
    message = error_of(scenario(start="2026-01-10T00:00+00:00"))
    assert "agent_groups.0.calendar" in message
    assert "never be on duty" in message
    # A group of nobody may name such a calendar.
    data = scenario(start="2026-01-10T00:00+00:00")
    data["agent_groups"].append({"name": "always", "count": 1})
    data["agent_groups"][0]["count"] = 0
    Scenario.model_validate(data)


@pytest.mark.parametrize("field", ["closed", "sla_clock"])
def test_closed_hours_and_working_time_need_a_calendar(field: str) -> None:
    data = scenario()
    del data["task_types"][0]["calendar"]
    data["task_types"][0][field] = {"closed": "refuse", "sla_clock": "working"}[field]
    message = error_of(data)
    assert "task_types.0" in message
    assert f"{field}=" in message
    assert "needs a calendar" in message


def test_a_group_calendar_gives_the_hours_of_a_count() -> None:
    data = scenario()
    data["agent_groups"][0] = {
        "name": "agents",
        "calendar": "office",
        "shifts": [{"start_seconds": 0, "end_seconds": 3600, "count": 1}],
    }
    message = error_of(data)
    assert "agent_groups.0" in message
    assert "give count" in message


def test_staffing_by_interval_replaces_a_groups_calendar_with_its_headcounts() -> None:
    from valueroute.sim.staffing import _with_headcounts

    calendar_day = Scenario.model_validate(scenario())
    counts = [[2] * int(DAY / calendar_day.interval_seconds)]
    staffed = _with_headcounts(calendar_day, counts, horizon=DAY)  # refused before
    group = staffed.agent_groups[0]
    assert group.calendar is None
    assert group.headcount == counts[0]


def test_the_command_line_says_which_thresholds_are_working_time() -> None:
    from valueroute.cli.sim import _thresholds

    working = scenario()
    working["task_types"][0]["sla_clock"] = "working"
    text = _thresholds(Scenario.model_validate(working), 100)
    assert "calls 60 s of working time" in text
    assert "of working time" not in _thresholds(Scenario.model_validate(scenario()), 100)
