"""Stand-ins for code a host hands to valueroute, shared by the tests."""

from __future__ import annotations

import math

from valueroute.scoring import Segment
from valueroute.task import Task


class Clock:
    """A clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RampAfterTen:
    """A host policy: priority for a task's first 10 s, then a ramp of one point a second.

    While ``broken`` the ramp piece fails: it raises ``error`` if one is
    given, else it comes out as NaN (which the task list refuses).
    """

    name = "ramp_after_ten"

    def __init__(self, error: Exception | None = None) -> None:
        self.broken = False
        self.error = error

    def segment(self, task: Task, now: float) -> Segment:
        if now < task.created + 10.0:
            return Segment(float(task.priority), 0.0, task.created + 10.0)
        if self.broken:
            if self.error is not None:
                raise self.error
            return Segment(math.nan, 0.0)
        return Segment(float(task.priority), 1.0)
