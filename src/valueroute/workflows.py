"""Workflows: the routing steps a task goes through while it waits.

A workflow is declared with :class:`~valueroute.models.WorkflowSpec` (its
steps are :class:`~valueroute.models.WorkflowStep`) and handed to the engine
(``Engine(workflows=[...])``); a task follows one by naming it
(``TaskSpec(workflow=...)``) or by its type (``WorkflowSpec.types``). The
engine keeps a :class:`Workflow` record per name, with each step's queue
resolved and its expression compiled once, and moves tasks from step to step
on timers (see :class:`~valueroute.models.WorkflowSpec` for the rules).

Stepwise relaxation (``Engine(relaxation=[RelaxationStep(...)])``) runs on
the same records: :func:`relaxation_workflow` turns a plan into a workflow of
the engine's own, whose steps count from the task's ``created`` time and
lower its requirements cumulatively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.expressions import Expression, compile_expression
from valueroute.models import WorkflowSpec, WorkflowStep, _named_specs
from valueroute.queues import Queue
from valueroute.relaxation import RelaxationStep, lower_levels

__all__ = ["MAX_WORKFLOWS", "Step", "Workflow", "build_workflows", "relaxation_workflow"]

MAX_WORKFLOWS = 10_000
"""The most workflows one engine takes."""

_INF = float("inf")


class Step:
    """One step as the engine applies it: the spec's values, the queue and the
    expression resolved.

    ``ends_after`` is set in a workflow whose steps count from the task's
    ``created`` time (a relaxation plan's): the step ends that many seconds
    after it (``None``: never); otherwise ``timeout`` counts from entering
    the step.
    """

    __slots__ = (
        "drop",
        "ends_after",
        "index",
        "lower_by",
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
        self.lower_by = spec.lower_by
        self.drop: tuple[str, ...] = tuple(spec.drop)
        self.ends_after: float | None = None

    @classmethod
    def relaxing(
        cls, index: int, lower_by: float, drop: tuple[str, ...], ends_after: float | None
    ) -> Step:
        """A step of a relaxation plan: it lowers levels by ``lower_by`` and
        drops ``drop``, and ends ``ends_after`` seconds after the task's
        ``created`` time (``None``: never). Routes nothing else, and has no
        ``spec`` (it is the engine's, not a :class:`WorkflowStep`)."""
        step = cls.__new__(cls)
        step.index = index
        step.queue = None
        step.skills = None
        step.requires = None
        step.priority = None
        step.timeout = None
        step.triggers = False
        step.relaxes = lower_by > 0.0 or bool(drop)
        step.lower_by = lower_by
        step.drop = drop
        step.ends_after = ends_after
        return step


class Workflow:
    """The engine's record of one workflow: its steps, final action and check interval.

    ``relaxation`` is ``None`` for the user's workflows; for the engine's own
    workflow running a relaxation plan it is the plan's key in the engine's
    ``relaxation`` setting (a task type, or ``"*"``).
    """

    __slots__ = ("check_every", "name", "relaxation", "spec", "steps", "then", "working")

    def __init__(self, spec: WorkflowSpec, queues: Mapping[str, Queue]) -> None:
        self.spec = spec
        self.name = spec.name
        self.relaxation: str | None = None
        self.then = spec.then
        self.check_every = spec.check_every
        # Step timeouts in the working time of the task's calendar (wall time without one).
        self.working = spec.clock == "working"
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

    def lowered(self, skills: Mapping[str, float], index: int) -> dict[str, float]:
        """``skills`` lowered as the steps up to ``index`` (included) lower
        them, in order: what a task requires in step ``index`` when its own
        requirements are ``skills`` and no step names skills. O(index × k)."""
        result = dict(skills)
        for step in self.steps[: index + 1]:
            if step.relaxes:
                result = lower_levels(result, step.lower_by, step.drop)
        return result


def relaxation_workflow(key: str, plan: tuple[RelaxationStep, ...]) -> Workflow:
    """The workflow the engine runs a stepwise relaxation plan on.

    Step 0 asks what the task asks; step ``i`` (1 to ``len(plan)``) lowers
    as ``plan[i - 1]`` does, on top of the steps before it. Steps count from
    the task's ``created`` time: step ``i`` ends ``plan[i].after`` seconds
    after it (the last never), so a task whose age already passed some steps
    starts in the one its age reaches. No final action (the last step stays),
    no triggers, no queue. ``key`` (a task type or ``"*"``) names the plan.
    """
    # No spec: the plan is the engine's, not one of the user's workflows.
    workflow = Workflow.__new__(Workflow)
    workflow.name = f"relaxation[{key!r}]"
    workflow.relaxation = key
    workflow.then = "stay"
    workflow.check_every = _INF
    workflow.working = False
    steps = [Step.relaxing(0, 0.0, (), plan[0].after)]
    for index, step in enumerate(plan, start=1):
        ends = plan[index].after if index < len(plan) else None
        steps.append(Step.relaxing(index, step.lower_by, step.drop, ends))
    workflow.steps = tuple(steps)
    return workflow


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
