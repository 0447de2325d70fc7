"""Contact-centre KPIs from the engine's event stream, interval by interval.

One :class:`KpiAggregator` reads :class:`~valueroute.events.Event` s, live
(:meth:`KpiAggregator.attach` subscribes it to an engine) or from a file
(:func:`valueroute.journal.import_events` reads what
:func:`valueroute.journal.export_events` wrote), and :meth:`KpiAggregator.report`
returns a frozen :class:`KpiReport`: counts per fixed-length interval per
queue and task type, and per agent.

Tasks are counted in the interval they *arrived* in (their ``task_submitted``
event), as contact centres report: a call that arrives at 09:29 and is
answered at 09:31 is answered in the 09:00 half hour. Agent time is split at
interval boundaries by the clock. Tasks are grouped by the ``queue`` their
submission event names, or by their type when it names none.

Definitions (the simulator's, ``valueroute.sim.metrics``):

- *offered*: tasks submitted (from ``start`` on); *answered*: tasks that
  reached an agent (their first ``task_assigned``); *abandoned*: tasks
  cancelled with a reason in ``abandon_reasons`` before being answered;
  *abandoned short*: those that waited at most ``short_abandon_seconds``.
  Tasks cancelled for another reason, expired or rejected are counted apart.
- *service level* with target T (the ``sla_seconds`` setting of the task's
  queue, else of its type, else the default), by
  ``service_level_definition``: ``offered``: answered within T / (answered +
  abandoned); ``answered``: answered within T / answered;
  ``offered_excluding_short``: answered within T / (answered + abandoned −
  abandoned short). Within means a wait of at most T; for a queue or type
  given a calendar in ``working_time``, a wait of at most T working seconds
  of that calendar from the task's submission (the simulator's
  ``sla_clock = "working"``).
- *wait*: from the task's creation to its first assignment (the engine's
  ``wait`` payload) or to its abandonment (``age``); *ASA*: mean wait of
  answered tasks; *mean wait*: over answered and abandoned tasks; *p_wait*:
  share of offered tasks not answered at the instant they arrived.
- *p50/p90/p99 wait*: quantiles of answered waits, from a
  :class:`WaitHistogram` per queue and type (whole report, not per interval).
- *AHT*: mean handle time, assignment to the end of service (the task's
  wrap-up start, or its completion without wrap-up), of tasks whose service
  ended; *completed* counts those. Wrap-up is not part of it, as in the
  simulator.
- *mean queue*: time-average number of tasks waiting to be answered (those
  that arrived before ``start`` too) from ``start`` (or the first event) to
  the report's ``now``; *arrival rate per hour*: offered per hour of that
  window; *backlog*: tasks waiting to be answered at each interval start.
- *occupancy* of an agent: seconds holding at least one task (offered,
  assigned or in wrap-up; from the assignment when no offer event came
  first, as with auto-accept; a task offered to several agents at once is
  held by each until its own offer ends) / seconds logged in (any state but
  offline), as :meth:`valueroute.agents.Agent.talk_time` and
  ``logged_in_time`` count.
- *value KPIs*: a task's value is the one its latest event carried
  (``task_submitted``, then ``task_updated``); *value on time*: value of
  tasks answered by their due time, or without one within T; *value lost
  late*: value of tasks answered after that; *value lost abandoned*: value of
  abandoned tasks; *value SLA attainment*: value on time / (on time + late +
  abandoned). *Value lost expired*: value of expired or rejected tasks
  (outside the attainment ratio, as the simulator has none).

Memory is O(open tasks + intervals × queues + intervals × agents), the last
term O(agents) with ``agent_intervals=False``; one event costs O(1), plus
O(intervals crossed) when an agent's or a queue's span ends.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol, get_args

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.events import Event, EventKind

__all__ = [
    "KPI_EVENT_KINDS",
    "AgentCounts",
    "AgentInterval",
    "EventSource",
    "KpiAggregator",
    "KpiCounts",
    "KpiReport",
    "QueueInterval",
    "ServiceLevelDefinition",
    "WaitHistogram",
    "WorkingTime",
]

ServiceLevelDefinition = Literal["offered", "answered", "offered_excluding_short"]
"""How the service level's denominator is formed (see the module docstring)."""

_DEFINITIONS: tuple[str, ...] = get_args(ServiceLevelDefinition)

KPI_EVENT_KINDS: frozenset[EventKind] = frozenset(
    {
        EventKind.task_submitted,
        EventKind.task_updated,
        EventKind.task_offered,
        EventKind.offer_rejected,
        EventKind.offer_timed_out,
        EventKind.offer_revoked,
        EventKind.task_assigned,
        EventKind.task_transferred,
        EventKind.task_wrap_up,
        EventKind.task_completed,
        EventKind.task_canceled,
        EventKind.task_expired,
        EventKind.task_rejected,
        EventKind.agent_added,
        EventKind.agent_removed,
        EventKind.agent_state_changed,
    }
)
"""The event kinds the aggregator reads; :meth:`KpiAggregator.attach` subscribes to these only."""


class EventSource(Protocol):
    """Anything with the engine's ``subscribe(subscriber, *, kinds=...)``: an
    :class:`~valueroute.engine.Engine`, a ``DurableEngine``, a ``LockedEngine``."""

    def subscribe(
        self, subscriber: Callable[[Event], None], *, kinds: Iterable[EventKind | str] | None = None
    ) -> Callable[[], None]:
        """Call ``subscriber(event)`` for later events of ``kinds``; returns an unsubscribe."""
        ...


class WorkingTime(Protocol):
    """A calendar that counts working seconds: a
    :class:`~valueroute.calendar.BusinessCalendar`, or anything with its ``elapsed``."""

    def elapsed(self, a: float, b: float) -> float:
        """Working seconds from instant ``a`` to instant ``b``."""
        ...


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


class WaitHistogram:
    """Waits in logarithmic bins: exact zeros counted apart, then 100 bins per decade.

    Bins cover 1 ms to 10⁸ s; a quantile is interpolated geometrically inside
    its bin, so its relative error is below 2.4 % (half a bin). Fixed memory
    (1,101 integers); :meth:`add` is O(1), :meth:`quantile` O(bins). The same
    bins and interpolation as the simulator's, so the same waits give the
    same quantiles. Two histograms are equal when their counts are.
    """

    __slots__ = ("bins", "count", "zeros")

    LOW = 1e-3
    PER_DECADE = 100
    DECADES = 11
    SIZE = PER_DECADE * DECADES

    def __init__(self) -> None:
        self.zeros = 0
        self.count = 0
        self.bins = [0] * (self.SIZE + 1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WaitHistogram):
            return NotImplemented
        return (self.zeros, self.count, self.bins) == (other.zeros, other.count, other.bins)

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def add(self, seconds: float) -> None:
        """Count one wait of ``seconds`` (0 or less counts as no wait). O(1)."""
        self.count += 1
        if seconds <= 0.0:
            self.zeros += 1
            return
        if seconds < self.LOW:
            self.bins[0] += 1
            return
        index = int(math.log10(seconds / self.LOW) * self.PER_DECADE)
        self.bins[min(index, self.SIZE)] += 1

    def merge(self, other: WaitHistogram) -> None:
        """Add ``other``'s recorded waits to these. O(bins)."""
        self.zeros += other.zeros
        self.count += other.count
        self.bins = [a + b for a, b in zip(self.bins, other.bins, strict=True)]

    def copy(self) -> WaitHistogram:
        """An independent copy. O(bins)."""
        twin = WaitHistogram()
        twin.merge(self)
        return twin

    def quantile(self, q: float) -> float:
        """The q-quantile (0 <= q <= 1) of the recorded waits; NaN when empty."""
        number = _real(q)
        if number is None or not 0.0 <= number <= 1.0:
            raise _refusal("q", q, "a number from 0 to 1")
        if self.count == 0:
            return math.nan
        rank = number * self.count
        if rank <= self.zeros:
            return 0.0
        seen = float(self.zeros)
        for index, counted in enumerate(self.bins):
            if counted and seen + counted >= rank:
                fraction = (rank - seen) / counted
                lower: float = self.LOW * 10.0 ** (index / self.PER_DECADE)
                return float(lower * 10.0 ** (fraction / self.PER_DECADE))
            seen += counted
        return self.LOW * 10.0**self.DECADES


@dataclass(frozen=True, slots=True)
class KpiCounts:
    """Counters and sums of one queue and type over one interval (or added over several).

    Integers count tasks; ``*_seconds`` and ``value_*`` are sums. ``a + b``
    adds two. :meth:`kpis` turns them into the KPIs of the module docstring.
    """

    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    answered_at_once: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    canceled: int = 0
    expired: int = 0
    rejected: int = 0
    completed: int = 0
    wait_answered_seconds: float = 0.0
    wait_abandoned_seconds: float = 0.0
    handle_seconds: float = 0.0
    value_on_time: float = 0.0
    value_late: float = 0.0
    value_abandoned: float = 0.0
    value_expired: float = 0.0

    def __add__(self, other: KpiCounts) -> KpiCounts:
        """Field by field sum (for totals over intervals, queues or types)."""
        if not isinstance(other, KpiCounts):
            return NotImplemented
        return KpiCounts(*(getattr(self, name) + getattr(other, name) for name in _COUNT_FIELDS))

    def to_dict(self) -> dict[str, float]:
        """The counters and sums as a plain dict."""
        return {name: getattr(self, name) for name in _COUNT_FIELDS}

    def kpis(self, definition: ServiceLevelDefinition = "offered") -> dict[str, float]:
        """The KPIs under a service-level ``definition``; NaN where undefined (no tasks)."""
        closed = self.answered + self.abandoned
        if definition == "offered":
            base = closed
        elif definition == "answered":
            base = self.answered
        elif definition == "offered_excluding_short":
            base = closed - self.abandoned_short
        else:
            raise _refusal("definition", definition, f"one of {', '.join(_DEFINITIONS)}")
        value_closed = self.value_on_time + self.value_late + self.value_abandoned
        return {
            "offered": float(self.offered),
            "answered": float(self.answered),
            "answered_within": float(self.answered_within),
            "abandoned": float(self.abandoned),
            "abandoned_short": float(self.abandoned_short),
            "canceled": float(self.canceled),
            "expired": float(self.expired),
            "rejected": float(self.rejected),
            "completed": float(self.completed),
            "service_level": _ratio(self.answered_within, base),
            "p_wait": _ratio(self.offered - self.answered_at_once, self.offered),
            "abandonment_rate": _ratio(self.abandoned, closed),
            "asa": _ratio(self.wait_answered_seconds, self.answered),
            "mean_wait": _ratio(self.wait_answered_seconds + self.wait_abandoned_seconds, closed),
            "aht": _ratio(self.handle_seconds, self.completed),
            "value_on_time": self.value_on_time,
            "value_sla_attainment": _ratio(self.value_on_time, value_closed),
            "value_lost_late": self.value_late,
            "value_lost_abandoned": self.value_abandoned,
            "value_lost_expired": self.value_expired,
        }


_COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(KpiCounts))


@dataclass(frozen=True, slots=True)
class AgentCounts:
    """One agent's figures over one interval (or added over several): ``a + b`` adds two.

    ``offered``: offers made to it; ``answered``: tasks assigned to it;
    ``completed``: services it ended; ``handle_seconds``: their handle time;
    ``talk_seconds``: time holding at least one task; ``logged_in_seconds``:
    time in any state but offline.
    """

    offered: int = 0
    answered: int = 0
    completed: int = 0
    handle_seconds: float = 0.0
    talk_seconds: float = 0.0
    logged_in_seconds: float = 0.0

    def __add__(self, other: AgentCounts) -> AgentCounts:
        """Field by field sum."""
        if not isinstance(other, AgentCounts):
            return NotImplemented
        return AgentCounts(*(getattr(self, name) + getattr(other, name) for name in _AGENT_FIELDS))

    def to_dict(self) -> dict[str, float]:
        """The counters and sums as a plain dict."""
        return {name: getattr(self, name) for name in _AGENT_FIELDS}

    def kpis(self) -> dict[str, float]:
        """The counters with ``occupancy`` (talk / logged in) and ``aht``; NaN where undefined."""
        return {
            "offered": float(self.offered),
            "answered": float(self.answered),
            "completed": float(self.completed),
            "talk_seconds": self.talk_seconds,
            "logged_in_seconds": self.logged_in_seconds,
            "occupancy": _ratio(self.talk_seconds, self.logged_in_seconds),
            "aht": _ratio(self.handle_seconds, self.completed),
        }


_AGENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AgentCounts))


@dataclass(frozen=True, slots=True)
class QueueInterval:
    """The counts of the tasks of one queue and type that arrived in one interval."""

    interval_start: float
    queue: str
    type: str
    counts: KpiCounts


@dataclass(frozen=True, slots=True)
class AgentInterval:
    """One agent's figures within one interval of the clock."""

    interval_start: float
    agent: str
    counts: AgentCounts


TableName = Literal["intervals", "queues", "types", "agents", "agent_intervals", "backlog"]
_TABLES: tuple[str, ...] = get_args(TableName)


@dataclass(frozen=True, slots=True)
class KpiReport:
    """What a :class:`KpiAggregator` had counted at ``now``: frozen, plain data.

    ``queue_intervals`` and ``agent_intervals`` are sorted by interval start
    then name; only intervals with something counted appear. ``open_tasks``
    maps ``(queue, type)`` to ``(waiting, in_service)``: counted tasks still
    open at ``now`` (waiting: not in service nor wrap-up). ``queue_seconds``
    maps ``(interval start, queue, type)`` to the integral of the number of
    tasks waiting to be answered over that interval of the clock (from
    ``start``, to ``now``); ``window_seconds`` is the time the report covers,
    from ``start`` (or the first event) to ``now``.
    """

    now: float
    interval_seconds: float
    service_level_definition: ServiceLevelDefinition
    queue_intervals: tuple[QueueInterval, ...]
    agent_intervals: tuple[AgentInterval, ...]
    open_tasks: Mapping[tuple[str, str], tuple[int, int]]
    unmatched_events: int
    """Task events about tasks whose submission the aggregator never saw (not counted)."""
    queue_seconds: Mapping[tuple[float, str, str], float]
    window_seconds: float
    answered_waits: Mapping[tuple[str, str], WaitHistogram]
    """Per ``(queue, type)``: the waits of answered tasks (copies, for quantiles)."""
    backlog: Mapping[tuple[float, str, str], int]
    """Per ``(interval start, queue, type)``: tasks waiting to be answered at
    that instant (after every event at it: agents logging in at an opening
    and taking waiting work are in), those that arrived before ``start`` too,
    for interval starts up to ``now``; absent means 0."""

    def _totals(
        self, key: Callable[[QueueInterval], str], names: Iterable[str]
    ) -> dict[str, dict[str, float]]:
        if isinstance(names, str | bytes) or not isinstance(names, Iterable):
            raise _refusal("names", names, "an iterable of names")
        sums: dict[str, KpiCounts] = {}
        for name in names:
            if not isinstance(name, str):
                raise _refusal("names", name, "names as strings")
            sums[name] = _ZERO
        waiting: dict[str, list[int]] = {}
        areas: dict[str, float] = {}
        histograms: dict[str, WaitHistogram] = {}
        every_wait = WaitHistogram()
        for (queue, task_type), histogram in self.answered_waits.items():
            name = key(QueueInterval(0.0, queue, task_type, _ZERO))
            histograms.setdefault(name, WaitHistogram()).merge(histogram)
            every_wait.merge(histogram)
        for row in self.queue_intervals:
            name = key(row)
            sums[name] = sums.get(name, _ZERO) + row.counts
        for (_, queue, task_type), seconds in self.queue_seconds.items():
            name = key(QueueInterval(0.0, queue, task_type, _ZERO))
            areas[name] = areas.get(name, 0.0) + seconds
        for (queue, task_type), (queued, serving) in self.open_tasks.items():
            name = key(QueueInterval(0.0, queue, task_type, _ZERO))
            sums.setdefault(name, _ZERO)
            pair = waiting.setdefault(name, [0, 0])
            pair[0] += queued
            pair[1] += serving
        result: dict[str, dict[str, float]] = {}
        for name in sorted(sums):
            result[name] = self._with_open(
                sums[name],
                waiting.get(name, [0, 0]),
                areas.get(name, 0.0),
                histograms.get(name, _NO_WAITS),
            )
        every = sum(sums.values(), _ZERO)
        result["all"] = self._with_open(
            every,
            [
                sum(q for q, _ in self.open_tasks.values()),
                sum(s for _, s in self.open_tasks.values()),
            ],
            sum(areas.values()),
            every_wait,
        )
        return result

    def _with_open(
        self,
        counts: KpiCounts,
        open_pair: list[int],
        queue_seconds: float,
        waits: WaitHistogram,
    ) -> dict[str, float]:
        figures = counts.kpis(self.service_level_definition)
        figures["waiting_at_end"] = float(open_pair[0])
        figures["in_service_at_end"] = float(open_pair[1])
        window = self.window_seconds
        figures["mean_queue"] = _ratio(queue_seconds, window)
        figures["arrival_rate_per_hour"] = _ratio(3600.0 * counts.offered, window)
        figures["p50_wait"] = waits.quantile(0.5)
        figures["p90_wait"] = waits.quantile(0.9)
        figures["p99_wait"] = waits.quantile(0.99)
        return figures

    def by_queue(self, *, names: Iterable[str] = ()) -> dict[str, dict[str, float]]:
        """KPIs per queue over the whole report, and ``"all"``. O(rows).

        Besides :meth:`KpiCounts.kpis`: ``waiting_at_end``,
        ``in_service_at_end``, ``mean_queue`` (time-average number waiting
        to be answered over ``window_seconds``), ``arrival_rate_per_hour``
        and ``p50_wait``, ``p90_wait``, ``p99_wait`` (quantiles of answered
        waits). O(rows + groups × bins). ``names``: queues listed even when
        nothing was counted for them (zero counts, NaN ratios).
        """
        return self._totals(lambda row: row.queue, names)

    def by_type(self, *, names: Iterable[str] = ()) -> dict[str, dict[str, float]]:
        """KPIs per task type over the whole report, and ``"all"``, as :meth:`by_queue`;
        ``names``: types listed even when nothing was counted for them. O(rows)."""
        return self._totals(lambda row: row.type, names)

    def by_agent(self) -> dict[str, dict[str, float]]:
        """Per agent over the whole report: :meth:`AgentCounts.kpis`. O(rows)."""
        sums: dict[str, AgentCounts] = {}
        for row in self.agent_intervals:
            sums[row.agent] = sums.get(row.agent, _NO_AGENT_TIME) + row.counts
        return {agent: sums[agent].kpis() for agent in sorted(sums)}

    def intervals(self) -> list[dict[str, Any]]:
        """One plain dict per (interval, queue, type): its start, names, counts and KPIs."""
        return [
            {
                "interval_start": row.interval_start,
                "queue": row.queue,
                "type": row.type,
                **row.counts.kpis(self.service_level_definition),
            }
            for row in self.queue_intervals
        ]

    def agent_rows(self) -> list[dict[str, Any]]:
        """One plain dict per (interval, agent): its start, the agent and its KPIs."""
        return [
            {"interval_start": row.interval_start, "agent": row.agent, **row.counts.kpis()}
            for row in self.agent_intervals
        ]

    def to_dict(self) -> dict[str, Any]:
        """Every table as plain data (NaN where a KPI is undefined)."""
        return {
            "now": self.now,
            "interval_seconds": self.interval_seconds,
            "service_level_definition": self.service_level_definition,
            "intervals": self.intervals(),
            "queues": self.by_queue(),
            "types": self.by_type(),
            "agents": self.by_agent(),
            "agent_intervals": self.agent_rows(),
            "queue_seconds": [
                {"interval_start": start, "queue": queue, "type": task_type, "seconds": seconds}
                for (start, queue, task_type), seconds in sorted(self.queue_seconds.items())
            ],
            "window_seconds": self.window_seconds,
            "backlog": [
                {"interval_start": start, "queue": queue, "type": task_type, "waiting": waiting}
                for (start, queue, task_type), waiting in sorted(self.backlog.items())
            ],
            "unmatched_events": self.unmatched_events,
        }

    def to_pandas(self, table: TableName = "intervals") -> Any:
        """A pandas DataFrame of one table: ``"intervals"`` (per interval, queue and
        type), ``"queues"``, ``"types"``, ``"agents"`` (one row each, with
        ``"all"``), ``"agent_intervals"`` or ``"backlog"`` (per interval start,
        queue and type: the number waiting and the seconds waited in the interval).

        pandas is optional (the ``pandas`` extra); without it this raises
        :class:`~valueroute.errors.InvalidInputError` naming the extra.
        """
        if not isinstance(table, str) or table not in _TABLES:
            raise _refusal("table", table, f"one of {', '.join(_TABLES)}")
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "to_pandas needs pandas: pip install 'valueroute[pandas]'",
                [("pandas", None, "installed")],
            ) from None
        if table == "intervals":
            return pd.DataFrame(self.intervals())
        if table == "agent_intervals":
            return pd.DataFrame(self.agent_rows())
        if table == "backlog":
            keys = sorted(set(self.backlog) | set(self.queue_seconds))
            return pd.DataFrame(
                [
                    {
                        "interval_start": start,
                        "queue": queue,
                        "type": task_type,
                        "waiting": self.backlog.get((start, queue, task_type), 0),
                        "queue_seconds": self.queue_seconds.get((start, queue, task_type), 0.0),
                    }
                    for start, queue, task_type in keys
                ]
            )
        totals = {"queues": self.by_queue, "types": self.by_type, "agents": self.by_agent}[table]()
        label = {"queues": "queue", "types": "type", "agents": "agent"}[table]
        return pd.DataFrame([{label: name, **figures} for name, figures in totals.items()])


_ZERO = KpiCounts()
_NO_AGENT_TIME = AgentCounts()
_NO_WAITS = WaitHistogram()


# ------------------------------------------------------------------ running state


class _Cell:
    """Mutable counters of one (interval, queue, type) while aggregating."""

    __slots__ = _COUNT_FIELDS

    def __init__(self) -> None:
        for name in _COUNT_FIELDS:
            setattr(self, name, 0)

    def frozen(self) -> KpiCounts:
        return KpiCounts(*(getattr(self, name) for name in _COUNT_FIELDS))


class _Queue:
    """How many tasks of one (queue, type) wait to be answered, since when,
    the integral of that number per clock interval, and the number at each
    interval boundary."""

    __slots__ = ("area", "backlog", "covered", "since", "waiting", "waits")

    def __init__(self) -> None:
        self.waiting = 0
        self.since = -math.inf
        # The last interval whose starting number is final (None: before the first task).
        self.covered: int | None = None
        self.area: dict[int, float] = {}
        # interval index -> tasks waiting at its start (only numbers above 0)
        self.backlog: dict[int, int] = {}
        # Waits of the counted tasks answered (for the quantiles).
        self.waits = WaitHistogram()


class _Profile:
    """What every task of one (queue, type) shares: its target, calendar and
    queue, and the counters of the interval its latest task arrived in."""

    __slots__ = ("calendar", "cell", "cell_index", "group", "queue", "target")

    def __init__(self, group: tuple[str, str], target: float, calendar: WorkingTime | None) -> None:
        self.group = group
        self.target = target
        self.calendar = calendar
        self.queue = _Queue()
        self.cell_index: int | None = None
        self.cell: _Cell | None = None


class _Task:
    """One open task as the aggregator follows it (its queue, target and
    calendar are its profile's, shared by every task of its queue and type)."""

    __slots__ = (
        "answered",
        "arrived",
        "cell",
        "due",
        "holder",
        "others",
        "profile",
        "service_figures",
        "service_start",
        "value",
        "wrapping",
    )

    def __init__(
        self,
        profile: _Profile,
        cell: _Cell | None,
        arrived: float,
        value: float,
        due: float | None,
    ) -> None:
        self.profile = profile
        self.cell = cell
        self.arrived = arrived
        self.value = value
        self.due = due
        self.answered = False
        self.holder: _Agent | None = None
        # Agents holding further live offers of the task (concurrent offers),
        # by id, oldest first; None while it has at most one.
        self.others: dict[str, _Agent] | None = None
        self.service_start: float | None = None
        # The holder's figures in the interval its service began.
        self.service_figures: list[float] | None = None
        self.wrapping = False


class _Agent:
    """One agent's open spans and per-interval figures."""

    __slots__ = ("cell", "cell_index", "held", "holding_since", "intervals", "online_since")

    def __init__(self) -> None:
        self.held = 0
        self.holding_since: float | None = None
        self.online_since: float | None = None
        # interval index -> [offered, answered, completed, handle, talk, logged_in]
        self.intervals: dict[int, list[float]] = {}
        # The figures of the interval last written (most events fall in it).
        self.cell_index: int | None = None
        self.cell: list[float] = []


_OFFERED, _ANSWERED, _COMPLETED, _HANDLE, _TALK, _LOGGED = range(6)


def _real(value: object) -> float | None:
    if type(value) is float:
        # x - x == 0 holds exactly for finite floats, fails for inf and nan.
        return value if value - value == 0.0 else None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _refusal(field: str, value: object, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: got {bounded_repr(value)} (expected {expected})", [(field, value, expected)]
    )


def _seconds(name: str, value: object, *, positive: bool) -> float:
    number = _real(value)
    expected = "a finite number of seconds" + (" > 0" if positive else " >= 0")
    if number is None or number < 0 or (positive and number == 0):
        raise _refusal(name, value, expected)
    return number


class KpiAggregator:
    """Turns engine events into interval KPIs per queue, task type and agent.

    Keyword arguments:

    - ``interval_seconds``: length of the report intervals (default 1,800: half hours);
    - ``origin``: an instant on an interval boundary (default 0: intervals
      start at whole multiples of ``interval_seconds``, so on the hour for
      epoch seconds in UTC);
    - ``start``: tasks submitted before it are not counted and agent time
      before it neither (a warm-up; default ``None``: everything);
    - ``sla_seconds``: the service-level target T, a number for every task or
      a mapping from queue or type name to a number, with ``"*"`` for the
      rest (default 20 s);
    - ``service_level_definition``: ``"offered"`` (default), ``"answered"``
      or ``"offered_excluding_short"``;
    - ``short_abandon_seconds``: abandonments within this wait are short (default 5 s);
    - ``abandon_reasons``: cancellation reasons that count as abandoned
      (default ``("abandoned",)``);
    - ``working_time``: a mapping from queue or type name to a
      :class:`WorkingTime` calendar: the waits of those tasks are held
      against T in the calendar's working seconds (queue first, then type;
      ``"*"`` for the rest). Default: none, every wait in wall-clock seconds.
    - ``agent_intervals``: keep each agent's figures per interval (``True``,
      the default) or over the whole report only (``False``: one row per
      agent in :attr:`KpiReport.agent_intervals`, dated at the start of the
      report's window, and memory O(agents) instead of O(agents ×
      intervals); the simulator's choice, which reports agent time per group
      over the run).

    Anything else raises :class:`~valueroute.errors.InvalidInputError` naming the argument.
    Feed events with :meth:`add` or :meth:`feed` in the engine's order;
    :meth:`report` gives the figures so far and changes nothing.
    """

    def __init__(
        self,
        *,
        interval_seconds: float = 1800.0,
        origin: float = 0.0,
        start: float | None = None,
        sla_seconds: float | Mapping[str, float] = 20.0,
        service_level_definition: ServiceLevelDefinition = "offered",
        short_abandon_seconds: float = 5.0,
        abandon_reasons: Iterable[str] = ("abandoned",),
        working_time: Mapping[str, WorkingTime] | None = None,
        agent_intervals: bool = True,
    ) -> None:
        self.interval_seconds = _seconds("interval_seconds", interval_seconds, positive=True)
        if not isinstance(agent_intervals, bool):
            raise _refusal("agent_intervals", agent_intervals, "True or False")
        self.agent_intervals = agent_intervals
        origin_number = _real(origin)
        if origin_number is None:
            raise _refusal("origin", origin, "a finite time in seconds")
        self.origin = origin_number
        if start is None:
            self.start = -math.inf
        else:
            start_number = _real(start)
            if start_number is None:
                raise _refusal("start", start, "None or a finite time in seconds")
            self.start = start_number
        if isinstance(sla_seconds, Mapping):
            targets: dict[str, float] = {}
            for name, target in sla_seconds.items():
                if not isinstance(name, str):
                    raise _refusal("sla_seconds", name, "queue or type names as keys")
                targets[name] = _seconds(f"sla_seconds[{name!r}]", target, positive=False)
            self._default_target = targets.pop("*", 20.0)
            self._targets = targets
        else:
            self._default_target = _seconds("sla_seconds", sla_seconds, positive=False)
            self._targets = {}
        if not isinstance(service_level_definition, str) or (
            service_level_definition not in _DEFINITIONS
        ):
            raise _refusal(
                "service_level_definition",
                service_level_definition,
                f"one of {', '.join(_DEFINITIONS)}",
            )
        self.service_level_definition: ServiceLevelDefinition = service_level_definition
        self.short_abandon_seconds = _seconds(
            "short_abandon_seconds", short_abandon_seconds, positive=False
        )
        if isinstance(abandon_reasons, str | bytes) or not isinstance(abandon_reasons, Iterable):
            raise _refusal("abandon_reasons", abandon_reasons, "an iterable of reason strings")
        reasons = tuple(abandon_reasons)
        for reason in reasons:
            if not isinstance(reason, str):
                raise _refusal("abandon_reasons", reason, "reason strings")
        self.abandon_reasons = frozenset(reasons)
        calendars: dict[str, WorkingTime] = {}
        if working_time is not None:
            if not isinstance(working_time, Mapping):
                raise _refusal(
                    "working_time", working_time, "None or a mapping of names to calendars"
                )
            for name, calendar in working_time.items():
                if not isinstance(name, str):
                    raise _refusal("working_time", name, "queue or type names as keys")
                if not callable(getattr(calendar, "elapsed", None)):
                    raise _refusal(
                        f"working_time[{name!r}]",
                        calendar,
                        "a calendar with elapsed(a, b), such as a BusinessCalendar",
                    )
                calendars[name] = calendar
        self._default_calendar = calendars.pop("*", None)
        self._calendars = calendars
        self._cells: dict[tuple[int, str, str], _Cell] = {}
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._profiles: dict[tuple[str | None, str], _Profile] = {}
        self._first = math.nan
        self._tasks: dict[str, _Task] = {}
        self._agents: dict[str, _Agent] = {}
        self._last_seq = -1
        self._now = -math.inf
        self._unmatched = 0
        # The interval the latest time fell in (most events fall in the same one).
        self._index = 0
        self._low = math.inf
        self._high = -math.inf
        self._handlers: dict[EventKind, Callable[[Event], None]] = {
            EventKind.task_submitted: self._submitted,
            EventKind.task_updated: self._updated,
            EventKind.task_offered: self._offered,
            EventKind.offer_rejected: self._unoffered,
            EventKind.offer_timed_out: self._unoffered,
            EventKind.offer_revoked: self._unoffered,
            EventKind.task_assigned: self._assigned,
            EventKind.task_transferred: self._transferred,
            EventKind.task_wrap_up: self._wrap_up,
            EventKind.task_completed: self._completed,
            EventKind.task_canceled: self._canceled,
            EventKind.task_expired: self._expired,
            EventKind.task_rejected: self._expired,
            EventKind.agent_added: self._agent_state,
            EventKind.agent_state_changed: self._agent_state,
            EventKind.agent_removed: self._agent_removed,
        }

    # ------------------------------------------------------------ feeding

    def attach(self, engine: EventSource) -> Callable[[], None]:
        """Subscribe to ``engine``'s later events (only :data:`KPI_EVENT_KINDS`).

        Returns the function that unsubscribes. Attach before the first task
        is submitted: events about tasks submitted earlier are counted in
        :attr:`KpiReport.unmatched_events` instead.
        """
        subscribe = getattr(engine, "subscribe", None)
        if not callable(subscribe):
            raise _refusal("engine", engine, "an engine with subscribe(subscriber, kinds=...)")
        unsubscribe: Callable[[], None] = subscribe(self.add, kinds=KPI_EVENT_KINDS)
        return unsubscribe

    def feed(self, events: Iterable[Event]) -> int:
        """:meth:`add` every event of ``events`` in order; returns how many. O(events).

        A refused event raises as :meth:`add` does; the events before it stay counted.
        """
        if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
            raise _refusal("events", events, "an iterable of Event")
        return self._count(events)

    def add(self, event: Event) -> None:
        """Count one event. Events must come in the engine's order: increasing
        ``seq``, time never going back; kinds outside :data:`KPI_EVENT_KINDS`
        are passed over. A refused event raises
        :class:`~valueroute.errors.InvalidInputError` and changes nothing. O(1)
        (an agent's span ending costs O(intervals it crossed))."""
        self._count((event,))

    def _count(self, events: Iterable[Event]) -> int:
        """Count ``events`` in order (what :meth:`add` does for each); returns how
        many. One loop for a batch: a simulated run feeds every event through here."""
        handlers = self._handlers
        count = 0
        for event in events:
            if type(event) is not Event and not isinstance(event, Event):
                raise _refusal("event", event, "an Event")
            seq, time, kind = event[0], event[1], event[2]
            if seq <= self._last_seq:
                raise _refusal(
                    "event.seq", seq, f"a sequence number above the last one, {self._last_seq}"
                )
            if time < self._now:
                raise _refusal("event.time", time, f"a time at or after the last one, {self._now}")
            handler = handlers.get(kind)
            if handler is not None:
                handler(event)
                if self._first != self._first:  # nan: the first event counted
                    self._first = time
            self._last_seq = seq
            self._now = time
            count += 1
        return count

    # ------------------------------------------------------------ task events

    def _interval(self, time: float) -> int:
        """The index k of the interval holding ``time``: origin + k·length <= time <
        origin + (k + 1)·length, with the boundaries as floats compute them."""
        if self._low <= time < self._high:
            return self._index
        length = self.interval_seconds
        origin = self.origin
        index = math.floor((time - origin) / length)
        # The division may round across a boundary; the boundaries themselves decide.
        if origin + index * length > time:
            index -= 1
        elif origin + (index + 1) * length <= time:
            index += 1
        self._index = index
        self._low = origin + index * length
        self._high = origin + (index + 1) * length
        return index

    def _number(self, event: Event, name: str, *, optional: bool) -> float | None:
        value = event.data.get(name)
        if type(value) is float and value - value == 0.0:
            return value
        if value is None and optional:
            return None
        number = _real(value)
        if number is None:
            raise _refusal(
                f"event {event.seq} ({event.kind.value}) data.{name}",
                value,
                "a finite number" + (" or None" if optional else ""),
            )
        return number

    def _submitted(self, event: Event) -> None:
        task_id = event.task
        if task_id is None:
            raise _refusal(f"event {event.seq} (task_submitted) task", None, "a task id")
        data = event.data
        task_type = data.get("type")
        if not isinstance(task_type, str):
            raise _refusal(
                f"event {event.seq} (task_submitted) data.type", task_type, "a type name"
            )
        queue = data.get("queue")
        if queue is not None and not isinstance(queue, str):
            self._profile(event, queue, task_type)  # refuses it
        profile = self._profiles.get((queue, task_type))
        if profile is None:
            profile = self._profile(event, queue, task_type)
        value = data.get("value")
        if type(value) is not float or value - value != 0.0:
            value = self._number(event, "value", optional=False)
        due = data.get("due")
        if due is not None and (type(due) is not float or due - due != 0.0):
            due = self._number(event, "due", optional=True)
        time = event.time
        cell: _Cell | None = None
        if time >= self.start:
            index = self._index if self._low <= time < self._high else self._interval(time)
            if index == profile.cell_index:
                cell = profile.cell
            else:
                group = profile.group
                key = (index, group[0], group[1])
                cell = self._cells.get(key)
                if cell is None:
                    cell = self._cells[key] = _Cell()
                profile.cell_index = index
                profile.cell = cell
            cell.offered += 1  # type: ignore[union-attr]
        assert value is not None
        self._tasks[task_id] = _Task(profile, cell, time, value, due)
        self._queue_change(profile.queue, 1, time)

    def _profile(self, event: Event, raw: object, task_type: str) -> _Profile:
        """The shared settings of a (queue, type) seen for the first time."""
        queue = raw
        if queue is None:
            queue = task_type
        elif not isinstance(queue, str):
            raise _refusal(f"event {event.seq} (task_submitted) data.queue", queue, "a queue name")
        target = self._targets.get(queue)
        if target is None:
            target = self._targets.get(task_type, self._default_target)
        calendar = self._default_calendar
        if self._calendars:
            calendar = self._calendars.get(queue) or self._calendars.get(task_type, calendar)
        # Validated first: a refused event leaves no profile behind.
        value = event.data.get("value")
        if type(value) is not float or value - value != 0.0:
            self._number(event, "value", optional=False)
        if event.data.get("due") is not None:
            self._number(event, "due", optional=True)
        group = (queue, task_type)
        profile = _Profile(group, target, calendar)
        existing = self._queues.get(group)
        if existing is not None:
            profile.queue = existing
        else:
            self._queues[group] = profile.queue
        self._profiles[(None if raw is None else queue, task_type)] = profile
        return profile

    def _task(self, event: Event) -> _Task | None:
        task = self._tasks.get(event.task) if event.task is not None else None
        if task is None:
            self._unmatched += 1
        return task

    def _updated(self, event: Event) -> None:
        task = self._task(event)
        if task is None:
            return
        data = event.data
        value = self._number(event, "value", optional=True) if "value" in data else None
        due = self._number(event, "due", optional=True) if "due" in data else task.due
        if value is not None:
            task.value = value
        task.due = due

    def _offered(self, event: Event) -> None:
        task = self._task(event)
        name = event.agent
        if task is None or name is None:
            return
        agent = self._agents.get(name)
        if agent is None:
            agent = self._agents[name] = _Agent()
        if task.holder is None:
            task.holder = agent
        else:
            # One more agent offered the same task at once: it holds it too.
            if task.others is None:
                task.others = {}
            task.others[name] = agent
        time = event.time
        if agent.held == 0:
            agent.holding_since = time
        agent.held += 1
        if time >= self.start:
            self._agent_cell(agent, time)[_OFFERED] += 1

    def _unoffered(self, event: Event) -> None:
        task = self._task(event)
        if task is None:
            return
        others = task.others
        if others:
            # One of several live offers ends: its agent lets go; the oldest
            # other offer becomes the task's holder when it was the holder's.
            mine = others.pop(event.agent, None) if event.agent is not None else None
            if mine is not None:
                self._let_go(mine, event.time)
            else:
                if task.holder is not None:
                    self._let_go(task.holder, event.time)
                name = next(iter(others))
                task.holder = others.pop(name)
            if not others:
                task.others = None
            return
        self._release(task, event.time)

    def _assigned(self, event: Event) -> None:
        task = self._tasks.get(event.task) if event.task is not None else None
        if task is None:
            self._unmatched += 1
            return
        wait = event.data.get("wait")
        if type(wait) is not float or wait - wait != 0.0:
            wait = self._number(event, "wait", optional=True)
        now = event.time
        if wait is None:
            wait = now - task.arrived
        profile = task.profile
        held_wait = wait
        answered = task.answered
        if profile.calendar is not None and not answered:
            # Before any change: a calendar may refuse the instants.
            held_wait = profile.calendar.elapsed(task.arrived, now)
        holder = task.holder
        agent_id = event.agent
        if holder is None and agent_id is not None:
            # An assignment without an offer event before it (a stream that
            # never had offers, or auto-accept): the agent holds the task from now on.
            holder = self._agents.get(agent_id)
            if holder is None:
                holder = self._agents[agent_id] = _Agent()
            task.holder = holder
            if holder.held == 0:
                holder.holding_since = now
            holder.held += 1
        task.service_start = now
        if holder is not None and now >= self.start:
            if (
                (self._low <= now < self._high and holder.cell_index == self._index)
                if self.agent_intervals
                else holder.cell_index == 0
            ):
                figures = holder.cell
            else:
                figures = self._agent_cell(holder, now)
            task.service_figures = figures
            figures[_ANSWERED] += 1
        if answered:
            return
        task.answered = True
        queue = profile.queue
        self._queue_change(queue, -1, now)
        cell = task.cell
        if cell is None:
            return
        cell.answered += 1  # type: ignore[attr-defined]
        cell.wait_answered_seconds += wait  # type: ignore[attr-defined]
        queue.waits.add(wait)
        if wait <= 0.0:
            cell.answered_at_once += 1  # type: ignore[attr-defined]
        target = profile.target
        if held_wait <= target:
            cell.answered_within += 1  # type: ignore[attr-defined]
        due = task.due
        if (held_wait <= target) if due is None else (now <= due):
            cell.value_on_time += task.value  # type: ignore[attr-defined]
        else:
            cell.value_late += task.value  # type: ignore[attr-defined]

    def _end_service(self, task: _Task, now: float, *, completed: bool) -> None:
        start = task.service_start
        if start is None:
            return
        task.service_start = None
        handle = now - start
        if task.cell is not None and completed:
            task.cell.completed += 1  # type: ignore[attr-defined]
            task.cell.handle_seconds += handle  # type: ignore[attr-defined]
        elif task.cell is not None:
            task.cell.handle_seconds += handle  # type: ignore[attr-defined]
        figures = task.service_figures
        if figures is not None:
            task.service_figures = None
            figures[_HANDLE] += handle
            if completed:
                figures[_COMPLETED] += 1

    def _transferred(self, event: Event) -> None:
        task = self._task(event)
        if task is None:
            return
        self._end_service(task, event.time, completed=False)
        task.wrapping = False
        self._release(task, event.time)

    def _wrap_up(self, event: Event) -> None:
        task = self._task(event)
        if task is None:
            return
        self._end_service(task, event.time, completed=True)
        task.wrapping = True

    def _completed(self, event: Event) -> None:
        task = self._tasks.pop(event.task, None) if event.task is not None else None
        if task is None:
            self._unmatched += 1
            return
        now = event.time
        # _end_service and _release inline (the task is gone, so its own
        # fields are left as they are): a completion per task.
        start = task.service_start
        if start is not None:
            handle = now - start
            cell = task.cell
            if cell is not None:
                cell.completed += 1  # type: ignore[attr-defined]
                cell.handle_seconds += handle  # type: ignore[attr-defined]
            figures = task.service_figures
            if figures is not None:
                figures[_HANDLE] += handle
                figures[_COMPLETED] += 1
        agent = task.holder
        if agent is not None:
            agent.held -= 1
            since = agent.holding_since
            if agent.held == 0 and since is not None:
                agent.holding_since = None
                if since >= self.start and (
                    (self._low <= since and now < self._high and agent.cell_index == self._index)
                    if self.agent_intervals
                    else agent.cell_index == 0
                ):
                    # The agent's cell of the span's one interval (of the
                    # whole run without agent intervals), as _span would find it.
                    agent.cell[_TALK] += now - since
                else:
                    self._span(agent, _TALK, since, now)

    def _canceled(self, event: Event) -> None:
        task = self._closing(event)
        if task is None:
            return
        cell = task.cell
        if cell is None:
            return
        reason = event.data.get("reason")
        if task.answered or reason not in self.abandon_reasons:
            cell.canceled += 1  # type: ignore[attr-defined]
            return
        wait = self._number(event, "age", optional=True)
        if wait is None:
            wait = event.time - task.arrived
        cell.abandoned += 1  # type: ignore[attr-defined]
        cell.wait_abandoned_seconds += wait  # type: ignore[attr-defined]
        cell.value_abandoned += task.value  # type: ignore[attr-defined]
        if wait <= self.short_abandon_seconds:
            cell.abandoned_short += 1  # type: ignore[attr-defined]

    def _expired(self, event: Event) -> None:
        task = self._closing(event)
        if task is None or task.cell is None:
            return
        cell = task.cell
        if event.kind is EventKind.task_expired:
            cell.expired += 1  # type: ignore[attr-defined]
        else:
            cell.rejected += 1  # type: ignore[attr-defined]
        cell.value_expired += task.value  # type: ignore[attr-defined]

    def _closing(self, event: Event) -> _Task | None:
        """The task an event closes without service, taken out (its offer released)."""
        if event.kind is EventKind.task_canceled or event.kind is EventKind.task_expired:
            # Validate the payload before anything changes.
            self._number(event, "age", optional=True)
        task = self._tasks.pop(event.task, None) if event.task is not None else None
        if task is None:
            self._unmatched += 1
            return None
        self._release(task, event.time)
        if not task.answered:
            self._queue_change(task.profile.queue, -1, event.time)
        return task

    # ------------------------------------------------------------ agents

    def _queue_change(self, queue: _Queue, delta: int, now: float) -> None:
        waiting = queue.waiting
        if self._low < now < self._high and queue.covered == self._index:
            # Inside the interval of the latest event, every boundary up to it
            # already final: no backlog to write, at most one area cell.
            if waiting:
                since = queue.since
                if since >= self._low and since >= self.start:
                    area = queue.area
                    index = self._index
                    area[index] = area.get(index, 0.0) + waiting * (now - since)
                else:
                    self._add_area(queue.area, waiting, since, now)
            queue.since = now
            queue.waiting = waiting + delta
            return
        if waiting:
            self._add_area(queue.area, queue.waiting, queue.since, now)
        index = self._interval(now)
        # A boundary at this very instant is final only once every event at it is in.
        final = index if self._low < now else index - 1
        covered = queue.covered
        if covered is None or covered >= final:
            queue.covered = final if covered is None else covered
        else:
            if queue.waiting:
                # Every boundary since the last change saw the number as it was.
                for boundary in range(covered + 1, final + 1):
                    queue.backlog[boundary] = queue.waiting
            queue.covered = final
        queue.since = now
        queue.waiting += delta

    def _add_area(self, area: dict[int, float], height: int, begin: float, end: float) -> None:
        """Add ``height`` × the time from ``begin`` to ``end`` (after ``start``) to
        the clock intervals it crosses."""
        if begin < self.start:
            begin = self.start
        while begin < end:
            index = self._interval(begin)
            boundary = self._high
            stop = end if end < boundary else boundary
            area[index] = area.get(index, 0.0) + height * (stop - begin)
            begin = stop

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _Agent()
        return agent

    def _agent_cell(self, agent: _Agent, time: float) -> list[float]:
        # Without agent intervals every figure goes to one cell, index 0.
        index = self._interval(time) if self.agent_intervals else 0
        if index == agent.cell_index:
            return agent.cell
        figures = agent.intervals.get(index)
        if figures is None:
            figures = agent.intervals[index] = [0, 0, 0, 0.0, 0.0, 0.0]
        agent.cell_index = index
        agent.cell = figures
        return figures

    def _hold(self, agent: _Agent, now: float) -> None:
        if agent.held == 0:
            agent.holding_since = now
        agent.held += 1

    def _release(self, task: _Task, now: float) -> None:
        others = task.others
        if others is not None:
            task.others = None
            for other in others.values():
                self._let_go(other, now)
        agent = task.holder
        if agent is None:
            return
        task.holder = None
        self._let_go(agent, now)

    def _let_go(self, agent: _Agent, now: float) -> None:
        """``agent`` holds one task fewer from ``now``."""
        agent.held -= 1
        if agent.held == 0 and agent.holding_since is not None:
            self._span(agent, _TALK, agent.holding_since, now)
            agent.holding_since = None

    def _span(self, agent: _Agent, slot: int, begin: float, end: float) -> None:
        if begin < self.start:
            begin = self.start
        if self._low <= begin <= end < self._high:
            # Within the interval of the latest event: one cell, no walk.
            self._agent_cell(agent, begin)[slot] += end - begin
            return
        self._span_into(agent.intervals, slot, begin, end)

    def _agent_state(self, event: Event) -> None:
        if event.agent is None:
            return
        state = event.data.get("state")
        if not isinstance(state, str):
            raise _refusal(
                f"event {event.seq} ({event.kind.value}) data.state", state, "an agent state name"
            )
        agent = self._agent(event.agent)
        if state == "offline":
            self._log_out(agent, event.time)
        elif agent.online_since is None:
            agent.online_since = event.time

    def _agent_removed(self, event: Event) -> None:
        if event.agent is not None and event.agent in self._agents:
            self._log_out(self._agents[event.agent], event.time)

    def _log_out(self, agent: _Agent, now: float) -> None:
        if agent.online_since is not None:
            self._span(agent, _LOGGED, agent.online_since, now)
            agent.online_since = None

    # ------------------------------------------------------------ reporting

    def report(self, *, now: float | None = None) -> KpiReport:
        """The figures so far, with agents' open spans counted up to ``now``.

        ``now`` defaults to the time of the last event and may not be before
        it. O(cells + open tasks + agents × intervals); the aggregator is left
        as it was, so it can go on counting.
        """
        if now is None:
            at = self._now if self._now > -math.inf else self.origin
        else:
            number = _real(now)
            if number is None or number < self._now:
                raise _refusal("now", now, f"a finite time at or after the last event, {self._now}")
            at = number
        length = self.interval_seconds
        origin = self.origin
        queues = tuple(
            QueueInterval(origin + index * length, queue, task_type, cell.frozen())
            for (index, queue, task_type), cell in sorted(self._cells.items())
        )
        open_tasks: dict[tuple[str, str], list[int]] = {}
        for task in self._tasks.values():
            if task.cell is None:
                continue
            pair = open_tasks.setdefault(task.profile.group, [0, 0])
            if task.service_start is not None:
                pair[1] += 1
            elif not task.wrapping:
                pair[0] += 1
        begin = self.start if self.start > -math.inf else self._first
        window_start = begin if begin == begin else origin  # nan: no event counted
        rows: list[AgentInterval] = []
        for name in sorted(self._agents):
            agent = self._agents[name]
            figures = {index: list(values) for index, values in agent.intervals.items()}
            for slot, since in ((_TALK, agent.holding_since), (_LOGGED, agent.online_since)):
                if since is not None:
                    self._span_into(figures, slot, since, at)
            for index in sorted(figures):
                row_start = origin + index * length if self.agent_intervals else window_start
                offered, answered, completed, handle, talk, logged = figures[index]
                rows.append(
                    AgentInterval(
                        row_start,
                        name,
                        AgentCounts(
                            int(offered), int(answered), int(completed), handle, talk, logged
                        ),
                    )
                )
        rows.sort(key=lambda row: (row.interval_start, row.agent))
        queue_seconds: dict[tuple[float, str, str], float] = {}
        backlog: dict[tuple[float, str, str], int] = {}
        last = self._interval(at)
        for (queue, task_type), waiting in sorted(self._queues.items()):
            area = dict(waiting.area)
            counts = dict(waiting.backlog)
            if waiting.waiting:
                self._add_area(area, waiting.waiting, waiting.since, at)
                if waiting.covered is not None:
                    for boundary in range(waiting.covered + 1, last + 1):
                        counts[boundary] = waiting.waiting
            for index in sorted(area):
                if area[index]:
                    queue_seconds[(origin + index * length, queue, task_type)] = area[index]
            for index in sorted(counts):
                backlog[(origin + index * length, queue, task_type)] = counts[index]
        answered_waits = {
            group: waiting.waits.copy()
            for group, waiting in sorted(self._queues.items())
            if waiting.waits.count
        }
        window = at - begin if begin == begin else 0.0
        return KpiReport(
            now=at,
            interval_seconds=length,
            service_level_definition=self.service_level_definition,
            queue_intervals=queues,
            agent_intervals=tuple(rows),
            open_tasks={group: (pair[0], pair[1]) for group, pair in open_tasks.items()},
            unmatched_events=self._unmatched,
            queue_seconds=queue_seconds,
            window_seconds=max(window, 0.0),
            answered_waits=answered_waits,
            backlog=backlog,
        )

    def _span_into(
        self, figures: dict[int, list[float]], slot: int, begin: float, end: float
    ) -> None:
        begin = max(begin, self.start)
        if not self.agent_intervals:
            if begin < end:
                cell = figures.get(0)
                if cell is None:
                    cell = figures[0] = [0, 0, 0, 0.0, 0.0, 0.0]
                cell[slot] += end - begin
            return
        while begin < end:
            index = self._interval(begin)
            boundary = self.origin + (index + 1) * self.interval_seconds
            stop = end if end < boundary else boundary
            cell = figures.get(index)
            if cell is None:
                cell = figures[index] = [0, 0, 0, 0.0, 0.0, 0.0]
            cell[slot] += stop - begin
            begin = stop
