"""Response bodies: pydantic models (for the OpenAPI document) and the functions that fill them.

The functions build plain dicts of exactly the models' fields (cheaper than
model instances on the hot path); the tests validate responses against the
models, so the two cannot drift.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from valueroute.agents import Agent
from valueroute.engine import Engine, Offer
from valueroute.task import Task, TaskState

__all__ = [
    "AdvanceView",
    "AgentView",
    "HealthView",
    "NextView",
    "OfferView",
    "OffersView",
    "Problem",
    "ProblemField",
    "QueueView",
    "QueuesView",
    "StatsView",
    "TaskListEntry",
    "TaskListView",
    "TaskView",
    "agent_view",
    "offer_view",
    "queues_view",
    "task_view",
]

UNSTAFFED: Literal["Infinity"] = "Infinity"
"""``expected_wait`` of a queue no logged-on agent serves: the wait has no bound.

JSON has no infinity; the string reads back as one in Python
(``float("Infinity")``) and JavaScript (``Number("Infinity")``).
"""


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskView(_View):
    """A task: its fields, state, version and holder; ``GET`` adds its score and explanation."""

    id: str
    state: str
    version: int
    type: str
    channel: str
    priority: int
    value: float
    due: float | None
    created: float
    skills: dict[str, float]
    department: str | None
    process: str | None
    attributes: dict[str, Any]
    agent: str | None
    score: float | None = None
    explanation: dict[str, Any] | None = None


class OfferView(_View):
    """An offer waiting for its agent's answer; ``expires`` is ``None`` without a time-out."""

    task: str
    agent: str
    time: float
    expires: float | None


class OffersView(_View):
    """The offers waiting for one agent."""

    agent: str
    offers: list[OfferView]


class NextView(_View):
    """The answer to a pull: the offer made, or ``None`` when no task fits."""

    offer: OfferView | None


class AgentView(_View):
    """An agent: presence, skills, capacity and current load."""

    id: str
    state: str
    reason: str | None
    skills: dict[str, float]
    capacity: dict[str, int]
    load: dict[str, int]
    department: str | None
    team: str | None
    tasks_handled: int


class AdvanceView(_View):
    """The answer to ``advance``: timers fired."""

    fired: int


class TaskListEntry(_View):
    """One task of the global list, with its score now."""

    id: str
    type: str
    channel: str
    priority: int
    value: float
    due: float | None
    age: float
    score: float


class TaskListView(_View):
    """A page of the global task list, best first, and the waiting counts per queue."""

    time: float
    offset: int
    tasks: list[TaskListEntry]
    waiting: int
    waiting_by_type: dict[str, int]
    waiting_by_channel: dict[str, int]


class StatsView(BaseModel):
    """:meth:`valueroute.engine.Engine.statistics` as JSON."""

    model_config = ConfigDict(extra="allow")

    time: float
    open: int
    waiting: dict[str, int]
    oldest_age: dict[str, float]
    offered: int


class QueueView(_View):
    """One named queue (:meth:`valueroute.engine.Engine.queue_statistics`).

    ``oldest_wait``: seconds the task waiting longest has been in the queue
    (``null`` when none waits). ``expected_wait``: seconds a task arriving
    now would wait; the string ``"Infinity"`` when no logged-on agent serves
    the queue, ``null`` before a task completed from it (no handle time yet).
    ``agents``: the agents who serve it, ``available`` of them ready and free now.
    """

    waiting: int
    oldest_wait: float | None
    expected_wait: float | Literal["Infinity"] | None
    mean_handle: float | None
    agents: int
    available: int
    entered: int
    overflowed_in: int
    overflowed_out: int
    limit_events: int
    max_length: int | None
    max_wait: float | None


class QueuesView(_View):
    """Every named queue of the engine, by name, at ``time``."""

    time: float
    queues: dict[str, QueueView]


class ProblemField(_View):
    """One refused input: where, what was given (cut short) and what was expected."""

    field: str
    value: str
    expected: str


class Problem(_View):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] = []
    role: str | None = None
    term: int | None = None
    leader: str | None = None


class HealthView(_View):
    """``/healthz`` and ``/readyz`` (which adds the role, ``leader``, the term it leads in
    on a shared PostgreSQL journal, the journal positions, the group commits made since
    the start and the commands they held)."""

    status: str
    role: str | None = None
    term: int | None = None
    position: int | None = None
    durable_position: int | None = None
    commits: int | None = None
    committed_commands: int | None = None
    webhook_delivered: int | None = None
    webhook_failures: int | None = None


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def task_view(engine: Engine, task: Task, *, explain: bool = False) -> dict[str, Any]:
    """A :class:`TaskView` dict; ``explain`` adds the score and its explanation. O(1) or
    the cost of :meth:`~valueroute.engine.Engine.explain`."""
    holder = engine.agent_of(task.id)
    view: dict[str, Any] = {
        "id": task.id,
        "state": task.state.value,
        "version": task.version,
        "type": task.type,
        "channel": task.channel,
        "priority": task.priority,
        "value": task.value,
        "due": _finite(task.due),
        "created": task.created,
        "skills": dict(task.skills),
        "department": task.department,
        "process": task.process,
        "attributes": dict(task.attributes),
        "agent": None if holder is None else holder.id,
    }
    if explain and not task.state.is_terminal:
        explanation = engine.explain(task.id)
        view["score"] = _finite(explanation.get("score"))
        view["explanation"] = _json_safe(explanation)
    return view


def offer_view(offer: Offer) -> dict[str, Any]:
    """An :class:`OfferView` dict. O(1)."""
    return {
        "task": offer.task.id,
        "agent": offer.agent.id,
        "time": offer.time,
        "expires": _finite(offer.expires),
    }


def agent_view(agent: Agent) -> dict[str, Any]:
    """An :class:`AgentView` dict. O(skills + channels)."""
    return {
        "id": agent.id,
        "state": agent.state.value,
        "reason": agent.reason,
        "skills": dict(agent.skills),
        "capacity": dict(agent.capacity),
        "load": dict(agent.load),
        "department": agent.department,
        "team": agent.team,
        "tasks_handled": agent.tasks_handled,
    }


def offers_view(engine: Engine, agent_id: str) -> dict[str, Any]:
    """An :class:`OffersView` dict for one agent. O(tasks it holds)."""
    return {
        "agent": agent_id,
        "offers": [
            offer_view(offer)
            for task in engine.tasks_of(agent_id)
            if task.state is TaskState.offered
            # A task offered to several agents at once: this agent's own offer.
            for offer in engine.offers_of(task.id)
            if offer.agent.id == agent_id
        ],
    }


def tasklist_view(engine: Engine, filters: dict[str, Any]) -> dict[str, Any]:
    """A :class:`TaskListView` dict: ``n`` tasks after ``offset``, filtered. See
    :meth:`valueroute.tasklist.TaskList.top` for the cost."""
    now = max(time.time(), engine.now)
    tasklist = engine.tasklist
    n = filters.pop("n")
    offset = filters.pop("offset")
    page = tasklist.top(n, now, offset=offset, **filters)
    return {
        "time": now,
        "offset": offset,
        "tasks": [
            {
                "id": task.id,
                "type": task.type,
                "channel": task.channel,
                "priority": task.priority,
                "value": task.value,
                "due": _finite(task.due),
                "age": now - task.created,
                "score": score,
            }
            for task, score in page
        ],
        "waiting": len(tasklist),
        "waiting_by_type": {str(k): v for k, v in tasklist.counts("type").items()},
        "waiting_by_channel": {str(k): v for k, v in tasklist.counts("channel").items()},
    }


def stats_view(engine: Engine) -> dict[str, Any]:
    """A :class:`StatsView` dict. See :meth:`valueroute.engine.Engine.statistics`."""
    result: dict[str, Any] = _json_safe(dict(engine.statistics()))
    return result


def queues_view(engine: Engine) -> dict[str, Any]:
    """A :class:`QueuesView` dict. See :meth:`valueroute.engine.Engine.queue_statistics`
    for the cost."""
    queues = engine.queue_statistics()
    for stats in queues.values():
        expected = stats["expected_wait"]
        if expected is not None and math.isinf(expected):
            stats["expected_wait"] = UNSTAFFED
    now = max(time.time(), engine.now)
    return {"time": now, "queues": _json_safe(queues)}


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (JSON has no infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
