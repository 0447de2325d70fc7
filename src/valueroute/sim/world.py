"""The simulated world: a SimPy environment around the real routing engine.

One :class:`World` runs one replication of a :class:`~valueroute.sim.scenario.Scenario`.
It builds an :class:`~valueroute.engine.Engine` whose clock is ``env.now``
(``start + env.now``, epoch seconds, when the scenario has business
calendars, which the engine then holds: tasks carry their type's calendar),
with ``offer_timeout=None, auto_accept=True`` (an offer is taken at once) and
``closed_memory=0`` (closed tasks are forgotten), and drives it as a live
host would:

- *arrivals* submit :class:`~valueroute.models.TaskSpec` s at their times;
- on every ``task_assigned`` event a service timeout is scheduled for the
  task's handle time, and at its end the world calls ``engine.complete``;
- a task not answered at once gets a patience timeout; if it is still
  waiting then, the world calls ``engine.cancel(task, reason="abandoned")``
  and maybe schedules a retrial;
- shifts, breaks and headcount changes set agents ready or offline (an agent
  holding a task is set ``not_ready`` and goes offline after its last task);
- the engine's own timers (wrap-up ends, due-time breaches, relaxation steps,
  rule re-evaluations) run at ``engine.next_wakeup()``: the world keeps one
  pending wake-up, re-armed after every command that brings it earlier; a
  generation counter makes superseded wake-ups no-ops.

Every moment the world acts on (an arrival, a service or patience ending, a
retrial, a shift change, an engine wake-up) is one bare event put on SimPy's
queue with ``env.schedule`` -- in the place a ``simpy.Timeout`` of the same
delay would take, with one callback -- not a process per customer, so a task
costs a handful of heap operations besides the engine's own work. A host's
own SimPy processes on :attr:`World.env` run among them as usual.

KPIs come from the engine's events: a :class:`~valueroute.kpi.KpiAggregator`
(:attr:`World.aggregator`) reads every event it needs from the engine's
first on and counts offered, answered, abandoned, waits, handle times, queue
lengths, agent time and values, as it does for a live engine. The world
collects those events as the engine emits them and hands them over in
batches of about :data:`KPI_BATCH` (the rest at the end of each
:meth:`World.run` step and in :meth:`World.result`): the aggregator then
runs in a tight loop of its own instead of between engine commands, which
costs about a tenth less CPU per simulated task. The world counts only
what the engine never sees: retrials and forwarded tasks (both also offered
as tasks of their own) and tasks refused at the door while their calendar is
closed. :meth:`World.result` merges the two; fed the same events (an exported
events file read back, say), :meth:`World.new_aggregator` gives the same
result.

Randomness and common random numbers: each customer's handle time,
patience, retrial and forwarding draws are made at *arrival*, from per-type
streams of :class:`~valueroute.sim.streams.RandomStreams` (``handle/<type>``,
``patience/<type>``, ``retrial/<type>``, ``forward/<type>``; retries and
forwarded tasks draw from ``.../followup`` streams). Two runs with the same
seed and replication therefore see the same customers with the same needs,
whatever the routing policy does with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, cast

import simpy

from valueroute.agents import Agent
from valueroute.calendar import BusinessCalendar
from valueroute.engine import Engine
from valueroute.errors import InvalidInputError, InvalidTransitionError, bounded_repr
from valueroute.events import Event, EventKind
from valueroute.kpi import KPI_EVENT_KINDS, KpiAggregator, KpiCounts, KpiReport, WorkingTime
from valueroute.models import AgentSpec, TaskSpec
from valueroute.rules import load_rules
from valueroute.sim.arrivals import Arrival, TraceArrivals, merge_arrivals
from valueroute.sim.distributions import Sampler, Uniform
from valueroute.sim.metrics import KPI_NAMES, ReplicationResult
from valueroute.sim.scenario import Scenario, TaskType, _shown
from valueroute.sim.streams import RandomStreams

__all__ = ["KPI_BATCH", "MAX_CHUNKS", "World", "run_replication"]

MAX_CHUNKS = 10_000
"""Most progress reports one :meth:`World.run` makes."""

KPI_BATCH = 512
"""Engine events a world collects before handing them to its aggregator (checked
at each arrival; whatever is left goes over at the end of each run step)."""

_INF = math.inf
_NORMAL = simpy.events.NORMAL
_ASSIGNED = EventKind.task_assigned
_COMPLETED = EventKind.task_completed
_UNIT = Uniform(low_seconds=0.0, high_seconds=1.0)

ProgressCallback = Callable[[float], None]


class _Due:
    """A bare SimPy event the world schedules with ``env.schedule``: what
    ``Environment.step`` reads of it (``callbacks``, ``_ok``) and the value the
    world's callback takes.

    In the same place of SimPy's queue as a ``simpy.Timeout`` of the same delay
    (``env.schedule`` with ``NORMAL`` priority is what a timeout does), but
    made in a fifth of the time; ``callbacks`` is a shared one-item tuple
    (SimPy only iterates it). A task schedules two or three of these.
    """

    __slots__ = ("callbacks", "value")
    _ok = True

    callbacks: tuple[Callable[[Any], None], ...] | None
    value: Any


class _Customer:
    """One open task as the world knows it (kept only while the task is open)."""

    __slots__ = (
        "assigned",
        "counted",
        "forward_draw",
        "group_handles",
        "handle",
        "kind",
        "patience",
        "retry_delay",
        "retry_draw",
    )

    def __init__(self, kind: _Kind, counted: bool) -> None:
        self.kind = kind
        self.counted = counted
        self.assigned = False
        self.handle = 0.0
        self.group_handles: dict[int, float] | None = None
        self.patience = _INF
        self.retry_draw = 1.0
        self.retry_delay = 0.0
        self.forward_draw = 1.0


class _Draws:
    """The samplers of one task type for one origin (primary arrivals or follow-ups)."""

    __slots__ = ("forward", "group_handle", "handle", "patience", "retry", "retry_delay")

    def __init__(
        self,
        task_type: TaskType,
        streams: RandomStreams,
        suffix: tuple[str, ...],
        groups: dict[str, int],
    ) -> None:
        name = task_type.name
        self.handle = Sampler(task_type.handle, streams.generator("handle", name, *suffix))
        self.group_handle: list[tuple[int, float, Sampler | None]] = []
        for group, setting in task_type.handle_by_group.items():
            if isinstance(setting, float | int):
                self.group_handle.append((groups[group], float(setting), None))
            else:
                rng = streams.generator("handle", name, "group", group, *suffix)
                self.group_handle.append((groups[group], 1.0, Sampler(setting, rng)))
        self.patience = (
            None
            if task_type.patience is None
            else Sampler(task_type.patience, streams.generator("patience", name, *suffix))
        )
        retry_rng = streams.generator("retrial", name, *suffix)
        self.retry = Sampler(_UNIT, retry_rng) if task_type.retrial_probability > 0 else None
        self.retry_delay = (
            Sampler(task_type.retrial_delay, retry_rng)
            if task_type.retrial_delay is not None and task_type.retrial_probability > 0
            else None
        )
        self.forward = (
            Sampler(_UNIT, streams.generator("forward", name, *suffix))
            if task_type.forward_probability > 0
            else None
        )


class _Kind:
    """A task type's run-time settings and samplers, and the counts the engine never sees."""

    __slots__ = (
        "calendar",
        "channel",
        "due_seconds",
        "followup",
        "forward_probability",
        "forward_to",
        "forwarded",
        "index",
        "name",
        "primary",
        "priority",
        "refuse_closed",
        "refused_closed",
        "retrial_probability",
        "retrials",
        "retry_to",
        "skills",
        "sla_seconds",
        "template",
        "working_sla",
    )

    def __init__(
        self,
        index: int,
        task_type: TaskType,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.index = index
        self.calendar = calendar
        self.refuse_closed = calendar is not None and task_type.closed == "refuse"
        self.working_sla = calendar is not None and task_type.sla_clock == "working"
        self.name = task_type.name
        self.channel = task_type.channel
        self.skills = dict(task_type.skills)
        self.priority = task_type.priority
        self.sla_seconds = task_type.sla_seconds
        self.due_seconds = task_type.due_seconds
        self.retrial_probability = task_type.retrial_probability
        self.forward_probability = task_type.forward_probability
        self.retry_to: _Kind = self
        self.forward_to: _Kind | None = None
        self.primary: _Draws | None = None
        self.followup: _Draws | None = None
        # Counted from the warm-up on (by the time of the task they follow, or
        # of the refused arrival).
        self.retrials = 0
        self.forwarded = 0
        self.refused_closed = 0
        fields: dict[str, Any] = {
            "id": "template",
            "type": task_type.name,
            "channel": task_type.channel,
            "value": task_type.value,
            "priority": task_type.priority,
            "skills": task_type.skills,
        }
        if task_type.calendar is not None:
            # Named only when set: the engine takes a shorter path for specs
            # that name none of its optional routing fields.
            fields["calendar"] = task_type.calendar
        self.template = TaskSpec(**fields)


class World:
    """One replication of a scenario on a fresh SimPy environment and engine.

    Build it, then :meth:`run`; :meth:`result` returns the statistics.
    Memory is O(open tasks + agents + task types × intervals), independent
    of how many tasks the run simulates.

    ``scenario`` is a :class:`~valueroute.sim.scenario.Scenario` (from
    :func:`~valueroute.sim.scenario.load_scenario` or
    ``Scenario.model_validate``; a plain mapping is not validated here);
    ``replication`` and ``seed`` are integers >= 0 (``seed=None``: the
    scenario's), ``allow_code`` is ``True`` or ``False``. Anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.

    ``start`` is the epoch instant of simulated time 0 and ``calendars`` the
    scenario's business calendars by name; simulated second ``s`` is the
    calendar instant ``start + s``.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        replication: int = 0,
        seed: int | None = None,
        allow_code: bool = False,
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise InvalidInputError(
                f"World: scenario: got {bounded_repr(scenario)} of type {type(scenario).__name__} "
                "(expected a Scenario; load_scenario or Scenario.model_validate builds one)",
                [("scenario", type(scenario).__name__, "a Scenario")],
            )
        if not isinstance(allow_code, bool):
            raise InvalidInputError(
                f"World: allow_code: got {bounded_repr(allow_code)} (expected True or False)",
                [("allow_code", bounded_repr(allow_code), "True or False")],
            )
        scenario.check_code(allow_code=allow_code)
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.seed if seed is None else seed
        self.streams = RandomStreams(self.seed, replication=replication)
        self.env = simpy.Environment()
        env = self.env
        routing = scenario.routing
        self.policy = scenario.build_policy(allow_code=allow_code)
        self.calendars = scenario.build_calendars()
        self.start = scenario.start_instant()
        # Epoch seconds of simulated time 0: simulated second s is the instant start + s.
        # With calendars the engine's clock is that instant (calendars answer
        # in epoch seconds); without, simulated seconds as they are.
        origin = self._origin = self.start if self.calendars else 0.0
        calendars = self.calendars or None
        rules = None if routing.rules is None else load_rules(routing.rules, calendars=calendars)
        self.engine = Engine(
            policy=self.policy,
            rules=rules,
            agent_selection=routing.build_selection(
                rng=self.streams.generator("routing"), allow_code=allow_code
            ),
            clock=(lambda: origin + env.now) if origin else (lambda: env.now),
            calendars=calendars,
            offer_timeout=None,
            auto_accept=True,
            wrap_up=routing.wrap_up_seconds,
            relaxation=routing.relaxation_steps(),
            max_wait=routing.max_wait_seconds,
            exclusive_channels=routing.exclusive_channels,
            closed_memory=0,
            queues=routing.queues,
            workflows=routing.workflows,
        )
        self.horizon = scenario.horizon_seconds
        self.warmup = scenario.warmup_seconds
        self.interval = scenario.interval_seconds
        self.intervals = max(1, math.ceil(self.horizon / self.interval))
        groups = {g.name: i for i, g in enumerate(scenario.agent_groups)}
        self._kinds = [
            _Kind(i, t, None if t.calendar is None else self.calendars[t.calendar])
            for i, t in enumerate(scenario.task_types)
        ]
        self._by_name = {k.name: k for k in self._kinds}
        for kind, task_type in zip(self._kinds, scenario.task_types, strict=True):
            if task_type.retrial_type is not None:
                kind.retry_to = self._by_name[task_type.retrial_type]
            if task_type.forward_to is not None:
                kind.forward_to = self._by_name[task_type.forward_to]
            kind.primary = _Draws(task_type, self.streams, (), groups)
            kind.followup = _Draws(task_type, self.streams, ("followup",), groups)
        self._open: dict[str, _Customer] = {}
        self._next_id = 0
        self._agent_group: dict[str, int] = {}
        self._leaving: set[str] = set()
        self._deferred: list[str] = []
        self._wake_at = _INF
        self._wake_generation = 0
        self._agent_specs = {spec.id: spec for spec in self._build_agents()}
        self._arrivals = self._arrival_stream()
        self.aggregator = self.new_aggregator()
        """The :class:`~valueroute.kpi.KpiAggregator` counting this run's KPIs
        (from the engine's first event on; up to date after each :meth:`run`
        step and :meth:`result`)."""
        self._kpi_events: list[Event] = []
        self.engine.subscribe(self._kpi_events.append, kinds=KPI_EVENT_KINDS)
        self.engine.subscribe(self._on_assigned, kinds=(_ASSIGNED,))
        # Completions matter only while an agent is waiting to go off duty:
        # the world listens to them only then (an event per task otherwise).
        self._stop_watching: Callable[[], None] | None = None
        self._ran = False
        # What the world schedules: SimPy's own scheduling call and, per kind of
        # moment, the one-callback tuple its _Due events share.
        # SimPy's step reads only an event's callbacks and _ok: a _Due is
        # scheduled as a Timeout would schedule itself.
        self._at = cast("Callable[[_Due, int, float], None]", env.schedule)
        self._arrival_calls = (self._on_arrival,)
        self._service_end_calls = (self._on_service_end,)
        self._patience_end_calls = (self._on_patience_end,)
        self._retry_calls = (self._on_retry,)
        self._shift_calls = (self._on_shift_change,)
        self._wakeup_calls = (self._on_wakeup,)

    @property
    def engine_origin(self) -> float:
        """The engine's clock at simulated time 0: ``start`` with calendars, else 0.

        Engine times (events, due times, agents' clocks) are
        ``engine_origin + env.now``.
        """
        return self._origin

    def new_aggregator(self) -> KpiAggregator:
        """A fresh :class:`~valueroute.kpi.KpiAggregator` with this world's settings.

        Intervals of the scenario's length from :attr:`engine_origin`,
        counting from the end of the warm-up, each type's ``sla_seconds``,
        the scenario's ``service_level_definition`` and
        ``short_abandon_seconds``, and for types with ``sla_clock =
        "working"`` their calendar's working time, agents' figures over the
        whole run (``agent_intervals=False``). :attr:`aggregator` is one;
        feed another this run's events (read back from an exported events
        file, say) and ``result(report=...)`` of its report is this run's
        result.
        """
        scenario = self.scenario
        working: dict[str, WorkingTime] = {
            kind.name: kind.calendar for kind in self._kinds if kind.working_sla and kind.calendar
        }
        return KpiAggregator(
            interval_seconds=self.interval,
            origin=self._origin,
            start=self._origin + self.warmup,
            sla_seconds={kind.name: kind.sla_seconds for kind in self._kinds},
            service_level_definition=scenario.service_level_definition,
            short_abandon_seconds=scenario.short_abandon_seconds,
            working_time=working or None,
            # Agent time is reported per group over the run: per-interval
            # figures of every agent would make memory grow with the horizon.
            agent_intervals=False,
        )

    # ------------------------------------------------------------ setup

    def _build_agents(self) -> list[AgentSpec]:
        """Agent specs and the on/off schedule of every agent, as one time-ordered list."""
        specs: list[AgentSpec] = []
        schedule: list[tuple[float, int, str, bool]] = []
        order = 0

        def add(group_index: int, agent_id: str, periods: list[tuple[float, float]]) -> None:
            nonlocal order
            group = self.scenario.agent_groups[group_index]
            specs.append(
                AgentSpec(
                    id=agent_id,
                    skills=group.skills,
                    capacity=group.capacity,
                    team=group.name,
                )
            )
            self._agent_group[agent_id] = group_index
            for start, end in periods:
                if end <= start:
                    continue
                order += 1
                schedule.append((start, order, agent_id, True))
                if end < _INF:
                    order += 1
                    schedule.append((end, order, agent_id, False))

        for gi, group in enumerate(self.scenario.agent_groups):
            if group.count is not None and group.calendar is not None:
                hours = self._open_periods(self.calendars[group.calendar])
                for k in range(group.count):
                    add(gi, f"{group.name}-{k + 1}", hours)
            elif group.count is not None:
                for k in range(group.count):
                    add(gi, f"{group.name}-{k + 1}", [(0.0, _INF)])
            elif group.shifts:
                for si, shift in enumerate(group.shifts):
                    cuts = sorted(
                        (b.start_seconds, b.start_seconds + b.duration_seconds)
                        for b in shift.breaks
                    )
                    periods: list[tuple[float, float]] = []
                    begin = shift.start_seconds
                    for break_start, break_end in cuts:
                        periods.append((begin, break_start))
                        begin = max(begin, break_end)
                    periods.append((begin, shift.end_seconds))
                    for k in range(shift.count):
                        add(gi, f"{group.name}-s{si + 1}-{k + 1}", periods)
            else:
                width = 60.0 * self.scenario.headcount_minutes(group)
                heads = group.headcount
                for k in range(max(heads)):
                    periods = []
                    start: float | None = None  # when the current on-duty stretch began
                    for j, head in enumerate(heads):
                        on = k < head
                        if on and start is None:
                            start = j * width
                        elif not on and start is not None:
                            periods.append((start, j * width))
                            start = None
                    if start is not None:
                        periods.append((start, _INF))
                    add(gi, f"{group.name}-{k + 1}", periods)
        schedule.sort()
        self._schedule = schedule
        return specs

    def _open_periods(self, calendar: BusinessCalendar) -> list[tuple[float, float]]:
        """The calendar's open periods within the horizon, in simulated seconds.

        A period open at time 0 starts at 0; one still open at the horizon
        runs on (the run stops there). O(periods in the horizon).
        """
        start, end = self.start, self.start + self.horizon
        periods: list[tuple[float, float]] = []
        t = start
        while t < end:
            opening = calendar.next_open(t)
            if opening >= end:
                break
            closing = calendar.next_close(opening)
            begin = opening - start
            finish = _INF if closing >= end else closing - start
            if periods and periods[-1][1] == begin:
                # Periods that touch are one stretch on duty (a calendar open
                # around the clock may still report a close where they meet).
                begin = periods.pop()[0]
            periods.append((begin, finish))
            t = closing
        return periods

    def _arrival_stream(self) -> Iterator[Arrival]:
        sources = []
        for index, process in enumerate(self.scenario.arrivals):
            if isinstance(process, TraceArrivals):
                sources.append(self._checked_trace(process))
            else:
                rng = self.streams.generator("arrivals", str(index), process.task_type)
                sources.append(process.generate(rng=rng))
        return merge_arrivals(*sources) if len(sources) > 1 else iter(sources[0])

    def _checked_trace(self, process: TraceArrivals) -> Iterator[Arrival]:
        arrivals = list(process.generate())
        for arrival in arrivals:
            if arrival.task_type not in self._by_name:
                known = _shown(sorted(self._by_name))
                raise InvalidInputError(
                    f"arrivals: trace {_shown(process.path)} has task_type "
                    f"{_shown(arrival.task_type)} (expected one of {known})",
                    [("task_type", arrival.task_type, f"one of {known}")],
                )
        return iter(arrivals)

    # ------------------------------------------------------------ running

    def run(self, *, progress: ProgressCallback | None = None, chunks: int = 20) -> None:
        """Simulate from 0 to the horizon. ``progress(fraction)`` is called ``chunks`` times.

        ``progress`` is ``None`` or a callable, ``chunks`` an integer from 1
        to :data:`MAX_CHUNKS`; anything else raises
        :class:`~valueroute.errors.InvalidInputError` naming it, before
        anything is simulated. A world runs once: a second call raises
        :class:`~valueroute.errors.InvalidTransitionError` (build a new
        :class:`World` for another run).
        """
        if progress is not None and not callable(progress):
            raise InvalidInputError(
                f"World.run: progress: got {bounded_repr(progress)} (expected None or a "
                "callable(fraction))",
                [("progress", bounded_repr(progress), "None or a callable")],
            )
        if isinstance(chunks, bool) or not isinstance(chunks, int) or not 0 < chunks <= MAX_CHUNKS:
            raise InvalidInputError(
                f"World.run: chunks: got {bounded_repr(chunks)} (expected an integer from 1 to "
                f"{MAX_CHUNKS})",
                [("chunks", bounded_repr(chunks), f"an integer from 1 to {MAX_CHUNKS}")],
            )
        if self._ran:
            raise InvalidTransitionError(
                "World.run: this world has run already (build a new World to run again)"
            )
        self._ran = True
        env = self.env
        self._schedule_next_shift_change(0)
        self._schedule_next_arrival()
        steps = max(1, chunks if progress is not None else 1)
        for step in range(1, steps + 1):
            env.run(until=self.horizon * step / steps)
            self._count_events()
            if progress is not None:
                progress(step / steps)

    # Arrivals ---------------------------------------------------

    def _schedule_next_arrival(self, due: _Due | None = None) -> None:
        """Schedule the next arrival before the horizon, if any: on ``due`` (the
        arrival event just processed, taken off SimPy's queue) or a new event."""
        arrival = next(self._arrivals, None)
        if arrival is None or arrival.time >= self.horizon:
            return
        delay = arrival.time - self.env.now
        if due is None:
            due = _Due()
        due.callbacks = self._arrival_calls
        due.value = arrival
        self._at(due, _NORMAL, delay if delay > 0 else 0.0)

    def _on_arrival(self, event: _Due) -> None:
        arrival: Arrival = event.value
        kind = self._by_name[arrival.task_type]
        self._submit(kind, self.env.now, kind.primary, arrival)  # type: ignore[arg-type]
        self._schedule_next_arrival(event)
        if len(self._kpi_events) >= KPI_BATCH:
            self._count_events()

    def _count_events(self) -> None:
        """Hand the events collected so far to the aggregator, in the engine's order."""
        events = self._kpi_events
        if events:
            self.aggregator.feed(events)
            events.clear()

    def _submit(
        self, kind: _Kind, now: float, draws: _Draws, arrival: Arrival | None = None
    ) -> None:
        customer = _Customer(kind, now >= self.warmup)
        customer.handle = draws.handle.draw()
        if draws.group_handle:
            customer.group_handles = {
                group: (multiplier * customer.handle if sampler is None else sampler.draw())
                for group, multiplier, sampler in draws.group_handle
            }
        if draws.patience is not None:
            customer.patience = draws.patience.draw()
        if draws.retry is not None:
            customer.retry_draw = draws.retry.draw()
            customer.retry_delay = draws.retry_delay.draw()  # type: ignore[union-attr]
        if draws.forward is not None:
            customer.forward_draw = draws.forward.draw()
        if arrival is not None:
            if arrival.handle_time is not None:
                customer.handle = arrival.handle_time
                customer.group_handles = None
            if arrival.patience is not None:
                customer.patience = arrival.patience
        if kind.refuse_closed and not kind.calendar.is_open(self.start + now):  # type: ignore[union-attr]
            # Refused at the door: never offered, never queued (the draws above
            # are made all the same, so later customers keep theirs).
            if customer.counted:
                kind.refused_closed += 1
            return
        self._next_id += 1
        task_id = str(self._next_id)
        self._open[task_id] = customer
        # A copy of a validated per-type template: every field but these is the type's.
        changes: dict[str, Any] = {"id": task_id}
        if kind.due_seconds is not None:
            if kind.working_sla:
                # The engine counts it in the task's calendar: calendar.add(now, due_in).
                changes["due_in"] = kind.due_seconds
            else:
                changes["due"] = self._origin + now + kind.due_seconds
        if arrival is not None and arrival.attributes:
            changes["attributes"] = dict(arrival.attributes)
        self.engine.submit(_spec_like(kind.template, changes))
        if not customer.assigned and customer.patience < _INF:
            due = _Due()
            due.callbacks = self._patience_end_calls
            due.value = task_id
            self._at(due, _NORMAL, customer.patience)
        self._after_command()

    # Engine events ----------------------------------------------

    def _on_completed(self, event: Event) -> None:
        if event.agent in self._leaving:
            self._deferred.append(event.agent)

    def _on_assigned(self, event: Event) -> None:
        task_id: str = event.task  # type: ignore[assignment]
        customer = self._open[task_id]
        customer.assigned = True
        handle = customer.handle
        if customer.group_handles is not None:
            group = self._agent_group[event.agent]  # type: ignore[index]
            handle = customer.group_handles.get(group, handle)
        due = _Due()
        due.callbacks = self._service_end_calls
        due.value = task_id
        self._at(due, _NORMAL, handle)

    def _on_service_end(self, event: _Due) -> None:
        task_id: str = event.value
        customer = self._open.pop(task_id)
        kind = customer.kind
        self.engine.complete(task_id)
        target = kind.forward_to
        if target is not None and customer.forward_draw < kind.forward_probability:
            if customer.counted:
                kind.forwarded += 1
            self._submit(target, self.env.now, target.followup)  # type: ignore[arg-type]
        else:
            self._after_command()

    def _on_patience_end(self, event: _Due) -> None:
        task_id: str = event.value
        customer = self._open.get(task_id)
        if customer is None or customer.assigned:
            return
        del self._open[task_id]
        kind = customer.kind
        self.engine.cancel(task_id, reason="abandoned")
        if customer.retry_draw < kind.retrial_probability:
            if customer.counted:
                kind.retrials += 1
            due = _Due()
            due.callbacks = self._retry_calls
            due.value = kind.retry_to
            self._at(due, _NORMAL, customer.retry_delay)
        self._after_command()

    def _on_retry(self, event: _Due) -> None:
        if self.env.now >= self.horizon:
            return
        kind: _Kind = event.value
        self._submit(kind, self.env.now, kind.followup)  # type: ignore[arg-type]

    # Agents and engine timers -------------------------------------

    def _schedule_next_shift_change(self, position: int) -> None:
        if position >= len(self._schedule):
            return
        at = self._schedule[position][0]
        if at >= self.horizon:
            return
        delay = at - self.env.now
        due = _Due()
        due.callbacks = self._shift_calls
        due.value = position
        self._at(due, _NORMAL, delay if delay > 0 else 0.0)

    def _on_shift_change(self, event: _Due) -> None:
        position: int = event.value
        schedule = self._schedule
        now = self.env.now
        # Every change due now, in schedule order.
        while position < len(schedule) and schedule[position][0] <= now:
            _, _, agent_id, on = schedule[position]
            self._set_on_duty(agent_id, on)
            position += 1
        self._after_command()
        self._schedule_next_shift_change(position)

    def _set_on_duty(self, agent_id: str, on: bool) -> None:
        engine = self.engine
        pool = engine.agents
        if on:
            self._leaving.discard(agent_id)
            if agent_id not in pool:
                engine.add_agent(self._agent_specs[agent_id], ready=True)
            else:
                engine.set_agent_state(agent_id, "ready")
            return
        agent: Agent = pool.get(agent_id)
        if agent.held:
            engine.set_agent_state(agent_id, "not_ready", reason="end_of_duty")
            self._leaving.add(agent_id)
            if self._stop_watching is None:
                self._stop_watching = self.engine.subscribe(self._on_completed, kinds=(_COMPLETED,))
        else:
            engine.set_agent_state(agent_id, "offline")

    def _after_command(self) -> None:
        engine = self.engine
        if self._stop_watching is not None:
            # Agents are waiting to go off duty: those whose last task ended go now.
            deferred = self._deferred
            while deferred:
                agent_id = deferred.pop()
                if agent_id in self._leaving and engine.agents.get(agent_id).held == 0:
                    self._leaving.discard(agent_id)
                    engine.set_agent_state(agent_id, "offline")
            if not self._leaving:
                self._stop_watching()
                self._stop_watching = None
        wakeup = engine.next_wakeup()
        if wakeup < self._wake_at:
            self._wake_at = wakeup
            self._wake_generation += 1
            delay = wakeup - self._origin - self.env.now
            due = _Due()
            due.callbacks = self._wakeup_calls
            due.value = self._wake_generation
            self._at(due, _NORMAL, delay if delay > 0 else 0.0)

    def _on_wakeup(self, event: _Due) -> None:
        if event.value != self._wake_generation:
            return
        self._wake_at = _INF
        self.engine.advance()
        self._after_command()

    # ------------------------------------------------------------ results

    def result(self, *, report: KpiReport | None = None) -> ReplicationResult:
        """The statistics of the run (call after :meth:`run`).

        Every KPI, interval row, agent-group figure and backlog sample is
        :attr:`aggregator`'s report at the end of the run, laid out per task
        type and agent group; only ``retrials``, ``forwarded`` and
        ``refused_closed`` are the world's own counts. ``report``: instead of
        :attr:`aggregator`'s, a :class:`~valueroute.kpi.KpiReport` of this
        run's events from an aggregator :meth:`new_aggregator` built (the
        same events give the same result); anything else raises
        :class:`~valueroute.errors.InvalidInputError`. O(intervals × (task
        types + agents)).
        """
        if report is None:
            self._count_events()
            report = self.aggregator.report(now=self._origin + self.env.now)
        elif not isinstance(report, KpiReport):
            raise InvalidInputError(
                f"World.result: report: got {bounded_repr(report)} (expected None or a KpiReport)",
                [("report", bounded_repr(report), "None or a KpiReport")],
            )
        kinds = self._kinds
        totals = report.by_type(names=[kind.name for kind in kinds])
        kpis: dict[str, dict[str, float]] = {
            kind.name: _kpis(totals[kind.name], kind.retrials, kind.forwarded, kind.refused_closed)
            for kind in kinds
        }
        kpis["all"] = _kpis(
            totals["all"],
            sum(kind.retrials for kind in kinds),
            sum(kind.forwarded for kind in kinds),
            sum(kind.refused_closed for kind in kinds),
        )
        return ReplicationResult(
            replication=self.replication,
            seed=self.seed,
            policy=self.policy.name,
            kpis=kpis,
            intervals=self._interval_rows(report),
            groups=self._group_figures(report),
            backlog=self._backlog_rows(report),
            engine_counts={str(k): dict(v) for k, v in self.engine.statistics()["by_type"].items()},
            events=self.engine.event_count,
        )

    def _interval_rows(self, report: KpiReport) -> list[dict[str, Any]]:
        """One row per (interval, type) by arrival interval, empty intervals too."""
        length = self.interval
        last = self.intervals - 1
        cells: dict[tuple[int, str], KpiCounts] = {}
        for row in report.queue_intervals:
            # Interval starts are origin + k·length: k comes back exactly by rounding.
            index = min(round((row.interval_start - self._origin) / length), last)
            key = (index, row.type)
            cells[key] = cells.get(key, _NO_COUNTS) + row.counts
        rows = []
        for index in range(self.intervals):
            for kind in self._kinds:
                counts = cells.get((index, kind.name), _NO_COUNTS)
                # Per interval the service level is always answered within T /
                # (answered + abandoned), whatever the run's definition.
                figures = counts.kpis("offered")
                rows.append(
                    {
                        "interval_start": index * length,
                        "type": kind.name,
                        "offered": counts.offered,
                        "answered": counts.answered,
                        "abandoned": counts.abandoned,
                        "answered_within": counts.answered_within,
                        "service_level": figures["service_level"],
                        "asa": figures["asa"],
                    }
                )
        return rows

    def _group_figures(self, report: KpiReport) -> dict[str, dict[str, float]]:
        """Talk and logged-in time, occupancy and staffed hours per agent group."""
        groups = self.scenario.agent_groups
        sums = {group.name: [0.0, 0.0] for group in groups}
        for agent, figures in report.by_agent().items():
            index = self._agent_group.get(agent)
            if index is not None:
                pair = sums[groups[index].name]
                pair[0] += figures["talk_seconds"]
                pair[1] += figures["logged_in_seconds"]
        return {
            name: {
                "talk_seconds": talk,
                "logged_in_seconds": login,
                "occupancy": talk / login if login else math.nan,
                "staffed_hours": login / 3600.0,
            }
            for name, (talk, login) in sums.items()
        }

    def _backlog_rows(self, report: KpiReport) -> list[dict[str, Any]]:
        """Tasks waiting per type at each interval start the run passed, before the horizon."""
        if not self._ran:
            return []
        rows = []
        origin = self._origin
        length = self.interval
        index = 0
        while index * length < self.horizon:
            # The same float the aggregator keys its boundaries by.
            at = origin + index * length
            row: dict[str, Any] = {"time": index * length}
            for kind in self._kinds:
                row[kind.name] = report.backlog.get((at, kind.name, kind.name), 0)
            rows.append(row)
            index += 1
        return rows


_NO_COUNTS = KpiCounts()


def _spec_like(template: TaskSpec, changes: dict[str, Any]) -> TaskSpec:
    """``template.model_copy(update=changes)`` in half the time (a task's spec per arrival).

    The state pydantic's ``model_copy`` leaves for a model without extra
    fields or private attributes (``TaskSpec`` has neither): the template's
    field values with ``changes`` written over, the names set, no extras, no
    private values; without its general-purpose steps. The values are the
    world's own, of the fields' types. ``tests/test_sim_kpis.py`` holds the
    two equal, fields set included.
    """
    spec: TaskSpec = _new_object(TaskSpec)
    _set_attribute(spec, "__dict__", {**template.__dict__, **changes})
    _set_attribute(spec, "__pydantic_extra__", None)
    _set_attribute(
        spec, "__pydantic_fields_set__", template.__pydantic_fields_set__ | changes.keys()
    )
    _set_attribute(spec, "__pydantic_private__", None)
    return spec


_new_object = object.__new__
_set_attribute = object.__setattr__


def _kpis(
    figures: dict[str, float], retrials: int, forwarded: int, refused_closed: int
) -> dict[str, float]:
    """The KPIs of :data:`~valueroute.sim.metrics.KPI_NAMES`, in that order: the
    aggregator's, with the counts only the world sees."""
    own = {
        "retrials": float(retrials),
        "forwarded": float(forwarded),
        "refused_closed": float(refused_closed),
    }
    return {name: own[name] if name in own else figures[name] for name in KPI_NAMES}


def run_replication(
    scenario: Scenario,
    replication: int = 0,
    *,
    seed: int | None = None,
    allow_code: bool = False,
    progress: ProgressCallback | None = None,
) -> ReplicationResult:
    """Run one replication and return its statistics (a picklable top-level function)."""
    world = World(scenario, replication=replication, seed=seed, allow_code=allow_code)
    world.run(progress=progress)
    return world.result()
