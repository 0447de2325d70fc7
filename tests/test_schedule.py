"""Shift scheduling against a brute-force oracle, and its refusals.

The oracle knows nothing of the MIP: it lists every concrete shift (a
template, a start, one start per break rule), tries every count of each up
to a bound that no optimal roster exceeds, and keeps the cheapest roster that
meets the rules. The solver's optimum must equal the oracle's; its roster's
headcount is recomputed here from the shifts and their breaks alone.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from valueroute.erlang import staff_intervals
from valueroute.errors import InvalidInputError
from valueroute.schedule import (
    BreakRule,
    InfeasibleScheduleError,
    Schedule,
    ScheduleSpec,
    ShiftTemplate,
    load_schedule_spec,
    parse_schedule_spec,
    requirements_from,
    solve_schedule,
)
from valueroute.sim.staffing import IntervalStaffingResult

DAY = 1440


def concrete_shifts(spec: ScheduleSpec, intervals: int) -> list[tuple[str, float, list[int]]]:
    """Every (template, start, break starts) as (name, cost, intervals on duty)."""
    step = spec.interval_minutes
    origin = int(spec.start[:2]) * 60 + int(spec.start[3:])
    days = math.ceil((origin + intervals * step) / DAY)
    found = []
    for template in spec.templates:
        length = template.length_minutes // step
        paid = template.length_minutes - sum(b.minutes for b in template.breaks if not b.paid)
        cost = paid / 60 * template.cost_per_hour
        windows = [range(b.earliest // step, b.latest // step + 1) for b in template.breaks]
        for day in range(days):
            for clock in template.start_minutes(step):
                first = (day * DAY + clock - origin) // step
                if day * DAY + clock < origin or first + length > intervals:
                    continue
                for offsets in itertools.product(*windows):
                    off = set()
                    for rule, offset in zip(template.breaks, offsets, strict=True):
                        off.update(range(offset, offset + rule.minutes // step))
                    duty = [first + k for k in range(length) if k not in off]
                    found.append((template.name, cost, duty))
    return found


def oracle(spec: ScheduleSpec, requirement: list[int]) -> float | None:
    """The least objective over every roster, by enumeration; None when none is allowed.

    The objective is the cost, plus each missing agent-hour at the shortage
    price when the spec has a budget (then the cost may not exceed it).
    """
    shifts = concrete_shifts(spec, len(requirement))
    step_hours = spec.interval_minutes / 60
    lows = spec.min_headcount
    need = [max(r, lows if isinstance(lows, int) else lows[t]) for t, r in enumerate(requirement)]
    highs = spec.max_headcount
    top = max(
        [max(need, default=0)] + [t.min_count for t in spec.templates]
    )  # no optimal roster has more of one concrete shift
    dearest = max(t.cost_per_hour for t in spec.templates)
    price = spec.shortage_cost_per_hour or 10 * dearest
    best: float | None = None
    for counts in itertools.product(range(top + 1), repeat=len(shifts)):
        duty = [0] * len(requirement)
        cost = 0.0
        per_template: dict[str, int] = {}
        for n, (name, price_each, on) in zip(counts, shifts, strict=True):
            if n:
                cost += n * price_each
                per_template[name] = per_template.get(name, 0) + n
                for t in on:
                    duty[t] += n
        if any(
            per_template.get(t.name, 0) < t.min_count
            or (t.max_count is not None and per_template.get(t.name, 0) > t.max_count)
            for t in spec.templates
        ):
            continue
        if highs is not None and any(
            d > (highs if isinstance(highs, int) else highs[t]) for t, d in enumerate(duty)
        ):
            continue
        short = sum(max(0, n - d) for n, d in zip(need, duty, strict=True))
        if spec.budget is None:
            if short:
                continue
            value = cost
        else:
            if cost > spec.budget + 1e-9:
                continue
            value = cost + short * step_hours * price
        if best is None or value < best - 1e-9:
            best = value
    return best


def duty_from_shifts(schedule: Schedule) -> list[int]:
    """Agents on duty per interval, recounted from the roster's shifts and breaks."""
    step = schedule.interval_minutes
    counts = [0] * len(schedule.requirement)
    for shift in schedule.shifts:
        for minute in range(shift.start_minutes, shift.end_minutes, step):
            if any(b.start_minutes <= minute < b.start_minutes + b.minutes for b in shift.breaks):
                continue
            counts[(minute - schedule.start_minutes) // step] += shift.count
    return counts


def objective(schedule: Schedule, spec: ScheduleSpec) -> float:
    if spec.budget is None:
        return schedule.cost
    price = spec.shortage_cost_per_hour or 10 * max(t.cost_per_hour for t in spec.templates)
    return schedule.cost + sum(schedule.shortage) * schedule.interval_minutes / 60 * price


# ----------------------------------------------------------------- fixed instances


@pytest.mark.parametrize("price", [1.5, math.pi])  # costs with a common unit, and without
def test_a_textbook_day_matches_the_oracle_and_its_breaks_stay_in_their_windows(
    price: float,
) -> None:
    spec = ScheduleSpec(
        interval_minutes=60,
        start="08:00",
        templates=[
            ShiftTemplate(
                name="full",
                starts=["08:00-09:00"],
                length_minutes=360,
                breaks=[BreakRule(minutes=60, earliest=120, latest=180)],
            ),
            ShiftTemplate(
                name="part", starts=["10:00", "12:00"], length_minutes=180, cost_per_hour=price
            ),
        ],
    )
    requirement = [1, 2, 2, 3, 2, 2, 1]
    schedule = solve_schedule(requirement, spec)
    assert schedule.status == "optimal"
    assert schedule.cost == pytest.approx(oracle(spec, requirement))
    assert list(schedule.headcount) == duty_from_shifts(schedule)
    assert all(h >= r for h, r in zip(schedule.headcount, requirement, strict=True))
    for shift in schedule.shifts:
        for brk in shift.breaks:
            assert shift.start_minutes + 120 <= brk.start_minutes <= shift.start_minutes + 180


def test_unpaid_breaks_are_not_paid_and_paid_ones_are() -> None:
    unpaid = ShiftTemplate(
        name="a",
        starts=["08:00"],
        length_minutes=480,
        breaks=[BreakRule(minutes=60, earliest=180, latest=240)],
    )
    paid = ShiftTemplate(
        name="b",
        starts=["08:00"],
        length_minutes=480,
        cost_per_hour=2.0,
        breaks=[BreakRule(minutes=60, earliest=180, latest=240, paid=True)],
    )
    assert unpaid.cost == 7.0
    assert paid.cost == 16.0


def test_a_multi_day_horizon_with_days_off_matches_the_oracle() -> None:
    spec = ScheduleSpec(
        interval_minutes=480,
        templates=[ShiftTemplate(name="day", starts=["08:00"], length_minutes=480)],
        days_off={"work_days": 2},
    )
    requirement = [0, 2, 0, 0, 1, 0, 0, 1, 0]  # three days of three 8-hour intervals
    schedule = solve_schedule(requirement, spec)
    # Agents working 2 of 3 days: day totals (2, 1, 1) are the day-totals of y01, y02,
    # y12 with y01 + y02 = 2, y01 + y12 = 1, y02 + y12 = 1, so y = (1, 1, 0): 4 shifts.
    assert schedule.agents == 4
    assert sum(n for _, n in schedule.patterns) == 2
    assert all(len(days) == 2 for days, _ in schedule.patterns)
    per_day = [sum(s.count for s in schedule.shifts if s.day == d) for d in range(3)]
    for day in range(3):
        working = sum(n for days, n in schedule.patterns if day in days)
        assert per_day[day] == working
    assert schedule.cost == pytest.approx(4 * 8.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 2), min_size=6, max_size=6),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_days_off_rosters_match_the_oracle(
    requirement: list[int], work_days: int, consecutive: bool
) -> None:
    """Three days of two 12-hour intervals; each agent works ``work_days`` of them."""
    spec = ScheduleSpec(
        interval_minutes=720,
        templates=[
            ShiftTemplate(name="day", starts=["00:00"], length_minutes=720),
            ShiftTemplate(name="night", starts=["12:00"], length_minutes=720, cost_per_hour=1.5),
        ],
        days_off={"work_days": work_days, "consecutive": consecutive},
    )
    patterns = [
        days
        for days in itertools.combinations(range(3), work_days)
        if not consecutive
        or (lambda off: not off or off[-1] - off[0] == len(off) - 1)(
            [d for d in range(3) if d not in days]
        )
    ]
    feasible_totals = set()
    for agents in itertools.product(range(5), repeat=len(patterns)):
        feasible_totals.add(
            tuple(
                sum(n for n, days in zip(agents, patterns, strict=True) if d in days)
                for d in range(3)
            )
        )
    best = None
    # (day, night) shifts per day, up to 4: days off may need shifts beyond the
    # requirement (2 + 2 a day at most), and a bound too low would show as the
    # solver beating the oracle.
    for counts in itertools.product(range(5), repeat=6):
        duty = list(counts)
        if any(d < r for d, r in zip(duty, requirement, strict=True)):
            continue
        totals = tuple(counts[2 * d] + counts[2 * d + 1] for d in range(3))
        if totals not in feasible_totals:
            continue
        cost = 12 * sum(counts[0::2]) + 18 * sum(counts[1::2])
        best = cost if best is None else min(best, cost)
    try:
        schedule = solve_schedule(requirement, spec)
    except InfeasibleScheduleError:
        assert best is None
        return
    assert best is not None
    assert schedule.cost == pytest.approx(best)
    per_day = [sum(s.count for s in schedule.shifts if s.day == d) for d in range(3)]
    assert tuple(per_day) in feasible_totals
    assert all(h >= r for h, r in zip(schedule.headcount, requirement, strict=True))


def test_consecutive_days_off_keep_the_days_off_together() -> None:
    spec = ScheduleSpec(
        interval_minutes=DAY,
        templates=[ShiftTemplate(name="day", starts=["00:00"], length_minutes=DAY)],
        days_off={"work_days": 2, "consecutive": True},
    )
    schedule = solve_schedule([1, 0, 1, 0], spec)
    for days, _ in schedule.patterns:
        off = [d for d in range(4) if d not in days]
        assert off[-1] - off[0] == len(off) - 1
    assert schedule.covered


def test_a_budget_buys_what_it_can_and_prices_the_rest_as_shortage() -> None:
    template = ShiftTemplate(name="a", starts=["00:00-02:00"], length_minutes=120)
    spec = ScheduleSpec(interval_minutes=60, templates=[template], budget=4.0)
    requirement = [2, 2, 2, 2]
    schedule = solve_schedule(requirement, spec)
    assert schedule.cost <= 4.0
    assert sum(schedule.shortage) == 4  # two 2-hour shifts cover 4 of the 8 agent-hours
    assert objective(schedule, spec) == pytest.approx(oracle(spec, requirement))


def test_max_headcount_caps_every_interval() -> None:
    spec = ScheduleSpec(
        interval_minutes=60,
        templates=[ShiftTemplate(name="long", starts=["00:00"], length_minutes=240)],
        max_headcount=[1, 1, 1, 1],
    )
    with pytest.raises(InfeasibleScheduleError, match="requirements"):
        solve_schedule([1, 2, 1, 1], spec)
    assert solve_schedule([1, 1, 1, 1], spec).headcount == (1, 1, 1, 1)


# ----------------------------------------------------------------- generated instances


@st.composite
def small_problems(draw: st.DrawFn) -> tuple[ScheduleSpec, list[int]]:
    intervals = draw(st.integers(3, 7))
    templates = []
    for index in range(draw(st.integers(1, 2))):
        length = draw(st.integers(2, min(5, intervals)))
        starts = draw(
            st.lists(st.integers(0, intervals - length), min_size=1, max_size=3, unique=True)
        )
        breaks = []
        if length >= 3 and draw(st.booleans()):
            earliest = draw(st.integers(1, length - 2))
            latest = draw(st.integers(earliest, min(earliest + 1, length - 2)))
            breaks.append(
                BreakRule(
                    minutes=60,
                    earliest=60 * earliest,
                    latest=60 * latest,
                    paid=draw(st.booleans()),
                )
            )
            if latest + 2 <= length - 1 and draw(st.booleans()):
                second = draw(st.integers(latest + 1, length - 1))
                breaks.append(
                    BreakRule(minutes=60, earliest=60 * second, latest=60 * second, paid=True)
                )
        templates.append(
            ShiftTemplate(
                name=f"t{index}",
                starts=[f"{s:02d}:00" for s in starts],
                length_minutes=60 * length,
                breaks=breaks,
                cost_per_hour=draw(st.sampled_from([1.0, 1.25, 2.0])),
                min_count=draw(st.sampled_from([0, 0, 1])),
                max_count=draw(st.none() | st.integers(1, 3)),
            )
        )
    spec_data: dict[str, Any] = {"interval_minutes": 60, "templates": templates}
    if draw(st.booleans()):
        spec_data["min_headcount"] = draw(st.integers(0, 1))
    if draw(st.booleans()):
        spec_data["max_headcount"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        spec_data["budget"] = draw(st.sampled_from([2.0, 4.0, 6.5]))
    spec = ScheduleSpec(**spec_data)
    requirement = draw(st.lists(st.integers(0, 2), min_size=intervals, max_size=intervals))
    return spec, requirement


def _limited(spec: ScheduleSpec, requirement: list[int]) -> bool:
    """Whether the oracle's enumeration is small enough to run."""
    count = len(concrete_shifts(spec, len(requirement)))
    return (max(requirement) + 1) ** count <= 20_000


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(small_problems())
def test_the_optimum_equals_the_enumerated_one(problem: tuple[ScheduleSpec, list[int]]) -> None:
    solved_like_the_oracle(*problem)


def solved_like_the_oracle(spec: ScheduleSpec, requirement: list[int]) -> Schedule | None:
    """Solve, and check the roster against the oracle's optimum and the rules;
    ``None`` when no roster is allowed (and the oracle agrees)."""
    assume(_limited(spec, requirement))
    if spec.max_headcount is not None and max(requirement) > spec.max_headcount:
        # Refused whatever the budget: no roster may meet such a requirement.
        with pytest.raises(InfeasibleScheduleError, match="max_headcount"):
            solve_schedule(requirement, spec)
        return None
    best = oracle(spec, requirement)
    try:
        schedule = solve_schedule(requirement, spec)
    except InfeasibleScheduleError:
        assert best is None
        return None
    assert best is not None
    assert schedule.status == "optimal"
    assert objective(schedule, spec) == pytest.approx(best)
    assert list(schedule.headcount) == duty_from_shifts(schedule)
    if spec.budget is None:
        assert schedule.covered
        assert all(h >= r for h, r in zip(schedule.headcount, requirement, strict=True))
    if spec.max_headcount is not None:
        assert max(schedule.headcount) <= spec.max_headcount
    return schedule


@st.composite
def wide_break_windows(draw: st.DrawFn) -> tuple[ScheduleSpec, list[int]]:
    """Shifts whose breaks may go in a window of three or four intervals.

    Overlapping windows of several starts are where giving every shift its
    break is hardest: the breaks taken by each interval must stay between
    the shifts whose windows have closed and those whose windows have opened.
    """
    length = draw(st.integers(5, 6))
    intervals = draw(st.integers(length + 1, length + 3))
    starts = draw(st.lists(st.integers(0, intervals - length), min_size=2, max_size=3, unique=True))
    earliest = draw(st.integers(1, length - 4))
    latest = draw(st.integers(earliest + 2, min(earliest + 3, length - 2)))
    assume(len(starts) * (latest - earliest + 1) <= 9)
    template = ShiftTemplate(
        name="wide",
        starts=[f"{s:02d}:00" for s in sorted(starts)],
        length_minutes=60 * length,
        breaks=[
            BreakRule(
                minutes=60, earliest=60 * earliest, latest=60 * latest, paid=draw(st.booleans())
            )
        ],
    )
    spec_data: dict[str, Any] = {"interval_minutes": 60, "templates": [template]}
    if draw(st.booleans()):
        spec_data["max_headcount"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        spec_data["budget"] = draw(st.sampled_from([5.0, 10.0]))
    requirement = draw(st.lists(st.integers(0, 2), min_size=intervals, max_size=intervals))
    return ScheduleSpec(**spec_data), requirement


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(wide_break_windows())
def test_breaks_in_wide_overlapping_windows_match_the_enumerated_optimum(
    problem: tuple[ScheduleSpec, list[int]],
) -> None:
    schedule = solved_like_the_oracle(*problem)
    if schedule is None:
        return
    rule = problem[0].templates[0].breaks[0]
    for shift in schedule.shifts:
        (taken,) = shift.breaks
        offset = taken.start_minutes - shift.start_minutes
        assert rule.earliest <= offset <= rule.latest


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=8, max_size=24),
    st.sampled_from([120, 180, 240]),
)
def test_full_coverage_never_leaves_an_interval_short(requirement: list[int], length: int) -> None:
    spec = ScheduleSpec(
        interval_minutes=30,
        templates=[
            ShiftTemplate(
                name="with break",
                starts=["00:00-12:00"],
                length_minutes=length,
                breaks=[BreakRule(minutes=30, earliest=60, latest=length - 60)],
            ),
            ShiftTemplate(
                name="short", starts=["00:00-12:00"], length_minutes=60, cost_per_hour=1.5
            ),
        ],
    )
    schedule = solve_schedule(requirement, spec)
    assert all(h >= r for h, r in zip(schedule.headcount, requirement, strict=True))
    assert list(schedule.headcount) == duty_from_shifts(schedule)
    assert schedule.shortage == (0,) * len(requirement)


# ----------------------------------------------------------------- inputs and refusals


BASE = {
    "interval_minutes": 60,
    "templates": [{"name": "a", "starts": ["00:00-04:00"], "length_minutes": 240}],
}


def spec_with(**changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(BASE)), **changes}


def test_a_requirement_above_the_maximum_headcount_is_refused_naming_the_interval() -> None:
    spec = ScheduleSpec(**spec_with(max_headcount=3, start="06:00"))
    with pytest.raises(InfeasibleScheduleError) as caught:
        solve_schedule([1, 2, 5, 1], spec)
    message = str(caught.value)
    assert "requirements[2] (08:00)" in message
    assert "got 5" in message
    assert "max_headcount" in message


def test_a_break_window_outside_the_shift_is_refused() -> None:
    template = spec_with()["templates"][0] | {
        "breaks": [{"minutes": 60, "earliest": 120, "latest": 240}]
    }
    with pytest.raises(InvalidInputError, match="ends after the 240-minute shift"):
        ScheduleSpec(**spec_with(templates=[template]))


def test_overlapping_break_windows_are_refused() -> None:
    template = spec_with()["templates"][0] | {
        "breaks": [
            {"minutes": 60, "earliest": 60, "latest": 120},
            {"minutes": 60, "earliest": 120, "latest": 120},
        ]
    }
    with pytest.raises(InvalidInputError, match="may overlap"):
        ScheduleSpec(**spec_with(templates=[template]))


def test_an_interval_no_shift_can_cover_is_refused_before_solving() -> None:
    spec = ScheduleSpec(
        **spec_with(templates=[{"name": "a", "starts": ["00:00"], "length_minutes": 120}])
    )
    with pytest.raises(InfeasibleScheduleError, match=r"requirements\[3\] \(03:00\).*no template"):
        solve_schedule([1, 1, 0, 1], spec)


def test_rules_no_roster_meets_are_reported_by_the_solver() -> None:
    spec = ScheduleSpec(
        **spec_with(
            templates=[{"name": "a", "starts": ["00:00"], "length_minutes": 240, "max_count": 1}]
        )
    )
    with pytest.raises(InfeasibleScheduleError, match="max_count"):
        solve_schedule([2, 2, 2, 2], spec)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"interval_minutes": 7}, "interval_minutes"),
        ({"start": "25:00"}, "start"),
        ({"start": "00:10"}, "grid"),
        ({"templates": [{"name": "a", "starts": ["00:30"], "length_minutes": 60}]}, "grid"),
        (
            {"templates": [{"name": "a", "starts": ["04:00-01:00"], "length_minutes": 60}]},
            "ends before",
        ),
        ({"max_agents": 3}, "days_off"),
        ({"shortage_cost_per_hour": 3.0}, "budget"),
        ({"templates": []}, "templates"),
        ({"templatez": []}, "templatez"),
    ],
)
def test_malformed_specs_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        ScheduleSpec(**spec_with(**changes))


def test_a_template_whose_shifts_never_fit_is_refused() -> None:
    spec = ScheduleSpec(
        **spec_with(templates=[{"name": "late", "starts": ["03:00"], "length_minutes": 240}])
    )
    with pytest.raises(InfeasibleScheduleError, match=r"templates\.0\.starts"):
        solve_schedule([0, 0, 0, 0], spec)


@pytest.mark.parametrize("bad", [[1, 2.5], [1, -1], ["2"], [True], [], "12", [[1, 2]], [math.nan]])
def test_requirements_must_be_whole_headcounts(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="requirements"):
        requirements_from(bad)


def test_requirements_come_from_an_erlang_table_after_shrinkage() -> None:
    table = staff_intervals(
        [100, 200], interval=1800, aht=180, service_level=0.8, awt=20, shrinkage=0.3
    )
    assert requirements_from(table) == tuple(int(n) for n in table.scheduled)
    assert requirements_from(np.array([3, 4])) == (3, 4)
    assert requirements_from([2.0, 3.0]) == (2, 3)


def test_requirements_come_from_a_simulation_staffing_all_groups_together() -> None:
    result = IntervalStaffingResult(
        scenario="day",
        groups=("sales", "support"),
        interval_seconds=1800.0,
        headcount={"sales": [2, 3, 1], "support": [1, 1, 4]},
        erlang=[3, 4, 5],
        offered=[10.0, 12.0, 14.0],
        checks=[(), (), ()],
        day_checks=[(), (), ()],
        staffings_simulated=3,
        runs=9,
        replications=3,
        seed=0,
        confidence=0.95,
        prices=[1.0, 1.0],
    )
    assert requirements_from(result) == (3, 4, 5)


def test_without_scipy_the_error_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['scipy.optimize'] = None\n"
        "from valueroute.schedule import ScheduleSpec, solve_schedule\n"
        "spec = ScheduleSpec(interval_minutes=60, templates=[{'name': 'a', 'starts': "
        "['00:00'], 'length_minutes': 60}])\n"
        "try:\n    solve_schedule([1], spec)\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "InvalidInputError" in done.stdout
    assert 'pip install "valueroute[planning]"' in done.stdout


def test_a_spec_reads_alike_from_toml_json_and_yaml(tmp_path: Any) -> None:
    toml = """
interval_minutes = 60
requirements = [1, 2, 2, 1]

[[templates]]
name = "a"
starts = ["00:00-02:00"]
length_minutes = 120
breaks = [{ minutes = 60, earliest = 0, latest = 60, paid = true }]
"""
    data = {
        "interval_minutes": 60,
        "requirements": [1, 2, 2, 1],
        "templates": [
            {
                "name": "a",
                "starts": ["00:00-02:00"],
                "length_minutes": 120,
                "breaks": [{"minutes": 60, "earliest": 0, "latest": 60, "paid": True}],
            }
        ],
    }
    yaml = "interval_minutes: 60\nrequirements: [1, 2, 2, 1]\ntemplates:\n" + (
        "  - name: a\n    starts: ['00:00-02:00']\n    length_minutes: 120\n"
        "    breaks: [{minutes: 60, earliest: 0, latest: 60, paid: true}]\n"
    )
    (tmp_path / "s.toml").write_text(toml)
    (tmp_path / "s.json").write_text(json.dumps(data))
    (tmp_path / "s.yaml").write_text(yaml)
    specs = [load_schedule_spec(tmp_path / f"s.{ext}") for ext in ("toml", "json", "yaml")]
    assert specs[0] == specs[1] == specs[2] == ScheduleSpec(**data)
    schedule = solve_schedule(None, specs[0])
    assert schedule.requirement == (1, 2, 2, 1)
    assert schedule.covered


def test_unreadable_spec_files_are_refused_naming_the_problem(tmp_path: Any) -> None:
    with pytest.raises(InvalidInputError, match="not valid toml"):
        parse_schedule_spec("interval_minutes = [")
    with pytest.raises(InvalidInputError, match="a readable file"):
        load_schedule_spec(tmp_path / "missing.toml")
    with pytest.raises(InvalidInputError, match="ending in one of"):
        load_schedule_spec(tmp_path / "spec.txt")
    with pytest.raises(InvalidInputError, match="requirements, here or in the spec"):
        solve_schedule(None, ScheduleSpec(**BASE))


def test_outputs_agree_with_each_other() -> None:
    template = {"name": "a", "starts": ["06:00-10:00"], "length_minutes": 240}
    spec = ScheduleSpec(**spec_with(start="06:00", templates=[template]))
    schedule = solve_schedule([1, 2, 2, 1, 0, 0, 1, 1], spec)
    frame = schedule.to_pandas()
    assert list(frame.index[:2]) == ["06:00", "07:00"]
    assert list(frame["headcount"]) == list(schedule.headcount)
    shifts = schedule.to_pandas("shifts")
    assert shifts["count"].sum() == schedule.agents
    assert shifts["cost"].sum() == pytest.approx(schedule.cost)
    data = json.loads(schedule.to_json())
    assert data["totals"]["cost"] == pytest.approx(schedule.cost)
    assert schedule.to_csv("shifts").splitlines()[0].startswith("template,day,start")
    with pytest.raises(InvalidInputError, match="table"):
        schedule.to_pandas("agents")  # type: ignore[arg-type]


def test_identical_templates_keep_their_own_names_for_their_own_starts() -> None:
    early = {"name": "early", "starts": ["00:00"], "length_minutes": 120}
    late = {"name": "late", "starts": ["02:00"], "length_minutes": 120}
    spec = ScheduleSpec(interval_minutes=60, templates=[early, late])
    schedule = solve_schedule([1, 1, 1, 1], spec)
    assert [(s.template, s.start_minutes) for s in schedule.shifts] == [
        ("early", 0),
        ("late", 120),
    ]
