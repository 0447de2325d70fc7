"""Working time counted by hand, for the tests of what counts it.

A fixed weekly timetable in UTC (weekdays 09:00-12:00 and 13:00-17:00,
Saturday 10:00-14:00, Sunday closed, one holiday), written out here day by
day, independently of the calendar's tables: the overlap of an interval with
its open periods, and the first instant a span of open time has passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from valueroute.calendar import BusinessCalendar

__all__ = [
    "DAY",
    "HOLIDAY",
    "HOUR",
    "HOURS",
    "MONDAY",
    "office",
    "working_between",
    "working_end",
]

UTC = dt.UTC
MONDAY = dt.datetime(2026, 12, 7, tzinfo=UTC).timestamp()
"""Monday 7 December 2026, 00:00 UTC."""
DAY = 86400.0
HOUR = 3600.0
HOLIDAY = "2026-12-09"  # a Wednesday
WEEKDAY = (("09:00", "12:00"), ("13:00", "17:00"))
HOURS: dict[str, Any] = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY)
HOURS["sat"] = (("10:00", "14:00"),)


def office() -> BusinessCalendar:
    """The timetable as a business calendar named ``office``."""
    return BusinessCalendar(timezone="UTC", hours=HOURS, holidays=[HOLIDAY], name="office")


def _periods_from(start: float) -> Iterator[tuple[float, float]]:
    """The open periods (open, close) that end after ``start``, in order, forever."""
    day = dt.datetime.fromtimestamp(start, UTC).date() - dt.timedelta(days=1)
    while True:
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        if day.isoformat() != HOLIDAY:
            key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
            for opens, closes in HOURS.get(key, ()):
                h0, m0 = map(int, opens.split(":"))
                h1, m1 = map(int, closes.split(":"))
                period = (midnight + h0 * HOUR + m0 * 60, midnight + h1 * HOUR + m1 * 60)
                if period[1] > start:
                    yield period
        day += dt.timedelta(days=1)


def working_between(a: float, b: float) -> float:
    """Working seconds from ``a`` to ``b`` (negative when b < a), by overlaps."""
    if b < a:
        return -working_between(b, a)
    total = 0.0
    for opens, closes in _periods_from(a):
        if opens >= b:
            break
        total += min(b, closes) - max(a, opens)
    return total


def working_end(start: float, seconds: float) -> float:
    """The first instant at which ``seconds`` of open time after ``start`` have passed."""
    left = seconds
    for opens, closes in _periods_from(start):
        begin = max(opens, start)
        if closes - begin >= left:
            return begin + left
        left -= closes - begin
    raise AssertionError("unreachable")
