"""The routing engine: tasks meet agents, deterministically, with no threads.

:class:`Engine` is a synchronous state machine. It reads time only from the
``clock`` it is given (wall-clock seconds by default; SimPy's ``env.now`` in a
simulation), owns no threads and does no I/O. Same commands and same clock
readings give the same decisions. A host drives its timers: it asks
:meth:`Engine.next_wakeup` when something time-based is next due, sleeps (or
schedules a SimPy timeout) until then, and calls :meth:`Engine.advance`.

Task lifecycle
--------------
::

    submit ──> queued ──offer──> offered ──accept──> assigned ──complete──> wrap_up ──> completed
                │  ▲               │                  │    │                             ▲
                │  └──reject/timeout/revoke (age kept)┘    └──complete (no wrap-up)──────┘
                │  ▲                                  transfer (back to queued, age kept)
                ├──hold──> held ──resume──┤
                ├──defer──> deferred ──(time or resume)──┤
                ├──cancel──> canceled        (also from offered, held, deferred)
                ├──time to live ──> expired  (also from held, deferred)
                └──too many refused offers ──> rejected

Every other transition raises :class:`~valueroute.errors.InvalidTransitionError`
and changes nothing. A task is in exactly one place at every moment: the task
list (queued), an offer (offered), an agent (assigned, wrap_up), the held or
deferred set, or gone (terminal; counted, and the last ``closed_memory``
records kept for idempotent resubmission).

Matching
--------
*Push*: a task that becomes queued is offered to the available eligible agent
the agent-selection strategy prefers. *Pull*: an agent that becomes available
is offered the best-scoring task it may take across all queues. Both run to a
fixed point after every command, so no available agent is ever left idle next
to a task it may take (except a task it refused within ``reject_cooldown``).
With ``dispatch="pull"`` nothing is offered automatically: agents ask with
:meth:`Engine.next_task` (iWD's "get next best task").

Events
------
Every state change emits an :class:`~valueroute.events.Event`. Events of one
command are delivered to subscribers after the command has completed, in
order, so a subscriber always sees a consistent engine.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import math
import numbers
import time as _time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from types import MappingProxyType
from typing import Any, Concatenate, Literal, ParamSpec, TypeAlias, TypeVar

from valueroute._documents import is_unicode_text
from valueroute.agents import (
    Agent,
    AgentPool,
    AgentSelection,
    AgentState,
    FewestTasks,
    LeastOccupied,
    LeastSkilled,
    LeastTalkTime,
    LongestIdle,
    MostProficient,
    Presence,
    SelectionCallable,
    TopDown,
    _is_selection,
)
from valueroute.calendar import (
    MAX_INSTANT,
    MAX_SPAN_SECONDS,
    MIN_INSTANT,
    BusinessCalendar,
    _or_never,
)
from valueroute.errors import (
    DuplicateTaskError,
    InvalidInputError,
    InvalidTransitionError,
    LimitExceededError,
    UnknownAgentError,
    UnknownTaskError,
    ValueRouteError,
    VersionConflictError,
    bounded_repr,
)
from valueroute.events import Event, EventKind
from valueroute.expressions import compile_expression
from valueroute.models import (
    MAX_SECONDS,
    MAX_SKILL_NAME,
    MAX_SKILLS,
    AgentSpec,
    QueueSpec,
    TaskSpec,
    WorkflowSpec,
)
from valueroute.queues import Queue, _listing, build_queues
from valueroute.relaxation import (
    ContinuousRelaxation,
    Relaxation,
    RelaxationStep,
    Relaxer,
    SkillLevels,
    lower_levels,
    relaxation_table,
)
from valueroute.scoring import Clock as ScoreClock
from valueroute.scoring import Policy, Segment, StrictPriority, _as_segment
from valueroute.scoring import explain as explain_score
from valueroute.task import GroupKey, RequirementGroup, Task, TaskState
from valueroute.tasklist import TaskList, check_changes, set_changes
from valueroute.workflows import Workflow, build_workflows, relaxation_workflow

__all__ = [
    "ContinuousRelaxation",
    "Engine",
    "EngineStatistics",
    "Offer",
    "RelaxationStep",
    "StarvationGuard",
]

_INF = math.inf

Clock = Callable[[], float]
_P = ParamSpec("_P")
_R = TypeVar("_R")


# ================================================================ argument checks
#
# Commands check their arguments' types before they read the clock or change
# anything, so a wrong-typed argument is a refusal (InvalidInputError, nothing
# changed, nothing told) and never a built-in exception from deep inside. The
# busiest commands test ``type(x) is str`` (or ``float``) inline and call
# these only when that fails; messages are built only on failure.


_SHOWN_LIMIT = 100


def _shown(value: object) -> str:
    """A caller's value for a message: its repr, bounded in length whatever the value."""
    return bounded_repr(value, _SHOWN_LIMIT)


def _refusal(name: str, value: object, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{name}: got {_shown(value)} (expected {expected})", [(name, value, expected)]
    )


def _limit(name: str, value: object, expected: str) -> LimitExceededError:
    return LimitExceededError(
        f"{name}: got {_shown(value)} (expected {expected})", [(name, value, expected)]
    )


def _check_id(name: str, value: object) -> None:
    """Refuse an id that is not a string (hot paths test ``type(value) is str`` first)."""
    if not isinstance(value, str):
        raise _refusal(name, value, "an id, a string")


def _check_optional_id(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise _refusal(name, value, "an id, a string, or None")


def _is_text(text: str) -> bool:
    """Whether ``text`` is Unicode text UTF-8 can carry (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(name: str, value: object) -> None:
    """A free-text code (a reason): a string or None."""
    if value is not None and not isinstance(value, str):
        raise _refusal(name, value, "a string or None")


MAX_AUTO_ACCEPT_CHANNELS = 1000
"""The most channel names ``Engine(auto_accept=[...])`` takes."""


def _auto_accept_setting(value: object) -> tuple[bool, frozenset[str]]:
    """``Engine(auto_accept=...)`` as (every task, channels): a bool or channel names."""
    if isinstance(value, bool):
        return value, frozenset()
    expected = "True, False, or a list of channel names whose tasks are assigned without offers"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _refusal("auto_accept", value, expected)
    channels = list(itertools.islice(value, MAX_AUTO_ACCEPT_CHANNELS + 1))
    if len(channels) > MAX_AUTO_ACCEPT_CHANNELS or not all(
        isinstance(channel, str) and channel and is_unicode_text(channel) for channel in channels
    ):
        raise _refusal("auto_accept", value, expected)
    return False, frozenset(channels)


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise _refusal(name, value, "True or False")


def _number(name: str, value: object, expected: str) -> float:
    """A finite real number as a float: bool, text, NaN and infinities refused.

    Ints and floats, and other :class:`numbers.Real` types (NumPy scalars,
    fractions); an int too large for a float is refused like an infinity.
    """
    if type(value) is float:
        if value - value == 0.0:
            return value
    elif type(value) is int or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        try:
            number = float(value)
        except OverflowError:
            raise _refusal(name, value, expected) from None
        if number - number == 0.0:
            return number
    raise _refusal(name, value, expected)


def _clock_reading(value: object) -> float:
    """A clock reading as a float: a finite real number (a host clock returning
    text, None or an infinity is refused before the engine acts on it)."""
    return _number("clock", value, "a clock reading, a finite number of seconds")


def _seconds(name: str, value: object, *, minimum: float, strict: bool) -> float:
    """A finite number of seconds above ``minimum`` (or at it, unless ``strict``)."""
    bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
    seconds = _number(name, value, f"a finite number of seconds {bound}")
    if seconds < minimum or (strict and seconds == minimum):
        raise _refusal(name, value, f"a finite number of seconds {bound}")
    return seconds


def _optional_seconds(name: str, value: object, *, minimum: float, strict: bool) -> float | None:
    if value is None:
        return None
    bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
    seconds = _number(name, value, f"a finite number of seconds {bound}, or None")
    if seconds < minimum or (strict and seconds == minimum):
        raise _refusal(name, value, f"a finite number of seconds {bound}, or None")
    return seconds


def _integer(name: str, value: object, expected: str) -> int:
    """An integer (any :class:`numbers.Integral` but bool) as an int."""
    if type(value) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise _refusal(name, value, expected)


def _skills_argument(name: str, skills: object) -> dict[str, float] | None:
    """Required skills handed to a command: a mapping of names to finite levels, or None.

    Checked here: the types, the number of skills and the length of names
    (so that no message shows a huge mapping whole); the rest (level range,
    text) is then checked by :func:`valueroute.tasklist.check_changes`, like
    a task's own.
    """
    if skills is None:
        return None
    expected = "a mapping of skill names to levels, or None"
    if not isinstance(skills, Mapping):
        raise _refusal(name, skills, expected)
    if len(skills) > MAX_SKILLS:
        raise _limit(name, skills, f"at most {MAX_SKILLS} skills")
    checked: dict[str, float] = {}
    for skill, level in skills.items():
        if not isinstance(skill, str) or not skill:
            raise _refusal(f"{name} name", skill, "a skill name, a non-empty string")
        if len(skill) > MAX_SKILL_NAME:
            raise _limit(f"{name} name", skill, f"at most {MAX_SKILL_NAME} characters")
        checked[skill] = _number(
            f"{name}[{_shown(skill)}]", level, "a finite number, the minimum level"
        )
    return checked


def _check_policy(name: str, policy: object) -> None:
    """Something with the :class:`~valueroute.scoring.Policy` protocol: a ``name``
    string and a callable ``segment(task, now)``."""
    if isinstance(policy, type):
        raise _refusal(name, policy, "a scoring policy instance, not a class (call it to make one)")
    segment = getattr(policy, "segment", None)
    if not callable(segment) or not isinstance(getattr(policy, "name", None), str):
        raise _refusal(
            name,
            policy,
            "a scoring policy: a 'name' string and a 'segment(task, now)' method",
        )


def _check_rules(name: str, rules: object) -> None:
    """Compiled rules (from :func:`valueroute.rules.load_rules`), host rules with
    an ``apply`` method, or None."""
    if rules is None:
        return
    if isinstance(rules, str | bytes | PathLike | Mapping):
        raise _refusal(
            name,
            rules,
            "a compiled rule set: load it with valueroute.rules.load_rules(...), or None",
        )
    if isinstance(rules, type) or not callable(getattr(rules, "apply", None)):
        if callable(getattr(rules, "compile", None)):
            raise _refusal(
                name,
                rules,
                "a compiled rule set, not a parsed one: compile it with its compile() "
                "or valueroute.rules.load_rules(...)",
            )
        raise _refusal(
            name,
            rules,
            "a compiled rule set from valueroute.rules.load_rules(...) "
            "(or host rules with an apply method), or None",
        )


def _command(
    method: Callable[Concatenate[Engine, _P], _R],
) -> Callable[Concatenate[Engine, _P], _R]:
    """Make a refused command leave the engine's time where it was.

    Commands validate before they change anything; some need the current time
    to validate (a deferral must end in the future), so they read the clock
    first. A refusal then puts the time back: a failed command changes nothing.
    An error after the command took effect (a user policy failing while a
    task re-enters the list: see ``_file``) leaves the time too, as the
    events already told carry it. The busiest commands (submit, accept,
    complete) finish validating before they read the clock (submit restores
    the time itself if its rules fail) and go without this wrapper's call.
    """

    @functools.wraps(method)
    def run(self: Engine, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        before = self._now
        told = self._event_seq
        try:
            return method(self, *args, **kwargs)
        except ValueRouteError:
            if self._event_seq == told:
                self._now = before
            self._tell()
            raise
        except Exception:
            self._tell()
            raise

    return run


Subscriber = Callable[[Event], None]


class EngineStatistics(dict[str, Any]):
    """The engine's real-time counters (a plain dict), with tables for pandas."""

    def to_pandas(self, table: Literal["types", "agents"] = "types") -> Any:
        """A pandas DataFrame: ``"types"``, one row per task type (waiting,
        oldest age in seconds, and each event count), or ``"agents"``, one row
        per agent (state, occupancy, tasks handled, load per channel).

        pandas is optional (the ``pandas`` extra); without it this raises
        :class:`~valueroute.errors.InvalidInputError` naming the extra.
        """
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "to_pandas needs pandas: pip install 'valueroute[pandas]'",
                [("pandas", None, "installed")],
            ) from None
        if table == "types":
            names = sorted(set(self["waiting"]) | set(self["oldest_age"]) | set(self["by_type"]))
            counted = sorted({what for counts in self["by_type"].values() for what in counts})
            rows = [
                {
                    "task_type": name,
                    "waiting": self["waiting"].get(name, 0),
                    # NaN: nothing of this type waits, so there is no oldest.
                    "oldest_age_s": self["oldest_age"].get(name, float("nan")),
                    **{what: self["by_type"].get(name, {}).get(what, 0) for what in counted},
                }
                for name in names
            ]
            return pd.DataFrame(rows).set_index("task_type")
        if table == "agents":
            rows = [
                {
                    "agent": agent,
                    "state": figures["state"],
                    "occupancy": figures["occupancy"],
                    "tasks_handled": figures["tasks_handled"],
                    **{f"load_{channel}": load for channel, load in figures["load"].items()},
                }
                for agent, figures in self["agents"].items()
            ]
            return pd.DataFrame(rows).set_index("agent")
        raise InvalidInputError(
            f"table: got {bounded_repr(table)} (expected 'types' or 'agents')",
            [("table", bounded_repr(table), "'types' or 'agents'")],
        )


class StarvationGuard:
    """Wrap a policy so that a task waiting ``max_wait`` seconds goes ahead of all others.

    Past its limit a task scores ``offset`` plus its age, so starved tasks are
    served oldest first, before every task whose score is below ``offset``.
    Exact: the limit is a breakpoint of the score.

    With ``clock="working"`` the wait and the age are working time in the
    task's business calendar (``task.calendar``; wall time for a task without
    one): the limit is ``calendar.add(created, max_wait)``.
    """

    def __init__(
        self,
        policy: Policy,
        max_wait: float,
        *,
        offset: float = 1e12,
        clock: ScoreClock = "wall",
    ) -> None:
        _check_policy("policy", policy)
        if not isinstance(clock, str) or clock not in ("wall", "working"):
            raise _refusal("clock", clock, "'wall' or 'working'")
        self.policy = policy
        self.max_wait = _seconds("max_wait", max_wait, minimum=0.0, strict=True)
        self.offset = _number("offset", offset, "a finite number, the score of a starved task")
        self.name = f"{policy.name}+starvation_guard"
        self.clock: ScoreClock = clock
        self._working = clock == "working"

    def segment(self, task: Task, now: float) -> Segment:
        """The wrapped policy's piece, ending at the limit; past it ``offset`` plus the age."""
        calendar = task.calendar
        if calendar is None or not self._working:
            limit = task.created + self.max_wait
            if now >= limit:
                return Segment(self.offset - task.created, 1.0)
        else:
            limit = calendar.add(task.created, self.max_wait)
            if now >= limit:
                w_created = calendar.working_time(task.created)
                return Segment(self.offset - w_created, 1.0, math.inf, calendar)
        piece = _as_segment(self.policy.segment(task, now))
        return piece._replace(until=min(piece.until, limit))

    def __repr__(self) -> str:
        clock = "" if self.clock == "wall" else f", clock={self.clock!r}"
        return f"StarvationGuard({self.policy!r}, max_wait={self.max_wait:g}{clock})"


class Offer:
    """A reservation of one task for one agent, until accepted, refused or expired."""

    __slots__ = ("agent", "expires", "task", "time")

    def __init__(self, task: Task, agent: Agent, time: float, expires: float) -> None:
        self.task = task
        self.agent = agent
        self.time = time
        self.expires = expires

    def __repr__(self) -> str:
        return f"Offer(task={self.task.id!r}, agent={self.agent.id!r}, expires={self.expires})"


# Timer kinds; a timer is (time, seq, kind, key) and is checked for validity
# when it fires, so cancelling one is free.
_OFFER_EXPIRY = 0
_DEFER_END = 1
_WRAP_UP_END = 2
_TTL = 3
_SLA = 4
_SLA_WARNING = 9
_RELAX = 5  # continuous relaxation's next change (a stepwise plan's steps are _STEP_END)
_COOLDOWN_END = 6
_RULES = 7
_AGENT_WRAP_UP_END = 8
_PREFER_END = 10
_QUEUE_WAIT = 11
_STEP_END = 12
_STEP_CHECK = 13

_ALL_KINDS = frozenset(EventKind)
_new_tuple = tuple.__new__
_PRESENCE_NAMES = frozenset(presence.value for presence in Presence)
_KIND_NAMES = frozenset(kind.value for kind in EventKind)
# Hot-path event kinds and state names, looked up once.
_SUBMITTED = EventKind.task_submitted
_QUEUED = EventKind.task_queued
_OFFERED = EventKind.task_offered
_ACCEPTED = EventKind.offer_accepted
_ASSIGNED = EventKind.task_assigned
_COMPLETED = EventKind.task_completed
# An enum member read through its class costs a metaclass attribute lookup
# (about 15 times a global's): the hot paths read these instead.
_STATE_QUEUED = TaskState.queued
_STATE_OFFERED = TaskState.offered
_STATE_ASSIGNED = TaskState.assigned
_STATE_COMPLETED = TaskState.completed
_READY = Presence.ready
_STATE_NAMES = {state: state.value for state in TaskState}
# Per-type statistics, one list of counts per task type.
_STAT_NAMES = (
    "submitted",
    "offered",
    "accepted",
    "offer_rejected",
    "offer_timed_out",
    "offer_revoked",
    "completed",
    "canceled",
    "expired",
    "rejected",
    "sla_breached",
)
_STAT_INDEX = {name: index for index, name in enumerate(_STAT_NAMES)}
_N_SUBMITTED = _STAT_INDEX["submitted"]
_N_OFFERED = _STAT_INDEX["offered"]
_N_ACCEPTED = _STAT_INDEX["accepted"]
_N_SLA_BREACHED = _STAT_INDEX["sla_breached"]


Fingerprint: TypeAlias = tuple[Any, ...]
"""What :meth:`Engine.submit` compares on resubmission: the content of a spec but its id."""


# How an agent came to hold a task (the ``by`` of task_offered and of an
# auto-accepted task_assigned, and explain()'s "decision"); a strategy choosing
# among available agents is named by _selection_label.
_BY_BEST_TASK = "best_task"
_BY_PULL = "pull"
_BY_TRANSFER = "transfer"
_BY_PREFERENCE = "preferred_agent"
_BY_COOLING = "longest_idle_not_cooling"
_NOT_LISTED: frozenset[str] = frozenset()


def _selection_label(selection: object) -> str:
    """The name events and explanations give an agent selection: ``longest_idle``
    for the built-in LongestIdle, the snake-cased class name of another
    strategy object, ``custom`` for a plain callable."""
    if selection is None:
        return "longest_idle"
    if not _is_selection(selection):
        return "custom"
    name = type(selection).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _step_skills(step: Any, skills: Mapping[str, float]) -> dict[str, float]:
    """The skills a task requires in a workflow step: the step's own, or the
    task's, then lowered and dropped as the step relaxes them."""
    chosen = dict(skills if step.skills is None else step.skills)
    if step.relaxes:
        chosen = lower_levels(chosen, step.lower_by, step.drop)
    return chosen


def _end_after(working: bool, task: Task, start: float, seconds: float) -> float:
    """``seconds`` after ``start``: of working time in the task's calendar when
    ``working`` (``inf`` when the calendar has not that much open time in the
    century it searches: a workflow step, queue wait, relaxation step or life that
    never ends, as one without a limit), else, and for a task without a calendar,
    of wall time."""
    calendar = task.calendar
    if working and calendar is not None:
        return _or_never(calendar.add, start, seconds)
    return start + seconds


def _restore_baseline(baseline: object, task: Task) -> None:
    """Put back the fields rules changed, from the baseline their last run kept.

    Compiled rules keep a :class:`~valueroute.rules.Baseline`; host rules
    may keep anything (``None``: they work from the task's fields as they
    are), and then the fields stay as they are.
    """
    restore = getattr(baseline, "restore", None)
    if restore is not None:
        restore(task)


def _change_fields(
    task: Task,
    priority: int | None,
    value: float | None,
    due: float | None,
    clear_due: bool,
    skills: Mapping[str, float] | None,
) -> None:
    """Set the fields an update gives (``None``: as they are) on a task outside the list."""
    set_changes(task, priority=priority, value=value, due=due, clear_due=clear_due)
    if skills is not None:
        task.skills = skills


_EXPLAINED_CANDIDATES = 10
"""The most available agents explain() lists for a task (the count is always whole)."""


def _idle_order(agent: Agent) -> tuple[float, int]:
    return agent.idle_since, agent.order


_PURE_SELECTIONS: frozenset[type] = frozenset(
    (LongestIdle, MostProficient, LeastSkilled, LeastOccupied, FewestTasks, LeastTalkTime, TopDown)
)
"""Built-in strategies explain() may ask without changing them."""

_OPTIONAL_ROUTING_FIELDS = frozenset(
    (
        "calendar",
        "due_in",
        "preferred_agents",
        "preferred_for",
        "queue",
        "related_to",
        "requires",
        "workflow",
    )
)
"""TaskSpec fields whose defaults change nothing in routing, so a submit that
names none of them skips their checks."""
_ROUTING_FIELDS = _OPTIONAL_ROUTING_FIELDS - {"calendar", "due_in"}
"""The optional fields that route a task (queue, workflow, preferences, an expression)."""
_CLOCKS = ("wall", "working")
"""What a setting's seconds count: wall time, or working time of the task's calendar."""

_PREFERRED_TAG = "preferred"
"""Marks the fingerprint's field of a task naming preferred agents."""
_REQUIRES_TAG = "requires"
"""Marks the fingerprint's field of a task with a requirement expression."""
_QUEUE_TAG = "queue"
"""Marks the fingerprint's last field of a task naming a queue."""


def _by_seq(task: Task) -> int:
    return task.seq


_OFFERED_ONLY = (TaskState.offered,)
# How many agents one task may be offered to at once, at most.
_MAX_CONCURRENT_OFFERS = 10_000
_CONCURRENT_OFFERS_EXPECTED = f"an integer from 1 to {_MAX_CONCURRENT_OFFERS}"
_ASSIGNED_ONLY = (TaskState.assigned,)
_PRIORITY_EXPECTED = "an integer a float can hold, or None"
_WRAP_UP_EXPECTED = "a finite number of seconds >= 0, or None for the engine's setting"

_OPEN_FOR_UPDATE = frozenset(
    {
        TaskState.queued,
        TaskState.offered,
        TaskState.assigned,
        TaskState.held,
        TaskState.deferred,
    }
)


class Engine:
    """The routing engine. See the module documentation for the model.

    >>> from valueroute import AgentSpec, Engine, TaskSpec
    >>> now = [0.0]
    >>> engine = Engine(clock=lambda: now[0], offer_timeout=None)
    >>> _ = engine.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
    >>> _ = engine.submit(TaskSpec(id="t1", skills={"billing": 2}))
    >>> engine.offer_of("t1").agent.id
    'ann'
    """

    def __init__(
        self,
        *,
        policy: Policy | None = None,
        rules: Any = None,
        agent_selection: AgentSelection | SelectionCallable | None = None,
        clock: Clock | None = None,
        dispatch: Literal["push", "pull"] = "push",
        offer_timeout: float | None = 30.0,
        auto_accept: bool | Iterable[str] = False,
        reject_cooldown: float = 60.0,
        timeout_sets_not_ready: bool = False,
        max_offers: int | None = None,
        concurrent_offers: int = 1,
        wrap_up: float | Mapping[str, float] = 0.0,
        time_to_live: float | Mapping[str, float] | None = None,
        time_to_live_clock: Literal["wall", "working"] = "wall",
        relaxation: Relaxation | Mapping[str, Relaxation] = (),
        relaxation_clock: Literal["wall", "working"] = "wall",
        max_wait: float | None = None,
        sla_warning: float | None = None,
        exclusive_channels: Iterable[str] = ("voice",),
        closed_memory: int = 10_000,
        calendars: Mapping[str, BusinessCalendar] | None = None,
        calendar: str | None = None,
        queues: Iterable[QueueSpec | Mapping[str, Any]] | None = None,
        workflows: Iterable[WorkflowSpec | Mapping[str, Any]] | None = None,
    ) -> None:
        # Every setting is checked before anything is built: a wrong one is
        # refused here, not found out at the first submit.
        queue_table = build_queues(queues)
        workflow_table, workflow_of_type = build_workflows(workflows, queue_table)
        for flow in workflow_table.values():
            for flow_step in flow.steps:
                if flow_step.queue is not None and flow_step.spec.oldest_wait_at_least is not None:
                    # Read at every check of such a step: kept as a heap, not scanned.
                    flow_step.queue.oldest = []
        if not isinstance(dispatch, str) or dispatch not in ("push", "pull"):
            raise _refusal("dispatch", dispatch, "'push' or 'pull'")
        offer_timeout = _optional_seconds("offer_timeout", offer_timeout, minimum=0.0, strict=True)
        auto_all, auto_channels = _auto_accept_setting(auto_accept)
        reject_cooldown = _seconds("reject_cooldown", reject_cooldown, minimum=0.0, strict=False)
        _check_flag("timeout_sets_not_ready", timeout_sets_not_ready)
        if max_offers is not None:
            max_offers = _integer("max_offers", max_offers, "an integer >= 1, or None")
            if max_offers < 1:
                raise _refusal("max_offers", max_offers, "an integer >= 1, or None")
        concurrent_offers = _integer(
            "concurrent_offers", concurrent_offers, _CONCURRENT_OFFERS_EXPECTED
        )
        if not 1 <= concurrent_offers <= _MAX_CONCURRENT_OFFERS:
            raise _refusal("concurrent_offers", concurrent_offers, _CONCURRENT_OFFERS_EXPECTED)
        wrap_up_of = _per_type("wrap_up", wrap_up, default=0.0)
        ttl_of = None if time_to_live is None else _per_type("time_to_live", time_to_live)
        if not isinstance(time_to_live_clock, str) or time_to_live_clock not in _CLOCKS:
            raise _refusal("time_to_live_clock", time_to_live_clock, "'wall' or 'working'")
        if time_to_live_clock == "working" and time_to_live is not None:
            # Numbers, as _per_type found them.
            spans = time_to_live.values() if isinstance(time_to_live, Mapping) else [time_to_live]
            if max((float(seconds) for seconds in spans), default=0.0) > MAX_SPAN_SECONDS:
                raise _refusal(
                    "time_to_live",
                    time_to_live,
                    f"at most {MAX_SPAN_SECONDS:.0f} seconds of working time, what a business "
                    "calendar counts, with time_to_live_clock='working'",
                )
        relaxation_plan = _relaxation_setting(relaxation)
        if not isinstance(relaxation_clock, str) or relaxation_clock not in _CLOCKS:
            raise _refusal("relaxation_clock", relaxation_clock, "'wall' or 'working'")
        if relaxation_clock == "working":
            _check_working_relaxation(relaxation_plan)
        max_wait = _optional_seconds("max_wait", max_wait, minimum=0.0, strict=True)
        sla_warning = _optional_seconds("sla_warning", sla_warning, minimum=0.0, strict=True)
        channels = _channel_names("exclusive_channels", exclusive_channels)
        closed_memory = _integer("closed_memory", closed_memory, "an integer >= 0")
        if closed_memory < 0:
            raise _refusal("closed_memory", closed_memory, "an integer >= 0")
        if clock is not None and not callable(clock):
            raise _refusal("clock", clock, "a callable returning seconds, or None")
        if (
            agent_selection is not None
            and not _is_selection(agent_selection)
            and not callable(agent_selection)
        ):
            raise _refusal(
                "agent_selection",
                agent_selection,
                "a selection strategy, a callable (candidates, task, now) -> agent, or None",
            )
        if policy is not None:
            _check_policy("policy", policy)
        _check_rules("rules", rules)
        calendar_table = _calendar_table(calendars)
        _check_rule_calendars(rules, calendar_table)
        _check_rule_routes(rules, queue_table, workflow_table)
        if calendar is not None and (
            not isinstance(calendar, str) or calendar not in calendar_table
        ):
            raise _refusal(
                "calendar",
                calendar,
                f"None or the name of one of the calendars {_shown(sorted(calendar_table))}",
            )
        self._clock: Clock = _time.time if clock is None else clock
        base_policy = StrictPriority() if policy is None else policy
        self._policy = base_policy
        self._max_wait = max_wait
        self._list = TaskList(self._guarded(base_policy))
        self._pool = AgentPool(exclusive_channels=channels)
        self._selection = agent_selection
        # A built-in strategy is asked directly; a plain callable goes through
        # AgentPool.select, which checks what it returns.
        self._choose: Callable[..., Agent | None] | None = None
        if agent_selection is None:
            self._choose = LongestIdle().choose
        elif _is_selection(agent_selection):
            self._choose = agent_selection.choose  # type: ignore[union-attr]
        # What an offer's event and explain() say chose the agent.
        self._chosen_by = _selection_label(agent_selection)
        self._dispatch_mode = dispatch
        self._offer_timeout = offer_timeout
        # Assignment without an offer: every task (True), tasks of these
        # channels; a queue's own QueueSpec.auto_accept wins over both, and
        # an agent's own AgentSpec.auto_accept over all three.
        self._auto_accept = auto_all
        self._auto_channels = auto_channels
        # Whether any task may go without an offer: set for good once the
        # engine's setting, a queue's or any agent's own says so (one test
        # per offer).
        self._auto_any = (
            auto_all
            or bool(auto_channels)
            or any(queue.auto_accept for queue in queue_table.values())
        )
        self._reject_cooldown = reject_cooldown
        self._timeout_sets_not_ready = timeout_sets_not_ready
        self._max_offers = max_offers
        # How many agents a pushed task is offered to at once (1: one offer).
        self._concurrent = concurrent_offers
        # Whether any task may be offered to several agents at once (the
        # engine's setting, or some queue's).
        self._concurrent_any = concurrent_offers > 1 or any(
            (queue.concurrent_offers or 1) > 1 for queue in queue_table.values()
        )
        self._wrap_up = wrap_up_of
        # The one wrap-up every type has (None: it depends on the type), read
        # by each complete without a call.
        self._wrap_up_all = None if isinstance(wrap_up, Mapping) else wrap_up_of("")
        self._ttl = ttl_of
        # Expiry in the working time of each task's calendar (wall time without one).
        self._ttl_working = time_to_live_clock == "working"
        self._levels = SkillLevels()
        # task type ('*': any other) -> its relaxation plan: a stepwise plan
        # as the workflow that runs it, a continuous one as it is (the
        # relaxer keeps those tasks' state).
        self._relaxation_of: dict[str, Workflow | ContinuousRelaxation] = {
            key: plan if isinstance(plan, ContinuousRelaxation) else relaxation_workflow(key, plan)
            for key, plan in relaxation_table(relaxation_plan).items()
        }
        self._relaxer = Relaxer(self._levels)
        # Stepwise plans' steps in the working time of each task's calendar.
        self._relax_working = relaxation_clock == "working"
        # Whether any task type relaxes: fixed for the engine's life, and read
        # on every submit and close.
        self._relaxes = bool(self._relaxation_of)
        # Whether some plan is continuous: those tasks are re-timed as
        # agents with new levels come and go.
        self._relaxes_continuously = any(
            isinstance(plan, ContinuousRelaxation) for plan in self._relaxation_of.values()
        )
        self._rules: Any = None
        self._closed_memory = closed_memory
        self._sla_warning = sla_warning
        self._calendars = calendar_table
        self._calendar_name = calendar
        self._default_calendar = None if calendar is None else calendar_table[calendar]
        # Calendar object -> its name in the table (the first, when one has two).
        self._calendar_names: dict[int, str] = {}
        for name, table_entry in calendar_table.items():
            self._calendar_names.setdefault(id(table_entry), name)

        self._now = -_INF
        self._tasks: dict[str, Task] = {}
        # The last closed_memory closed tasks, oldest first.
        self._closed: OrderedDict[str, Task] = OrderedDict()
        # task id -> its first live offer; the holder is that offer's agent.
        self._offers: dict[str, Offer] = {}
        self._holder: dict[str, Agent] = {}
        # task id -> its other live offers, oldest first (concurrent offers
        # only: empty while concurrent_offers is 1, never an empty list).
        self._more: dict[str, list[Offer]] = {}
        # agent id -> the tasks it holds (offered, assigned, wrap-up), by id.
        self._agent_tasks: dict[str, dict[str, Task]] = {}
        self._deferred_until: dict[str, float] = {}
        # task id -> when its preference for named agents ends (only those
        # with a preferred_for, while it holds).
        self._prefer_until: dict[str, float] = {}
        self._queues = queue_table
        # agent id -> the queues listing it by id: part of its profile.
        self._listed_in = _listing(queue_table)
        # task id -> (when it entered its queue, when max_wait is up there or
        # inf), for tasks in a queue.
        self._in_queue_since: dict[str, tuple[float, float]] = {}
        # Agents serving each queue, and agents who could take each group's
        # tasks on its channel: read by workflow triggers at every check, so
        # worked out once per set of registered agents (agents' skills,
        # attributes and capacities never change; adding or removing one
        # changes the pool's key, and the tables start again).
        self._roster_key = (-1, -1)
        self._serving: dict[Queue, list[Agent]] = {}
        self._able: dict[RequirementGroup, list[Agent]] = {}
        # task id -> when it was assigned, for tasks in a queue: their
        # handle times feed the queue's expected wait.
        self._assigned_at: dict[str, float] = {}
        self._workflows = workflow_table
        self._workflow_of_type = workflow_of_type
        # task id -> [workflow, step index, when it entered the step, when the
        # step's timeout is up (inf: none), when its triggers are read next
        # (inf: none)], for tasks following a workflow; for tasks following
        # a stepwise relaxation plan (a workflow of the engine's own), a sixth
        # item: the requirements its steps lower.
        self._in_step: dict[str, list[Any]] = {}
        self._wrap_up_until: dict[str, float] = {}
        self._expires_at: dict[str, float] = {}
        self._breached: set[str] = set()
        self._warned: set[str] = set()
        # task id -> agent id -> end of that agent's cool-down for the task;
        # dropped with the task when it closes.
        self._cooldown: dict[str, dict[str, float]] = {}
        self._offer_count: dict[str, int] = {}
        self._rule_state: dict[str, Any] = {}
        self._fired: dict[str, tuple[str, ...]] = {}
        self._timers: list[tuple[float, int, int, str]] = []
        self._timer_seq = 0
        # The earliest wakeup anyone was told (by next_wakeup or a watcher);
        # a timer set before it is news for the watchers.
        self._wakeup_told = _INF
        self._wakeup_watchers: list[Callable[[float], None]] = []
        self._pending: deque[tuple[bool, str]] = deque()
        self._subscribers: list[tuple[Subscriber, frozenset[EventKind] | None]] = []
        self._by_kind: dict[EventKind, tuple[Subscriber, ...]] = dict.fromkeys(EventKind, ())
        # Kinds some subscriber wants; None: every kind.
        self._wanted: frozenset[EventKind] | None = frozenset()
        # Kinds no subscriber wants: hot paths skip building their data.
        self._muted: frozenset[EventKind] = _ALL_KINDS
        self._outbox: list[Event] = []
        # True while subscribers are being called: a command a subscriber
        # runs leaves its events to that delivery, so all arrive in order.
        self._delivering = False
        self._event_seq = 0
        # task type -> counts per statistic, indexed as _STAT_NAMES.
        self._type_counts: dict[str, list[int]] = {}
        if rules is not None:
            self._rules = rules
        self._rules_route = self._routes_by_rules(rules)

    def _routes_by_rules(self, rules: object) -> bool:
        """Whether submissions ask ``rules`` for a queue and a workflow: compiled
        rules that name some, or classify types while workflows follow types."""
        # Duck-typed as the engine takes rules: importing the compiler here
        # would load its pattern engine with every engine.
        if not callable(getattr(rules, "route", None)):
            return False
        return bool(getattr(rules, "routes_tasks", False)) or bool(self._workflow_of_type)

    # ================================================================ basics

    @property
    def now(self) -> float:
        """The latest clock reading the engine has acted on."""
        return self._now

    @property
    def tasklist(self) -> TaskList:
        """The enterprise-wide list of queued tasks (read it; change it through commands)."""
        return self._list

    @property
    def agents(self) -> AgentPool:
        """The agent pool (read it; change it through commands)."""
        return self._pool

    @property
    def workflows(self) -> Mapping[str, WorkflowSpec]:
        """The engine's workflows, by name (read-only)."""
        return MappingProxyType({name: flow.spec for name, flow in self._workflows.items()})

    @property
    def queues(self) -> Mapping[str, QueueSpec]:
        """The engine's named queues, by name (read-only)."""
        return MappingProxyType({name: queue.spec for name, queue in self._queues.items()})

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """The engine's business calendars by name (read-only)."""
        return MappingProxyType(self._calendars)

    @property
    def default_calendar(self) -> str | None:
        """The name of the calendar of tasks that name none (``None``: wall time)."""
        return self._calendar_name

    def _calendar_name_of(self, task: Task) -> str | None:
        """The name of ``task``'s calendar in :attr:`calendars` (``None``: wall time)."""
        calendar = task.calendar
        return None if calendar is None else self._calendar_names.get(id(calendar))

    @property
    def policy(self) -> Policy:
        """The scoring policy (without the starvation guard ``max_wait`` adds)."""
        return self._policy

    def subscribe(
        self, subscriber: Subscriber, *, kinds: Iterable[EventKind | str] | None = None
    ) -> Callable[[], None]:
        """Call ``subscriber(event)`` for every later event, or only those of ``kinds``.

        Returns a function to unsubscribe. Events no subscriber asked for are
        not built at all (their sequence numbers still advance), so a
        subscriber that needs a few kinds costs only those.
        """
        if not callable(subscriber):
            raise _refusal("subscriber", subscriber, "a callable taking an event")
        wanted: frozenset[EventKind] | None = None
        if kinds is not None:
            expected = "event kinds: an iterable of EventKind members or their names"
            if isinstance(kinds, str | bytes | Mapping) or not isinstance(kinds, Iterable):
                raise _refusal("kinds", kinds, expected)
            chosen: set[EventKind] = set()
            for kind in kinds:
                if not isinstance(kind, str) or kind not in _KIND_NAMES:
                    raise _refusal("kinds", kind, expected)
                chosen.add(EventKind(kind))
            wanted = frozenset(chosen)
        entry = (subscriber, wanted)
        self._subscribers.append(entry)
        self._update_wanted()

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)
                self._update_wanted()

        return unsubscribe

    def _update_wanted(self) -> None:
        # Per kind, the subscribers that want it, in subscription order: the
        # delivery loop reads one tuple per event instead of testing every
        # subscriber's kinds.
        self._by_kind = {
            kind: tuple(
                subscriber
                for subscriber, kinds in self._subscribers
                if kinds is None or kind in kinds
            )
            for kind in EventKind
        }
        wanted: set[EventKind] = set()
        for _, kinds in self._subscribers:
            if kinds is None:
                self._wanted = None
                self._muted = frozenset()
                return
            wanted |= kinds
        self._wanted = frozenset(wanted)
        self._muted = _ALL_KINDS - self._wanted

    @property
    def event_count(self) -> int:
        """Events emitted so far (the sequence number of the latest), subscribed to or not."""
        return self._event_seq

    def get(self, task_id: str) -> Task:
        """An open task (or one of the last ``closed_memory`` closed ones) by id. O(1)."""
        if type(task_id) is not str:
            _check_id("task_id", task_id)
        task = self._tasks.get(task_id)
        if task is None:
            closed = self._closed.get(task_id)
            if closed is None:
                raise UnknownTaskError(f"no task with id {_shown(task_id)}")
            return closed
        return task

    def offer_of(self, task_id: str) -> Offer:
        """The pending offer of a task in state offered, offered to one agent.

        A task offered to several agents at once (``concurrent_offers``) is
        refused: :meth:`offers_of` lists its offers.
        """
        if type(task_id) is not str:
            _check_id("task_id", task_id)
        offer = self._offers.get(task_id)
        if offer is None:
            task = self.get(task_id)
            raise InvalidTransitionError(
                f"task {task_id!r} is {task.state.value}, not offered (expected an offered task)"
            )
        if self._more and task_id in self._more:
            agents = [o.agent.id for o in self.offers_of(task_id)]
            raise InvalidTransitionError(
                f"task {task_id!r} is offered to {len(agents)} agents {_shown(agents)} "
                "(expected a task offered to one agent: offers_of lists them all)"
            )
        return offer

    def offers_of(self, task_id: str) -> list[Offer]:
        """The live offers of a task, oldest first: one per agent it is offered to,
        none when it is not offered. O(k) for k offers."""
        if type(task_id) is not str:
            _check_id("task_id", task_id)
        offer = self._offers.get(task_id)
        if offer is None:
            self.get(task_id)
            return []
        more = self._more.get(task_id) if self._more else None
        return [offer] if more is None else [offer, *more]

    def agent_of(self, task_id: str) -> Agent | None:
        """The agent holding a task (offered, assigned or in wrap-up), else ``None``.

        For a task offered to several agents, the agent of its oldest live offer.
        """
        if type(task_id) is not str:
            _check_id("task_id", task_id)
        return self._holder.get(task_id)

    def tasks_of(self, agent_id: str) -> list[Task]:
        """The tasks an agent holds (offered, assigned or in wrap-up), in submission order.

        A task offered to several agents is among the tasks of each of them.
        """
        if type(agent_id) is not str:
            _check_id("agent_id", agent_id)
        held = self._agent_tasks.get(agent_id)
        if not held:
            self._agent(agent_id)
            return []
        if len(held) == 1:
            return list(held.values())
        return sorted(held.values(), key=_by_seq)

    def __len__(self) -> int:
        """Open (non-terminal) tasks."""
        return len(self._tasks)

    def _agent(self, agent_id: str, name: str = "agent_id") -> Agent:
        """The agent with this id (a string, checked by the caller). O(1)."""
        agent = self._pool._agents.get(agent_id)
        if agent is None:
            raise UnknownAgentError(f"{name}: no agent with id {_shown(agent_id)}")
        return agent

    # ================================================================ time

    def _read_clock(self) -> float:
        """The clock's reading for a view: never behind the engine's time, not adopted."""
        return max(_clock_reading(self._clock()), self._now)

    def _begin(self) -> float:
        """Read the clock and make it the engine's time (every command does, once)."""
        now: object = self._clock()
        # x - x == 0 holds exactly for finite floats, fails for inf and nan.
        if type(now) is not float or now - now != 0.0:
            now = _clock_reading(now)
        if now < self._now:
            # A wall clock may step back (NTP); the engine keeps its own time
            # monotone instead of reordering history.
            return self._now
        self._now = now
        return now

    def _finish(self) -> None:
        if self._pending:
            self._run_dispatch(self._now)
        if self._outbox:
            self._tell()

    def _tell(self) -> None:
        """Deliver the events made so far; also when a command fails after
        taking effect, so subscribers hear of what did happen."""
        if self._delivering:
            return
        self._delivering = True
        failures: list[Exception] | None = None
        try:
            while self._outbox:
                outbox = self._outbox
                self._outbox = []
                # The table as it is now: a subscriber may unsubscribe while
                # being called, which makes a new table, not a changed one.
                by_kind = self._by_kind
                for event in outbox:
                    for subscriber in by_kind[event.kind]:
                        try:
                            subscriber(event)
                        except Exception as failure:  # noqa: BLE001 - raised below
                            # One failing subscriber costs no one (itself
                            # included) a later event; the host hears of
                            # it once every event is delivered.
                            if failures is None:
                                failures = []
                            failures.append(failure)
        finally:
            self._delivering = False
        if failures is not None:
            if len(failures) == 1:
                raise failures[0]
            raise ExceptionGroup(f"{len(failures)} subscriber calls failed", failures)

    def _emit(
        self, kind: EventKind, task: str | None = None, agent: str | None = None, **data: Any
    ) -> None:
        self._event_seq += 1
        wanted = self._wanted
        if wanted is None or kind in wanted:
            # An event nobody subscribed to cannot be seen: it is not built.
            # tuple.__new__ makes the same Event as Event(...) without the
            # named tuple's Python-level __new__ (about half the cost).
            self._outbox.append(
                _new_tuple(Event, (self._event_seq, self._now, kind, task, agent, data))
            )

    def _post(self, kind: EventKind, task: str | None, agent: str | None, data: Any) -> None:
        """:meth:`_emit` for a caller that built the event's data itself (the
        busiest events, built without keyword packing)."""
        self._event_seq += 1
        wanted = self._wanted
        if wanted is None or kind in wanted:
            self._outbox.append(
                _new_tuple(Event, (self._event_seq, self._now, kind, task, agent, data))
            )

    def _counts(self, task_type: str) -> list[int]:
        counts = self._type_counts.get(task_type)
        if counts is None:
            counts = self._type_counts[task_type] = [0] * len(_STAT_NAMES)
        return counts

    def _stat_items(self) -> list[tuple[tuple[str, str], int]]:
        """``((statistic, task type), count)`` for every count above zero."""
        return [
            ((name, task_type), n)
            for task_type, counts in self._type_counts.items()
            for name, n in zip(_STAT_NAMES, counts, strict=True)
            if n
        ]

    def _load_stats(self, items: Iterable[tuple[str, str, int]]) -> None:
        self._type_counts = {}
        for name, task_type, n in items:
            self._counts(task_type)[_STAT_INDEX[name]] = n

    def _warning_at(self, task: Task) -> float | None:
        """When the warning of ``task``'s due time is due (``None``: no warning).

        ``sla_warning`` seconds before the due time; for a task with a
        calendar, when ``sla_warning`` seconds of working time are left: the
        first instant t with W(due) - W(t) <= sla_warning, found with
        ``calendar.add`` from the creation instant. A task created with less
        working time than that before its due time gets no warning (as a
        wall-time warning whose instant has passed).
        """
        warning, due = self._sla_warning, task.due
        if warning is None or due is None:
            return None
        calendar = task.calendar
        if calendar is None:
            return due - warning
        remaining = calendar.elapsed(task.created, due)
        if remaining <= warning:
            return None
        at: float = calendar.add(task.created, remaining - warning)
        return at

    def _warn_before(self, task: Task) -> None:
        """Schedule the early warning of a due time, when one is configured and still ahead."""
        if self._sla_warning is not None and task.due is not None:
            at = self._warning_at(task)
            if at is not None and at > self._now:
                self._timer(at, _SLA_WARNING, task.id)

    def _sla_moved(self, task: Task, due: float | None, calendar: BusinessCalendar | None) -> None:
        """After a command that may have moved the task's due time (it was ``due``) or
        the calendar its warning counts in (it was ``calendar``): a new due time is
        warned of and breached anew (a breach of the old one does not stand for
        it); a new calendar re-times a warning not yet given."""
        if task.due != due:
            if task.due is not None:
                self._breached.discard(task.id)
                self._warned.discard(task.id)
                self._timer(task.due, _SLA, task.id)
                self._warn_before(task)
        elif task.calendar is not calendar and task.id not in self._warned:
            self._warn_before(task)

    def _timer(self, at: float, kind: int, key: str) -> None:
        self._timer_seq += 1
        timers = self._timers
        heapq.heappush(timers, (at, self._timer_seq, kind, key))
        if at < self._wakeup_told:
            self._wakeup_told = at
            for watcher in self._wakeup_watchers:
                watcher(at)
        if len(timers) > 8 * (len(self._tasks) + len(self._pool)) + 4096:
            # Timers of closed tasks (a time to live, a due date) would wait
            # until their time to be dropped; past this size keep only the
            # valid ones. Each task has a few timers at most, so this runs
            # rarely and costs O(1) amortised per timer.
            self._timers = [t for t in timers if self._timer_valid(t[0], t[2], t[3])]
            heapq.heapify(self._timers)

    def next_wakeup(self) -> float:
        """When something time-based is next due (``inf`` if nothing is). O(1) amortised.

        Offer timeouts, deferrals ending, wrap-up ends, time-to-live expiries,
        due-time (SLA) breaches, relaxation steps, refusal cool-downs ending and
        rule re-evaluations. Score breakpoints need no wakeup: the task list
        re-files lazily and exactly at each query.
        """
        timers = self._timers
        while timers:
            at, _, kind, key = timers[0]
            if self._timer_valid(at, kind, key):
                self._wakeup_told = at
                return at
            heapq.heappop(timers)
        self._wakeup_told = _INF
        return _INF

    def watch_wakeup(self, watcher: Callable[[float], None]) -> Callable[[], None]:
        """Call ``watcher(at)`` when a command sets a timer earlier than the last wakeup told.

        A host that sleeps until :meth:`next_wakeup` learns this way, without
        polling, that an offer, deferral or wrap-up it did not start itself
        (from another task, another thread, a subscriber) needs it sooner.
        "Told" is the last value :meth:`next_wakeup` returned or a watcher
        received. The watcher is called in the middle of the command that set
        the timer: it must only note the time or wake its host (as
        :class:`~valueroute.hosting.TimerLoop` does), never call the engine.
        Costs one comparison per timer set. Returns a function to stop
        watching.
        """
        if not callable(watcher):
            raise _refusal("watcher", watcher, "a callable taking the new wakeup time")
        self._wakeup_watchers.append(watcher)

        def unwatch() -> None:
            if watcher in self._wakeup_watchers:
                self._wakeup_watchers.remove(watcher)

        return unwatch

    @_command
    def advance(self) -> int:
        """Process everything due at ``clock()``; returns the number of timers fired."""
        now = self._begin()
        fired = 0
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, kind, key = heapq.heappop(timers)
            if self._timer_valid(at, kind, key):
                self._fire(at, kind, key, now)
                fired += 1
        self._finish()
        return fired

    def _timer_valid(self, at: float, kind: int, key: str) -> bool:
        if kind == _AGENT_WRAP_UP_END:
            if key not in self._pool:
                return False
            agent = self._pool.get(key)
            return agent.presence is Presence.wrap_up and agent.wrap_up_until == at
        if kind == _COOLDOWN_END:
            return key in self._tasks
        task = self._tasks.get(key)
        if task is None:
            return False
        if kind == _OFFER_EXPIRY:
            offer = self._offers.get(key)
            if offer is None:
                return False
            if offer.expires == at:
                return True
            more = self._more.get(key) if self._more else None
            return more is not None and any(other.expires == at for other in more)
        if kind == _DEFER_END:
            return task.state is TaskState.deferred and self._deferred_until.get(key) == at
        if kind == _WRAP_UP_END:
            return task.state is TaskState.wrap_up and self._wrap_up_until.get(key) == at
        if kind == _TTL:
            return self._expires_at.get(key) == at and task.state in (
                TaskState.queued,
                TaskState.held,
                TaskState.deferred,
                TaskState.offered,
            )
        if kind == _SLA:
            return task.due == at and key not in self._breached
        if kind == _SLA_WARNING:
            return key not in self._warned and self._warning_at(task) == at
        if kind == _RELAX:
            return task.state is TaskState.queued and self._relaxer.next_time(key) == at
        if kind == _RULES:
            state = self._rule_state.get(key)
            return state is not None and state[1] == at
        if kind == _PREFER_END:
            return task.prefer is not None and self._prefer_until.get(key) == at
        if kind == _QUEUE_WAIT:
            since = self._in_queue_since.get(key)
            return since is not None and since[1] == at
        if kind in (_STEP_END, _STEP_CHECK):
            step = self._in_step.get(key)
            return (
                step is not None
                and step[3 if kind == _STEP_END else 4] == at
                and task.state is TaskState.queued
            )
        raise AssertionError(f"unknown timer kind {kind}")

    def _fire(self, at: float, kind: int, key: str, now: float) -> None:
        if kind == _AGENT_WRAP_UP_END:
            agent = self._pool.get(key)
            self._pool.set_presence(key, Presence.ready, now=now)
            self._emit(EventKind.agent_state_changed, agent=key, state=agent.state.value)
            self._pending.append((False, key))
            return
        if kind == _COOLDOWN_END:
            task = self._tasks[key]
            if task.state is TaskState.queued:
                self._pending.append((True, key))
            return
        task = self._tasks[key]
        if kind == _OFFER_EXPIRY:
            more = self._more.get(key) if self._more else None
            if more is None:
                offers = [self._offers[key]]
            else:
                # Concurrent offers: those made together expire together
                # (one valid timer each, the first to fire takes them all).
                offers = [o for o in (self._offers[key], *more) if o.expires == at]
            for offer in offers:
                agent = offer.agent
                self._unoffer(task, EventKind.offer_timed_out, cooldown=True, now=now, offer=offer)
                if self._timeout_sets_not_ready and agent.presence is not Presence.not_ready:
                    self._pool.set_presence(
                        agent.id, Presence.not_ready, now=now, reason="offer_timeout"
                    )
                    self._emit(
                        EventKind.agent_state_changed,
                        agent=agent.id,
                        state=agent.state.value,
                        reason="offer_timeout",
                    )
        elif kind == _PREFER_END:
            self._end_preference(task, now)
        elif kind == _QUEUE_WAIT:
            self._queue_wait_over(task, now)
        elif kind == _STEP_END:
            if self._in_step[key][0].relaxation is None:
                self._next_step(task, now, "timeout", at)
            else:
                self._take_relaxation_steps(task, now, filed=True)
        elif kind == _STEP_CHECK:
            self._check_step(task, now)
        elif kind == _DEFER_END:
            del self._deferred_until[key]
            self._emit(EventKind.task_resumed, task=key, reason="deferral_ended")
            self._enqueue(task, now)
        elif kind == _WRAP_UP_END:
            # Other timers may be due too: the agent is matched once all have fired.
            self._close_wrap_up(task, now, match_now=False)
        elif kind == _TTL:
            self._expire(task, now)
        elif kind == _SLA_WARNING:
            self._warned.add(key)
            self._emit(EventKind.sla_warning, task=key, due=task.due, state=task.state.value)
        elif kind == _SLA:
            self._breached.add(key)
            self._counts(task.type)[_N_SLA_BREACHED] += 1
            self._emit(EventKind.sla_breached, task=key, due=at, state=task.state.value)
        elif kind == _RELAX:
            self._relax_queued(task, now)
        elif kind == _RULES:
            self._reapply_rules(task, now)

    # ================================================================ submission

    def _fingerprint(
        self,
        spec: TaskSpec,
        skills: tuple[tuple[str, float], ...] | None = None,
        plain: bool = False,
    ) -> Fingerprint:
        """A submission's content but its id, compared exactly on resubmission.

        ``skills`` is the sorted requirements tuple when the caller has it (a
        group key shares it); ``plain`` says the caller saw the spec name no
        calendar, due_in, preference or requirement expression. Exact, not a
        hash: a hash would take priority -1 and -2 for the same content (both
        hash to -2).
        """
        # The fields as pydantic keeps them: dictionary reads skip the
        # model's __getattr__ hook (see Task.from_spec).
        fields = spec.__dict__
        attributes = fields["attributes"]
        fingerprint: Fingerprint = (
            fields["type"],
            fields["channel"],
            fields["value"],
            fields["priority"],
            fields["due"],
            fields["created"],
            tuple(sorted(fields["skills"].items())) if skills is None else skills,
            fields["department"],
            fields["process"],
            # Sorted by name (names are unique): a set's order would differ
            # between processes, and digests compare across them.
            tuple(sorted(attributes.items())) if attributes else None,
        )
        if plain:
            return fingerprint
        if spec.calendar is not None or spec.due_in is not None:
            # Only tasks that use them carry the two fields, last.
            fingerprint = (*fingerprint, spec.calendar, spec.due_in)
        if spec.preferred_agents or spec.related_to is not None:
            # One tagged field, last, only on tasks that name preferences.
            preferred = (
                _PREFERRED_TAG,
                tuple(spec.preferred_agents),
                spec.preferred_for,
                spec.related_to,
            )
            fingerprint = (*fingerprint, preferred)
        if spec.requires is not None:
            fingerprint = (*fingerprint, (_REQUIRES_TAG, spec.requires))
        if spec.queue is not None:
            fingerprint = (*fingerprint, (_QUEUE_TAG, spec.queue))
        return fingerprint

    def submit(self, spec: TaskSpec | Mapping[str, Any]) -> Task:
        """Accept a new task; O(log n) plus matching.

        Idempotent: resubmitting the same id with the same content returns the
        existing task (open or among the last ``closed_memory`` closed ones);
        the same id with other content raises
        :class:`~valueroute.errors.DuplicateTaskError`.

        The task's calendar is ``spec.calendar`` (one of :attr:`calendars`),
        else the engine's default calendar; ``spec.due_in`` sets the due time
        that many seconds after now, in that calendar's working time
        (``calendar.add(now, due_in)``) or in wall time without one. An
        unknown calendar name, or instants outside what a calendar answers
        for, raise :class:`~valueroute.errors.InvalidInputError` and change
        nothing.
        """
        if not isinstance(spec, TaskSpec):
            spec = TaskSpec.model_validate(spec)
        # The fields as pydantic keeps them (see Task.from_spec).
        fields = spec.__dict__
        task_id = fields["id"]
        known = self._tasks.get(task_id) or self._closed.get(task_id)
        if known is not None:
            if known.fingerprint != self._fingerprint(spec):
                raise DuplicateTaskError(
                    f"task id {spec.id!r} is already in use with other content "
                    "(expected the same content for an idempotent resubmission, or a new id)"
                )
            return known
        # Tasks that set none of the optional routing fields take the short way
        # (one set test: pydantic records the fields a spec was given).
        given = spec.__pydantic_fields_set__
        plain = _OPTIONAL_ROUTING_FIELDS.isdisjoint(given)
        # A calendar and a due time alone route nothing: such a task skips the
        # look-ups of queues, workflows, preferences and expressions.
        routed = not plain and not _ROUTING_FIELDS.isdisjoint(given)
        calendar = self._default_calendar
        if not plain and spec.calendar is not None:
            calendar = self._calendars.get(spec.calendar)
            if calendar is None:
                raise _refusal(
                    "calendar",
                    spec.calendar,
                    f"the name of one of the engine's calendars {_shown(sorted(self._calendars))}",
                )
        if calendar is not None:
            _check_calendar_instant("created", spec.created)
            _check_calendar_instant("due", spec.due)
        workflow: Workflow | None = None
        queue: Queue | None = None
        before = self._now
        if self._rules_route:
            # Rules may name the queue and workflow, and classify the type a
            # workflow is found by: read them off the task as submitted.
            now = self._begin()
            try:
                scratch = Task.from_spec(spec, seq=0, now=now)
                scratch.calendar = calendar
                rule_queue, rule_workflow = self._rules.route(scratch, now)
                workflow, queue, hops, over_limit = self._workflow_and_queue(
                    spec, not routed, rule_queue, rule_workflow, scratch.type
                )
            except ValueRouteError:
                self._now = before
                raise
            if workflow is not None or queue is not None:
                plain = False
                routed = True
        else:
            if routed or self._workflow_of_type:
                workflow, queue, hops, over_limit = self._workflow_and_queue(spec, not routed)
                if workflow is not None:
                    plain = False
                    routed = True
            now = self._begin()
        if calendar is not None or (not plain and spec.due_in is not None):
            try:
                if calendar is not None:
                    _check_calendar_instant("clock", now)
                due = _due_of(spec, calendar, now)
            except ValueRouteError:
                self._now = before
                raise
        key: GroupKey = (fields["channel"], tuple(sorted(fields["skills"].items())))
        prefer = requires = None
        if routed:
            key, prefer, requires = self._routed_key(spec, key, workflow, queue)
        # An existing group lends the task its shared requirements at once; a
        # new one is made only once nothing can fail (rules run first).
        group = self._list.known_group(key)
        task = Task.from_spec(
            spec,
            seq=self._list.next_seq_peek(),
            now=now,
            skills=None if group is None else group.requirements,
        )
        if not plain or calendar is not None:
            if calendar is not None or spec.due_in is not None:
                task.calendar = calendar
                task.due = due
            task.prefer = prefer
            task.requires = requires
            task.queue = queue
            if workflow is not None:
                first = workflow.steps[0]
                if (first.skills is not None or first.relaxes) and group is None:
                    task.skills = _step_skills(first, spec.skills)
                if first.priority is not None:
                    task.priority = first.priority
        if self._rules is not None:
            try:
                self._apply_rules(task, now, baseline=None)
            except ValueRouteError:
                # The only refusal after the clock is read: time goes back too.
                self._now = before
                raise
        self._list.next_seq()
        if group is None:
            group = self._list.group_of_key(key)
        self._tasks[task.id] = task
        task.fingerprint = self._fingerprint(spec, group.skills, plain)
        counts = self._type_counts.get(task.type) or self._counts(task.type)
        counts[_N_SUBMITTED] += 1
        if _SUBMITTED in self._muted:
            self._event_seq += 1
        else:
            # What _emit(_SUBMITTED, ...) builds, without its keyword packing:
            # one per task in a simulation.
            data = {
                "type": task.type,
                "channel": task.channel,
                "priority": task.priority,
                "value": task.value,
                "due": task.due,
            }
            if queue is not None:
                # The queue it arrived in (after any overflow on the way):
                # what reports count it under.
                data["queue"] = queue.name
            self._post(_SUBMITTED, task.id, None, data)
        if self._ttl is not None:
            self._arm_expiry(task)
        if task.due is not None:
            self._timer(task.due, _SLA, task.id)
            self._warn_before(task)
        if not plain and prefer is not None and spec.preferred_for is not None:
            self._prefer_until[task.id] = now + spec.preferred_for
            self._timer(now + spec.preferred_for, _PREFER_END, task.id)
        if not plain:
            if queue is not None:
                self._enter_queue(task, queue, now, hops, over_limit)
            if workflow is not None:
                self._start_workflow(task, workflow, now)
        if self._relaxes and workflow is None:
            # A task follows one plan: the workflow it was given, else its
            # type's relaxation plan.
            self._start_relaxation(task, now)
        try:
            if self._dispatch_mode == "push":
                self._push_new(task, group, now)
            else:
                self._enqueue(task, now)
        except Exception:
            # Submitted all the same (held if unscorable): subscribers hear it.
            self._tell()
            raise
        if (
            not plain
            and workflow is not None
            and workflow.steps[0].triggers
            and task.state is TaskState.queued
        ):
            self._check_step(task, now)
        # The three busiest commands test for work before calling _finish:
        # most of their calls leave nothing pending and no event to deliver.
        if self._pending or self._outbox:
            self._finish()
        return task

    def _arm_expiry(self, task: Task) -> None:
        """Expire ``task`` its type's ``time_to_live`` after its creation (on its
        clock); a type without one, or an end its calendar never reaches, drops
        any expiry it had (the timer set for it no longer matches, so it is ignored)."""
        ttl = self._ttl(task.type) if self._ttl is not None else None
        expires = _INF if ttl is None else _end_after(self._ttl_working, task, task.created, ttl)
        if expires == _INF:
            self._expires_at.pop(task.id, None)
        else:
            self._expires_at[task.id] = expires
            self._timer(expires, _TTL, task.id)

    def _push_new(self, task: Task, group: RequirementGroup, now: float) -> None:
        """Offer a new task at once when someone is free: the same choice
        dispatch would make (a new task has no cool-downs), without filing
        the task in the list only to take it out again."""
        if task.skills is not group.requirements or task.channel != group.channel:
            # Rules or relaxation changed what the task needs.
            group = self._list.group_for(
                task.channel, task.skills, task.prefer, task.requires, task.queue
            )
            task.skills = group.requirements
        try:
            choose = self._choose
            queue = group.queue
            if group.agents is not None:
                agent = self._pool.select(group, task=task, now=now)
            elif queue is not None and queue.selection is not None:
                agent = queue.selection.choose(self._pool, group, task=task, now=now)
            elif choose is not None:
                agent = choose(self._pool, group, task=task, now=now)
            else:
                agent = self._pool.select(group, task=task, now=now, strategy=self._selection)
        except Exception:
            # A user selection failed: the task waits in the list all the same.
            self._enqueue(task, now, place=False)
            raise
        if agent is not None:
            if _QUEUED in self._muted:
                self._event_seq += 1
            else:
                self._emit(_QUEUED, task=task.id)
            self._offer(task, agent, now, self._chooser_label(group), filed=False, group=group)
        else:
            # Nobody is free for it: dispatch would ask the pool again and
            # get the same answer, so the task just waits.
            self._enqueue(task, now, place=False)

    # ================================================================ rules

    def _apply_rules(self, task: Task, now: float, *, baseline: Any) -> None:
        outcome = self._rules.apply(task, now, baseline=baseline)
        self._fired[task.id] = tuple(outcome.fired)
        if outcome.next_change != _INF:
            self._rule_state[task.id] = (outcome.baseline, outcome.next_change)
            self._timer(outcome.next_change, _RULES, task.id)
        else:
            self._rule_state[task.id] = (outcome.baseline, _INF)

    def _reapply_rules(self, task: Task, now: float) -> None:
        queued = task.state is TaskState.queued
        if queued:
            self._list._take_out(task)
        baseline = self._rule_state[task.id][0]
        due, calendar = task.due, task.calendar
        try:
            self._apply_rules(task, now, baseline=baseline)
            self._sla_moved(task, due, calendar)
            if self._relaxes:
                self._relax_after_rules(task, now)
            self._tell_rules_changed(task)
        finally:
            # Host rules may raise: the task goes back to the list all the same.
            if queued:
                self._file(task, now)

    def _tell_rules_changed(self, task: Task) -> None:
        """``task_updated`` with ``reason="rules"``: the rules set the task's fields again."""
        self._emit(
            EventKind.task_updated,
            task=task.id,
            reason="rules",
            fired=list(self._fired.get(task.id, ())),
            priority=task.priority,
            value=task.value,
            due=task.due,
        )

    @_command
    def set_rules(self, rules: Any) -> None:
        """Replace the rule set; every open task is re-evaluated at once from its own fields.

        Host rules (not the compiled ones, which never raise) that raise on
        a task leave the new set in place, told, with the tasks before that
        one re-evaluated; every task stays where it was.
        """
        _check_rules("rules", rules)
        _check_rule_calendars(rules, self._calendars)
        _check_rule_routes(rules, self._queues, self._workflows)
        now = self._begin()
        self._rules = rules
        self._rules_route = self._routes_by_rules(rules)
        # Told first: the swap stands even if host rules fail on some task.
        self._emit(EventKind.rules_changed, name=getattr(rules, "name", None))
        for task in sorted(self._tasks.values(), key=lambda t: t.seq):
            state = self._rule_state.get(task.id)
            if rules is None and state is None:
                continue
            queued = task.state is TaskState.queued
            if queued:
                self._list._take_out(task)
            before = (task.priority, task.value, task.due, task.skills)
            calendar = task.calendar
            try:
                if state is not None and rules is None:
                    _restore_baseline(state[0], task)
                    del self._rule_state[task.id]
                    self._fired.pop(task.id, None)
                elif rules is not None:
                    if state is None and self._relaxes:
                        # Rules met for the first time start from the
                        # requirements a relaxation plan lowers, not lowered.
                        self._unrelaxed(task)
                    self._apply_rules(task, now, baseline=None if state is None else state[0])
                if self._relaxes:
                    self._relax_after_rules(task, now)
            finally:
                if queued:
                    self._file(task, now)
            self._sla_moved(task, before[2], calendar)
            if (task.priority, task.value, task.due, task.skills) != before:
                # What the task is worth changed: those who count values hear it.
                self._tell_rules_changed(task)
        self._finish()

    @_command
    def set_policy(self, policy: Policy) -> None:
        """Replace the scoring policy; every queued task is re-scored at once."""
        _check_policy("policy", policy)
        now = self._begin()
        self._list.set_policy(self._guarded(policy), now=now)
        self._policy = policy
        self._emit(EventKind.policy_changed, name=policy.name)
        self._finish()

    def _guarded(self, policy: Policy) -> Policy:
        if self._max_wait is None:
            return policy
        return StarvationGuard(policy, self._max_wait)

    # ================================================================ relaxation

    def _start_relaxation(self, task: Task, now: float) -> None:
        """A new task that follows no workflow: its type's relaxation plan, if any.

        A stepwise plan is a workflow counting from the task's ``created``
        time: the task starts in the step its age reaches, relaxed as far
        (no event: it arrives so). A continuous plan is the relaxer's.
        """
        plan = self._relaxation_of.get(task.type) or self._relaxation_of.get("*")
        if plan is None:
            return
        if isinstance(plan, ContinuousRelaxation):
            self._relaxer.track(task, plan)
            self._relaxer.apply(task, now)
            return
        first = plan.steps[0].ends_after
        assert first is not None
        end = self._relaxation_end(task, first)
        state: list[Any] = [plan, 0, task.created, end, _INF, task.skills]
        self._in_step[task.id] = state
        self._relaxation_due(task, state, now)
        if state[1]:
            task.skills = plan.lowered(task.skills, state[1])
        # The step's timer is set when the task is filed (_enqueue), if it is.

    def _relaxation_end(self, task: Task, after: float | None) -> float:
        """When a stepwise relaxation step ends: ``after`` seconds after the task's
        creation (``None``: never), of working time in its calendar with
        ``relaxation_clock="working"`` (wall time without one)."""
        if after is None:
            return _INF
        return _end_after(self._relax_working, task, task.created, after)

    def _relaxation_due(self, task: Task, state: list[Any], now: float) -> None:
        """Move a relaxation plan's state to the step the task's age reaches at
        ``now`` (its requirements are set by the caller). O(steps taken)."""
        steps = state[0].steps
        while state[3] <= now:
            index = state[1] + 1
            state[1] = index
            state[2] = state[3]
            state[3] = self._relaxation_end(task, steps[index].ends_after)

    def _take_relaxation_steps(self, task: Task, now: float, *, filed: bool) -> None:
        """A task following a relaxation plan: take the steps its age reaches
        at ``now`` and require its requirements lowered by every step taken
        (``task_relaxed`` when that changes them).

        The task is in the list (``filed``: a step's timer, or its
        requirements replaced while it waits) or on its way back to it
        (``_enqueue``'s case, which files it). Several steps due at once are
        taken together, with one event. O(steps × skills).
        """
        state = self._in_step[task.id]
        self._relaxation_due(task, state, now)
        relaxed = state[0].lowered(state[5], state[1])
        changed = relaxed != dict(task.skills)
        if changed:
            if filed:
                self._list._take_out(task)
                task.skills = relaxed
                self._file(task, now)
            else:
                task.skills = relaxed
        if state[3] != _INF:
            # Again: a timer found stale while the task was away is dropped.
            self._timer(state[3], _STEP_END, task.id)
        if changed:
            self._emit(EventKind.task_relaxed, task=task.id, skills=dict(task.skills))
            if filed:
                self._pending.append((True, task.id))

    def _requirements_replaced(self, task: Task, now: float) -> None:
        """A host or a rule replaced the requirements of a task following a
        relaxation plan: the plan starts again from these, at the same age.
        The steps taken so far lower them now (``task_relaxed`` when that
        changes them); a task out of the list takes the steps that run out
        meanwhile when it comes back."""
        state = self._in_step[task.id]
        state[5] = task.skills
        if task.state is TaskState.queued:
            self._take_relaxation_steps(task, now, filed=True)
        elif state[1]:
            relaxed = state[0].lowered(task.skills, state[1])
            if relaxed != dict(task.skills):
                task.skills = relaxed
                self._emit(EventKind.task_relaxed, task=task.id, skills=dict(relaxed))

    def _unrelaxed(self, task: Task) -> None:
        """A task following a relaxation plan requires its requirements before
        any step lowered them, or before a continuous plan decayed them (the
        task is out of the list). O(1)."""
        state = self._in_step.get(task.id) if self._in_step else None
        if state is not None and state[0].relaxation is not None:
            task.skills = state[5]
        elif self._relaxer.tracked(task.id):
            task.skills = self._relaxer.original(task.id)

    def _relax_after_rules(self, task: Task, now: float) -> None:
        """Rules set the task's fields again from their baseline: a task following
        a relaxation plan requires what they say, lowered by the steps taken so
        far, or decayed as far as its age says under a continuous plan (the
        task is out of the list; one out of routing is relaxed when it comes
        back). O(steps × skills)."""
        state = self._in_step.get(task.id) if self._in_step else None
        if state is not None and state[0].relaxation is not None:
            state[5] = task.skills
            if state[1]:
                task.skills = state[0].lowered(task.skills, state[1])
        elif self._relaxer.tracked(task.id):
            self._relaxer.reset(task)
            if task.state is TaskState.queued:
                self._relaxer.apply(task, now)
                self._schedule_relaxation(task)

    def _relax_queued(self, task: Task, now: float) -> None:
        """Re-apply relaxation to a queued task now, re-filing it if its needs changed."""
        self._list._take_out(task)
        changed = self._relaxer.apply(task, now)
        self._file(task, now)
        self._schedule_relaxation(task)
        if changed:
            self._emit(EventKind.task_relaxed, task=task.id, skills=dict(task.skills))
            self._pending.append((True, task.id))

    def _schedule_relaxation(self, task: Task) -> None:
        at = self._relaxer.next_time(task.id)
        if at != _INF:
            self._timer(at, _RELAX, task.id)

    def _agent_levels_changed(self, now: float) -> None:
        """Agent proficiency levels changed: continuous relaxation re-times its changes."""
        for task_id in self._relaxer.continuous_ids():
            task = self._tasks.get(task_id)
            if task is not None and task.state is TaskState.queued:
                self._relax_queued(task, now)

    # ================================================================ placement

    def _file(self, task: Task, now: float) -> None:
        # Only tasks outside the list come here: every queued task is in it.
        task.state = _STATE_QUEUED
        try:
            self._list._add_record(task, now)
        except Exception as error:
            # The policy cannot score the task (a bug, a service it calls is
            # down): the task is held, which the host sees as an event, and
            # the error goes on to the host. Resuming it scores it again.
            task.state = TaskState.held
            self._emit(
                EventKind.task_held,
                task=task.id,
                reason="unscorable",
                error=f"{type(error).__name__}: {error}",
            )
            raise
        queue = task.queue
        if queue is not None and queue.oldest is not None:
            self._file_oldest(task, queue)

    def _enqueue(self, task: Task, now: float, *, place: bool = True) -> None:
        """Put a task (back) in the list, keeping its age, and (unless told not to) place it."""
        if self._in_step and task.id in self._in_step and not self._catch_up_steps(task, now):
            return  # the workflow's final action expired or held it
        relaxing = self._relaxes and self._relaxer.tracked(task.id)
        if relaxing and self._relaxer.apply(task, now):
            self._emit(EventKind.task_relaxed, task=task.id, skills=dict(task.skills))
        self._file(task, now)
        if relaxing:
            self._schedule_relaxation(task)
        if _QUEUED in self._muted:
            self._event_seq += 1
        else:
            self._emit(_QUEUED, task=task.id)
        if place:
            self._pending.append((True, task.id))

    def _run_dispatch(self, now: float) -> None:
        if self._dispatch_mode == "pull":
            self._pending.clear()
            return
        pending = self._pending
        while pending:
            is_task, key = pending.popleft()
            if is_task:
                task = self._tasks.get(key)
                if task is not None and task.state is _STATE_QUEUED:
                    self._place(task, now)
            else:
                agent = self._pool._agents.get(key)
                if agent is not None:
                    self._fill(agent, now)

    def _cooling(self, task_id: str, agent_id: str, now: float) -> bool:
        agents = self._cooldown.get(task_id)
        if agents is None:
            return False
        until = agents.get(agent_id)
        if until is None:
            return False
        if until <= now:
            del agents[agent_id]
            if not agents:
                del self._cooldown[task_id]
            return False
        return True

    def _chooser_label(self, group: RequirementGroup) -> str:
        """How an agent free for ``group`` is chosen, as events and explanations name it."""
        if group.agents is not None:
            return _BY_PREFERENCE
        queue: Queue | None = group.queue
        if queue is not None and queue.chosen_by is not None:
            return queue.chosen_by
        return self._chosen_by

    def _place(self, task: Task, now: float) -> None:
        group = task.group
        assert group is not None
        choose = self._choose
        by = self._chosen_by
        if group.agents is not None:
            # Waiting for preferred agents: the first of them who is free
            # and not cooling down after refusing it.
            by = _BY_PREFERENCE
            agent = next(
                (
                    a
                    for a in self._pool.available_agents(group)
                    if not self._cooling(task.id, a.id, now)
                ),
                None,
            )
        elif group.queue is not None and group.queue.selection is not None:
            by = group.queue.chosen_by
            agent = group.queue.selection.choose(self._pool, group, task=task, now=now)
        elif choose is not None:
            agent = choose(self._pool, group, task=task, now=now)
        else:
            agent = self._pool.select(group, task=task, now=now, strategy=self._selection)
        if agent is not None and self._cooling(task.id, agent.id, now):
            # The preferred agent refused this task recently: the longest idle
            # of the others takes it, if any.
            others = [
                a
                for a in self._pool.available_agents(group)
                if not self._cooling(task.id, a.id, now)
            ]
            agent = min(others, key=lambda a: (a.idle_since, a.order), default=None)
            by = _BY_COOLING
        if agent is not None:
            self._offer(task, agent, now, by)

    def _workflow_and_queue(
        self,
        spec: TaskSpec,
        plain: bool,
        rule_queue: str | None = None,
        rule_workflow: str | None = None,
        task_type: str | None = None,
    ) -> tuple[Workflow | None, Queue | None, list[Queue], bool]:
        """A new task's workflow (the rules', else the spec's, else its type's:
        ``task_type`` as the rules classified it, else the spec's) and the queue
        it enters (its workflow's first step's, else the rules', else the
        spec's), with what :meth:`_queue_for` says of the way there. Refuses,
        changing nothing, unknown names and a full queue that refuses."""
        workflow: Workflow | None = None
        named = rule_workflow if rule_workflow is not None else None if plain else spec.workflow
        if named is not None:
            workflow = self._workflows.get(named)
            if workflow is None:
                raise _refusal(
                    "workflow",
                    named,
                    "the name of one of the engine's workflows "
                    f"{_shown(sorted(self._workflows)[:20])}",
                )
        elif self._workflow_of_type:
            workflow = self._workflow_of_type.get(spec.type if task_type is None else task_type)
        name = rule_queue if rule_queue is not None else None if plain else spec.queue
        if workflow is not None and workflow.steps[0].queue is not None:
            name = workflow.steps[0].queue.name
        if name is None:
            return workflow, None, [], False
        queue, passed, over_limit = self._queue_for(name)
        return workflow, queue, passed, over_limit

    def _routed_key(
        self,
        spec: TaskSpec,
        key: GroupKey,
        workflow: Workflow | None,
        queue: Queue | None,
    ) -> tuple[GroupKey, tuple[str, ...] | None, Any]:
        """The group key of a new task that names routing fields or follows a
        workflow, with its preferred agents and compiled expression."""
        prefer = requires = None
        if spec.preferred_agents or spec.related_to is not None or spec.requires is not None:
            prefer = self._preference_of(spec)
            # Compiled once per distinct text while any task or group holds it.
            requires = None if spec.requires is None else compile_expression(spec.requires)
        skills = key[1]
        if workflow is not None:
            # The first step routes the task: its skills and expression, if it
            # names them, instead of the task's own.
            first = workflow.steps[0]
            if first.skills is not None or first.relaxes:
                skills = tuple(sorted(_step_skills(first, spec.skills).items()))
            if first.requires is not None:
                requires = first.requires
        return RequirementGroup.key_of(key[0], skills, prefer, requires, queue), prefer, requires

    def _queue_for(self, name: str) -> tuple[Queue, list[Queue], bool]:
        """The queue a new task enters: the one named, or where a full one
        overflows to; the queues it passed on the way; whether it enters one
        over its length (``when_full="event"``). Refuses, changing nothing,
        an unknown name or a full queue that refuses."""
        queue = self._queues.get(name)
        if queue is None:
            raise _refusal(
                "queue",
                name,
                f"the name of one of the engine's queues {_shown(sorted(self._queues)[:20])}",
            )
        passed: list[Queue] = []
        found, over_limit = self._room_from(queue, passed)
        if found is None:
            last = passed[-1]
            if last.when_full == "refuse":
                raise LimitExceededError(
                    f"queue {last.name!r} is full: {last.waiting} tasks waiting, its "
                    f"max_length is {last.max_length} (expected a queue with room; the "
                    "task was not submitted"
                    + ("" if len(passed) == 1 else f", after overflowing from {passed[0].name!r}")
                    + ")"
                )
            raise LimitExceededError(
                "every queue the task may overflow to is full "
                f"({' -> '.join(q.name for q in [*passed, passed[0]])}; expected a queue with "
                "room; the task was not submitted)"
            )
        return found, passed, over_limit

    def _room_from(self, queue: Queue, passed: list[Queue]) -> tuple[Queue | None, bool]:
        """Where a task headed for ``queue`` ends up under the queues' length
        limits: ``queue`` if it has room, else as its ``when_full`` says; the
        full queues it overflows from are appended to ``passed``. ``None`` when
        a full queue refuses (the last of ``passed``) or the overflow goes
        round through full queues only; the bool: it enters over the limit.
        """
        while queue.full():
            if queue.when_full == "event":
                return queue, True
            passed.append(queue)
            if queue.when_full == "refuse":
                return None, False
            queue = self._queues[queue.overflow_to]  # type: ignore[index]  # checked at start
            if queue in passed:
                return None, False
        return queue, False

    def _enter_queue(
        self,
        task: Task,
        queue: Queue,
        now: float,
        passed: list[Queue],
        over_limit: bool,
        reason: str = "max_length",
    ) -> None:
        """A task's arrival in its queue, told: overflows passed on the way (the
        first for ``reason``), a length limit passed, and the timer of its
        time limit there."""
        queue.entered += 1
        self._tell_overflow(task, passed, queue, reason)
        if over_limit:
            self._limit_reached(task, queue, "max_length")
        self._start_queue_wait(task, queue, now)

    def _limit_reached(self, task: Task, queue: Queue, limit: str, **data: Any) -> None:
        """A queue's limit passed for ``task``, counted and told."""
        queue.limit_events += 1
        self._emit(
            EventKind.queue_limit_reached,
            task=task.id,
            queue=queue.name,
            limit=limit,
            waiting=queue.waiting,
            **data,
        )

    def _tell_overflow(self, task: Task, passed: list[Queue], queue: Queue, reason: str) -> None:
        """One ``task_overflowed`` per hop: from each of ``passed`` to the next, the
        last to ``queue``; the first for ``reason``, the next ones because the
        queue it came to was full."""
        if not passed:
            return
        for left, went in zip(passed, [*passed[1:], queue], strict=True):
            left.overflowed_out += 1
            went.overflowed_in += 1
            self._emit(
                EventKind.task_overflowed,
                task=task.id,
                queue=went.name,
                from_queue=left.name,
                reason=reason,
            )
            reason = "max_length"

    def _start_queue_wait(self, task: Task, queue: Queue, now: float) -> None:
        max_wait = queue.max_wait
        until = _INF if max_wait is None else _end_after(queue.working, task, now, max_wait)
        self._in_queue_since[task.id] = (now, until)
        if until != _INF:
            self._timer(until, _QUEUE_WAIT, task.id)

    def _file_oldest(self, task: Task, queue: Queue) -> None:
        """Note a task filed in a queue whose oldest wait a trigger reads. O(log n)
        (amortised: entries of tasks gone are dropped when they outnumber those
        waiting)."""
        heap = queue.oldest
        assert heap is not None
        heapq.heappush(heap, (self._in_queue_since[task.id][0], task.seq, task.id))
        if len(heap) > 2 * queue.waiting + 64:
            heap[:] = [entry for entry in heap if self._waits_in(entry, queue)]
            heapq.heapify(heap)

    def _waits_in(self, entry: tuple[float, int, str], queue: Queue) -> bool:
        """Whether a heap entry is a task waiting in ``queue`` since its time."""
        task = self._tasks.get(entry[2])
        return (
            task is not None
            and task.state is _STATE_QUEUED
            and task.queue is queue
            and self._in_queue_since[entry[2]][0] == entry[0]
        )

    def _oldest_wait(self, queue: Queue, now: float) -> float:
        """Seconds the task waiting longest in ``queue`` has been in it (0 when none
        waits), for a queue a trigger reads the oldest wait of (it has a heap).
        O(log n) amortised."""
        heap = queue.oldest
        assert heap is not None, queue.name
        while heap and not self._waits_in(heap[0], queue):
            heapq.heappop(heap)
        return now - heap[0][0] if heap else 0.0

    def _rebuild_oldest(self) -> None:
        """Fill the queues' heaps from the tasks waiting now (after a restore)."""
        for queue in self._queues.values():
            if queue.oldest is not None:
                queue.oldest = []
        for task_id, (since, _) in self._in_queue_since.items():
            task = self._tasks[task_id]
            queue = task.queue
            if task.state is TaskState.queued and queue is not None and queue.oldest is not None:
                queue.oldest.append((since, task.seq, task_id))
        for queue in self._queues.values():
            if queue.oldest is not None:
                heapq.heapify(queue.oldest)

    def _queue_wait_over(self, task: Task, now: float) -> None:
        """A task's ``max_wait`` in its queue is up: overflow, or tell, if it still waits."""
        queue = task.queue
        assert queue is not None
        since = self._in_queue_since[task.id][0]
        self._in_queue_since[task.id] = (since, _INF)
        if task.state is not TaskState.queued:
            # Offered, held or deferred at that moment: not waiting in the queue.
            return
        if queue.when_too_old == "event":
            self._limit_reached(task, queue, "max_wait")
            return
        passed = [queue]
        target, over_limit = self._room_from(self._queues[queue.overflow_to], passed)
        if target is None:
            # Nowhere with room: the task stays where it is, and that is told.
            self._limit_reached(
                task, queue, "max_wait", overflow="no queue to overflow to has room"
            )
            return
        self._list._take_out(task)
        task.queue = target
        self._enter_queue(task, target, now, passed, over_limit, "max_wait")
        self._file(task, now)
        self._pending.append((True, task.id))

    # ------------------------------------------------------------ workflows

    def _start_workflow(self, task: Task, workflow: Workflow, now: float) -> None:
        """A new task in its workflow's first step (whose routing submit applied)."""
        self._in_step[task.id] = [workflow, 0, now, _INF, _INF]
        self._emit(
            EventKind.workflow_step, task=task.id, workflow=workflow.name, step=0, reason="start"
        )
        self._time_step(task, now)

    def _time_step(self, task: Task, now: float) -> None:
        """The timers of the task's step: its timeout, and its next trigger reading."""
        state = self._in_step[task.id]
        workflow: Workflow = state[0]
        step = workflow.steps[state[1]]
        timeout = step.timeout
        state[3] = (
            _INF if timeout is None else _end_after(workflow.working, task, state[2], timeout)
        )
        if state[3] != _INF:
            self._timer(state[3], _STEP_END, task.id)
        state[4] = now + state[0].check_every if step.triggers else _INF
        if state[4] != _INF:
            self._timer(state[4], _STEP_CHECK, task.id)

    def _check_step(self, task: Task, now: float) -> None:
        """Read the step's triggers; move on if one holds, else read them again later."""
        state = self._in_step[task.id]
        step = state[0].steps[state[1]]
        reason = self._trigger(task, step, now)
        if reason is not None:
            self._next_step(task, now, reason)
            return
        state[4] = now + state[0].check_every
        self._timer(state[4], _STEP_CHECK, task.id)

    def _trigger(self, task: Task, step: Any, now: float) -> str | None:
        """The first of the step's triggers that holds now, by name, or ``None``."""
        spec = step.spec
        queue = step.queue
        if spec.queue_length_at_least is not None and queue.waiting >= spec.queue_length_at_least:
            return "queue_length"
        if (
            spec.oldest_wait_at_least is not None
            and self._oldest_wait(queue, now) >= spec.oldest_wait_at_least
        ):
            return "oldest_wait"
        if spec.expected_wait_at_least is not None:
            expected = self._expected_wait(queue)
            if expected is not None and expected >= spec.expected_wait_at_least:
                return "expected_wait"
        if spec.no_agent and not self._anyone_for(task):
            return "no_agent"
        return None

    def _anyone_for(self, task: Task) -> bool:
        """Whether some agent logged on (any state but offline) could take the task.
        O(agents able to take it)."""
        group = task.group
        assert group is not None
        self._roster_changed()
        if len(self._able) > 4096:
            # Groups come and go with the tasks that need them: keep the table small.
            self._able.clear()
        able = self._able.get(group)
        if able is None:
            able = self._able_for(group)
            self._able[group] = able
        return any(agent.presence is not Presence.offline for agent in able)

    def _able_for(self, group: RequirementGroup) -> list[Agent]:
        """The registered agents who could take the group's tasks on its channel."""
        channel = group.channel
        return [
            agent
            for agent in self._pool
            if agent.capacity.get(channel, 0) > 0
            and (group.agents is None or agent.id in group.agents)
            and group.admits_agent(agent.skills, agent.profile.attributes, agent.profile.listed)
        ]

    def _next_step(self, task: Task, now: float, reason: str, at: float | None = None) -> bool:
        """Move a task following a workflow to its next step, or to the final action.

        The task is in the list (a timer's case) or on its way back to it
        (``_enqueue``'s). The next step starts ``at`` (the timeout's moment,
        so steps keep their length however late the host advances the
        engine), or ``now`` for a trigger. ``False`` when the final action
        took the task out of routing (expired or held).
        """
        state = self._in_step[task.id]
        workflow: Workflow = state[0]
        index = state[1] + 1
        filed = task.state is TaskState.queued
        if index == len(workflow.steps):
            del self._in_step[task.id]
            self._emit(
                EventKind.workflow_step,
                task=task.id,
                workflow=workflow.name,
                step=None,
                reason=reason,
                then=workflow.then,
            )
            if workflow.then == "stay":
                return True
            if filed:
                self._list._take_out(task)
            if workflow.then == "expire":
                self._close(task, TaskState.expired, EventKind.task_expired, now)
            else:
                task.state = TaskState.held
                self._emit(EventKind.task_held, task=task.id, reason="workflow_ended")
            return False
        step = workflow.steps[index]
        if filed:
            self._list._take_out(task)
        if step.queue is not None and step.queue is not task.queue:
            moved_from = task.queue
            task.queue = step.queue
            step.queue.entered += 1
            if moved_from is not None:
                moved_from.overflowed_out += 1
                step.queue.overflowed_in += 1
            self._start_queue_wait(task, step.queue, now)
        rule_state = self._rule_state.get(task.id) if self._rule_state else None
        due, calendar = task.due, task.calendar
        if rule_state is not None:
            # The step routes the task as it was before rules, and the rules
            # apply on top, as at submission: their re-evaluations then start
            # from the step's routing instead of undoing it.
            _restore_baseline(rule_state[0], task)
        if step.skills is not None or step.relaxes:
            task.skills = _step_skills(step, task.skills)
        if step.requires is not None:
            task.requires = step.requires
        if step.priority is not None:
            task.priority = step.priority
        failure: Exception | None = None
        worth = (task.value, task.due)
        if rule_state is not None:
            try:
                self._apply_rules(task, now, baseline=None)
            except Exception as exc:  # noqa: BLE001 - host rules: raised once the step is taken
                failure = exc
        state[1] = index
        state[2] = now if at is None else at
        self._emit(
            EventKind.workflow_step,
            task=task.id,
            workflow=workflow.name,
            step=index,
            reason=reason,
            queue=None if task.queue is None else task.queue.name,
        )
        self._sla_moved(task, due, calendar)
        if rule_state is not None and failure is None and (task.value, task.due) != worth:
            # The rules, on top of the step's routing, changed what the task is
            # worth: those who count values hear it.
            self._tell_rules_changed(task)
        self._time_step(task, now)
        if filed:
            self._file(task, now)
            self._pending.append((True, task.id))
        if failure is not None:
            raise failure
        if filed and step.triggers and task.state is TaskState.queued:
            reason_now = self._trigger(task, step, now)
            if reason_now is not None:
                return self._next_step(task, now, reason_now)
        return True

    def _catch_up_steps(self, task: Task, now: float) -> bool:
        """A task on its way back to the list: the steps whose time ran out while
        it was away (offered, held, deferred) are taken now, before it is
        filed. ``False`` when the workflow's final action took it out of routing.
        A relaxation plan's task is relaxed as its age says (from requirements a
        host may have replaced while it was away)."""
        state = self._in_step.get(task.id)
        if state is not None and state[0].relaxation is not None:
            self._take_relaxation_steps(task, now, filed=False)
            return True
        if state is not None and state[3] > now:
            # No step ran out, but its timers may have been dropped as stale
            # while the task was away (next_wakeup drops those): set again.
            if state[3] != _INF:
                self._timer(state[3], _STEP_END, task.id)
            if state[4] != _INF:
                self._timer(state[4], _STEP_CHECK, task.id)
            return True
        while state is not None and state[3] <= now:
            if not self._next_step(task, now, "timeout", state[3]):
                return False
            state = self._in_step.get(task.id)
        return True

    def _preference_of(self, spec: TaskSpec) -> tuple[str, ...] | None:
        """The agents a new task waits for, in order: the last agent of the task
        it is related to first (when that one had an agent), then those named."""
        named = spec.preferred_agents
        related = spec.related_to
        if related is None:
            return tuple(named) if named else None
        earlier = self._tasks.get(related) or self._closed.get(related)
        last = None if earlier is None else earlier.last_agent
        if last is None:
            return tuple(named) if named else None
        return (last, *(agent for agent in named if agent != last))

    def _end_preference(self, task: Task, now: float) -> None:
        """The preference's time is up: from now on anyone eligible may take the task."""
        del self._prefer_until[task.id]
        queued = task.state is TaskState.queued
        if queued:
            self._list._take_out(task)
        agents = task.prefer
        task.prefer = None
        if queued:
            self._file(task, now)
            self._pending.append((True, task.id))
        self._emit(
            EventKind.preference_ended,
            task=task.id,
            agents=list(agents or ()),
            state=task.state.value,
        )

    def _best_for(self, agent: Agent, now: float) -> Task | None:
        return self._best_in(agent, self._pool._eligible(agent, self._list.groups), now)

    def _best_in(self, agent: Agent, groups: list[RequirementGroup], now: float) -> Task | None:
        if not groups:
            return None
        task = self._list.best(groups, now)
        # No cool-down anywhere (most engines, most of the time): no call.
        if task is None or not self._cooldown or not self._cooling(task.id, agent.id, now):
            return task
        for candidate, _ in self._list.ranked(now, groups=groups):
            if not self._cooling(candidate.id, agent.id, now):
                return candidate
        return None

    def _fill(self, agent: Agent, now: float) -> None:
        # The agent's availability index entries are its free channels:
        # once none is left there is nothing more to look for.
        while agent._indexed:
            task = self._best_for(agent, now)
            if task is None:
                return
            self._offer(task, agent, now, _BY_BEST_TASK)

    def _offer(
        self,
        task: Task,
        agent: Agent,
        now: float,
        by: str,
        *,
        filed: bool = True,
        group: RequirementGroup | None = None,
    ) -> Offer | None:
        """Offer ``task`` to ``agent``; or, under auto-accept, assign it (``None``).

        ``by`` says how the agent was chosen (see :meth:`explain`). With
        ``concurrent_offers`` above 1 a pushed task (not a pull nor a
        transfer) is offered to more free agents of its group (``group``, or
        the one it is filed in) in the same step: see :meth:`_offer_round`.
        """
        if self._auto_any:
            auto = agent.auto_accept
            if auto is None:
                queue = task.queue
                if queue is not None and queue.auto_accept is not None:
                    auto = queue.auto_accept
                else:
                    auto = self._auto_accept or task.channel in self._auto_channels
            if auto:
                self._assign_at_once(task, agent, now, by, filed=filed)
                return None
        if filed:
            group = task.group
            self._list._take_out(task)
        task.decision = by
        # The chosen agent as it was when chosen, for the event (only built
        # when someone listens).
        chosen = None if _OFFERED in self._muted else self._chosen(agent, task)
        # Every caller offers only to an agent that can take the channel now.
        self._pool._take(agent, task.channel, now)
        task.state = _STATE_OFFERED
        timeout = self._offer_timeout
        if task.queue is not None and task.queue.offer_timeout is not None:
            timeout = task.queue.offer_timeout
        expires = _INF if timeout is None else now + timeout
        offer = Offer(task, agent, now, expires)
        self._offers[task.id] = offer
        self._holder[task.id] = agent
        held = self._agent_tasks.get(agent.id)
        if held is None:
            held = self._agent_tasks[agent.id] = {}
        held[task.id] = task
        self._offer_count[task.id] = self._offer_count.get(task.id, 0) + 1
        counts = self._type_counts.get(task.type) or self._counts(task.type)
        counts[_N_OFFERED] += 1
        if chosen is None:
            self._event_seq += 1
        else:
            self._emit(
                _OFFERED,
                task=task.id,
                agent=agent.id,
                expires=None if expires == _INF else expires,
                by=by,
                **chosen,
            )
        if expires != _INF:
            self._timer(expires, _OFFER_EXPIRY, task.id)
        if self._concurrent_any and group is not None and by != _BY_PULL and by != _BY_TRANSFER:
            self._offer_round(task, group, agent, now, by)
        return offer

    def _offer_round(
        self, task: Task, group: RequirementGroup, first: Agent, now: float, by: str
    ) -> None:
        """Concurrent offers: offer ``task``, just offered to ``first``, to more
        free agents of ``group`` until it has ``concurrent_offers`` live offers.

        The agents come in the order the selection strategy ranks them (its
        choice, then its choice among the others, ...; the queue's own
        strategy for a task in a queue that has one; preferred agents in the
        task's order), each one different: an agent already chosen is
        taken out of the availability index for the round and filed again
        after. Agents cooling down after refusing the task, and agents the
        task would go to without an offer (auto-accept), are passed over;
        ``max_offers`` caps the round. O(k) strategy calls for k offers.
        """
        wanted = self._concurrent_for(task)
        if wanted == 1:
            return
        pool = self._pool
        hidden: list[Agent] = []
        live = 1
        maximum = self._max_offers
        choose = self._choose
        try:
            if first._indexed:
                pool._unfile(first)
                hidden.append(first)
            while live < wanted:
                if maximum is not None and self._offer_count[task.id] >= maximum:
                    return
                if group.agents is not None:
                    agent = next(pool.available_agents(group), None)
                elif group.queue is not None and group.queue.selection is not None:
                    agent = group.queue.selection.choose(pool, group, task=task, now=now)
                elif choose is not None:
                    agent = choose(pool, group, task=task, now=now)
                else:
                    agent = pool.select(group, task=task, now=now, strategy=self._selection)
                if agent is None:
                    return
                if not self._cooling(task.id, agent.id, now) and not self._takes_at_once(
                    agent, task
                ):
                    self._offer_also(task, agent, now, by)
                    live += 1
                if agent._indexed:
                    pool._unfile(agent)
                    hidden.append(agent)
        finally:
            for agent in hidden:
                pool._refile(agent)

    def _concurrent_for(self, task: Task) -> int:
        """How many agents ``task`` is offered to at once: its queue's setting, else ours."""
        queue = task.queue
        if queue is not None and queue.concurrent_offers is not None:
            return int(queue.concurrent_offers)
        return self._concurrent

    def _takes_at_once(self, agent: Agent, task: Task) -> bool:
        """Whether auto-accept gives ``task`` to ``agent`` without an offer."""
        if not self._auto_any:
            return False
        auto = agent.auto_accept
        if auto is None:
            queue = task.queue
            if queue is not None and queue.auto_accept is not None:
                return bool(queue.auto_accept)
            auto = self._auto_accept or task.channel in self._auto_channels
        return auto

    def _offer_also(self, task: Task, agent: Agent, now: float, by: str) -> None:
        """One more live offer of an offered task, to ``agent`` (concurrent offers).

        The same steps as :meth:`_offer`'s for the first offer, which keeps
        them inline rather than calling here: the one-offer path is the hot
        one, and a call per offer costs it about half a percent.
        """
        chosen = None if _OFFERED in self._muted else self._chosen(agent, task)
        self._pool._take(agent, task.channel, now)
        timeout = self._offer_timeout
        if task.queue is not None and task.queue.offer_timeout is not None:
            timeout = task.queue.offer_timeout
        expires = _INF if timeout is None else now + timeout
        offer = Offer(task, agent, now, expires)
        more = self._more.get(task.id)
        if more is None:
            more = self._more[task.id] = []
        more.append(offer)
        held = self._agent_tasks.get(agent.id)
        if held is None:
            held = self._agent_tasks[agent.id] = {}
        held[task.id] = task
        self._offer_count[task.id] += 1
        self._counts(task.type)[_N_OFFERED] += 1
        if chosen is None:
            self._event_seq += 1
        else:
            self._emit(
                _OFFERED,
                task=task.id,
                agent=agent.id,
                expires=None if expires == _INF else expires,
                by=by,
                **chosen,
            )
        if expires != _INF:
            self._timer(expires, _OFFER_EXPIRY, task.id)

    def _assign_at_once(
        self, task: Task, agent: Agent, now: float, by: str, *, filed: bool
    ) -> None:
        """Auto-accept: the task goes to the agent with no offer record, one event.

        Statistics count it offered and accepted, as an offer taken at once.
        """
        if filed:
            self._list._take_out(task)
        chosen = None if _ASSIGNED in self._muted else self._chosen(agent, task)
        self._pool._take(agent, task.channel, now)
        held = self._agent_tasks.get(agent.id)
        if held is None:
            held = self._agent_tasks[agent.id] = {}
        self._record_assignment(task, agent, now, held, chosen, by)

    def _record_assignment(
        self,
        task: Task,
        agent: Agent,
        now: float,
        held: dict[str, Task],
        chosen: dict[str, float] | None,
        by: str,
    ) -> None:
        """An auto-accepted task's state, holder, counts and event, the agent's
        slot already taken (by :meth:`_assign_at_once`, or handed over by
        :meth:`_complete_and_hand_over`) and the task out of the list
        (``held``: the agent's tasks; ``chosen``: the agent's facts for the
        event, ``None`` when nobody listens).
        """
        task.decision = by
        task.state = _STATE_ASSIGNED
        task_id = task.id
        task.last_agent = agent.id
        if task.queue is not None:
            self._assigned_at[task_id] = now
        self._holder[task_id] = agent
        held[task_id] = task
        counts = self._type_counts.get(task.type) or self._counts(task.type)
        counts[_N_OFFERED] += 1
        counts[_N_ACCEPTED] += 1
        self._event_seq += 1
        if chosen is not None:
            # What _emit(_ASSIGNED, ...) builds, without its keyword packing:
            # one per task in a simulation.
            self._outbox.append(
                _new_tuple(
                    Event,
                    (
                        self._event_seq,
                        self._now,
                        _ASSIGNED,
                        task_id,
                        agent.id,
                        {"wait": now - task.created, "by": by, **chosen},
                    ),
                )
            )

    @staticmethod
    def _chosen(
        agent: Agent, task: Task, idle_since: float | None = None, holding: int | None = None
    ) -> dict[str, float]:
        """Why the agent won, as the event tells it: how long it had been idle
        (``idle_since``), its load and its mean level over the task's skills
        before it took the task. ``idle_since`` and ``holding`` (tasks held)
        stand in for the agent's own when given: a slot handed over is read
        as released first."""
        capacity = agent.total_capacity
        skills = agent.skills
        levels = [skills.get(name, 0.0) for name in task.skills]
        if holding is None:
            holding = agent.held
        return {
            "idle_since": agent.idle_since if idle_since is None else idle_since,
            "load": holding / capacity if capacity else 1.0,
            "proficiency": math.fsum(levels) / len(levels) if levels else 0.0,
        }

    def _complete_work(self, task: Task, now: float, *, match_now: bool = True) -> None:
        """The task leaves its agent completed, and the agent gets its next task.

        When this is the command's last change (``match_now``: push dispatch,
        nothing else pending) the agent is offered its next task before it is
        filed as available again: filing it only to take it out at once would
        cost a heap push and pop per completion. The decisions are dispatch's
        own; otherwise dispatch makes them after the command's other changes.
        """
        if not match_now or self._pending or self._dispatch_mode != "push":
            agent = self._release_holder(task, now)
            self._close(task, _STATE_COMPLETED, _COMPLETED, now, agent)
            return
        agent = self._holder.pop(task.id)
        held = self._agent_tasks[agent.id]
        del held[task.id]
        if self._auto_any and agent.held == 1 and agent.presence is _READY:
            self._complete_and_hand_over(task, agent, held, now)
            return
        pool = self._pool
        pool._release(agent, task.channel, now, refile=False)
        offered = False
        # The agent's free channels while nothing has changed them since they
        # were found (None once the agent takes a task, or if _close fails):
        # the pool files the agent under them without asking again.
        free: list[str] | None = None
        try:
            self._close(task, _STATE_COMPLETED, _COMPLETED, now, agent)
            channels = free = pool._free_channels(agent)
            if channels:
                lst = self._list
                groups = pool._eligible_on(agent, channels, lst._group_list)
                # _best_in without its call while no task has a cool-down.
                best = lst.best(groups, now) if groups else None
                if best is not None and self._cooldown:
                    best = self._best_in(agent, groups, now)
                if best is not None:
                    free = None
                    # which files the agent as it now is
                    self._offer(best, agent, now, _BY_BEST_TASK)
                    offered = True
        finally:
            if not offered:
                pool._refile(agent, free)
        if offered and agent._indexed:
            # Slots left on some channel: dispatch goes on filling them.
            self._pending.append((False, agent.id))

    def _complete_and_hand_over(
        self, task: Task, agent: Agent, held: dict[str, Task], now: float
    ) -> None:
        """:meth:`_complete_work`'s second half on an engine where tasks may go
        without an offer, for a ready agent whose one task ``task`` was
        (``held``: the agent's tasks, ``task`` already out of them).

        The same decisions and events: freed, the agent would be free on
        every channel it has a slot on, so its next task is searched there
        before the slot is released. A task it takes at once (auto-accept)
        then takes the slot straight over, one pool step
        (:meth:`AgentPool._hand_over`) where a release and a take are two;
        an offer, or no task, releases the slot first as before.
        """
        pool = self._pool
        channel = task.channel
        offered = released = False
        free: list[str] | None = None
        try:
            self._close(task, _STATE_COMPLETED, _COMPLETED, now, agent)
            # What _free_channels says once the slot is released: the agent
            # then holds nothing.
            channels = free = agent._channels
            best = None
            if channels:
                lst = self._list
                groups = pool._eligible_on(agent, channels, lst._group_list)
                best = lst.best(groups, now) if groups else None
                if best is not None and self._cooldown:
                    best = self._best_in(agent, groups, now)
            auto: bool | None = False
            if best is not None:
                free = None
                # _takes_at_once inline (the agent's own setting, else the
                # task's queue's, else the engine's).
                auto = agent.auto_accept
                if auto is None:
                    queue = best.queue
                    if queue is not None and queue.auto_accept is not None:
                        auto = queue.auto_accept
                    else:
                        auto = self._auto_accept or best.channel in self._auto_channels
            if best is not None and auto:
                # The agent as a released slot leaves it, for the event: idle
                # from now, holding nothing.
                chosen = None if _ASSIGNED in self._muted else self._chosen(agent, best, now, 0)
                pool._hand_over(agent, channel, best.channel, now)
                released = True
                self._list._take_out(best)
                self._record_assignment(best, agent, now, held, chosen, _BY_BEST_TASK)
                offered = True
            else:
                pool._release(agent, channel, now, refile=False)
                released = True
                if best is not None:
                    # which files the agent as it now is
                    self._offer(best, agent, now, _BY_BEST_TASK)
                    offered = True
        finally:
            if not offered:
                if not released:
                    pool._release(agent, channel, now, refile=False)
                pool._refile(agent, free)
        if offered and agent._indexed:
            # Slots left on some channel: dispatch goes on filling them.
            self._pending.append((False, agent.id))

    def _release_holder(self, task: Task, now: float) -> Agent:
        agent = self._holder.pop(task.id)
        del self._agent_tasks[agent.id][task.id]
        self._pool._release(agent, task.channel, now)
        self._pending.append((False, agent.id))
        return agent

    def _unoffer(
        self,
        task: Task,
        kind: EventKind,
        *,
        cooldown: bool,
        now: float,
        offer: Offer | None = None,
    ) -> None:
        """An offer of ``task`` ends unanswered (``offer``: which one, when it
        has several). When it was the task's last live offer the task goes
        back to the list, or ends rejected after ``max_offers`` offers."""
        more = self._more.get(task.id) if self._more else None
        if more is None:
            del self._offers[task.id]
            agent = self._release_holder(task, now)
        else:
            agent = self._drop_offer(task, more, offer or self._offers[task.id], now)
        self._counts(task.type)[_STAT_INDEX[kind.value]] += 1
        self._emit(kind, task=task.id, agent=agent.id)
        if cooldown and self._reject_cooldown > 0:
            until = now + self._reject_cooldown
            self._cooldown.setdefault(task.id, {})[agent.id] = until
            self._timer(until, _COOLDOWN_END, task.id)
        if more is not None:
            return  # other offers of the task are still live
        if (
            cooldown
            and self._max_offers is not None
            and self._offer_count[task.id] >= self._max_offers
        ):
            self._close(
                task,
                TaskState.rejected,
                EventKind.task_rejected,
                now,
                offers=self._offer_count[task.id],
            )
            return
        self._enqueue(task, now)

    def _drop_offer(self, task: Task, more: list[Offer], offer: Offer, now: float) -> Agent:
        """Take one of several live offers of ``task`` away and free its agent's slot.

        The oldest of the others becomes the task's first offer (and its agent
        the holder) when ``offer`` was the first. O(k) for k offers.
        """
        task_id = task.id
        if self._offers[task_id] is offer:
            first = more.pop(0)
            self._offers[task_id] = first
            self._holder[task_id] = first.agent
        else:
            more.remove(offer)
        if not more:
            del self._more[task_id]
        agent = offer.agent
        del self._agent_tasks[agent.id][task_id]
        self._pool._release(agent, task.channel, now)
        self._pending.append((False, agent.id))
        return agent

    def _answering(self, task_id: str, agent_id: str | None, action: str) -> Offer:
        """The live offer of an offered task that ``agent_id`` answers.

        ``None`` names the only offer; a task offered to several agents needs
        the agent named. Refuses (nothing changed) an agent it is not offered to.
        """
        offer = self._offers[task_id]
        more = self._more.get(task_id) if self._more else None
        if more is None:
            if agent_id is not None and agent_id != offer.agent.id:
                raise InvalidTransitionError(
                    f"task {task_id!r} is offered to {offer.agent.id!r}, not {_shown(agent_id)}"
                )
            return offer
        offers = [offer, *more]
        agents = [o.agent.id for o in offers]
        if agent_id is None:
            raise _refusal(
                "agent_id",
                None,
                f"the agent who answers: task {task_id!r} is offered to {len(agents)} "
                f"agents {_shown(agents)}, so {action} must name one",
            )
        for candidate in offers:
            if candidate.agent.id == agent_id:
                return candidate
        raise InvalidTransitionError(
            f"task {task_id!r} is offered to {_shown(agents)}, not {_shown(agent_id)}"
        )

    def _win(self, task: Task, offer: Offer, now: float) -> None:
        """Concurrent offers: ``offer`` is accepted, so every other live offer
        of the task is revoked (an event each) and their agents' slots freed."""
        task_id = task.id
        more = self._more.pop(task_id)
        losers = [self._offers[task_id], *more]
        losers.remove(offer)
        self._offers[task_id] = offer
        self._holder[task_id] = offer.agent
        counts = self._counts(task.type)
        for loser in losers:
            agent = loser.agent
            del self._agent_tasks[agent.id][task_id]
            self._pool._release(agent, task.channel, now)
            self._pending.append((False, agent.id))
            counts[_STAT_INDEX["offer_revoked"]] += 1
            self._emit(
                EventKind.offer_revoked,
                task=task_id,
                agent=agent.id,
                reason="accepted_by_other",
                accepted_by=offer.agent.id,
            )

    def _accept(self, task: Task, offer: Offer, now: float) -> None:
        del self._offers[task.id]
        task.state = _STATE_ASSIGNED
        task.last_agent = offer.agent.id
        if task.queue is not None:
            self._assigned_at[task.id] = now
        counts = self._type_counts.get(task.type) or self._counts(task.type)
        counts[_N_ACCEPTED] += 1
        muted = self._muted
        if _ACCEPTED in muted:
            self._event_seq += 1
        else:
            self._emit(_ACCEPTED, task=task.id, agent=offer.agent.id)
        if _ASSIGNED in muted:
            self._event_seq += 1
        else:
            self._emit(_ASSIGNED, task=task.id, agent=offer.agent.id, wait=now - task.created)

    # ================================================================ task commands

    def _open(
        self, task_id: str, allowed: tuple[TaskState, ...] | frozenset[TaskState], action: str
    ) -> Task:
        if type(task_id) is not str:
            _check_id("task_id", task_id)
        task = self._tasks.get(task_id)
        if task is None:
            if task_id in self._closed:
                state = self._closed[task_id].state
                raise InvalidTransitionError(
                    f"cannot {action} task {task_id!r}: it is {state.value} (closed)"
                )
            raise UnknownTaskError(f"no open task with id {_shown(task_id)}")
        if task.state not in allowed:
            names = (
                [s.value for s in allowed]
                if isinstance(allowed, tuple)
                else sorted(s.value for s in allowed)
            )
            raise InvalidTransitionError(
                f"cannot {action} task {task_id!r}: it is {task.state.value} "
                f"(expected {' or '.join(names)})"
            )
        return task

    def accept(self, task_id: str, agent_id: str | None = None) -> Task:
        """The agent takes the offered task: offered -> assigned."""
        if agent_id is not None and type(agent_id) is not str:
            _check_id("agent_id", agent_id)
        task = self._open(task_id, _OFFERED_ONLY, "accept")
        more = self._more
        if more and task_id in more:
            # Concurrent offers: the first accept wins, the others are revoked.
            offer = self._answering(task_id, agent_id, "accept")
            now = self._begin()
            self._win(task, offer, now)
        else:
            offer = self._offers[task_id]
            if agent_id is not None and agent_id != offer.agent.id:
                raise InvalidTransitionError(
                    f"task {task_id!r} is offered to {offer.agent.id!r}, not {_shown(agent_id)}"
                )
            now = self._begin()
        self._accept(task, offer, now)
        if self._pending or self._outbox:
            self._finish()
        return task

    @_command
    def reject(self, task_id: str, agent_id: str | None = None) -> Task:
        """The agent refuses the offer: back to queued with its age; not re-offered to
        that agent for ``reject_cooldown`` seconds."""
        _check_optional_id("agent_id", agent_id)
        task = self._open(task_id, (TaskState.offered,), "reject")
        offer = self._answering(task_id, agent_id, "reject")
        now = self._begin()
        self._unoffer(task, EventKind.offer_rejected, cooldown=True, now=now, offer=offer)
        self._finish()
        return task

    @_command
    def revoke(self, task_id: str) -> Task:
        """The host withdraws an offer (every live offer of the task): back to
        queued with its age, no cool-down. Withdrawn offers were not refused:
        they do not count toward ``max_offers``."""
        task = self._open(task_id, (TaskState.offered,), "revoke the offer of")
        now = self._begin()
        more = self._more.get(task_id) if self._more else None
        # Uncounted before the task goes back to the list, where it may be
        # offered again at once.
        self._offer_count[task_id] -= 1 if more is None else 1 + len(more)
        if more is not None:
            for offer in self.offers_of(task_id)[:-1]:
                self._unoffer(task, EventKind.offer_revoked, cooldown=False, now=now, offer=offer)
        self._unoffer(task, EventKind.offer_revoked, cooldown=False, now=now)
        self._finish()
        return task

    def complete(self, task_id: str, *, wrap_up: float | None = None) -> Task:
        """The agent is done with the customer: assigned -> wrap_up or completed.

        ``wrap_up`` seconds of after-work (default: the engine's per-type
        setting) keep the agent's slot; 0 completes at once.
        """
        if wrap_up is not None:
            wrap_up = _number("wrap_up", wrap_up, _WRAP_UP_EXPECTED)
            if wrap_up < 0:
                raise _refusal("wrap_up", wrap_up, _WRAP_UP_EXPECTED)
        task = self._open(task_id, _ASSIGNED_ONLY, "complete")
        seconds = wrap_up
        if seconds is None:
            seconds = self._wrap_up_all
            if seconds is None:
                seconds = self._wrap_up(task.type)
        if seconds is None:
            raise _refusal("wrap_up", wrap_up, _WRAP_UP_EXPECTED)
        now = self._begin()
        if seconds > 0:
            task.state = TaskState.wrap_up
            self._wrap_up_until[task_id] = now + seconds
            self._timer(now + seconds, _WRAP_UP_END, task_id)
            self._emit(
                EventKind.task_wrap_up,
                task=task_id,
                agent=self._holder[task_id].id,
                until=now + seconds,
            )
        else:
            try:
                self._complete_work(task, now)
            except Exception:
                # Completed all the same: subscribers hear it.
                self._tell()
                raise
        if self._pending or self._outbox:
            self._finish()
        return task

    @_command
    def end_wrap_up(self, task_id: str) -> Task:
        """After-work done early: wrap_up -> completed."""
        task = self._open(task_id, (TaskState.wrap_up,), "end the wrap-up of")
        now = self._begin()
        self._close_wrap_up(task, now, match_now=True)
        self._finish()
        return task

    def _close_wrap_up(self, task: Task, now: float, *, match_now: bool) -> None:
        del self._wrap_up_until[task.id]
        self._complete_work(task, now, match_now=match_now)

    @_command
    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        """Withdraw a task that no agent is working on (queued, offered, held or deferred)."""
        _check_text("reason", reason)
        task = self._open(
            task_id,
            (TaskState.queued, TaskState.offered, TaskState.held, TaskState.deferred),
            "cancel",
        )
        now = self._begin()
        self._take_out(task, now)
        self._close(task, TaskState.canceled, EventKind.task_canceled, now, reason=reason)
        self._finish()
        return task

    def _take_out(self, task: Task, now: float) -> None:
        """Remove a not-yet-working task from wherever it is."""
        if task.state is TaskState.queued:
            self._list._take_out(task)
        elif task.state is TaskState.offered:
            more = self._more.pop(task.id, None) if self._more else None
            if more is not None:
                for offer in more:
                    agent = offer.agent
                    del self._agent_tasks[agent.id][task.id]
                    self._pool._release(agent, task.channel, now)
                    self._pending.append((False, agent.id))
            del self._offers[task.id]
            self._release_holder(task, now)
        elif task.state is TaskState.deferred:
            del self._deferred_until[task.id]

    def _expire(self, task: Task, now: float) -> None:
        self._take_out(task, now)
        self._close(task, TaskState.expired, EventKind.task_expired, now)

    def _close(
        self,
        task: Task,
        state: TaskState,
        kind: EventKind,
        now: float,
        agent: Agent | None = None,
        **data: Any,
    ) -> None:
        task.state = state
        del self._tasks[task.id]
        task_id = task.id
        # Per-task state of features most engines do not use, and offer
        # counts (none under auto-accept): skip the lookups while nothing is
        # kept there.
        if self._offer_count:
            self._offer_count.pop(task_id, None)
        if self._expires_at:
            self._expires_at.pop(task_id, None)
        if self._relaxes:
            self._relaxer.forget(task_id)
        if self._rule_state:
            self._rule_state.pop(task_id, None)
            self._fired.pop(task_id, None)
        if self._breached:
            self._breached.discard(task_id)
        if self._warned:
            self._warned.discard(task_id)
        if self._cooldown:
            self._cooldown.pop(task_id, None)
        if self._prefer_until:
            self._prefer_until.pop(task_id, None)
        if self._in_queue_since:
            self._in_queue_since.pop(task_id, None)
        if self._assigned_at:
            started = self._assigned_at.pop(task_id, None)
            if started is not None and state is _STATE_COMPLETED:
                task.queue.handled(now - started)
        if self._in_step:
            self._in_step.pop(task_id, None)
        counts = self._type_counts.get(task.type) or self._counts(task.type)
        counts[_STAT_INDEX[_STATE_NAMES[state]]] += 1
        if self._closed_memory:
            self._closed[task_id] = task
            if len(self._closed) > self._closed_memory:
                self._closed.popitem(last=False)
        if kind in self._muted:
            self._event_seq += 1
        else:
            # What _emit builds, without its keyword packing: one per task in
            # a simulation.
            self._post(
                kind,
                task_id,
                None if agent is None else agent.id,
                {"age": now - task.created, **data},
            )

    @_command
    def hold(self, task_id: str) -> Task:
        """Keep a queued or deferred task out of routing until :meth:`resume`."""
        task = self._open(task_id, (TaskState.queued, TaskState.deferred), "hold")
        now = self._begin()
        self._take_out(task, now)
        task.state = TaskState.held
        self._emit(EventKind.task_held, task=task_id)
        self._finish()
        return task

    @_command
    def resume(self, task_id: str) -> Task:
        """Return a held or deferred task to the queue, with its original age."""
        task = self._open(task_id, (TaskState.held, TaskState.deferred), "resume")
        now = self._begin()
        self._deferred_until.pop(task_id, None)
        self._emit(EventKind.task_resumed, task=task_id)
        self._enqueue(task, now)
        self._finish()
        return task

    @_command
    def defer(self, task_id: str, until: float) -> Task:
        """Keep a queued or held task out of routing until ``until`` (seconds)."""
        at = _number("until", until, "a finite time in seconds")
        task = self._open(task_id, (TaskState.queued, TaskState.held), "defer")
        now = self._begin()
        if at <= now:
            raise InvalidInputError(f"until: got {at!r} (expected a time after now, {now!r})")
        self._take_out(task, now)
        task.state = TaskState.deferred
        self._deferred_until[task_id] = at
        self._timer(at, _DEFER_END, task_id)
        self._emit(EventKind.task_deferred, task=task_id, until=at)
        self._finish()
        return task

    @_command
    def transfer(
        self,
        task_id: str,
        *,
        skills: Mapping[str, float] | None = None,
        channel: str | None = None,
        to_agent: str | None = None,
        keep_age: bool = True,
    ) -> Task:
        """Move an assigned (or queued) task: back to the queue with new requirements,
        or straight to an agent's offer.

        The task keeps its original age and place in line unless
        ``keep_age=False``: then it counts as new from now (its age, place in
        line, relaxation plan and ``time_to_live``, its type's as the rules
        have it now, all start again).
        """
        skills = _skills_argument("skills", skills)
        if channel is not None and (
            not isinstance(channel, str) or not channel or not _is_text(channel)
        ):
            raise _refusal("channel", channel, "a channel name, non-empty Unicode text, or None")
        _check_optional_id("to_agent", to_agent)
        _check_flag("keep_age", keep_age)
        task = self._open(task_id, (TaskState.assigned, TaskState.queued), "transfer")
        new_skills = check_changes(
            priority=None, value=None, due=None, clear_due=False, skills=skills
        )[3]
        target: Agent | None = None
        if to_agent is not None:
            target = self._agent(to_agent, "to_agent")
            needed = channel or task.channel
            needs = new_skills if new_skills is not None else task.skills
            if not all(target.skills.get(k, -1.0) >= v for k, v in needs.items()):
                raise InvalidTransitionError(
                    f"agent {to_agent!r} lacks the skills task {task_id!r} requires "
                    f"({_shown(dict(needs))})"
                )
            if task.requires is not None and not task.requires(target.attributes):
                raise InvalidTransitionError(
                    f"agent {to_agent!r}'s attributes do not meet task {task_id!r}'s "
                    f"requirement ({_shown(task.requires.source)})"
                )
            holder = self._holder.get(task_id)
            frees_slot = holder is target and task.channel == needed
            if not frees_slot and not self._pool.can_take(target, needed):
                raise InvalidTransitionError(
                    f"agent {to_agent!r} cannot take a {_shown(needed)} task now "
                    f"(state {target.state.value}, load {dict(target.load)})"
                )
        now = self._begin()
        if task.state is TaskState.queued:
            self._list.remove(task_id)
        else:
            self._release_holder(task, now)
        if channel is not None:
            task.channel = channel
        # A transfer routes the task anew: a preference for agents ends, and
        # so does its workflow. A relaxation plan goes on, from the task's
        # requirements at its age (counted anew unless keep_age).
        task.prefer = None
        self._prefer_until.pop(task_id, None)
        step = self._in_step.pop(task_id, None) if self._in_step else None
        if not keep_age:
            task.created = now
            task.seq = self._list.next_seq()
        rule_state = self._rule_state.get(task_id) if self._rule_state else None
        failure: Exception | None = None
        due, calendar = task.due, task.calendar
        if rule_state is not None:
            # With rules the new requirements (and channel, and age) are the
            # task's before the rules, which apply again on top.
            _restore_baseline(rule_state[0], task)
            if new_skills is not None:
                task.skills = new_skills
            try:
                self._apply_rules(task, now, baseline=None)
            except Exception as exc:  # noqa: BLE001 - host rules: raised once the task is routed
                failure = exc
        elif new_skills is not None:
            task.skills = new_skills
        self._sla_moved(task, due, calendar)
        if not keep_age and self._ttl is not None:
            # Counted as new from now: its time to live too (its type's, as the
            # rules have it now).
            self._arm_expiry(task)
        if new_skills is not None or rule_state is not None:
            self._relaxer.reset(task)
        if step is not None and step[0].relaxation is not None:
            first = step[0].steps[0].ends_after
            if new_skills is not None or rule_state is not None:
                step[5] = task.skills
            step[1:5] = [0, task.created, self._relaxation_end(task, first), _INF]
            self._relaxation_due(task, step, now)
            self._in_step[task_id] = step
        # Routed anew: max_offers counts the offers on the way to its next agent.
        self._offer_count.pop(task_id, None)
        self._emit(
            EventKind.task_transferred,
            task=task_id,
            to_agent=to_agent,
            skills=dict(task.skills),
            channel=task.channel,
        )
        if target is not None:
            task.state = TaskState.queued
            self._emit(EventKind.task_queued, task=task_id)
            self._offer(task, target, now, _BY_TRANSFER, filed=False)
        else:
            self._enqueue(task, now)
        self._finish()
        if failure is not None:
            raise failure
        return task

    @_command
    def update(
        self,
        task_id: str,
        *,
        priority: int | None = None,
        value: float | None = None,
        due: float | None = None,
        clear_due: bool = False,
        skills: Mapping[str, float] | None = None,
        expected_version: int | None = None,
    ) -> Task:
        """Change an open task's priority, value, due time or requirements.

        ``expected_version`` makes the update conditional (optimistic
        concurrency): :class:`~valueroute.errors.VersionConflictError` if the
        task's ``version`` has moved on. Queued tasks are re-scored at once.
        """
        if priority is not None:
            priority = _integer("priority", priority, _PRIORITY_EXPECTED)
            # Scores are floats: a priority no float can hold cannot be scored.
            _number("priority", priority, _PRIORITY_EXPECTED)
        if value is not None:
            value = _number("value", value, "a finite number >= 0, or None")
        if due is not None:
            due = _number("due", due, "a finite time in seconds, or None")
        _check_flag("clear_due", clear_due)
        skills = _skills_argument("skills", skills)
        if expected_version is not None:
            expected_version = _integer(
                "expected_version", expected_version, "a task version, an integer, or None"
            )
        task = self._open(task_id, _OPEN_FOR_UPDATE, "update")
        if task.calendar is not None:
            _check_calendar_instant("due", due)
        if expected_version is not None and expected_version != task.version:
            raise VersionConflictError(
                f"task {task_id!r} is at version {task.version}, "
                f"not the expected {_shown(expected_version)}"
            )
        # Validated the same way wherever the task is, before the clock is read.
        priority, value, due, new_skills = check_changes(
            priority=priority, value=value, due=due, clear_due=clear_due, skills=skills
        )
        now = self._begin()
        due_before, calendar_before = task.due, task.calendar
        rule_state = self._rule_state.get(task_id) if self._rule_state else None
        if rule_state is not None:
            self._update_under_rules(
                task, rule_state[0], now, priority, value, due, clear_due, new_skills
            )
        elif task.state is TaskState.queued:
            self._list.update(
                task_id,
                now=now,
                priority=priority,
                value=value,
                due=due,
                clear_due=clear_due,
                skills=new_skills,
            )
        else:
            # Not in the list: set the fields; the task is scored when it next
            # enters the list.
            _change_fields(task, priority, value, due, clear_due, new_skills)
            task.version += 1
        if skills is not None and self._relaxes and rule_state is None:
            if task.id in self._in_step and self._in_step[task.id][0].relaxation is not None:
                self._requirements_replaced(task, now)
            elif self._relaxer.tracked(task.id):
                self._relaxer.reset(task)
                if task.state is TaskState.queued:
                    self._relax_queued(task, now)
        elif (
            value is not None
            and rule_state is None
            and self._relaxes
            and task.state is TaskState.queued
            and self._relaxer.follows_value(task.id)
        ):
            # A continuous plan with a value_scale decays at a rate set by the
            # value: the new one holds over the task's whole age, now.
            self._relax_queued(task, now)
        # Moved by the host, or by the rules applied again on top: a due time
        # that stays where it was keeps its breach and warning.
        self._sla_moved(task, due_before, calendar_before)
        self._emit(
            EventKind.task_updated,
            task=task_id,
            version=task.version,
            priority=task.priority,
            value=task.value,
            due=task.due,
        )
        if task.state is TaskState.queued:
            self._pending.append((True, task_id))
        self._finish()
        return task

    def _update_under_rules(
        self,
        task: Task,
        baseline: Any,
        now: float,
        priority: int | None,
        value: float | None,
        due: float | None,
        clear_due: bool,
        skills: Mapping[str, float] | None,
    ) -> None:
        """A host's changes to a task that rules have set: they change the task as
        it was before the rules, and the rules apply again on top, as at
        submission (so the rules' later re-evaluations start from the host's
        values instead of undoing them). A relaxation plan then lowers the
        rules' requirements again, told as ``task_relaxed`` when that changes
        them, as for any replaced requirements."""
        queued = task.state is TaskState.queued
        step = self._in_step.get(task.id) if self._in_step else None
        relaxing = step is not None and step[0].relaxation is not None
        decaying = not relaxing and self._relaxer.tracked(task.id)
        # Loaded here, not with the engine: only an engine with rules gets here.
        from valueroute.rules import Baseline

        # What a refusal puts back: the task's fields and what the relaxation
        # keeps for it (the rules' own state changes only once it is filed).
        fields = Baseline.of(task)
        original = self._relaxer.original(task.id) if decaying else None
        if queued:
            self._list._take_out(task)
        try:
            _restore_baseline(baseline, task)
            _change_fields(task, priority, value, due, clear_due, skills)
            outcome = self._rules.apply(task, now, baseline=None)
            if decaying:
                self._relaxer.reset(task)
                self._relaxer.apply(task, now)
            if queued:
                self._list._add_record(task, now)
        except Exception:
            # Host rules failed, or the policy cannot score the changed task:
            # the update changes nothing, as without rules (the task as it was
            # is filed again).
            fields.restore(task)
            if original is not None:
                skills_now = task.skills
                task.skills = original
                self._relaxer.reset(task)
                task.skills = skills_now
            if queued:
                self._file(task, now)
            raise
        self._fired[task.id] = tuple(outcome.fired)
        self._rule_state[task.id] = (outcome.baseline, outcome.next_change)
        if outcome.next_change != _INF:
            self._timer(outcome.next_change, _RULES, task.id)
        if decaying:
            self._schedule_relaxation(task)
        task.version += 1
        if relaxing:
            self._requirements_replaced(task, now)

    # ================================================================ agents

    @_command
    def add_agent(self, spec: AgentSpec | Mapping[str, Any], *, ready: bool = False) -> Agent:
        """Register an agent (offline, or ready at once with ``ready=True``)."""
        _check_flag("ready", ready)
        if not isinstance(spec, AgentSpec):
            spec = AgentSpec.model_validate(spec)
        now = self._begin()
        agent = self._pool.add(
            spec,
            now=now,
            presence=Presence.ready if ready else Presence.offline,
            queues=self._listed_in.get(spec.id, _NOT_LISTED),
        )
        self._levels.add(agent.skills)
        if agent.auto_accept:
            self._auto_any = True
        self._emit(EventKind.agent_added, agent=agent.id, state=agent.state.value)
        if self._relaxes_continuously:
            self._agent_levels_changed(now)
        self._pending.append((False, agent.id))
        self._finish()
        return agent

    @_command
    def remove_agent(self, agent_id: str) -> Agent:
        """Unregister an agent that holds no task."""
        if type(agent_id) is not str:
            _check_id("agent_id", agent_id)
        self._agent(agent_id)
        if self._agent_tasks.get(agent_id):
            held = sorted(self._agent_tasks[agent_id])
            raise InvalidTransitionError(
                f"agent {agent_id!r} still holds tasks {_shown(held)} "
                "(expected an agent holding none)"
            )
        self._begin()
        agent = self._pool.remove(agent_id)
        self._agent_tasks.pop(agent_id, None)
        self._levels.remove(agent.skills)
        self._emit(EventKind.agent_removed, agent=agent_id)
        if self._relaxes_continuously:
            self._agent_levels_changed(self._now)
        self._finish()
        return agent

    @_command
    def set_agent_state(
        self,
        agent_id: str,
        state: Presence | str,
        *,
        reason: str | None = None,
        until: float | None = None,
    ) -> Agent:
        """Set an agent offline, ready, not_ready (with ``reason``) or wrap_up (until ``until``)."""
        if type(agent_id) is not str:
            _check_id("agent_id", agent_id)
        if not isinstance(state, str) or state not in _PRESENCE_NAMES:
            raise _refusal("state", state, f"one of {sorted(_PRESENCE_NAMES)}")
        _check_text("reason", reason)
        if reason is not None and state != "not_ready":
            raise _refusal("reason", reason, "None: a reason code goes only with 'not_ready'")
        if until is not None:
            until = _number("until", until, "a finite time in seconds, or None")
            if state != "wrap_up":
                raise _refusal("until", until, "None: an end time goes only with 'wrap_up'")
        self._agent(agent_id)
        now = self._begin()
        agent = self._pool.set_presence(
            agent_id, state, now=now, reason=reason, wrap_up_until=until
        )
        if agent.presence is Presence.wrap_up and until is not None:
            self._timer(until, _AGENT_WRAP_UP_END, agent_id)
        self._emit(
            EventKind.agent_state_changed, agent=agent_id, state=agent.state.value, reason=reason
        )
        self._pending.append((False, agent_id))
        self._finish()
        return agent

    @_command
    def next_task(self, agent_id: str) -> Offer | None:
        """Pull: offer the agent the best task it may take now, or ``None``.

        iWD's "get next best task". Works in both dispatch modes; in push
        mode an available agent normally has its offers already.
        """
        if type(agent_id) is not str:
            _check_id("agent_id", agent_id)
        agent = self._agent(agent_id)
        now = self._begin()
        can_take = any(self._pool.can_take(agent, channel) for channel in agent.capacity)
        task = self._best_for(agent, now) if can_take else None
        offer = None if task is None else self._offer(task, agent, now, _BY_PULL)
        if task is not None and offer is None:
            # Assigned at once (auto-accept): the record of what was given,
            # kept by nobody.
            offer = Offer(task, agent, now, _INF)
        self._finish()
        return offer

    # ================================================================ views

    def explain(self, task_id: str) -> dict[str, Any]:
        """Why a task scores what it does now: JSON-ready terms, rules fired, age, due.

        ``age`` and ``time_to_due`` are wall seconds; ``calendar`` names the
        task's calendar (``None``: wall time), and a task with one also shows
        ``working_age`` and ``working_time_to_due`` in its working seconds.
        ``preferred_agents`` lists the agents the task waits for (``None``:
        anyone eligible) and ``preferred_until`` when that ends (``None``:
        not before it is taken); ``last_agent`` the agent it was last
        assigned to. ``routing`` says who could take the task and why its
        agent has it: ``strategy``, ``eligible`` (counts of admitted agents
        ``available``, ``busy``, ``away``), ``candidates`` (up to ten
        available agents with ``idle_since``, ``proficiency``, ``load``,
        ``cooling``), ``would_choose`` (a waiting task's agent if dispatch ran
        now; ``None`` for strategies asking would change) and ``decision``
        (for a held task: its agent's facts now and ``by``; the facts as they
        were when it was chosen are in its ``task_offered`` or
        ``task_assigned`` event). ``offers`` lists the live offers of an
        offered task (``agent``, ``time``, ``expires``; several with
        ``concurrent_offers``), empty otherwise. ``expires`` is the instant the task's
        ``time_to_live`` is up (``None``: no limit); it expires if it is
        waiting then. O(n) in agents; changes nothing.
        """
        task = self.get(task_id)
        now = max(self._read_clock(), self._now)
        explanation = explain_score(self._policy, task, now, rules=self._fired.get(task_id, ()))
        result: dict[str, Any] = explanation.to_dict()
        calendar = task.calendar
        result["calendar"] = self._calendar_name_of(task)
        if calendar is not None:
            # Both clocks: "age" and "time_to_due" are wall seconds.
            result["working_age"] = calendar.elapsed(task.created, now)
            result["working_time_to_due"] = (
                None if task.due is None else calendar.elapsed(now, task.due)
            )
        result["state"] = task.state.value
        if task.state is TaskState.queued:
            # The list's own score, evaluated without re-filing (a query must
            # not move the list's time ahead of the engine's commands).
            result["list_score"] = _as_segment(self._list.policy.segment(task, now)).at(now)
        holder = self._holder.get(task_id)
        result["agent"] = None if holder is None else holder.id
        result["offers"] = [
            {"agent": offer.agent.id, "time": offer.time, "expires": offer.expires}
            for offer in (self.offers_of(task_id) if task_id in self._offers else ())
        ]
        result["requires"] = None if task.requires is None else task.requires.source
        result["preferred_agents"] = None if task.prefer is None else list(task.prefer)
        result["preferred_until"] = self._prefer_until.get(task_id)
        result["last_agent"] = task.last_agent
        result["routing"] = self._why_agent(task, now, holder)
        queue = task.queue
        result["queue"] = None if queue is None else queue.name
        since = self._in_queue_since.get(task_id)
        result["in_queue_since"] = None if since is None else since[0]
        # When the queue's max_wait is up (None: no limit, or already read).
        result["queue_wait_ends"] = None if since is None or since[1] == _INF else since[1]
        step = self._in_step.get(task_id)
        flow = None if step is None or step[0].relaxation is not None else step
        result["workflow"] = None if flow is None else flow[0].name
        result["workflow_step"] = None if flow is None else flow[1]
        relaxing = None if step is None or flow is not None else step
        result["relaxation"] = None if relaxing is None else relaxing[0].relaxation
        result["relaxation_step"] = None if relaxing is None else relaxing[1]
        result["step_since"] = None if step is None else step[2]
        # When the step's time is up (None: no timeout, or the last relaxation step).
        result["step_ends"] = None if step is None or step[3] == _INF else step[3]
        # When time_to_live is up (None: no limit for its type, or not before the end of time).
        result["expires"] = self._expires_at.get(task_id)
        return result

    def queue_statistics(self) -> dict[str, dict[str, Any]]:
        """Per queue, what a supervisor reads: tasks waiting and the oldest wait,
        agents serving it (in all, available now), and counts since start.

        ``{name: {"waiting", "oldest_wait", "expected_wait", "mean_handle",
        "agents", "available", "entered", "overflowed_in", "overflowed_out",
        "limit_events", "max_length", "max_wait"}}``; ``oldest_wait`` is seconds
        in the queue of the task waiting there longest (``None`` when none
        waits); ``mean_handle`` the mean handle time (assignment to the end of
        wrap-up) of the last :data:`~valueroute.queues.HANDLE_TIMES_KEPT`
        tasks completed from the queue (``None`` before the first).

        ``expected_wait`` estimates how long a task arriving now would wait:
        0 when nothing waits and a serving agent is free; otherwise
        ``(waiting + 1) * mean_handle / serving`` for ``serving`` agents
        logged on who serve the queue: the task is taken at the
        ``(waiting + 1)``-th completion, and with every serving agent busy
        and handle times exponential, completions come ``mean_handle /
        serving`` apart. ``inf`` when no serving agent is logged on; ``None``
        when it cannot be estimated yet (no task completed from the queue).
        O(n + a·q) for n open tasks, a agents and q queues.
        """
        now = max(self._read_clock(), self._now)
        oldest: dict[str, float] = {}
        for task_id, (since, _) in self._in_queue_since.items():
            task = self._tasks[task_id]
            if task.state is TaskState.queued:
                name = task.queue.name
                oldest[name] = max(oldest.get(name, 0.0), now - since)
        result: dict[str, dict[str, Any]] = {}
        for name, queue in self._queues.items():
            serving = self._serving_agents(queue)
            result[name] = {
                "waiting": queue.waiting,
                "oldest_wait": oldest.get(name),
                "expected_wait": self._expected_wait(queue, serving),
                "mean_handle": queue.mean_handle(),
                "agents": len(serving),
                "available": sum(1 for agent in serving if agent.state is AgentState.ready),
                "entered": queue.entered,
                "overflowed_in": queue.overflowed_in,
                "overflowed_out": queue.overflowed_out,
                "limit_events": queue.limit_events,
                "max_length": queue.max_length,
                "max_wait": queue.max_wait,
            }
        return result

    def _roster_changed(self) -> bool:
        """Forget the serving and able tables if agents were added or removed since."""
        pool = self._pool
        key = (pool._next_order, len(pool._agents))
        if key == self._roster_key:
            return False
        self._roster_key = key
        self._serving.clear()
        self._able.clear()
        return True

    def _serving_agents(self, queue: Queue) -> list[Agent]:
        """The registered agents a queue admits, in any state. O(1) but after a
        change of the agents registered, then O(a)."""
        self._roster_changed()
        serving = self._serving.get(queue)
        if serving is None:
            serving = [
                agent
                for agent in self._pool
                if queue.admits(agent.skills, agent.profile.attributes, agent.profile.listed)
            ]
            self._serving[queue] = serving
        return serving

    def _expected_wait(self, queue: Queue, serving: list[Agent] | None = None) -> float | None:
        """The queue's expected wait for a task arriving now (see
        :meth:`queue_statistics`); ``serving``: its agents, when known. O(agents
        serving it)."""
        if serving is None:
            serving = self._serving_agents(queue)
        logged_on = [agent for agent in serving if agent.presence is not Presence.offline]
        if not logged_on:
            return _INF
        if queue.waiting == 0 and any(agent._indexed for agent in logged_on):
            return 0.0
        mean = queue.mean_handle()
        if mean is None:
            return None
        return (queue.waiting + 1) * mean / len(logged_on)

    def _why_agent(self, task: Task, now: float, holder: Agent | None) -> dict[str, Any]:
        """explain()'s "routing": who could take the task, who would or did, and why.

        O(n) in agents: a query for people, not for the routing loop.
        """
        group = task.group
        if group is None:
            # Not in the list now (offered, assigned, held): a stand-alone group
            # of the same requirements, for admission tests only.
            group = RequirementGroup(
                task.channel,
                tuple(sorted(task.skills.items())),
                -1,
                task.prefer,
                task.requires,
                task.queue,
            )
        pool = self._pool
        channel = task.channel
        available: list[Agent] = []
        busy = away = 0
        for agent in pool:
            if channel not in agent.capacity or (
                group.agents is not None and agent.id not in group.agents
            ):
                continue
            if not group.admits_agent(agent.skills, agent.profile.attributes, agent.profile.listed):
                continue
            if agent._indexed and pool.can_take(agent, channel):
                available.append(agent)
            elif agent.state is AgentState.offline or agent.state is AgentState.not_ready:
                away += 1
            else:
                busy += 1
        available.sort(key=_idle_order)
        if group.agents is not None:
            rank = {agent_id: i for i, agent_id in enumerate(group.agents)}
            available.sort(key=lambda agent: rank[agent.id])

        def facts(agent: Agent) -> dict[str, Any]:
            levels = [agent.skills.get(name, 0.0) for name, _ in group.skills]
            return {
                "agent": agent.id,
                "idle_since": agent.idle_since,
                "proficiency": math.fsum(levels) / len(levels) if levels else 0.0,
                "load": agent.load_ratio(),
                "cooling": self._cooling_now(task.id, agent.id, now),
            }

        routing: dict[str, Any] = {
            "strategy": self._chooser_label(group),
            "eligible": {
                "available": len(available),
                "busy": busy,
                "away": away,
            },
            "candidates": [facts(agent) for agent in available[:_EXPLAINED_CANDIDATES]],
            "would_choose": None,
            "decision": None,
        }
        if holder is not None:
            if task.decision is not None:
                routing["decision"] = {**facts(holder), "by": task.decision}
        elif task.state is TaskState.queued and task.group is not None and available:
            routing["would_choose"] = self._would_choose(task, now, available)
        return routing

    def _would_choose(self, task: Task, now: float, available: list[Agent]) -> str | None:
        """The agent dispatch would offer ``task`` to now, if the strategy can be
        asked without changing it (round robin moves, a random draw advances its
        generator, a plain callable is the host's: those are not asked)."""
        group = task.group
        assert group is not None
        if group.agents is not None:
            agent: Agent | None = next(
                (a for a in available if not self._cooling_now(task.id, a.id, now)), None
            )
            return None if agent is None else agent.id
        selection = self._selection
        choose = self._choose
        if group.queue is not None and group.queue.selection is not None:
            selection = group.queue.selection
            choose = selection.choose
        if selection is not None and type(selection) not in _PURE_SELECTIONS:
            return None
        assert choose is not None
        agent = choose(self._pool, group, task=task, now=now)
        if agent is not None and self._cooling_now(task.id, agent.id, now):
            others = [a for a in available if not self._cooling_now(task.id, a.id, now)]
            agent = min(others, key=_idle_order, default=None)
        return None if agent is None else agent.id

    def _cooling_now(self, task_id: str, agent_id: str, now: float) -> bool:
        """:meth:`_cooling` as a query: whether the agent refused the task too
        recently to be offered it again at ``now``, changing nothing."""
        agents = self._cooldown.get(task_id)
        if not agents:
            return False
        until = agents.get(agent_id)
        return until is not None and until > now

    def statistics(self) -> EngineStatistics:
        """Real-time counters: waiting per type with the oldest age, and per-type event counts.

        A dict (``time``, ``open``, ``waiting``, ``oldest_age``, ``offered``:
        tasks in state offered, ``live_offers``: their live offers, more than
        ``offered`` only with ``concurrent_offers``, ``by_type``, ``agents``)
        with :meth:`EngineStatistics.to_pandas` for tables of task types and
        agents.
        """
        now = max(self._read_clock(), self._now)
        waiting = self._list.counts("type")
        oldest: dict[str, float] = {}
        for task in self._list:
            age = now - task.created
            if age > oldest.get(task.type, -_INF):
                oldest[task.type] = age
        per_type: dict[str, dict[str, int]] = {}
        for (what, kind), count in self._stat_items():
            per_type.setdefault(kind, {})[what] = count
        return EngineStatistics(
            time=now,
            open=len(self._tasks),
            waiting={str(k): v for k, v in waiting.items()},
            oldest_age=oldest,
            offered=len(self._offers),
            live_offers=len(self._offers) + sum(map(len, self._more.values())),
            by_type=per_type,
            agents={
                agent.id: {
                    "state": agent.state.value,
                    "load": dict(agent.load),
                    "occupancy": agent.occupancy(now),
                    "tasks_handled": agent.tasks_handled,
                }
                for agent in self._pool
            },
        )

    # ================================================================ identity

    def digest(self) -> str:
        """A SHA-256 over the engine's whole observable state. O(n log n).

        Two engines with equal digests hold the same tasks in the same states
        and places (with their fields, versions, ages and submission order),
        the same agents (presence, load, idle clocks, statistics), the same
        pending offers, deferrals, cool-downs and timers, and the same event
        and statistics counters: they make the same decisions from here on.
        Recovery and replay compare digests.
        """
        hasher = hashlib.sha256()

        def feed(*parts: object) -> None:
            hasher.update(repr(parts).encode())
            hasher.update(b"\n")

        feed("now", self._now, "events", self._event_seq, "next_seq", self._list.next_seq_peek())
        for task in sorted(self._tasks.values(), key=lambda t: t.seq):
            holder = self._holder.get(task.id)
            offer = self._offers.get(task.id)
            feed(
                "task",
                task.id,
                task.seq,
                task.state.value,
                task.type,
                task.channel,
                task.value,
                task.priority,
                task.due,
                task.created,
                sorted(task.skills.items()),
                task.department,
                task.process,
                sorted(task.attributes.items()),
                task.version,
                repr(task.ramp),
                task.prefer,
                task.last_agent,
                self._prefer_until.get(task.id),
                None if task.requires is None else task.requires.source,
                self._calendar_name_of(task),
                None if holder is None else holder.id,
                None if offer is None else (offer.time, offer.expires),
                self._deferred_until.get(task.id),
                self._wrap_up_until.get(task.id),
                self._expires_at.get(task.id),
                task.id in self._breached,
                task.id in self._warned,
                self._relaxer.state(task.id),
                self._offer_count.get(task.id, 0),
                self._fired.get(task.id),
            )
            more = self._more.get(task.id)
            if more is not None:
                feed("offers", [(o.agent.id, o.time, o.expires) for o in more])
            if task.queue is not None:
                feed("queue", task.queue.name, self._in_queue_since[task.id])
            step = self._in_step.get(task.id)
            if step is not None:
                if step[0].relaxation is None:
                    feed("workflow", step[0].name, *step[1:])
                else:
                    feed("relaxing", step[0].relaxation, *step[1:5], sorted(step[5].items()))
        for name, queue in self._queues.items():
            feed(
                "queue_counts",
                name,
                queue.waiting,
                queue.entered,
                queue.overflowed_in,
                queue.overflowed_out,
                queue.limit_events,
            )
        for agent in sorted(self._pool, key=lambda a: a.order):
            feed(
                "agent",
                agent.id,
                agent.order,
                agent.auto_accept,
                agent.profile.attributes_key,
                agent.presence.value,
                agent.reason,
                agent.wrap_up_until,
                agent.idle_since,
                sorted(agent.load.items()),
                sorted(agent.skills.items()),
                sorted(agent.capacity.items()),
                agent.tasks_handled,
                agent.talk_time(self._now),
                agent.logged_in_time(self._now),
            )
        cooling = ((t, a, u) for t, agents in self._cooldown.items() for a, u in agents.items())
        for task_id, agent_id, until in sorted(cooling):
            if until > self._now:
                feed("cooldown", task_id, agent_id, until)
        # The moments timers are due, each once: a timer set again for the same
        # moment (a step check re-armed after a hold, while the copy from
        # before waits unread) fires once in effect, and next_wakeup() drops
        # copies it finds invalid on the way, so counting copies would make
        # the digest depend on queries, not only on commands.
        valid = sorted(
            {
                (at, kind, key)
                for at, _, kind, key in self._timers
                if self._timer_valid(at, kind, key)
            }
        )
        feed("timers", valid)
        feed("stats", sorted(self._stat_items()))
        feed("closed", [(k, v.state.value, v.fingerprint) for k, v in self._closed.items()])
        return hasher.hexdigest()

    # ================================================================ invariants

    def _check(self) -> None:
        """Assert every invariant across the engine, task list and pool. O(n)."""
        self._list._check()
        self._pool._check()
        queued = {t.id for t in self._list}
        for task_id, task in self._tasks.items():
            assert task.id == task_id
            assert not task.state.is_terminal
            in_list = task_id in queued
            assert in_list == (task.state is TaskState.queued), task_id
            held = task_id in self._holder
            assert held == (
                task.state in (TaskState.offered, TaskState.assigned, TaskState.wrap_up)
            ), task_id
            assert (task_id in self._offers) == (task.state is TaskState.offered), task_id
            if task.state is TaskState.offered:
                offers = self.offers_of(task_id)
                assert len(offers) <= self._concurrent_for(task), (task_id, offers)
                assert offers[0].agent is self._holder[task_id], task_id
                agents = {id(offer.agent) for offer in offers}
                assert len(agents) == len(offers), f"task {task_id} offered twice to one agent"
                for offer in offers:
                    assert offer.task is task
                    assert self._agent_tasks[offer.agent.id].get(task_id) is task
            assert (task_id in self._deferred_until) == (task.state is TaskState.deferred)
            assert (task_id in self._wrap_up_until) == (task.state is TaskState.wrap_up)
            counted = self._offer_count.get(task_id, 0)
            assert counted >= 0, (task_id, counted)
            if self._max_offers is not None:
                assert counted <= self._max_offers, f"task {task_id} offered {counted} times"
                if task.state in (TaskState.queued, TaskState.held, TaskState.deferred):
                    # Refused at the limit, it would have ended rejected.
                    assert counted < self._max_offers, (task_id, counted)
            if held:
                assert task_id in self._agent_tasks[self._holder[task_id].id]
        assert queued <= set(self._tasks)
        armed = {(at, kind, key) for at, _, kind, key in self._timers}
        for task_id, task in self._tasks.items():
            if task.due is None:
                continue
            # A due time not yet breached has its breach armed, and its
            # warning when that is still ahead.
            if task_id not in self._breached:
                assert (task.due, _SLA, task_id) in armed, f"no breach timer for {task_id}"
            if self._sla_warning is not None and task_id not in self._warned:
                warning = self._warning_at(task)
                if warning is not None and warning > self._now:
                    assert (warning, _SLA_WARNING, task_id) in armed, task_id
        assert set(self._in_step) <= set(self._tasks), "workflow steps of closed tasks kept"
        for task_id, step in self._in_step.items():
            flow = step[0]
            if flow.relaxation is None:
                continue
            task = self._tasks[task_id]
            # One plan per task; the step's end counts from the task's
            # creation; a waiting task requires what its steps taken say.
            assert not self._relaxer.tracked(task_id), task_id
            ends = flow.steps[step[1]].ends_after
            if self._relax_working:
                # Worked out in the calendar the task had then (a rule may
                # have given it another since).
                assert step[3] > step[2] or step[3] == _INF, task_id
            else:
                assert step[3] == (_INF if ends is None else task.created + ends), task_id
            if task.state is TaskState.queued:
                assert dict(task.skills) == flow.lowered(step[5], step[1]), task_id
        relaxer = self._relaxer
        for task_id in relaxer.continuous_ids():
            assert task_id in self._tasks, f"continuous relaxation of closed task {task_id} kept"
            decaying = self._tasks[task_id]
            if decaying.state is TaskState.queued and relaxer.next_time(task_id) > self._now:
                # No change is due: a waiting task requires what its decay says now.
                expected = relaxer.requirements_at(decaying, self._now)
                assert dict(decaying.skills) == expected, (task_id, expected)
        for queue in self._queues.values():
            heap = queue.oldest
            if heap is None:
                continue
            # Every task waiting in the queue has an entry with its time there,
            # and the heap's order holds.
            noted = {entry[2] for entry in heap if self._waits_in(entry, queue)}
            waiting = {
                task_id
                for task_id in self._in_queue_since
                if self._tasks[task_id].queue is queue
                and self._tasks[task_id].state is TaskState.queued
            }
            assert noted == waiting, (queue.name, noted ^ waiting)
            assert all(heap[(i - 1) // 2] <= heap[i] for i in range(1, len(heap))), queue.name
        if not self._roster_changed():
            for queue, serving in self._serving.items():
                assert serving == [
                    agent
                    for agent in self._pool
                    if queue.admits(agent.skills, agent.profile.attributes, agent.profile.listed)
                ], queue.name
            for group, able in self._able.items():
                assert able == self._able_for(group), group
        assert set(self._more) <= set(self._offers), "further offers of a task with none"
        assert all(self._more.values()), "empty list of further offers kept"
        assert set(self._cooldown) <= set(self._tasks), "cool-downs of closed tasks kept"
        assert all(self._cooldown.values()), "empty cool-down table kept"
        for agent_id, ids in self._agent_tasks.items():
            agent = self._pool.get(agent_id)
            for task_id, held_task in ids.items():
                if task_id in self._more:
                    # One of the task's concurrent offers is to this agent.
                    assert any(o.agent is agent for o in self.offers_of(task_id)), task_id
                else:
                    assert self._holder[task_id] is agent
                assert self._tasks[task_id] is held_task
            load: Counter[str] = Counter(self._tasks[i].channel for i in ids)
            assert {c: n for c, n in agent.load.items() if n} == dict(load), agent_id


def _per_type(
    name: str, setting: object, default: float | None = None
) -> Callable[[str], float | None]:
    """A lookup by task type: one number for all, or a table with ``"*"`` as the fallback."""
    if isinstance(setting, Mapping):
        table: dict[str, float] = {}
        for key, value in setting.items():
            if not isinstance(key, str):
                raise _refusal(f"{name} key", key, "a task type, a string ('*' for all others)")
            table[key] = _seconds(f"{name}[{_shown(key)}]", value, minimum=0.0, strict=False)
        fallback = table.get("*", default)
        return lambda task_type: table.get(task_type, fallback)
    expected = "a finite number of seconds >= 0, or a mapping of task types to seconds"
    seconds = _number(name, setting, expected)
    if seconds < 0:
        raise _refusal(name, setting, expected)
    return lambda _type: seconds


def _relaxation_plan(name: str, plan: object) -> tuple[RelaxationStep, ...] | ContinuousRelaxation:
    expected = "RelaxationStep items or a ContinuousRelaxation"
    if isinstance(plan, ContinuousRelaxation):
        return plan
    if isinstance(plan, str | bytes | Mapping) or not isinstance(plan, Iterable):
        raise _refusal(name, plan, expected)
    steps = tuple(plan)
    for step in steps:
        if not isinstance(step, RelaxationStep):
            raise _refusal(name, step, expected)
    return steps


def _check_working_relaxation(
    plans: tuple[RelaxationStep, ...]
    | ContinuousRelaxation
    | dict[str, tuple[RelaxationStep, ...] | ContinuousRelaxation],
) -> None:
    """Refuse what ``relaxation_clock="working"`` cannot count: a continuous plan
    (its decay runs in wall time), or a step later than a calendar counts."""
    table = plans if isinstance(plans, dict) else {"*": plans}
    for key, plan in table.items():
        if isinstance(plan, ContinuousRelaxation):
            raise _refusal(
                "relaxation_clock",
                "working",
                f"stepwise plans only with 'working' (the plan for {_shown(key)} is a "
                "ContinuousRelaxation, whose decay counts wall time), or 'wall'",
            )
        for step in plan:
            if step.after > MAX_SPAN_SECONDS:
                raise _refusal(
                    "relaxation",
                    step.after,
                    f"steps at most {MAX_SPAN_SECONDS:.0f} seconds of working time after "
                    "creation, what a business calendar counts, with relaxation_clock='working'",
                )


def _relaxation_setting(
    relaxation: object,
) -> (
    tuple[RelaxationStep, ...]
    | ContinuousRelaxation
    | dict[str, tuple[RelaxationStep, ...] | ContinuousRelaxation]
):
    """The engine's ``relaxation`` option with its types checked (its order is
    checked by :func:`~valueroute.relaxation.relaxation_table`)."""
    if isinstance(relaxation, Mapping):
        table: dict[str, tuple[RelaxationStep, ...] | ContinuousRelaxation] = {}
        for key, plan in relaxation.items():
            if not isinstance(key, str):
                raise _refusal("relaxation key", key, "a task type, a string ('*' for all others)")
            table[key] = _relaxation_plan(f"relaxation[{_shown(key)}]", plan)
        return table
    return _relaxation_plan("relaxation", relaxation)


def _channel_names(name: str, channels: object) -> frozenset[str]:
    expected = "channel names: an iterable of non-empty strings, not one string"
    if isinstance(channels, str | bytes | Mapping) or not isinstance(channels, Iterable):
        raise _refusal(name, channels, expected)
    names: list[str] = []
    for channel in channels:
        if not isinstance(channel, str) or not channel:
            raise _refusal(name, channel, expected)
        names.append(channel)
    return frozenset(names)


def _calendar_table(calendars: object) -> dict[str, BusinessCalendar]:
    """The engine's calendars checked: a mapping of names (text) to BusinessCalendar."""
    if calendars is None:
        return {}
    if not isinstance(calendars, Mapping):
        raise _refusal("calendars", calendars, "a mapping of names to BusinessCalendar, or None")
    table: dict[str, BusinessCalendar] = {}
    for name, calendar in calendars.items():
        if not isinstance(name, str) or not name or not _is_text(name):
            raise _refusal("calendars", name, "calendar names as non-empty text")
        if not isinstance(calendar, BusinessCalendar):
            raise _refusal(
                f"calendars[{_shown(name)}]", calendar, "a valueroute.calendar.BusinessCalendar"
            )
        table[name] = calendar
    return table


def _check_calendar_instant(name: str, value: float | None) -> None:
    """Refuse an instant a calendar does not answer for (a task with a calendar)."""
    if value is not None and not MIN_INSTANT <= value <= MAX_INSTANT:
        raise _refusal(
            name,
            value,
            f"an instant from {MIN_INSTANT:g} to {MAX_INSTANT:g} seconds for a task with a "
            "calendar (about the years 40 to 9890)",
        )


def _due_of(spec: TaskSpec, calendar: BusinessCalendar | None, now: float) -> float | None:
    """The due time of a submission: ``spec.due``, or ``due_in`` after ``now``."""
    due_in = spec.due_in
    if due_in is None:
        return spec.due
    if calendar is None:
        due = now + due_in
    else:
        due = calendar.add(now, due_in)
    if not -MAX_SECONDS <= due <= MAX_SECONDS:
        raise _refusal("due_in", due_in, f"a due time at most {MAX_SECONDS:g} seconds")
    return due


def _check_rule_routes(
    rules: object, queues: Mapping[str, Queue], workflows: Mapping[str, Workflow]
) -> None:
    """Refuse compiled rules naming a queue or a workflow the engine does not have."""
    for field, named, known in (
        ("queue", getattr(rules, "queues_named", ()), queues),
        ("workflow", getattr(rules, "workflows_named", ()), workflows),
    ):
        unknown = sorted(name for name in named if name not in known)
        if unknown:
            raise _refusal(
                "rules",
                rules,
                f"rules naming the engine's {field}s: the rules name {field} "
                f"{_shown(unknown[0])}, the engine has {_shown(sorted(known)[:20])}",
            )


def _check_rule_calendars(rules: object, calendars: Mapping[str, BusinessCalendar]) -> None:
    """Refuse compiled rules naming a calendar the engine does not have (the same object)."""
    named = getattr(rules, "calendars", None)
    if not isinstance(named, Mapping):
        return
    for name, calendar in named.items():
        if calendars.get(name) is not calendar:
            raise _refusal(
                "rules",
                rules,
                f"rules whose calendars are the engine's: the rules name calendar {_shown(name)}, "
                f"the engine has {_shown(sorted(calendars))} (load the rules with "
                "load_rules(..., calendars=) given the engine's calendars)",
            )
