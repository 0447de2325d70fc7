"""Business calendars against a brute-force oracle that integrates working time minute by minute.

The oracle never converts local wall time to UTC (which is what the
calendar does): it converts every UTC minute of a window to local wall time
with zoneinfo and takes each boundary as the first minute whose local wall
time reaches it. So a boundary in the skipped hour lands on the jump, one in
the repeated hour on its first occurrence, as the calendar documents; and an
error in the calendar's own conversion shows up as a disagreement.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from valueroute.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarError,
    calendar_from,
    load_calendar,
    parse_calendar,
)
from valueroute.errors import InvalidInputError

# Zones with and without daylight saving, both hemispheres, a half-hour offset.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Jerusalem",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
]
# Window starts chosen to include daylight-saving changes of those zones.
STARTS = [
    dt.date(2026, 3, 5),  # US spring forward 8 Mar
    dt.date(2026, 3, 24),  # Europe 29 Mar, Jerusalem 27 Mar
    dt.date(2026, 10, 21),  # Europe back 25 Oct
    dt.date(2026, 10, 29),  # US back 1 Nov
    dt.date(2026, 4, 1),  # Sydney back 5 Apr
    dt.date(2026, 9, 30),  # Sydney forward 4 Oct
    dt.date(2026, 12, 20),  # holidays season, no change
]
WINDOW_DAYS = 12
WEEKDAY_HOURS = {d: [("08:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")}


def _hhmm(quarter: int) -> str:
    return f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


@st.composite
def day_ranges(draw: st.DrawFn) -> list[tuple[str, str]]:
    """0-2 ranges on a quarter-hour grid; the last may run past midnight."""
    count = draw(st.integers(0, 2))
    points = sorted(draw(st.sets(st.integers(0, 95), min_size=2 * count, max_size=2 * count)))
    ranges = [(_hhmm(points[2 * i]), _hhmm(points[2 * i + 1])) for i in range(count)]
    if ranges and draw(st.booleans()):
        start = ranges[-1][0]
        end = draw(st.integers(0, 95))
        if _hhmm(end) != start and end < points[-2]:
            ranges[-1] = (start, _hhmm(end))  # overnight
    if ranges and ranges[-1][1] == "00:00" and draw(st.booleans()):
        ranges[-1] = (ranges[-1][0], "24:00")
    return ranges


@dataclass
class Case:
    calendar: BusinessCalendar
    spec: dict[str, object]
    start: dt.date


@st.composite
def calendars(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from(STARTS))
    hours = {day: draw(day_ranges()) for day in WEEKDAYS if draw(st.booleans())}
    window = [start + dt.timedelta(days=i) for i in range(-1, WINDOW_DAYS)]
    holidays = draw(st.lists(st.sampled_from(window), max_size=3, unique=True))
    exceptions = {
        day.isoformat(): draw(day_ranges())
        for day in draw(st.lists(st.sampled_from(window), max_size=3, unique=True))
    }
    spec: dict[str, object] = {
        "timezone": zone,
        "hours": hours,
        "holidays": [d.isoformat() for d in holidays],
        "exceptions": exceptions,
    }
    try:
        calendar = calendar_from(spec)
    except CalendarError:
        assume(False)  # overlapping ranges or no open time: refused, tested elsewhere
        raise
    return Case(calendar, spec, start)


class Oracle:
    """Working time minute by minute over a window, from local wall times only."""

    def __init__(self, case: Case) -> None:
        spec = case.spec
        zone = ZoneInfo(str(spec["timezone"]))
        first = dt.datetime.combine(case.start, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=2)
        self.t0 = int(first.timestamp())
        self.minutes = (WINDOW_DAYS + 4) * 1440
        self.instants = self.t0 + 60 * np.arange(self.minutes, dtype=np.int64)
        # Local wall time of each UTC minute, as naive seconds since 1970-01-01 local.
        naive = np.array(
            [
                (
                    dt.datetime.fromtimestamp(int(t), zone).replace(tzinfo=None)
                    - dt.datetime(1970, 1, 1)
                )
                // dt.timedelta(seconds=1)
                for t in self.instants
            ],
            dtype=np.int64,
        )
        hours: dict[str, list[tuple[str, str]]] = spec["hours"]  # type: ignore[assignment]
        holidays = set(spec["holidays"])  # type: ignore[call-overload]
        exceptions: dict[str, list[tuple[str, str]]] = spec["exceptions"]  # type: ignore[assignment]
        self.open = np.zeros(self.minutes, dtype=bool)
        day = case.start - dt.timedelta(days=2)
        # Every local date the window's instants can fall on (zones run to UTC+14).
        while day <= case.start + dt.timedelta(days=WINDOW_DAYS + 3):
            key = day.isoformat()
            if key in exceptions:
                ranges = exceptions[key]
            elif key in holidays:
                ranges = []
            else:
                ranges = hours.get(WEEKDAYS[day.weekday()], [])
            midnight = (
                dt.datetime.combine(day, dt.time()) - dt.datetime(1970, 1, 1)
            ) // dt.timedelta(seconds=1)
            for begin, end in ranges:
                b = midnight + _secs(begin)
                e = midnight + _secs(end)
                if e <= b:
                    e += 86_400
                self.open[self._first_reaching(naive, b) : self._first_reaching(naive, e)] = True
            day += dt.timedelta(days=1)
        self.work = np.concatenate([[0], np.cumsum(self.open) * 60])

    @staticmethod
    def _first_reaching(naive: np.ndarray, wall: int) -> int:
        reached = np.nonzero(naive >= wall)[0]
        return int(reached[0]) if reached.size else len(naive)

    def index(self, t: int) -> int:
        return (t - self.t0) // 60


def _secs(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


# Query instants: minutes in the middle of the window, away from its edges.
def _query_minutes(draw: st.DrawFn, oracle: Oracle) -> int:
    return int(oracle.instants[draw(st.integers(2 * 1440, (WINDOW_DAYS + 1) * 1440))])


@settings(max_examples=60, deadline=None)
@given(case=calendars(), data=st.data())
def test_calendar_agrees_with_minute_by_minute_integration(case: Case, data: st.DataObject) -> None:
    oracle = Oracle(case)
    calendar = case.calendar
    for _ in range(12):
        t = _query_minutes(data.draw, oracle)
        i = oracle.index(t)
        assert calendar.is_open(t) == bool(oracle.open[i])
        offset = data.draw(st.integers(0, 59))
        assert calendar.is_open(t + offset) == bool(oracle.open[i])
        u = _query_minutes(data.draw, oracle)
        j = oracle.index(u)
        assert calendar.elapsed(t, u) == oracle.work[j] - oracle.work[i]
        assert calendar.elapsed(t + offset, u) == (
            oracle.work[j] - oracle.work[i] - offset * int(oracle.open[i])
        )

        # next_open / next_close, when the window holds the answer.
        later_open = np.nonzero(oracle.open[i:])[0]
        if later_open.size:
            opening = i + int(later_open[0])
            expected_open = t if opening == i else int(oracle.instants[opening])
            assert calendar.next_open(t) == expected_open
            later_closed = np.nonzero(~oracle.open[opening:])[0]
            if later_closed.size:
                assert calendar.next_close(t) == int(
                    oracle.instants[opening + int(later_closed[0])]
                )

        # add: the first minute at which the working time is reached.
        seconds = 60 * data.draw(st.integers(0, 3 * 1440))
        reached = np.nonzero(oracle.work[i:] - oracle.work[i] >= seconds)[0]
        if reached.size:
            expected = int(oracle.instants[0]) + 60 * (i + int(reached[0]))
            assert calendar.add(t, seconds) == expected

        # piece: W is linear with that slope up to the breakpoint.
        base, slope, until = calendar.piece(t)
        assert base + slope * t == calendar.working_time(t)
        assert slope == (1.0 if oracle.open[i] else 0.0)
        assert until > t
        k = oracle.index(int(until)) if until < oracle.instants[-1] else None
        if k is not None:
            assert (oracle.open[i:k] == oracle.open[i]).all()
            assert oracle.open[k] != oracle.open[i]


@settings(max_examples=60, deadline=None)
@given(
    case=calendars(),
    t=st.integers(0, 5 * 86_400),
    s=st.integers(0, 10 * 86_400),
    s2=st.integers(0, 10 * 86_400),
    u=st.integers(0, 5 * 86_400),
)
def test_add_and_elapsed_invert_and_are_monotone_and_additive(
    case: Case, t: int, s: int, s2: int, u: int
) -> None:
    calendar = case.calendar
    base = int(dt.datetime.combine(case.start, dt.time(), tzinfo=dt.UTC).timestamp())
    a, b = base + t, base + t + u
    assert calendar.elapsed(a, calendar.add(a, s)) == s
    assert calendar.add(a, min(s, s2)) <= calendar.add(a, max(s, s2))
    assert calendar.add(a, s) <= calendar.add(b, s)
    c = calendar.add(b, s2)
    assert calendar.elapsed(a, b) + calendar.elapsed(b, c) == calendar.elapsed(a, c)
    assert calendar.elapsed(b, a) == -calendar.elapsed(a, b)
    assert calendar.add(a, 0) == a


def _berlin(*args: int) -> float:
    return dt.datetime(*args, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


def _shown(calendar: BusinessCalendar, t: float) -> str:
    return dt.datetime.fromtimestamp(t, calendar.zone).strftime("%a %Y-%m-%d %H:%M")


def test_friday_afternoon_plus_eight_business_hours_is_monday_afternoon() -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAY_HOURS)
    due = berlin.add(_berlin(2026, 12, 4, 16, 30), 8 * 3600)
    assert _shown(berlin, due) == "Mon 2026-12-07 14:30"


def test_a_span_ending_at_closing_time_ends_then() -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAY_HOURS)
    assert _shown(berlin, berlin.add(_berlin(2026, 12, 4, 16, 30), 5400)) == "Fri 2026-12-04 18:00"


def test_holidays_and_exceptions_close_and_shorten_days() -> None:
    berlin = BusinessCalendar(
        timezone="Europe/Berlin",
        hours=WEEKDAY_HOURS,
        holidays=["2026-12-25"],
        exceptions={"2026-12-24": [("08:00", "12:00")]},
    )
    start = _berlin(2026, 12, 23, 17, 0)
    assert _shown(berlin, berlin.add(start, 6 * 3600)) == "Mon 2026-12-28 09:00"
    assert not berlin.is_open(_berlin(2026, 12, 24, 13, 0))
    assert not berlin.is_open(_berlin(2026, 12, 25, 10, 0))


def test_a_night_shift_across_the_daylight_saving_changes_counts_real_seconds() -> None:
    nights = BusinessCalendar(timezone="Europe/Berlin", hours={"sat": [("22:00", "06:00")]})
    spring = _berlin(2026, 3, 28, 22, 0)
    autumn = _berlin(2026, 10, 24, 22, 0)
    assert nights.next_close(spring) - spring == 7 * 3600  # clocks go forward
    assert nights.next_close(autumn) - autumn == 9 * 3600  # clocks go back


def test_a_boundary_in_the_skipped_hour_is_the_jump_and_in_the_repeated_hour_its_first_time() -> (
    None
):
    new_york = ZoneInfo("America/New_York")
    calendar = BusinessCalendar(timezone="America/New_York", hours={"sun": [("02:30", "12:00")]})
    # 8 Mar 2026: 02:00 EST jumps to 03:00 EDT; the opening is the jump.
    jump = dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC).timestamp()
    assert calendar.next_open(dt.datetime(2026, 3, 8, 0, 0, tzinfo=new_york).timestamp()) == jump
    # 1 Nov 2026: 01:00-02:00 happens twice; a range ending at 01:30 ends the first time.
    repeated = BusinessCalendar(timezone="America/New_York", hours={"sun": [("00:00", "01:30")]})
    first_130 = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC).timestamp()
    assert (
        repeated.next_close(dt.datetime(2026, 11, 1, 0, 0, tzinfo=new_york).timestamp())
        == first_130
    )


def test_24_7_is_always_open() -> None:
    always = BusinessCalendar(timezone="Asia/Kolkata", hours="24/7")
    t = 1_790_000_000.0
    assert always.is_open(t)
    assert always.add(t, 12_345.5) == t + 12_345.5
    assert always.elapsed(t, t + 10 * 86_400) == 10 * 86_400


def test_far_instants_extend_the_table_both_ways_keeping_differences() -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAY_HOURS)
    a = _berlin(2026, 12, 7, 8, 0)
    w_a = berlin.working_time(a)
    later = _berlin(2031, 6, 2, 9, 0)  # a Monday, years later
    earlier = _berlin(2019, 1, 7, 9, 0)  # a Monday, years before
    assert berlin.is_open(later)
    assert berlin.is_open(earlier)
    assert berlin.working_time(a) == w_a  # the origin does not move
    assert berlin.elapsed(a, a + 7 * 86_400) == 50 * 3600


BAD = [
    ({"timezone": "Mars/Olympus", "hours": WEEKDAY_HOURS}, "timezone"),
    ({"timezone": 42, "hours": WEEKDAY_HOURS}, "timezone"),
    ({"timezone": "UTC", "hours": {"monday": [("08:00", "18:00")]}}, "hours"),
    ({"timezone": "UTC", "hours": {"mon": [("8am", "18:00")]}}, "hours.mon[0]"),
    ({"timezone": "UTC", "hours": {"mon": [("25:00", "18:00")]}}, "hours.mon[0]"),
    # "HH:MM" exactly: no final newline, no digits of other scripts.
    ({"timezone": "UTC", "hours": {"mon": [("08:00\n", "18:00")]}}, "hours.mon[0]"),
    ({"timezone": "UTC", "hours": {"mon": [("08:00", "24:00\n")]}}, "hours.mon[0]"),
    ({"timezone": "UTC", "hours": {"mon": [("\u0660\u0668:00", "18:00")]}}, "hours.mon[0]"),
    ({"timezone": "UTC", "hours": {"mon": [("08:00", "08:00")]}}, "hours.mon[0]"),
    ({"timezone": "UTC", "hours": {"mon": [("08:00", "12:00"), ("11:00", "13:00")]}}, "hours.mon"),
    (
        {"timezone": "UTC", "hours": {"mon": [("22:00", "06:00")], "tue": [("05:00", "09:00")]}},
        "tue",
    ),
    (
        {"timezone": "UTC", "hours": {"sun": [("22:00", "06:00")], "mon": [("05:00", "09:00")]}},
        "mon",
    ),
    ({"timezone": "UTC", "hours": {}}, "at least one opening range"),
    ({"timezone": "UTC", "hours": "9 to 5"}, "hours"),
    ({"timezone": "UTC", "hours": {"mon": "08:00-18:00"}}, "hours.mon"),
    ({"timezone": "UTC", "hours": WEEKDAY_HOURS, "holidays": ["2026-13-01"]}, "holidays[0]"),
    ({"timezone": "UTC", "hours": WEEKDAY_HOURS, "holidays": "2026-12-25"}, "holidays"),
    (
        {"timezone": "UTC", "hours": WEEKDAY_HOURS, "exceptions": {"Christmas": []}},
        "exceptions.Christmas",
    ),
    (
        {
            "timezone": "UTC",
            "hours": {"mon": [("20:00", "04:00")]},
            "exceptions": {"2026-12-08": [("03:00", "05:00")]},  # a Tuesday
        },
        "exceptions.2026-12-08",
    ),
    (
        {"timezone": "UTC", "hours": WEEKDAY_HOURS, "holidays": {"country": "DE", "x": 1}},
        "holidays",
    ),
    ({"hours": WEEKDAY_HOURS}, "timezone"),
    ({"timezone": "UTC", "hours": WEEKDAY_HOURS, "opening": {}}, "calendar"),
]


@pytest.mark.parametrize(("spec", "named"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_calendars_are_refused_naming_the_field(spec: dict[str, object], named: str) -> None:
    with pytest.raises(CalendarError, match=named.replace("[", r"\[").replace("]", r"\]")) as info:
        calendar_from({"name": "office", **spec})
    assert isinstance(info.value, InvalidInputError)
    assert "office" in str(info.value)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, "8h", None, True])
def test_bad_seconds_and_instants_are_refused(bad: object) -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAY_HOURS)
    with pytest.raises(CalendarError, match="seconds"):
        berlin.add(1_790_000_000.0, bad)  # type: ignore[arg-type]
    if isinstance(bad, float) and bad != -1.0:
        with pytest.raises(CalendarError, match="t: got"):
            berlin.is_open(bad)


def test_a_calendar_that_never_opens_again_says_so() -> None:
    short = BusinessCalendar(
        timezone="UTC",
        hours={"mon": [("08:00", "09:00")]},
        exceptions={},
    )
    with pytest.raises(CalendarError, match="open time"):
        short.add(1_790_000_000.0, 10**9)


CALENDAR_TOML = """
name = "berlin-claims"
timezone = "Europe/Berlin"
holidays = ["2026-12-25", "2026-12-26"]

[hours]
mon = [["08:00", "18:00"]]
tue = [["08:00", "18:00"]]
wed = [["08:00", "18:00"]]
thu = [["08:00", "18:00"]]
fri = [["08:00", "18:00"]]
sat = [["09:00", "13:00"]]

[exceptions]
"2026-12-24" = [["08:00", "12:00"]]
"""


def test_load_from_toml_json_and_yaml_alike(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    from_toml = parse_calendar(CALENDAR_TOML)
    import tomllib

    data = tomllib.loads(CALENDAR_TOML)
    (folder / "c.json").write_text(json.dumps(data))
    yaml = pytest.importorskip("yaml")
    (folder / "c.yaml").write_text(yaml.safe_dump(data))
    start = _berlin(2026, 12, 23, 17, 0)
    for calendar in (from_toml, load_calendar(folder / "c.json"), load_calendar(folder / "c.yaml")):
        assert calendar.name == "berlin-claims"
        # Wed 1 h, Thu 24th 4 h, Fri and Sat holidays, Sun closed, Mon 1 h.
        assert _shown(calendar, calendar.add(start, 6 * 3600)) == "Mon 2026-12-28 09:00"


def test_bad_files_are_calendar_errors(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    with pytest.raises(CalendarError, match="path"):
        load_calendar(folder / "missing.toml")
    with pytest.raises(CalendarError, match="path"):
        load_calendar(folder / "calendar.ini")
    (folder / "broken.toml").write_text("timezone = ")
    with pytest.raises(CalendarError, match="calendar file"):
        load_calendar(folder / "broken.toml")


def test_country_holidays_from_the_holidays_package() -> None:
    pytest.importorskip("holidays")
    bavaria = BusinessCalendar(
        timezone="Europe/Berlin",
        hours=WEEKDAY_HOURS,
        holidays={"country": "DE", "subdiv": "BY", "dates": ["2026-01-07"]},
    )
    assert not bavaria.is_open(_berlin(2026, 1, 6, 10, 0))  # Epiphany, in Bavaria
    assert not bavaria.is_open(_berlin(2026, 1, 7, 10, 0))  # a dated one as well
    assert bavaria.is_open(_berlin(2026, 1, 8, 10, 0))
    berlin = BusinessCalendar(
        timezone="Europe/Berlin", hours=WEEKDAY_HOURS, holidays={"country": "DE", "subdiv": "BE"}
    )
    assert berlin.is_open(_berlin(2026, 1, 6, 10, 0))  # not a holiday in Berlin
    assert not berlin.is_open(_berlin(2027, 12, 24 + 1, 10, 0))  # Christmas, a later year


def test_unknown_country_is_refused() -> None:
    pytest.importorskip("holidays")
    with pytest.raises(CalendarError, match=r"holidays\.country"):
        BusinessCalendar(timezone="UTC", hours=WEEKDAY_HOURS, holidays={"country": "XX"})


@pytest.mark.parametrize("bad", [True, "1790000000", None, 10**400, 1e300, float("nan"), [1.0]])
@pytest.mark.parametrize("query", ["is_open", "next_open", "next_close", "working_time", "piece"])
def test_an_instant_that_is_not_one_is_refused_naming_it(query: str, bad: object) -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAY_HOURS)
    with pytest.raises(CalendarError, match="t: got") as raised:
        getattr(berlin, query)(bad)
    assert len(str(raised.value)) < 300


def test_a_long_search_gives_up_in_bounded_time() -> None:
    rare = BusinessCalendar(timezone="UTC", hours={"mon": [("08:00", "08:01")]})
    with pytest.raises(CalendarError, match="open time"):
        rare.add(1_790_000_000.0, 9e8)  # 9e8 working seconds at one minute a week
    with pytest.raises(CalendarError, match="seconds"):
        rare.add(1_790_000_000.0, 2e9)


@pytest.mark.parametrize("text", [5, None, ["x"]])
def test_parse_calendar_refuses_what_is_not_text(text: object) -> None:
    with pytest.raises(CalendarError, match="text: got"):
        parse_calendar(text)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="format: got"):
        parse_calendar(CALENDAR_TOML, format="ini")  # type: ignore[arg-type]


def test_a_period_running_past_the_tabulated_days_ends_where_it_really_ends() -> None:
    always = BusinessCalendar(timezone="UTC", hours="24/7")
    t = 1_790_000_000.0
    assert always.next_close(t) == math.inf
    assert always.piece(t)[2] == math.inf
    closing = BusinessCalendar(timezone="UTC", hours="24/7", holidays=["2027-06-01"])
    assert closing.next_close(t) == dt.datetime(2027, 6, 1, tzinfo=dt.UTC).timestamp()
    # The answer does not depend on what an earlier query tabulated.
    fresh = BusinessCalendar(timezone="UTC", hours="24/7", holidays=["2027-06-01"])
    fresh.is_open(t + 300 * 86_400)
    assert fresh.next_close(t) == closing.next_close(t)
