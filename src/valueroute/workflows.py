"""Workflows: the routing steps a task goes through while it waits.

A workflow is declared with :class:`~valueroute.models.WorkflowSpec` (its
steps are :class:`~valueroute.models.WorkflowStep`) and handed to the engine
(``Engine(workflows=[...])``); a task follows one by naming it
(``TaskSpec(workflow=...)``) or by its type (``WorkflowSpec.types``). The
engine keeps a :class:`Workflow` record per name, with each step's queue
resolved and its expression compiled once, and moves tasks from step to step
on timers (see :class:`~valueroute.models.WorkflowSpec` for the rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.expressions import Expression, compile_expression
from valueroute.models import WorkflowSpec, WorkflowStep, _named_specs
from valueroute.queues import Queue

__all__ = ["MAX_WORKFLOWS", "Step", "Workflow", "build_workflows"]

MAX_WORKFLOWS = 10_000
"""The most workflows one engine takes."""


class Step:
    """One step as the engine applies it: the spec's values, the queue and the
    expression resolved."""

    __slots__ = (
        "index",
        "priority",
        "queue",
        "relaxes",
        "requires",
        "skills",
        "spec",
        "timeout",
        "triggers",
    )

    def __init__(self, spec: WorkflowStep, index: int, queue: Queue | None, where: str) -> None:
        self.spec = spec
        self.index = index
        self.queue = queue
        self.skills: dict[str, float] | None = None if spec.skills is None else dict(spec.skills)
        self.requires: Expression | None = (
            None
            if spec.requires is None
            else compile_expression(spec.requires, field=f"{where}.requires")
        )
        self.priority = spec.priority
        self.timeout = spec.timeout
        self.triggers = spec.moves_on_trigger()
        self.relaxes = spec.relaxes()


class Workflow:
    """The engine's record of one workflow: its steps, final action and check interval."""

    __slots__ = ("check_every", "name", "spec", "steps", "then")

    def __init__(self, spec: WorkflowSpec, queues: Mapping[str, Queue]) -> None:
        self.spec = spec
        self.name = spec.name
        self.then = spec.then
        self.check_every = spec.check_every
        steps = []
        for index, step in enumerate(spec.steps):
            where = f"workflows[{spec.name!r}].steps[{index}]"
            queue = None
            if step.queue is not None:
                queue = queues.get(step.queue)
                if queue is None:
                    raise InvalidInputError(
                        f"{where}.queue: got {bounded_repr(step.queue)} (expected the name of "
                        f"one of the engine's queues {sorted(queues)[:20]})"
                    )
            steps.append(Step(step, index, queue, where))
        self.steps = tuple(steps)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, steps={len(self.steps)})"


def build_workflows(
    specs: Iterable[WorkflowSpec | Mapping[str, Any]] | None, queues: Mapping[str, Queue]
) -> tuple[dict[str, Workflow], dict[str, Workflow]]:
    """The engine's workflows by name and by the task types they are for, checked.

    Names are unique, each step's queue is one of ``queues``, a task type is
    claimed by one workflow at most. Anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the workflow.
    """
    if specs is None:
        return {}, {}
    workflows: dict[str, Workflow] = {}
    by_type: dict[str, Workflow] = {}
    named = _named_specs("workflows", WorkflowSpec, specs, MAX_WORKFLOWS)
    for position, spec in enumerate(named.values()):
        workflow = Workflow(spec, queues)
        workflows[spec.name] = workflow
        for task_type in spec.types:
            if task_type in by_type:
                raise InvalidInputError(
                    f"workflows[{position}].types: task type {bounded_repr(task_type)} already "
                    f"follows the workflow {by_type[task_type].name!r} (expected one workflow "
                    "per type)"
                )
            by_type[task_type] = workflow
    return workflows, by_type
