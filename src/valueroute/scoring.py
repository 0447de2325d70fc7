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

Times are float seconds. With epoch-based times (about 1.7e9 s) the base of a
sloped segment is large, and scores carry an absolute rounding error of about
1e-9 per unit of slope: far below any difference a business rule expresses.

Built-in policies here:

- :class:`Fifo`: oldest first.
- :class:`StrictPriority`: higher priority first, then oldest (Twilio
  TaskRouter's semantics).
- :class:`AgingPriority`: one priority point is worth ``seconds_per_point``
  seconds of waiting (Genesys Cloud's semantics).
- :class:`Rescored`: any ``callable(task, now) -> float``, re-scored every
  ``interval`` seconds (iWD's reprioritisation interval); exact only at the
  re-scoring instants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

from valueroute.errors import InvalidInputError
from valueroute.task import Task

__all__ = [
    "AgingPriority",
    "Fifo",
    "Policy",
    "Rescored",
    "Segment",
    "StrictPriority",
]

_INF = math.inf


class Segment(NamedTuple):
    """One linear piece of a score: ``base + slope * t`` for ``t < until``."""

    base: float
    slope: float
    until: float = _INF

    def at(self, now: float) -> float:
        """The score at ``now``."""
        return self.base + self.slope * now


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


class Fifo:
    """First in, first out: the score is the task's age in seconds."""

    name = "fifo"

    def segment(self, task: Task, now: float) -> Segment:
        return Segment(-task.created, 1.0)

    def __repr__(self) -> str:
        return "Fifo()"


class StrictPriority:
    """Higher priority first; within a priority, the older task first.

    The score is the priority itself; the task list breaks equal scores by age,
    then by submission order. This is Twilio TaskRouter's ordering.
    """

    name = "strict_priority"

    def segment(self, task: Task, now: float) -> Segment:
        return Segment(float(task.priority), 0.0)

    def __repr__(self) -> str:
        return "StrictPriority()"


class AgingPriority:
    """Priority plus waiting time: one priority point equals ``seconds_per_point`` seconds.

    score(t) = priority + (t - created) / seconds_per_point. A task with one
    point more priority is served before a task that arrived up to
    ``seconds_per_point`` seconds earlier. This is how Genesys Cloud combines
    priority and waiting time.
    """

    name = "aging_priority"

    def __init__(self, seconds_per_point: float = 60.0) -> None:
        if not (math.isfinite(seconds_per_point) and seconds_per_point > 0):
            raise InvalidInputError(
                f"AgingPriority.seconds_per_point: got {seconds_per_point!r} "
                "(expected a finite number of seconds > 0)"
            )
        self.seconds_per_point = float(seconds_per_point)
        self._rate = 1.0 / self.seconds_per_point

    def segment(self, task: Task, now: float) -> Segment:
        rate = self._rate
        return Segment(task.priority - task.created * rate, rate)

    def __repr__(self) -> str:
        return f"AgingPriority(seconds_per_point={self.seconds_per_point:g})"


class Rescored:
    """Any ``callable(task, now) -> float`` as a policy, re-scored every ``interval`` s.

    The score is held constant between re-scorings, so between them the order
    can be stale by at most what the function changes in ``interval`` seconds:
    a task that overtakes another just after a re-scoring is served second
    until the next one. Use it for scores that are not piecewise linear in
    time; prefer an exact policy when one exists. Costs one re-filing per open
    task per interval.
    """

    def __init__(self, function: Callable[[Task, float], float], *, interval: float) -> None:
        if not callable(function):
            raise InvalidInputError(
                f"Rescored.function: got {function!r} (expected a callable(task, now) -> float)"
            )
        if not (math.isfinite(interval) and interval > 0):
            raise InvalidInputError(
                f"Rescored.interval: got {interval!r} (expected a finite number of seconds > 0)"
            )
        self.function = function
        self.interval = float(interval)
        self.name = getattr(function, "__name__", type(function).__name__)

    def segment(self, task: Task, now: float) -> Segment:
        return Segment(float(self.function(task, now)), 0.0, now + self.interval)

    def __repr__(self) -> str:
        return f"Rescored({self.name}, interval={self.interval:g})"
