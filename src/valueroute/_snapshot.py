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
closed tasks still remembered, offers (a task's further concurrent offers
under ``more_offers``, written only when there are some), holders, deferrals, wrap-ups, time to
live, SLA breaches, relaxation progress and original requirements (a
stepwise plan's as its workflow step, under ``relaxing``; older snapshots
kept it with the continuous plans' and are read as the same step), refusal
cool-downs, offer counts, rule baselines and fired rules, statistics.
Task list: time, next submission number, requirement groups in creation
order, and each queued task's index entry (base, slope, breakpoint).
Agent pool: time, counters, skill profiles in creation order, and every
agent's presence, load, idle clock and statistics. The state of a
``RoundRobin`` or ``RandomAgent`` strategy is kept too.

Layout of a task (version 2)
----------------------------
One JSON object per task. ``id``, ``seq``, ``created`` and ``state`` are
always there; every other field only when it differs from a new task's
default (``type`` ``"task"``, ``channel`` ``"voice"``, ``value`` 0, no due
time, no skills...), so a snapshot of a million plain tasks is a few dozen
bytes a task. Idempotent resubmission compares a new spec with the content a
task was submitted with (its fingerprint, see ``Engine._fingerprint``); a
task whose fields still say what was submitted writes nothing more, others
write ``submitted``: the fingerprint's length and the positions where it
differs from the one the task's fields give. Version 1 snapshots (every
field, and the whole submitted spec as ``spec``) are still read.

Trust and checks
----------------
A snapshot comes from :func:`snapshot` behind a checksum, so :func:`restore`
builds records straight from it instead of validating each task as a
:class:`~valueroute.models.TaskSpec` again. It still refuses, with
:class:`SnapshotContentError`, what a checksum that matches hand-edited or
mis-written content can hold: every field's type is checked as it is read,
and one pass afterwards checks what ties the pieces together (each open task
in the one place its state says, holders, loads, offers, deferrals, wrap-ups
and cool-downs naming open tasks and agents that exist, distinct submission
numbers, breakpoints ahead of the list's time). The task list and its heaps
are built in bulk (each heap made once), so the structure's own invariants
hold by construction.

Non-finite floats (``inf`` for "never", ``-inf`` for "no time yet") are
written as the strings ``"inf"`` and ``"-inf"`` so the result is strict JSON.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import heapq
import json
import math
import operator
import sys
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
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
from valueroute.engine import _RELAX, _STEP_END, Engine, Offer
from valueroute.errors import InvalidInputError, ValueRouteError, bounded_repr
from valueroute.expressions import compile_expression
from valueroute.models import AgentSpec, TaskSpec
from valueroute.relaxation import ContinuousRelaxation
from valueroute.rules import Baseline
from valueroute.scoring import Ramp
from valueroute.task import _NO_ATTRIBUTES, _NO_SKILLS, RequirementGroup, Task, TaskState
from valueroute.tasklist import TaskList, _Bucket
from valueroute.workflows import Workflow

__all__ = [
    "SNAPSHOT_VERSION",
    "SnapshotContentError",
    "collector_paused",
    "configure",
    "loads",
    "restore",
    "snapshot",
]

SNAPSHOT_VERSION = 2
"""Version of the snapshot layout :func:`snapshot` writes."""

_READABLE_VERSIONS = (1, SNAPSHOT_VERSION)

_INF = math.inf


class SnapshotContentError(InvalidInputError):
    """A snapshot whose content is not a consistent engine state (missing or
    wrong-typed fields, references to unknown tasks or agents, a task in two
    places or in none). Raised by :func:`restore`; the engine it was filling
    must be thrown away."""


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a snapshot's objects are made
    (the journal pauses it for the whole of a recovery: restore and replay).

    Reading a million tasks makes millions of objects, none of them garbage;
    each collection on the way walks those made so far again, which made
    parsing the JSON alone three to four times slower. Reference counting
    still frees what is dropped; the collector is enabled again on the way out
    (unless it was off already).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            # Everything made meanwhile sits in the youngest generation: the
            # first allocation after enabling would walk it all, and twice more
            # on its way to the oldest. Freezing and unfreezing moves it there
            # at once (a list splice), without counting it towards the next
            # full collection: what a restore makes is long-lived. Skipped
            # when the host froze objects itself: unfreezing would undo that.
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def loads(text: str) -> Any:
    """Parse a snapshot's JSON text (with the garbage collector paused). O(size)."""
    with collector_paused():
        return json.loads(text)


def _num(x: float | None) -> float | str | None:
    """A float as strict JSON: non-finite values become strings."""
    if x is None or math.isfinite(x):
        return x
    return "inf" if x > 0 else ("-inf" if x < 0 else "nan")


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


# ---------------------------------------------------------------------- tasks out

Fingerprint = tuple[Any, ...]


def _plain_fingerprint(task: Task, skills: tuple[tuple[str, float], ...]) -> Fingerprint:
    """The fingerprint a task's own fields give: what it was submitted with when
    nothing changed it since and it named no creation time, calendar, due_in,
    preferred agents or requirement expression. ``skills``: its requirements,
    sorted (a group's ``skills`` when it has one, shared).

    Only the reference the ``submitted`` difference is taken against: should the
    engine's fingerprint gain or move a field, the difference grows, and the
    restored fingerprint stays exact.
    """
    attributes = task.attributes
    return (
        task.type,
        task.channel,
        task.value,
        task.priority,
        task.due,
        None,
        skills,
        task.department,
        task.process,
        tuple(sorted(attributes.items())) if attributes else None,
    )


def _same(a: object, b: object) -> bool:
    """Equal and of the same types throughout (``1 == 1.0 == True`` are not the same)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is tuple:
        assert isinstance(b, tuple)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float:
        assert isinstance(b, float)
        # -0.0 == 0.0 but they print (and digest) differently; nan != nan.
        return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)
    return a == b


def _encode(value: object) -> Any:
    """A fingerprint's field as strict JSON: tuples as lists, non-finite floats tagged."""
    if type(value) is tuple:
        return [_encode(item) for item in value]
    if type(value) is float and not math.isfinite(value):
        return {"float": repr(value)}
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise InvalidInputError(
        f"task fingerprint: got {bounded_repr(value)} of type {type(value).__name__} "
        "(expected text, numbers, booleans, None and tuples of them)"
    )


def _decode(value: Any) -> Any:
    if type(value) is list:
        return tuple(_decode(item) for item in value)
    if type(value) is dict:
        (tag, text), *rest = value.items()
        if tag != "float" or rest or text not in ("inf", "-inf", "nan"):
            raise SnapshotContentError(
                f"snapshot content: a submitted field is {bounded_repr(value)} (expected "
                '{"float": "inf"}, "-inf" or "nan" for a non-finite number)'
            )
        return float(text)
    return value


def _difference(fingerprint: Fingerprint, plain: Fingerprint) -> list[Any] | None:
    """``None`` when ``fingerprint`` is ``plain``, else ``[length, [position, field]...]``."""
    # Usually the very objects (the spec's value is the task's): one C-level pass.
    if (
        len(fingerprint) == len(plain)
        and fingerprint == plain
        and (
            all(map(operator.is_, fingerprint, plain))
            or all(_same(mine, theirs) for mine, theirs in zip(fingerprint, plain, strict=True))
        )
    ):
        return None
    changed: list[Any] = [len(fingerprint)]
    for position, field in enumerate(fingerprint):
        if position >= len(plain) or not _same(field, plain[position]):
            changed.append([position, _encode(field)])
    return changed


def _task(task: Task, engine: Engine, skills: tuple[tuple[str, float], ...]) -> dict[str, Any]:
    """A task's record: defaults left out, the submitted content as a difference."""
    record: dict[str, Any] = {
        "id": task.id,
        "seq": task.seq,
        "created": task.created,
        "state": task.state.value,
    }
    if task.type != "task":
        record["type"] = task.type
    if task.channel != "voice":
        record["channel"] = task.channel
    if task.value or type(task.value) is not float or math.copysign(1.0, task.value) < 0:
        record["value"] = task.value
    if task.priority != 0 or type(task.priority) is not int:
        record["priority"] = task.priority
    if task.due is not None:
        record["due"] = task.due
    if task.skills:
        record["skills"] = dict(task.skills)
    if task.department is not None:
        record["department"] = task.department
    if task.process is not None:
        record["process"] = task.process
    if task.attributes:
        record["attributes"] = dict(task.attributes)
    if task.version:
        record["version"] = task.version
    if task.ramp is not None:
        record["ramp"] = _ramp(task.ramp)
    if task.prefer is not None:
        record["prefer"] = list(task.prefer)
    if task.last_agent is not None:
        record["last_agent"] = task.last_agent
    if task.requires is not None:
        record["requires"] = task.requires.source
    if task.queue is not None:
        record["queue"] = task.queue.name
    if task.calendar is not None:
        name = engine._calendar_name_of(task)
        if name is None:
            raise InvalidInputError(
                f"task {task.id!r}: its calendar {task.calendar!r} is not one of the engine's "
                "calendars (expected the calendars the engine was built with)"
            )
        record["calendar"] = name
    fingerprint = task.fingerprint
    if type(fingerprint) is not tuple:
        raise InvalidInputError(
            f"task {task.id!r}: got fingerprint {bounded_repr(fingerprint)} (expected the tuple "
            "the engine records at submission)"
        )
    changed = _difference(fingerprint, _plain_fingerprint(task, skills))
    if changed is not None:
        record["submitted"] = changed
    return record


# ---------------------------------------------------------------------- tasks in

_STATES = {state.value: state for state in TaskState}
_QUEUED = TaskState.queued
_HELD = frozenset((TaskState.offered, TaskState.assigned, TaskState.wrap_up))
_new_task = Task.__new__
# A task's slots that its snapshot record carries under the same name.
_RECORDED_SLOTS = (
    "id",
    "seq",
    "created",
    "state",
    "type",
    "channel",
    "value",
    "priority",
    "due",
    "skills",
    "department",
    "process",
    "attributes",
    "version",
    "ramp",
    "prefer",
    "last_agent",
    "requires",
    "queue",
    "calendar",
)
# The slots _read_task sets (the recorded ones, and those it derives); any
# other a Task has gets the value a new Task has.
_READ_SLOTS = frozenset(
    (*_RECORDED_SLOTS, "fingerprint", "group", "bucket", "entry", "slope", "until")
)


def _unread_slots() -> tuple[tuple[str, Any], ...]:
    """Slots of :class:`Task` this module does not know, with a new task's values."""
    prototype = Task(id="prototype", seq=0, created=0.0)
    return tuple(
        (name, getattr(prototype, name)) for name in Task.__slots__ if name not in _READ_SLOTS
    )


_UNREAD_SLOTS = _unread_slots()
_intern = sys.intern
_ATTRIBUTE_TYPES = frozenset((str, int, float, bool, type(None)))
# Every field a task's record may have (version 1 wrote all but ``submitted``,
# and ``spec`` instead).
_FIELDS = frozenset((*_RECORDED_SLOTS, "index", "submitted", "spec"))


def _wrong(record: Mapping[str, Any], field: str, value: object, expected: str) -> Exception:
    return SnapshotContentError(
        f"snapshot content: task {_bounded(record.get('id'))} field {field}: got "
        f"{bounded_repr(value)} (expected {expected})"
    )


def _text(record: Mapping[str, Any], field: str, default: str | None) -> str | None:
    value = record.get(field, default)
    if value is None or type(value) is str:
        return value
    raise _wrong(record, field, value, "text" if default is not None else "text or null")


def _number(record: Mapping[str, Any], field: str, value: object) -> Any:
    if (type(value) is float and value - value == 0.0) or type(value) is int:
        return value
    raise _wrong(record, field, value, "a finite number")


def _read_task(
    record: Mapping[str, Any], engine: Engine, expressions: dict[str, Any], version: int
) -> Task:
    """A task record from its snapshot record, every field's type checked. O(fields)."""
    if type(record) is not dict:
        raise SnapshotContentError(
            f"snapshot content: a task is {bounded_repr(record)} (expected an object)"
        )
    task = _new_task(Task)
    get = record.get
    task_id = record["id"]
    if type(task_id) is not str or not task_id:
        raise _wrong(record, "id", task_id, "non-empty text")
    task.id = task_id
    seq = record["seq"]
    if type(seq) is not int or seq < 0:
        raise _wrong(record, "seq", seq, "an integer >= 0")
    task.seq = seq
    created = record["created"]
    task.created = (
        created
        if type(created) is float and created - created == 0.0
        else _number(record, "created", created)
    )
    state = _STATES.get(record["state"])
    if state is None:
        raise _wrong(record, "state", record["state"], f"one of {sorted(_STATES)}")
    task.state = state
    # Fields left out when at their defaults; ``known`` counts those present,
    # so that a record with nothing else skips the rarely used ones.
    known = 4
    kind = get("type")
    if kind is None:
        kind = "task"
    else:
        known += 1
    channel = get("channel")
    if channel is None:
        channel = "voice"
    else:
        known += 1
    if type(kind) is not str or type(channel) is not str or not kind or not channel:
        raise _wrong(record, "type and channel", (kind, channel), "non-empty text")
    task.type = _intern(kind)
    task.channel = _intern(channel)
    value = get("value")
    if value is None:
        task.value = 0.0
    else:
        known += 1
        task.value = (
            value
            if type(value) is float and value - value == 0.0
            else _number(record, "value", value)
        )
    priority = get("priority")
    if priority is None:
        task.priority = 0
    elif type(priority) is int:
        known += 1
        task.priority = priority
    else:
        raise _wrong(record, "priority", priority, "an integer")
    due = get("due")
    if due is None:
        task.due = None
    else:
        known += 1
        task.due = _number(record, "due", due)
    skills = get("skills")
    if skills is None:
        task.skills = _NO_SKILLS
    elif type(skills) is dict:
        known += 1
        task.skills = skills
    else:
        raise _wrong(record, "skills", skills, "an object of skill names to levels")
    task.fingerprint = None
    task.group = None
    task.bucket = None
    task.entry = None
    task.slope = 0.0
    task.until = _INF
    for name, default in _UNREAD_SLOTS:
        setattr(task, name, default)
    if "index" in record:
        known += 1
    if "submitted" in record:
        known += 1
    if len(record) == known:
        task.department = task.process = task.last_agent = None
        task.attributes = _NO_ATTRIBUTES
        task.version = 0
        task.ramp = task.prefer = task.requires = task.calendar = task.queue = None
    else:
        _read_other_fields(task, record, engine, expressions)
    return task


def _read_other_fields(
    task: Task, record: Mapping[str, Any], engine: Engine, expressions: dict[str, Any]
) -> None:
    """The fields a task rarely has, checked; unknown ones refused."""
    unknown = record.keys() - _FIELDS
    if unknown:
        raise _wrong(record, "names", sorted(unknown), f"only the fields {sorted(_FIELDS)}")
    get = record.get
    department = _text(record, "department", None)
    task.department = None if department is None else _intern(department)
    process = _text(record, "process", None)
    task.process = None if process is None else _intern(process)
    attributes = get("attributes")
    if attributes:
        if type(attributes) is not dict or not all(
            type(item) in _ATTRIBUTE_TYPES for item in attributes.values()
        ):
            raise _wrong(record, "attributes", attributes, "an object of names to values")
        task.attributes = attributes
    else:
        task.attributes = _NO_ATTRIBUTES
    version_number = get("version", 0)
    if type(version_number) is not int:
        raise _wrong(record, "version", version_number, "an integer")
    task.version = version_number
    ramp = get("ramp")
    task.ramp = None if ramp is None else _unramp(ramp)
    prefer = get("prefer")
    if prefer is None:
        task.prefer = None
    else:
        if type(prefer) is not list or not all(type(agent) is str for agent in prefer):
            raise _wrong(record, "prefer", prefer, "a list of agent ids")
        task.prefer = tuple(prefer)
    task.last_agent = _text(record, "last_agent", None)
    requires = _text(record, "requires", None)
    if requires is None:
        task.requires = None
    else:
        # One compiled expression per distinct text: groups compare them by identity.
        task.requires = expressions.get(requires)
        if task.requires is None:
            task.requires = expressions[requires] = compile_expression(requires)
    task.calendar = None if get("calendar") is None else _calendar_of(engine, record)
    queue = _text(record, "queue", None)
    task.queue = None if queue is None else _queue_of(engine, queue)


def _queue_of(engine: Engine, name: str) -> Any:
    queue = engine._queues.get(name)
    if queue is None:
        raise SnapshotContentError(
            f"snapshot content: the queue {_bounded(name)} is not one of the engine's queues "
            f"{_bounded(sorted(engine._queues))} (expected an engine built with the same queues "
            "as the one the snapshot was taken from)"
        )
    return queue


def _levels(record: Mapping[str, Any], task: Task) -> tuple[tuple[str, float], ...]:
    """The sorted requirements of a task outside the list, the levels checked."""
    levels = tuple(sorted(task.skills.items()))
    for _, level in levels:
        if (type(level) is not float and type(level) is not int) or level - level != 0.0:
            raise _wrong(record, "skills", dict(task.skills), "finite levels")
    return levels


def _fingerprint_of(
    task: Task,
    record: Mapping[str, Any],
    skills: tuple[tuple[str, float], ...],
    engine: Engine,
    version: int,
) -> Fingerprint:
    """The content ``task`` was submitted with, from its record's ``submitted`` (or ``spec``)."""
    if version == 1:
        return engine._fingerprint(TaskSpec.model_validate(record["spec"]))
    plain = _plain_fingerprint(task, skills)
    changed = record.get("submitted")
    if changed is None:
        return plain
    if type(changed) is not list or not changed or type(changed[0]) is not int:
        raise _wrong(record, "submitted", changed, "[length, [position, field]...]")
    length, *fields = changed
    fingerprint = list(plain[:length]) + [None] * (length - len(plain))
    for position, field in fields:
        if type(position) is not int or not 0 <= position < length:
            raise _wrong(record, "submitted", changed, f"positions from 0 to {length - 1}")
        fingerprint[position] = _decode(field)
    return tuple(fingerprint)


def _read_open_tasks(
    records: list[Any], engine: Engine, tasklist: TaskList, version: int
) -> tuple[dict[str, Task], dict[TaskState, int]]:
    """Open tasks by id, queued ones filed in ``tasklist``; and how many are in each state.

    One pass: each task is read, filed in its group's bucket (heaps made
    later, once) and given its fingerprint. O(n) for n tasks.
    """
    tasks: dict[str, Task] = {}
    states: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
    expressions: dict[str, Any] = {}
    calendars = engine.calendars
    list_now = tasklist._now
    breakpoints = tasklist._breakpoints
    by_seq = tasklist._by_seq
    plain_groups: dict[tuple[str, tuple[tuple[str, float], ...]], RequirementGroup] = {}
    count = tasklist._count
    new_bucket = tasklist._new_bucket
    for record in records:
        task = _read_task(record, engine, expressions, version)
        if task.id in tasks:
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task.id)} is listed twice among the open tasks"
            )
        tasks[task.id] = task
        state = task.state
        states[state] += 1
        index = record.get("index")
        if state is not _QUEUED:
            if index is not None:
                raise _wrong(record, "index", index, f"none for a task in state {state.value}")
            task.fingerprint = _fingerprint_of(task, record, _levels(record, task), engine, version)
            continue
        if type(index) is not list or not 3 <= len(index) <= 4:
            raise _wrong(record, "index", index, "[-base, slope, until] or [..., clock name]")
        neg_base, slope, until, *named = index
        if (
            (type(neg_base) is not float and type(neg_base) is not int)
            or neg_base - neg_base != 0.0
            or (type(slope) is not float and type(slope) is not int)
            or slope - slope != 0.0
        ):
            raise _wrong(record, "index", index, "a finite base and slope")
        until = float(until)
        if not (until > list_now or until == _INF or list_now == -_INF):
            raise _wrong(record, "index", index, f"a breakpoint after the list's time {list_now!r}")
        clock = None
        if named:
            clock = calendars.get(named[0]) if type(named[0]) is str else None
            if clock is None:
                raise SnapshotContentError(
                    f"snapshot content: task {_bounded(task.id)} is scored on the clock "
                    f"{_bounded(named[0])}, which the engine does not have (expected an engine "
                    "built with the same calendars as the one the snapshot was taken from)"
                )
        group: RequirementGroup | None
        if task.prefer is None and task.requires is None and task.queue is None:
            # Tasks of one group share their skills in one order: look the
            # group up by them as written, without sorting them again.
            written = (task.channel, tuple(task.skills.items()))
            group = plain_groups.get(written)
            if group is None:
                group = plain_groups[written] = _group(tasklist, task)
        else:
            group = _group(tasklist, task)
        task.group = group
        task.skills = group.requirements
        bucket: _Bucket | None = group.buckets.get(slope if clock is None else (slope, id(clock)))
        if bucket is None:
            bucket = new_bucket(group, slope, clock)
        entry = (neg_base, task.created, task.seq)
        bucket.heap.append(entry)
        task.entry = entry
        task.bucket = bucket
        task.slope = slope
        task.until = until
        if until != _INF:
            breakpoints.append((until, task.seq))
        by_seq[task.seq] = task
        count(task, 1)
        if version == 1 or "submitted" in record:
            task.fingerprint = _fingerprint_of(task, record, group.skills, engine, version)
        else:
            task.fingerprint = _plain_fingerprint(task, group.skills)
    return tasks, states


def _group(tasklist: TaskList, task: Task) -> RequirementGroup:
    """The task's group, with the key submit makes (a new one checked by group_of_key)."""
    key = RequirementGroup.make_key(
        task.channel, task.skills, task.prefer, task.requires, task.queue
    )
    group = tasklist.known_group(key)
    return tasklist.group_of_key(key) if group is None else group


def _read_closed_tasks(records: list[Any], engine: Engine, version: int) -> OrderedDict[str, Task]:
    closed: OrderedDict[str, Task] = OrderedDict()
    expressions: dict[str, Any] = {}
    for record in records:
        task = _read_task(record, engine, expressions, version)
        if not task.state.is_terminal:
            raise _wrong(record, "state", task.state.value, "a closed state for a closed task")
        if record.get("index") is not None:
            raise _wrong(record, "index", record["index"], "none for a closed task")
        if task.id in closed:
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task.id)} is listed twice among the closed tasks"
            )
        task.fingerprint = _fingerprint_of(task, record, _levels(record, task), engine, version)
        closed[task.id] = task
    return closed


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


def _config(engine: Engine) -> dict[str, Any]:
    """Settings a snapshot must be restored under (those that can be compared)."""
    config = _settings(engine)
    if engine._queues:
        # Only engines with queues write them: older snapshots compare as before.
        config["queues"] = [queue.spec.model_dump(mode="json") for queue in engine._queues.values()]
    if engine._workflows:
        config["workflows"] = [
            workflow.spec.model_dump(mode="json") for workflow in engine._workflows.values()
        ]
    return config


def _settings(engine: Engine) -> dict[str, Any]:
    settings = _base_settings(engine)
    if engine._concurrent != 1:
        # Written only when set: snapshots of engines without it compare as before.
        settings["concurrent_offers"] = engine._concurrent
    return settings


def _base_settings(engine: Engine) -> dict[str, Any]:
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

    ``specs`` is accepted for callers written for version 1 snapshots and not
    needed: each task's submitted content is its fingerprint, which the
    engine keeps exactly. Call it between commands (never from a subscriber).
    """
    del specs
    if engine._pending or engine._outbox:
        raise InvalidInputError(
            "engine: got an engine in the middle of a command (expected one between commands)"
        )
    tasklist = engine._list
    if tasklist._undo:
        # A view that looked ahead re-filed pieces for its answer only: the
        # state to keep is the one at the engine's own time.
        tasklist._restore()
    pool = engine._pool
    tasks = []
    for task in engine._tasks.values():
        if task.state is TaskState.queued:
            assert task.entry is not None
            assert task.group is not None
            record = _task(task, engine, task.group.skills)
            record["index"] = [task.entry[0], task.slope, _num(task.until)]
            reading = task.bucket.reading
            if reading is not None:
                record["index"].append(_clock_name(engine, task, reading.clock))
        else:
            record = _task(task, engine, tuple(sorted(task.skills.items())))
        tasks.append(record)
    closed = [
        _task(task, engine, tuple(sorted(task.skills.items()))) for task in engine._closed.values()
    ]
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
            **(
                {
                    "more_offers": [
                        [task_id, offer.agent.id, offer.time, _num(offer.expires)]
                        for task_id, more in engine._more.items()
                        for offer in more
                    ]
                }
                if engine._more
                else {}
            ),
            "holder": {task_id: agent.id for task_id, agent in engine._holder.items()},
            "agent_tasks": {a: sorted(ids) for a, ids in engine._agent_tasks.items()},
            "deferred_until": dict(engine._deferred_until),
            "prefer_until": dict(engine._prefer_until),
            "in_queue_since": {
                task_id: [since, _num(until)]
                for task_id, (since, until) in engine._in_queue_since.items()
            },
            "in_step": {
                task_id: [step[0].name, step[1], step[2], _num(step[3]), _num(step[4])]
                for task_id, step in engine._in_step.items()
                if step[0].relaxation is None
            },
            **(
                {
                    # Tasks following a stepwise relaxation plan: the plan's
                    # key, step, since, end, and the requirements it lowers.
                    "relaxing": {
                        task_id: [
                            step[0].relaxation,
                            step[1],
                            step[2],
                            _num(step[3]),
                            dict(step[5]),
                        ]
                        for task_id, step in engine._in_step.items()
                        if step[0].relaxation is not None
                    }
                }
                if engine._relaxes
                else {}
            ),
            "queue_counts": {
                name: [
                    queue.entered,
                    queue.overflowed_in,
                    queue.overflowed_out,
                    queue.limit_events,
                ]
                for name, queue in engine._queues.items()
                if queue.entered or queue.overflowed_in or queue.limit_events
            },
            "handle_times": {
                name: list(queue.handle_times)
                for name, queue in engine._queues.items()
                if queue.handle_times
            },
            "assigned_at": dict(engine._assigned_at),
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
                    if g.agents is None and g.requires is None and g.queue is None
                    else [
                        None if g.agents is None else list(g.agents),
                        None if g.requires is None else g.requires.source,
                    ]
                )
                + ([] if g.queue is None else [g.queue.name])
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
                    if p.attributes or p.listed
                    else []
                )
                # The queues listing its agents by id, only when some do.
                + ([sorted(p.listed)] if p.listed else [])
                for p in pool._profiles.values()
            ],
            "agents": agents,
        },
        "selection": _selection_state(engine),
    }


def restore(data: Mapping[str, Any], engine: Engine) -> None:
    """Fill a freshly built engine from :func:`snapshot` output. O(n).

    The engine must come from the same configuration as the one snapshotted
    (checked for the settings that can be compared: dispatch, timeouts,
    policy, rules, agent selection, ...) and must not have run a command.
    Raises :class:`~valueroute.errors.InvalidInputError` naming what differs,
    and :class:`SnapshotContentError` (a subclass) when the content itself is
    not a consistent engine state: missing or wrong-typed fields, or a broken
    invariant (a queued task marked completed, a held task no agent holds...).
    Either way the engine must be thrown away. Reads version 1 and 2 layouts.
    """
    layout = data.get("version")
    if data.get("format") != "valueroute-snapshot" or layout not in _READABLE_VERSIONS:
        raise InvalidInputError(
            f"snapshot: got format {bounded_repr(data.get('format'))} version "
            f"{bounded_repr(layout)} (expected 'valueroute-snapshot' version "
            f"{' or '.join(map(str, _READABLE_VERSIONS))})"
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
    if expected.get("concurrent_offers", 1) != engine._concurrent:
        raise InvalidInputError(
            f"engine configuration concurrent_offers: got {engine._concurrent!r} "
            f"(expected {expected.get('concurrent_offers', 1)!r}, as in the snapshot)"
        )

    with collector_paused():
        try:
            states = _fill(data, engine, layout)
            # Derived, not stored: the queues' oldest-wait heaps come from the tasks.
            engine._rebuild_oldest()
        except SnapshotContentError:
            raise
        except KeyError as exc:
            raise SnapshotContentError(
                f"snapshot content: nothing under {bounded_repr(exc.args[0] if exc.args else exc)} "
                "(expected a field, or a task or agent id, of the layout snapshot() writes)"
            ) from None
        except (
            IndexError,
            TypeError,
            ValueError,
            AttributeError,
            ValueRouteError,
        ) as exc:
            raise SnapshotContentError(
                f"snapshot content: {type(exc).__name__} {_bounded(exc)} while restoring "
                "(expected the layout snapshot() writes)"
            ) from None
        problem = _inconsistency(engine, states)
    if problem is not None:
        raise SnapshotContentError(
            f"snapshot content: {problem} (expected a consistent engine state)"
        )


def _bounded(value: object) -> str:
    text = repr(str(value))
    return text if len(text) <= 120 else text[:117] + "..."


def _fill(data: Mapping[str, Any], engine: Engine, version: int) -> dict[TaskState, int]:
    """Put the snapshot's state in ``engine``; returns how many open tasks are in each state."""
    pool = _restore_pool(data["pool"], engine._pool.exclusive_channels, engine._listed_in)
    state = data["engine"]
    tasklist, tasks, states = _restore_tasklist(
        data["tasklist"], engine._list.policy, state["tasks"], engine, version
    )
    closed = _read_closed_tasks(state["closed"], engine, version)

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
    engine._more = {}
    for task_id, agent_id, time, expires in state.get("more_offers", ()):
        if task_id not in engine._offers:
            raise SnapshotContentError(
                f"snapshot content: a further offer of task {_bounded(task_id)}, which has no "
                "first offer (expected further offers only of offered tasks)"
            )
        offer = Offer(tasks[task_id], pool.get(agent_id), time, float(expires))
        engine._more.setdefault(task_id, []).append(offer)
    engine._holder = {task_id: pool.get(agent_id) for task_id, agent_id in state["holder"].items()}
    engine._agent_tasks = {a: {i: tasks[i] for i in ids} for a, ids in state["agent_tasks"].items()}
    engine._deferred_until = dict(state["deferred_until"])
    engine._prefer_until = dict(state.get("prefer_until", {}))
    engine._in_queue_since = {
        task_id: (since, float(until))
        for task_id, (since, until) in state.get("in_queue_since", {}).items()
    }
    engine._in_step = {}
    for task_id, (name, index, since, deadline, check_at) in state.get("in_step", {}).items():
        workflow = engine._workflows.get(name)
        if workflow is None or type(index) is not int or not 0 <= index < len(workflow.steps):
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task_id)} is in step {_bounded(index)} of the "
                f"workflow {_bounded(name)}, which the engine does not have (expected an engine "
                "built with the same workflows as the one the snapshot was taken from)"
            )
        engine._in_step[task_id] = [workflow, index, since, float(deadline), float(check_at)]
    for name, counts in state.get("queue_counts", {}).items():
        queue = _queue_of(engine, name)
        queue.entered, queue.overflowed_in, queue.overflowed_out, queue.limit_events = counts
    for name, times in state.get("handle_times", {}).items():
        queue = _queue_of(engine, name)
        if not isinstance(times, list) or not all(
            type(t) is float and 0.0 <= t < math.inf for t in times
        ):
            raise SnapshotContentError(
                f"snapshot content: handle times of queue {_bounded(name)}: got {_bounded(times)} "
                "(expected a list of finite seconds >= 0)"
            )
        queue.handle_times.extend(times)
    engine._assigned_at = {}
    for task_id, since in state.get("assigned_at", {}).items():
        task = tasks.get(task_id)
        if task is None or task.queue is None or type(since) is not float:
            raise SnapshotContentError(
                f"snapshot content: assigned_at names {_bounded(task_id)} at {_bounded(since)} "
                "(expected open tasks in a queue, each with a time)"
            )
        engine._assigned_at[task_id] = since
    engine._wrap_up_until = dict(state["wrap_up_until"])
    engine._expires_at = dict(state["expires_at"])
    engine._breached = set(state["breached"])
    engine._warned = set(state.get("warned", ()))
    _restore_relaxation(state, engine)
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
    return states


def _restore_relaxation(state: Mapping[str, Any], engine: Engine) -> None:
    """Tasks under relaxation plans: continuous ones to the relaxer, stepwise
    ones to the workflow steps.

    Snapshots written before stepwise plans ran as workflows keep those tasks
    in the relaxer's state (original requirements, steps done, next change)
    and their timers as relaxation timers: they become the same task in the
    plan's step, whose end is the next change, with the same timers.
    """
    tasks = engine._tasks
    continuous: dict[str, ContinuousRelaxation] = {}
    stepwise: dict[str, Workflow] = {}
    dump = state["relaxation"]
    for task_id in dump["original"]:
        task = tasks[task_id]
        plan = engine._relaxation_of.get(task.type) or engine._relaxation_of.get("*")
        if isinstance(plan, ContinuousRelaxation):
            continuous[task_id] = plan
        elif plan is not None:
            stepwise[task_id] = plan
        else:
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task_id)} is relaxed, but the engine has no "
                f"relaxation plan for its type {_bounded(task.type)} (expected an engine built "
                "with the same relaxation as the one the snapshot was taken from)"
            )
    engine._relaxer.load(dump, tasks, continuous)
    for task_id, flow in stepwise.items():
        # The older layout: steps done and the next change (none once the
        # last step is taken; steps done unknown after new requirements, until
        # the task is relaxed again: the step the next change ends).
        task = tasks[task_id]
        steps = flow.steps
        next_at = float(dump["next"].get(task_id, _INF))
        done = dump.get("steps_done", {}).get(task_id)
        if done is None:
            # Every step but the last ends: the steps ended before the next change.
            ended = (task.created + float(step.ends_after or 0.0) for step in steps[:-1])
            done = sum(end < next_at for end in ended)
        if type(done) is not int or not 0 <= done < len(steps):
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task_id)} has taken {_bounded(done)} "
                f"relaxation steps (expected 0 to {len(steps) - 1})"
            )
        ends = steps[done].ends_after
        # Step i > 0 starts when step i - 1 ends (never the last: it has a next).
        since = task.created + float(steps[done - 1].ends_after or 0.0) if done else task.created
        engine._in_step[task_id] = [
            flow,
            done,
            since,
            _INF if ends is None else task.created + ends,
            _INF,
            dict(dump["original"][task_id]),
        ]
    if stepwise:
        engine._timers = [
            (at, seq, _STEP_END if kind == _RELAX and key in stepwise else kind, key)
            for at, seq, kind, key in engine._timers
        ]
    for task_id, (key, index, since, deadline, base) in state.get("relaxing", {}).items():
        plan = engine._relaxation_of.get(key)
        if (
            not isinstance(plan, Workflow)
            or task_id not in tasks
            or type(index) is not int
            or not 0 <= index < len(plan.steps)
        ):
            raise SnapshotContentError(
                f"snapshot content: task {_bounded(task_id)} is in step {_bounded(index)} of the "
                f"relaxation plan for {_bounded(key)}, which the engine does not have (expected "
                "an engine built with the same relaxation as the one the snapshot was taken from)"
            )
        where = f"snapshot content: relaxing task {_bounded(task_id)}"
        ends = plan.steps[index].ends_after
        if type(since) not in (int, float) or not since - since == 0.0:
            raise SnapshotContentError(f"{where}: step start {_bounded(since)} (expected a time)")
        if engine._relax_working:
            # Worked out in the calendar the task had then: a time after the
            # step's start, or none for the last step.
            found = _time_value(deadline)
            if found is None or (found != _INF if ends is None else not found > since):
                raise SnapshotContentError(
                    f"{where}: step end {_bounded(deadline)} (expected a time after the step's "
                    "start, or none for the plan's last step)"
                )
            end = found
        else:
            end = _INF if ends is None else tasks[task_id].created + ends
            if _time_value(deadline) != end:
                raise SnapshotContentError(
                    f"{where}: step end {_bounded(deadline)} (expected {end!r}: its created "
                    "time plus the step's end in the plan)"
                )
        if not isinstance(base, dict) or not all(
            isinstance(name, str) and type(level) in (int, float) and level - level == 0.0
            for name, level in base.items()
        ):
            raise SnapshotContentError(
                f"{where}: requirements {_bounded(base)} (expected skill names and levels)"
            )
        engine._in_step[task_id] = [
            plan,
            index,
            float(since),
            end,
            _INF,
            {name: float(level) for name, level in base.items()},
        ]


def _time_value(value: object) -> float | None:
    """A snapshot's time (``"inf"`` for none, as :func:`_num` writes it), or ``None``."""
    if value == "inf":
        return _INF
    if type(value) in (int, float):
        return float(value)  # type: ignore[arg-type]
    return None


def _inconsistency(engine: Engine, states: Mapping[TaskState, int]) -> str | None:
    """The first broken invariant of a restored engine, or ``None``. O(n), one pass.

    What the reading left unchecked and a snapshot whose checksum matches but
    whose content is wrong can break: each open task in exactly the places its
    state says (found by counting: each table names only tasks in its state,
    and holds as many as there are), held tasks among their agent's tasks,
    agents' loads matching their tasks, distinct submission numbers below the
    next one. The task list's own invariants (groups, buckets, heap order,
    counts, breakpoints) hold by construction of the bulk build; the agent
    pool's are asserted by its ``_check()``.
    """
    tasks = engine._tasks
    queued = engine._list._tasks
    held = sum(states[state] for state in _HELD)
    terminal = sum(n for state, n in states.items() if state.is_terminal)
    if terminal:
        return f"{terminal} closed task(s) listed as open"
    for table, name, wanted, count in (
        (queued, "the task list", (TaskState.queued,), states[TaskState.queued]),
        (engine._holder, "the holders", _HELD, held),
        (engine._offers, "the offers", (TaskState.offered,), states[TaskState.offered]),
        (
            engine._deferred_until,
            "the deferrals",
            (TaskState.deferred,),
            states[TaskState.deferred],
        ),
        (engine._wrap_up_until, "the wrap-ups", (TaskState.wrap_up,), states[TaskState.wrap_up]),
    ):
        if table is not queued:
            for task_id in table:
                task = tasks.get(task_id)
                if task is None or task.state not in wanted:
                    where = "not open" if task is None else f"{task.state.value}"
                    return f"{name} name task {_bounded(task_id)} ({where})"
        if len(table) != count:
            states_named = "/".join(state.value for state in wanted)
            return f"{name} hold {len(table)} task(s), {count} open task(s) are {states_named}"
    for task_id, offer in engine._offers.items():
        if engine._holder[task_id].id != offer.agent.id:
            return f"the offer of task {_bounded(task_id)} is not to its holder"
    for task_id, more in engine._more.items():
        offers = [engine._offers[task_id], *more]
        if len(offers) > engine._concurrent:
            return (
                f"task {_bounded(task_id)} has {len(offers)} live offers, more than "
                f"concurrent_offers={engine._concurrent}"
            )
        if len({offer.agent.id for offer in offers}) != len(offers):
            return f"task {_bounded(task_id)} is offered twice to one agent"
        for offer in more:
            agent_id = offer.agent.id
            if engine._agent_tasks.get(agent_id, {}).get(task_id) is not tasks[task_id]:
                return (
                    f"task {_bounded(task_id)} is not among the tasks of "
                    f"{_bounded(agent_id)}, who has an offer of it"
                )
    for task_id, agent in engine._holder.items():
        if engine._agent_tasks.get(agent.id, {}).get(task_id) is not tasks[task_id]:
            return (
                f"task {_bounded(task_id)} is not among the tasks of its agent {_bounded(agent.id)}"
            )
    for agent_id, mine in engine._agent_tasks.items():
        holding = engine._pool._agents.get(agent_id)
        if holding is None:
            return f"agent {_bounded(agent_id)} holds tasks but is not in the pool"
        load: dict[str, int] = {}
        for task_id, task in mine.items():
            holder = engine._holder.get(task_id)
            if task_id in engine._more:
                if all(offer.agent.id != agent_id for offer in engine._more[task_id]) and (
                    holder is None or holder.id != agent_id
                ):
                    return (
                        f"agent {_bounded(agent_id)} lists task {_bounded(task_id)} "
                        "it has no offer of"
                    )
            elif holder is None or holder.id != agent_id:
                return f"agent {_bounded(agent_id)} lists task {_bounded(task_id)} it does not hold"
            load[task.channel] = load.get(task.channel, 0) + 1
        if {c: n for c, n in holding.load.items() if n} != load:
            return f"agent {_bounded(agent_id)} has load {dict(holding.load)} for tasks {load}"
    for agent in engine._pool._agents.values():
        if agent.id not in engine._agent_tasks and any(agent.load.values()):
            return f"agent {_bounded(agent.id)} has load {dict(agent.load)} for no task"
    for task_id, cooling in engine._cooldown.items():
        if task_id not in tasks or not cooling:
            return f"a refusal cool-down names task {_bounded(task_id)}, which is not open"
    next_seq = engine._list._next_seq
    if len({task.seq for task in tasks.values()}) != len(tasks) or any(
        task.seq >= next_seq for task in tasks.values()
    ):
        return f"open tasks share a submission number or reach the next one ({next_seq})"
    try:
        engine._pool._check()
    except AssertionError as exc:
        return f"the agent pool's invariants fail ({_bounded(exc)})"
    return None


def _restore_tasklist(
    data: Mapping[str, Any],
    policy: Any,
    records: list[Any],
    engine: Engine,
    version: int,
) -> tuple[TaskList, dict[str, Task], dict[TaskState, int]]:
    """The task list, the open tasks and their count by state, built in one pass. O(n)."""
    tasklist = TaskList(policy)
    for channel, skills, *restriction in data["groups"]:
        agents, requires, *queue = restriction if restriction else (None, None)
        tasklist.group_for(
            channel,
            dict(skills),
            None if agents is None else tuple(agents),
            None if requires is None else compile_expression(requires),
            _queue_of(engine, queue[0]) if queue else None,
        )
    tasklist._now = float(data["now"])
    tasklist._next_seq = data["next_seq"]
    if type(tasklist._next_seq) is not int:
        raise SnapshotContentError(
            f"snapshot content: tasklist next_seq {bounded_repr(tasklist._next_seq)} "
            "(expected an integer)"
        )
    tasks, states = _read_open_tasks(records, engine, tasklist, version)
    order = data["order"]
    queued = tasklist._tasks
    for task_id in order:
        task = tasks.get(task_id) if type(task_id) is str else None
        if task is None or task.state is not _QUEUED or task_id in queued:
            raise SnapshotContentError(
                f"snapshot content: the task list's order names {_bounded(task_id)} "
                f"({'not open' if task is None else task.state.value}"
                f"{', twice' if task_id in queued else ''}) (expected each queued task once)"
            )
        queued[task_id] = task
    for group in tasklist._group_list:
        for bucket in group.buckets.values():
            heapq.heapify(bucket.heap)
    heapq.heapify(tasklist._breakpoints)
    return tasklist, tasks, states


def _restore_pool(
    data: Mapping[str, Any],
    exclusive_channels: frozenset[str],
    listed_in: Mapping[str, frozenset[str]],
) -> AgentPool:
    pool = AgentPool(exclusive_channels=exclusive_channels)
    for serial, key, *rest in data["profiles"]:
        profile_key = tuple((name, level) for name, level in key)
        given = dict(rest[0]) if rest else {}
        listed = frozenset(rest[1]) if len(rest) > 1 else frozenset()
        pool._file_profile(_Profile(profile_key, serial, attributes_key(given), listed))
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
            (
                tuple(sorted(spec.skills.items())),
                attributes_key(spec.attributes),
                listed_in.get(spec.id, frozenset()),
            )
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
