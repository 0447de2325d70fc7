"""Skill relaxation: asking less of the agent the longer a task waits.

Two kinds, per task type or for all types:

- **Stepwise** — a sequence of :class:`RelaxationStep`: after ``after``
  seconds of waiting, required levels drop by ``lower_by`` and the skills in
  ``drop`` stop being required (Genesys bullseye rings, Amazon Connect routing
  steps, Salesforce's dropped additional skills). The engine runs these plans
  as workflows of its own (:func:`valueroute.workflows.relaxation_workflow`);
  this module defines the steps and :func:`lower_levels`, the one lowering
  function workflow steps use.
- **Continuous** — :class:`ContinuousRelaxation`: each required level decays
  linearly with waiting time, ``level(t) = max(floor, level₀ − rate × age)``,
  optionally faster for more valuable tasks.

Continuous decay is applied *exactly* without re-filing tasks at every
instant: which agents are eligible changes only when a decaying level passes
a proficiency level some agent actually has. :class:`Relaxer` keeps the
distinct levels of the registered agents per skill and moves a task's
requirement straight to the next such level at the moment it is reached, so
eligibility is the same as under the continuous formula at every moment, and
requirements only ever take values from a small set (original levels, agent
levels, floors). When agents with new levels arrive or leave, the engine asks
the relaxer to recompute the tasks under continuous relaxation. That
re-timing is why continuous relaxation is not a sequence of workflow steps:
its steps are not known in advance, they move whenever the agents' levels do.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sortedcontainers import SortedList  # type: ignore[import-untyped]  # ships no type hints

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import MAX_SKILL_NAME
from valueroute.task import Task

__all__ = [
    "ContinuousRelaxation",
    "Relaxation",
    "RelaxationStep",
    "Relaxer",
    "SkillLevels",
    "lower_levels",
]

_INF = math.inf


def _number(owner: str, name: str, value: Any, *, positive: bool, expected: str) -> float:
    """``value`` as a float when it is a finite ``int`` or ``float`` >= 0 (> 0 if ``positive``).

    A bool is not taken for a number, nor an integer no float holds.
    Anything else raises InvalidInputError naming ``owner.name``.
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number) or not (number > 0 if positive else number >= 0):
        raise InvalidInputError(
            f"{owner}.{name}: got {bounded_repr(value)} (expected {expected})",
            [(f"{owner}.{name}", value, expected)],
        )
    return number


def _skill_names(owner: str, value: Any) -> tuple[str, ...]:
    """``value`` as a tuple of skill names: an iterable (not one string) of non-empty text."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidInputError(
            f"{owner}.drop: got {bounded_repr(value)} (expected a tuple of skill names)",
            [(f"{owner}.drop", value, "a tuple of skill names")],
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_SKILL_NAME:
            raise InvalidInputError(
                f"{owner}.drop: got {bounded_repr(name)} among the skill names (expected text "
                f"of 1 to {MAX_SKILL_NAME} characters)",
                [(f"{owner}.drop", name, f"text of 1 to {MAX_SKILL_NAME} characters")],
            )
    return names


def lower_levels(
    skills: Mapping[str, float], lower_by: float, drop: Iterable[str]
) -> dict[str, float]:
    """Required levels after one relaxation step: each ``lower_by`` lower (never
    below 0), the skills in ``drop`` no longer required. What a
    :class:`RelaxationStep` and a workflow step that relaxes both do."""
    dropped = frozenset(drop)
    return {
        name: max(0.0, level - lower_by) for name, level in skills.items() if name not in dropped
    }


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    """After ``after`` seconds of waiting, ask less of the agent.

    Required levels drop by ``lower_by`` (never below 0) and the skills named
    in ``drop`` stop being required. Steps apply cumulatively to the task's
    original requirements; list them in order of ``after``.

    ``after`` (seconds) and ``lower_by`` (a level) are finite numbers >= 0,
    ``int`` or ``float`` (kept as floats; not a bool, not an integer no float
    holds); ``drop`` is an iterable of skill names (text of 1 to 64
    characters; not one string), kept as a tuple. Anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the field.
    """

    after: float
    lower_by: float = 0.0
    drop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        after = _number(
            "RelaxationStep", "after", self.after, positive=False, expected="seconds >= 0"
        )
        lower_by = _number(
            "RelaxationStep", "lower_by", self.lower_by, positive=False, expected="a level >= 0"
        )
        drop = _skill_names("RelaxationStep", self.drop)
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "lower_by", lower_by)
        object.__setattr__(self, "drop", drop)


@dataclass(frozen=True, slots=True)
class ContinuousRelaxation:
    """Required levels decay by ``rate`` per second of waiting, down to ``floor``.

    With ``value_scale`` the rate grows with the task's business value:
    ``rate × (1 + value / value_scale)``, so valuable work widens its pool
    sooner (a task worth ``value_scale`` relaxes twice as fast).

    ``rate`` (levels per second, > 0), ``floor`` (a level, >= 0) and
    ``value_scale`` (> 0, or ``None``) are finite numbers, ``int`` or
    ``float`` (kept as floats; not a bool, not an integer no float holds).
    Anything else raises :class:`~valueroute.errors.InvalidInputError`
    naming the field.
    """

    rate: float
    floor: float = 0.0
    value_scale: float | None = None

    def __post_init__(self) -> None:
        owner = "ContinuousRelaxation"
        rate = _number(owner, "rate", self.rate, positive=True, expected="levels per second > 0")
        floor = _number(owner, "floor", self.floor, positive=False, expected="a level >= 0")
        value_scale = (
            None
            if self.value_scale is None
            else _number(
                owner,
                "value_scale",
                self.value_scale,
                positive=True,
                expected="a value > 0 or None",
            )
        )
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "floor", floor)
        object.__setattr__(self, "value_scale", value_scale)

    def rate_for(self, task: Task) -> float:
        """The decay rate for ``task``, in levels per second. O(1).

        ``rate``, or with ``value_scale`` ``rate × (1 + task.value / value_scale)``.
        """
        if self.value_scale is None:
            return self.rate
        return self.rate * (1.0 + task.value / self.value_scale)


Relaxation: TypeAlias = Sequence[RelaxationStep] | ContinuousRelaxation


def relaxation_table(
    relaxation: Relaxation | Mapping[str, Relaxation],
) -> dict[str, tuple[RelaxationStep, ...] | ContinuousRelaxation]:
    """Validate the engine's ``relaxation`` option into a table by task type (``"*"``: all)."""
    if isinstance(relaxation, ContinuousRelaxation):
        return {"*": relaxation}
    table = dict(relaxation) if isinstance(relaxation, Mapping) else {"*": relaxation}
    result: dict[str, tuple[RelaxationStep, ...] | ContinuousRelaxation] = {}
    for task_type, plan in table.items():
        if isinstance(plan, ContinuousRelaxation):
            result[task_type] = plan
            continue
        steps = tuple(plan)
        for step in steps:
            if not isinstance(step, RelaxationStep):
                raise InvalidInputError(
                    f"relaxation[{bounded_repr(task_type)}]: got {bounded_repr(step)} "
                    "(expected RelaxationStep items or a ContinuousRelaxation)"
                )
        if any(b.after < a.after for a, b in itertools.pairwise(steps)):
            raise InvalidInputError(
                f"relaxation[{bounded_repr(task_type)}]: steps must be in order of 'after'"
            )
        if steps:
            result[task_type] = steps
    return result


class SkillLevels:
    """The distinct proficiency levels registered agents have, per skill, with counts."""

    __slots__ = ("_counts", "_sorted")

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, float]] = Counter()
        self._sorted: dict[str, SortedList] = {}

    def add(self, skills: Mapping[str, float]) -> None:
        """An agent with these skills arrived. O(k log L)."""
        for name, level in skills.items():
            key = (name, level)
            if not self._counts[key]:
                self._sorted.setdefault(name, SortedList()).add(level)
            self._counts[key] += 1

    def remove(self, skills: Mapping[str, float]) -> None:
        """An agent with these skills left. O(k log L)."""
        for name, level in skills.items():
            key = (name, level)
            self._counts[key] -= 1
            if not self._counts[key]:
                del self._counts[key]
                self._sorted[name].remove(level)

    def lowest_at_least(self, name: str, low: float, high: float) -> float | None:
        """The smallest registered level in ``[low, high)``, or ``None``. O(log L)."""
        levels = self._sorted.get(name)
        if not levels:
            return None
        index = levels.bisect_left(low)
        if index < len(levels) and levels[index] < high:
            level: float = levels[index]
            return level
        return None

    def highest_below(self, name: str, high: float, low: float) -> float | None:
        """The largest registered level in ``[low, high)``, or ``None``. O(log L)."""
        levels = self._sorted.get(name)
        if not levels:
            return None
        index = levels.bisect_left(high) - 1
        if index >= 0 and levels[index] >= low:
            level: float = levels[index]
            return level
        return None


class Relaxer:
    """Per-task continuous relaxation state: original requirements, plan, next change.

    Stepwise plans are not kept here: the engine runs them as workflows
    (see :func:`valueroute.workflows.relaxation_workflow`). The engine calls
    :meth:`track` when a task under a :class:`ContinuousRelaxation` arrives,
    :meth:`apply` when it is (re)queued or its next change is due,
    :meth:`reset` when its requirements are replaced, and :meth:`forget`
    when it closes.
    """

    __slots__ = ("_levels", "_next", "_original", "_plan")

    def __init__(self, levels: SkillLevels) -> None:
        self._levels = levels
        self._original: dict[str, Mapping[str, float]] = {}
        self._next: dict[str, float] = {}
        # task id -> its plan, in the order the tasks arrived.
        self._plan: dict[str, ContinuousRelaxation] = {}

    def track(self, task: Task, plan: ContinuousRelaxation) -> None:
        """Start relaxing ``task`` under ``plan`` (its type's). O(1)."""
        self._original[task.id] = task.skills
        self._plan[task.id] = plan

    def tracked(self, task_id: str) -> bool:
        """Whether the task is being relaxed: tracked and not forgotten since. O(1)."""
        return task_id in self._original

    def reset(self, task: Task) -> None:
        """The task's requirements were replaced: relax from these from now on."""
        if task.id in self._original:
            self._original[task.id] = task.skills

    def follows_value(self, task_id: str) -> bool:
        """Whether the task is being relaxed at a rate its value sets (a plan
        with a ``value_scale``). O(1)."""
        plan = self._plan.get(task_id)
        return plan is not None and plan.value_scale is not None

    def original(self, task_id: str) -> Mapping[str, float]:
        """The requirements the tracked task's plan decays (before any decay). O(1)."""
        return self._original[task_id]

    def forget(self, task_id: str) -> None:
        """Stop relaxing the task and drop what is held for it; an untracked id is ignored. O(1)."""
        self._original.pop(task_id, None)
        self._next.pop(task_id, None)
        self._plan.pop(task_id, None)

    def next_time(self, task_id: str) -> float:
        """When the tracked task's requirements next change (``inf``: never)."""
        return self._next.get(task_id, _INF)

    def continuous_ids(self) -> list[str]:
        """Tracked tasks, in the order they arrived."""
        return list(self._plan)

    def state(self, task_id: str) -> tuple[object, ...]:
        """What the relaxer holds for a task (for digests)."""
        original = self._original.get(task_id)
        return (
            None if original is None else sorted(original.items()),
            self._next.get(task_id),
        )

    def dump(self) -> dict[str, Any]:
        """The per-task state as JSON-ready data (for snapshots)."""
        return {
            "original": {k: dict(v) for k, v in self._original.items()},
            "next": dict(self._next),
            "continuous": list(self._plan),
        }

    def load(
        self,
        data: Mapping[str, Any],
        tasks: Mapping[str, Task],
        plans: Mapping[str, ContinuousRelaxation],
    ) -> None:
        """Restore :meth:`dump` output for the tasks ``plans`` names (task id ->
        its plan); ``tasks`` maps task ids to their records. Entries of other
        tasks are left to the caller (older snapshots kept stepwise plans
        here too)."""
        self._original = {
            # Share the task's own mapping when unchanged, as tracking does.
            k: tasks[k].skills if dict(tasks[k].skills) == v else dict(v)
            for k, v in data["original"].items()
            if k in plans
        }
        self._next = {str(k): float(v) for k, v in data["next"].items() if k in plans}
        self._plan = {str(k): plans[k] for k in data["continuous"] if k in plans}

    def requirements_at(self, task: Task, now: float) -> dict[str, float]:
        """What the tracked task's plan requires at ``now``, from its original
        requirements; nothing is changed (for invariant checks)."""
        return self._continuous(task, self._plan[task.id], self._original[task.id], now)[0]

    def apply(self, task: Task, now: float) -> bool:
        """Set the task's requirements for ``now``; returns whether they changed.

        Also records when they next change (see :meth:`next_time`).
        O(k log L) for k required skills and L distinct agent levels.
        """
        relaxed, next_at = self._continuous(task, self._plan[task.id], self._original[task.id], now)
        if next_at == _INF:
            self._next.pop(task.id, None)
        else:
            self._next[task.id] = next_at
        changed = relaxed != dict(task.skills)
        if changed:
            task.skills = relaxed
        return changed

    def _continuous(
        self,
        task: Task,
        plan: ContinuousRelaxation,
        original: Mapping[str, float],
        now: float,
    ) -> tuple[dict[str, float], float]:
        rate = plan.rate_for(task)
        created = task.created
        levels = self._levels
        relaxed: dict[str, float] = {}
        next_at = _INF
        for name, start in original.items():
            floor = min(plan.floor, start)

            def reached(level: float, start: float = start) -> bool:
                # The decayed level has come down to ``level`` by ``now``. Decided
                # on times, with the same formula that schedules the change, so
                # a change due at ``now`` is always taken at ``now``.
                return created + (start - level) / rate <= now

            if reached(floor):
                relaxed[name] = floor
                continue
            # The requirement admitting exactly the agents the decayed level
            # admits: the smallest agent level already reached, else the
            # original level (no agent level in between).
            decayed = start - rate * max(0.0, now - created)
            required = levels.lowest_at_least(name, decayed, start)
            if required is None:
                required = start
            lower = levels.highest_below(name, required, floor)
            while lower is not None and reached(lower):
                required = lower
                lower = levels.highest_below(name, required, floor)
            while required < start and not reached(required):
                higher = levels.lowest_at_least(name, math.nextafter(required, _INF), start)
                required = start if higher is None else higher
            relaxed[name] = required
            target = levels.highest_below(name, required, floor)
            if target is None:
                target = floor
            next_at = min(next_at, created + (start - target) / rate)
        return relaxed, next_at
