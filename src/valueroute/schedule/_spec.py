"""What users hand in: shift templates, break rules, days off, the spec, requirements."""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from valueroute._documents import SUFFIXES, DocumentError, parse_document
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import BoundaryModel

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


def _spec(spec: object) -> ScheduleSpec:
    if isinstance(spec, ScheduleSpec):
        return spec
    if isinstance(spec, str | os.PathLike):
        return load_schedule_spec(spec)
    if isinstance(spec, Mapping):
        return ScheduleSpec.model_validate(spec)
    raise _fail("spec", type(spec).__name__, "a ScheduleSpec, a mapping or a spec file path")
