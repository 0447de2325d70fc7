"""Snapshots of an engine's whole state, as plain JSON-ready data.

:func:`snapshot` reads an :class:`~valueroute.engine.Engine` and returns a
dict of lists, strings and numbers; :func:`restore` fills a freshly built
engine (same configuration) from it so that ``digest()`` is equal and every
later decision is the same. The journal writes snapshots so that recovery
replays only the commands recorded after one.

This module reads and writes the engine's private attributes, the task
list's index and the agent pool's records: it is the one place outside those
modules that knows their layout. The tests check snapshot → restore → digest
equality over random command sequences, so a change to the engine that this
module misses fails a test instead of a recovery.

What is kept
------------
Engine: time, event and timer counters, the timer heap as it is, every open
task with all its fields (state, version, ramp, ages, submission order), the
closed tasks still remembered, offers, holders, deferrals, wrap-ups, time to
live, SLA breaches, relaxation progress and original requirements, refusal
cool-downs, offer counts, rule baselines and fired rules, statistics.
Task list: time, next submission number, requirement groups in creation
order, and each queued task's index entry (base, slope, breakpoint).
Agent pool: time, counters, skill profiles in creation order, and every
agent's presence, load, idle clock and statistics. The state of a
``RoundRobin`` or ``RandomAgent`` strategy is kept too.

Idempotent resubmission compares a new spec with the one a task was
submitted with, through a hash that changes between processes; a snapshot
therefore keeps each remembered task's original spec (pass ``specs``, or let
:func:`snapshot` rebuild it from the task when the task still matches it).

Non-finite floats (``inf`` for "never", ``-inf`` for "no time yet") are
written as the strings ``"inf"`` and ``"-inf"`` so the result is strict JSON.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from valueroute.agents import (
    Agent,
    AgentPool,
    Presence,
    RandomAgent,
    RoundRobin,
    _Profile,
    attributes_key,
)
from valueroute.engine import _PREFERRED_TAG, _REQUIRES_TAG, Engine, Fingerprint, Offer
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.expressions import compile_expression
from valueroute.models import AgentSpec, TaskSpec
from valueroute.rules import Baseline
from valueroute.scoring import Ramp
from valueroute.task import Task, TaskState
from valueroute.tasklist import TaskList, _bucket_key

__all__ = ["SNAPSHOT_VERSION", "SnapshotContentError", "configure", "restore", "snapshot"]

SNAPSHOT_VERSION = 1
"""Version of the snapshot layout; :func:`restore` refuses any other."""

_INF = math.inf


class SnapshotContentError(InvalidInputError):
    """A snapshot whose content is not a consistent engine state (missing or
    wrong-typed fields, references to unknown tasks or agents, a task in two
    places or in none). Raised by :func:`restore`; the engine it was filling
    must be thrown away."""


def _num(x: float | None) -> float | str | None:
    """A float as strict JSON: non-finite values become strings."""
    if x is None or math.isfinite(x):
        return x
    return "inf" if x > 0 else ("-inf" if x < 0 else "nan")


def _unnum(x: float | str | None) -> float | None:
    if x is None:
        return None
    return float(x)


def _ramp(ramp: object | None) -> dict[str, Any] | None:
    if ramp is None:
        return None
    if not isinstance(ramp, Ramp):
        raise InvalidInputError(
            f"task.ramp: got {type(ramp).__name__} (expected a valueroute.scoring.Ramp or None)"
        )
    return dataclasses.asdict(ramp)


def _unramp(data: Mapping[str, Any] | None) -> Ramp | None:
    return None if data is None else Ramp(**data)


def _task(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "seq": task.seq,
        "created": task.created,
        "type": task.type,
        "channel": task.channel,
        "value": task.value,
        "priority": task.priority,
        "due": task.due,
        "skills": dict(task.skills),
        "department": task.department,
        "process": task.process,
        "attributes": dict(task.attributes),
        "state": task.state.value,
        "version": task.version,
        "ramp": _ramp(task.ramp),
        "prefer": None if task.prefer is None else list(task.prefer),
        "last_agent": task.last_agent,
        "requires": None if task.requires is None else task.requires.source,
    }


# The fields of a task record that come from its TaskSpec (all but created).
_SPEC_FIELDS = (
    "id",
    "type",
    "channel",
    "value",
    "priority",
    "due",
    "skills",
    "department",
    "process",
    "attributes",
)


def _untask(data: Mapping[str, Any]) -> Task:
    task = Task(
        id=data["id"],
        seq=data["seq"],
        created=data["created"],
        type=data["type"],
        channel=data["channel"],
        value=data["value"],
        priority=data["priority"],
        due=data["due"],
        skills=dict(data["skills"]),
        department=data["department"],
        process=data["process"],
        attributes=dict(data["attributes"]) or None,
    )
    task.state = TaskState(data["state"])
    task.version = data["version"]
    task.ramp = _unramp(data["ramp"])
    prefer = data.get("prefer")
    task.prefer = None if prefer is None else tuple(prefer)
    task.last_agent = data.get("last_agent")
    requires = data.get("requires")
    task.requires = None if requires is None else compile_expression(requires)
    return task


def _baseline(baseline: Baseline, engine: Engine) -> dict[str, Any]:
    record = {
        "type": baseline.type,
        "department": baseline.department,
        "process": baseline.process,
        "skills": dict(baseline.skills),
        "priority": baseline.priority,
        "value": baseline.value,
        "due": baseline.due,
        "ramp": _ramp(baseline.ramp),
    }
    if baseline.calendar is not None:
        name = engine._calendar_names.get(id(baseline.calendar))
        if name is None:
            raise InvalidInputError(
                f"rule state: calendar {baseline.calendar!r} is not one of the engine's "
                "calendars (expected the calendars the engine was built with)"
            )
        record["calendar"] = name
    return record


def _unbaseline(data: Mapping[str, Any], engine: Engine) -> Baseline:
    return Baseline(
        type=data["type"],
        department=data["department"],
        process=data["process"],
        skills=dict(data["skills"]),
        priority=data["priority"],
        value=data["value"],
        due=data["due"],
        ramp=_unramp(data["ramp"]),
        calendar=_calendar_of(engine, data),
    )


# A fingerprint's length when the spec named a calendar or a due_in (see Engine._fingerprint).
_FINGERPRINT_WITH_CALENDAR = 12


def _name_calendar(engine: Engine, task: Task, record: dict[str, Any]) -> None:
    """Record the name of the task's calendar in the engine's table (absent: wall time)."""
    if task.calendar is not None:
        name = engine._calendar_name_of(task)
        if name is None:
            raise InvalidInputError(
                f"task {task.id!r}: its calendar {task.calendar!r} is not one of the engine's "
                "calendars (expected the calendars the engine was built with)"
            )
        record["calendar"] = name


def _clock_name(engine: Engine, task: Task, clock: Any) -> str:
    """The name in the engine's table of the working clock ``task``'s score runs on."""
    name = engine._calendar_names.get(id(clock))
    if name is None:
        raise InvalidInputError(
            f"task {task.id!r}: its score runs on the clock {clock!r}, which is not one of the "
            "engine's calendars (expected a policy whose working clocks are the engine's "
            "calendars)"
        )
    return name


def _calendar_of(engine: Engine, record: Mapping[str, Any]) -> Any:
    """The calendar object a snapshot's task names, from the engine's table."""
    name = record.get("calendar")
    if name is None:
        return None
    calendar = engine.calendars.get(name) if isinstance(name, str) else None
    if calendar is None:
        raise SnapshotContentError(
            f"snapshot content: task {_bounded(record.get('id'))} names the calendar "
            f"{_bounded(name)}, which the engine does not have (expected an engine built with "
            "the same calendars as the one the snapshot was taken from)"
        )
    return calendar


def _spec_of(engine: Engine, task: Task, fingerprint: Fingerprint, specs: Mapping[str, Any]) -> Any:
    """The spec a task was submitted with, as JSON, checked against its fingerprint."""
    given = specs.get(task.id)
    if given is not None:
        spec = given if isinstance(given, TaskSpec) else TaskSpec.model_validate(given)
        candidates = [spec]
    else:
        # Without rules, updates or relaxation a task still carries its spec's
        # fields; ``created`` was either given or filled in at submission.
        record = _task(task)
        fields = {name: record[name] for name in _SPEC_FIELDS}
        # Tagged fields last: a requirement expression, then preferred agents.
        fingerprint_rest = fingerprint
        last = fingerprint_rest[-1]
        if type(last) is tuple and len(last) == 2 and last[0] == _REQUIRES_TAG:
            fields["requires"] = last[1]
            fingerprint_rest = fingerprint_rest[:-1]
            last = fingerprint_rest[-1]
        if type(last) is tuple and len(last) == 4 and last[0] == _PREFERRED_TAG:
            _, agents, seconds, related = last
            fields.update(preferred_agents=list(agents), preferred_for=seconds, related_to=related)
            fingerprint_rest = fingerprint_rest[:-1]
        if len(fingerprint_rest) == _FINGERPRINT_WITH_CALENDAR:
            # Submitted with a calendar or due_in: both are the fingerprint's last fields.
            fields["calendar"], fields["due_in"] = fingerprint_rest[-2], fingerprint_rest[-1]
            if fields["due_in"] is not None:
                fields["due"] = None
        candidates = [
            TaskSpec.model_validate({**fields, "created": created})
            for created in (None, task.created)
        ]
    for spec in candidates:
        if engine._fingerprint(spec) == fingerprint:
            return spec.model_dump(mode="json")
    raise InvalidInputError(
        f"specs[{task.id!r}]: got {'no spec' if given is None else 'a spec'} that does not "
        "match the one the task was submitted with (expected the original TaskSpec of every "
        "open or remembered task whose fields changed since submission)"
    )


def _config(engine: Engine) -> dict[str, Any]:
    """Settings a snapshot must be restored under (those that can be compared)."""
    return {
        "dispatch": engine._dispatch_mode,
        "offer_timeout": _num(engine._offer_timeout),
        "auto_accept": engine._auto_accept,
        "auto_accept_channels": sorted(engine._auto_channels),
        "reject_cooldown": engine._reject_cooldown,
        "timeout_sets_not_ready": engine._timeout_sets_not_ready,
        "max_offers": engine._max_offers,
        "max_wait": _num(engine._max_wait),
        "sla_warning": _num(engine._sla_warning),
        "closed_memory": engine._closed_memory,
        "exclusive_channels": sorted(engine._pool.exclusive_channels),
        "policy": repr(engine._policy),
        "rules": None
        if engine._rules is None
        else [getattr(engine._rules, "name", None), getattr(engine._rules, "version", None)],
        "selection": None if engine._selection is None else type(engine._selection).__name__,
        # By name and zone: the calendars' hours are configuration, as the policy's are.
        "calendars": [[name, repr(engine._calendars[name])] for name in sorted(engine._calendars)],
        "calendar": engine._calendar_name,
    }


def _selection_state(engine: Engine) -> dict[str, Any] | None:
    selection = engine._selection
    if isinstance(selection, RoundRobin):
        return {"kind": "round_robin", "last_order": selection.last_order}
    if isinstance(selection, RandomAgent):
        return {"kind": "random", "state": selection.rng.bit_generator.state}
    return None


def snapshot(engine: Engine, *, specs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The engine's whole state as JSON-ready data. O(n) for n tasks, agents and timers.

    ``specs`` maps task ids to the :class:`~valueroute.models.TaskSpec` (or its
    JSON form) each task was submitted with; needed only for tasks whose fields
    changed since (rules, updates, relaxation, transfers), else
    :class:`~valueroute.errors.InvalidInputError` names the task. Call it
    between commands (never from a subscriber).
    """
    if engine._pending or engine._outbox:
        raise InvalidInputError(
            "engine: got an engine in the middle of a command (expected one between commands)"
        )
    specs = {} if specs is None else specs
    tasklist = engine._list
    if tasklist._undo:
        # A view that looked ahead re-filed pieces for its answer only: the
        # state to keep is the one at the engine's own time.
        tasklist._restore()
    pool = engine._pool
    tasks = []
    for task in engine._tasks.values():
        record = _task(task)
        _name_calendar(engine, task, record)
        if task.state is TaskState.queued:
            assert task.entry is not None
            record["index"] = [task.entry[0], task.slope, _num(task.until)]
            reading = task.bucket.reading
            if reading is not None:
                record["index"].append(_clock_name(engine, task, reading.clock))
        record["spec"] = _spec_of(engine, task, task.fingerprint, specs)
        tasks.append(record)
    closed = []
    for task in engine._closed.values():
        record = _task(task)
        _name_calendar(engine, task, record)
        record["spec"] = _spec_of(engine, task, task.fingerprint, specs)
        closed.append(record)
    agents = []
    for agent in pool._agents.values():
        agents.append(
            {
                "id": agent.id,
                "skills": dict(agent.skills),
                "capacity": dict(agent._capacity),
                "department": agent.department,
                "team": agent.team,
                "auto_accept": agent.auto_accept,
                "attributes": dict(agent.attributes),
                "order": agent.order,
                "presence": agent.presence.value,
                "reason": agent.reason,
                "wrap_up_until": agent.wrap_up_until,
                "idle_since": _num(agent.idle_since),
                "tasks_handled": agent.tasks_handled,
                "load": dict(agent._load),
                "talk": agent._talk,
                "holding_since": agent._holding_since,
                "logged_in": agent._logged_in,
                "online_since": agent._online_since,
            }
        )
    return {
        "format": "valueroute-snapshot",
        "version": SNAPSHOT_VERSION,
        "config": _config(engine),
        "engine": {
            "now": _num(engine._now),
            "event_seq": engine._event_seq,
            "timer_seq": engine._timer_seq,
            "timers": [list(timer) for timer in engine._timers],
            "tasks": tasks,
            "closed": closed,
            "offers": [
                [task_id, offer.agent.id, offer.time, _num(offer.expires)]
                for task_id, offer in engine._offers.items()
            ],
            "holder": {task_id: agent.id for task_id, agent in engine._holder.items()},
            "agent_tasks": {a: sorted(ids) for a, ids in engine._agent_tasks.items()},
            "deferred_until": dict(engine._deferred_until),
            "prefer_until": dict(engine._prefer_until),
            "wrap_up_until": dict(engine._wrap_up_until),
            "expires_at": dict(engine._expires_at),
            "breached": sorted(engine._breached),
            "warned": sorted(engine._warned),
            "relaxation": engine._relaxer.dump(),
            "cooldown": [
                [t, a, until]
                for t, agents in engine._cooldown.items()
                for a, until in agents.items()
            ],
            "offer_count": dict(engine._offer_count),
            "rule_state": {
                task_id: [_baseline(baseline, engine), _num(next_change)]
                for task_id, (baseline, next_change) in engine._rule_state.items()
            },
            "fired": {task_id: list(names) for task_id, names in engine._fired.items()},
            "stats": [[what, kind, n] for (what, kind), n in engine._stat_items()],
        },
        "tasklist": {
            "now": _num(tasklist._now),
            "next_seq": tasklist._next_seq,
            "groups": [
                [g.channel, [list(s) for s in g.skills]]
                + (
                    []
                    if g.agents is None and g.requires is None
                    else [
                        None if g.agents is None else list(g.agents),
                        None if g.requires is None else g.requires.source,
                    ]
                )
                for g in tasklist._group_list
            ],
            "order": list(tasklist._tasks),
        },
        "pool": {
            "now": _num(pool._now),
            "next_order": pool._next_order,
            "next_profile": pool._next_profile,
            "profiles": [
                [p.serial, [list(s) for s in p.key]]
                + (
                    [[[name, value] for name, value in p.attributes.items()]]
                    if p.attributes
                    else []
                )
                for p in pool._profiles.values()
            ],
            "agents": agents,
        },
        "selection": _selection_state(engine),
    }


def restore(data: Mapping[str, Any], engine: Engine) -> None:
    """Fill a freshly built engine from :func:`snapshot` output. O(n log n).

    The engine must come from the same configuration as the one snapshotted
    (checked for the settings that can be compared: dispatch, timeouts,
    policy, rules, agent selection, ...) and must not have run a command.
    Raises :class:`~valueroute.errors.InvalidInputError` naming what differs,
    and :class:`SnapshotContentError` (a subclass) when the content itself is
    not a consistent engine state: missing or wrong-typed fields, or a broken
    invariant (a queued task marked completed, a held task no agent holds...).
    Either way the engine must be thrown away.
    """
    if data.get("format") != "valueroute-snapshot" or data.get("version") != SNAPSHOT_VERSION:
        raise InvalidInputError(
            f"snapshot: got format {data.get('format')!r} version {data.get('version')!r} "
            f"(expected 'valueroute-snapshot' version {SNAPSHOT_VERSION})"
        )
    if engine._event_seq or engine._tasks or len(engine._pool) or engine._now != -_INF:
        raise InvalidInputError(
            "engine: got an engine that has already run commands (expected a freshly built one)"
        )
    expected = data["config"]
    actual = _config(engine)
    for name, value in expected.items():
        if actual.get(name) != value:
            raise InvalidInputError(
                f"engine configuration {name}: got {actual.get(name)!r} "
                f"(expected {value!r}, as in the snapshot)"
            )

    try:
        _fill(data, engine)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ValueRouteError) as exc:
        raise SnapshotContentError(
            f"snapshot content: {type(exc).__name__} {_bounded(exc)} while restoring "
            "(expected the layout snapshot() writes)"
        ) from None
    problem = _inconsistency(engine)
    if problem is not None:
        raise SnapshotContentError(
            f"snapshot content: {problem} (expected a consistent engine state)"
        )


def _bounded(value: object) -> str:
    text = repr(str(value))
    return text if len(text) <= 120 else text[:117] + "..."


def _fill(data: Mapping[str, Any], engine: Engine) -> None:
    pool = _restore_pool(data["pool"], engine._pool.exclusive_channels)
    state = data["engine"]
    tasks: dict[str, Task] = {}
    for record in state["tasks"]:
        task = _untask(record)
        task.calendar = _calendar_of(engine, record)
        task.fingerprint = engine._fingerprint(TaskSpec.model_validate(record["spec"]))
        tasks[task.id] = task
    closed: OrderedDict[str, Task] = OrderedDict()
    for record in state["closed"]:
        task = _untask(record)
        task.calendar = _calendar_of(engine, record)
        task.fingerprint = engine._fingerprint(TaskSpec.model_validate(record["spec"]))
        closed[task.id] = task
    tasklist = _restore_tasklist(
        data["tasklist"], engine._list.policy, state["tasks"], tasks, engine.calendars
    )

    engine._list = tasklist
    engine._pool = pool
    if any(agent.auto_accept for agent in pool):
        engine._auto_any = True
    engine._now = float(state["now"])
    engine._event_seq = state["event_seq"]
    engine._timer_seq = state["timer_seq"]
    engine._timers = [(float(at), seq, kind, key) for at, seq, kind, key in state["timers"]]
    heapq.heapify(engine._timers)
    engine._tasks = tasks
    engine._closed = closed
    engine._offers = {
        task_id: Offer(tasks[task_id], pool.get(agent_id), time, float(expires))
        for task_id, agent_id, time, expires in state["offers"]
    }
    engine._holder = {task_id: pool.get(agent_id) for task_id, agent_id in state["holder"].items()}
    engine._agent_tasks = {a: {i: tasks[i] for i in ids} for a, ids in state["agent_tasks"].items()}
    engine._deferred_until = dict(state["deferred_until"])
    engine._prefer_until = dict(state.get("prefer_until", {}))
    engine._wrap_up_until = dict(state["wrap_up_until"])
    engine._expires_at = dict(state["expires_at"])
    engine._breached = set(state["breached"])
    engine._warned = set(state.get("warned", ()))
    engine._relaxer.load(state["relaxation"], engine._tasks)
    for agent in engine._pool:
        engine._levels.add(agent.skills)
    engine._cooldown = {}
    for t, a, until in state["cooldown"]:
        engine._cooldown.setdefault(t, {})[a] = until
    engine._offer_count = dict(state["offer_count"])
    engine._rule_state = {
        task_id: (_unbaseline(baseline, engine), float(next_change))
        for task_id, (baseline, next_change) in state["rule_state"].items()
    }
    engine._fired = {task_id: tuple(names) for task_id, names in state["fired"].items()}
    engine._load_stats(state["stats"])
    engine._pending = deque()
    engine._outbox = []
    _restore_selection(data["selection"], engine)


def _inconsistency(engine: Engine) -> str | None:
    """The first broken invariant of a restored engine, or ``None``. O(n).

    Checks what a snapshot with a matching checksum but wrong content can
    break: every open task in exactly the place its state says, every held
    task's agent holding it, agents' loads matching their tasks, closed tasks
    closed. Then the engine's own ``_check()`` (its assertions).
    """
    for task in (*engine._tasks.values(), *engine._closed.values()):
        for name, value, kind in (
            ("id", task.id, str),
            ("seq", task.seq, int),
            ("version", task.version, int),
            ("priority", task.priority, int),
            ("created", task.created, (int, float)),
            ("value", task.value, (int, float)),
        ):
            if not isinstance(value, kind) or isinstance(value, bool):
                return f"task {_bounded(task.id)} has {name} {_bounded(value)} of the wrong type"
    queued = set(engine._list._tasks)
    held_states = (TaskState.offered, TaskState.assigned, TaskState.wrap_up)
    for task_id, task in engine._tasks.items():
        state = task.state
        where = f"task {_bounded(task_id)} ({state.value})"
        if task.id != task_id:
            return f"{where} is filed under another id"
        if state.is_terminal:
            return f"{where} is closed yet listed as open"
        if (task_id in queued) != (state is TaskState.queued):
            return f"{where} {'is' if task_id in queued else 'is not'} in the task list"
        if (task_id in engine._holder) != (state in held_states):
            return f"{where} {'has' if task_id in engine._holder else 'has no'} agent"
        if (task_id in engine._offers) != (state is TaskState.offered):
            return f"{where} {'has' if task_id in engine._offers else 'has no'} offer"
        if (task_id in engine._deferred_until) != (state is TaskState.deferred):
            return f"{where} does not match the deferrals"
        if (task_id in engine._wrap_up_until) != (state is TaskState.wrap_up):
            return f"{where} does not match the wrap-ups"
        holder = engine._holder.get(task_id)
        if holder is not None and engine._agent_tasks.get(holder.id, {}).get(task_id) is not task:
            return f"{where} is not among the tasks of its agent {_bounded(holder.id)}"
    if not queued <= set(engine._tasks):
        return "the task list holds a task that is not open"
    for agent_id, held in engine._agent_tasks.items():
        if agent_id not in engine._pool._agents:
            return f"agent {_bounded(agent_id)} holds tasks but is not in the pool"
        agent = engine._pool._agents[agent_id]
        for task_id in held:
            holder = engine._holder.get(task_id)
            if holder is None or holder.id != agent_id:
                return f"agent {_bounded(agent_id)} lists task {_bounded(task_id)} it does not hold"
        load: dict[str, int] = {}
        for task in held.values():
            load[task.channel] = load.get(task.channel, 0) + 1
        if {c: n for c, n in agent.load.items() if n} != load:
            return f"agent {_bounded(agent_id)} has load {dict(agent.load)} for tasks {load}"
    for task_id, task in engine._closed.items():
        if not task.state.is_terminal:
            return f"closed task {_bounded(task_id)} has state {task.state.value}"
    try:
        engine._check()
    except AssertionError as exc:
        return f"the engine's invariants fail ({_bounded(exc)})"
    return None


def _restore_tasklist(
    data: Mapping[str, Any],
    policy: Any,
    records: list[Mapping[str, Any]],
    tasks: Mapping[str, Task],
    calendars: Mapping[str, Any],
) -> TaskList:
    tasklist = TaskList(policy)
    for channel, skills, *restriction in data["groups"]:
        agents, requires = restriction if restriction else (None, None)
        tasklist.group_for(
            channel,
            dict(skills),
            None if agents is None else tuple(agents),
            None if requires is None else compile_expression(requires),
        )
    index = {record["id"]: record["index"] for record in records if "index" in record}
    for task_id in data["order"]:
        task = tasks[task_id]
        neg_base, slope, until, *named = index[task_id]
        clock = None
        if named:
            clock = calendars.get(named[0]) if isinstance(named[0], str) else None
            if clock is None:
                raise SnapshotContentError(
                    f"snapshot content: task {_bounded(task_id)} is scored on the clock "
                    f"{_bounded(named[0])}, which the engine does not have (expected an engine "
                    "built with the same calendars as the one the snapshot was taken from)"
                )
        group = tasklist.group_for(task.channel, task.skills, task.prefer, task.requires)
        task.group = group
        task.skills = group.requirements
        bucket = group.buckets.get(_bucket_key(slope, clock))
        if bucket is None:
            bucket = tasklist._new_bucket(group, slope, clock)
        entry = (neg_base, task.created, task.seq)
        bucket.heap.append(entry)
        task.entry = entry
        task.bucket = bucket
        task.slope = slope
        task.until = float(until)
        if task.until != _INF:
            tasklist._breakpoints.append((task.until, task.seq))
        tasklist._tasks[task_id] = task
        tasklist._by_seq[task.seq] = task
        tasklist._count(task, 1)
    for group in tasklist._group_list:
        for bucket in group.buckets.values():
            heapq.heapify(bucket.heap)
    heapq.heapify(tasklist._breakpoints)
    tasklist._now = float(data["now"])
    tasklist._next_seq = data["next_seq"]
    return tasklist


def _restore_pool(data: Mapping[str, Any], exclusive_channels: frozenset[str]) -> AgentPool:
    pool = AgentPool(exclusive_channels=exclusive_channels)
    for serial, key, *attributes in data["profiles"]:
        profile_key = tuple((name, level) for name, level in key)
        given = dict(attributes[0]) if attributes else {}
        pool._file_profile(_Profile(profile_key, serial, attributes_key(given)))
    for record in data["agents"]:
        spec = AgentSpec(
            id=record["id"],
            skills=record["skills"],
            capacity=record["capacity"],
            department=record["department"],
            team=record["team"],
            auto_accept=record.get("auto_accept"),
            attributes=record.get("attributes", {}),
        )
        profile = pool._profiles[
            (tuple(sorted(spec.skills.items())), attributes_key(spec.attributes))
        ]
        agent = Agent(spec, order=record["order"], profile=profile, now=0.0)
        agent.presence = Presence(record["presence"])
        agent.reason = record["reason"]
        agent.wrap_up_until = record["wrap_up_until"]
        agent.idle_since = float(record["idle_since"])
        agent.tasks_handled = record["tasks_handled"]
        agent._load.update(record["load"])
        agent.held = sum(agent._load.values())
        agent._exclusive_held = sum(
            n for channel, n in agent._load.items() if channel in exclusive_channels
        )
        agent._talk = record["talk"]
        agent._holding_since = record["holding_since"]
        agent._logged_in = record["logged_in"]
        agent._online_since = record["online_since"]
        profile.agents += 1
        pool._agents[agent.id] = agent
        pool._by_order[agent.order] = agent
        pool._refile(agent)
    pool._now = float(data["now"])
    pool._next_order = data["next_order"]
    pool._next_profile = data["next_profile"]
    return pool


def _restore_selection(data: Mapping[str, Any] | None, engine: Engine) -> None:
    selection = engine._selection
    if data is None:
        return
    if data["kind"] == "round_robin" and isinstance(selection, RoundRobin):
        selection.last_order = data["last_order"]
    elif data["kind"] == "random" and isinstance(selection, RandomAgent):
        selection.rng.bit_generator.state = data["state"]
    else:
        raise InvalidInputError(
            f"agent selection: got {selection!r} (expected a {data['kind']} strategy, "
            "as in the snapshot)"
        )


def configure(engine: Engine, *, policy: Any, rules: Any, replace_rules: bool) -> None:
    """Put a policy (``None``: keep the engine's) and rules in a fresh engine, with no event.

    What ``set_policy`` and ``set_rules`` leave behind on an engine with no
    task, minus the clock reading and event: the snapshot restores those.
    """
    if engine._event_seq or engine._tasks or len(engine._pool):
        raise InvalidInputError(
            "engine: got an engine that has already run commands (expected a freshly built one)"
        )
    if policy is not None:
        engine._policy = policy
        engine._list = TaskList(engine._guarded(policy))
    if replace_rules:
        engine._rules = rules
