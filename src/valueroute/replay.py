"""Replaying real days of the Anonymous Bank call centre in the simulator.

:func:`build_replay` turns the recorded calls of chosen days into a
:class:`Replay`; :func:`replay_scenario` makes a runnable
:class:`~valueroute.sim.scenario.Scenario` from it and :func:`run_replay`
runs replications and sets simulated beside observed waits and abandonment
per hour (:class:`ReplayComparison`).

What enters the replay, and how
-------------------------------
- **Calls.** Every call that asked for an agent: it joined the queue, or it
  went from the voice menu straight to an agent. Calls that hung up in the
  voice menu never reached the router and are left out. Each call arrives at
  the time it reached the router (queue entry, or menu exit), with its
  recorded service type (kept as the attribute ``service_type``).
- **Priority.** The bank gives priority-2 customers a 1.5-minute head start
  in a queue otherwise served in order of time in queue. Calls of priority 2
  become task type ``high`` with priority 1, all others type ``regular``
  with priority 0, and the routing policy is ``aging_priority`` with 90
  seconds per point (score = priority + age / 90 s): a high-priority call is
  served before a regular one that arrived up to 90 s earlier. The data
  record priority 0 for every call that did not queue, whatever the
  customer, so such calls replay as regular.
- **Handle time.** A served call keeps its recorded service time. A call
  that hung up in the queue was never served, so if the simulated centre
  answers it, its handle time is drawn from the recorded service times of the
  replayed calls of its class (an empirical distribution).
- **Patience.** A caller who hung up in the queue shows their patience
  exactly: the recorded wait. A served caller only shows that their patience
  exceeded their wait (right-censored); the replay draws it from the
  Kaplan–Meier estimate of the replayed queued calls, conditional on
  exceeding the recorded wait
  (:meth:`~valueroute.datasets.KaplanMeier.sample_beyond`). The estimate
  places no mass beyond the last observed abandonment: a draw that lands in
  that tail (probability ``S(t_last) / S(wait)``) is "never abandons". Each
  replication redraws these patiences (and nothing else), so replications
  differ only in the unseen patience of served callers. Patience is treated
  as independent of the wait the caller met and of the hour.
- **Agents.** One group serving every call, its headcount set per interval
  of ``interval_minutes``. By default (``staffing="available"``) it is the
  number of agents *available for calls*, read off the moments callers
  waited: while someone waits, every available agent is serving, so the
  time-average number of calls in service then is the agents available
  (:func:`~valueroute.datasets.available_agents`, rounded). Agents present
  but on after-call work, breaks or other work are thereby left out, which
  the log cannot show otherwise. Where callers waited for less than
  :data:`MIN_WAITING_SHARE` of the interval, agents were partly idle and the
  headcount is the distinct agents seen serving
  (:func:`~valueroute.datasets.agents_on_duty`). ``staffing="seen"`` uses
  that count throughout: it counts an agent who served for part of an
  interval as available all of it, and the simulated centre answers several
  times faster than the bank did. Agent skills are not modelled (the bank
  had internet specialists).

Cost: building is O(n log n) for n calls; each replication is one
simulation, O(events × log(open tasks)).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valueroute.datasets import (
    CallRecords,
    KaplanMeier,
    agents_on_duty,
    available_agents,
    load_anonymous_bank,
    patience_observations,
)
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.sim.arrivals import Arrival
from valueroute.sim.scenario import Scenario
from valueroute.sim.world import World

__all__ = [
    "HEAD_START_SECONDS",
    "MIN_WAITING_SHARE",
    "HourFigures",
    "Replay",
    "ReplayComparison",
    "ReplicationRedraw",
    "bench_replay",
    "build_replay",
    "replay_scenario",
    "run_replay",
    "simulate_calls",
]

HEAD_START_SECONDS = 90.0
"""The bank's head start for priority-2 customers (1.5 minutes), in seconds per priority point."""

MIN_WAITING_SHARE = 0.1
"""With ``staffing="available"``: the share of an interval callers must have
waited in for the agents serving then to count as the agents available; in
quieter intervals the agents seen serving are taken instead."""

_DAY_SECONDS = 86_400.0
_HOUR_SECONDS = 3_600.0
# Callers still waiting at midnight of the last day get an hour to be
# answered or to hang up, so the last hour's figures are complete.
_TAIL_SECONDS = 3_600.0
_CLASSES = ("regular", "high")
# Tally slots: hours 0-23, then all calls, then each class.
_SLOTS = 24 + 1 + len(_CLASSES)


@dataclass(frozen=True, eq=False)
class Replay:
    """The recorded calls of some days, ready to replay.

    ``arrivals`` are the calls that asked for an agent, in time order, on a
    clock that starts at midnight of ``origin``; abandoned calls carry their
    recorded patience, served calls ``None`` (drawn per replication from
    ``patience``). ``headcount[i]`` is the agents on duty in interval ``i``
    of ``interval_minutes`` from ``origin``.
    """

    origin: str
    days: tuple[str, ...]
    arrivals: tuple[Arrival, ...]
    patience: KaplanMeier
    headcount: tuple[int, ...]
    interval_minutes: int
    horizon_seconds: float
    handle_samples: Mapping[str, tuple[float, ...]]
    """Recorded service times of the served calls of each class (``regular``, ``high``)."""
    staffing: str = "available"
    """How ``headcount`` was set: ``"available"`` or ``"seen"`` (see :func:`build_replay`),
    or ``"given"`` (:meth:`with_headcount`)."""

    def draw_patience(self, *, rng: np.random.Generator) -> list[float]:
        """One patience per arrival: recorded for abandoned calls, drawn for served ones.

        ``math.inf`` marks a draw in the estimate's unobserved tail. O(n log m)
        for n arrivals and m distinct abandonment times.
        """
        if not isinstance(rng, np.random.Generator):
            raise InvalidInputError(
                f"rng: got {type(rng).__name__} (expected a numpy.random.Generator)",
                [("rng", rng, "a numpy.random.Generator")],
            )
        result = []
        for arrival in self.arrivals:
            if arrival.patience is not None:
                result.append(arrival.patience)
            else:
                wait = float(arrival.attributes["queue_wait"])  # type: ignore[arg-type]
                result.append(float(self.patience.sample_beyond(rng=rng, seconds=wait)))
        return result

    def with_headcount(self, headcount: Iterable[int]) -> Replay:
        """The same replay with another headcount: what-if staffing on the day's own callers.

        ``headcount`` gives the agents in each interval, as many intervals
        as :attr:`headcount` has; ``staffing`` becomes ``"given"``. O(k) for
        k intervals.
        """
        try:
            counts = tuple(headcount)
        except TypeError:
            raise InvalidInputError(
                f"headcount: got {headcount!r} (expected an iterable of agent counts)",
                [("headcount", headcount, "an iterable of agent counts")],
            ) from None
        if len(counts) != len(self.headcount):
            raise InvalidInputError(
                f"headcount: got {len(counts)} intervals (expected {len(self.headcount)}, "
                f"one per {self.interval_minutes} minutes of the replay)",
                [("headcount", len(counts), f"{len(self.headcount)} intervals")],
            )
        for index, count in enumerate(counts):
            if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
                raise InvalidInputError(
                    f"headcount[{index}]: got {count!r} (expected a whole number of agents >= 0)",
                    [(f"headcount[{index}]", count, "a whole number >= 0")],
                )
        return replace(self, headcount=tuple(int(n) for n in counts), staffing="given")


def _task_class(priority: Any) -> str:
    return "high" if priority == 2 else "regular"


def build_replay(
    calls: CallRecords | None = None,
    *,
    days: Iterable[str | date] | None = None,
    interval_minutes: int = 30,
    patience: KaplanMeier | None = None,
    staffing: Literal["available", "seen"] = "available",
) -> Replay:
    """Prepare the replay of ``days`` (default: every day in ``calls``).

    ``calls`` defaults to the bundled excerpt (:func:`load_anonymous_bank`).
    ``patience`` defaults to the Kaplan–Meier estimate of the replayed days'
    queued calls. ``interval_minutes`` (15, 30 or 60) sets the headcount
    intervals. ``staffing`` chooses the headcount estimate: ``"available"``
    (agents serving while callers waited, see the module's notes) or
    ``"seen"`` (distinct agents seen serving). O(n log n) for n calls.
    """
    source = load_anonymous_bank() if calls is None else calls
    if not isinstance(source, CallRecords):
        raise InvalidInputError(
            f"calls: got {type(source).__name__} (expected CallRecords from load_anonymous_bank)",
            [("calls", source, "CallRecords")],
        )
    if days is not None:
        wanted = [d.isoformat() if isinstance(d, date) else d for d in days]
        present = set(source.days())
        missing = [d for d in wanted if d not in present]
        if not wanted or missing:
            raise InvalidInputError(
                f"days: got {wanted!r} (expected days present in the calls; "
                f"{missing or 'none given'} not found)",
                [("days", wanted, "days present in the calls")],
            )
        source = source.select(np.isin(source.day.astype(str), wanted))
    if staffing not in ("available", "seen"):
        raise InvalidInputError(
            f"staffing: got {staffing!r} (expected 'available' or 'seen')",
            [("staffing", staffing, "'available' or 'seen'")],
        )
    if len(source) == 0:
        raise InvalidInputError(
            "calls: got no calls (expected at least one recorded call)",
            [("calls", 0, "at least one call")],
        )
    staff = agents_on_duty(source, interval_minutes=interval_minutes)
    counts = staff.counts
    if staffing == "available":
        available = available_agents(source, interval_minutes=interval_minutes)
        estimated = np.floor(np.nan_to_num(available.serving) + 0.5).astype(np.int64)
        counts = np.where(available.waiting_share >= MIN_WAITING_SHARE, estimated, counts)
    day_list = source.days()
    origin = day_list[0]
    span = int((np.datetime64(day_list[-1], "D") - np.datetime64(origin, "D")).astype(np.int64)) + 1
    per_day = staff.counts.shape[1]
    headcount = np.zeros(span * per_day, dtype=np.int64)
    for row, day in enumerate(staff.days):
        offset = int((np.datetime64(day, "D") - np.datetime64(origin, "D")).astype(np.int64))
        headcount[offset * per_day : (offset + 1) * per_day] = counts[row]
    if patience is None:
        observed = patience_observations(source)
        if observed.wait.size == 0:
            raise InvalidInputError(
                "calls: no call queued on these days (expected queued calls to estimate "
                "patience, or a patience estimate)",
                [("patience", None, "a KaplanMeier estimate")],
            )
        patience = KaplanMeier(observed.wait, observed.abandoned)
    elif not isinstance(patience, KaplanMeier):
        raise InvalidInputError(
            f"patience: got {type(patience).__name__} (expected a KaplanMeier estimate)",
            [("patience", patience, "a KaplanMeier estimate")],
        )
    arrivals = tuple(
        a._replace(
            task_type=_task_class(a.attributes["priority"]),
            attributes={"service_type": a.task_type, **a.attributes},
        )
        for a in source.to_arrivals(origin=origin)
    )
    samples: dict[str, list[float]] = {name: [] for name in _CLASSES}
    for arrival in arrivals:
        if arrival.handle_time is not None:
            samples[arrival.task_type].append(arrival.handle_time)
    everyone = samples["regular"] + samples["high"]
    handle_samples = {name: tuple(values or everyone) for name, values in samples.items()}
    return Replay(
        origin=origin,
        days=tuple(day_list),
        arrivals=arrivals,
        patience=patience,
        headcount=tuple(int(n) for n in headcount),
        interval_minutes=interval_minutes,
        horizon_seconds=span * _DAY_SECONDS + _TAIL_SECONDS,
        handle_samples=handle_samples,
        staffing=staffing,
    )


def _trace_text(replay: Replay, patience: Sequence[float]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["time", "task_type", "handle_time", "patience", "service_type", "call"])
    for index, (arrival, seconds) in enumerate(zip(replay.arrivals, patience, strict=True)):
        writer.writerow(
            [
                repr(arrival.time),
                arrival.task_type,
                "" if arrival.handle_time is None else repr(arrival.handle_time),
                "" if math.isinf(seconds) else repr(seconds),
                arrival.attributes["service_type"],
                index,
            ]
        )
    return buffer.getvalue()


def _write_trace(text: str, directory: str | Path | None) -> Path:
    # Content-addressed: the same draws give the same file, written once.
    folder = (
        Path(tempfile.gettempdir()) / "valueroute-replay" if directory is None else Path(directory)
    )
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    path = folder / f"trace-{digest}.csv"
    if not path.is_file():
        partial = folder / f".{path.name}.{id(text)}.part"
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def replay_scenario(
    replay: Replay,
    *,
    rng: np.random.Generator,
    directory: str | Path | None = None,
    name: str = "anonymous_bank_replay",
    policy: str = "aging_priority",
    policy_params: Mapping[str, Any] | None = None,
    interval_minutes: int = 60,
    seed: int = 0,
) -> Scenario:
    """A scenario replaying ``replay``, with served callers' patience drawn from ``rng``.

    The arrivals are written as a trace CSV into ``directory`` (default: a
    ``valueroute-replay`` folder in the system's temporary directory), named
    by a hash of its content. Routing defaults to the bank's rule:
    ``aging_priority`` with :data:`HEAD_START_SECONDS` per point.
    ``interval_minutes`` sets the scenario's statistics intervals. O(n log m).
    """
    trace = _write_trace(_trace_text(replay, replay.draw_patience(rng=rng)), directory)
    params = (
        {"seconds_per_point": HEAD_START_SECONDS}
        if policy_params is None and policy == "aging_priority"
        else dict(policy_params or {})
    )
    data = {
        "name": name,
        "horizon_seconds": replay.horizon_seconds,
        "interval_minutes": interval_minutes,
        "seed": seed,
        "task_types": [
            {
                "name": cls,
                "priority": 1 if cls == "high" else 0,
                "sla_seconds": 20.0,
                "handle": {"kind": "empirical", "samples_seconds": replay.handle_samples[cls]},
            }
            for cls in _CLASSES
        ],
        "arrivals": [{"kind": "trace", "path": str(trace)}],
        "agent_groups": [
            {
                "name": "agents",
                "headcount": list(replay.headcount),
                "interval_minutes": replay.interval_minutes,
            }
        ],
        "routing": {"policy": policy, "policy_params": params},
    }
    return Scenario.model_validate(data)


@dataclass(frozen=True)
class HourFigures:
    """Observed or simulated figures of one hour (by arrival), over the replayed days.

    ``mean_wait`` is the mean wait of the served calls (zero waits included);
    ``abandonment`` is the share of queued calls that hung up. Simulated
    figures are means over replications. NaN where a figure has no calls.
    """

    hour: int
    calls: float
    queued: float
    served: float
    abandoned: float
    mean_wait: float
    abandonment: float


@dataclass(frozen=True)
class ReplayComparison:
    """Observed against simulated figures per hour of day and overall."""

    observed: list[HourFigures]
    simulated: list[HourFigures]
    observed_all: HourFigures
    simulated_all: HourFigures
    observed_by_class: dict[str, HourFigures]
    """Overall figures of each class (``regular``, ``high``); ``hour`` is -1."""
    simulated_by_class: dict[str, HourFigures]
    replications: int

    def table(self) -> str:
        """A plain-text table: one row per hour with calls, the overall line, each class."""
        lines = ["hour     calls  queued  aband% obs  aband% sim  wait obs  wait sim"]
        rows = [
            (f"{o.hour:02d}", o, s)
            for o, s in zip(self.observed, self.simulated, strict=True)
            if o.calls
        ]
        rows.append(("all", self.observed_all, self.simulated_all))
        for name, obs in self.observed_by_class.items():
            rows.append((name, obs, self.simulated_by_class[name]))
        for label, obs, sim in rows:
            lines.append(
                f"{label:<7}{obs.calls:7.0f}  {obs.queued:6.0f}  {_pct(obs.abandonment):>10}  "
                f"{_pct(sim.abandonment):>10}  {_sec(obs.mean_wait):>8}  {_sec(sim.mean_wait):>8}"
            )
        return "\n".join(lines)


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}"


def _sec(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


class _Tally:
    """Per-hour counts and wait sums for one source (observed, or one replication)."""

    __slots__ = ("abandoned", "calls", "queued", "served", "wait_sum")

    def __init__(self) -> None:
        self.calls = np.zeros(_SLOTS)
        self.queued = np.zeros(_SLOTS)
        self.served = np.zeros(_SLOTS)
        self.abandoned = np.zeros(_SLOTS)
        self.wait_sum = np.zeros(_SLOTS)

    def add(self, hour: int, task_class: str, *, queued: bool, served: bool, wait: float) -> None:
        for slot in (hour, 24, 25 + _CLASSES.index(task_class)):
            self.calls[slot] += 1
            self.queued[slot] += queued
            if served:
                self.served[slot] += 1
                self.wait_sum[slot] += wait
            elif queued:
                self.abandoned[slot] += 1


def _figures(
    calls: Any, queued: Any, served: Any, abandoned: Any, wait_sum: Any
) -> list[HourFigures]:
    rows = []
    for slot in range(_SLOTS):
        rows.append(
            HourFigures(
                hour=slot if slot < 24 else -1,
                calls=float(calls[slot]),
                queued=float(queued[slot]),
                served=float(served[slot]),
                abandoned=float(abandoned[slot]),
                mean_wait=float(wait_sum[slot] / served[slot]) if served[slot] else math.nan,
                abandonment=float(abandoned[slot] / queued[slot]) if queued[slot] else math.nan,
            )
        )
    return rows


def _hour(seconds: float) -> int:
    return int((seconds % _DAY_SECONDS) // _HOUR_SECONDS)


def _observed(replay: Replay) -> _Tally:
    tally = _Tally()
    for arrival in replay.arrivals:
        attributes = arrival.attributes
        outcome = attributes["outcome"]
        tally.add(
            _hour(arrival.time),
            arrival.task_type,
            queued=outcome == "abandoned" or float(attributes["queue_wait"]) > 0,  # type: ignore[arg-type]
            served=outcome == "served",
            wait=float(attributes["queue_wait"]),  # type: ignore[arg-type]
        )
    return tally


def simulate_calls(
    scenario: Scenario, replay: Replay, *, replication: int = 0
) -> list[tuple[float, float, bool]]:
    """Run one replication of a replay scenario; per replayed call ``(arrival, wait, served)``.

    ``wait`` is the time to answer (served) or to hang up (abandoned), NaN
    for a call still waiting when the run ends. O(events × log(open tasks)).
    """
    world = World(scenario, replication=replication)
    created: dict[str, float] = {}
    outcome: dict[str, tuple[float, bool]] = {}

    def record(event: Event) -> None:
        if event.kind is EventKind.task_submitted and event.task is not None:
            created[event.task] = event.time
        elif event.kind is EventKind.task_assigned and event.task is not None:
            outcome[event.task] = (event.time - created[event.task], True)
        elif event.kind is EventKind.task_canceled and event.task is not None:
            outcome[event.task] = (event.time - created[event.task], False)

    world.engine.subscribe(
        record,
        kinds=(EventKind.task_submitted, EventKind.task_assigned, EventKind.task_canceled),
    )
    world.run()
    result = []
    # The world numbers tasks 1, 2, ... in submission order, which is the trace's order.
    for index, arrival in enumerate(replay.arrivals, start=1):
        wait, served = outcome.get(str(index), (math.nan, False))
        result.append((arrival.time, wait, served))
    return result


def run_replay(
    replay: Replay,
    *,
    replications: int = 5,
    seed: int = 0,
    directory: str | Path | None = None,
    policy: str = "aging_priority",
    policy_params: Mapping[str, Any] | None = None,
) -> ReplayComparison:
    """Simulate ``replications`` replays (patience redrawn each time) and compare per hour.

    Replication ``r`` draws its patiences from ``numpy.random.default_rng([seed, r])``.
    A simulated call counts as queued when it was not answered at the instant
    it arrived; a call still waiting at the end of the run counts as
    neither served nor abandoned. O(replications × events × log(open tasks)).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InvalidInputError(
            f"replications: got {replications!r} (expected an integer >= 1)",
            [("replications", replications, "an integer >= 1")],
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(
            f"seed: got {seed!r} (expected an integer >= 0)", [("seed", seed, "an integer >= 0")]
        )
    sums = [np.zeros(_SLOTS) for _ in range(5)]
    for replication in range(replications):
        scenario = replay_scenario(
            replay,
            rng=np.random.default_rng([seed, replication]),
            directory=directory,
            policy=policy,
            policy_params=policy_params,
            seed=seed,
        )
        tally = _Tally()
        outcomes = simulate_calls(scenario, replay, replication=replication)
        for arrival, (time, wait, served) in zip(replay.arrivals, outcomes, strict=True):
            finished = not math.isnan(wait)
            tally.add(
                _hour(time),
                arrival.task_type,
                queued=(finished and wait > 0) or (finished and not served),
                served=served,
                wait=wait if served else 0.0,
            )
        for total, part in zip(
            sums,
            (tally.calls, tally.queued, tally.served, tally.abandoned, tally.wait_sum),
            strict=True,
        ):
            total += part
    simulated = _figures(*(s / replications for s in sums))
    seen = _observed(replay)
    observed = _figures(seen.calls, seen.queued, seen.served, seen.abandoned, seen.wait_sum)
    return ReplayComparison(
        observed=observed[:24],
        simulated=simulated[:24],
        observed_all=observed[24],
        simulated_all=simulated[24],
        observed_by_class=dict(zip(_CLASSES, observed[25:], strict=True)),
        simulated_by_class=dict(zip(_CLASSES, simulated[25:], strict=True)),
        replications=replications,
    )


class ReplicationRedraw:
    """Gives replication ``r`` of a replay scenario its own draws of the unseen patiences.

    Called as ``redraw(scenario, replication, seed)``: the same scenario
    (routing and all) with its trace replaced by one whose served callers'
    patience comes from ``numpy.random.default_rng([seed, replication])``.
    Every variant of a benchmark gets the same draws for the same replication
    (common random numbers). O(n log m) per call.
    """

    def __init__(self, replay: Replay, *, directory: str | Path | None = None) -> None:
        self.replay = replay
        self.directory = directory

    def __call__(self, scenario: Scenario, replication: int, seed: int) -> Scenario:
        draws = self.replay.draw_patience(rng=np.random.default_rng([seed, replication]))
        trace = _write_trace(_trace_text(self.replay, draws), self.directory)
        data = scenario.model_dump()
        data["arrivals"] = [{"kind": "trace", "path": str(trace)}]
        return Scenario.model_validate(data)


def bench_replay(
    table: Mapping[str, Any], scenario_fields: Mapping[str, Any], *, base_dir: str | Path
) -> tuple[Scenario, ReplicationRedraw]:
    """The scenario and per-replication redraw of a bench file's ``[replay]`` table.

    ``table`` may hold ``days`` (ISO dates; default: every day of the data),
    ``interval_minutes`` (headcount intervals, default 30), ``staffing``
    (``"available"``, the default, or ``"seen"``: see :func:`build_replay`)
    and ``data`` (a path to the full cleaned file, relative to ``base_dir``;
    default: the bundled excerpt). ``scenario_fields`` (name, seed, routing, statistics
    interval...) override the replay's own. O(n log n) for n calls.
    """
    known = {"days", "interval_minutes", "staffing", "data"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InvalidInputError(
            f"replay: got keys {unknown} (expected only {sorted(known)})",
            [("replay", unknown, f"keys among {sorted(known)}")],
        )
    data_path = table.get("data")
    calls = (
        None
        if data_path is None
        else load_anonymous_bank(Path(base_dir) / str(data_path), days=table.get("days"))
    )
    replay = build_replay(
        calls,
        days=table.get("days"),
        interval_minutes=int(table.get("interval_minutes", 30)),
        staffing=table.get("staffing", "available"),
    )
    seed = int(scenario_fields.get("seed", 0))
    redraw = ReplicationRedraw(replay)
    built = replay_scenario(replay, rng=np.random.default_rng([seed, 0]), seed=seed)
    merged = built.model_dump() | dict(scenario_fields)
    return redraw(Scenario.model_validate(merged), 0, seed), redraw
