"""Shift scheduling: from required headcounts per interval to the cheapest set of shifts.

A workforce plan says how many agents must be on duty in each interval
(:func:`valueroute.erlang.staff_intervals`, or simulation through
:func:`valueroute.sim.staffing.staff_intervals_by_simulation`). People do not
work intervals, they work shifts: a start, a length, breaks somewhere in a
window, days off on a longer horizon. :func:`solve_schedule` chooses how many
shifts of each template start at each allowed time, and where their breaks
go, so that every interval has at least its requirement on duty (not on a
break) at the lowest cost: a mixed-integer program solved by HiGHS through
:func:`scipy.optimize.milp` (the ``[planning]`` extra).

The program (Dantzig's set-covering model with Bechtold and Jacobs' implicit
breaks):

* ``x[o]``: shifts of option *o* (a template starting at one allowed time on
  one day), integer;
* ``w[f, p]``: breaks of family *f* (one template's break rule, over one run
  of overlapping windows) starting at interval *p*, integer. Breaks are not
  tied to shifts in the program: a family has as many breaks as shifts, at
  least as many breaks up to each latest break start as shifts whose window
  has closed, and at least as many from each earliest start as shifts whose
  window opens there. For windows of one length these (Hall's conditions)
  are exactly what lets every shift take one break in its window; the
  matching is made afterwards, earliest deadline first;
* on duty in interval *t*: ``Σ x[o] covering t − Σ w[f, p] covering t``,
  at least ``max(requirement[t], min_headcount[t])`` and at most
  ``max_headcount[t]``;
* with ``days_off``, ``y[q]`` agents work the days of pattern *q* (every way of
  choosing ``work_days`` days, optionally with the days off in one block) and
  the shifts starting on day *d* equal the agents whose pattern works *d*;
* the cost is ``Σ x[o] × paid hours × cost_per_hour`` of each shift. With a
  ``budget`` the cost may not exceed it, coverage may fall short, and each
  missing agent-hour costs ``shortage_cost_per_hour`` in the objective.

Every cost is a whole multiple of one unit (0.1 for costs 4.2, 6 and 7.5),
so a roster within less than one unit of the solver's lower bound is proven
optimal; that is where the solver stops by default.

:func:`repair_by_simulation` then runs the roster through the simulator
(breaks included, as :class:`~valueroute.sim.scenario.Shift` breaks) and, in
each interval where the simulated service misses a target, adds the cheapest
shifts that give it one more agent on duty (the same program, with the
roster so far as a floor), until the targets hold or a round limit is
reached.

Everything a user hands in is validated by pydantic models
(:class:`ShiftTemplate`, :class:`BreakRule`, :class:`DaysOff`,
:class:`ScheduleSpec`); :func:`load_schedule_spec` reads a spec from TOML,
JSON or YAML. Inputs that cannot be scheduled at all (a requirement above
the maximum headcount, an interval no shift can cover, a break window that
leaves the shift) raise :class:`InfeasibleScheduleError` before the solver
runs, naming the field and the interval.
"""

from __future__ import annotations

import csv
import dataclasses
import fractions
import heapq
import io
import itertools
import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import numpy as np
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from valueroute._documents import SUFFIXES, DocumentError, parse_document
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import BoundaryModel

if TYPE_CHECKING:
    from valueroute.sim.metrics import ReplicationResult
    from valueroute.sim.scenario import Scenario
    from valueroute.sim.staffing import StaffingTarget

__all__ = [
    "MAX_INTERVALS",
    "MAX_PATTERNS",
    "BreakRule",
    "DaysOff",
    "InfeasibleScheduleError",
    "IntervalCheck",
    "RepairResult",
    "RepairRound",
    "Schedule",
    "ScheduleSpec",
    "ScheduledBreak",
    "ScheduledShift",
    "ShiftTemplate",
    "load_schedule_spec",
    "parse_schedule_spec",
    "repair_by_simulation",
    "requirements_from",
    "roster_scenario",
    "solve_schedule",
]

MAX_INTERVALS = 20_000
"""Most intervals a schedule's horizon may have (two weeks of 1-minute intervals)."""
MAX_PATTERNS = 5_000
"""Most days-off patterns a ``days_off`` rule may expand to."""
_DAY = 1440
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_RANGE = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})(?:\s*/\s*(\d{1,4}))?$")
_PLANNING = 'pip install "valueroute[planning]"'


class InfeasibleScheduleError(InvalidInputError):
    """No roster can meet the requirements under the spec's rules (or the solver found none)."""


def _fail(field_name: str, value: Any, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field_name}: got {bounded_repr(value)} (expected {expected})",
        [(field_name, bounded_repr(value), expected)],
    )


def _infeasible(field_name: str, value: Any, expected: str) -> InfeasibleScheduleError:
    return InfeasibleScheduleError(
        f"{field_name}: got {bounded_repr(value)} (expected {expected})",
        [(field_name, bounded_repr(value), expected)],
    )


def _problem(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)


def _clock_minutes(text: str) -> int:
    match = _CLOCK.match(text.strip())
    if match is None:
        raise _problem("clock", "got '{text}' (expected a clock time 'HH:MM')", text=text[:40])
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        raise _problem("clock", "got '{text}' (expected a time from 00:00 to 23:59)", text=text)
    return hours * 60 + minutes


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ----------------------------------------------------------------- what users hand in

_Minutes = Annotated[int, Field(ge=0, le=7 * _DAY)]
_PositiveMinutes = Annotated[int, Field(gt=0, le=7 * _DAY)]
_Money = Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)]
_Count = Annotated[int, Field(ge=0, le=100_000)]


class BreakRule(BoundaryModel):
    """A break each shift of a template takes: ``minutes`` long, starting in a window.

    ``earliest`` and ``latest`` are minutes after the shift's start between
    which the break may start (both included); the solver picks the start of
    each shift's break. An unpaid break (``paid = false``, the default) is
    taken off the shift's paid hours; a paid one is not.

    >>> BreakRule(minutes=30, earliest=180, latest=240).paid
    False
    """

    minutes: _PositiveMinutes
    earliest: _Minutes
    latest: _Minutes
    paid: bool = False

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.latest < self.earliest:
            raise _problem(
                "window",
                "latest={latest} is before earliest={earliest} (expected a window "
                "earliest <= latest, in minutes after the shift's start)",
                latest=self.latest,
                earliest=self.earliest,
            )
        return self


class ShiftTemplate(BoundaryModel):
    """A kind of shift: allowed starts, a length, breaks, a price and count limits.

    ``starts`` lists clock times (``"08:00"``) or ranges (``"07:00-10:00"``:
    every interval from 07:00 to 10:00 included; ``"07:00-10:00/30"``: every
    30 minutes); on a horizon of several days they apply to every day.
    ``length_minutes`` is the time from the start to the end, breaks included.
    ``cost_per_hour`` prices each paid hour; ``min_count`` and ``max_count``
    bound the shifts of this template over the whole horizon.

    >>> ShiftTemplate(name="early", starts=["07:00"], length_minutes=480).paid_minutes
    480
    """

    name: Annotated[str, Field(min_length=1, max_length=128)]
    starts: Annotated[list[str], Field(min_length=1, max_length=2000)]
    length_minutes: _PositiveMinutes
    breaks: list[BreakRule] = Field(default_factory=list, max_length=10)
    cost_per_hour: _Money = 1.0
    min_count: _Count = 0
    max_count: _Count | None = None

    @field_validator("starts")
    @classmethod
    def _starts(cls, starts: list[str]) -> list[str]:
        for text in starts:
            match = _RANGE.match(text.strip())
            if match is None:
                _clock_minutes(text)
                continue
            first, last = _clock_minutes(match.group(1)), _clock_minutes(match.group(2))
            if last < first:
                raise _problem(
                    "range",
                    "range '{text}' ends before it starts (expected 'HH:MM-HH:MM' within a day)",
                    text=text,
                )
            if match.group(3) is not None and int(match.group(3)) == 0:
                raise _problem("range", "range '{text}' has a step of 0 minutes", text=text)
        return starts

    @model_validator(mode="after")
    def _fits(self) -> Self:
        for index, rule in enumerate(self.breaks):
            if rule.latest + rule.minutes > self.length_minutes:
                raise _problem(
                    "break_window",
                    "breaks.{index}: a {minutes}-minute break starting as late as {latest} "
                    "minutes after the start ends after the {length}-minute shift (expected "
                    "latest + minutes <= length_minutes)",
                    index=index,
                    minutes=rule.minutes,
                    latest=rule.latest,
                    length=self.length_minutes,
                )
        ordered = sorted(range(len(self.breaks)), key=lambda i: self.breaks[i].earliest)
        for before, after in itertools.pairwise(ordered):
            first, second = self.breaks[before], self.breaks[after]
            if first.latest + first.minutes > second.earliest:
                raise _problem(
                    "break_overlap",
                    "breaks.{a} and breaks.{b} may overlap (expected each break's window to "
                    "end, latest + minutes, before the next break's earliest start)",
                    a=before,
                    b=after,
                )
        if self.max_count is not None and self.max_count < self.min_count:
            raise _problem(
                "counts",
                "max_count={high} is below min_count={low}",
                high=self.max_count,
                low=self.min_count,
            )
        return self

    @property
    def paid_minutes(self) -> int:
        """The shift's length less its unpaid breaks."""
        return self.length_minutes - sum(b.minutes for b in self.breaks if not b.paid)

    @property
    def cost(self) -> float:
        """What one shift of this template costs: paid hours × ``cost_per_hour``."""
        return self.paid_minutes / 60.0 * self.cost_per_hour

    def start_minutes(self, interval_minutes: int) -> list[int]:
        """The allowed starts as minutes after midnight, sorted, ranges stepped as given."""
        found: set[int] = set()
        for text in self.starts:
            match = _RANGE.match(text.strip())
            if match is None:
                found.add(_clock_minutes(text))
                continue
            first, last = _clock_minutes(match.group(1)), _clock_minutes(match.group(2))
            step = interval_minutes if match.group(3) is None else int(match.group(3))
            found.update(range(first, last + 1, step))
        return sorted(found)


class DaysOff(BoundaryModel):
    """On a horizon of several days: each agent works ``work_days`` of them, one shift a day.

    With ``consecutive = true`` an agent's days off form one block (Mon-Tue,
    not Mon-Thu). The solver chooses how many agents follow each pattern.
    """

    work_days: Annotated[int, Field(ge=1, le=366)]
    consecutive: bool = False


_Headcount = Annotated[int, Field(ge=0, le=100_000)]


class ScheduleSpec(BoundaryModel):
    """Everything about a scheduling problem except, optionally, the requirements.

    ``interval_minutes`` is the length of a requirement interval (it divides
    a day); ``start`` the clock time of the first interval on day 0 (the
    horizon then runs for as many intervals as there are requirements, over
    as many days as that takes). Shifts start on the grid of intervals and
    must end within the horizon: a start whose shift would run past it is
    not offered.

    ``min_headcount`` and ``max_headcount`` are one number or one per
    interval. With ``budget`` the total cost may not exceed it and coverage
    may fall short, each missing agent-hour costing
    ``shortage_cost_per_hour`` (by default ten times the dearest template's
    hourly cost). ``time_limit_seconds`` bounds the solver. ``mip_gap`` is
    the relative optimality gap it may stop at; by default (``None``) the
    roster is proven optimal: every cost is a multiple of one unit (0.1 for
    costs 4.2, 6 and 7.5), so the solver stops once the best roster is
    within less than one unit of its lower bound.
    """

    interval_minutes: Annotated[int, Field(ge=1, le=_DAY)] = 15
    start: str = "00:00"
    requirements: list[_Headcount] | None = None
    templates: Annotated[list[ShiftTemplate], Field(min_length=1, max_length=1000)]
    min_headcount: _Headcount | list[_Headcount] = 0
    max_headcount: _Headcount | list[_Headcount] | None = None
    days_off: DaysOff | None = None
    max_agents: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    budget: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    shortage_cost_per_hour: _Money | None = None
    time_limit_seconds: Annotated[float, Field(gt=0.0, le=86_400.0, allow_inf_nan=False)] = 60.0
    mip_gap: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None

    @field_validator("start")
    @classmethod
    def _start(cls, start: str) -> str:
        _clock_minutes(start)
        return start

    @field_validator("interval_minutes")
    @classmethod
    def _divides_a_day(cls, minutes: int) -> int:
        if _DAY % minutes:
            raise _problem(
                "interval", "got {m} (expected a length in minutes that divides 1440)", m=minutes
            )
        return minutes

    @model_validator(mode="after")
    def _on_the_grid(self) -> Self:
        step = self.interval_minutes
        if _clock_minutes(self.start) % step:
            raise _problem(
                "grid",
                "start='{start}' is not on the {step}-minute grid (expected a multiple of "
                "interval_minutes after midnight)",
                start=self.start,
                step=step,
            )
        names: set[str] = set()
        for index, template in enumerate(self.templates):
            if template.name in names:
                raise _problem(
                    "duplicate",
                    "templates.{i}.name '{name}' is used twice",
                    i=index,
                    name=template.name,
                )
            names.add(template.name)
            checks = [("length_minutes", template.length_minutes)]
            checks += [("starts", s) for s in template.start_minutes(step)]
            for j, rule in enumerate(template.breaks):
                checks += [
                    (f"breaks.{j}.minutes", rule.minutes),
                    (f"breaks.{j}.earliest", rule.earliest),
                    (f"breaks.{j}.latest", rule.latest),
                ]
            for name, minutes in checks:
                if minutes % step:
                    raise _problem(
                        "grid",
                        "templates.{i}.{name}: {value} minutes is not a multiple of "
                        "interval_minutes={step} (expected shifts and breaks on the grid)",
                        i=index,
                        name=name,
                        value=minutes if name != "starts" else _clock_text(minutes),
                        step=step,
                    )
        if self.days_off is None and self.max_agents is not None:
            raise _problem(
                "max_agents",
                "max_agents counts agents working several days: give it with days_off "
                "(without, bound the shifts with max_headcount or templates' max_count)",
            )
        if self.shortage_cost_per_hour is not None and self.budget is None:
            raise _problem(
                "shortage",
                "shortage_cost_per_hour prices coverage a budget cannot buy: give it with budget",
            )
        return self


def parse_schedule_spec(
    text: str | bytes, *, format: Literal["toml", "json", "yaml"] = "toml"
) -> ScheduleSpec:
    """A :class:`ScheduleSpec` from TOML, JSON or YAML text; errors name the field."""
    if not isinstance(text, str | bytes):
        raise _fail("text", type(text).__name__, "the spec as str or bytes")
    try:
        data = parse_document(text, format)
    except DocumentError as exc:
        if exc.field == "format":
            raise InvalidInputError(
                f"format: {exc.reason}", [("format", format, "'toml', 'json' or 'yaml'")]
            ) from None
        raise InvalidInputError(
            f"ScheduleSpec: {exc.reason}", [("(file)", None, f"valid {format}")]
        ) from None
    if not isinstance(data, Mapping):
        raise _fail("ScheduleSpec", type(data).__name__, "a table of schedule fields")
    return ScheduleSpec.model_validate(data)


def load_schedule_spec(path: str | os.PathLike[str]) -> ScheduleSpec:
    """Read a schedule spec file (``.toml``, ``.json``, ``.yaml``/``.yml``)."""
    if not isinstance(path, str | os.PathLike):
        raise _fail("path", type(path).__name__, "a file path")
    source = Path(path)
    kind = SUFFIXES.get(source.suffix.lower())
    if kind is None:
        raise _fail("path", str(source), f"a file ending in one of {sorted(SUFFIXES)}")
    try:
        text = source.read_bytes()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a valid path"
        raise _fail("path", str(source), f"a readable file ({reason})") from None
    return parse_schedule_spec(text, format=kind)


def requirements_from(source: Any) -> tuple[int, ...]:
    """Required headcounts per interval from a plan: a sequence, an array or a staffing result.

    Takes a sequence or 1-D array of whole numbers >= 0, an
    :class:`~valueroute.erlang.StaffingTable` (its ``scheduled`` column: the
    agents to schedule after shrinkage) or an
    :class:`~valueroute.sim.staffing.IntervalStaffingResult` (its
    :meth:`~valueroute.sim.staffing.IntervalStaffingResult.totals`, all
    groups together). Fractional values are refused, not rounded: round up
    with ``numpy.ceil`` first if that is what you mean.
    """
    from valueroute.erlang import StaffingTable
    from valueroute.sim.staffing import IntervalStaffingResult

    values: Any = source
    if isinstance(source, StaffingTable):
        values = source.scheduled
    elif isinstance(source, IntervalStaffingResult):
        values = source.totals()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable | np.ndarray):
        raise _fail(
            "requirements",
            values,
            "a sequence of headcounts, a StaffingTable or an IntervalStaffingResult",
        )
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise _fail("requirements", values, "one headcount per interval (a non-empty 1-D list)")
    if array.size > MAX_INTERVALS:
        raise _fail("requirements", f"{array.size} intervals", f"at most {MAX_INTERVALS}")
    result: list[int] = []
    for index, value in enumerate(array.tolist()):
        number = value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"requirements[{index}]", value, "a whole number >= 0")
        if isinstance(value, float):
            if not math.isfinite(value) or value != math.floor(value):
                raise _fail(
                    f"requirements[{index}]",
                    value,
                    "a whole number >= 0 (round up with numpy.ceil first)",
                )
            number = int(value)
        if number < 0 or number > 100_000:
            raise _fail(f"requirements[{index}]", value, "a whole number from 0 to 100000")
        result.append(int(number))
    return tuple(result)


# ----------------------------------------------------------------- results


@dataclass(frozen=True)
class ScheduledBreak:
    """A break of a scheduled shift: from ``start_minutes`` (since midnight of day 0)."""

    start_minutes: int
    minutes: int
    paid: bool


@dataclass(frozen=True)
class ScheduledShift:
    """``count`` identical shifts: one template, one start, the same breaks.

    Times are minutes since midnight of day 0; ``day`` is the day the shift
    starts on. ``cost`` is the cost of one such shift.
    """

    template: str
    day: int
    start_minutes: int
    end_minutes: int
    count: int
    breaks: tuple[ScheduledBreak, ...]
    paid_hours: float
    cost: float

    def label(self) -> str:
        """Clock times from start to end, ``"07:00-15:00"`` (the day is :attr:`day`)."""
        start = _clock_text(self.start_minutes % _DAY)
        end = _clock_text(self.end_minutes % _DAY)
        return f"{start}-{end}"


@dataclass(frozen=True)
class Schedule:
    """A solved roster: the shifts and what they give per interval.

    ``requirement[t]`` is what was asked, ``minimum``/``maximum`` the bounds
    (``maximum`` is ``None`` where unbounded), ``headcount[t]`` the agents on
    duty and not on a break, ``shortage[t] = max(0, needed − headcount)``
    where needed is ``max(requirement, minimum)``. ``status`` is
    ``"optimal"`` (proven within ``mip_gap``) or ``"time_limit"`` (the best
    roster found when the time ran out, with ``gap`` its proven relative
    distance from the optimum). ``patterns`` lists, with ``days_off``, the
    days each group of agents works and how many agents do.
    """

    interval_minutes: int
    start_minutes: int
    labels: tuple[str, ...]
    requirement: tuple[int, ...]
    minimum: tuple[int, ...]
    maximum: tuple[int | None, ...]
    headcount: tuple[int, ...]
    shifts: tuple[ScheduledShift, ...]
    cost: float
    paid_hours: float
    status: Literal["optimal", "time_limit"]
    gap: float
    solve_seconds: float
    patterns: tuple[tuple[tuple[int, ...], int], ...] = ()

    @property
    def shortage(self) -> tuple[int, ...]:
        """Agents missing per interval against ``max(requirement, minimum)``."""
        return tuple(
            max(0, max(r, m) - h)
            for r, m, h in zip(self.requirement, self.minimum, self.headcount, strict=True)
        )

    @property
    def covered(self) -> bool:
        """Whether every interval has at least its requirement (and minimum) on duty."""
        return not any(self.shortage)

    @property
    def agents(self) -> int:
        """Shifts in the roster (on one day: agents; with ``days_off``: agent-days)."""
        return sum(s.count for s in self.shifts)

    @property
    def over_coverage_hours(self) -> float:
        """Agent-hours on duty beyond the requirement, the price of shift granularity."""
        extra = sum(max(0, h - r) for h, r in zip(self.headcount, self.requirement, strict=True))
        return extra * self.interval_minutes / 60.0

    def interval_rows(self) -> list[dict[str, Any]]:
        """One dict per interval: label, requirement, minimum, maximum, headcount, shortage."""
        shortage = self.shortage
        return [
            {
                "interval": label,
                "requirement": self.requirement[t],
                "minimum": self.minimum[t],
                "maximum": self.maximum[t],
                "headcount": self.headcount[t],
                "coverage": self.headcount[t] - self.requirement[t],
                "shortage": shortage[t],
            }
            for t, label in enumerate(self.labels)
        ]

    def shift_rows(self) -> list[dict[str, Any]]:
        """One dict per group of identical shifts, breaks as ``"HH:MM+minutes"`` text."""
        return [
            {
                "template": s.template,
                "day": s.day,
                "start": _clock_text(s.start_minutes % _DAY),
                "end": _clock_text(s.end_minutes % _DAY),
                "count": s.count,
                "breaks": " ".join(
                    f"{_clock_text(b.start_minutes % _DAY)}+{b.minutes}" + ("p" if b.paid else "")
                    for b in s.breaks
                ),
                "paid_hours": s.paid_hours,
                "cost": s.cost * s.count,
            }
            for s in self.shifts
        ]

    def totals(self) -> dict[str, Any]:
        """Cost, paid hours, shifts, status and coverage in one JSON-ready dict."""
        return {
            "cost": self.cost,
            "paid_hours": self.paid_hours,
            "shifts": self.agents,
            "status": self.status,
            "gap": self.gap,
            "covered": self.covered,
            "shortage_hours": sum(self.shortage) * self.interval_minutes / 60.0,
            "over_coverage_hours": self.over_coverage_hours,
            "solve_seconds": self.solve_seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        """Totals, shifts, intervals and days-off patterns as one JSON-ready dict."""
        return {
            "totals": self.totals(),
            "shifts": self.shift_rows(),
            "intervals": self.interval_rows(),
            "patterns": [{"days": list(days), "agents": n} for days, n in self.patterns],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self, table: Literal["intervals", "shifts"] = "intervals") -> str:
        """The interval or shift rows as CSV text with a header line."""
        rows = self._rows(table)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return buffer.getvalue()

    def to_pandas(self, table: Literal["intervals", "shifts"] = "intervals") -> Any:
        """The interval rows (indexed by ``interval``) or the shift rows as a DataFrame.

        Needs pandas (``pip install "valueroute[pandas]"``).
        """
        rows = self._rows(table)
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                'to_pandas: pandas is not installed (expected `pip install "valueroute[pandas]"`)'
            ) from None
        frame = pd.DataFrame(rows)
        return frame.set_index("interval") if table == "intervals" else frame

    def _rows(self, table: object) -> list[dict[str, Any]]:
        if table == "intervals":
            return self.interval_rows()
        if table == "shifts":
            return self.shift_rows() or [
                dict.fromkeys(
                    ("template", "day", "start", "end", "count", "breaks", "paid_hours", "cost")
                )
            ]
        raise _fail("table", table, "'intervals' or 'shifts'")


# ----------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Option:
    """One template starting at one interval of the horizon.

    ``template`` is the template whose break rules and limits apply (the
    first of identical ones); ``name`` the template that offered the start.
    """

    template: int
    start: int  # interval index
    length: int  # intervals
    breaks: tuple[tuple[int, int, tuple[int, ...]], ...]  # (rule, length, offsets)
    cost: float
    name: str

    def on_duty(self, breaks: Sequence[int]) -> list[int]:
        """Intervals on duty given one break offset per rule."""
        off: set[int] = set()
        for (_, length, _), offset in zip(self.breaks, breaks, strict=True):
            off.update(range(offset, offset + length))
        return [self.start + k for k in range(self.length) if k not in off]


@dataclass
class _Model:
    spec: ScheduleSpec
    requirement: tuple[int, ...]
    minimum: tuple[int, ...]
    maximum: tuple[int | None, ...]
    options: list[_Option]
    days: int
    patterns: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def intervals(self) -> int:
        return len(self.requirement)


def _per_interval(value: int | list[int] | None, count: int, name: str) -> list[int | None]:
    if value is None:
        return [None] * count
    if isinstance(value, int):
        return [value] * count
    if len(value) != count:
        raise _fail(name, f"{len(value)} values", f"one number, or one per interval ({count})")
    return list(value)


def _label(minute: int, days: int) -> str:
    clock = _clock_text(minute % _DAY)
    return clock if days == 1 else f"d{minute // _DAY} {clock}"


def _end_label(minute: int, days: int) -> str:
    """The end of the horizon: ``24:00`` rather than ``00:00`` at the end of a one-day one."""
    return _clock_text(minute) if days == 1 else _label(minute, days)


def _build(spec: ScheduleSpec, requirement: tuple[int, ...]) -> _Model:
    step = spec.interval_minutes
    origin = _clock_minutes(spec.start)
    count = len(requirement)
    days = math.ceil((origin + count * step) / _DAY)
    lows = _per_interval(spec.min_headcount, count, "min_headcount")
    highs = _per_interval(spec.max_headcount, count, "max_headcount")
    minimum = tuple(int(v or 0) for v in lows)

    def where(t: int) -> str:
        return _label(origin + t * step, days)

    for t in range(count):
        high = highs[t]
        if high is None:
            continue
        if requirement[t] > high:
            raise _infeasible(
                f"requirements[{t}] ({where(t)})",
                requirement[t],
                f"at most max_headcount there, {high}",
            )
        if minimum[t] > high:
            raise _infeasible(
                f"min_headcount[{t}] ({where(t)})", minimum[t], f"at most max_headcount, {high}"
            )
    options: list[_Option] = []
    # Templates alike in all but their starts (same length, breaks, price and no
    # count limits) offer one option per start, under the first one's name: two
    # interchangeable variables would only multiply the solver's search.
    canonical: dict[tuple[Any, ...], int] = {}
    offered: set[tuple[int, int]] = set()
    for index, template in enumerate(spec.templates):
        signature = (
            template.length_minutes,
            tuple((b.minutes, b.earliest, b.latest, b.paid) for b in template.breaks),
            template.cost_per_hour,
        )
        owner = index
        if template.min_count == 0 and template.max_count is None:
            owner = canonical.setdefault(signature, index)
        length = template.length_minutes // step
        rules = tuple(
            (
                r,
                rule.minutes // step,
                tuple(range(rule.earliest // step, rule.latest // step + 1)),
            )
            for r, rule in enumerate(template.breaks)
        )
        fits = False
        for day in range(days):
            for clock in template.start_minutes(step):
                begin = day * _DAY + clock - origin
                if begin < 0 or begin % step:
                    continue
                first = begin // step
                if first + length > count:
                    continue
                fits = True
                if (owner, first) not in offered:
                    offered.add((owner, first))
                    options.append(
                        _Option(owner, first, length, rules, template.cost, template.name)
                    )
        if not fits:
            raise _infeasible(
                f"templates.{index}.starts",
                template.starts,
                f"a start whose {template.length_minutes}-minute shift fits in the horizon "
                f"{where(0)} to {_end_label(origin + count * step, days)}",
            )
    # An interval that needs agents must be inside some shift (a shift may still
    # put everyone on a break there; the solver reports that as infeasible).
    reachable = np.zeros(count + 1, dtype=np.int64)
    for option in options:
        reachable[option.start] += 1
        reachable[option.start + option.length] -= 1
    inside = np.cumsum(reachable)[:count]
    for t in range(count):
        need = max(requirement[t], minimum[t])
        if need > 0 and inside[t] == 0 and spec.budget is None:
            raise _infeasible(
                f"requirements[{t}] ({where(t)})",
                need,
                "0: no template has a shift covering this interval (add a start or a "
                "template that does)",
            )
    patterns: list[tuple[int, ...]] = []
    if spec.days_off is not None:
        work = spec.days_off.work_days
        if work > days:
            raise _infeasible("days_off.work_days", work, f"at most the horizon's {days} days")
        if math.comb(days, work) > MAX_PATTERNS and not spec.days_off.consecutive:
            raise _fail(
                "days_off",
                f"{math.comb(days, work)} patterns",
                f"at most {MAX_PATTERNS} (use consecutive = true or a shorter horizon)",
            )
        for chosen in itertools.combinations(range(days), work):
            off = [d for d in range(days) if d not in chosen]
            if spec.days_off.consecutive and off and off[-1] - off[0] + 1 != len(off):
                continue
            patterns.append(chosen)
    return _Model(spec, requirement, minimum, tuple(highs), options, days, patterns)


def _scipy() -> tuple[Any, Any, Any, Any]:
    try:
        from scipy.optimize import (  # type: ignore[import-untyped, unused-ignore]
            Bounds,
            LinearConstraint,
            milp,
        )
        from scipy.sparse import coo_array  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise InvalidInputError(
            f"scheduling needs scipy's milp solver (expected `{_PLANNING}`)",
            [("scipy", None, _PLANNING)],
        ) from None
    return milp, LinearConstraint, Bounds, coo_array


def _solve(
    model: _Model,
    *,
    need: Sequence[int] | None = None,
    lower: Sequence[int] | None = None,
) -> Schedule:
    """Solve the model; ``need`` overrides the coverage floor, ``lower`` fixes shifts as a floor."""
    milp, linear_constraint, bounds_type, coo_array = _scipy()
    spec = model.spec
    started = time.perf_counter()
    count = model.intervals
    hours = spec.interval_minutes / 60.0
    floor = [
        max(r, m)
        for r, m in zip(model.requirement if need is None else need, model.minimum, strict=True)
    ]
    options = model.options
    # Column layout: shifts, then breaks, then shortages, then patterns. Breaks
    # are counted per template, rule and start interval, not per shift: which
    # shift takes which break is left to a matching found afterwards
    # (Bechtold and Jacobs' implicit break model), which removes the many
    # equivalent ways of giving the same breaks to different shifts.
    columns = len(options)
    families = _break_families(model)
    break_columns: list[tuple[int, int, int]] = []  # (family, start interval, length)
    for f, family in enumerate(families):
        break_columns.extend((f, p, family.length) for p in family.positions)
    first_break = columns
    columns += len(break_columns)
    budgeted = spec.budget is not None
    first_short = columns
    if budgeted:
        columns += count
    first_pattern = columns
    columns += len(model.patterns)

    cost = np.zeros(columns)
    cost[: len(options)] = [o.cost for o in options]
    if budgeted:
        dearest = max(t.cost_per_hour for t in spec.templates)
        price = spec.shortage_cost_per_hour or 10.0 * dearest
        cost[first_short : first_short + count] = price * hours
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    low: list[float] = []
    high: list[float] = []

    def on_duty(offset: int) -> None:
        for o, option in enumerate(options):
            for t in range(option.start, option.start + option.length):
                rows.append(offset + t)
                cols.append(o)
                vals.append(1.0)
        for k, (_, begin, length) in enumerate(break_columns):
            for t in range(begin, begin + length):
                rows.append(offset + t)
                cols.append(first_break + k)
                vals.append(-1.0)

    # Coverage rows: on duty (+ shortage with a budget) at least the floor.
    on_duty(0)
    if budgeted:
        for t in range(count):
            rows.append(t)
            cols.append(first_short + t)
            vals.append(1.0)
    for t in range(count):
        low.append(float(floor[t]))
        top = model.maximum[t]
        high.append(math.inf if top is None or budgeted else float(top))
    row = count
    # A shortage variable must not lift an interval above its maximum: bound
    # the on-duty count alone in a second row where a budget is given.
    if budgeted:
        on_duty(row)
        for t in range(count):
            top = model.maximum[t]
            low.append(0.0)
            high.append(math.inf if top is None else float(top))
        row += count
    # Every shift can be given one break of each of its rules, in its window:
    # as many breaks as shifts, at least as many breaks up to each latest start
    # as shifts whose window ends there, and from each earliest start as
    # shifts whose window begins there. For windows of one length (one
    # template's rule) these are Hall's conditions for the matching.
    column_of = {(f, p): first_break + k for k, (f, p, _) in enumerate(break_columns)}
    for f, family in enumerate(families):
        rows.extend([row] * (len(family.members) + len(family.positions)))
        cols.extend(o for o, _, _ in family.members)
        vals.extend([1.0] * len(family.members))
        cols.extend(column_of[f, p] for p in family.positions)
        vals.extend([-1.0] * len(family.positions))
        low.append(0.0)
        high.append(0.0)
        row += 1
        for last in sorted({latest for _, _, latest in family.members}):
            members = [o for o, _, latest in family.members if latest <= last]
            taken = [column_of[f, p] for p in family.positions if p <= last]
            rows.extend([row] * (len(members) + len(taken)))
            cols.extend(members + taken)
            vals.extend([-1.0] * len(members) + [1.0] * len(taken))
            low.append(0.0)
            high.append(math.inf)
            row += 1
        for first in sorted({earliest for _, earliest, _ in family.members}):
            members = [o for o, earliest, _ in family.members if earliest >= first]
            taken = [column_of[f, p] for p in family.positions if p >= first]
            rows.extend([row] * (len(members) + len(taken)))
            cols.extend(members + taken)
            vals.extend([-1.0] * len(members) + [1.0] * len(taken))
            low.append(0.0)
            high.append(math.inf)
            row += 1
    # Template counts.
    for index, template in enumerate(spec.templates):
        if template.min_count == 0 and template.max_count is None:
            continue
        for o, option in enumerate(options):
            if option.template == index:
                rows.append(row)
                cols.append(o)
                vals.append(1.0)
        low.append(float(template.min_count))
        high.append(math.inf if template.max_count is None else float(template.max_count))
        row += 1
    if budgeted:
        for o, option in enumerate(options):
            rows.append(row)
            cols.append(o)
            vals.append(option.cost)
        low.append(0.0)
        high.append(float(spec.budget or 0.0))
        row += 1
    if model.patterns:
        origin = _clock_minutes(spec.start)
        for day in range(model.days):
            for o, option in enumerate(options):
                if (origin + option.start * spec.interval_minutes) // _DAY == day:
                    rows.append(row)
                    cols.append(o)
                    vals.append(1.0)
            for q, pattern in enumerate(model.patterns):
                if day in pattern:
                    rows.append(row)
                    cols.append(first_pattern + q)
                    vals.append(-1.0)
            low.append(0.0)
            high.append(0.0)
            row += 1
        if spec.max_agents is not None:
            for q in range(len(model.patterns)):
                rows.append(row)
                cols.append(first_pattern + q)
                vals.append(1.0)
            low.append(0.0)
            high.append(float(spec.max_agents))
            row += 1
    matrix = coo_array((vals, (rows, cols)), shape=(row, columns)).tocsr()
    lower_bounds = np.zeros(columns)
    if lower is not None:
        lower_bounds[: len(options)] = lower
    upper_bounds = np.full(columns, np.inf)
    integrality = np.ones(columns)
    if budgeted:
        integrality[first_short : first_short + count] = 0
    problem = {
        "c": cost,
        "integrality": integrality,
        "bounds": bounds_type(lower_bounds, upper_bounds),
        "constraints": [linear_constraint(matrix, np.array(low), np.array(high))],
    }
    unit = _cost_unit(cost)
    gap = spec.mip_gap
    if gap is None:
        # Every roster's cost is a multiple of `unit`: a roster within less than one
        # unit of the dual bound is optimal, so the solver may stop there instead of
        # closing the last fraction of a unit (which can take it ten times longer).
        # The relative gap that guarantees this needs an upper bound on the final
        # cost: 1.1 times the LP bound (rosters here come within a fraction of a
        # per cent of it). The proof is checked on the result, and the solver
        # runs on to a zero gap when it does not hold.
        relaxed = milp(**{**problem, "integrality": np.zeros(columns)})
        bound = float(relaxed.fun) if relaxed.x is not None else math.nan
        gap = 0.0
        if unit > 0.0 and math.isfinite(bound) and bound > 0.0:
            gap = 0.99 * unit / (1.1 * bound)
    limit = spec.time_limit_seconds
    settings = {"time_limit": limit, "mip_rel_gap": gap}
    result = milp(**problem, options=settings)
    if (
        spec.mip_gap is None
        and gap > 0.0
        and result.status == 0
        and result.x is not None
        and not float(result.fun) - float(result.mip_dual_bound) < unit * (1 - 1e-9)
    ):
        spent = time.perf_counter() - started
        settings = {"time_limit": max(1.0, limit - spent), "mip_rel_gap": 0.0}
        result = milp(**problem, options=settings)
    seconds = time.perf_counter() - started
    if result.x is None:
        if result.status == 1:
            raise InfeasibleScheduleError(
                f"schedule: the solver found no roster within time_limit_seconds="
                f"{spec.time_limit_seconds:g} (expected a larger time limit or a smaller "
                "problem)",
                [("time_limit_seconds", spec.time_limit_seconds, "a larger limit")],
            )
        raise InfeasibleScheduleError(
            "schedule: no roster meets the requirements under these rules (solver: "
            f"{result.message.strip()[:160]}); expected looser limits: templates' max_count "
            "or min_count, max_headcount, max_agents, days_off, or budget",
            [("spec", None, "rules some roster can meet")],
        )
    values = np.rint(result.x).astype(np.int64)
    status: Literal["optimal", "time_limit"] = "optimal" if result.status == 0 else "time_limit"
    proven = float(result.fun) - float(getattr(result, "mip_dual_bound", result.fun))
    gap = max(0.0, proven) / abs(float(result.fun)) if result.fun else 0.0
    return _roster(
        model, values, families, first_break, break_columns, first_pattern, status, gap, seconds
    )


def _cost_unit(cost: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """The largest unit every cost is a whole multiple of (0.0 when there is none to speak of).

    Costs are read as fractions with denominators up to 10**6 (4.2 is 21/5); the
    unit is their greatest common divisor, e.g. 0.1 for costs 4.2, 6 and 7.5.
    """
    numerators: list[int] = []
    denominators: list[int] = []
    for value in {float(c) for c in cost if c}:
        exact = fractions.Fraction(value).limit_denominator(10**6)
        if abs(float(exact) - value) > 1e-9 * max(1.0, abs(value)):
            return 0.0
        numerators.append(exact.numerator)
        denominators.append(exact.denominator)
    if not numerators:
        return 0.0
    common = math.lcm(*denominators)
    unit = fractions.Fraction(
        math.gcd(*(n * (common // d) for n, d in zip(numerators, denominators, strict=True))),
        common,
    )
    return float(unit)


@dataclass(frozen=True)
class _Family:
    """One break rule of one template: its shifts' windows and the break starts allowed."""

    template: int
    rule: int
    length: int
    members: tuple[tuple[int, int, int], ...]  # (option, earliest, latest start interval)
    positions: tuple[int, ...]


def _break_families(model: _Model) -> list[_Family]:
    """One family per template, break rule and run of overlapping windows.

    Windows that do not overlap (one day's shifts and the next day's) can
    never share a break, so each run is matched on its own: the matching
    conditions stay local, and their size grows with the starts of a day,
    not of the whole horizon.
    """
    families = []
    for index, template in enumerate(model.spec.templates):
        chosen = [(o, option) for o, option in enumerate(model.options) if option.template == index]
        if not chosen:
            continue  # its starts are offered under an identical template's name
        for rule in range(len(template.breaks)):
            length = chosen[0][1].breaks[rule][1]
            windows = sorted(
                (
                    option.start + option.breaks[rule][2][0],
                    option.start + option.breaks[rule][2][-1],
                    o,
                )
                for o, option in chosen
            )
            run: list[tuple[int, int, int]] = []
            reach = -1
            for earliest, latest, o in windows:
                if run and earliest > reach:
                    families.append(_family(index, rule, length, run))
                    run = []
                run.append((o, earliest, latest))
                reach = max(reach, latest) if len(run) > 1 else latest
            families.append(_family(index, rule, length, run))
    return families


def _family(template: int, rule: int, length: int, run: list[tuple[int, int, int]]) -> _Family:
    positions = sorted({p for _, earliest, latest in run for p in range(earliest, latest + 1)})
    return _Family(template, rule, length, tuple(run), tuple(positions))


def _match(family: _Family, shifts: list[tuple[int, int, int]], starts: list[int]) -> list[int]:
    """A break start for each shift ``(option, earliest, latest)``, all within their windows.

    Earliest deadline first: breaks in time order, each to the waiting shift
    whose window closes first. It finds a matching whenever one exists, as
    the solver's constraints guarantee for windows of one length.
    """
    order = sorted(range(len(shifts)), key=lambda i: shifts[i][1])
    waiting: list[tuple[int, int]] = []
    given = [-1] * len(shifts)
    next_shift = 0
    for start in sorted(starts):
        while next_shift < len(order) and shifts[order[next_shift]][1] <= start:
            i = order[next_shift]
            heapq.heappush(waiting, (shifts[i][2], i))
            next_shift += 1
        latest, i = heapq.heappop(waiting)
        if latest < start:
            raise AssertionError(f"break matching failed for template {family.template}")
        given[i] = start
    return given


def _roster(
    model: _Model,
    values: np.ndarray[Any, np.dtype[np.int64]],
    families: list[_Family],
    first_break: int,
    break_columns: list[tuple[int, int, int]],
    first_pattern: int,
    status: Literal["optimal", "time_limit"],
    gap: float,
    seconds: float,
) -> Schedule:
    spec = model.spec
    step = spec.interval_minutes
    origin = _clock_minutes(spec.start)
    # Each shift instance (option, k-th of its count) gets one break start per rule.
    chosen: dict[tuple[int, int], list[int]] = {}
    for f, family in enumerate(families):
        instances = [
            (o, earliest, latest)
            for o, earliest, latest in family.members
            for _ in range(int(values[o]))
        ]
        starts = [
            begin
            for k, (g, begin, _) in enumerate(break_columns)
            if g == f
            for _ in range(int(values[first_break + k]))
        ]
        given = _match(family, instances, starts)
        seen: dict[int, int] = {}
        for (o, _, _), begin in zip(instances, given, strict=True):
            instance = seen.get(o, 0)
            seen[o] = instance + 1
            chosen.setdefault((o, instance), []).append(begin - model.options[o].start)
    grouped: dict[tuple[int, tuple[int, ...]], int] = {}
    for o in range(len(model.options)):
        for instance in range(int(values[o])):
            key = (o, tuple(chosen.get((o, instance), [])))
            grouped[key] = grouped.get(key, 0) + 1
    shifts: list[ScheduledShift] = []
    headcount = np.zeros(model.intervals, dtype=np.int64)
    for (o, offsets), n in sorted(
        grouped.items(), key=lambda item: (model.options[item[0][0]].start, item[0])
    ):
        option = model.options[o]
        template = spec.templates[option.template]
        begin = origin + option.start * step
        breaks = tuple(
            ScheduledBreak(begin + offset * step, rule.minutes, rule.paid)
            for rule, offset in zip(template.breaks, offsets, strict=True)
        )
        for t in option.on_duty(offsets):
            headcount[t] += n
        shifts.append(
            ScheduledShift(
                template=option.name,
                day=begin // _DAY,
                start_minutes=begin,
                end_minutes=begin + template.length_minutes,
                count=n,
                breaks=breaks,
                paid_hours=template.paid_minutes / 60.0,
                cost=template.cost,
            )
        )
    patterns = tuple(
        (pattern, int(values[first_pattern + q]))
        for q, pattern in enumerate(model.patterns)
        if values[first_pattern + q] > 0
    )
    return Schedule(
        interval_minutes=step,
        start_minutes=origin,
        labels=tuple(_label(origin + t * step, model.days) for t in range(model.intervals)),
        requirement=model.requirement,
        minimum=model.minimum,
        maximum=model.maximum,
        headcount=tuple(int(h) for h in headcount),
        shifts=tuple(shifts),
        cost=math.fsum(s.cost * s.count for s in shifts),
        paid_hours=math.fsum(s.paid_hours * s.count for s in shifts),
        status=status,
        gap=gap,
        solve_seconds=seconds,
        patterns=patterns,
    )


def _spec(spec: object) -> ScheduleSpec:
    if isinstance(spec, ScheduleSpec):
        return spec
    if isinstance(spec, str | os.PathLike):
        return load_schedule_spec(spec)
    if isinstance(spec, Mapping):
        return ScheduleSpec.model_validate(spec)
    raise _fail("spec", type(spec).__name__, "a ScheduleSpec, a mapping or a spec file path")


def solve_schedule(
    requirements: Any | None, spec: ScheduleSpec | Mapping[str, Any] | str | Path
) -> Schedule:
    """The cheapest roster that puts at least the required agents on duty in every interval.

    ``requirements`` is anything :func:`requirements_from` takes, or ``None``
    to use the spec's own ``requirements``; ``spec`` a :class:`ScheduleSpec`,
    a mapping of its fields or the path of a spec file. Without a budget
    every interval gets at least ``max(requirement, min_headcount)`` on
    duty (not on a break); with one, the cheapest mix of cost and shortage
    within it.

    Raises :class:`InfeasibleScheduleError` for rules no roster can meet
    (named before solving where it can be seen: a requirement above
    ``max_headcount``, an interval outside every shift, a template with no
    start in the horizon) and :class:`~valueroute.errors.InvalidInputError`
    for malformed input. Needs scipy (``pip install "valueroute[planning]"``).

    Cost: HiGHS branch and bound on ``options + break placements`` integer
    variables, where options = templates × starts × days; a 96-interval day
    with 30 templates solves in seconds (``benchmarks/bench_schedule.py``).
    """
    checked = _spec(spec)
    if requirements is None:
        if checked.requirements is None:
            raise _fail("requirements", None, "requirements, here or in the spec")
        needed = requirements_from(checked.requirements)
    else:
        needed = requirements_from(requirements)
    return _solve(_build(checked, needed))


# ----------------------------------------------------------------- simulation


def roster_scenario(
    scenario: Scenario,
    schedule: Schedule,
    *,
    group: str | None = None,
    offset_seconds: float = 0.0,
) -> Scenario:
    """``scenario`` with one agent group's staffing replaced by the roster's shifts and breaks.

    The schedule's first interval begins at scenario second
    ``offset_seconds`` (0 by default: the scenario starts where the
    requirements start, as the scenarios ``valueroute staff --scenario-out``
    writes do; give ``8 * 3600`` for a scenario whose time 0 is midnight and
    a schedule that starts at 08:00). ``group`` names the agent
    group that works the roster (by default the only group; a scenario with
    several groups must name one). Each shift becomes a
    :class:`~valueroute.sim.scenario.Shift` with its breaks, paid or not.
    """
    from valueroute.sim.scenario import Scenario as _Scenario

    if not isinstance(scenario, _Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    if not isinstance(schedule, Schedule):
        raise _fail("schedule", type(schedule).__name__, "a Schedule (see solve_schedule)")
    names = [g.name for g in scenario.agent_groups]
    if group is None:
        if len(names) != 1:
            raise _fail(
                "group", None, f"the name of the group that works the roster, one of {names}"
            )
        group = names[0]
    if group not in names:
        raise _fail("group", group, f"one of the scenario's agent groups {names}")
    if (
        isinstance(offset_seconds, bool)
        or not isinstance(offset_seconds, int | float)
        or not (math.isfinite(offset_seconds) and 0.0 <= offset_seconds <= 1e9)
    ):
        raise _fail("offset_seconds", offset_seconds, "a finite number of seconds >= 0")
    origin = 60.0 * schedule.start_minutes - float(offset_seconds)
    shifts = [
        {
            "start_seconds": 60.0 * s.start_minutes - origin,
            "end_seconds": 60.0 * s.end_minutes - origin,
            "count": s.count,
            "breaks": [
                {
                    "start_seconds": 60.0 * b.start_minutes - origin,
                    "duration_seconds": 60.0 * b.minutes,
                }
                for b in s.breaks
            ],
        }
        for s in schedule.shifts
    ]
    if not shifts:
        # An empty roster: nobody on duty (a group needs some staffing).
        shifts = [{"start_seconds": 0.0, "end_seconds": 1.0, "count": 0}]
    data = scenario.model_dump()
    for entry in data["agent_groups"]:
        if entry["name"] == group:
            entry.update(count=None, headcount=[], calendar=None, shifts=shifts)
            entry["interval_minutes"] = None
    return _Scenario.model_validate(data)


@dataclass(frozen=True)
class IntervalCheck:
    """One target in one interval: pooled figure over replications, its bound, verdict.

    ``value`` pools the replications' counts (answered within T over
    answered + abandoned, for instance); ``bound`` moves it by the Student t
    half-width of the per-replication figures at the chosen confidence
    (lower for a service level, upper for ASA and abandonment).
    """

    interval: int
    label: str
    task_type: str
    kpi: str
    goal: float
    value: float
    bound: float
    offered: float
    met: bool


@dataclass(frozen=True)
class RepairRound:
    """One simulate-and-repair round: the roster simulated, the misses, what was added."""

    round: int
    cost: float
    shifts: int
    missed: tuple[IntervalCheck, ...]
    added_cost: float
    simulate_seconds: float
    solve_seconds: float


@dataclass(frozen=True)
class RepairResult:
    """The repaired roster, whether simulation confirms it, and the rounds it took.

    ``converged`` is True when the last round's simulation met every target
    in every judged interval; otherwise ``reason`` says why the loop
    stopped (round limit, no shift could be added). ``checks`` are the last
    simulation's checks; ``skipped`` the intervals not judged because fewer
    than ``min_offered`` tasks arrived in them per replication.
    """

    schedule: Schedule
    initial: Schedule
    converged: bool
    reason: str
    rounds: tuple[RepairRound, ...]
    checks: tuple[IntervalCheck, ...]
    skipped: tuple[int, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the rounds, the final roster, the unmet checks."""
        return {
            "converged": self.converged,
            "reason": self.reason,
            "initial_cost": self.initial.cost,
            "cost": self.schedule.cost,
            "rounds": [
                {
                    "round": r.round,
                    "cost": r.cost,
                    "shifts": r.shifts,
                    "missed_intervals": sorted({c.label for c in r.missed}),
                    "added_cost": r.added_cost,
                    "simulate_seconds": r.simulate_seconds,
                    "solve_seconds": r.solve_seconds,
                }
                for r in self.rounds
            ],
            "unmet": [
                {
                    "interval": c.label,
                    "task_type": c.task_type,
                    "kpi": c.kpi,
                    "goal": c.goal,
                    "value": _finite_or_none(c.value),
                    "bound": _finite_or_none(c.bound),
                }
                for c in self.checks
                if not c.met
            ],
            "skipped_intervals": [self.schedule.labels[t] for t in self.skipped],
            "seconds": self.seconds,
            "schedule": self.schedule.to_dict(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_pandas(self, table: Literal["rounds", "checks"] = "rounds") -> Any:
        """The rounds (one row each) or the last simulation's checks as a DataFrame.

        Needs pandas (``pip install "valueroute[pandas]"``).
        """
        if table == "rounds":
            rows: list[dict[str, Any]] = [
                {
                    "round": r.round,
                    "cost": r.cost,
                    "shifts": r.shifts,
                    "intervals_missed": len({c.interval for c in r.missed}),
                    "added_cost": r.added_cost,
                    "simulate_seconds": r.simulate_seconds,
                    "solve_seconds": r.solve_seconds,
                }
                for r in self.rounds
            ]
        elif table == "checks":
            rows = [dataclasses.asdict(c) for c in self.checks]
        else:
            raise _fail("table", table, "'rounds' or 'checks'")
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                'to_pandas: pandas is not installed (expected `pip install "valueroute[pandas]"`)'
            ) from None
        return pd.DataFrame(rows)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _pooled(
    runs: Sequence[ReplicationResult], start: float, types: set[str] | None
) -> tuple[list[tuple[float, float, float, float, float]], float]:
    """Per replication (within, answered, abandoned, wait sum, offered) of one interval."""
    figures = []
    for run in runs:
        within = answered = abandoned = waited = offered = 0.0
        for row in run.intervals:
            if row["interval_start"] != start or (types is not None and row["type"] not in types):
                continue
            offered += row["offered"]
            within += row["answered_within"]
            answered += row["answered"]
            abandoned += row["abandoned"]
            if row["answered"]:
                waited += row["asa"] * row["answered"]
        figures.append((within, answered, abandoned, waited, offered))
    return figures, math.fsum(f[4] for f in figures) / max(1, len(figures))


def _check_interval(
    runs: Sequence[ReplicationResult],
    targets: Sequence[StaffingTarget],
    *,
    t: int,
    label: str,
    start: float,
    confidence: float,
) -> list[IntervalCheck]:
    from valueroute.sim.metrics import student_t_quantile

    checks = []
    for target in targets:
        types = None if target.task_type == "all" else {target.task_type}
        figures, offered = _pooled(runs, start, types)
        for kpi, goal in target.kpis():
            per_run: list[float] = []
            top = bottom = 0.0
            for within, answered, abandoned, waited, _ in figures:
                closed = answered + abandoned
                if kpi == "service_level":
                    part, whole = within, closed
                elif kpi == "asa":
                    part, whole = waited, answered
                else:
                    part, whole = abandoned, closed
                top += part
                bottom += whole
                if whole:
                    per_run.append(part / whole)
            if bottom == 0.0:
                # Nothing was answered or abandoned: nothing missed the target.
                checks.append(
                    IntervalCheck(
                        t, label, target.task_type, kpi, goal, math.nan, math.nan, offered, True
                    )
                )
                continue
            value = top / bottom
            spread = 0.0
            if confidence > 0.5 and len(per_run) >= 2:
                mean = math.fsum(per_run) / len(per_run)
                variance = math.fsum((v - mean) ** 2 for v in per_run) / (len(per_run) - 1)
                spread = student_t_quantile(confidence, len(per_run) - 1) * math.sqrt(
                    variance / len(per_run)
                )
            if kpi == "service_level":
                bound = value - spread
                met = bound >= goal - 1e-12
            else:
                bound = value + spread
                met = bound <= goal + 1e-12
            checks.append(
                IntervalCheck(t, label, target.task_type, kpi, goal, value, bound, offered, met)
            )
    return checks


def _with_awt(scenario: Scenario, targets: Sequence[StaffingTarget]) -> Scenario:
    """The targets' ``awt`` as the task types' service-level threshold."""
    awts: dict[str, float] = {}
    for target in targets:
        if target.awt is None:
            continue
        names = (
            [t.name for t in scenario.task_types]
            if target.task_type == "all"
            else [target.task_type]
        )
        for name in names:
            if name in awts and awts[name] != target.awt:
                raise _fail(
                    "targets", target.awt, f"one awt per task type ({name!r} has {awts[name]:g})"
                )
            awts[name] = target.awt
    if not awts:
        return scenario
    data = scenario.model_dump()
    for entry in data["task_types"]:
        if entry["name"] in awts:
            entry["sla_seconds"] = awts[entry["name"]]
    return type(scenario).model_validate(data)


def repair_by_simulation(
    scenario: Scenario,
    spec: ScheduleSpec | Mapping[str, Any] | str | Path,
    requirements: Any | None = None,
    *,
    targets: StaffingTarget | Sequence[StaffingTarget],
    group: str | None = None,
    offset_seconds: float = 0.0,
    schedule: Schedule | None = None,
    replications: int = 10,
    seed: int | None = None,
    confidence: float = 0.5,
    min_offered: float = 1.0,
    max_rounds: int = 10,
    executor: Executor | None = None,
    allow_code: bool = False,
) -> RepairResult:
    """Simulate the roster and add the cheapest shifts where the simulated service misses.

    Starts from ``schedule`` (by default :func:`solve_schedule` of
    ``requirements`` and ``spec``), turns it into the scenario's ``group``
    (:func:`roster_scenario`, with ``offset_seconds``) and runs ``replications`` replications. An
    interval (the scenario's ``interval_minutes``, which must equal the
    spec's) fails when a target's pooled figure over the replications, moved
    by the Student t half-width at ``confidence`` (0.5: the plain figure),
    misses its goal; intervals where fewer than ``min_offered`` tasks arrive
    per replication are not judged. Each failing interval then needs one more
    agent on duty than it had, every other interval keeps at least what it
    had, and the shifts already rostered stay: the MIP finds the cheapest
    shifts to add (with breaks and every rule of the spec). Repeat until no
    interval fails (``converged``) or ``max_rounds`` rounds have run.

    Every round uses the same ``seed``, so rounds see the same customers
    (common random numbers) and adding an agent can only help on each sample
    path but for rare routing effects. ``executor`` runs the replications (by
    default one process pool, one worker per CPU, for the whole loop).
    """
    from valueroute.sim.run import simulate
    from valueroute.sim.scenario import Scenario as _Scenario
    from valueroute.sim.staffing import StaffingTarget as _Target

    started = time.perf_counter()
    if not isinstance(scenario, _Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    chosen: tuple[Any, ...]
    if isinstance(targets, _Target):
        chosen = (targets,)
    elif isinstance(targets, Iterable) and not isinstance(targets, str | bytes | Mapping):
        chosen = tuple(targets)
    else:
        chosen = ()
    if not chosen or not all(isinstance(t, _Target) for t in chosen):
        raise _fail("targets", targets, "one StaffingTarget or a non-empty list of them")
    type_names = [t.name for t in scenario.task_types]
    for index, target in enumerate(chosen):
        if target.task_type != "all" and target.task_type not in type_names:
            raise _fail(
                f"targets.{index}.task_type", target.task_type, f"'all' or one of {type_names}"
            )
    for name, value, low, high in (
        ("replications", replications, 1, 10_000),
        ("max_rounds", max_rounds, 0, 1000),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(name, value, f"a whole number from {low} to {high}")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.5 <= confidence < 1.0
    ):
        raise _fail("confidence", confidence, "a number from 0.5 (plain figure) to below 1")
    if (
        isinstance(min_offered, bool)
        or not isinstance(min_offered, int | float)
        or not (math.isfinite(min_offered) and min_offered >= 0.0)
    ):
        raise _fail("min_offered", min_offered, "a finite number >= 0")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise _fail("seed", seed, "a whole number >= 0")
    if executor is not None and not isinstance(executor, Executor):
        raise _fail("executor", type(executor).__name__, "a concurrent.futures.Executor")
    checked = _spec(spec)
    grid = 60.0 * scenario.interval_minutes
    if (
        isinstance(offset_seconds, int | float)
        and not isinstance(offset_seconds, bool)
        and math.isfinite(offset_seconds)
        and offset_seconds % grid
    ):
        raise _fail(
            "offset_seconds",
            offset_seconds,
            f"a multiple of the scenario's interval, {grid:g} s (intervals are judged on its grid)",
        )
    if checked.interval_minutes != scenario.interval_minutes:
        raise _fail(
            "spec.interval_minutes",
            checked.interval_minutes,
            f"the scenario's interval_minutes, {scenario.interval_minutes} (intervals are "
            "judged on the scenario's grid)",
        )
    if schedule is None:
        needed = requirements_from(checked.requirements if requirements is None else requirements)
        model = _build(checked, needed)
        current = _solve(model)
    else:
        if not isinstance(schedule, Schedule):
            raise _fail("schedule", type(schedule).__name__, "a Schedule (see solve_schedule)")
        model = _build(checked, schedule.requirement)
    initial = current if schedule is None else schedule
    current = initial
    # Refuses a bad group or offset before any run.
    roster_scenario(scenario, current, group=group, offset_seconds=offset_seconds)
    prepared = _with_awt(scenario, chosen)
    base_seed = scenario.seed if seed is None else seed
    pool = executor
    own = False
    if pool is None and replications > 1:
        pool = ProcessPoolExecutor(max_workers=min(replications, os.cpu_count() or 1))
        own = True
    rounds: list[RepairRound] = []
    checks: list[IntervalCheck] = []
    skipped: list[int] = []
    converged = False
    reason = ""
    try:
        for number in range(max_rounds + 1):
            clock = time.perf_counter()
            result = simulate(
                roster_scenario(prepared, current, group=group, offset_seconds=offset_seconds),
                replications=replications,
                seed=base_seed,
                executor=pool,
                allow_code=allow_code,
            )
            simulated = time.perf_counter() - clock
            checks, skipped = _judge_all(
                result.replications,
                chosen,
                current,
                confidence,
                min_offered,
                scenario.horizon_seconds,
                float(offset_seconds),
            )
            missed = tuple(c for c in checks if not c.met)
            if not missed:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, (), 0.0, simulated, 0.0)
                )
                converged = True
                reason = "every judged interval meets every target in simulation"
                break
            if number == max_rounds:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = f"targets still missed after max_rounds={max_rounds} repairs"
                break
            failing = {c.interval for c in missed}
            need = [
                max(r, h + 1 if t in failing else h)
                for t, (r, h) in enumerate(zip(current.requirement, current.headcount, strict=True))
            ]
            blocked = [
                t
                for t in failing
                if model.maximum[t] is not None and need[t] > (model.maximum[t] or 0)
            ]
            if blocked:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = "no shift can be added: max_headcount reached in " + ", ".join(
                    current.labels[t] for t in sorted(blocked)[:5]
                )
                break
            lower = _counts(model, current)
            try:
                repaired = _solve(model, need=need, lower=lower)
            except InfeasibleScheduleError as exc:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = f"no shift can be added under the spec's rules ({exc})"
                break
            if repaired.cost <= current.cost and repaired.agents <= current.agents:
                rounds.append(
                    RepairRound(
                        number,
                        current.cost,
                        current.agents,
                        missed,
                        0.0,
                        simulated,
                        repaired.solve_seconds,
                    )
                )
                reason = "no shift can be added within the budget"
                break
            rounds.append(
                RepairRound(
                    number,
                    current.cost,
                    current.agents,
                    missed,
                    repaired.cost - current.cost,
                    simulated,
                    repaired.solve_seconds,
                )
            )
            current = repaired
    finally:
        if own and pool is not None:
            pool.shutdown()
    return RepairResult(
        schedule=current,
        initial=initial,
        converged=converged,
        reason=reason,
        rounds=tuple(rounds),
        checks=tuple(checks),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )


def _judge_all(
    runs: Sequence[ReplicationResult],
    targets: Sequence[StaffingTarget],
    schedule: Schedule,
    confidence: float,
    min_offered: float,
    horizon: float,
    offset: float,
) -> tuple[list[IntervalCheck], list[int]]:
    checks: list[IntervalCheck] = []
    skipped: list[int] = []
    step = 60.0 * schedule.interval_minutes
    for t, label in enumerate(schedule.labels):
        start = offset + t * step
        if start >= horizon:
            break
        _, offered = _pooled(runs, start, None)
        if offered == 0.0:
            continue
        if offered < min_offered:
            skipped.append(t)
            continue
        checks.extend(
            _check_interval(runs, targets, t=t, label=label, start=start, confidence=confidence)
        )
    return checks, skipped


def _counts(model: _Model, schedule: Schedule) -> list[int]:
    """Shifts per option of ``model`` in ``schedule`` (the repair's floor)."""
    index = {(o.name, o.start): k for k, o in enumerate(model.options)}
    counts = [0] * len(model.options)
    step = model.spec.interval_minutes
    for shift in schedule.shifts:
        key = (shift.template, (shift.start_minutes - schedule.start_minutes) // step)
        if key not in index:
            raise _fail(
                "schedule",
                f"{shift.template} at {shift.label()}",
                "shifts the spec's templates allow (the schedule was solved from another spec)",
            )
        counts[index[key]] += shift.count
    return counts
