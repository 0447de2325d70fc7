"""The core's record of one task, and the requirement groups tasks are filed under.

A :class:`Task` is a slotted record, not a pydantic model: a million open
tasks must fit in a few hundred megabytes. It is created once from a validated
:class:`~valueroute.models.TaskSpec`; after that the core owns it. Hosts and
policies may read its fields; only the task list and the engine change them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from valueroute._types import AttributeValue

if TYPE_CHECKING:
    from valueroute.calendar import BusinessCalendar
    from valueroute.models import TaskSpec

__all__ = ["RequirementGroup", "Task", "TaskState", "intern_text"]


class TaskState(StrEnum):
    """Where a task is in its lifecycle (see :mod:`valueroute.engine` for the transitions)."""

    queued = "queued"
    """Waiting in the task list for an agent."""
    offered = "offered"
    """Reserved for one agent, waiting for accept, reject or timeout."""
    assigned = "assigned"
    """Being worked on by its agent."""
    wrap_up = "wrap_up"
    """Done with the customer; the agent finishes after-work (the slot is still held)."""
    held = "held"
    """Kept out of routing until resumed."""
    deferred = "deferred"
    """Kept out of routing until a time."""
    completed = "completed"
    canceled = "canceled"
    rejected = "rejected"
    """Given up after too many refused offers."""
    expired = "expired"
    """Its time to live ran out before an agent accepted it."""

    @property
    def is_terminal(self) -> bool:
        """Whether the state is final (completed, canceled, rejected or expired)."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {TaskState.completed, TaskState.canceled, TaskState.rejected, TaskState.expired}
)


def intern_text(text: str | None) -> str | None:
    """Share one string object for repeated labels (type, channel, department).

    Parsing a million tasks yields a million equal ``"voice"`` strings; interning
    keeps one.
    """
    return None if text is None else sys.intern(text)


GroupKey = (
    tuple[str, tuple[tuple[str, float], ...]]
    | tuple[str, tuple[tuple[str, float], ...], tuple[str, ...] | None, Any]
    | tuple[str, tuple[tuple[str, float], ...], tuple[str, ...] | None, Any, Any]
)
"""A requirement group's key: (channel, sorted requirements), or with a
restriction (channel, sorted requirements, preferred agents or ``None``,
requirement expression or ``None``[, the queue (a
:class:`~valueroute.queues.Queue`) when there is one])."""


class RequirementGroup:
    """A channel plus a set of required skills with minimum levels.

    Tasks with the same requirements share a group; agents are eligible for
    whole groups, which is what lets the task list answer "best task for this
    agent" without scanning tasks. Groups are interned by the task list: two
    groups with the same key are the same object.

    A group may also be *restricted* to named agents (``agents``, in order of
    preference): the group of tasks that wait for their preferred agents.
    Only those agents are eligible for it, and only when their skills meet
    its requirements too. ``requires`` is a requirement expression over
    agents' attributes (a :class:`~valueroute.expressions.Expression`), an
    additional condition an eligible agent's attributes must meet. ``queue``
    is the :class:`~valueroute.queues.Queue` its tasks wait in (``None``:
    none): only agents serving it are eligible.
    """

    __slots__ = (
        "agents",
        "bucket_list",
        "buckets",
        "channel",
        "clocked_list",
        "index",
        "key",
        "queue",
        "requirements",
        "requires",
        "skills",
    )

    def __init__(
        self,
        channel: str,
        skills: tuple[tuple[str, float], ...],
        index: int,
        agents: tuple[str, ...] | None = None,
        requires: Any = None,
        queue: Any = None,
    ) -> None:
        self.channel = sys.intern(channel)
        self.skills = skills
        self.agents = agents
        self.requires = requires
        self.queue = queue
        self.key: GroupKey = RequirementGroup.key_of(channel, skills, agents, requires, queue)
        self.index = index
        # One read-only mapping shared by every task of the group: a dict per
        # task would cost about 200 bytes each.
        self.requirements: Mapping[str, float] = MappingProxyType(dict(skills))
        # slope (or (slope, id(clock)) for a working clock) -> Bucket, holding
        # only non-empty buckets, and the same buckets as two lists for the
        # hot loop in TaskList.best: wall-time buckets, and buckets on a
        # working clock (empty unless a policy counts working time, so the
        # wall-time loop pays nothing for them); managed by TaskList.
        self.buckets: dict[object, Any] = {}
        self.bucket_list: list[Any] = []
        self.clocked_list: list[Any] = []

    @staticmethod
    def make_key(
        channel: str,
        skills: Mapping[str, float],
        agents: tuple[str, ...] | None = None,
        requires: Any = None,
        queue: Any = None,
    ) -> GroupKey:
        """The key a group is interned under: the channel and the sorted requirements,
        and the preferred agents, requirement expression and queue of a
        restricted group."""
        return RequirementGroup.key_of(
            channel, tuple(sorted(skills.items())), agents, requires, queue
        )

    @staticmethod
    def key_of(
        channel: str,
        requirements: tuple[tuple[str, float], ...],
        agents: tuple[str, ...] | None,
        requires: Any,
        queue: Any,
    ) -> GroupKey:
        """:meth:`make_key` for requirements already sorted into pairs."""
        if queue is not None:
            return (channel, requirements, agents, requires, queue)
        if agents is None and requires is None:
            return (channel, requirements)
        return (channel, requirements, agents, requires)

    def admits_agent(
        self, skills: Mapping[str, float], attributes: Mapping[str, Any], listed: frozenset[str]
    ) -> bool:
        """Whether an agent with these levels and attributes, listed by id in the
        queues named ``listed``, meets the skills, the requirement expression
        and the queue's conditions (the named agents of a restricted group
        aside)."""
        if not all(skills.get(name, -1.0) >= level for name, level in self.skills):
            return False
        requires = self.requires
        if requires is not None and not requires.predicate(attributes):
            return False
        queue = self.queue
        return queue is None or queue.admits(skills, attributes, listed)

    def admits(self, skills: Mapping[str, float]) -> bool:
        """Whether an agent with these proficiency levels meets every requirement."""
        return all(skills.get(name, -1.0) >= level for name, level in self.skills)

    def __repr__(self) -> str:
        needs = ", ".join(f"{name}>={level:g}" for name, level in self.skills) or "any"
        only = "" if self.agents is None else f"; only {', '.join(self.agents)}"
        where = "" if self.requires is None else f"; where {self.requires.source}"
        queue = "" if self.queue is None else f"; queue {self.queue.name}"
        return f"RequirementGroup({self.channel}: {needs}{only}{where}{queue})"


class Task:
    """One open task as the core keeps it.

    Fields a policy may read: ``id``, ``seq`` (submission order), ``type``,
    ``channel``, ``value``, ``priority``, ``due`` (seconds or ``None``),
    ``created`` (seconds), ``skills``, ``department``, ``process``,
    ``attributes``, ``ramp`` (parameters of a priority ramp a rule started, or
    ``None``), ``calendar`` (the :class:`~valueroute.calendar.BusinessCalendar`
    its working time is counted in, or ``None`` for wall time), ``prefer``
    (the agents it waits for, in order, while its preference holds; ``None``:
    anyone eligible), ``last_agent`` (the id of the agent it was last assigned
    to), ``requires`` (its compiled requirement expression over agents'
    attributes, or ``None``), ``queue`` (the :class:`~valueroute.queues.Queue`
    it is in, or ``None``), ``decision`` (how the agent holding it was
    chosen, see :meth:`~valueroute.engine.Engine.explain`). ``fingerprint``
    belongs to the engine (the
    submitted content, for idempotent resubmission); the remaining fields to
    the task list's index.
    """

    __slots__ = (
        "attributes",
        "bucket",
        "calendar",
        "channel",
        "created",
        "decision",
        "department",
        "due",
        "entry",
        "fingerprint",
        "group",
        "id",
        "last_agent",
        "prefer",
        "priority",
        "process",
        "queue",
        "ramp",
        "requires",
        "seq",
        "skills",
        "slope",
        "state",
        "type",
        "until",
        "value",
        "version",
    )

    def __init__(
        self,
        *,
        id: str,
        seq: int,
        created: float,
        type: str = "task",
        channel: str = "voice",
        value: float = 0.0,
        priority: int = 0,
        due: float | None = None,
        skills: Mapping[str, float] | None = None,
        department: str | None = None,
        process: str | None = None,
        attributes: dict[str, AttributeValue] | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.id = id
        self.seq = seq
        self.created = created
        self.type = sys.intern(type)
        self.channel = sys.intern(channel)
        self.value = value
        self.priority = priority
        self.due = due
        self.skills: Mapping[str, float] = skills if skills else _NO_SKILLS
        self.department = intern_text(department)
        self.process = intern_text(process)
        self.attributes: Mapping[str, AttributeValue] = attributes if attributes else _NO_ATTRIBUTES
        self.state = TaskState.queued
        self.version = 0
        self.fingerprint: Any = None
        # Parameters of a priority ramp started by a rule, read by ramp policies.
        self.ramp: object | None = None
        # The business calendar of the task's working time (None: wall time).
        self.calendar = calendar
        # The agents it waits for, in order, while its preference holds (None:
        # anyone eligible), and the agent it was last assigned to.
        self.prefer: tuple[str, ...] | None = None
        self.last_agent: str | None = None
        # The compiled requirement expression over agents' attributes, or None.
        self.requires: Any = None
        # The queue it waits in (a valueroute.queues.Queue), or None.
        self.queue: Any = None
        # How its agent was chosen (the event's "by"), for explain(); not kept
        # in snapshots, it routes nothing.
        self.decision: str | None = None
        # Index fields, owned by TaskList.
        self.group: RequirementGroup | None = None
        self.bucket: Any = None
        self.entry: tuple[float, float, int] | None = None
        self.slope = 0.0
        self.until = _INF

    @classmethod
    def from_spec(
        cls,
        spec: TaskSpec,
        *,
        seq: int,
        now: float,
        skills: Mapping[str, float] | None = None,
    ) -> Task:
        """Make the core record for a validated spec; ``created`` defaults to ``now``.

        ``skills``, when given, is a shared read-only mapping equal to
        ``spec.skills`` (a group's ``requirements``) used instead of a copy.
        """
        # Fills the slots directly: this runs once per submitted task, and
        # keyword-argument passing to __init__ costs more than the work.
        task = cls.__new__(cls)
        # The spec's fields as pydantic keeps them: a model's attribute read
        # passes its __getattr__ hook, a dictionary read does not (about half
        # the cost, a dozen times per task).
        fields = spec.__dict__
        task.id = fields["id"]
        task.seq = seq
        created = fields["created"]
        task.created = now if created is None else created
        task.type = sys.intern(fields["type"])
        task.channel = sys.intern(fields["channel"])
        task.value = fields["value"]
        task.priority = fields["priority"]
        task.due = fields["due"]
        if skills is None:
            skills = dict(fields["skills"]) or _NO_SKILLS
        task.skills = skills
        department = fields["department"]
        task.department = None if department is None else sys.intern(department)
        process = fields["process"]
        task.process = None if process is None else sys.intern(process)
        attributes = fields["attributes"]
        task.attributes = dict(attributes) if attributes else _NO_ATTRIBUTES
        task.state = _QUEUED
        task.version = 0
        task.fingerprint = None
        task.ramp = None
        task.calendar = None
        task.prefer = None
        task.last_agent = None
        task.requires = None
        task.queue = None
        task.decision = None
        task.group = None
        task.bucket = None
        task.entry = None
        task.slope = 0.0
        task.until = _INF
        return task

    def age(self, now: float) -> float:
        """Seconds since the task was created."""
        return now - self.created

    def __repr__(self) -> str:
        return (
            f"Task(id={self.id!r}, type={self.type!r}, priority={self.priority}, "
            f"value={self.value:g}, state={self.state!r})"
        )


_INF = float("inf")
# Shared read-only empty mappings: most tasks carry no attributes, and an empty
# dict per task would cost 64 bytes each.
_NO_SKILLS: Mapping[str, float] = MappingProxyType({})
_NO_ATTRIBUTES: Mapping[str, AttributeValue] = MappingProxyType({})
# Read once per new task: an enum member read through its class costs a
# metaclass attribute lookup, a global does not.
_QUEUED = TaskState.queued
