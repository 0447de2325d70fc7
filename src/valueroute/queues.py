"""Named queues: who serves a share of the one task list, and its limits.

A queue is declared with :class:`~valueroute.models.QueueSpec` and handed to
the engine (``Engine(queues=[...])``); a task enters one with
``TaskSpec(queue=...)``. The engine keeps a :class:`Queue` record per name: the
queue's compiled conditions on agents, which the task's requirement group
adds to the task's own (so eligibility is still computed once per group and
agent profile), and its counters. A queue never holds tasks of its own: its
tasks are filed in the enterprise-wide list like every other, so an agent
serving several queues still pulls the single best task across them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.expressions import Expression, compile_expression
from valueroute.models import QueueSpec, _named_specs

__all__ = ["MAX_QUEUES", "Queue", "build_queues"]

MAX_QUEUES = 10_000
"""The most queues one engine takes."""


class Queue:
    """The engine's record of one named queue: its conditions on agents and its counters.

    ``skills`` (sorted ``(name, level)`` pairs) and ``requires`` (a compiled
    expression or ``None``) are what an agent serving it must meet besides
    each task's own requirements. ``waiting`` is how many of its tasks wait
    in the list now (kept by the task list as it files and unfiles them);
    ``entered``, ``overflowed_in``, ``overflowed_out``, ``refused`` and
    ``limit_events`` count since the engine started.
    """

    __slots__ = (
        "entered",
        "limit_events",
        "max_length",
        "max_wait",
        "name",
        "overflow_to",
        "overflowed_in",
        "overflowed_out",
        "refused",
        "requires",
        "skills",
        "spec",
        "waiting",
        "when_full",
        "when_too_old",
    )

    def __init__(self, spec: QueueSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.skills: tuple[tuple[str, float], ...] = tuple(sorted(spec.skills.items()))
        self.requires: Expression | None = (
            None
            if spec.requires is None
            else compile_expression(spec.requires, field=f"queues[{spec.name!r}].requires")
        )
        self.max_length = spec.max_length
        self.max_wait = spec.max_wait
        self.when_full = spec.when_full
        self.when_too_old = spec.when_too_old
        self.overflow_to = spec.overflow_to
        self.waiting = 0
        self.entered = 0
        self.overflowed_in = 0
        self.overflowed_out = 0
        self.refused = 0
        self.limit_events = 0

    def admits(self, skills: Mapping[str, float], attributes: Mapping[str, Any]) -> bool:
        """Whether an agent with these levels and attributes serves the queue."""
        if not all(skills.get(name, -1.0) >= level for name, level in self.skills):
            return False
        requires = self.requires
        return requires is None or bool(requires.predicate(attributes))

    def full(self) -> bool:
        """Whether a new task would pass ``max_length``."""
        return self.max_length is not None and self.waiting >= self.max_length

    def __repr__(self) -> str:
        return f"Queue({self.name!r}, waiting={self.waiting})"


def build_queues(specs: Iterable[QueueSpec | Mapping[str, Any]] | None) -> dict[str, Queue]:
    """The engine's queues from their specs, by name, checked as a whole.

    Names are unique, every ``overflow_to`` names one of them. Anything else
    raises :class:`~valueroute.errors.InvalidInputError` naming the queue.
    Overflow may go round (a queue's overflow leads back to it): a task
    arriving where every queue of such a round is full is refused.
    """
    if specs is None:
        return {}
    queues = {
        name: Queue(spec)
        for name, spec in _named_specs("queues", QueueSpec, specs, MAX_QUEUES).items()
    }
    for queue in queues.values():
        if queue.overflow_to is not None and queue.overflow_to not in queues:
            raise InvalidInputError(
                f"queues[{queue.name!r}].overflow_to: got {bounded_repr(queue.overflow_to)} "
                f"(expected the name of one of the queues {sorted(queues)[:20]})"
            )
    return queues
