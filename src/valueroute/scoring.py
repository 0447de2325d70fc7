"""Scoring policies: what a task is worth at a given moment.

A policy describes a task's score as a function of time, piece by piece:
:meth:`Policy.segment` returns a :class:`Segment` ``(base, slope, until)``
meaning *score(t) = base + slope × t* for every ``t`` from now until (not
including) ``until``. Larger scores are served first.

That form is what lets :class:`~valueroute.tasklist.TaskList` keep the order
exact while scores move: tasks whose scores grow at the same slope never change
their relative order, so the list keeps one heap per (requirement group,
slope) and compares only heap heads at query time. A score that bends (a ramp
that stops at a cap, a penalty when the due time passes) ends its segment at
the bend, and the list re-files the task there.

A segment may also run on a *working clock* (a business calendar):
``Segment(base, slope, until, clock)`` means *score(t) = base + slope × W(t)*,
with W the calendar's working time. Tasks on the same clock at the same slope
keep their order too, however often the calendar opens and closes, so working-
time aging never re-files a task at an opening or closing.

Times are float seconds. With epoch-based times (about 1.7e9 s) the base of a
sloped segment is large, and scores carry an absolute rounding error of at
most about 3 × 2**-53 × slope × t: up to 6e-7 per unit of slope at t ≈ 1.8e9 s
(docs/tasklist.md, "Rounding"), far below any difference a business rule
expresses.

Built-in policies (``docs/scoring.md`` gives formulas and sources):

- :class:`Fifo` (``fifo``): age.
- :class:`StrictPriority` (``strict_priority``): priority, then age.
- :class:`AgingPriority` (``aging_priority``): priority + age / seconds_per_point.
- :class:`EarliestDue` (``edd``): −due.
- :class:`LeastSlack` (``least_slack``): −(due − now − handle time).
- :class:`PriorityRamp` (``ramp``): priority + ramp steps + overdue steps.
- :class:`CMu` (``cmu``): cost × service rate.
- :class:`Kleinrock` (``kleinrock``): rate × age.
- :class:`CMuTheta` (``cmu_theta``): cost × service rate / abandonment rate.
- :class:`ValueAtRisk` (``value_at_risk``): value × P(due time missed).
- :class:`Composite` (``composite``): Σ weight × part.
- :class:`Rescored`: any callable, re-scored every interval (approximate).

Every built-in policy also has ``terms(task, now)``: the score broken into
named parts that add up to it; :func:`explain` turns them into an
:class:`Explanation`.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from valueroute._parameters import build, parameters_of
from valueroute.errors import InvalidInputError, PolicyError, bounded_repr
from valueroute.models import MIN_RAMP_EVERY
from valueroute.task import Task

__all__ = [
    "NO_DUE_SCORE",
    "POLICY_NAMES",
    "AgingPriority",
    "CMu",
    "CMuTheta",
    "Composite",
    "EarliestDue",
    "Explanation",
    "Fifo",
    "Kleinrock",
    "LeastSlack",
    "Policy",
    "PriorityRamp",
    "Ramp",
    "Rescored",
    "Segment",
    "StrictPriority",
    "Term",
    "ValueAtRisk",
    "WorkingClock",
    "as_policy",
    "explain",
    "policy_by_name",
    "policy_parameters",
]

_INF = math.inf

NO_DUE_SCORE = -1e15
"""Score given to tasks without a due time by due-time policies: below every task
with a due time before the year 31 million, so they are served last, oldest
first (the task list's tie-break). A finite number, so composites stay linear."""


class WorkingClock(Protocol):
    """A clock a score may run on: non-decreasing, continuous, piecewise linear in wall time.

    :class:`~valueroute.calendar.BusinessCalendar` is one: its working time
    ``W(t)`` stands still while it is closed.
    """

    def working_time(self, t: float) -> float:
        """The clock's reading at wall time ``t``."""
        ...

    def piece(self, t: float) -> tuple[float, float, float]:
        """``(base, slope, until)``: the reading is ``base + slope * s`` for ``t <= s < until``."""
        ...


class Segment(NamedTuple):
    """One linear piece of a score: ``base + slope * c`` for ``t < until``.

    ``c`` is the wall time ``t`` when ``clock`` is ``None``, else the clock's
    reading ``clock.working_time(t)`` (a :class:`WorkingClock`, such as a
    business calendar): a score that grows only while the calendar is open.
    """

    base: float
    slope: float
    until: float = _INF
    clock: WorkingClock | None = None

    def at(self, now: float) -> float:
        """The score at ``now``."""
        clock = self.clock
        return self.base + self.slope * (now if clock is None else clock.working_time(now))

    def on_wall(self, now: float) -> Segment:
        """The same score from ``now`` as a piece in wall time (ending, too, where
        the clock's piece ends); the segment itself when it has no clock."""
        clock = self.clock
        if clock is None:
            return self
        base, slope, until = clock.piece(now)
        return Segment(self.base + self.slope * base, self.slope * slope, min(self.until, until))


@runtime_checkable
class Policy(Protocol):
    """What the task list needs from a scoring policy."""

    @property
    def name(self) -> str:
        """Short name shown in explanations and reports."""
        ...

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of ``task``'s score that holds at ``now``.

        ``until`` must be greater than ``now`` (``math.inf`` when the piece
        never ends). Must be deterministic: same task fields and ``now`` give
        the same segment.
        """
        ...


# ---------------------------------------------------------------------- helpers


def _shown(value: Any) -> str:
    """A user value for an error message, bounded in length and in the work to build it."""
    return bounded_repr(value)


def _clip(text: str, limit: int = 200) -> str:
    """Text for an error message, cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_real(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a finite real number.

    ``int`` and ``float`` (and their subclasses) only; ``bool`` is not taken
    for a number, nor an integer no float holds (beyond about 1.8e308).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _finite(owner: str, name: str, value: Any) -> float:
    number = _as_real(value)
    if number is None:
        raise InvalidInputError(
            f"{owner}.{name}: got {_shown(value)} (expected a finite number)",
            [(f"{owner}.{name}", value, "a finite number")],
        )
    return number


def _positive(owner: str, name: str, value: Any, *, allow_zero: bool = False) -> float:
    number = _as_real(value)
    if number is None or not (number >= 0 if allow_zero else number > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(
            f"{owner}.{name}: got {_shown(value)} (expected a finite number {bound})",
            [(f"{owner}.{name}", value, f"a finite number {bound}")],
        )
    return number


def _finite_reciprocal(owner: str, name: str, value: float) -> None:
    """Refuse a positive ``value`` so small that ``1 / value`` is infinite (a subnormal float)."""
    if math.isinf(1.0 / value):
        raise InvalidInputError(
            f"{owner}.{name}: got {_shown(value)} (expected a number whose reciprocal is finite, "
            "about 5.6e-309 or more)",
            [(f"{owner}.{name}", value, "a number whose reciprocal is finite")],
        )


class _PerType:
    """A number per task type, with ``"*"`` as the value for every other type.

    Requiring a default means a task of an unlisted type is scored, not
    refused when it arrives.
    """

    __slots__ = ("default", "values")

    def __init__(
        self, owner: str, name: str, spec: float | Mapping[str, float], *, allow_zero: bool = False
    ) -> None:
        if isinstance(spec, Mapping):
            values: dict[str, float] = {}
            for key, number in spec.items():
                if not isinstance(key, str):
                    raise InvalidInputError(
                        f"{owner}.{name}: got key {_shown(key)} (expected task type names)"
                    )
                values[key] = _positive(
                    owner, f"{name}[{_shown(key)}]", number, allow_zero=allow_zero
                )
            if "*" not in values:
                raise InvalidInputError(
                    f"{owner}.{name}: got {_shown(dict(spec))} (expected a '*' entry giving the "
                    "value for task types not listed)"
                )
            self.default = values.pop("*")
            self.values = values
        elif _as_real(spec) is None:
            bound = ">= 0" if allow_zero else "> 0"
            raise InvalidInputError(
                f"{owner}.{name}: got {_shown(spec)} (expected a finite number {bound}, or a "
                "mapping of task type to one with a '*' entry for the other types)",
                [(f"{owner}.{name}", spec, f"a finite number {bound} or a mapping by task type")],
            )
        else:
            self.default = _positive(owner, name, spec, allow_zero=allow_zero)
            self.values = {}

    def __call__(self, task_type: str) -> float:
        return self.values.get(task_type, self.default)

    def describe(self) -> float | dict[str, float]:
        if not self.values:
            return self.default
        return {**self.values, "*": self.default}


def _steps_taken(origin: float, every: float, now: float) -> int:
    """How many of the instants ``origin + j*every`` (j >= 1) are <= now.

    Computed from the same float expression the breakpoints use, so a step
    happens exactly at its breakpoint. O(1): the quotient is corrected by at
    most one step either way, never counted one at a time.
    """
    if now < origin + every:
        return 0
    count = int((now - origin) // every)
    if origin + (count + 1) * every <= now:
        count += 1
    elif count > 0 and origin + count * every > now:
        count -= 1
    return count


def _step_until(origin: float, every: float, steps: int, now: float) -> float:
    """The instant of step ``steps + 1``, after ``now`` even where floats tell no steps apart."""
    until = origin + (steps + 1) * every
    return until if until > now else math.nextafter(now, _INF)


Clock = Literal["wall", "working"]
"""How a policy counts age and slack: ``"wall"`` seconds, or ``"working"``
seconds of the task's business calendar (wall seconds when it has none)."""


def _working_clock(owner: str, clock: Any) -> bool:
    """Whether ``clock`` is ``"working"``; refuses anything but ``"wall"`` and ``"working"``."""
    if not isinstance(clock, str) or clock not in ("wall", "working"):
        raise InvalidInputError(
            f"{owner}.clock: got {_shown(clock)} (expected 'wall' or 'working')",
            [(f"{owner}.clock", clock, "'wall' or 'working'")],
        )
    return clock == "working"


def _as_segment(piece: Any) -> Segment:
    """A policy's answer as a :class:`Segment` (a plain ``(base, slope, until)`` tuple
    from a user's policy, too)."""
    if type(piece) is Segment:
        return piece
    return Segment(*piece)


def _reach(calendar: Any, now: float, w_now: float, target: float) -> float:
    """The first instant after ``now`` at which working time ``W`` reaches ``target`` (or now)."""
    if target <= w_now:
        return now
    reached = float(calendar.add(now, target - w_now))
    # A target a rounding error ahead: the piece still ends after now.
    return reached if reached > now else math.nextafter(now, _INF)


# # ---------------------------------------------------------------------- simple policies


class Fifo:
    """First in, first out: the score is the task's age in seconds."""

    name = "fifo"

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        return Segment(-task.created, 1.0)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [("age", now - task.created)]

    def __repr__(self) -> str:
        return "Fifo()"


class StrictPriority:
    """Higher priority first; within a priority, the older task first.

    The score is the priority itself; the task list breaks equal scores by age,
    then by submission order. This is Twilio TaskRouter's ordering.
    """

    name = "strict_priority"

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        return Segment(float(task.priority), 0.0)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [("priority", float(task.priority))]

    def __repr__(self) -> str:
        return "StrictPriority()"


class AgingPriority:
    """Priority plus waiting time: one priority point equals ``seconds_per_point`` seconds.

    score(t) = priority + (t - created) / seconds_per_point. A task with one
    point more priority is served before a task that arrived up to
    ``seconds_per_point`` seconds earlier. This is how Genesys Cloud combines
    priority and waiting time.

    With ``clock="working"`` the waiting time is counted in the task's
    business calendar (``task.calendar``; wall time for a task without one):
    score(t) = priority + (W(t) - W(created)) / seconds_per_point, which stands
    still while the calendar is closed: one segment on the calendar's clock
    (see :class:`Segment`), so the order stays exact and no task is re-filed
    when the calendar opens or closes.

    ``seconds_per_point`` is a finite number > 0 (an ``int`` or a ``float``,
    kept as a float); anything else (text, ``None``, a bool, ``nan``, an
    integer no float holds) raises :class:`~valueroute.errors.InvalidInputError`
    naming it; so does a ``clock`` other than ``"wall"`` or ``"working"``.
    """

    name = "aging_priority"

    def __init__(self, seconds_per_point: float = 60.0, *, clock: Clock = "wall") -> None:
        self.seconds_per_point = _positive("AgingPriority", "seconds_per_point", seconds_per_point)
        _finite_reciprocal("AgingPriority", "seconds_per_point", self.seconds_per_point)
        self._rate = 1.0 / self.seconds_per_point
        self._working = _working_clock("AgingPriority", clock)
        self.clock: Clock = clock

    def segment(self, task: Task, now: float) -> Segment:
        """The score's piece at ``now``: 1/seconds_per_point per second (per working second)."""
        rate = self._rate
        if not self._working or task.calendar is None:
            return Segment(task.priority - task.created * rate, rate)
        calendar = task.calendar
        w_created = calendar.working_time(task.created)
        return Segment(task.priority - w_created * rate, rate, _INF, calendar)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """Priority and waiting points at ``now``."""
        calendar = task.calendar
        if calendar is None or not self._working:
            waited = now - task.created
        else:
            waited = calendar.elapsed(task.created, now)
        return [("priority", float(task.priority)), ("waiting", waited * self._rate)]

    def __repr__(self) -> str:
        clock = "" if self.clock == "wall" else f", clock={self.clock!r}"
        return f"AgingPriority(seconds_per_point={self.seconds_per_point:g}{clock})"


class Rescored:
    """Any ``callable(task, now) -> float`` as a policy, re-scored every ``interval`` s.

    The score is held constant between re-scorings, so between them the order
    can be stale by at most what the function changes in ``interval`` seconds:
    a task that overtakes another just after a re-scoring is served second
    until the next one. Use it for scores that are not piecewise linear in
    time; prefer an exact policy when one exists. Costs one re-filing per open
    task per interval.

    ``function`` must be callable and ``interval`` a finite number of seconds
    > 0 (an ``int`` or a ``float``, not a bool); anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter. The
    function must return a real number (a ``float``, an ``int``, a numpy
    scalar); anything else (text, ``None``, a bool, an integer no float
    holds) raises :class:`~valueroute.errors.PolicyError` when the task is
    scored.
    """

    def __init__(self, function: Callable[[Task, float], float], *, interval: float) -> None:
        if not callable(function):
            raise InvalidInputError(
                f"Rescored.function: got {_shown(function)} "
                "(expected a callable(task, now) -> float)"
            )
        self.interval = _positive("Rescored", "interval", interval)
        self.function = function
        self.name = getattr(function, "__name__", type(function).__name__)

    def _score(self, task: Task, now: float) -> float:
        score = self.function(task, now)
        if type(score) is float:
            return score
        # A real number of another type (an int, a numpy scalar) counts as
        # its float; text, None or a bool is not a score.
        if not isinstance(score, bool) and isinstance(score, numbers.Real):
            try:
                return float(score)
            except OverflowError:
                pass
        raise PolicyError(
            f"policy {_shown(self.name)} scored task {_shown(task.id)} {_shown(score)} of type "
            f"{type(score).__name__} (expected a real number)"
        )

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        return Segment(self._score(task, now), 0.0, now + self.interval)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [(self.name, self._score(task, now))]

    def __repr__(self) -> str:
        return f"Rescored({self.name}, interval={self.interval:g})"


# ---------------------------------------------------------------------- due-time policies


class EarliestDue:
    """Earliest due date first (EDD; Jackson 1955): score = −due.

    Constant in time, so every task sits in one bucket and the order is exact.
    A task without a due time is treated as due ``due_after`` seconds after it
    was created; with ``due_after=None`` (the default) it scores
    :data:`NO_DUE_SCORE` and waits behind every task that has a due time,
    oldest first among its kind.

    ``due_after`` is ``None`` or a number of seconds > 0.
    Numbers are ``int`` or ``float`` (kept as floats), finite, not a bool and
    not an integer no float holds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "edd"

    def __init__(self, *, due_after: float | None = None) -> None:
        self.due_after = (
            None if due_after is None else _positive("EarliestDue", "due_after", due_after)
        )

    def _due(self, task: Task) -> float | None:
        if task.due is not None:
            return task.due
        if self.due_after is not None:
            return task.created + self.due_after
        return None

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        due = self._due(task)
        return Segment(NO_DUE_SCORE if due is None else -due, 0.0)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        due = self._due(task)
        if due is None:
            return [("no due time", NO_DUE_SCORE)]
        return [("minus due", -due)]

    def __repr__(self) -> str:
        return f"EarliestDue(due_after={self.due_after!r})"


class LeastSlack:
    """Least slack first: slack = due − now − expected handle time of the task's type.

    score(t) = −slack(t) = t + handle(type) − due: every task gains one point
    per second, so the order is that of ``due − handle`` and exact. A task that
    needs longer handling must start earlier for the same due time. Tasks
    without a due time are placed as in :class:`EarliestDue`.

    With ``clock="working"`` slack is working time in the task's business
    calendar (``task.calendar``; wall time for a task without one): slack =
    W(due) − W(now) − handle, and ``due_after`` counts working seconds after
    creation: one segment on the calendar's clock (see :class:`Segment`).

    ``handle_seconds`` is a number >= 0 or a mapping of task type to seconds
    with a ``"*"`` entry for the other types; ``due_after`` as in
    :class:`EarliestDue`; ``clock`` is ``"wall"`` or ``"working"``.
    Numbers are ``int`` or ``float`` (kept as floats), finite, not a bool and
    not an integer no float holds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "least_slack"

    def __init__(
        self,
        handle_seconds: float | Mapping[str, float],
        *,
        due_after: float | None = None,
        clock: Clock = "wall",
    ) -> None:
        self.handle_seconds = _PerType(
            "LeastSlack", "handle_seconds", handle_seconds, allow_zero=True
        )
        self._due = EarliestDue(due_after=due_after)
        self._working = _working_clock("LeastSlack", clock)
        self.clock: Clock = clock

    def _working_due(self, task: Task, calendar: Any) -> float | None:
        """W(due) in the task's calendar, or ``None`` without a due time."""
        if task.due is not None:
            return float(calendar.working_time(task.due))
        if self._due.due_after is not None:
            return float(calendar.working_time(task.created)) + self._due.due_after
        return None

    def segment(self, task: Task, now: float) -> Segment:
        """The score's piece at ``now`` (minus the slack)."""
        calendar = task.calendar
        if calendar is None or not self._working:
            due = self._due._due(task)
            if due is None:
                return Segment(NO_DUE_SCORE, 1.0)
            return Segment(self.handle_seconds(task.type) - due, 1.0)
        w_due = self._working_due(task, calendar)
        if w_due is None:
            return Segment(NO_DUE_SCORE, 1.0, _INF, calendar)
        return Segment(self.handle_seconds(task.type) - w_due, 1.0, _INF, calendar)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """Minus the slack at ``now`` (or the no-due score and the waiting clock)."""
        calendar = task.calendar
        if calendar is None or not self._working:
            due = self._due._due(task)
            if due is None:
                return [("no due time", NO_DUE_SCORE), ("waiting clock", now)]
            return [("minus slack", now + self.handle_seconds(task.type) - due)]
        w_now = float(calendar.working_time(now))
        w_due = self._working_due(task, calendar)
        if w_due is None:
            return [("no due time", NO_DUE_SCORE), ("working clock", w_now)]
        return [("minus working slack", w_now + self.handle_seconds(task.type) - w_due)]

    def __repr__(self) -> str:
        clock = "" if self.clock == "wall" else f", clock={self.clock!r}"
        return f"LeastSlack(handle_seconds={self.handle_seconds.describe()!r}{clock})"


# ---------------------------------------------------------------------- priority ramp


@dataclass(frozen=True, slots=True)
class Ramp:
    """An iWD-style priority ramp.

    Starting ``after`` seconds after the task was created, its priority rises
    by ``step`` every ``every`` seconds, never above ``cap`` through ramping
    (a task whose own priority is above the cap keeps it). Once the due time
    passes, ``overdue_step`` is added at the due time and again every
    ``overdue_every`` seconds (once only when ``None``), at most
    ``overdue_cap`` in total (unbounded when ``None``). Overdue steps are not
    limited by ``cap``: a late task outranks the on-time ones.

    Every field is a finite number (``int`` or ``float``, kept as a float;
    not a bool): ``step`` and ``every`` > 0, ``after`` and ``overdue_step``
    >= 0, ``overdue_every`` > 0 or ``None``, ``overdue_cap`` >= 0 or ``None``,
    ``cap`` any finite number or ``None``; ``every`` and ``overdue_every``
    at least :data:`~valueroute.models.MIN_RAMP_EVERY` seconds. Anything
    else raises :class:`~valueroute.errors.InvalidInputError` naming the
    field.
    """

    step: float
    every: float
    cap: float | None = None
    after: float = 0.0
    overdue_step: float = 0.0
    overdue_every: float | None = None
    overdue_cap: float | None = None

    def __post_init__(self) -> None:
        # Kept as floats, so that an integer setting scores as its float does.
        checked = {
            "step": _positive("Ramp", "step", self.step),
            "every": _positive("Ramp", "every", self.every),
            "after": _positive("Ramp", "after", self.after, allow_zero=True),
            "overdue_step": _positive("Ramp", "overdue_step", self.overdue_step, allow_zero=True),
        }
        if self.cap is not None:
            checked["cap"] = _finite("Ramp", "cap", self.cap)
        if self.overdue_every is not None:
            checked["overdue_every"] = _positive("Ramp", "overdue_every", self.overdue_every)
        if self.overdue_cap is not None:
            checked["overdue_cap"] = _positive(
                "Ramp", "overdue_cap", self.overdue_cap, allow_zero=True
            )
        if checked["every"] < MIN_RAMP_EVERY:
            raise InvalidInputError(
                f"Ramp.every: got {_shown(self.every)} (expected at least "
                f"{MIN_RAMP_EVERY:g} seconds)",
                [("Ramp.every", self.every, f"at least {MIN_RAMP_EVERY:g} seconds")],
            )
        if "overdue_every" in checked and checked["overdue_every"] < MIN_RAMP_EVERY:
            raise InvalidInputError(
                f"Ramp.overdue_every: got {_shown(self.overdue_every)} (expected at least "
                f"{MIN_RAMP_EVERY:g} seconds)",
                [("Ramp.overdue_every", self.overdue_every, f"at least {MIN_RAMP_EVERY:g}")],
            )
        for name, number in checked.items():
            object.__setattr__(self, name, number)

    @classmethod
    def from_config(cls, config: Ramp | Mapping[str, Any], *, where: str = "ramp") -> Ramp:
        """A ramp from a mapping of its fields (as found in configuration files).

        ``where`` names the setting in error messages.
        """
        if isinstance(config, Ramp):
            return config
        if not isinstance(config, Mapping):
            raise InvalidInputError(
                f"{where}: got {_shown(config)} (expected a Ramp or a mapping with step, every, "
                "cap, ...)",
                [(where, config, "a Ramp or a mapping of its fields")],
            )
        known = set(cls.__dataclass_fields__)
        unknown = [key for key in config if not (isinstance(key, str) and key in known)]
        if unknown:
            raise InvalidInputError(
                f"{where}: got unknown ramp fields {_shown(unknown)} "
                f"(expected some of {sorted(known)})",
                [(where, unknown, f"some of {sorted(known)}")],
            )
        missing = [name for name in ("step", "every") if name not in config]
        if missing:
            raise InvalidInputError(
                f"{where}: got {_shown(dict(config))} (expected a ramp with the fields {missing} "
                "too)",
                [(where, dict(config), "step and every")],
            )
        return cls(**config)

    def parts(self, task: Task, now: float, *, working: bool = False) -> tuple[float, float, float]:
        """``(ramp points, overdue points, until)`` at ``now``. O(1) (O(log n) with a calendar).

        With ``working`` and a task with a calendar, ``after``, ``every`` and
        ``overdue_every`` are working seconds: step k happens at
        ``calendar.add(created, after + k * every)``, overdue step k at
        ``calendar.add(due, k * overdue_every)``.
        """
        calendar = task.calendar if working else None
        if calendar is not None:
            return self._working_parts(task, now, calendar)
        until = _INF
        ramp_points = 0.0
        origin = task.created + self.after
        headroom = _INF if self.cap is None else max(0.0, self.cap - task.priority)
        if headroom > 0:
            steps = _steps_taken(origin, self.every, now)
            ramp_points = min(steps * self.step, headroom)
            if ramp_points < headroom:
                until = _step_until(origin, self.every, steps, now)
        overdue_points = 0.0
        due = task.due
        if due is not None and self.overdue_step > 0:
            limit = _INF if self.overdue_cap is None else self.overdue_cap
            if now < due:
                if limit > 0:
                    until = min(until, due)
            elif self.overdue_every is None:
                overdue_points = min(self.overdue_step, limit)
            else:
                steps = 1 + _steps_taken(due, self.overdue_every, now)
                overdue_points = min(steps * self.overdue_step, limit)
                if overdue_points < limit:
                    until = min(until, _step_until(due, self.overdue_every, steps - 1, now))
        return ramp_points, overdue_points, until

    def _working_parts(self, task: Task, now: float, calendar: Any) -> tuple[float, float, float]:
        """:meth:`parts` with steps at working-time instants of ``calendar``."""
        until = _INF
        ramp_points = 0.0
        w_now = float(calendar.working_time(now))
        headroom = _INF if self.cap is None else max(0.0, self.cap - task.priority)
        if headroom > 0:
            created = task.created
            elapsed = w_now - float(calendar.working_time(created)) - self.after
            steps = _working_steps(calendar, created, self.after, self.every, elapsed, now)
            ramp_points = min(steps * self.step, headroom)
            if ramp_points < headroom:
                until = calendar.add(created, self.after + (steps + 1) * self.every)
                if until <= now:
                    until = math.nextafter(now, _INF)
        overdue_points = 0.0
        due = task.due
        if due is not None and self.overdue_step > 0:
            limit = _INF if self.overdue_cap is None else self.overdue_cap
            if now < due:
                if limit > 0:
                    until = min(until, due)
            elif self.overdue_every is None:
                overdue_points = min(self.overdue_step, limit)
            else:
                elapsed = w_now - float(calendar.working_time(due))
                steps = 1 + _working_steps(calendar, due, 0.0, self.overdue_every, elapsed, now)
                overdue_points = min(steps * self.overdue_step, limit)
                if overdue_points < limit:
                    step_at = calendar.add(due, steps * self.overdue_every)
                    until = min(until, step_at if step_at > now else math.nextafter(now, _INF))
        return ramp_points, overdue_points, until


def _working_steps(
    calendar: Any, start: float, after: float, every: float, elapsed: float, now: float
) -> int:
    """Steps k >= 1 with ``calendar.add(start, after + k*every) <= now``, from ``elapsed``.

    ``elapsed`` is the working time past ``start + after`` at ``now``; the
    quotient is corrected against the very instants the breakpoints use, so
    a step happens exactly at its breakpoint.
    """
    if elapsed < every:
        count = 0
    else:
        count = int(elapsed // every)
    if calendar.add(start, after + (count + 1) * every) <= now:
        count += 1
    elif count > 0 and calendar.add(start, after + count * every) > now:
        count -= 1
    return count


class PriorityRamp:
    """Priority that rises while the task waits, iWD style; piecewise constant.

    score(t) = priority + ramp points(t) + overdue points(t) (see :class:`Ramp`).
    The ramp comes from ``task.ramp`` when a rule started one, otherwise from
    ``ramps[task.type]``, otherwise ``default``; a task with none keeps its
    priority. Each segment is flat and ends at the next step, so the order is
    exact. O(1) per segment.

    With ``clock="working"`` a task's ramp counts ``after``, ``every`` and
    ``overdue_every`` in working seconds of its business calendar
    (``task.calendar``; wall time for a task without one): no step happens
    while the calendar is closed.

    ``ramps`` is ``None`` or a mapping of task type (text) to a :class:`Ramp`
    or a mapping of its fields; ``default`` is ``None``, a :class:`Ramp` or
    such a mapping; ``clock`` is ``"wall"`` or ``"working"``. Anything else
    raises :class:`~valueroute.errors.InvalidInputError` naming the setting.
    """

    name = "ramp"

    def __init__(
        self,
        ramps: Mapping[str, Ramp | Mapping[str, Any]] | None = None,
        *,
        default: Ramp | Mapping[str, Any] | None = None,
        clock: Clock = "wall",
    ) -> None:
        self._working = _working_clock("PriorityRamp", clock)
        self.clock: Clock = clock
        if ramps is None:
            ramps = {}
        if not isinstance(ramps, Mapping):
            raise InvalidInputError(
                f"PriorityRamp.ramps: got {_shown(ramps)} (expected a mapping of task type to a "
                "Ramp or a mapping of its fields, or None)",
                [("PriorityRamp.ramps", ramps, "a mapping of task type to ramp")],
            )
        self.ramps: dict[str, Ramp] = {}
        for task_type, config in ramps.items():
            if not isinstance(task_type, str):
                raise InvalidInputError(
                    f"PriorityRamp.ramps: got the key {_shown(task_type)} (expected task type "
                    "names as text)",
                    [("PriorityRamp.ramps", task_type, "a task type name")],
                )
            self.ramps[task_type] = Ramp.from_config(
                config, where=f"PriorityRamp.ramps[{_shown(task_type)}]"
            )
        self.default = (
            None if default is None else Ramp.from_config(default, where="PriorityRamp.default")
        )

    def ramp_for(self, task: Task) -> Ramp | None:
        """The task's ramp: a rule's, else its type's, else the default (``None``: no ramp)."""
        ramp = task.ramp
        if ramp is not None:
            if not isinstance(ramp, Ramp):
                raise PolicyError(
                    f"task {task.id!r}: ramp is {_shown(ramp)} (expected a valueroute.scoring.Ramp)"
                )
            return ramp
        return self.ramps.get(task.type, self.default)

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        ramp = self.ramp_for(task)
        if ramp is None:
            return Segment(float(task.priority), 0.0)
        ramp_points, overdue_points, until = ramp.parts(task, now, working=self._working)
        return Segment(task.priority + ramp_points + overdue_points, 0.0, until)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        ramp = self.ramp_for(task)
        if ramp is None:
            return [("priority", float(task.priority))]
        ramp_points, overdue_points, _ = ramp.parts(task, now, working=self._working)
        return [
            ("priority", float(task.priority)),
            ("ramp", ramp_points),
            ("overdue", overdue_points),
        ]

    def __repr__(self) -> str:
        clock = "" if self.clock == "wall" else f", clock={self.clock!r}"
        return f"PriorityRamp(ramps={self.ramps!r}, default={self.default!r}{clock})"


# ---------------------------------------------------------------------- index policies


def _default_cost(task: Task) -> float:
    """The cost of a task when a c-mu policy has no ``cost``: its value, 1 when it has none.

    A value of 0 is a task's default (no value set). Taking it as the cost
    would score every such task 0, and the policy would serve in FIFO order
    while claiming to be c-mu.
    """
    value = task.value
    return value if value > 0 else 1.0


class CMu:
    """The c-mu rule: serve the class with the largest cost × service rate.

    score = c / handle(type), where c is ``cost[type]`` when costs are given,
    otherwise the task's business value (value earned per second of agent
    time), and 1 for a task whose value is 0 (the default: no value set), so
    that without costs or values the rule still serves the shortest work
    first rather than scoring every task 0 (which is FIFO). Optimal for linear
    delay costs in a single-server queue (Cox and Smith 1961; Buyukkoc,
    Varaiya and Walrand 1985). Constant in time; exact.

    ``handle_seconds`` (> 0) and ``cost`` (>= 0, or ``None``) are each a
    number or a mapping of task type to one with a ``"*"`` entry.
    Numbers are ``int`` or ``float`` (kept as floats), finite, not a bool and
    not an integer no float holds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "cmu"

    def __init__(
        self,
        handle_seconds: float | Mapping[str, float],
        *,
        cost: float | Mapping[str, float] | None = None,
    ) -> None:
        self.handle_seconds = _PerType("CMu", "handle_seconds", handle_seconds)
        self.cost = None if cost is None else _PerType("CMu", "cost", cost, allow_zero=True)

    def _cost(self, task: Task) -> float:
        if self.cost is None:
            return _default_cost(task)
        return self.cost(task.type)

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        return Segment(self._cost(task) / self.handle_seconds(task.type), 0.0)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [("cost x service rate", self._cost(task) / self.handle_seconds(task.type))]

    def __repr__(self) -> str:
        return f"CMu(handle_seconds={self.handle_seconds.describe()!r})"


class Kleinrock:
    """Kleinrock's delay-dependent priority: score = rate(type) × age.

    Priority grows linearly with waiting time at a per-class rate (Kleinrock
    1964). It is the generalised c-mu rule for quadratic delay costs
    c·w²/2 (Van Mieghem 1995): the index μ·C'(w) = μ·c·w, so
    :meth:`from_quadratic_cost` sets rate = c / handle time. Each class has
    its own slope, so the task list keeps one bucket per class; exact.

    ``rates`` (> 0) is a number or a mapping of task type to one with a
    ``"*"`` entry.
    Numbers are ``int`` or ``float`` (kept as floats), finite, not a bool and
    not an integer no float holds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "kleinrock"

    def __init__(self, rates: float | Mapping[str, float]) -> None:
        self.rates = _PerType("Kleinrock", "rates", rates)

    @classmethod
    def from_quadratic_cost(
        cls, cost: float | Mapping[str, float], handle_seconds: float | Mapping[str, float]
    ) -> Kleinrock:
        """The generalised c-mu rule for delay cost c·w²/2 per task."""
        costs = _PerType("Kleinrock", "cost", cost)
        handles = _PerType("Kleinrock", "handle_seconds", handle_seconds)
        types = set(costs.values) | set(handles.values)
        rates = {t: costs(t) / handles(t) for t in types}
        rates["*"] = costs.default / handles.default
        return cls(rates)

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        rate = self.rates(task.type)
        return Segment(-rate * task.created, rate)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [("rate x age", self.rates(task.type) * (now - task.created))]

    def __repr__(self) -> str:
        return f"Kleinrock(rates={self.rates.describe()!r})"


class CMuTheta:
    """The c-mu/theta rule for queues whose customers abandon.

    score = c × μ / θ = c × patience(type) / handle(type), with c from
    ``cost``, otherwise the task's value, and 1 for a task whose value is 0
    (no value set; as :class:`CMu`), μ = 1/handle time and θ = 1/mean patience.
    Asymptotically optimal in overload for many-server queues with
    abandonment (Atar, Giat and Shimkin 2010). Constant in time; exact.

    ``handle_seconds`` and ``patience_seconds`` (> 0) and ``cost`` (>= 0, or
    ``None``) are each a number or a mapping of task type to one with a
    ``"*"`` entry.
    Numbers are ``int`` or ``float`` (kept as floats), finite, not a bool and
    not an integer no float holds; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "cmu_theta"

    def __init__(
        self,
        handle_seconds: float | Mapping[str, float],
        patience_seconds: float | Mapping[str, float],
        *,
        cost: float | Mapping[str, float] | None = None,
    ) -> None:
        self.handle_seconds = _PerType("CMuTheta", "handle_seconds", handle_seconds)
        self.patience_seconds = _PerType("CMuTheta", "patience_seconds", patience_seconds)
        self.cost = None if cost is None else _PerType("CMuTheta", "cost", cost, allow_zero=True)

    def _index(self, task: Task) -> float:
        cost = _default_cost(task) if self.cost is None else self.cost(task.type)
        return cost * self.patience_seconds(task.type) / self.handle_seconds(task.type)

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        return Segment(self._index(task), 0.0)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        return [("cost x service rate / abandonment rate", self._index(task))]

    def __repr__(self) -> str:
        return (
            f"CMuTheta(handle_seconds={self.handle_seconds.describe()!r}, "
            f"patience_seconds={self.patience_seconds.describe()!r})"
        )


# ---------------------------------------------------------------------- value at risk


def _chord_width(tolerance: float) -> float:
    """Largest x = L/w with (x²/8)·eˣ <= tolerance (chord error bound), by bisection."""
    low, high = 0.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        if mid * mid / 8 * math.exp(mid) <= tolerance:
            low = mid
        else:
            high = mid
    return low


class ValueAtRisk:
    """Business value times the probability of missing the due time.

    With expected handle time h and expected wait w for the task's type, the
    wait is modelled as exponential (the conditional wait of an M/M/c queue),
    so P(miss) = min(1, exp(−(due − h − t)/w)) and

        VaR(t) = value × min(1, exp((t − d)/w)),  d = due − h.

    Tasks without a due time or value have nothing at risk and go last.

    ``mode="log"`` (default) scores log VaR(t) = log value + min(0, (t − d)/w):
    linear in t with slope 1/w until d, flat after. log is increasing, so the
    order is **exactly** the order by VaR. The score shown is the logarithm.
    It cannot be summed in a :class:`Composite` (a sum of logs is a product).

    ``mode="linear"`` scores VaR itself by chords over a fixed grid of
    breakpoints d − k·L (k = 1, 2, ...), L = x·w with (x²/8)·eˣ = tolerance.
    A chord of a convex function lies above it, by at most
    (L²/8)·max f'' <= tolerance × VaR(t): every score is VaR within relative
    error ``tolerance``, and the order is exact for those scores. The task
    list re-files a task about (d − created)/L times. Use this mode inside a
    composite.

    ``expected_wait`` (> 0) and ``handle_seconds`` (>= 0) are each a finite
    number or a mapping of task type to one with a ``"*"`` entry for the
    other types; ``mode`` is ``"log"`` or ``"linear"``; ``tolerance`` a
    number in (0, 1).

    With ``clock="working"`` the model runs on the working time of the task's
    business calendar (``task.calendar``; wall time for a task without one):
    VaR(t) = value × min(1, exp((W(t) − W(due) + h)/w)), so nothing more is
    at risk while the calendar is closed; ``expected_wait`` and
    ``handle_seconds`` are then working seconds.

    Numbers are ``int`` or ``float`` (not a bool, not an
    integer no float holds); ``clock`` is ``"wall"`` or ``"working"``. Anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the parameter.
    """

    name = "value_at_risk"

    def __init__(
        self,
        expected_wait: float | Mapping[str, float],
        *,
        handle_seconds: float | Mapping[str, float] = 0.0,
        mode: Literal["log", "linear"] = "log",
        tolerance: float = 0.01,
        clock: Clock = "wall",
    ) -> None:
        self._working = _working_clock("ValueAtRisk", clock)
        self.clock: Clock = clock
        self.expected_wait = _PerType("ValueAtRisk", "expected_wait", expected_wait)
        for wait in (self.expected_wait.default, *self.expected_wait.values.values()):
            _finite_reciprocal("ValueAtRisk", "expected_wait", wait)
        self.handle_seconds = _PerType(
            "ValueAtRisk", "handle_seconds", handle_seconds, allow_zero=True
        )
        if not isinstance(mode, str) or mode not in ("log", "linear"):
            raise InvalidInputError(
                f"ValueAtRisk.mode: got {_shown(mode)} (expected 'log' or 'linear')"
            )
        self.mode = mode
        number = _as_real(tolerance)
        if number is None or not 0 < number < 1:
            raise InvalidInputError(
                f"ValueAtRisk.tolerance: got {_shown(tolerance)} (expected a number in (0, 1))"
            )
        self.tolerance = number
        self._width = _chord_width(self.tolerance)

    def value_at_risk(self, task: Task, now: float) -> float:
        """The exact VaR(now), in the task's value unit. O(1) (O(log n) in working time)."""
        if task.due is None or task.value <= 0:
            return 0.0
        calendar = task.calendar
        if calendar is None or not self._working:
            d = task.due - self.handle_seconds(task.type)
            return task.value * math.exp(min(0.0, (now - d) / self.expected_wait(task.type)))
        w_d = calendar.working_time(task.due) - self.handle_seconds(task.type)
        lead = calendar.working_time(now) - w_d
        return task.value * math.exp(min(0.0, lead / self.expected_wait(task.type)))

    def segment(self, task: Task, now: float) -> Segment:
        """The score's piece at ``now``: log VaR, or a chord of VaR in linear mode."""
        due, value = task.due, task.value
        if due is None or value <= 0:
            return Segment(NO_DUE_SCORE, 0.0) if self.mode == "log" else Segment(0.0, 0.0)
        calendar = task.calendar
        if calendar is not None and self._working:
            return self._working_segment(task, now, calendar)
        wait = self.expected_wait(task.type)
        d = due - self.handle_seconds(task.type)
        if now >= d:
            return Segment(math.log(value) if self.mode == "log" else value, 0.0)
        if self.mode == "log":
            return Segment(math.log(value) - d / wait, 1.0 / wait, d)
        width = self._width * wait
        k = max(1, math.ceil((d - now) / width))
        # Make d - k*width <= now < d - (k-1)*width hold in floats.
        while d - k * width > now:
            k += 1
        while k > 1 and d - (k - 1) * width <= now:
            k -= 1
        start, end = d - k * width, d - (k - 1) * width
        low = value * math.exp(-k * width / wait)
        high = value * math.exp(-(k - 1) * width / wait)
        slope = (high - low) / (end - start)
        return Segment(low - slope * start, slope, end)

    def _working_segment(self, task: Task, now: float, calendar: Any) -> Segment:
        """:meth:`segment` over working time: the same model with t replaced by W(t).

        A piece of the score in W is a segment on the calendar's clock; it
        ends where W reaches the model's own breakpoints (W(due) − handle, or
        a chord's end), not at the calendar's openings and closings.
        """
        value = task.value
        assert task.due is not None
        wait = self.expected_wait(task.type)
        w_d = float(calendar.working_time(task.due)) - self.handle_seconds(task.type)
        w_now = float(calendar.working_time(now))
        if w_now >= w_d:
            return Segment(math.log(value) if self.mode == "log" else value, 0.0)
        if self.mode == "log":
            end = _reach(calendar, now, w_now, w_d)
            return Segment(math.log(value) - w_d / wait, 1.0 / wait, end, calendar)
        width = self._width * wait
        k = max(1, math.ceil((w_d - w_now) / width))
        while w_d - k * width > w_now:
            k += 1
        while k > 1 and w_d - (k - 1) * width <= w_now:
            k -= 1
        start, end_w = w_d - k * width, w_d - (k - 1) * width
        low = value * math.exp(-k * width / wait)
        high = value * math.exp(-(k - 1) * width / wait)
        chord = (high - low) / (end_w - start)
        end = _reach(calendar, now, w_now, end_w)
        return Segment(low - chord * start, chord, end, calendar)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        label = "log value at risk" if self.mode == "log" else "value at risk"
        return [(label, self.segment(task, now).at(now))]

    def __repr__(self) -> str:
        return (
            f"ValueAtRisk(expected_wait={self.expected_wait.describe()!r}, mode={self.mode!r}, "
            f"tolerance={self.tolerance:g})"
        )


# ---------------------------------------------------------------------- composite


class Composite:
    """A weighted sum of policies: score = Σ weight_i × score_i.

    A sum of linear pieces is linear, and the piece ends when the first part's
    piece ends, so the composite is exact when its parts are. Parts on one
    working clock sum on that clock; parts on different clocks are summed as
    wall pieces that also end at their clocks' openings and closings. O(parts) per
    segment. Log-mode :class:`ValueAtRisk` and :class:`Rescored` parts are
    refused: a sum of logarithms is not a sum of values, and a re-scored part
    would make the whole composite approximate without saying so (wrap the
    composite in :func:`as_policy` with a function instead).

    ``parts`` is a non-empty iterable (a list, a tuple) of ``(weight,
    policy)`` tuples, each weight a finite number (``int`` or ``float``, not
    a bool). Anything else raises :class:`~valueroute.errors.InvalidInputError`
    naming the part.
    """

    name = "composite"

    def __init__(self, parts: Iterable[tuple[float, Policy]]) -> None:
        if isinstance(parts, str | bytes | Mapping) or not isinstance(parts, Iterable):
            raise InvalidInputError(
                f"Composite.parts: got {_shown(parts)} (expected a list of (weight, policy) pairs)",
                [("Composite.parts", parts, "a list of (weight, policy) pairs")],
            )
        checked: list[tuple[float, Policy]] = []
        for index, part in enumerate(parts):
            if not (isinstance(part, tuple) and len(part) == 2):
                raise InvalidInputError(
                    f"Composite.parts[{index}]: got {_shown(part)} "
                    "(expected a (weight, policy) pair)"
                )
            weight, policy = part
            number = _finite(f"Composite.parts[{index}]", "weight", weight)
            if not isinstance(policy, Policy):
                raise InvalidInputError(
                    f"Composite.parts[{index}].policy: got {_shown(policy)} (expected a policy)"
                )
            if isinstance(policy, ValueAtRisk) and policy.mode == "log":
                raise InvalidInputError(
                    f"Composite.parts[{index}].policy: got {_shown(policy)} (log scores cannot be "
                    "summed; expected ValueAtRisk(mode='linear'))"
                )
            if isinstance(policy, Rescored):
                raise InvalidInputError(
                    f"Composite.parts[{index}].policy: got {_shown(policy)} "
                    "(expected an exact policy; "
                    "re-score the whole composite with as_policy(function, interval=...))"
                )
            checked.append((number, policy))
        if not checked:
            raise InvalidInputError("Composite.parts: got no parts (expected at least one)")
        self.parts: tuple[tuple[float, Policy], ...] = tuple(checked)

    def segment(self, task: Task, now: float) -> Segment:
        """The linear piece of the task's score that holds at ``now`` (see the class)."""
        parts = [(weight, _as_segment(policy.segment(task, now))) for weight, policy in self.parts]
        clocks = {id(part.clock): part.clock for _, part in parts if part.slope != 0.0}
        clock = next(iter(clocks.values())) if len(clocks) == 1 else None
        if len(clocks) > 1:
            # Parts on different clocks do not add up to one clock's line:
            # each becomes a wall piece, ending where its clock's piece ends.
            parts = [(weight, part.on_wall(now)) for weight, part in parts]
        base = slope = 0.0
        until = _INF
        for weight, part in parts:
            base += weight * part.base
            slope += weight * part.slope
            if part.until < until:
                until = part.until
        return Segment(base, slope, until, clock)

    def terms(self, task: Task, now: float) -> list[tuple[str, float]]:
        """The score at ``now`` as named parts that add up to it."""
        out: list[tuple[str, float]] = []
        for weight, policy in self.parts:
            for label, amount in _terms_of(policy, task, now):
                out.append((f"{policy.name}: {label}", weight * amount))
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"({w:g}, {p!r})" for w, p in self.parts)
        return f"Composite([{inner}])"


# ---------------------------------------------------------------------- user policies, names


def as_policy(obj: object, *, interval: float | None = None) -> Policy:
    """A policy from a policy object or a plain ``callable(task, now) -> float``.

    An object with a ``name`` and a callable ``segment`` is returned as it is
    (exact, if its segments are). A plain callable is wrapped in
    :class:`Rescored` and re-scored every ``interval`` seconds (60 when not
    given): between re-scorings its order can be stale (see :class:`Rescored`).
    ``interval`` is ``None`` or a finite number of seconds > 0, and only for a
    plain callable. Anything else raises
    :class:`~valueroute.errors.InvalidInputError`.
    """
    if isinstance(obj, Policy) and callable(getattr(obj, "segment", None)):
        if interval is not None:
            raise InvalidInputError(
                f"interval: got {_shown(interval)} for policy {_shown(obj)} "
                "(expected None: only plain "
                "callables are re-scored periodically)"
            )
        return obj
    if callable(obj):
        return Rescored(obj, interval=60.0 if interval is None else interval)
    raise InvalidInputError(
        f"policy: got {_shown(obj)} of type {type(obj).__name__} (expected an object with name "
        "and segment(task, now), or a callable(task, now) -> float)"
    )


def _composite_from_config(parts: Sequence[Any]) -> Composite:
    built: list[tuple[float, Policy]] = []
    if isinstance(parts, str | bytes) or not isinstance(parts, Sequence):
        raise InvalidInputError(
            f"composite.parts: got {_shown(parts)} (expected a list of {{weight, policy, ...}})"
        )
    for index, part in enumerate(parts):
        if not isinstance(part, Mapping) or "policy" not in part:
            raise InvalidInputError(
                f"composite.parts[{index}]: got {_shown(part)} (expected a mapping with 'policy', "
                "'weight' and the policy's parameters)"
            )
        params = dict(part)
        name = params.pop("policy")
        weight = params.pop("weight", 1.0)
        built.append((weight, policy_by_name(name, **params)))
    return Composite(built)


_FACTORIES: dict[str, Callable[..., Policy]] = {
    "fifo": Fifo,
    "strict_priority": StrictPriority,
    "aging_priority": AgingPriority,
    "edd": EarliestDue,
    "least_slack": LeastSlack,
    "ramp": PriorityRamp,
    "cmu": CMu,
    "kleinrock": Kleinrock,
    "cmu_theta": CMuTheta,
    "value_at_risk": ValueAtRisk,
    "composite": _composite_from_config,
}


POLICY_NAMES: frozenset[str] = frozenset(_FACTORIES)
"""The names :func:`policy_by_name` builds."""


def policy_by_name(name: str, **params: Any) -> Policy:
    """Build a built-in policy from its name and parameters, as configuration files do.

    ``name`` is one of the built-in names (text); a name of any other value or
    type, or a parameter the policy does not take, raises
    :class:`~valueroute.errors.InvalidInputError`.

    >>> policy_by_name("aging_priority", seconds_per_point=30)
    AgingPriority(seconds_per_point=30)
    >>> policy_by_name("composite", parts=[{"policy": "fifo", "weight": 0.5},
    ...                                   {"policy": "cmu", "handle_seconds": 300}]).name
    'composite'
    """
    factory = _FACTORIES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise InvalidInputError(
            f"policy: got {_shown(name)} (expected one of {sorted(_FACTORIES)})"
        )
    return build(f"policy {name!r}", factory, params)


def policy_parameters(name: str) -> tuple[str, ...]:
    """The parameters the built-in policy ``name`` takes, in its signature's order.

    >>> policy_parameters("aging_priority")[0]
    'seconds_per_point'
    """
    factory = _FACTORIES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise InvalidInputError(
            f"policy: got {_shown(name)} (expected one of {sorted(_FACTORIES)})"
        )
    return tuple(parameters_of(factory)[0])


# ---------------------------------------------------------------------- explanations


@dataclass(frozen=True, slots=True)
class Term:
    """One named part of a score."""

    name: str
    contribution: float


def _terms_of(policy: Policy, task: Task, now: float) -> list[tuple[str, float]]:
    terms = getattr(policy, "terms", None)
    if callable(terms):
        result: list[tuple[str, float]] = terms(task, now)
        return result
    return [("score", policy.segment(task, now).at(now))]


def _clock_name(clock: WorkingClock | None) -> str | None:
    """How an explanation names a segment's clock: ``None`` for wall time."""
    if clock is None:
        return None
    name = getattr(clock, "name", None)
    return name if isinstance(name, str) and name else bounded_repr(clock)


def _finite_or_none(number: float | None) -> float | None:
    return None if number is None or not math.isfinite(number) else number


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a task has the score it has: the policy, its terms and the rules that fired.

    The contributions of ``terms`` add up to ``score`` (up to float rounding
    of about 1e-9 relative to the terms' magnitude).
    """

    task_id: str
    policy: str
    now: float
    score: float
    terms: tuple[Term, ...]
    rules: tuple[str, ...]
    value: float
    priority: int
    age: float
    time_to_due: float | None
    segment: Segment
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (infinite times become ``None``)."""
        return {
            "task_id": self.task_id,
            "policy": self.policy,
            "now": self.now,
            "score": self.score,
            "terms": [{"name": t.name, "contribution": t.contribution} for t in self.terms],
            "rules": list(self.rules),
            "value": self.value,
            "priority": self.priority,
            "age": self.age,
            "time_to_due": self.time_to_due,
            "segment": {
                "base": self.segment.base,
                "slope": self.segment.slope,
                "until": _finite_or_none(self.segment.until),
                # None: wall time; else the working clock (a calendar's name)
                # whose reading the slope multiplies.
                "clock": _clock_name(self.segment.clock),
            },
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    def to_json(self) -> str:
        """The explanation as a JSON document."""
        return json.dumps(self.to_dict(), allow_nan=False)


def explain(policy: Policy, task: Task, now: float, *, rules: Iterable[str] = ()) -> Explanation:
    """Break ``task``'s score at ``now`` into its terms. O(cost of one segment).

    ``rules`` names the rules that fired for the task (for example
    ``outcome.fired`` from :meth:`valueroute.rules.CompiledRules.apply`).

    ``policy`` is a policy (an object with ``name`` and ``segment``),
    ``task`` a :class:`~valueroute.task.Task` (as the task list holds it),
    ``now`` a finite number of seconds (``int`` or ``float``, not a bool) and
    ``rules`` an iterable of rule names (text, not one string). Anything else
    raises :class:`~valueroute.errors.InvalidInputError` naming the argument.

    >>> from valueroute.task import Task
    >>> task = Task(id="t", seq=0, created=0.0, priority=2)
    >>> e = explain(AgingPriority(seconds_per_point=60), task, 120.0)
    >>> [(t.name, t.contribution) for t in e.terms], e.score
    ([('priority', 2.0), ('waiting', 2.0)], 4.0)
    """
    if not (isinstance(policy, Policy) and callable(getattr(policy, "segment", None))):
        raise InvalidInputError(
            f"explain: policy: got {_shown(policy)} of type {type(policy).__name__} "
            "(expected a policy: an object with name and segment(task, now))",
            [("policy", policy, "a policy")],
        )
    if not isinstance(task, Task):
        raise InvalidInputError(
            f"explain: task: got {_shown(task)} of type {type(task).__name__} "
            "(expected a valueroute.task.Task, as TaskList.get returns it)",
            [("task", task, "a valueroute.task.Task")],
        )
    time = _as_real(now)
    if time is None:
        raise InvalidInputError(
            f"explain: now: got {_shown(now)} (expected a finite number of seconds)",
            [("now", now, "a finite number of seconds")],
        )
    now = time
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Iterable):
        raise InvalidInputError(
            f"explain: rules: got {_shown(rules)} (expected an iterable of rule names)",
            [("rules", rules, "an iterable of rule names")],
        )
    fired = tuple(rules)
    for name in fired:
        if not isinstance(name, str):
            raise InvalidInputError(
                f"explain: rules: got {_shown(name)} among the rule names (expected text)",
                [("rules", name, "rule names as text")],
            )
    segment = policy.segment(task, now)
    terms = tuple(Term(name, float(amount)) for name, amount in _terms_of(policy, task, now))
    extra: dict[str, float] = {}
    if isinstance(policy, ValueAtRisk):
        extra["value_at_risk"] = policy.value_at_risk(task, now)
    return Explanation(
        task_id=task.id,
        policy=policy.name,
        now=now,
        score=segment.at(now),
        terms=terms,
        rules=fired,
        value=task.value,
        priority=task.priority,
        age=now - task.created,
        time_to_due=None if task.due is None else task.due - now,
        segment=segment,
        extra=extra,
    )
