"""The enterprise-wide task list: every open task, ordered exactly by current score.

How it stays exact while scores move
------------------------------------
A policy gives each task a linear piece of its score, ``base + slope × t``,
valid until a breakpoint (see :mod:`valueroute.scoring`). Two tasks with the
same slope keep their relative order for as long as their pieces hold, so the
list files each task in a heap keyed by its base, one heap per
(requirement group, slope) — a *bucket*. The best task an agent may take is
the best of the bucket heads over the groups it is eligible for: with *g*
eligible groups and *s* distinct slopes that is *g × s* comparisons, however
many tasks wait. A task whose piece ends is re-filed at its breakpoint, before
any query or command that looks past it.

A piece on a working clock (a business calendar's working time W, see
:class:`~valueroute.scoring.Segment`) scores ``base + slope × W(t)``: its
bucket is keyed by (slope, clock) and its head is compared at ``W(now)``,
read once per query and clock. Tasks on one clock keep their order while the
calendar opens and closes, so those instants are not breakpoints.

Ties in score go to the older task (smaller ``created``), then to the task
submitted first (smaller ``seq``). The order is total and deterministic.

Removal is lazy: a removed or re-filed task leaves a stale heap entry that is
dropped when it reaches the head, and a bucket is compacted when stale entries
outnumber live ones. Heads are never stale, so queries never skip entries.

Commands (add, update, set_policy) move the list's time and must never go
back before it (:class:`~valueroute.errors.ClockError`). Queries (best, score,
ranked, top, oldest) answer at any ``now`` from the list's time on without
moving it: what they re-file to look ahead is put back by the next call at an
earlier time, so a supervisor looking ahead cannot change what a later
command at an earlier time decides.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeGuard

from valueroute.errors import (
    ClockError,
    DuplicateTaskError,
    InvalidInputError,
    PolicyError,
    UnknownTaskError,
    bounded_repr,
)
from valueroute.expressions import Expression
from valueroute.models import (
    MAX_PRIORITY,
    MAX_SECONDS,
    MAX_SKILL_LEVEL,
    MAX_SKILLS,
    MAX_VALUE,
    TaskSpec,
    _check_skills,
)
from valueroute.queues import Queue
from valueroute.scoring import Policy, StrictPriority, WorkingClock
from valueroute.task import GroupKey, RequirementGroup, Task

__all__ = ["TaskList"]

_INF = math.inf
_FLOAT_MAX = sys.float_info.max
_COMPACT_MIN = 64

Entry = tuple[float, float, int]
"""A heap entry: (-base, created, seq).

Entries hold no reference to their task (the list finds it by ``seq``): a
tuple of numbers is not tracked by Python's cyclic garbage collector, and with
a million open tasks every tracked object per task costs measurable time in
each full collection.
"""

Undo = tuple[Task, Entry, float, float, "WorkingClock | None"]
"""A task's placement before a look ahead: (task, entry, slope, until, clock)."""

Dimension = Literal["type", "channel", "department", "process", "group"]
_DIMENSIONS: tuple[Dimension, ...] = ("type", "channel", "department", "process", "group")


Piece = tuple[float, float, float, "WorkingClock | None"]
"""A checked segment: (base, slope, until, clock)."""


def _bucket_key(slope: float, clock: WorkingClock | None) -> object:
    """A bucket's key in its group: the slope, with the clock's identity when it has one."""
    return slope if clock is None else (slope, id(clock))


class _Reading:
    """A working clock's reading, shared by every bucket on that clock.

    ``value`` is W at the time of the query being answered (``best`` reads
    every clock in use first); the clock's current piece is kept so a reading
    inside it costs one multiply-add instead of a search of the calendar.
    """

    __slots__ = ("base", "buckets", "clock", "hi", "lo", "slope", "value")

    def __init__(self, clock: WorkingClock) -> None:
        self.clock = clock
        self.value = math.nan
        self.lo = self.hi = math.nan
        self.base = self.slope = 0.0
        self.buckets = 0

    def at(self, now: float) -> float:
        """W(now), from the kept piece when ``now`` lies in it."""
        if self.lo <= now < self.hi:
            return self.base + self.slope * now
        piece = self.clock.piece(now)
        base, slope, until = float(piece[0]), float(piece[1]), float(piece[2])
        if not (base - base == 0.0 and slope - slope == 0.0 and until > now):
            raise PolicyError(
                f"clock {_bounded(self.clock)} gave piece {_bounded(piece)} at {now!r} "
                "(expected finite base and slope and until > now)"
            )
        self.lo, self.hi, self.base, self.slope = now, until, base, slope
        return base + slope * now


class _Bucket:
    """Tasks of one requirement group whose scores share one slope and clock.

    ``reading`` is ``None`` for wall time, else the shared reading of the clock.
    """

    __slots__ = ("group", "heap", "key", "reading", "slope", "stale")

    def __init__(self, group: RequirementGroup, slope: float, reading: _Reading | None) -> None:
        self.group = group
        self.slope = slope
        self.reading = reading
        self.key = _bucket_key(slope, None if reading is None else reading.clock)
        self.heap: list[Entry] = []
        self.stale = 0


def _dimension_value(task: Task, by: Dimension) -> object:
    if by == "group":
        return task.group
    return getattr(task, by)


class TaskList:
    """All open tasks, with the best eligible one at hand at every moment.

    >>> from valueroute import TaskSpec
    >>> tasks = TaskList()
    >>> _ = tasks.add(TaskSpec(id="a", priority=1, skills={"billing": 2}), now=0.0)
    >>> _ = tasks.add(TaskSpec(id="b", priority=5, skills={"billing": 2}), now=1.0)
    >>> group = tasks.group_for("voice", {"billing": 2})
    >>> tasks.best([group], now=2.0).id
    'b'
    """

    def __init__(self, policy: Policy | None = None) -> None:
        """``policy``: a scoring policy (an object with a ``name`` string and a
        ``segment(task, now)`` method, such as :class:`~valueroute.scoring.Fifo`),
        or ``None`` for :class:`~valueroute.scoring.StrictPriority`. Anything
        else (a policy's name, a class, a plain function: see
        :func:`~valueroute.scoring.policy_by_name` and
        :func:`~valueroute.scoring.as_policy` for those) raises
        :class:`~valueroute.errors.InvalidInputError`.
        """
        if policy is not None:
            _check_policy(policy)
        self._policy: Policy = StrictPriority() if policy is None else policy
        self._tasks: dict[str, Task] = {}
        self._groups: dict[GroupKey, RequirementGroup] = {}
        self._group_list: list[RequirementGroup] = []
        # id(group.requirements) -> group: tasks carry their group's mapping.
        self._by_requirements: dict[int, RequirementGroup] = {}
        self._breakpoints: list[tuple[float, int]] = []
        # seq -> open task: heap entries refer to tasks by seq (see Entry).
        self._by_seq: dict[int, Task] = {}
        self._now = -_INF
        # Pieces a query re-filed ahead of the list's time (see _look): the
        # latest such time, and each task's placement before, by seq.
        self._ahead = -_INF
        self._undo: dict[int, Undo] = {}
        self._next_seq = 0
        self._counts: dict[tuple[object, ...], int] = {}
        # id(clock) -> its reading, for the clocks of non-empty buckets; the
        # same readings as a list for best's loop.
        self._clocks: dict[int, _Reading] = {}
        self._readings: list[_Reading] = []

    # ------------------------------------------------------------------ basics

    @property
    def policy(self) -> Policy:
        """The scoring policy in force."""
        return self._policy

    @property
    def now(self) -> float:
        """The latest time the list has been told (``-inf`` before the first)."""
        return self._now

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __iter__(self) -> Iterator[Task]:
        """Open tasks in submission order of their ids. O(n) to exhaust."""
        return iter(list(self._tasks.values()))

    def get(self, task_id: str) -> Task:
        """The open task with this id. O(1).

        Raises :class:`~valueroute.errors.UnknownTaskError` when there is none,
        :class:`~valueroute.errors.InvalidInputError` when ``task_id`` is not
        a string.
        """
        try:
            return self._tasks[task_id]
        except (KeyError, TypeError):
            # TypeError: an unhashable id (a list, a dict).
            pass
        if not isinstance(task_id, str):
            raise InvalidInputError(
                f"task_id: got {bounded_repr(task_id)} of type {type(task_id).__name__} "
                "(expected a task id string)"
            )
        raise UnknownTaskError(f"task_id: no open task with id {bounded_repr(task_id)}")

    @property
    def groups(self) -> Sequence[RequirementGroup]:
        """Every requirement group seen so far, in order of first use. O(1).

        The same append-only sequence on every call (the agent pool relies on
        this to read only new groups); treat it as read-only.
        """
        return self._group_list

    def group_for(
        self,
        channel: str,
        skills: Mapping[str, float],
        agents: tuple[str, ...] | None = None,
        requires: Expression | None = None,
        queue: Queue | None = None,
    ) -> RequirementGroup:
        """The interned group for this channel and requirement set.

        ``channel`` is a channel name, ``skills`` a mapping of skill names to
        minimum levels (finite numbers), ``agents`` ``None`` or a tuple of
        agent ids a restricted group is for (in order of preference),
        ``requires`` ``None`` or a compiled requirement expression
        (:func:`~valueroute.expressions.compile_expression`), ``queue``
        ``None`` or the :class:`~valueroute.queues.Queue` the tasks wait in;
        anything else raises :class:`~valueroute.errors.InvalidInputError`.
        O(1) when ``skills`` is a group's own ``requirements`` mapping (every
        filed task carries one), O(k log k) in skills otherwise.
        """
        # Groups live as long as the list, so the id of their mapping is theirs.
        group = self._by_requirements.get(id(skills))
        if (
            group is not None
            and group.requirements is skills
            and group.channel == channel
            and group.agents == agents
            and group.requires is requires
            and group.queue is queue
        ):
            return group
        if type(skills) is not dict and not isinstance(skills, Mapping):
            raise InvalidInputError(
                f"skills: got {bounded_repr(skills)} of type {type(skills).__name__} "
                "(expected a mapping of skill names to minimum levels)"
            )
        try:
            requirements = tuple(sorted(skills.items()))
        except TypeError:
            # Names that do not compare (not all strings): say which.
            _check_key((channel, tuple(skills.items())))
            raise
        return self.group_of_key(
            RequirementGroup.key_of(channel, requirements, agents, requires, queue)
        )

    def known_group(self, key: GroupKey) -> RequirementGroup | None:
        """The group for a :meth:`RequirementGroup.make_key` key if it exists. O(1)."""
        return self._groups.get(key)

    def group_of_key(self, key: GroupKey) -> RequirementGroup:
        """The interned group for a :meth:`RequirementGroup.make_key` key. O(1).

        A key of a new group is checked first (a channel name and
        ``(skill name, level)`` pairs sorted by name, levels finite numbers,
        and for a restricted group a non-empty tuple of distinct agent ids or
        ``None``, and a compiled expression or ``None``):
        anything else raises :class:`~valueroute.errors.InvalidInputError`.
        """
        try:
            group = self._groups.get(key)
        except TypeError:
            # Unhashable: not a key. _check_key says why.
            group = None
        if group is None:
            _check_key(key)
            if len(key) == 2:
                group = RequirementGroup(key[0], key[1], len(self._groups))
            elif len(key) == 4:
                group = RequirementGroup(key[0], key[1], len(self._groups), key[2], key[3])
            else:
                group = RequirementGroup(key[0], key[1], len(self._groups), key[2], key[3], key[4])
            self._groups[key] = group
            self._group_list.append(group)
            self._by_requirements[id(group.requirements)] = group
        return group

    def next_seq_peek(self) -> int:
        """The sequence number the next new task will get, without reserving it."""
        return self._next_seq

    def next_seq(self) -> int:
        """Reserve the next submission sequence number (for records made outside)."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    # ------------------------------------------------------------------ time

    def _tick(self, now: float) -> None:
        """Accept ``now`` as the current time and re-file tasks whose pieces ended."""
        before = self._now
        if now != before:
            # A float needs no call to _is_time (every clock reading is one).
            if (type(now) is not float and not _is_time(now)) or not (now > before) or now == _INF:
                raise ClockError(
                    f"now: got {_bounded(now)} (expected a finite time >= {before!r}, "
                    "the latest time already seen)"
                )
            self._now = now
        elif before == -_INF:
            raise ClockError(f"now: got {_bounded(now)} (expected a finite time)")
        if self._undo and now < self._ahead:
            self._restore()
        breakpoints = self._breakpoints
        if breakpoints and breakpoints[0][0] <= now:
            self._refile_due(now, before)
        if self._undo:
            # Pieces re-filed by queries up to now hold from the time each was
            # computed: they stand.
            self._undo.clear()
            self._ahead = -_INF

    def _check_query_time(self, now: object) -> None:
        """Refuse a query time before the list's time, or not a finite number."""
        # At the list's own time, even -inf before its first command (an
        # empty list answers then); any other time is a finite number from it on.
        if now != self._now and (not _is_time(now) or not (self._now <= now < _INF)):
            raise ClockError(
                f"now: got {_bounded(now)} (expected a finite time >= {self._now!r}, "
                "the list's time: a query may look ahead of it, not back)"
            )

    def _look(self, now: float) -> None:
        """Make the filed order exact at a query's ``now`` without moving the list's time.

        A query may look ahead of the list's time (never back). Pieces that
        end by then are re-filed at ``now`` as a command would, but each
        task's placement before is kept: a later call at an earlier time
        puts them back first (:meth:`_restore`), so what a look ahead sees
        never changes an answer or a decision at an earlier time. The
        engine, asking at its own time, re-files each piece once.
        """
        self._check_query_time(now)
        if now < self._ahead:
            self._restore()
        breakpoints = self._breakpoints
        if breakpoints and breakpoints[0][0] <= now:
            self._refile_due(now, self._now, undo=self._undo)
            if self._undo and now > self._ahead:
                self._ahead = now

    def _restore(self) -> None:
        """Put every task a query re-filed back where it was before. O(u log n)."""
        by_seq = self._by_seq
        breakpoints = self._breakpoints
        for seq, (task, entry, slope, until, clock) in self._undo.items():
            if by_seq.get(seq) is not task:
                continue  # it has left the list since
            self._unfile(task)
            group = task.group
            assert group is not None
            bucket = group.buckets.get(_bucket_key(slope, clock))
            if bucket is None:
                bucket = self._new_bucket(group, slope, clock)
            # A new tuple: the old one may still sit, stale, in its heap.
            restored: Entry = (entry[0], entry[1], entry[2])
            heapq.heappush(bucket.heap, restored)
            task.entry = restored
            task.bucket = bucket
            task.slope = slope
            task.until = until
            if until != _INF:
                heapq.heappush(breakpoints, (until, seq))
        self._undo.clear()
        self._ahead = -_INF

    def _refile_due(
        self,
        now: float,
        before: float,
        undo: dict[int, Undo] | None = None,
    ) -> None:
        """Re-file the tasks whose score pieces ended by ``now``, all or none.

        Every new piece is asked for before any task moves: a policy failing
        on one leaves the list as it was at ``before``, breakpoints still due.
        With ``undo`` (a query's look ahead) each task's placement is kept
        there first.
        """
        breakpoints = self._breakpoints
        due: dict[int, Task] = {}
        while breakpoints and breakpoints[0][0] <= now:
            until, seq = heapq.heappop(breakpoints)
            task = self._by_seq.get(seq)
            # A task re-filed with an unchanged piece end has two equal
            # entries: it moves once.
            if task is not None and task.until == until:
                due[seq] = task
        scored = False
        try:
            segments = [self._segment(task, now) for task in due.values()]
            scored = True
        finally:
            if not scored:
                for task in due.values():
                    heapq.heappush(breakpoints, (task.until, task.seq))
                self._now = before
        for task, segment in zip(due.values(), segments, strict=True):
            if undo is not None and task.seq not in undo:
                entry = task.entry
                assert entry is not None
                reading = task.bucket.reading
                clock = None if reading is None else reading.clock
                undo[task.seq] = (task, entry, task.slope, task.until, clock)
            self._unfile(task)
            self._file(task, now, segment)

    def next_breakpoint(self) -> float:
        """When the next task's score piece ends (``inf`` if none). O(1) amortised.

        At the list's time, whatever a query has looked at ahead of it. A host
        that wants the order refreshed exactly at that instant (to emit an
        event, say) wakes up then; queries re-file lazily in any case.
        """
        breakpoints = self._breakpoints
        found = _INF
        while breakpoints:
            until, seq = breakpoints[0]
            task = self._by_seq.get(seq)
            if task is not None and task.until == until:
                found = until
                break
            heapq.heappop(breakpoints)
        by_seq = self._by_seq
        for seq, (task, _, _, until, _) in self._undo.items():
            if until < found and by_seq.get(seq) is task:
                found = until
        return found

    # ------------------------------------------------------------------ filing

    def _segment(self, task: Task, now: float) -> Piece:
        segment = self._policy.segment(task, now)
        if len(segment) == 4:
            base, slope, until, clock = segment
            if clock is None:
                # x - x == 0 holds exactly for finite floats, fails for inf and nan.
                if base - base == 0.0 and slope - slope == 0.0 and until > now:
                    return segment
            elif not (
                callable(getattr(clock, "piece", None))
                and callable(getattr(clock, "working_time", None))
            ):
                raise PolicyError(
                    f"policy {_bounded(self._policy)} gave the clock {_bounded(clock)} for task "
                    f"{_bounded(task.id)} (expected None or a working clock: an object with "
                    "piece(t) and working_time(t), such as a BusinessCalendar)"
                )
        else:
            base, slope, until = segment
            clock = None
        # x - x == 0 holds exactly for finite floats, fails for inf and nan.
        if not (base - base == 0.0 and slope - slope == 0.0 and until > now):
            raise PolicyError(
                f"policy {_bounded(self._policy)} gave segment {_bounded(tuple(segment))} for "
                f"task {_bounded(task.id)} at {now!r} "
                "(expected finite base and slope and until > now)"
            )
        return base, slope, until, clock

    def _new_bucket(
        self, group: RequirementGroup, slope: float, clock: WorkingClock | None
    ) -> _Bucket:
        """An empty bucket of ``group`` for pieces of ``slope`` on ``clock``, registered."""
        reading = None
        if clock is not None:
            reading = self._clocks.get(id(clock))
            if reading is None:
                reading = self._clocks[id(clock)] = _Reading(clock)
                self._readings.append(reading)
            reading.buckets += 1
        bucket = _Bucket(group, slope, reading)
        group.buckets[bucket.key] = bucket
        (group.bucket_list if reading is None else group.clocked_list).append(bucket)
        return bucket

    def _file(self, task: Task, now: float, segment: Piece | None = None) -> None:
        base, slope, until, clock = self._segment(task, now) if segment is None else segment
        group = task.group
        assert group is not None
        bucket = group.buckets.get(slope if clock is None else (slope, id(clock)))
        if bucket is None:
            bucket = self._new_bucket(group, slope, clock)
        entry: Entry = (-base, task.created, task.seq)
        heapq.heappush(bucket.heap, entry)
        task.entry = entry
        task.bucket = bucket
        task.slope = slope
        task.until = until
        if until != _INF:
            breakpoints = self._breakpoints
            heapq.heappush(breakpoints, (until, task.seq))
            if len(breakpoints) > 2 * len(self._tasks) + 4096:
                # Breakpoints of removed tasks wait for their time to be
                # dropped; past this size keep only the live ones (O(1)
                # amortised per breakpoint).
                by_seq = self._by_seq
                self._breakpoints = [
                    (at, seq)
                    for at, seq in breakpoints
                    if (live := by_seq.get(seq)) is not None and live.until == at
                ]
                heapq.heapify(self._breakpoints)

    def _unfile(self, task: Task) -> None:
        bucket: _Bucket = task.bucket
        heap = bucket.heap
        entry = task.entry
        task.entry = None
        task.bucket = None
        if heap[0] is entry:
            heapq.heappop(heap)
            # With no stale entry and some left (the usual case) the new head
            # is live and the bucket stays: nothing to drop, no call.
            if bucket.stale or not heap:
                self._drop_stale_heads(bucket)
        else:
            bucket.stale += 1
            if bucket.stale > _COMPACT_MIN and bucket.stale * 2 > len(heap):
                bucket.heap = [e for e in heap if self._is_live(e)]
                heapq.heapify(bucket.heap)
                bucket.stale = 0

    def _is_live(self, entry: Entry) -> bool:
        task = self._by_seq.get(entry[2])
        return task is not None and task.entry is entry

    def _drop_stale_heads(self, bucket: _Bucket) -> None:
        heap = bucket.heap
        # With no stale entry (the usual case) the new head is live: no lookup.
        while bucket.stale and heap and not self._is_live(heap[0]):
            heapq.heappop(heap)
            bucket.stale -= 1
        if not heap:
            group = bucket.group
            del group.buckets[bucket.key]
            reading = bucket.reading
            if reading is None:
                group.bucket_list.remove(bucket)
            else:
                group.clocked_list.remove(bucket)
                reading.buckets -= 1
                if not reading.buckets:
                    del self._clocks[id(reading.clock)]
                    self._readings.remove(reading)

    def _count(self, task: Task, delta: int) -> None:
        # One counter over the combination of all dimensions: one dict update
        # per add or remove; counts(by) folds the few combinations on demand.
        group = task.group
        key = (task.type, task.channel, task.department, task.process, group)
        if group.queue is not None:  # type: ignore[union-attr]  # a filed task has a group
            group.queue.waiting += delta  # type: ignore[union-attr]
        counts = self._counts
        left = counts.get(key, 0) + delta
        if left:
            counts[key] = left
        else:
            del counts[key]

    # ------------------------------------------------------------------ commands

    def add(self, item: TaskSpec | Task, *, now: float) -> Task:
        """File a new task; O(log n).

        ``item`` is a validated :class:`~valueroute.models.TaskSpec` (a record
        is made for it, ``created`` defaulting to ``now``) or an existing
        :class:`~valueroute.task.Task` record coming back to the list (a task
        re-queued after a rejected offer keeps its age and submission order).

        Raises :class:`~valueroute.errors.DuplicateTaskError` if the id is
        already open. A failure changes nothing.
        """
        if type(item) is not TaskSpec:
            if isinstance(item, Task):
                if item.id in self._tasks:
                    raise DuplicateTaskError(
                        f"task id {bounded_repr(item.id)} is already open (expected a new id)"
                    )
                return self._add_record(item, now)
            if not isinstance(item, TaskSpec):
                raise InvalidInputError(
                    f"item: got {bounded_repr(item)} of type {type(item).__name__} "
                    "(expected a TaskSpec or a Task record)"
                )
        if item.id in self._tasks:
            raise DuplicateTaskError(
                f"task id {bounded_repr(item.id)} is already open (expected a new id)"
            )
        if item.calendar is not None or item.due_in is not None:
            raise _needs_engine(item)
        self._tick(now)
        group = self.group_for(item.channel, item.skills)
        task = Task.from_spec(item, seq=self._next_seq, now=now, skills=group.requirements)
        return self._add_new(task, group, now)

    def _add_record(self, task: Task, now: float) -> Task:
        """:meth:`add` of a record for a caller that knows its id is not in the list."""
        self._tick(now)
        # group_for's O(1) case inline: a task filed before, or made from a
        # group's requirements, carries that group's own mapping.
        skills = task.skills
        group = self._by_requirements.get(id(skills))
        if (
            group is None
            or group.requirements is not skills
            or group.channel != task.channel
            or group.agents != task.prefer
            or group.requires is not task.requires
            or group.queue is not task.queue
        ):
            group = self.group_for(task.channel, skills, task.prefer, task.requires, task.queue)
        task.skills = group.requirements
        return self._add_new(task, group, now)

    def _add_new(self, task: Task, group: RequirementGroup, now: float) -> Task:
        task.group = group
        try:
            self._file(task, now)
        except Exception:
            task.group = None
            raise
        if task.seq >= self._next_seq:
            self._next_seq = task.seq + 1
        self._tasks[task.id] = task
        self._by_seq[task.seq] = task
        # _count(task, 1) inline: every new or returning task passes here.
        if group.queue is not None:
            group.queue.waiting += 1
        key = (task.type, task.channel, task.department, task.process, group)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        return task

    def extend(self, specs: Iterable[TaskSpec], *, now: float) -> list[Task]:
        """File many new tasks at once; O(n) plus one heapify per bucket.

        All or nothing: a duplicate id or a policy failure leaves the list as
        it was.
        """
        specs = list(specs)
        seen: set[str] = set()
        for spec in specs:
            if not isinstance(spec, TaskSpec):
                raise InvalidInputError(
                    f"item: got {bounded_repr(spec)} of type {type(spec).__name__} "
                    "(expected TaskSpec items)"
                )
            if spec.calendar is not None or spec.due_in is not None:
                raise _needs_engine(spec)
            if spec.id in self._tasks or spec.id in seen:
                raise DuplicateTaskError(
                    f"task id {bounded_repr(spec.id)} is already open (expected a new id)"
                )
            seen.add(spec.id)
        self._tick(now)
        made: list[tuple[Task, WorkingClock | None]] = []
        seq = self._next_seq
        segment_of = self._segment
        for spec in specs:
            group = self.group_for(spec.channel, spec.skills)
            task = Task.from_spec(spec, seq=seq, now=now, skills=group.requirements)
            seq += 1
            task.group = group
            base, slope, until, clock = segment_of(task, now)
            task.entry = (-base, task.created, task.seq)
            task.slope = slope
            task.until = until
            made.append((task, clock))
        touched: set[int] = set()
        breakpoints = self._breakpoints
        for task, clock in made:
            task_group = task.group
            assert task_group is not None
            assert task.entry is not None
            bucket = task_group.buckets.get(_bucket_key(task.slope, clock))
            if bucket is None:
                bucket = self._new_bucket(task_group, task.slope, clock)
            bucket.heap.append(task.entry)
            task.bucket = bucket
            touched.add(id(bucket))
            if task.until != _INF:
                breakpoints.append((task.until, task.seq))
            self._tasks[task.id] = task
            self._by_seq[task.seq] = task
            self._count(task, 1)
        for group in self._groups.values():
            for bucket in group.buckets.values():
                if id(bucket) in touched:
                    heapq.heapify(bucket.heap)
        heapq.heapify(breakpoints)
        self._next_seq = seq
        return [task for task, _ in made]

    def remove(self, task_id: str) -> Task:
        """Take a task out of the list and return it; O(log n) amortised."""
        return self._take_out(self.get(task_id))

    def _take_out(self, task: Task) -> Task:
        """:meth:`remove` for a record the caller knows is filed in this list."""
        self._unfile(task)
        del self._tasks[task.id]
        del self._by_seq[task.seq]
        # _count(task, -1) inline: every task leaving the list passes here.
        group: RequirementGroup = task.group  # type: ignore[assignment]  # filed: it has one
        if group.queue is not None:
            group.queue.waiting -= 1
        key = (task.type, task.channel, task.department, task.process, group)
        counts = self._counts
        left = counts.get(key, 0) - 1
        if left:
            counts[key] = left
        else:
            del counts[key]
        task.group = None
        return task

    def update(
        self,
        task_id: str,
        *,
        now: float,
        priority: int | None = None,
        value: float | None = None,
        due: float | None = None,
        clear_due: bool = False,
        skills: Mapping[str, float] | None = None,
    ) -> Task:
        """Change a task's priority, value, due time or required skills; O(log n).

        ``due=None`` leaves the due time as it is; ``clear_due=True`` removes
        it. The task is re-scored and re-filed at ``now``. Values take a
        :class:`~valueroute.models.TaskSpec`'s bounds (see :func:`check_changes`):
        others raise :class:`~valueroute.errors.InvalidInputError` naming the
        field; any failure changes nothing.
        """
        task = self.get(task_id)
        priority, value, due, new_skills = check_changes(
            priority=priority, value=value, due=due, clear_due=clear_due, skills=skills
        )
        self._tick(now)
        old = (task.priority, task.value, task.due, task.skills, task.group)
        self._unfile(task)
        self._count(task, -1)
        set_changes(task, priority=priority, value=value, due=due, clear_due=clear_due)
        if new_skills is not None:
            task.group = self.group_for(
                task.channel, new_skills, task.prefer, task.requires, task.queue
            )
            task.skills = task.group.requirements
        try:
            self._file(task, now)
        except Exception:
            task.priority, task.value, task.due, task.skills, task.group = old
            self._file(task, now)
            raise
        finally:
            self._count(task, 1)
        task.version += 1
        return task

    def set_policy(self, policy: Policy, *, now: float) -> None:
        """Replace the policy and re-score every open task at ``now``; O(n).

        Tasks already waiting take the new policy at once: a rule or policy
        change never applies to new work only. All or nothing: if the new
        policy fails for any task, the old one stays in force.
        """
        _check_policy(policy)
        self._tick(now)
        old_policy = self._policy
        self._policy = policy
        try:
            segments = [(task, self._segment(task, now)) for task in self._tasks.values()]
        except Exception:
            self._policy = old_policy
            raise
        for group in self._groups.values():
            group.buckets.clear()
            group.bucket_list.clear()
            group.clocked_list.clear()
        self._clocks.clear()
        self._readings.clear()
        self._breakpoints = []
        for task, (base, slope, until, clock) in segments:
            task_group = task.group
            assert task_group is not None
            bucket = task_group.buckets.get(_bucket_key(slope, clock))
            if bucket is None:
                bucket = self._new_bucket(task_group, slope, clock)
            entry: Entry = (-base, task.created, task.seq)
            bucket.heap.append(entry)
            task.entry = entry
            task.bucket = bucket
            task.slope = slope
            task.until = until
            if until != _INF:
                self._breakpoints.append((until, task.seq))
        for group in self._groups.values():
            for bucket in group.buckets.values():
                heapq.heapify(bucket.heap)
        heapq.heapify(self._breakpoints)

    # ------------------------------------------------------------------ queries

    def score(self, task: Task, now: float) -> float:
        """A filed task's score at ``now``. O(1) amortised.

        A query: ``now`` may lie ahead of the list's time (not before it,
        :class:`~valueroute.errors.ClockError`); the list's time does not move.
        """
        if not isinstance(task, Task):
            raise InvalidInputError(
                f"task: got {_bounded(task)} of type {type(task).__name__} "
                "(expected a Task record of this list, as get returns)"
            )
        if task.entry is None or self._by_seq.get(task.seq) is not task:
            raise UnknownTaskError(f"task {_bounded(task.id)} is not in the list")
        self._check_query_time(now)
        if task.until <= now:
            # Its piece has ended by then: scored directly, nothing re-filed.
            base, slope, _, clock = self._segment(task, now)
            return base + slope * (now if clock is None else clock.working_time(now))
        reading = task.bucket.reading
        return -task.entry[0] + task.slope * (now if reading is None else reading.at(now))

    def best(self, groups: Iterable[RequirementGroup], now: float) -> Task | None:
        """The highest-scoring task at ``now`` among ``groups``; ``None`` if all are empty.

        A query: ``now`` may lie ahead of the list's time (not before it,
        :class:`~valueroute.errors.ClockError`); the list's time does not
        move, so a supervisor's look ahead cannot change what a later command
        at an earlier time decides. O(g × s) for g groups and s distinct
        slopes among their tasks, plus O(log n) per piece that ended by
        ``now`` (once at the engine's pace; again after a look ahead).
        """
        breakpoints = self._breakpoints
        if now != self._now or self._undo or (breakpoints and breakpoints[0][0] <= now):
            # At the list's own time with nothing due and nothing looked ahead
            # (the engine's every decision) there is nothing to check or re-file.
            self._look(now)
        readings = self._readings
        if readings:
            # Each clock in use read once at now, inline for the usual case (now
            # inside the clock's kept piece); the bucket heads below use it.
            for reading in readings:
                if reading.lo <= now < reading.hi:
                    reading.value = reading.base + reading.slope * now
                else:
                    reading.value = reading.at(now)
        # Candidates compare as (-score, created, seq): score first, then
        # age, then submission order. The score key is a float computed per
        # bucket head; tuples are built only to break exact ties.
        best_key = _INF
        best: Entry | None = None
        try:
            if readings:
                # Some score runs on a clock: each group's clocked buckets are
                # compared at their clock's reading in the same pass. A loop
                # of its own, so that the wall-time loop below tests nothing
                # per group for them.
                for group in groups:
                    for bucket in group.bucket_list:
                        entry = bucket.heap[0]
                        key = entry[0] - bucket.slope * now
                        if key < best_key:
                            best_key = key
                            best = entry
                        elif (
                            key == best_key
                            and best is not None
                            and (entry[1], entry[2]) < (best[1], best[2])
                        ):
                            best = entry
                    for bucket in group.clocked_list:
                        entry = bucket.heap[0]
                        key = entry[0] - bucket.slope * bucket.reading.value
                        if key < best_key:
                            best_key = key
                            best = entry
                        elif (
                            key == best_key
                            and best is not None
                            and (entry[1], entry[2]) < (best[1], best[2])
                        ):
                            best = entry
            else:
                for group in groups:
                    for bucket in group.bucket_list:
                        entry = bucket.heap[0]
                        key = entry[0] - bucket.slope * now
                        if key < best_key:
                            best_key = key
                            best = entry
                        elif (
                            key == best_key
                            and best is not None
                            and (entry[1], entry[2]) < (best[1], best[2])
                        ):
                            best = entry
        except (AttributeError, TypeError):
            # Checked only when it fails: this loop is the engine's hot path.
            _check_groups(groups)
            raise
        if best is None:
            return None
        return self._by_seq[best[2]]

    def ranked(
        self,
        now: float,
        *,
        groups: Iterable[RequirementGroup] | None = None,
        where: Callable[[Task], bool] | None = None,
    ) -> Iterator[tuple[Task, float]]:
        """Yield ``(task, score)`` best first at ``now``, lazily.

        A query, like :meth:`best` (``now`` is checked at the call, before
        the first item). Walks all bucket heaps best-first, so the first k
        results cost O((k + b) log(k + b)) for b buckets, not a sort of every
        task. The list must not change while the iterator is in use.
        """
        self._look(now)
        if where is not None and not callable(where):
            raise InvalidInputError(
                f"where: got {_bounded(where)} of type {type(where).__name__} "
                "(expected None or a callable(task) -> bool)"
            )
        if groups is None:
            chosen: Iterable[RequirementGroup] = self._groups.values()
        else:
            chosen = groups if isinstance(groups, list | tuple) else list(_checked_iter(groups))
            _check_groups(chosen)
        frontier: list[tuple[float, float, int, int, int]] = []
        heaps: list[list[Entry]] = []
        # Per bucket, slope × its clock's reading at now: what its entries' keys move by.
        shifts: list[float] = []
        for group in chosen:
            for bucket in group.buckets.values():
                entry = bucket.heap[0]
                reading = bucket.reading
                shift = bucket.slope * (now if reading is None else reading.at(now))
                frontier.append((entry[0] - shift, entry[1], entry[2], len(heaps), 0))
                heaps.append(bucket.heap)
                shifts.append(shift)
        heapq.heapify(frontier)
        return self._walk(frontier, heaps, shifts, where)

    def _walk(
        self,
        frontier: list[tuple[float, float, int, int, int]],
        heaps: list[list[Entry]],
        shifts: list[float],
        where: Callable[[Task], bool] | None,
    ) -> Iterator[tuple[Task, float]]:
        by_seq = self._by_seq
        while frontier:
            key, _, _, which, index = heapq.heappop(frontier)
            heap = heaps[which]
            shift = shifts[which]
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(heap):
                    entry = heap[child]
                    heapq.heappush(frontier, (entry[0] - shift, entry[1], entry[2], which, child))
            entry = heap[index]
            task = by_seq.get(entry[2])
            if task is not None and task.entry is entry and (where is None or where(task)):
                yield task, -key

    def top(
        self,
        n: int,
        now: float,
        *,
        offset: int = 0,
        groups: Iterable[RequirementGroup] | None = None,
        type: str | None = None,
        channel: str | None = None,
        department: str | None = None,
        process: str | None = None,
        state: str | None = None,
    ) -> list[tuple[Task, float]]:
        """A page of the global task list: ``n`` tasks best first after skipping ``offset``.

        Filters combine with *and*. Cost O((offset + n) log) when filters match
        often; a rare filter walks further. A page ahead of the list's time
        (:meth:`ranked`) is put back before it is returned: the list is left
        filed for its own time, as a supervisor's look should leave it.
        """
        for name, number in (("n", n), ("offset", offset)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise InvalidInputError(
                    f"{name}: got {_bounded(number)} (expected an integer >= 0)"
                )
        where = _filter(type, channel, department, process, state)
        ahead = self._ahead
        page: list[tuple[Task, float]] = []
        for position, item in enumerate(self.ranked(now, groups=groups, where=where)):
            if position >= offset + n:
                break
            if position >= offset:
                page.append(item)
        if self._ahead != ahead:
            # A supervisor's page ahead of the list's time: put back what it
            # re-filed, so the list stays filed for the owner's own time.
            self._restore()
        return page

    def counts(self, by: Dimension) -> dict[object, int]:
        """Open tasks per value of ``by`` (type, channel, department, process, group).

        O(c) for c distinct combinations of those five labels among open tasks.
        """
        if by not in _DIMENSIONS:
            raise InvalidInputError(f"by: got {_bounded(by)} (expected one of {list(_DIMENSIONS)})")
        position = _DIMENSIONS.index(by)
        folded: dict[object, int] = {}
        for key, count in self._counts.items():
            folded[key[position]] = folded.get(key[position], 0) + count
        return folded

    def oldest(
        self,
        now: float,
        *,
        type: str | None = None,
        channel: str | None = None,
        department: str | None = None,
        process: str | None = None,
        state: str | None = None,
    ) -> tuple[Task, float] | None:
        """The oldest matching task and its age at ``now``; O(n) scan.

        A view: ``now`` may lie ahead of the list's time, not before it.
        """
        self._check_query_time(now)
        where = _filter(type, channel, department, process, state)
        oldest: Task | None = None
        for task in self._tasks.values():
            if (where is None or where(task)) and (
                oldest is None or (task.created, task.seq) < (oldest.created, oldest.seq)
            ):
                oldest = task
        return None if oldest is None else (oldest, now - oldest.created)

    # ------------------------------------------------------------------ invariants

    def _check(self) -> None:
        """Assert every structural invariant; O(n log n). For tests and debugging."""
        live = 0
        seen_buckets = 0
        users: dict[int, int] = {}
        for group in self._groups.values():
            assert self._groups[group.key] is group
            assert self._group_list[group.index] is group
            assert self._by_requirements[id(group.requirements)] is group
            assert group.bucket_list == [b for b in group.buckets.values() if b.reading is None]
            assert group.clocked_list == [
                b for b in group.buckets.values() if b.reading is not None
            ]
            for key, bucket in group.buckets.items():
                seen_buckets += 1
                assert bucket.key == key
                reading = bucket.reading
                assert key == _bucket_key(bucket.slope, None if reading is None else reading.clock)
                if reading is not None:
                    assert self._clocks[id(reading.clock)] is reading, "reading not registered"
                    users[id(reading)] = users.get(id(reading), 0) + 1
                assert bucket.group is group
                heap = bucket.heap
                assert heap, "empty bucket kept"
                assert self._is_live(heap[0]), "stale head"
                for i in range(1, len(heap)):
                    assert heap[(i - 1) // 2] <= heap[i], "heap order broken"
                bucket_live = sum(1 for e in heap if self._is_live(e))
                assert bucket.stale == len(heap) - bucket_live, "stale count wrong"
                live += bucket_live
        assert live == len(self._tasks), "live entries != open tasks"
        assert {id(r): r.buckets for r in self._clocks.values()} == users, "clock users wrong"
        assert self._readings == list(self._clocks.values()), "reading list wrong"
        pending = set(self._breakpoints)
        assert len(self._by_seq) == len(self._tasks)
        for task_id, task in self._tasks.items():
            assert task.id == task_id
            entry = task.entry
            assert entry is not None
            assert self._by_seq[entry[2]] is task
            bucket = task.bucket
            assert bucket is not None
            assert bucket.slope == task.slope
            assert task.group is bucket.group
            assert (
                task.group
                is self._groups[
                    RequirementGroup.make_key(
                        task.channel, task.skills, task.prefer, task.requires, task.queue
                    )
                ]
            )
            assert entry[1] == task.created
            assert entry[2] == task.seq
            assert task.until > self._now or task.until == _INF or self._now == -_INF
            assert task.until > self._ahead or task.until == _INF, "due piece left filed"
            if task.until != _INF:
                assert (task.until, task.seq) in pending, "breakpoint missing"
        expected = Counter(
            tuple(_dimension_value(task, by) for by in _DIMENSIONS) for task in self._tasks.values()
        )
        assert self._counts == dict(expected), "counts wrong"
        assert bool(self._undo) == (self._ahead != -_INF), "look-ahead time without a record"
        assert not self._undo or self._ahead >= self._now, "look ahead behind the list's time"
        for seq, (task, entry, _, until, _) in self._undo.items():
            assert entry[2] == seq
            if self._by_seq.get(seq) is task:
                assert until > self._now or until == _INF or self._now == -_INF


def set_changes(
    task: Task, *, priority: int | None, value: float | None, due: float | None, clear_due: bool
) -> None:
    """Set an update's priority, value and due time, checked by :func:`check_changes`
    (``None``: as it is; ``clear_due`` removes the due time). O(1)."""
    if priority is not None:
        task.priority = priority
    if value is not None:
        task.value = value
    if due is not None:
        task.due = due
    elif clear_due:
        task.due = None


def check_changes(
    *,
    priority: int | None,
    value: float | None,
    due: float | None,
    clear_due: bool,
    skills: Mapping[str, float] | None,
) -> tuple[int | None, float | None, float | None, dict[str, float] | None]:
    """Validate the fields of an update; returns them normalised (floats, a skills dict).

    The bounds are a :class:`~valueroute.models.TaskSpec`'s, so an updated
    task scores like a submitted one: ``priority`` an integer from
    ``-MAX_PRIORITY`` to ``MAX_PRIORITY``, ``value`` a number from 0 to
    ``MAX_VALUE``, ``due`` seconds from ``-MAX_SECONDS`` to ``MAX_SECONDS``,
    ``skills`` a mapping of skill names to levels from 0 to
    ``MAX_SKILL_LEVEL`` (see :mod:`valueroute.models`). ``None`` leaves a
    field as it is. Raises :class:`~valueroute.errors.InvalidInputError`
    naming the field, the value (cut short) and what was expected.
    """
    if priority is not None and (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not -MAX_PRIORITY <= priority <= MAX_PRIORITY
    ):
        raise InvalidInputError(
            f"priority: got {bounded_repr(priority)} "
            f"(expected an integer from {-MAX_PRIORITY} to {MAX_PRIORITY})"
        )
    # Compared before converting: an integer beyond float range cannot be converted.
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_VALUE
    ):
        raise InvalidInputError(
            f"value: got {bounded_repr(value)} (expected a number from 0 to {MAX_VALUE:g})"
        )
    if due is not None and (
        isinstance(due, bool)
        or not isinstance(due, int | float)
        or not -MAX_SECONDS <= due <= MAX_SECONDS
    ):
        raise InvalidInputError(
            f"due: got {bounded_repr(due)} "
            f"(expected seconds from {-MAX_SECONDS:g} to {MAX_SECONDS:g})"
        )
    if due is not None and clear_due:
        raise InvalidInputError(
            f"due: got {bounded_repr(due)} together with clear_due=True (expected one)"
        )
    new_skills = None if skills is None else _checked_skills(skills)
    return (
        priority,
        None if value is None else float(value),
        None if due is None else float(due),
        new_skills,
    )


def _checked_skills(skills: object) -> dict[str, float]:
    """Required skills of an update as a new dict of float levels, or InvalidInputError."""
    expected = (
        f"a mapping of at most {MAX_SKILLS} skill names to levels from 0 to {MAX_SKILL_LEVEL:g}"
    )
    if not isinstance(skills, Mapping) or len(skills) > MAX_SKILLS:
        raise InvalidInputError(
            f"skills: got {bounded_repr(skills)} of type {type(skills).__name__} "
            f"(expected {expected})"
        )
    checked: dict[str, float] = {}
    for name, level in skills.items():
        if not isinstance(name, str):
            raise InvalidInputError(
                f"skills: got the skill name {bounded_repr(name)} of type "
                f"{type(name).__name__} (expected {expected})"
            )
        if (
            isinstance(level, bool)
            or not isinstance(level, int | float)
            or not 0 <= level <= MAX_SKILL_LEVEL
        ):
            raise InvalidInputError(
                f"skills: got level {bounded_repr(level)} for {bounded_repr(name)} "
                f"(expected {expected})"
            )
        checked[name] = float(level)
    try:
        return _check_skills(checked, "required skills")
    except ValueError as exc:
        # Empty or overlong names, text that is not Unicode: the message says which.
        raise InvalidInputError(f"skills: {str(exc)[:300]}") from None


def _bounded(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: a user's value may be any size."""
    return bounded_repr(value, limit)


def _check_key(key: object) -> None:
    """Refuse what is not a requirement group key: ``(channel, ((name, level), ...))``
    with a channel name, skill names in increasing order and finite levels."""
    expected = (
        "(expected (channel, ((skill name, level), ...)): a channel name, "
        "skill names in increasing order, finite number levels)"
    )
    if not (isinstance(key, tuple) and len(key) in (2, 4, 5) and isinstance(key[1], tuple)):
        raise InvalidInputError(f"key: got {bounded_repr(key)} {expected}")
    channel, skills = key[0], key[1]
    if len(key) == 5 and not isinstance(key[4], Queue):
        raise InvalidInputError(
            f"queue: got {bounded_repr(key[4])} (expected an engine's Queue record)"
        )
    if len(key) == 4:
        agents, requires = key[2], key[3]
        if requires is not None and not isinstance(requires, Expression):
            raise InvalidInputError(
                f"requires: got {bounded_repr(requires)} (expected a compiled expression "
                "from compile_expression, or None)"
            )
        if agents is None and requires is None:
            raise InvalidInputError(
                f"key: got {bounded_repr(key)} (expected (channel, requirements) for a group "
                "with neither preferred agents nor an expression)"
            )
        if agents is not None and not (
            isinstance(agents, tuple)
            and agents
            and all(isinstance(agent, str) and agent for agent in agents)
            and len(set(agents)) == len(agents)
        ):
            raise InvalidInputError(
                f"agents: got {bounded_repr(agents)} (expected a non-empty tuple of distinct "
                "agent ids, or no agents for an unrestricted group)"
            )
    if not isinstance(channel, str) or not channel:
        raise InvalidInputError(f"channel: got {bounded_repr(channel)} (expected a channel name)")
    previous: str | None = None
    for pair in skills:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidInputError(f"skills: got the item {bounded_repr(pair)} {expected}")
        name, level = pair
        if (
            not isinstance(name, str)
            or (previous is not None and not previous < name)
            or isinstance(level, bool)
            or not isinstance(level, int | float)
            or not -_FLOAT_MAX <= level <= _FLOAT_MAX
        ):
            raise InvalidInputError(
                f"skills: got {bounded_repr(name)} at level {bounded_repr(level)} {expected}"
            )
        previous = name


def _checked_iter(groups: object) -> Iterable[Any]:
    """``groups`` if it is an iterable that could hold groups, else InvalidInputError."""
    if not isinstance(groups, Iterable) or isinstance(groups, str | bytes | Mapping):
        raise InvalidInputError(
            f"groups: got {bounded_repr(groups)} of type {type(groups).__name__} "
            "(expected an iterable of RequirementGroup, such as the list's groups)"
        )
    return groups


def _check_groups(groups: object) -> None:
    """Refuse what is not an iterable of requirement groups, naming ``groups``."""
    for group in _checked_iter(groups):
        if not isinstance(group, RequirementGroup):
            raise InvalidInputError(
                f"groups: got the item {bounded_repr(group)} of type {type(group).__name__} "
                "(expected RequirementGroup items, from the list's groups or group_for)"
            )


def _is_time(now: object) -> TypeGuard[float]:
    """Whether ``now`` is a number a time can be: a float, or an int (not a bool)
    that a float holds. Non-finite floats are left to the caller's comparisons."""
    if type(now) is float:
        return True
    if isinstance(now, bool):
        return False
    if isinstance(now, int):
        return -_FLOAT_MAX <= now <= _FLOAT_MAX
    return isinstance(now, float)


def _check_policy(policy: object) -> None:
    """Refuse what is not a scoring policy: a ``name`` string and a callable ``segment``."""
    if isinstance(policy, type) or not (
        callable(getattr(policy, "segment", None))
        and isinstance(getattr(policy, "name", None), str)
    ):
        raise InvalidInputError(
            f"policy: got {bounded_repr(policy)} of type {type(policy).__name__} (expected a "
            "scoring policy: a 'name' string and a 'segment(task, now)' method; "
            "valueroute.scoring.policy_by_name makes one from a name, as_policy from a function)"
        )


def _filter(
    type: str | None,
    channel: str | None,
    department: str | None,
    process: str | None,
    state: str | None,
) -> Callable[[Task], bool] | None:
    wanted = [
        (name, value)
        for name, value in (
            ("type", type),
            ("channel", channel),
            ("department", department),
            ("process", process),
            ("state", state),
        )
        if value is not None
    ]
    if not wanted:
        return None
    for name, value in wanted:
        if not isinstance(value, str):
            raise InvalidInputError(
                # (``type`` is a parameter here: the class is read directly.)
                f"{name}: got {bounded_repr(value)} of type {value.__class__.__name__} "
                "(expected a string to match, or None)"
            )

    def matches(task: Task) -> bool:
        return all(getattr(task, name) == value for name, value in wanted)

    return matches


def _needs_engine(spec: TaskSpec) -> InvalidInputError:
    """The refusal of a spec naming a calendar or a ``due_in``: only an engine resolves them."""
    field = "calendar" if spec.calendar is not None else "due_in"
    value = getattr(spec, field)
    return InvalidInputError(
        f"item.{field}: got {bounded_repr(value)} (expected a spec without calendar and "
        "due_in: an Engine resolves them from its calendars; or a Task record whose "
        "calendar and due are set)",
        [(f"item.{field}", value, "no calendar and no due_in")],
    )
