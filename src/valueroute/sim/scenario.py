"""Scenarios: everything a simulated contact-centre day needs, in one validated model.

A :class:`Scenario` names the task types (channel, skills, value, service-level
target, handle-time and patience distributions, retrials and forwarding), the
arrival processes, the agent groups (skills, capacities, headcount or shifts)
and the routing configuration the engine runs with. It is a frozen pydantic
model; :func:`load_scenario` reads one from TOML, JSON or (with PyYAML) YAML.

Every problem is reported before a run starts, as an
:class:`~valueroute.errors.InvalidInputError` whose message names the field
(``task_types.1.handle.mean_seconds``, ``arrivals.0.task_type``...), the value
received and what was expected.

Code in scenario files
----------------------
Routing may name a policy or an agent-selection strategy as
``module:attribute`` (user code). Scenario files travel between people, and
opening one must not run code unasked: such a reference is refused with an
error naming the field unless the caller allows it explicitly
(``allow_code=True`` in Python, ``--allow-code`` on the command line).
"""

from __future__ import annotations

import datetime as _dt
import importlib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from valueroute._documents import SUFFIXES, DocumentError, parse_document
from valueroute.agents import AgentSelection, SelectionCallable, selection_by_name
from valueroute.calendar import MAX_INSTANT, MIN_INSTANT, BusinessCalendar, calendar_from
from valueroute.engine import RelaxationStep
from valueroute.errors import InvalidInputError, ValueRouteError, bounded_repr
from valueroute.models import BoundaryModel, QueueSpec, WorkflowSpec, _check_skills
from valueroute.queues import build_queues
from valueroute.scoring import Policy, as_policy, policy_by_name
from valueroute.sim.arrivals import ArrivalProcess, TraceArrivals
from valueroute.sim.distributions import Distribution
from valueroute.workflows import build_workflows

__all__ = [
    "DEFAULT_START",
    "MAX_AGENTS",
    "AgentGroup",
    "Break",
    "RelaxationSpec",
    "Routing",
    "Scenario",
    "ServiceLevelDefinition",
    "Shift",
    "TaskType",
    "load_scenario",
    "parse_scenario",
]

MAX_AGENTS = 100_000
"""Most agents a scenario may staff (all groups, shifts and intervals together)."""

ServiceLevelDefinition = Literal["offered", "answered", "offered_excluding_short"]

DEFAULT_START = "2026-01-05T00:00:00"
"""Scenario time 0 when a scenario with calendars gives no ``start``: Monday
5 January 2026, midnight, local time in the zone of the first calendar."""

_Name = Annotated[str, Field(min_length=1, max_length=128)]
_Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
_PositiveSeconds = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
_Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
_Multiplier = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


def _problem(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)


class TaskType(BoundaryModel):
    """One kind of work: how it arrives at the engine and how long it takes.

    ``sla_seconds`` is the service-level target T (answered within T seconds
    of arrival). ``due_seconds``, when set, gives each task a due time
    ``arrival + due_seconds`` that due-aware policies see; lateness is measured
    against it (against ``sla_seconds`` when it is not set).

    ``calendar`` names one of the scenario's ``calendars``: the type's
    business hours. A task arriving while it is closed waits in the queue
    (``closed="wait"``) or is refused and counted in the ``refused_closed``
    KPI (``closed="refuse"``). With ``sla_clock="working"``, ``sla_seconds``
    and ``due_seconds`` count working time of that calendar: a task is
    answered within target when the working seconds between its arrival and
    its answer are at most ``sla_seconds``, and its due time is
    ``calendar.add(arrival, due_seconds)``.

    ``handle_by_group`` makes handle time depend on the agent group: a number
    multiplies the type's drawn handle time (0.8: a specialist is 20 % faster),
    a distribution replaces it for that group.
    """

    name: _Name
    channel: _Name = "voice"
    skills: dict[str, float] = Field(default_factory=dict)
    value: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    priority: int = 0
    sla_seconds: _Seconds = 20.0
    due_seconds: _Seconds | None = None
    handle: Distribution
    handle_by_group: dict[str, _Multiplier | Distribution] = Field(default_factory=dict)
    patience: Distribution | None = None
    """Time a customer waits before abandoning; ``None``: never abandons."""
    retrial_probability: _Probability = 0.0
    """Chance that a customer who abandoned tries again."""
    retrial_delay: Distribution | None = None
    retrial_type: _Name | None = None
    """Type of the retry (a call that comes back as an e-mail); the same type when unset."""
    forward_probability: _Probability = 0.0
    """Chance that a served task creates a follow-up task of type ``forward_to``."""
    forward_to: _Name | None = None
    calendar: _Name | None = None
    """Name of the scenario calendar giving the type's business hours; ``None``: always open."""
    closed: Literal["wait", "refuse"] = "wait"
    """What happens to a task arriving while its calendar is closed."""
    sla_clock: Literal["wall", "working"] = "wall"
    """Whether ``sla_seconds`` and ``due_seconds`` count wall or the calendar's working time."""

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        return _check_skills(skills, "required skills")

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if self.retrial_probability > 0 and self.retrial_delay is None:
            raise _problem(
                "missing_delay",
                "retrial_probability={p} needs a retrial_delay distribution",
                p=self.retrial_probability,
            )
        if self.retrial_probability > 0 and self.patience is None:
            raise _problem(
                "no_patience",
                "retrial_probability={p} needs a patience distribution (only "
                "customers who abandon retry)",
                p=self.retrial_probability,
            )
        if self.forward_probability > 0 and self.forward_to is None:
            raise _problem(
                "missing_target",
                "forward_probability={p} needs forward_to (a task type name)",
                p=self.forward_probability,
            )
        if self.calendar is None:
            for field, value, default in (
                ("closed", self.closed, "wait"),
                ("sla_clock", self.sla_clock, "wall"),
            ):
                if value != default:
                    raise _problem(
                        "calendar",
                        "{field}='{value}' needs a calendar (the name of one of the "
                        "scenario's calendars)",
                        field=field,
                        value=value,
                    )
        return self


class Break(BoundaryModel):
    """A pause within a shift, from ``start_seconds`` for ``duration_seconds``."""

    start_seconds: _Seconds
    duration_seconds: _PositiveSeconds


class Shift(BoundaryModel):
    """``count`` agents on duty from ``start_seconds`` to ``end_seconds``.

    An agent still holding a task at the end of the shift (or at the start of
    a break) finishes it first; no new task is offered to it meanwhile.
    """

    start_seconds: _Seconds
    end_seconds: _PositiveSeconds
    count: Annotated[int, Field(ge=0, le=MAX_AGENTS)]
    breaks: list[Break] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_seconds <= self.start_seconds:
            raise _problem(
                "order",
                "end_seconds={end} must be after start_seconds={start}",
                end=self.end_seconds,
                start=self.start_seconds,
            )
        for brk in self.breaks:
            if not (
                self.start_seconds <= brk.start_seconds
                and brk.start_seconds + brk.duration_seconds <= self.end_seconds
            ):
                raise _problem(
                    "break",
                    "break at {at} for {length} s does not fit in the shift {start}..{end}",
                    at=brk.start_seconds,
                    length=brk.duration_seconds,
                    start=self.start_seconds,
                    end=self.end_seconds,
                )
        return self


class AgentGroup(BoundaryModel):
    """Agents with the same skills and channel capacities.

    Give exactly one of: ``count`` (on duty all day, or with ``calendar``
    exactly while that calendar is open), ``shifts``, or ``headcount``
    (agents on duty per interval, starting at 0). Headcount
    intervals are the scenario's ``interval_minutes`` unless the group gives
    its own ``interval_minutes``; the scenario refuses a headcount that has
    not exactly one count per interval of its horizon.
    """

    name: _Name
    skills: dict[str, float] = Field(default_factory=dict)
    capacity: dict[str, Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: {"voice": 1}
    )
    count: Annotated[int, Field(ge=0, le=MAX_AGENTS)] | None = None
    shifts: list[Shift] = Field(default_factory=list)
    headcount: list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] = Field(default_factory=list)
    interval_minutes: Literal[15, 30, 60] | None = None
    """Length of a headcount interval; ``None``: the scenario's ``interval_minutes``."""
    calendar: _Name | None = None
    """Name of a scenario calendar: the ``count`` agents are on duty exactly while it is open."""

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        return _check_skills(skills, "skills")

    @model_validator(mode="after")
    def _one_staffing(self) -> Self:
        given = [
            name
            for name, present in (
                ("count", self.count is not None),
                ("shifts", bool(self.shifts)),
                ("headcount", bool(self.headcount)),
            )
            if present
        ]
        if len(given) != 1:
            raise _problem(
                "staffing",
                "give exactly one of count, shifts or headcount (given: {given})",
                given=", ".join(given) or "none",
            )
        if self.calendar is not None and self.count is None:
            raise _problem(
                "calendar",
                "calendar='{calendar}' gives the hours of count agents: give count, not "
                "shifts or headcount, with a calendar",
                calendar=self.calendar,
            )
        return self

    @property
    def size(self) -> int:
        """How many distinct agents the group needs."""
        if self.count is not None:
            return self.count
        if self.shifts:
            return sum(shift.count for shift in self.shifts)
        return max(self.headcount)


class RelaxationSpec(BoundaryModel):
    """A relaxation step (see :class:`valueroute.engine.RelaxationStep`)."""

    after_seconds: _Seconds
    lower_by: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    drop: list[str] = Field(default_factory=list)


class Routing(BoundaryModel):
    """How the engine routes: policy, rules, agent selection, relaxation, starvation guard.

    ``policy`` and ``agent_selection`` are built-in names (with ``*_params``)
    or ``module:attribute`` references to user code, which load only with
    ``allow_code``. ``rules`` is a rule file path (relative paths are taken
    from the scenario file's folder).
    """

    policy: _Name = "fifo"
    policy_params: dict[str, Any] = Field(default_factory=dict)
    rules: str | None = None
    agent_selection: _Name = "longest_idle"
    selection_params: dict[str, Any] = Field(default_factory=dict)
    relaxation: list[RelaxationSpec] = Field(default_factory=list)
    max_wait_seconds: _PositiveSeconds | None = None
    wrap_up_seconds: _Seconds | dict[str, _Seconds] = 0.0
    exclusive_channels: list[str] = Field(default_factory=lambda: ["voice"])
    queues: list[QueueSpec] = Field(default_factory=list, max_length=1000)
    """Named queues (see :class:`~valueroute.models.QueueSpec`); tasks enter
    them by their type's workflow."""
    workflows: list[WorkflowSpec] = Field(default_factory=list, max_length=1000)
    """Workflows by task type (:class:`~valueroute.models.WorkflowSpec`)."""

    @model_validator(mode="after")
    def _queues_and_workflows(self) -> Self:
        for queue in self.queues:
            if queue.max_length is not None and queue.when_full == "refuse":
                raise _problem(
                    "queues",
                    "queue {name} refuses tasks when full (expected when_full 'overflow' or "
                    "'event' in a simulation: refused arrivals are not simulated)",
                    name=repr(queue.name),
                )
            if (
                queue.offer_timeout is not None
                or queue.concurrent_offers is not None
                or queue.auto_accept is not None
            ):
                raise _problem(
                    "queues",
                    "queue {name} sets how tasks are offered (expected no offer_timeout, "
                    "concurrent_offers or auto_accept in a simulation: simulated agents take "
                    "tasks without offers)",
                    name=repr(queue.name),
                )
        for workflow in self.workflows:
            if workflow.then == "expire":
                raise _problem(
                    "workflows",
                    "workflow {name} expires tasks after its last step (expected then 'stay' or "
                    "'hold' in a simulation, where callers leave by abandoning)",
                    name=repr(workflow.name),
                )
        try:
            build_workflows(self.workflows, build_queues(self.queues))
        except ValueRouteError as exc:
            raise _problem("queues", "{error}", error=_clip(str(exc))) from None
        return self

    @model_validator(mode="after")
    def _names(self) -> Self:
        if not _is_code(self.policy):
            # Parameters a scenario derives from its task types are checked
            # by the scenario; here they stand in as 1 second.
            stand_in = {
                name: 1.0
                for name in DERIVED_PARAMETERS.get(self.policy, ())
                if name not in self.policy_params
            }
            try:
                policy_by_name(self.policy, **self.policy_params, **stand_in)
            except ValueRouteError as exc:
                raise _problem("policy", "{error}", error=_clip(str(exc))) from None
        if not _is_code(self.agent_selection) and self.agent_selection != "random":
            try:
                selection_by_name(self.agent_selection, **self.selection_params)
            except ValueRouteError as exc:
                raise _problem("agent_selection", "{error}", error=_clip(str(exc))) from None
        return self

    def uses_code(self) -> list[str]:
        """The fields that name user code (``module:attribute``)."""
        return [
            name
            for name, value in (
                ("routing.policy", self.policy),
                ("routing.agent_selection", self.agent_selection),
            )
            if _is_code(value)
        ]

    def build_policy(self, *, allow_code: bool = False) -> Policy:
        """The scoring policy from ``policy_params`` alone; user code only with ``allow_code``.

        A scenario fills in the parameters it can derive from its task types:
        use :meth:`Scenario.build_policy` to run one.
        """
        if _is_code(self.policy):
            target = _load_code("routing.policy", self.policy, allow_code=allow_code)
            if isinstance(target, type) or (
                callable(target)
                and not callable(getattr(target, "segment", None))
                and self.policy_params
            ):
                target = target(**self.policy_params)
            return as_policy(target)
        return policy_by_name(self.policy, **self.policy_params)

    def build_selection(
        self, *, rng: np.random.Generator, allow_code: bool = False
    ) -> AgentSelection | SelectionCallable:
        """The agent-selection strategy (``random`` draws from ``rng``)."""
        if _is_code(self.agent_selection):
            target = _load_code(
                "routing.agent_selection", self.agent_selection, allow_code=allow_code
            )
            if isinstance(target, type):
                built: AgentSelection | SelectionCallable = target(**self.selection_params)
                return built
            if not callable(target) and not hasattr(target, "choose"):
                raise InvalidInputError(
                    f"routing.agent_selection: got {_shown(self.agent_selection)} which names "
                    f"{type(target).__name__} (expected a strategy or a callable)",
                    [("routing.agent_selection", self.agent_selection, "a strategy")],
                )
            return target  # type: ignore[no-any-return]
        if self.agent_selection == "random":
            return selection_by_name("random", rng=rng, **self.selection_params)
        return selection_by_name(self.agent_selection, **self.selection_params)

    def relaxation_steps(self) -> tuple[RelaxationStep, ...]:
        """The ``relaxation`` entries as the engine's relaxation steps, in order."""
        return tuple(
            RelaxationStep(after=s.after_seconds, lower_by=s.lower_by, drop=tuple(s.drop))
            for s in self.relaxation
        )


DERIVED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "cmu": ("handle_seconds",),
    "cmu_theta": ("handle_seconds", "patience_seconds"),
    "least_slack": ("handle_seconds",),
}
"""Built-in policies' parameters a scenario takes from its task types when not given."""


def _is_code(reference: str) -> bool:
    return ":" in reference


def _require_bool(allow_code: Any) -> None:
    """Refuse an ``allow_code`` that is not a bool: only True permits running code."""
    if type(allow_code) is not bool:
        raise InvalidInputError(
            f"allow_code: got {_shown(allow_code)} (expected True or False)",
            [("allow_code", _shown(allow_code), "a bool")],
        )


def _load_code(field: str, reference: str, *, allow_code: bool) -> Any:
    _require_bool(allow_code)
    if not allow_code:
        raise InvalidInputError(
            f"{field}: got {_shown(reference)}, a reference to code (expected a built-in name; "
            "loading code from a scenario needs allow_code=True or --allow-code)",
            [(field, reference, "a built-in name, or allow_code=True")],
        )
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(
            f"{field}: got {_shown(reference)} (module {_shown(module_name)} cannot be "
            f"imported: {_clip(str(exc))})",
            [(field, reference, "an importable module:attribute")],
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not part or not hasattr(target, part):
            raise InvalidInputError(
                f"{field}: got {_shown(reference)} (no attribute {_shown(attribute)} in "
                f"{_shown(module_name)})",
                [(field, reference, "an existing module:attribute")],
            )
        target = getattr(target, part)
    return target


class Scenario(BoundaryModel):
    """A whole simulated period: task types, arrivals, agents, routing, run settings.

    Arrivals stop at ``horizon_seconds`` and so does the run; tasks still open
    then are reported as waiting or in service at the end. Statistics count
    the tasks that arrive from ``warmup_seconds`` on, and agent time from
    ``warmup_seconds`` on. Per-interval tables use ``interval_minutes``, and
    so do agent-group headcounts unless a group gives its own.

    ``calendars`` maps names to calendar tables (the keys of a calendar file:
    ``timezone``, ``hours``, ``holidays``, ``exceptions``; see
    :func:`valueroute.calendar.calendar_from`) that task types and agent
    groups name. ``start`` is the wall instant of scenario time 0: epoch
    seconds, or an ISO date-time (without an offset it is local time in the
    zone of the first calendar); by default :data:`DEFAULT_START`, a Monday
    midnight. Scenario second ``s`` is the instant ``start + s``.

    Built-in policies' parameters that the task types determine
    (:data:`DERIVED_PARAMETERS`: ``handle_seconds``, ``patience_seconds``)
    may be left out of ``routing.policy_params``: :meth:`policy_params`
    takes them from the types' distributions.
    """

    name: _Name = "scenario"
    horizon_seconds: _PositiveSeconds
    warmup_seconds: _Seconds = 0.0
    interval_minutes: Literal[15, 30, 60] = 30
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    service_level_definition: ServiceLevelDefinition = "offered"
    short_abandon_seconds: _Seconds = 5.0
    task_types: Annotated[list[TaskType], Field(min_length=1)]
    arrivals: Annotated[list[ArrivalProcess], Field(min_length=1)]
    agent_groups: Annotated[list[AgentGroup], Field(min_length=1)]
    routing: Routing = Field(default_factory=Routing)
    calendars: dict[_Name, dict[str, Any]] = Field(default_factory=dict)
    start: float | str | None = None
    """Wall instant of scenario time 0: epoch seconds or an ISO date-time; ``None``: Monday
    5 January 2026, 00:00 in the first calendar's zone (UTC without calendars)."""

    @field_validator("calendars")
    @classmethod
    def _calendars(cls, tables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, table in tables.items():
            try:
                _build_calendar(name, table)
            except ValueRouteError as exc:
                problem = _problem("calendar", "{error}", error=_clip(str(exc)))
                raise ValidationError.from_exception_data(
                    "Scenario", [InitErrorDetails(type=problem, loc=(name,), input=table)]
                ) from None
        return tables

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _problem("start", "expected epoch seconds or an ISO date-time text")
        if isinstance(value, str):
            _parse_start(value, None)
            return value
        if not MIN_INSTANT <= value <= MAX_INSTANT:
            raise _problem(
                "start",
                "expected finite epoch seconds from {low} to {high}",
                low=f"{MIN_INSTANT:g}",
                high=f"{MAX_INSTANT:g}",
            )
        return float(value)

    @model_validator(mode="before")
    @classmethod
    def _text_keys(cls, data: Any) -> Any:
        # A nested entry (a task type, a shift, the routing table) becomes a
        # model built from its keys as keyword names: a key that is not text
        # would stop that with a bare TypeError, so it is refused here,
        # naming where it is.
        if isinstance(data, Mapping):
            _check_keys(data, "", _KEY_DEPTH)
        return data

    @field_validator("agent_groups")
    @classmethod
    def _headcounts_cover_the_horizon(
        cls, groups: list[AgentGroup], info: ValidationInfo
    ) -> list[AgentGroup]:
        horizon = info.data.get("horizon_seconds")
        scenario_minutes = info.data.get("interval_minutes")
        if horizon is None or scenario_minutes is None:
            return groups  # reported on their own fields
        for index, group in enumerate(groups):
            if not group.headcount:
                continue
            minutes = scenario_minutes if group.interval_minutes is None else group.interval_minutes
            needed = math.ceil(horizon / (60.0 * minutes))
            if len(group.headcount) != needed:
                problem = _problem(
                    "headcount",
                    "{got} counts, expected {needed}: one per {minutes} minutes of the "
                    "{horizon} s horizon, minutes being the scenario's interval_minutes or "
                    "the group's own",
                    got=len(group.headcount),
                    needed=needed,
                    minutes=minutes,
                    horizon=f"{horizon:g}",
                )
                raise ValidationError.from_exception_data(
                    "Scenario",
                    [
                        InitErrorDetails(
                            type=problem, loc=(index, "headcount"), input=group.headcount
                        )
                    ],
                )
        return groups

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.warmup_seconds >= self.horizon_seconds:
            raise _problem(
                "warmup",
                "warmup_seconds={warmup} must be below horizon_seconds={horizon}",
                warmup=self.warmup_seconds,
                horizon=self.horizon_seconds,
            )
        intervals = self.horizon_seconds / (60.0 * self.interval_minutes)
        if intervals > 100_000:
            raise _problem(
                "intervals",
                "horizon_seconds={horizon} over interval_minutes={minutes} gives {n} "
                "intervals (at most 100000)",
                horizon=self.horizon_seconds,
                minutes=self.interval_minutes,
                # Six digits: a horizon near the largest float would otherwise
                # print an integer of three hundred.
                n=f"{math.ceil(intervals):.6g}",
            )
        types = [t.name for t in self.task_types]
        groups = [g.name for g in self.agent_groups]
        _unique("task_types", types)
        _unique("agent_groups", groups)
        known_types = set(types)
        known_groups = set(groups)
        for index, arrival in enumerate(self.arrivals):
            if not isinstance(arrival, TraceArrivals) and arrival.task_type not in known_types:
                _fail(f"arrivals.{index}.task_type", arrival.task_type, f"one of {_shown(types)}")
        for index, workflow in enumerate(self.routing.workflows):
            for name in workflow.types:
                if name not in known_types:
                    _fail(f"routing.workflows.{index}.types", name, f"one of {_shown(types)}")
        for index, task_type in enumerate(self.task_types):
            for field in ("retrial_type", "forward_to"):
                target = getattr(task_type, field)
                if target is not None and target not in known_types:
                    _fail(f"task_types.{index}.{field}", target, f"one of {_shown(types)}")
            for group in task_type.handle_by_group:
                if group not in known_groups:
                    _fail(f"task_types.{index}.handle_by_group", group, f"one of {_shown(groups)}")
            if not self.routing.relaxation and not any(
                _can_serve(g, task_type) for g in self.agent_groups
            ):
                _fail(
                    f"task_types.{index}.skills",
                    task_type.skills,
                    f"skills and a {task_type.channel!r} capacity that some agent group has",
                )
        self._check_calendars()
        total = sum(g.size for g in self.agent_groups)
        if total > MAX_AGENTS:
            _fail("agent_groups", total, f"at most {MAX_AGENTS} agents in all")
        derived = self._derived_params()
        if derived:
            try:
                policy_by_name(self.routing.policy, **self.routing.policy_params, **derived)
            except ValueRouteError as exc:
                _fail(
                    "routing.policy_params",
                    derived,
                    f"parameters the task types allow ({_clip(str(exc))})",
                )
        return self

    def _check_calendars(self) -> None:
        start = self.start_instant()  # refuses a start beyond the calendars' years
        names = list(self.calendars)
        expected = f"one of the scenario's calendars {_shown(names)}"
        for index, task_type in enumerate(self.task_types):
            if task_type.calendar is not None and task_type.calendar not in self.calendars:
                _fail(f"task_types.{index}.calendar", task_type.calendar, expected)
        staffed = [
            (index, group)
            for index, group in enumerate(self.agent_groups)
            if group.calendar is not None
        ]
        for index, group in staffed:
            if group.calendar not in self.calendars:
                _fail(f"agent_groups.{index}.calendar", group.calendar, expected)
        if not self.calendars:
            return
        if start + self.horizon_seconds > MAX_INSTANT:
            _fail(
                "horizon_seconds",
                self.horizon_seconds,
                f"a horizon ending before epoch second {MAX_INSTANT:g}, the last instant "
                f"calendars answer for, from the start {self.start_label()}",
            )
        calendars = self.build_calendars()
        last = start + self.horizon_seconds
        for index, task_type in enumerate(self.task_types):
            if task_type.sla_clock != "working" or task_type.due_seconds is None:
                continue
            try:
                calendars[task_type.calendar].add(last, task_type.due_seconds)  # type: ignore[index]
            except ValueRouteError as exc:
                _fail(
                    f"task_types.{index}.due_seconds",
                    task_type.due_seconds,
                    f"working seconds the calendar can count from the horizon's end "
                    f"({_clip(str(exc), 200)})",
                )
        for index, group in staffed:
            if not group.count:
                continue
            opening = calendars[group.calendar].next_open(start)  # type: ignore[index]
            if opening >= start + self.horizon_seconds:
                _fail(
                    f"agent_groups.{index}.calendar",
                    group.calendar,
                    f"a calendar open at some time within the {self.horizon_seconds:g} s "
                    f"horizon from {self.start_label()} (its {group.count} agents would "
                    "never be on duty)",
                )

    def build_calendars(self) -> dict[str, BusinessCalendar]:
        """The scenario's calendars, built afresh (each named by its key). O(calendars)."""
        return {name: _build_calendar(name, table) for name, table in self.calendars.items()}

    def start_instant(self) -> float:
        """Epoch seconds of scenario time 0 (see ``start`` and :data:`DEFAULT_START`)."""
        if isinstance(self.start, float):
            return self.start
        zone: _dt.tzinfo = _dt.UTC
        if self.calendars:
            name, first = next(iter(self.calendars.items()))
            zone = _build_calendar(name, first).zone
        instant = _parse_start(DEFAULT_START if self.start is None else self.start, zone)
        if math.isnan(instant):
            _fail("start", self.start, "a date-time within the years calendars answer for")
        return instant

    def start_label(self) -> str:
        """``start`` as an ISO date-time in UTC, for messages and reports."""
        instant = self.start_instant()
        return _dt.datetime.fromtimestamp(instant, _dt.UTC).isoformat()

    def headcount_minutes(self, group: AgentGroup) -> int:
        """Length in minutes of ``group``'s headcount intervals (its own, or the scenario's)."""
        return self.interval_minutes if group.interval_minutes is None else group.interval_minutes

    def _derived_params(self) -> dict[str, Any]:
        routing = self.routing
        if _is_code(routing.policy):
            return {}
        missing = [
            name
            for name in DERIVED_PARAMETERS.get(routing.policy, ())
            if name not in routing.policy_params
        ]
        if not missing:
            return {}
        types = self.task_types
        derived: dict[str, Any] = {}
        if "handle_seconds" in missing:
            handles = {t.name: float(t.handle.mean) for t in types}
            derived["handle_seconds"] = {**handles, "*": math.fsum(handles.values()) / len(types)}
        if "patience_seconds" in missing:
            never = 10.0 * self.horizon_seconds
            patience = {
                t.name: never if t.patience is None else float(t.patience.mean) for t in types
            }
            derived["patience_seconds"] = {
                **patience,
                "*": math.fsum(patience.values()) / len(types),
            }
        return derived

    def policy_params(self) -> dict[str, Any]:
        """``routing.policy_params``, plus what a built-in policy needs and the types determine.

        For ``cmu``, ``cmu_theta`` and ``least_slack`` without
        ``handle_seconds``: each type's mean handle time (its ``handle``
        distribution's mean; ``handle_by_group`` is not considered), and for
        ``"*"`` the mean over the types. For ``cmu_theta`` without
        ``patience_seconds``: each type's mean patience, ten horizons for a
        type whose customers never abandon, and their mean for ``"*"``.
        Parameters given are kept as they are. O(task types).
        """
        return {**self.routing.policy_params, **self._derived_params()}

    def build_policy(self, *, allow_code: bool = False) -> Policy:
        """The scoring policy the scenario runs with (see :meth:`policy_params`)."""
        if _is_code(self.routing.policy):
            return self.routing.build_policy(allow_code=allow_code)
        return policy_by_name(self.routing.policy, **self.policy_params())

    @property
    def interval_seconds(self) -> float:
        """Length of a reporting interval in seconds (``60 * interval_minutes``)."""
        return 60.0 * self.interval_minutes

    def with_routing(self, **changes: Any) -> Scenario:
        """A copy with some routing fields changed (validated again)."""
        routing = self.routing.model_dump() | changes
        data = self.model_dump()
        data["routing"] = routing
        return Scenario.model_validate(data)

    def check_code(self, *, allow_code: bool) -> None:
        """Refuse references to code unless ``allow_code`` is True (raises, naming the field).

        ``allow_code`` must be a bool: a truthy value of another type
        (``"yes"``, ``1``) is refused rather than taken as permission to run
        the scenario's code.
        """
        _require_bool(allow_code)
        if allow_code:
            return
        for field in self.routing.uses_code():
            value = getattr(self.routing, field.split(".")[1])
            _load_code(field, value, allow_code=False)


_KEY_DEPTH = 12
"""Levels of nested tables and lists searched for keys that are not text."""


def _check_keys(data: Any, where: str, depth: int) -> None:
    if depth <= 0:
        return
    if isinstance(data, Mapping):
        for key, value in data.items():
            if not isinstance(key, str):
                raise _problem(
                    "key",
                    "{where}: key {key} is not text (expected field names as text)",
                    where=where or "(scenario)",
                    key=_shown(key),
                )
            _check_keys(value, f"{where}.{key}" if where else key, depth - 1)
    elif isinstance(data, list | tuple):
        for index, item in enumerate(data):
            if isinstance(item, Mapping | list | tuple):
                _check_keys(item, f"{where}.{index}", depth - 1)


def _build_calendar(name: str, table: dict[str, Any]) -> BusinessCalendar:
    """A scenario calendar from its table; a ``name`` in the table must be its key."""
    return calendar_from(table, name=name)


def _parse_start(text: str, zone: _dt.tzinfo | None) -> float:
    """Epoch seconds of an ISO date-time; without an offset it is local time in ``zone``.

    ``zone=None`` only checks the text. NaN for an instant outside the years
    calendars answer for.
    """
    expected = (
        "expected an ISO date-time such as '2026-03-28T00:00' or "
        "'2026-03-28T00:00+01:00', or epoch seconds"
    )
    if len(text) > 64:
        raise _problem("start", expected)
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise _problem("start", expected) from None
    if moment.tzinfo is None:
        if zone is None:
            return 0.0
        moment = moment.replace(tzinfo=zone)
    try:
        instant = moment.timestamp()
    except (OverflowError, ValueError):
        return math.nan
    return instant if MIN_INSTANT <= instant <= MAX_INSTANT else math.nan


def _can_serve(group: AgentGroup, task_type: TaskType) -> bool:
    if group.capacity.get(task_type.channel, 0) <= 0:
        return False
    return all(group.skills.get(k, -1.0) >= v for k, v in task_type.skills.items())


def _unique(field: str, names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            _fail(f"{field}.{index}.name", name, "a name not used by another entry")
        seen.add(name)


def _shown(value: Any) -> str:
    """A user value for a message, bounded: a document can expand to a huge value."""
    return bounded_repr(value, 80)


def _clip(text: str, limit: int = 300) -> str:
    """A message from elsewhere, cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(field: str, value: Any, expected: str) -> None:
    raise _problem(
        "reference",
        "{field}: got {value} (expected {expected})",
        field=field,
        value=_shown(value),
        expected=expected,
    )


def parse_scenario(
    text: str | bytes,
    *,
    format: Literal["toml", "json", "yaml"] = "toml",
    base_dir: str | Path | None = None,
) -> Scenario:
    """Validate scenario text; relative file paths (rules, traces) resolve from ``base_dir``."""
    if not isinstance(text, str | bytes):
        raise InvalidInputError(
            f"text: got {_shown(text)} (expected the scenario as str or bytes)",
            [("text", _shown(text), "str or bytes")],
        )
    if base_dir is not None and not isinstance(base_dir, str | os.PathLike):
        raise InvalidInputError(
            f"base_dir: got {_shown(base_dir)} (expected a folder path or None)",
            [("base_dir", _shown(base_dir), "a path or None")],
        )
    try:
        data = parse_document(text, format)
    except DocumentError as exc:
        if exc.field == "format":
            raise InvalidInputError(
                f"format: {exc.reason}", [("format", format, "'toml', 'json' or 'yaml'")]
            ) from None
        raise InvalidInputError(
            f"Scenario: {exc.reason}", [("(file)", None, f"valid {format}")]
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"Scenario: got {type(data).__name__} (expected a table of scenario fields)",
            [("(file)", data, "a table")],
        )
    for key in data:
        if not isinstance(key, str):
            raise InvalidInputError(
                f"Scenario: key {_shown(key)} is not text (expected field names as text)",
                [("(file)", _shown(key), "field names as text")],
            )
    data = dict(data)
    if base_dir is not None:
        data = _resolve_paths(data, Path(base_dir))
    return Scenario.model_validate(data)


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    routing = data.get("routing")
    if isinstance(routing, Mapping) and isinstance(routing.get("rules"), str):
        routing = dict(routing)
        routing["rules"] = str(_resolve(base, routing["rules"]))
        data["routing"] = routing
    arrivals = data.get("arrivals")
    if isinstance(arrivals, list):
        resolved = []
        for item in arrivals:
            if (
                isinstance(item, Mapping)
                and item.get("kind") == "trace"
                and isinstance(item.get("path"), str)
            ):
                item = dict(item)
                item["path"] = str(_resolve(base, item["path"]))
            resolved.append(item)
        data["arrivals"] = resolved
    return data


def _resolve(base: Path, path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else base / candidate


def load_scenario(source: str | Path) -> Scenario:
    """A scenario file (``.toml``, ``.json``, ``.yaml``/``.yml``), or a bundled scenario by name.

    A name is a string with no suffix and no folder (``"demo"``: see
    :data:`valueroute.scenarios.BUNDLED`); anything else is read as a file,
    relative paths inside it (rules, traces) resolving from its folder.
    Raises :class:`InvalidInputError` naming the source when it is neither.
    """
    if not isinstance(source, str | os.PathLike):
        raise InvalidInputError(
            f"source: got {_shown(source)} (expected a bundled scenario name or a file path)",
            [("source", _shown(source), "a str or a path")],
        )
    text_source = os.fspath(source)
    if isinstance(text_source, bytes):
        raise InvalidInputError(
            f"source: got {_shown(text_source)} (expected a str path, not bytes)",
            [("source", _shown(text_source), "a str or a path")],
        )
    path = Path(text_source)
    if isinstance(source, str) and not path.suffix and path.name == source:
        from valueroute.scenarios import BUNDLED, bundled_text

        if source in BUNDLED:
            return parse_scenario(bundled_text(source), format="toml")
        raise InvalidInputError(
            f"source: got {_shown(source)} (expected a bundled scenario name, one of "
            f"{sorted(BUNDLED)}, or a file ending in one of {sorted(SUFFIXES)})",
            [("source", _shown(source), "a bundled name or a scenario file")],
        )
    file_format = SUFFIXES.get(path.suffix.lower())
    if file_format is None:
        raise InvalidInputError(
            f"source: got {_shown(text_source)} (expected a file ending in one of "
            f"{sorted(SUFFIXES)})",
            [("source", _shown(text_source), f"a suffix in {sorted(SUFFIXES)}")],
        )
    try:
        text = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) else "not a valid path"
        raise InvalidInputError(
            f"source: got {_shown(text_source)} (cannot be read: {reason})",
            [("source", _shown(text_source), "a readable file")],
        ) from None
    return parse_scenario(text, format=file_format, base_dir=path.parent)
