"""One command vocabulary: every engine command and view, described once.

Each :class:`Command` names an operation, the pydantic model of its
arguments (so validation, JSON encoding and the OpenAPI document come from
one place), the :class:`~valueroute.journal.DurableEngine` method it calls,
whether it changes state, the roles that may run it and the HTTP route that
exposes it. The service (:mod:`valueroute.serve`) builds its routes, its
OpenAPI document and its authorisation table from :data:`COMMANDS`, so a
command added here appears in all of them, or the tests that compare them
fail.

The argument models use the journal's names and JSON form: for a command
that changes state, :meth:`Command.encode` (``arguments.model_dump(mode="json")``,
a task's or agent's spec as :func:`spec_form`) is the object the journal
records (task and agent ids are ``task`` and ``agent``; a submitted task is
``spec``), :meth:`Command.decode` reads it
back, and :meth:`Command.apply` applies it to an engine. The journal
(:mod:`valueroute.journal`) writes, reads and replays its records through
these, so a command added here is journaled and replayed like the others,
or refused when the journal is imported if it cannot be.

Roles
-----
``admin``
    Everything: rules, policy, agents, tasks and every view.
``host``
    The system where work originates: tasks, agents' states, pulls and offers, views.
``agent``
    One agent (bound to its id): its own state, offers and pulls, and the
    tasks it holds (accept, reject, complete, end wrap-up).
``supervisor``
    Read-only views and the event stream.

>>> COMMANDS["submit"].route
('POST', '/v1/tasks')
>>> sorted(COMMANDS["accept"].roles)
['admin', 'agent', 'host']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import MAX_ID_LENGTH, AgentSpec, BoundaryModel, TaskSpec
from valueroute.rules import CompiledRules, parse_rules
from valueroute.scoring import policy_by_name

if TYPE_CHECKING:
    from valueroute.calendar import BusinessCalendar
    from valueroute.engine import Engine

EngineApplier = Callable[["Engine", Mapping[str, Any]], Any]
"""Applies a command, given its journal form (a JSON object), to an engine."""

__all__ = [
    "COMMANDS",
    "ROLES",
    "AcceptArguments",
    "AddAgentArguments",
    "AgentArguments",
    "AgentScope",
    "CancelArguments",
    "Command",
    "CompleteArguments",
    "DeferArguments",
    "EngineApplier",
    "EventsArguments",
    "NoArguments",
    "Role",
    "SetAgentStateArguments",
    "SetPolicyArguments",
    "SetRulesArguments",
    "SubmitArguments",
    "TaskArguments",
    "TaskListArguments",
    "TransferArguments",
    "UpdateArguments",
    "command_named",
    "compile_rules",
    "spec_form",
]

Role = Literal["admin", "host", "agent", "supervisor"]
"""Who holds a token: see the module documentation."""

ROLES: tuple[Role, ...] = ("admin", "host", "agent", "supervisor")
"""Every role, most powerful first."""

AgentScope = Literal["argument", "holder"]
"""How an ``agent`` token is confined: ``argument``, the command's ``agent``
argument must be its own id; ``holder``, the task must be held (offered,
assigned or in wrap-up) by it."""

Identifier = str


def spec_form(spec: TaskSpec | AgentSpec) -> dict[str, Any]:
    """A task's or agent's spec as the journal records it: the fields it was
    given (pydantic's ``model_dump(mode="json", exclude_unset=True)``) and its
    id, which may have been drawn for it. O(fields given).

    Read back, it validates to an equal spec with the same fields set, so
    the engine treats the task the same live and in a replay (a task that
    names no routing option takes the engine's short way in both); a
    record written with every field (before this form) replays as it did.
    """
    form = spec.model_dump(mode="json", exclude_unset=True)
    if "id" not in form:
        form["id"] = spec.id
    return form


def _id() -> Any:
    """A required id field (a new FieldInfo per use: pydantic keeps one per field)."""
    return Field(min_length=1, max_length=MAX_ID_LENGTH)


class _Arguments(BoundaryModel):
    """Arguments of one command: frozen, unknown fields refused, errors are InvalidInputError."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, strict=False
    )


class NoArguments(_Arguments):
    """A command without arguments (``advance``, ``statistics``)."""


class TaskArguments(_Arguments):
    """A command on one task (``hold``, ``resume``, ``revoke``, ``end_wrap_up``, ``get_task``)."""

    task: Identifier = _id()


class AgentArguments(_Arguments):
    """A command on one agent (``remove_agent``, ``next_task``, ``agent_offers``, ``get_agent``)."""

    agent: Identifier = _id()


class SubmitArguments(_Arguments):
    """``submit``: the task to accept."""

    spec: TaskSpec


class UpdateArguments(_Arguments):
    """``update``: the fields to change; ``expected_version`` makes the change conditional."""

    task: Identifier = _id()
    priority: int | None = None
    value: float | None = Field(default=None, allow_inf_nan=False)
    due: float | None = Field(default=None, allow_inf_nan=False)
    clear_due: bool = False
    skills: dict[str, float] | None = None
    expected_version: int | None = None


class CancelArguments(_Arguments):
    """``cancel``: the task and an optional reason."""

    task: Identifier = _id()
    reason: str | None = Field(default=None, max_length=1000)


class DeferArguments(_Arguments):
    """``defer``: the task and the moment (seconds) it comes back."""

    task: Identifier = _id()
    until: float = Field(allow_inf_nan=False)


class TransferArguments(_Arguments):
    """``transfer``: new requirements or channel, or an agent to offer the task to."""

    task: Identifier = _id()
    skills: dict[str, float] | None = None
    channel: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    to_agent: Identifier | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    keep_age: bool = True


class CompleteArguments(_Arguments):
    """``complete``: the task and optional wrap-up seconds (default: the engine's setting)."""

    task: Identifier = _id()
    wrap_up: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)


class AcceptArguments(_Arguments):
    """``accept`` and ``reject``: the offered task and the agent answering (optional)."""

    task: Identifier = _id()
    agent: Identifier | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)


class AddAgentArguments(_Arguments):
    """``add_agent``: the agent and whether it starts ready."""

    spec: AgentSpec
    ready: bool = False


class SetAgentStateArguments(_Arguments):
    """``set_agent_state``: offline, ready, not_ready (with ``reason``) or wrap_up (``until``)."""

    agent: Identifier = _id()
    state: Literal["offline", "ready", "not_ready", "wrap_up"]
    reason: str | None = Field(default=None, max_length=1000)
    until: float | None = Field(default=None, allow_inf_nan=False)


class SetPolicyArguments(_Arguments):
    """``set_policy``: a built-in policy's name and parameters."""

    name: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    params: dict[str, Any] = Field(default_factory=dict)


class SetRulesArguments(_Arguments):
    """``set_rules``: a rule file's text (``None`` clears the rules) and its format."""

    text: str | None = Field(default=None, max_length=1_000_000)
    format: Literal["toml", "json", "yaml"] = "toml"


class TaskListArguments(_Arguments):
    """``tasklist``: a page of the global list, best first, with optional filters."""

    n: int = Field(default=50, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    type: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    channel: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    department: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    process: str | None = Field(default=None, max_length=MAX_ID_LENGTH)


class EventsArguments(_Arguments):
    """``events``: stream events with sequence numbers above ``after``."""

    after: int | None = Field(default=None, ge=0)


@dataclass(frozen=True, slots=True)
class Command:
    """One operation of the vocabulary.

    ``method`` is the :class:`~valueroute.journal.DurableEngine` method a
    state-changing command calls (``positional`` arguments first, the rest
    as keywords; ``spread`` names a mapping argument passed as keywords);
    views have no method: the service answers them from the engine's state.
    ``route`` is the HTTP method and path (``{task}`` and ``{agent}`` are
    path arguments); ``body`` names the argument the whole request body
    fills (``spec``), else the body holds the remaining arguments; ``query``
    lists the arguments read from the query string. ``engine_form``
    applies the journal form to an :class:`~valueroute.engine.Engine` when
    the engine's method of the same name does not take the JSON values as
    they are (a spec to validate, a policy or rules to build); without it
    :meth:`apply` calls the engine's ``method`` as :meth:`invoke` does.
    """

    name: str
    arguments: type[BoundaryModel]
    mutates: bool
    roles: frozenset[Role]
    route: tuple[str, str]
    summary: str
    method: str | None = None
    positional: tuple[str, ...] = ()
    spread: str | None = None
    body: str | None = None
    query: tuple[str, ...] = ()
    agent_scope: frozenset[AgentScope] = field(default_factory=frozenset)
    engine_form: EngineApplier | None = None
    path_arguments: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """The arguments taken from the route's path, in order."""
    fields: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """The names of the arguments, in the order of the argument model (and of a
    journal record's JSON object)."""
    body_model: type[BoundaryModel] | None = field(init=False, repr=False, compare=False)
    """The model of the argument named by ``body`` when it is a model (a request's
    whole body validates as one), else ``None``."""

    def __post_init__(self) -> None:
        # Worked out once: pydantic's model_fields is a computed property, and
        # the service reads these for every request.
        path = self.route[1]
        named = tuple(part[1:-1] for part in path.split("/") if part.startswith("{"))
        object.__setattr__(self, "path_arguments", named)
        fields = self.arguments.model_fields
        object.__setattr__(self, "fields", tuple(fields))
        model = None if self.body is None else fields[self.body].annotation
        body_model = model if isinstance(model, type) and issubclass(model, BoundaryModel) else None
        object.__setattr__(self, "body_model", body_model)

    def invoke(self, target: Any, arguments: BoundaryModel) -> Any:
        """Run the command on ``target`` (a DurableEngine) with validated ``arguments``.

        Cost: the engine's cost of the command plus O(size of the arguments).
        """
        if self.method is None:
            raise InvalidInputError(
                f"command: got {self.name!r}, a view (expected a command that changes state)"
            )
        if not isinstance(arguments, self.arguments):
            raise InvalidInputError(
                f"arguments: got {type(arguments).__name__} "
                f"(expected {self.arguments.__name__} for {self.name!r})"
            )
        names = self.fields if type(arguments) is self.arguments else type(arguments).model_fields
        values = {name: getattr(arguments, name) for name in names}
        positional = [values.pop(name) for name in self.positional]
        if self.spread is not None:
            values.update(values.pop(self.spread))
        return getattr(target, self.method)(*positional, **values)

    def encode(self, arguments: BoundaryModel) -> dict[str, Any]:
        """The JSON object of the arguments, as the journal records them. O(size)."""
        form = arguments.model_dump(mode="json")
        spec = getattr(arguments, "spec", None)
        if isinstance(spec, TaskSpec | AgentSpec):
            form["spec"] = spec_form(spec)
        return form

    def decode(self, recorded: Mapping[str, Any]) -> BoundaryModel:
        """The arguments a journal record's JSON object holds, validated. O(size).

        Invalid content raises :class:`~valueroute.errors.InvalidInputError`.
        """
        return self.arguments.model_validate(recorded)

    def apply(self, engine: Engine, recorded: Mapping[str, Any]) -> Any:
        """Apply the command in its journal form to ``engine`` (replay and the journal's
        write path). Cost: the engine's cost of the command plus O(size of the arguments).

        The JSON values go to the engine as they are (the journal checked them
        when the command first ran); a view has no journal form and raises
        :class:`~valueroute.errors.InvalidInputError`.
        """
        if self.engine_form is not None:
            return self.engine_form(engine, recorded)
        if self.method is None:
            raise InvalidInputError(
                f"command: got {self.name!r}, a view (expected a command that changes state)"
            )
        values = dict(recorded)
        positional = [values.pop(name) for name in self.positional]
        if self.spread is not None:
            values.update(values.pop(self.spread))
        return getattr(engine, self.method)(*positional, **values)


_EVERYONE: frozenset[Role] = frozenset(ROLES)
_OPERATORS: frozenset[Role] = frozenset({"admin", "host"})
_ADMIN: frozenset[Role] = frozenset({"admin"})
_AGENTS: frozenset[Role] = frozenset({"admin", "host", "agent"})
_READERS: frozenset[Role] = frozenset({"admin", "host", "supervisor"})
_HOLDER: frozenset[AgentScope] = frozenset({"holder"})
_OWN: frozenset[AgentScope] = frozenset({"argument"})
_OWN_OFFER: frozenset[AgentScope] = frozenset({"argument", "holder"})


def _submit(engine: Engine, recorded: Mapping[str, Any]) -> Any:
    return engine.submit(TaskSpec.model_validate(recorded["spec"]))


def _add_agent(engine: Engine, recorded: Mapping[str, Any]) -> Any:
    return engine.add_agent(AgentSpec.model_validate(recorded["spec"]), ready=recorded["ready"])


def _set_policy(engine: Engine, recorded: Mapping[str, Any]) -> None:
    engine.set_policy(policy_by_name(recorded["name"], **recorded["params"]))


def compile_rules(
    recorded: Mapping[str, Any], calendars: Mapping[str, BusinessCalendar] | None = None
) -> CompiledRules | None:
    """The rules a ``set_rules`` journal form holds, compiled (``None``: no rules);
    ``calendars``: the engine's, which rules naming a calendar must be given."""
    if recorded["text"] is None:
        return None
    return parse_rules(recorded["text"], format=recorded["format"]).compile(calendars=calendars)


def _set_rules(engine: Engine, recorded: Mapping[str, Any]) -> None:
    engine.set_rules(compile_rules(recorded, engine.calendars))


def _task_action(name: str, arguments: type[BoundaryModel], summary: str, **extra: Any) -> Command:
    return Command(
        name=name,
        arguments=arguments,
        mutates=True,
        roles=extra.pop("roles", _OPERATORS),
        route=("POST", f"/v1/tasks/{{task}}/{name}"),
        summary=summary,
        method=name,
        positional=extra.pop("positional", ("task",)),
        **extra,
    )


_ALL: tuple[Command, ...] = (
    Command(
        "submit",
        SubmitArguments,
        True,
        _OPERATORS,
        ("POST", "/v1/tasks"),
        "Submit a task; the same id with the same content again returns the existing task.",
        method="submit",
        positional=("spec",),
        body="spec",
        engine_form=_submit,
    ),
    Command(
        "update",
        UpdateArguments,
        True,
        _OPERATORS,
        ("PATCH", "/v1/tasks/{task}"),
        "Change a task's priority, value, due time or requirements (If-Match: its version).",
        method="update",
        positional=("task",),
    ),
    _task_action("cancel", CancelArguments, "Withdraw a task no agent is working on."),
    _task_action("hold", TaskArguments, "Keep a queued or deferred task out of routing."),
    _task_action("resume", TaskArguments, "Return a held or deferred task to the queue."),
    _task_action(
        "defer",
        DeferArguments,
        "Keep a queued or held task out of routing until a time.",
        positional=("task", "until"),
    ),
    _task_action(
        "transfer", TransferArguments, "Requeue a task with new requirements, or offer it."
    ),
    _task_action(
        "complete",
        CompleteArguments,
        "The agent is done with the customer: the task goes to wrap-up or completed.",
        roles=_AGENTS,
        agent_scope=_HOLDER,
    ),
    _task_action(
        "end_wrap_up",
        TaskArguments,
        "End a task's after-work early.",
        roles=_AGENTS,
        agent_scope=_HOLDER,
    ),
    Command(
        "accept",
        AcceptArguments,
        True,
        _AGENTS,
        ("POST", "/v1/offers/{task}/accept"),
        "The agent takes the offered task.",
        method="accept",
        positional=("task", "agent"),
        agent_scope=_OWN_OFFER,
    ),
    Command(
        "reject",
        AcceptArguments,
        True,
        _AGENTS,
        ("POST", "/v1/offers/{task}/reject"),
        "The agent refuses the offer; the task is queued again with its age.",
        method="reject",
        positional=("task", "agent"),
        agent_scope=_OWN_OFFER,
    ),
    Command(
        "revoke",
        TaskArguments,
        True,
        _OPERATORS,
        ("POST", "/v1/offers/{task}/revoke"),
        "Withdraw an offer; the task is queued again with its age.",
        method="revoke",
        positional=("task",),
    ),
    Command(
        "add_agent",
        AddAgentArguments,
        True,
        _ADMIN,
        ("POST", "/v1/agents"),
        "Register an agent (offline, or ready with ?ready=true).",
        method="add_agent",
        positional=("spec",),
        body="spec",
        query=("ready",),
        engine_form=_add_agent,
    ),
    Command(
        "remove_agent",
        AgentArguments,
        True,
        _ADMIN,
        ("DELETE", "/v1/agents/{agent}"),
        "Unregister an agent that holds no task.",
        method="remove_agent",
        positional=("agent",),
    ),
    Command(
        "set_agent_state",
        SetAgentStateArguments,
        True,
        _AGENTS,
        ("PUT", "/v1/agents/{agent}/state"),
        "Set an agent offline, ready, not_ready or wrap_up.",
        method="set_agent_state",
        positional=("agent", "state"),
        agent_scope=_OWN,
    ),
    Command(
        "next_task",
        AgentArguments,
        True,
        _AGENTS,
        ("POST", "/v1/agents/{agent}/next"),
        "Pull: offer the agent the best task it may take now.",
        method="next_task",
        positional=("agent",),
        agent_scope=_OWN,
    ),
    Command(
        "advance",
        NoArguments,
        True,
        _ADMIN,
        ("POST", "/v1/advance"),
        "Process every timer due now (the service's timer task does this by itself).",
        method="advance",
    ),
    Command(
        "set_policy",
        SetPolicyArguments,
        True,
        _ADMIN,
        ("PUT", "/v1/policy"),
        "Replace the scoring policy by a built-in one, by name and parameters.",
        method="set_policy",
        positional=("name",),
        spread="params",
        engine_form=_set_policy,
    ),
    Command(
        "set_rules",
        SetRulesArguments,
        True,
        _ADMIN,
        ("PUT", "/v1/rules"),
        "Replace the rule set by a rule file's text, or clear it.",
        method="set_rules",
        positional=("text",),
        engine_form=_set_rules,
    ),
    Command(
        "get_task",
        TaskArguments,
        False,
        _READERS,
        ("GET", "/v1/tasks/{task}"),
        "A task: state, version, holder, score and its explanation.",
    ),
    Command(
        "get_agent",
        AgentArguments,
        False,
        _EVERYONE,
        ("GET", "/v1/agents/{agent}"),
        "An agent: state, skills, capacity and load.",
        agent_scope=_OWN,
    ),
    Command(
        "agent_offers",
        AgentArguments,
        False,
        _EVERYONE,
        ("GET", "/v1/agents/{agent}/offers"),
        "The offers waiting for an agent's answer.",
        agent_scope=_OWN,
    ),
    Command(
        "tasklist",
        TaskListArguments,
        False,
        _READERS,
        ("GET", "/v1/tasklist"),
        "A page of the global task list in score order, with filters and counts per queue.",
        query=("n", "offset", "type", "channel", "department", "process"),
    ),
    Command(
        "statistics",
        NoArguments,
        False,
        _READERS,
        ("GET", "/v1/stats"),
        "Real-time counters: waiting per type, oldest ages, per-type counts, agents.",
    ),
    Command(
        "queues",
        NoArguments,
        False,
        _READERS,
        ("GET", "/v1/queues"),
        "Per named queue: waiting, oldest and expected wait, agents serving, counts since start.",
    ),
    Command(
        "events",
        EventsArguments,
        False,
        _READERS,
        ("GET", "/v1/events"),
        "Every engine event as Server-Sent Events; resume with Last-Event-ID or ?after=.",
        query=("after",),
    ),
)

COMMANDS: Mapping[str, Command] = {command.name: command for command in _ALL}
"""Every command and view by name, in the order of the API."""


def command_named(name: object) -> Command:
    """The command called ``name``; anything else raises InvalidInputError. O(1)."""
    command = COMMANDS.get(name) if isinstance(name, str) else None
    if command is None:
        raise InvalidInputError(
            f"command: got {bounded_repr(name)} (expected one of {sorted(COMMANDS)})",
            [("command", name, "a command name")],
        )
    return command
