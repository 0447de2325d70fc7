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

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from valueroute.agents import AgentSelection, selection_by_name
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.expressions import Expression, compile_expression
from valueroute.models import QueueSpec, _named_specs

__all__ = ["HANDLE_TIMES_KEPT", "MAX_QUEUES", "Queue", "build_queues"]

MAX_QUEUES = 10_000
"""The most queues one engine takes."""

HANDLE_TIMES_KEPT = 100
"""How many of a queue's last handle times its mean handle time is taken over."""


class Queue:
    """The engine's record of one named queue: its conditions on agents and its counters.

    ``skills`` (sorted ``(name, level)`` pairs), ``requires`` (a compiled
    expression or ``None``) and ``agents`` (the ids listed, or ``None``) are
    what an agent serving it must meet besides each task's own requirements;
    ``selection`` (``None``: the engine's) chooses among the free ones;
    ``offer_timeout``, ``concurrent_offers`` and ``auto_accept`` (``None``:
    the engine's) say how its tasks are offered.
    ``waiting`` is how many of its tasks wait in the list now (kept by the
    task list as it files and unfiles them);
    ``entered``, ``overflowed_in``, ``overflowed_out``, ``refused`` and
    ``limit_events`` count since the engine started.
    ``oldest`` is ``None``, or, for a queue a workflow trigger reads the
    oldest wait of, a heap of ``(since, seq, task id)`` pushed each time one
    of its tasks is filed in the list: the engine reads the oldest wait off
    its top, dropping entries of tasks no longer waiting there.
    """

    __slots__ = (
        "agents",
        "auto_accept",
        "chosen_by",
        "concurrent_offers",
        "entered",
        "handle_times",
        "limit_events",
        "max_length",
        "max_wait",
        "name",
        "offer_timeout",
        "oldest",
        "overflow_to",
        "overflowed_in",
        "overflowed_out",
        "refused",
        "requires",
        "selection",
        "skills",
        "spec",
        "waiting",
        "when_full",
        "when_too_old",
        "working",
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
        self.agents: frozenset[str] | None = None if spec.agents is None else frozenset(spec.agents)
        self.selection: AgentSelection | None = (
            None if spec.agent_selection is None else selection_by_name(spec.agent_selection)
        )
        # The name events and explanations give the queue's selection.
        self.chosen_by = spec.agent_selection
        self.offer_timeout = spec.offer_timeout
        self.concurrent_offers = spec.concurrent_offers
        self.auto_accept = spec.auto_accept
        self.max_length = spec.max_length
        self.max_wait = spec.max_wait
        # max_wait in the working time of each task's calendar (wall time without one).
        self.working = spec.clock == "working"
        self.when_full = spec.when_full
        self.when_too_old = spec.when_too_old
        self.overflow_to = spec.overflow_to
        self.waiting = 0
        self.entered = 0
        self.overflowed_in = 0
        self.overflowed_out = 0
        self.refused = 0
        self.limit_events = 0
        self.handle_times: deque[float] = deque(maxlen=HANDLE_TIMES_KEPT)
        self.oldest: list[tuple[float, int, str]] | None = None

    def admits(
        self, skills: Mapping[str, float], attributes: Mapping[str, Any], listed: frozenset[str]
    ) -> bool:
        """Whether an agent with these levels and attributes, listed by id in the
        queues named ``listed``, serves the queue."""
        if self.agents is not None and self.name not in listed:
            return False
        if not all(skills.get(name, -1.0) >= level for name, level in self.skills):
            return False
        requires = self.requires
        return requires is None or bool(requires.predicate(attributes))

    def handled(self, seconds: float) -> None:
        """A task of the queue completed after ``seconds`` with its agent."""
        self.handle_times.append(seconds)

    def mean_handle(self) -> float | None:
        """The mean of the last handle times kept, or ``None`` before the first."""
        times = self.handle_times
        return math.fsum(times) / len(times) if times else None

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


def _listing(queues: Mapping[str, Queue]) -> dict[str, frozenset[str]]:
    """Agent id -> the names of the queues listing it by id."""
    listed: dict[str, set[str]] = {}
    for queue in queues.values():
        for agent_id in queue.agents or ():
            listed.setdefault(agent_id, set()).add(queue.name)
    return {agent_id: frozenset(names) for agent_id, names in listed.items()}
