"""Business calendars: working time as piecewise-linear time, exact and DST-safe.

A claim due "in 8 business hours", received on Friday at 16:30 in Berlin
with the office open 08:00-18:00 on weekdays, is due on Monday at 14:30.
:class:`BusinessCalendar` answers such questions in epoch seconds, the
engine's default clock:

- :meth:`~BusinessCalendar.add`: the instant at which ``seconds`` of working
  time after ``t`` have passed;
- :meth:`~BusinessCalendar.elapsed`: working seconds between two instants;
- :meth:`~BusinessCalendar.is_open`, :meth:`~BusinessCalendar.next_open`,
  :meth:`~BusinessCalendar.next_close`;
- :meth:`~BusinessCalendar.working_time` and :meth:`~BusinessCalendar.piece`:
  a working-time clock ``W(t)`` that runs at slope 1 while open and 0 while
  closed, with its breakpoints, which is how scores count age in working
  time and still fit the task list's exact linear pieces.

Calendar semantics (documented in docs/calendars.md):

- Weekly hours per weekday, several ranges a day; a range whose end is not
  after its start (``("22:00", "06:00")``) runs past midnight into the next
  day; ``"24:00"`` ends a range at midnight. A range belongs to the day it
  starts on: a holiday or a dated exception replaces the ranges *starting*
  that day (a night shift starting the evening before still runs into it).
- Local wall times are in the calendar's IANA zone (:mod:`zoneinfo`). A
  boundary is the first instant whose local wall time reaches it: a time in
  the hour skipped when clocks go forward means the moment clocks jump (a
  range 02:00-02:30 that night is empty), and a time in the repeated hour
  when clocks go back means its first occurrence.
- Open periods are half-open ``[open, close)``; ranges that touch merge into
  one period; ranges that overlap are refused.

Cost: instants and cumulative working time are tabulated per local date,
a year at a time, as they are first needed; a query is then one binary
search, O(log n) for n open periods in the table.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import itertools
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from valueroute.errors import InvalidInputError, bounded_repr

__all__ = [
    "MAX_INSTANT",
    "MAX_SPAN_SECONDS",
    "MIN_INSTANT",
    "WEEKDAYS",
    "BusinessCalendar",
    "CalendarError",
    "calendar_from",
    "load_calendar",
    "parse_calendar",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of ``hours``, Monday first (``datetime.date.weekday()`` order)."""

_DAY = 86_400
# Instants a calendar answers for (epoch seconds, about the years 40 to 9890):
# far wider than any routing need, and inside what datetime can represent
# with the table's year of margin either side.
MIN_INSTANT = -61_000_000_000.0
MAX_INSTANT = 250_000_000_000.0
MAX_SPAN_SECONDS = 1e9
# The local dates the table may reach, beyond the instants above by a margin.
_TABLE_FIRST = _dt.date(30, 1, 1)
_TABLE_LAST = _dt.date(9900, 1, 1)
# fullmatch, ASCII digits: "08:00\n" or digits of another script are not a time.
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?|24:00(?::00)?")
# How far add() and next_open() look for open time before deciding there is none
# (add() looks further for long spans, up to the longest search).
_SEARCH_YEARS = 10
_LONGEST_SEARCH_YEARS = 100
_CHUNK_DAYS = 366
_SPAN_EXPECTED = f"a number of seconds from 0 to {MAX_SPAN_SECONDS:g}"


class CalendarError(InvalidInputError):
    """A calendar that cannot be built, or a question it cannot answer."""


Range = tuple[str, str]


def _shown(value: Any) -> str:
    return bounded_repr(value, 60)


def _fail(calendar: str, field: str, value: Any, expected: str) -> CalendarError:
    where = f"calendar {calendar!r}: {field}" if calendar else field
    return CalendarError(
        f"{where}: got {_shown(value)} (expected {expected})", [(field, _shown(value), expected)]
    )


def _seconds_of_day(text: Any, calendar: str, field: str) -> int:
    if not isinstance(text, str) or _TIME.fullmatch(text) is None:
        raise _fail(calendar, field, text, "a time of day 'HH:MM' from 00:00 to 24:00")
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def _parse_ranges(ranges: Any, calendar: str, field: str) -> tuple[tuple[int, int], ...]:
    """Ranges as (start, end) seconds after the day's midnight; end may pass 24 h."""
    if isinstance(ranges, str) or not isinstance(ranges, Sequence):
        raise _fail(
            calendar, field, ranges, "a list of (start, end) ranges such as ('08:00', '18:00')"
        )
    parsed: list[tuple[int, int]] = []
    for index, item in enumerate(ranges):
        where = f"{field}[{index}]"
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            raise _fail(calendar, where, item, "a (start, end) pair such as ('08:00', '18:00')")
        start = _seconds_of_day(item[0], calendar, where)
        end = _seconds_of_day(item[1], calendar, where)
        if start == _DAY:
            raise _fail(calendar, where, item, "a start before 24:00")
        if end <= start:
            if end == start:
                raise _fail(calendar, where, item, "a range of some length (start != end)")
            end += _DAY  # runs past midnight
        parsed.append((start, end))
    parsed.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(parsed):
        if s2 < e1:
            raise _fail(calendar, field, ranges, "ranges that do not overlap")
    return tuple(parsed)


def _real(value: Any, calendar: str, field: str, expected: str) -> float:
    """``value`` as a float, refusing what is not a real number or no float holds."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(calendar, field, value, expected)
    try:
        return float(value)
    except (OverflowError, ValueError):
        raise _fail(calendar, field, value, expected) from None


def _parse_date(value: Any, calendar: str, field: str) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(calendar, field, value, "an ISO date such as '2026-12-25'")


class BusinessCalendar:
    """Opening hours in a time zone, with holidays and dated exceptions.

    ``hours`` maps weekday keys (:data:`WEEKDAYS`) to lists of ``(start,
    end)`` local times, ``"HH:MM"``; a missing weekday is closed; the string
    ``"24/7"`` opens every day all day. ``holidays`` is a list of ISO dates
    (closed all day), or ``{"country": "DE", "subdiv": "BY"}`` for public
    holidays from the ``holidays`` package (the ``calendars`` extra), or a
    mapping with both ``"dates"`` and ``"country"``. ``exceptions`` maps ISO
    dates to the ranges that replace that day's weekly ones (an empty list
    closes the day). Invalid input raises :class:`CalendarError` naming the
    calendar, the field and the value.

    >>> berlin = BusinessCalendar(
    ...     timezone="Europe/Berlin",
    ...     hours={d: [("08:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
    ... )
    >>> import datetime as dt
    >>> friday = dt.datetime(2026, 12, 4, 16, 30, tzinfo=berlin.zone).timestamp()
    >>> due = berlin.add(friday, 8 * 3600)
    >>> dt.datetime.fromtimestamp(due, berlin.zone).strftime("%a %H:%M")
    'Mon 14:30'
    """

    __slots__ = (
        "_closes",
        "_cum",
        "_exceptions",
        "_first_day",
        "_hi_t",
        "_holiday_country",
        "_holiday_dates",
        "_last_day",
        "_lo_t",
        "_opens",
        "_stretch",
        "_weekly",
        "name",
        "zone",
    )

    def __init__(
        self,
        *,
        timezone: str,
        hours: Mapping[str, Sequence[Range]] | Literal["24/7"],
        holidays: Iterable[str | _dt.date] | Mapping[str, Any] = (),
        exceptions: Mapping[str | _dt.date, Sequence[Range]] | None = None,
        name: str = "",
    ) -> None:
        if not isinstance(name, str):
            raise _fail("", "name", name, "a string")
        self.name = name
        zone_expected = "an IANA time zone name such as 'Europe/Berlin'"
        if not isinstance(timezone, str) or not 0 < len(timezone) <= 100:
            raise _fail(name, "timezone", timezone, zone_expected)
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise _fail(name, "timezone", timezone, zone_expected) from None

        weekly: list[tuple[tuple[int, int], ...]] = [()] * 7
        if hours == "24/7":
            weekly = [((0, _DAY),)] * 7
        elif isinstance(hours, Mapping):
            for key, ranges in hours.items():
                if key not in WEEKDAYS:
                    raise _fail(name, "hours", key, f"weekday keys among {list(WEEKDAYS)}")
                weekly[WEEKDAYS.index(key)] = _parse_ranges(ranges, name, f"hours.{key}")
        else:
            raise _fail(name, "hours", hours, "a mapping of weekday to ranges, or '24/7'")
        for weekday in range(7):
            spill = [(s - _DAY, e - _DAY) for s, e in weekly[weekday - 1] if e > _DAY]
            if _overlap(spill, weekly[weekday]):
                raise _fail(
                    name,
                    f"hours.{WEEKDAYS[weekday]}",
                    [_hhmm(r) for r in weekly[weekday]],
                    f"ranges that do not overlap {WEEKDAYS[weekday - 1]}'s range past midnight",
                )
        if not any(weekly):
            raise _fail(name, "hours", hours, "at least one opening range in the week")
        self._weekly = tuple(weekly)
        # Wall seconds per working second, twice over for holidays: how far
        # add() may have to look for a span of working time.
        open_per_week = sum(end - start for day in weekly for start, end in day)
        self._stretch = 2.0 * 7 * _DAY / open_per_week

        self._holiday_dates: set[_dt.date] = set()
        self._holiday_country: Any = None
        if isinstance(holidays, Mapping):
            self._holiday_country = _country_holidays(holidays, name)
            dates = holidays.get("dates", ())
        else:
            dates = holidays
        if isinstance(dates, str) or not isinstance(dates, Iterable):
            raise _fail(name, "holidays", dates, "a list of ISO dates")
        for index, value in enumerate(dates):
            self._holiday_dates.add(_parse_date(value, name, f"holidays[{index}]"))

        self._exceptions: dict[_dt.date, tuple[tuple[int, int], ...]] = {}
        if exceptions is not None:
            if not isinstance(exceptions, Mapping):
                raise _fail(name, "exceptions", exceptions, "a mapping of ISO date to ranges")
            for date_key, day_ranges in exceptions.items():
                day = _parse_date(date_key, name, f"exceptions.{date_key}")
                self._exceptions[day] = _parse_ranges(day_ranges, name, f"exceptions.{date_key}")
        for day in self._exceptions:
            for neighbour in (day - _dt.timedelta(days=1), day):
                after = neighbour + _dt.timedelta(days=1)
                spill = [(s - _DAY, e - _DAY) for s, e in self._ranges_of(neighbour) if e > _DAY]
                if _overlap(spill, self._ranges_of(after)):
                    raise _fail(
                        name,
                        f"exceptions.{day.isoformat()}",
                        [_hhmm(r) for r in self._exceptions[day]],
                        f"ranges that do not overlap the range running from {neighbour} "
                        f"past midnight into {after}",
                    )

        self._opens: list[float] = []
        self._closes: list[float] = []
        # _cum[i]: working seconds from the table's fixed origin to _opens[i].
        self._cum: list[float] = []
        self._first_day: _dt.date | None = None
        self._last_day: _dt.date | None = None
        # Instants between which the table answers without extending.
        self._lo_t = math.inf
        self._hi_t = -math.inf

    # ------------------------------------------------------------ the table

    def _is_holiday(self, day: _dt.date) -> bool:
        if day in self._holiday_dates:
            return True
        # The holidays package fills in a year when it is first asked about.
        return self._holiday_country is not None and day in self._holiday_country

    def _ranges_of(self, day: _dt.date) -> tuple[tuple[int, int], ...]:
        """Ranges starting on a local date (seconds after its midnight)."""
        if day in self._exceptions:
            return self._exceptions[day]
        if self._is_holiday(day):
            return ()
        return self._weekly[day.weekday()]

    def _instant(self, day: _dt.date, seconds: int) -> float:
        """The first instant whose local wall time reaches ``day`` + ``seconds``."""
        whole_days, rest = divmod(seconds, _DAY)
        local = _dt.datetime.combine(
            day + _dt.timedelta(days=whole_days), _dt.time(), tzinfo=self.zone
        ) + _dt.timedelta(seconds=rest)
        early = local.replace(fold=0).timestamp()
        # fold=0 is the first occurrence of a repeated time; a skipped time
        # round-trips to another wall time, and then the boundary is the jump.
        back = _dt.datetime.fromtimestamp(early, self.zone).replace(tzinfo=None)
        if back == local.replace(tzinfo=None):
            return early
        late = local.replace(fold=1).timestamp()
        low, high = min(early, late), max(early, late)
        # The offset changes once between low and high: find the instant.
        wall = local.replace(tzinfo=None)
        while high - low > 1e-3:
            middle = (low + high) / 2
            if _dt.datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return float(round(high))

    def _periods(self, first: _dt.date, last: _dt.date) -> list[tuple[float, float]]:
        """Open periods starting on local dates first..last, merged where they touch."""
        periods: list[tuple[float, float]] = []
        day = first
        while day <= last:
            for start, end in self._ranges_of(day):
                opens = self._instant(day, start)
                closes = self._instant(day, end)
                if closes <= opens:
                    continue  # a range inside a skipped hour
                if periods and opens <= periods[-1][1]:
                    periods[-1] = (periods[-1][0], max(closes, periods[-1][1]))
                else:
                    periods.append((opens, closes))
            day += _dt.timedelta(days=1)
        return periods

    def _local_date(self, t: float) -> _dt.date:
        return _dt.datetime.fromtimestamp(t, self.zone).date()

    def _cover(self, t: float) -> None:
        """Extend the table so that it holds every period that could contain ``t``."""
        if self._lo_t <= t < self._hi_t:
            return
        if not math.isfinite(t):
            raise _fail(self.name, "t", t, "a finite instant in epoch seconds")
        day = self._local_date(t)
        if self._first_day is None or self._last_day is None:
            self._rebuild(day - _dt.timedelta(days=2), day + _dt.timedelta(days=_CHUNK_DAYS))
            return
        # A period containing t starts on t's local date or the day before.
        first, last = self._first_day, self._last_day
        if day - _dt.timedelta(days=1) < first:
            first = day - _dt.timedelta(days=_CHUNK_DAYS)
        if day + _dt.timedelta(days=2) > last:
            last = day + _dt.timedelta(days=_CHUNK_DAYS)
        self._rebuild(first, last)

    def _midnight(self, day: _dt.date) -> float:
        return self._instant(day, 0)

    def _rebuild(self, first: _dt.date, last: _dt.date) -> None:
        """Tabulate the local dates ``first``..``last``, reusing the dates already tabulated."""
        one_day = _dt.timedelta(days=1)
        if self._first_day is None or self._last_day is None:
            periods = self._periods(first, last)
        else:
            periods = list(zip(self._opens, self._closes, strict=True))
            if first < self._first_day:
                periods = _joined(self._periods(first, self._first_day - one_day), periods)
            if last > self._last_day:
                periods = _joined(periods, self._periods(self._last_day + one_day, last))
        opens = [p[0] for p in periods]
        closes = [p[1] for p in periods]
        cum = [0.0] * len(periods)
        total = 0.0
        for i, (start, end) in enumerate(periods):
            cum[i] = total
            total += end - start
        if self._first_day is not None:
            # Keep the origin: W at the old table's first midnight stays what it was.
            anchor = self._midnight(self._first_day + _dt.timedelta(days=1))
            shift = _w(self._opens, self._closes, self._cum, anchor) - _w(
                opens, closes, cum, anchor
            )
            cum = [c + shift for c in cum]
        self._opens, self._closes, self._cum = opens, closes, cum
        self._first_day, self._last_day = first, last
        self._lo_t = self._midnight(first + _dt.timedelta(days=1))
        self._hi_t = self._midnight(last - _dt.timedelta(days=1))

    def _extend_until_open_after(self, t: float) -> int:
        """Index of the first period closing after ``t``, extending the table as needed."""
        self._cover(t)
        limit = t + _SEARCH_YEARS * 366 * _DAY
        while True:
            index = bisect.bisect_right(self._closes, t)
            if index < len(self._closes):
                return index
            self._extend_beyond(t, limit)

    def _extend_beyond(self, t: float, limit: float | None = None) -> None:
        """Add a chunk of days at the table's end; refuse past the search horizon."""
        if limit is None:
            limit = t + _SEARCH_YEARS * 366 * _DAY
        if self._hi_t > min(limit, MAX_INSTANT) or self._last_day == _TABLE_LAST:
            raise _fail(
                self.name,
                "t",
                t,
                "an instant with enough open time after it (searched "
                f"{(self._hi_t - t) / (366 * _DAY):.0f} years ahead)",
            )
        assert self._first_day is not None
        assert self._last_day is not None
        # Doubling the table's span keeps a long search to O(log) extensions.
        grow = max(_CHUNK_DAYS, (self._last_day - self._first_day).days)
        last = min(self._last_day + _dt.timedelta(days=grow), _TABLE_LAST)
        self._rebuild(self._first_day, last)

    # ------------------------------------------------------------ queries

    def working_time(self, t: float) -> float:
        """``W(t)``: working seconds from the calendar's fixed origin to ``t``.

        Differences are what mean something: ``elapsed(a, b) == W(b) - W(a)``.
        O(log n).
        """
        t = self._instant_arg(t, "t")
        self._cover(t)
        return _w(self._opens, self._closes, self._cum, t)

    def elapsed(self, a: float, b: float) -> float:
        """Working seconds from ``a`` to ``b`` (negative when ``b`` is before ``a``). O(log n)."""
        a = self._instant_arg(a, "a")
        b = self._instant_arg(b, "b")
        self._cover(a)
        w_a = _w(self._opens, self._closes, self._cum, a)
        self._cover(b)
        return _w(self._opens, self._closes, self._cum, b) - w_a

    def _instant_arg(self, t: Any, field: str) -> float:
        """``t`` as a float instant, or :class:`CalendarError` naming ``field``."""
        expected = "a finite instant in epoch seconds (about the years 40 to 9890)"
        value = _real(t, self.name, field, expected)
        if not MIN_INSTANT <= value <= MAX_INSTANT:  # NaN fails too
            raise _fail(self.name, field, t, expected)
        return value

    def add(self, t: float, seconds: float) -> float:
        """The first instant at which ``seconds`` of working time after ``t`` have passed.

        ``add(t, 0) == t``; a span ending exactly at a closing returns the
        closing instant, not the next opening. ``seconds`` must be finite and
        >= 0. O(log n).
        """
        t = self._instant_arg(t, "t")
        seconds = _real(seconds, self.name, "seconds", _SPAN_EXPECTED)
        if not 0 <= seconds <= MAX_SPAN_SECONDS:
            raise _fail(self.name, "seconds", seconds, _SPAN_EXPECTED)
        self._cover(t)
        if seconds == 0:
            return t
        target = _w(self._opens, self._closes, self._cum, t) + seconds
        while True:
            cum = self._cum
            if cum and target <= cum[-1] + self._closes[-1] - self._opens[-1]:
                # The period where W reaches target: cum[i] < target <= cum[i] + its length.
                index = bisect.bisect_left(cum, target) - 1
                return max(self._opens[index] + (target - cum[index]), t)
            horizon = min(
                _SEARCH_YEARS * 366 * _DAY + seconds * self._stretch,
                _LONGEST_SEARCH_YEARS * 366 * _DAY,
            )
            self._extend_beyond(t, t + horizon)

    def is_open(self, t: float) -> bool:
        """Whether ``t`` is inside an open period (``[open, close)``). O(log n)."""
        t = self._instant_arg(t, "t")
        self._cover(t)
        index = bisect.bisect_right(self._opens, t) - 1
        return index >= 0 and t < self._closes[index]

    def next_open(self, t: float) -> float:
        """``t`` when open, else the next opening after ``t``. O(log n)."""
        t = self._instant_arg(t, "t")
        index = self._extend_until_open_after(t)
        return max(t, self._opens[index])

    def next_close(self, t: float) -> float:
        """The end of the open period containing ``t``, or of the next one. O(log n).

        ``inf`` for a period that does not end in the hundred years searched
        (a calendar open around the clock).
        """
        t = self._instant_arg(t, "t")
        return self._close_of(self._extend_until_open_after(t), t)

    def _close_of(self, index: int, t: float) -> float:
        """The true end of period ``index``: a period that reaches the table's last
        tabulated day may go on into days not tabulated yet."""
        while True:
            assert self._last_day is not None
            if index < len(self._closes) - 1 or self._closes[index] < self._midnight(
                self._last_day
            ):
                return self._closes[index]
            if self._hi_t > t + _LONGEST_SEARCH_YEARS * 366 * _DAY or (
                self._last_day == _TABLE_LAST
            ):
                return math.inf
            opens = self._opens[index]
            self._extend_beyond(t, math.inf)
            index = bisect.bisect_right(self._opens, opens) - 1

    def piece(self, t: float) -> tuple[float, float, float]:
        """``(base, slope, until)``: ``W(s) == base + slope * s`` for ``t <= s < until``.

        The slope is 1 while open and 0 while closed; ``until`` is the next
        opening or closing, the breakpoint where the piece ends. O(log n).
        """
        t = self._instant_arg(t, "t")
        index = self._extend_until_open_after(t)
        opens = self._opens[index]
        if opens <= t:
            return self._cum[index] - opens, 1.0, self._close_of(index, t)
        return self._cum[index], 0.0, opens

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"BusinessCalendar({label}timezone={self.zone.key!r})"


def _joined(
    earlier: list[tuple[float, float]], later: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Two runs of periods, the one period they share at the seam merged."""
    if earlier and later and later[0][0] <= earlier[-1][1]:
        seam = (earlier[-1][0], max(earlier[-1][1], later[0][1]))
        return [*earlier[:-1], seam, *later[1:]]
    return earlier + later


def _w(opens: list[float], closes: list[float], cum: list[float], t: float) -> float:
    index = bisect.bisect_right(opens, t) - 1
    if index < 0:
        return cum[0] if cum else 0.0
    return cum[index] + min(t, closes[index]) - opens[index]


def _overlap(first: Sequence[tuple[int, int]], second: Sequence[tuple[int, int]]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in first for s2, e2 in second)


def _hhmm(span: tuple[int, int]) -> tuple[str, str]:
    def text(seconds: int) -> str:
        seconds %= _DAY if seconds != _DAY else _DAY + 1
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    return text(span[0]), text(span[1])


def _country_holidays(spec: Mapping[str, Any], calendar: str) -> Any:
    unknown = sorted(set(spec) - {"country", "subdiv", "dates"})
    if unknown:
        raise _fail(calendar, "holidays", unknown, "keys among ['country', 'dates', 'subdiv']")
    country = spec.get("country")
    if country is None:
        return None
    try:
        import holidays as holidays_package  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise _fail(
            calendar,
            "holidays.country",
            country,
            "the 'holidays' package for country holidays: pip install 'valueroute[calendars]'",
        ) from None
    try:
        return holidays_package.country_holidays(country, subdiv=spec.get("subdiv"), years=())
    except NotImplementedError:
        raise _fail(
            calendar, "holidays.country", country, "a country code the holidays package knows"
        ) from None
    except (KeyError, ValueError) as exc:
        raise _fail(
            calendar, "holidays.subdiv", spec.get("subdiv"), f"a subdivision of {country} ({exc})"
        ) from None


def parse_calendar(
    text: str | bytes, *, format: Literal["toml", "json", "yaml"] = "toml"
) -> BusinessCalendar:
    """A calendar from TOML, JSON or YAML text (the keys of :class:`BusinessCalendar`)."""
    from valueroute._documents import DocumentError, parse_document

    if not isinstance(text, str | bytes):
        raise _fail("", "text", text, "the calendar as str or bytes")
    if format not in ("toml", "json", "yaml"):
        raise _fail("", "format", format, "'toml', 'json' or 'yaml'")
    try:
        data = parse_document(text, format)
    except DocumentError as exc:
        raise CalendarError(
            f"calendar file: {exc.reason}", [(exc.field, None, exc.reason)]
        ) from None
    return calendar_from(data)


def _or_never(query: Callable[..., float], start: float, *more: float) -> float:
    """A calendar's answer from ``start`` (``add``, ``next_open``), or ``inf`` when it
    has not the open time asked for in the years it searches: what counts working
    time then never comes. An instant the calendar cannot answer for still raises."""
    try:
        return query(start, *more)
    except CalendarError:
        if not MIN_INSTANT <= start <= MAX_INSTANT:
            raise
        return math.inf


def calendar_from(data: Any, *, name: str | None = None) -> BusinessCalendar:
    """A calendar from a mapping with the keys of :class:`BusinessCalendar`.

    ``name``: the calendar's name where a file keys its calendars by name
    (``[calendars.office]``); a ``name`` inside the table must then be the same.
    """
    if not isinstance(data, Mapping):
        raise _fail(name or "", "calendar", data, "a table with timezone and hours")
    if name is not None:
        if "name" in data and data["name"] != name:
            raise _fail(name, "name", data["name"], f"the calendar's key {name!r} or no name")
        data = {**data, "name": name}
    known = {"name", "timezone", "hours", "holidays", "exceptions"}
    name = data.get("name", "")
    unknown = sorted(set(data) - known)
    if unknown:
        raise _fail(
            name if isinstance(name, str) else "",
            "calendar",
            unknown,
            f"keys among {sorted(known)}",
        )
    for required in ("timezone", "hours"):
        if required not in data:
            raise _fail(name if isinstance(name, str) else "", required, None, "a value (required)")
    return BusinessCalendar(
        name=name,
        timezone=data["timezone"],
        hours=data["hours"],
        holidays=data.get("holidays", ()),
        exceptions=data.get("exceptions"),
    )


def load_calendar(path: str | Path) -> BusinessCalendar:
    """A calendar from a ``.toml``, ``.json``, ``.yaml`` or ``.yml`` file."""
    from valueroute._documents import SUFFIXES

    if not isinstance(path, str | os.PathLike):
        raise _fail("", "path", path, "a calendar file path")
    file = Path(path)
    format = SUFFIXES.get(file.suffix.lower())
    if format is None:
        raise _fail("", "path", str(path), f"a file ending in one of {sorted(SUFFIXES)}")
    try:
        text = file.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) else "not a valid path"
        raise _fail("", "path", str(path), f"a readable file ({reason})") from None
    calendar = parse_calendar(text, format=format)
    if not calendar.name:
        calendar.name = file.stem
    return calendar
