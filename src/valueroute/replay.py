"""Replaying real days of the Anonymous Bank call centre in the simulator.

:func:`build_replay` turns the recorded calls of chosen days into a
:class:`Replay`; :func:`replay_scenario` makes a runnable
:class:`~valueroute.sim.scenario.Scenario` from it and :func:`run_replay`
runs replications and sets simulated beside observed waits and abandonment
per hour of the data (entry to the voice menu), with every call's own
outcome in the log and in each replication (:class:`ReplayComparison`,
:class:`CallOutcomes`).

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
- **Days not replayed.** Days need not be consecutive. A day that is not
  replayed but lies between replayed ones keeps the agents of the last
  interval before it, so callers still waiting at midnight meet the agents
  they would meet at the end of the replay; a call not answered (or given
  up) within an hour after that midnight counts as still waiting, as at the
  end of the replay. Each run of consecutive days is thus replayed as it
  would be alone.

Cost: building is O(n log n) for n calls; each replication is one
simulation, O(events × log(open tasks)).
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import hashlib
import io
import math
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from valueroute.datasets import (
    CallRecords,
    KaplanMeier,
    _shown,
    _wanted_days,
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
    "CallOutcomes",
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
    of ``interval_minutes`` from ``origin``, over every day from the first
    replayed day to the last (a day not replayed in between keeps the last
    interval's agents of the day before it).
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

    @property
    def intervals_per_day(self) -> int:
        """Headcount intervals in a day (96, 48 or 24)."""
        return int(_DAY_SECONDS // (60 * self.interval_minutes))

    def headcount_by_day(self) -> dict[str, tuple[int, ...]]:
        """The headcount of each replayed day (ISO date), in day order. O(k) for k intervals."""
        per_day = self.intervals_per_day
        result = {}
        for day in self.days:
            offset = _day_offset(day, self.origin) * per_day
            result[day] = self.headcount[offset : offset + per_day]
        return result

    def with_headcount(
        self, headcount: Iterable[int] | Mapping[str | date, Iterable[int]]
    ) -> Replay:
        """The same replay with another headcount: what-if staffing on the days' own callers.

        ``headcount`` is either the agents in each interval, as many
        intervals as :attr:`headcount` has (days not replayed included), or a
        mapping from each replayed day (ISO date or ``date``) to the agents
        in each interval of that day (:attr:`intervals_per_day` of them); a
        day not replayed then keeps the last interval's agents of the day
        before it, as in :func:`build_replay`. ``staffing`` becomes
        ``"given"``. O(k) for k intervals.
        """
        if isinstance(headcount, Mapping):
            return replace(self, headcount=self._spread(headcount), staffing="given")
        counts = _counts(headcount, "headcount", len(self.headcount), self.interval_minutes)
        return replace(self, headcount=counts, staffing="given")

    def _spread(self, by_day: Mapping[str | date, Iterable[int]]) -> tuple[int, ...]:
        named: dict[str, Iterable[int]] = {}
        unknown: list[object] = []
        for key, counts in by_day.items():
            day = key.isoformat() if isinstance(key, date) else key
            if day in named:
                raise InvalidInputError(
                    f"headcount: got {day} twice (expected each replayed day once, "
                    "as an ISO date or a date)",
                    [("headcount", day, "each replayed day once")],
                )
            if day in self.days:
                named[day] = counts
            else:
                unknown.append(key)
        if unknown:
            raise InvalidInputError(
                f"headcount: got days {_shown(unknown)} (expected only the replayed days "
                f"{_shown(list(self.days))})",
                [("headcount", _shown(unknown), "replayed days")],
            )
        missing = [day for day in self.days if day not in named]
        if missing:
            raise InvalidInputError(
                f"headcount: got no counts for {_shown(missing)} (expected counts for every "
                "replayed day)",
                [("headcount", _shown(missing), "counts for every replayed day")],
            )
        per_day = self.intervals_per_day
        checked = {
            day: _counts(counts, f"headcount[{day!r}]", per_day, self.interval_minutes)
            for day, counts in named.items()
        }
        return _fill_gaps(checked, self.origin, self.days[-1], per_day)


def _counts(values: Any, where: str, size: int, interval_minutes: int) -> tuple[int, ...]:
    """``values`` as a tuple of ``size`` agent counts, or an error naming ``where``."""
    counts = None
    if not isinstance(values, str | bytes | Mapping):
        try:
            counts = tuple(values)
        except TypeError:
            counts = None
    if counts is None:
        raise InvalidInputError(
            f"{where}: got {_shown(values)} (expected an iterable of agent counts)",
            [(where, _shown(values), "an iterable of agent counts")],
        )
    if len(counts) != size:
        raise InvalidInputError(
            f"{where}: got {len(counts)} intervals (expected {size}, "
            f"one per {interval_minutes} minutes)",
            [(where, len(counts), f"{size} intervals")],
        )
    for index, count in enumerate(counts):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise InvalidInputError(
                f"{where}[{index}]: got {_shown(count)} (expected a whole number of agents >= 0)",
                [(f"{where}[{index}]", _shown(count), "a whole number >= 0")],
            )
    return tuple(int(n) for n in counts)


def _day_offset(day: str, origin: str) -> int:
    return int((np.datetime64(day, "D") - np.datetime64(origin, "D")).astype(np.int64))


def _fill_gaps(
    by_day: Mapping[str, Sequence[int]], origin: str, last: str, per_day: int
) -> tuple[int, ...]:
    """One headcount from ``origin`` to ``last``: each day's own counts and, on a day
    without counts, the last interval's count of the day before it."""
    result: list[int] = []
    for offset in range(_day_offset(last, origin) + 1):
        counts = by_day.get(str(np.datetime64(origin, "D") + np.timedelta64(offset, "D")))
        result.extend(counts if counts is not None else [result[-1]] * per_day)
    return tuple(result)


def _check_replay(replay: Any) -> None:
    if not isinstance(replay, Replay):
        raise InvalidInputError(
            f"replay: got {type(replay).__name__} (expected a Replay from build_replay)",
            [("replay", type(replay).__name__, "a Replay")],
        )


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
    ``"seen"`` (distinct agents seen serving). Days need not be consecutive:
    a day not replayed between replayed ones keeps the last interval's
    agents of the day before it (see the module's notes). O(n log n) for n
    calls.
    """
    source = load_anonymous_bank() if calls is None else calls
    if not isinstance(source, CallRecords):
        raise InvalidInputError(
            f"calls: got {type(source).__name__} (expected CallRecords from load_anonymous_bank)",
            [("calls", source, "CallRecords")],
        )
    if days is not None:
        wanted = sorted(_wanted_days(days))
        present = set(source.days())
        missing = [d for d in wanted if d not in present]
        if not wanted or missing:
            raise InvalidInputError(
                f"days: got {_shown(wanted)} (expected days present in the calls; "
                f"{_shown(missing) if missing else 'none given'} not found)",
                [("days", _shown(wanted), "days present in the calls")],
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
    span = _day_offset(day_list[-1], origin) + 1
    per_day = staff.counts.shape[1]
    headcount = _fill_gaps(
        {day: counts[row].tolist() for row, day in enumerate(staff.days)},
        origin,
        day_list[-1],
        per_day,
    )
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
        headcount=headcount,
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


_process_folder: list[Path] = []


def _remove_folder(folder: str | Path, owner: int) -> None:
    """Remove a trace folder, from the process that made it only (not a forked copy)."""
    if os.getpid() == owner:
        # Clean-up at exit or collection cannot report a failure to anyone:
        # it removes what it can.
        shutil.rmtree(folder, ignore_errors=True)


def _folder_for_process() -> Path:
    """A temporary folder of this process's own, removed when it exits."""
    if not _process_folder:
        folder = Path(tempfile.mkdtemp(prefix="valueroute-replay-"))
        atexit.register(_remove_folder, folder, os.getpid())
        _process_folder.append(folder)
    return _process_folder[0]


def _write_trace(text: str, directory: str | Path | None) -> Path:
    # Content-addressed: the same draws give the same file, written once.
    folder = _folder_for_process() if directory is None else Path(directory)
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

    The arrivals are written as a trace CSV into ``directory``, named by a
    hash of its content (the same draws make one file), which the scenario
    reads when it runs. Without ``directory`` the file goes to a temporary
    folder of the process's own, removed when the process exits: give a
    ``directory`` to keep the scenario runnable beyond that. Routing defaults to the bank's rule:
    ``aging_priority`` with :data:`HEAD_START_SECONDS` per point.
    ``interval_minutes`` sets the scenario's statistics intervals. O(n log m).
    """
    _check_replay(replay)
    trace = _write_trace(_trace_text(replay, replay.draw_patience(rng=rng)), directory)
    # The hour after the last midnight keeps the last interval's agents.
    headcount = list(replay.headcount)
    needed = math.ceil(replay.horizon_seconds / (60.0 * replay.interval_minutes))
    headcount += headcount[-1:] * (needed - len(headcount))
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
                "headcount": headcount,
                "interval_minutes": replay.interval_minutes,
            }
        ],
        "routing": {"policy": policy, "policy_params": params},
    }
    return Scenario.model_validate(data)


@dataclass(frozen=True)
class HourFigures:
    """Observed or simulated figures of one hour of the data, over the replayed days.

    A call belongs to the hour it entered the voice menu (the data's own
    ``hour``), whenever it reached an agent or the queue. ``mean_wait`` is
    the mean wait of the served calls (zero waits included);
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


StrArray = npt.NDArray[np.str_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CallOutcomes:
    """Every replayed call: what it met in the log and in each replication.

    One entry per call, in the order of :attr:`Replay.arrivals`; the
    simulated fields have one row per replication. Outcomes are
    ``"served"`` or ``"abandoned"`` (hung up in the queue), and, simulated
    only, ``"waiting"`` for a call neither answered nor given up when its
    days' replay ended (an hour after the last midnight). A wait is the time
    from reaching the router to the answer or the hang-up (NaN while
    waiting). :meth:`columns` and :meth:`to_pandas` give one row per call
    and replication.
    """

    day: npt.NDArray[np.datetime64]
    """Day the call entered the voice menu (``datetime64[D]``)."""
    hour: npt.NDArray[np.int64]
    """Hour (0-23) it entered the voice menu: the data's own ``hour``."""
    vru_line: StrArray
    call_id: npt.NDArray[np.int64]
    """With ``vru_line``, the call's identity in the log."""
    service_type: StrArray
    task_class: StrArray
    """``"regular"`` or ``"high"`` (the bank's priority 2)."""
    arrival: FloatArray
    """When it reached the router, seconds from midnight of the replay's origin."""
    observed_outcome: StrArray
    observed_wait: FloatArray
    simulated_outcome: StrArray
    """Shape (replications, calls)."""
    simulated_wait: FloatArray
    """Shape (replications, calls)."""

    def __len__(self) -> int:
        return int(self.call_id.size)

    @property
    def replications(self) -> int:
        """How many replications the simulated fields hold."""
        return int(self.simulated_wait.shape[0])

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """One row per call and replication (replication-major), as a dict of arrays.

        Columns: ``replication``, ``day`` (ISO date), ``hour``, ``vru_line``,
        ``call_id``, ``service_type``, ``task_class``, ``arrival``,
        ``observed_outcome``, ``observed_wait``, ``simulated_outcome``,
        ``simulated_wait``. O(replications × calls).
        """
        count = self.replications

        def each(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return np.tile(values, count)

        return {
            "replication": np.repeat(np.arange(count, dtype=np.int64), len(self)),
            "day": each(self.day.astype(str)),
            "hour": each(self.hour),
            "vru_line": each(self.vru_line),
            "call_id": each(self.call_id),
            "service_type": each(self.service_type),
            "task_class": each(self.task_class),
            "arrival": each(self.arrival),
            "observed_outcome": each(self.observed_outcome),
            "observed_wait": each(self.observed_wait),
            "simulated_outcome": self.simulated_outcome.reshape(-1),
            "simulated_wait": self.simulated_wait.reshape(-1),
        }

    def to_pandas(self) -> Any:
        """:meth:`columns` as a pandas DataFrame; needs pandas."""
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "to_pandas: pandas is not installed (expected `pip install pandas`; "
                "columns() gives the same table as a dict of numpy arrays)"
            ) from None
        return pd.DataFrame(self.columns())


@dataclass(frozen=True)
class ReplayComparison:
    """Observed against simulated figures per hour of day and overall, and per call."""

    observed: list[HourFigures]
    simulated: list[HourFigures]
    observed_all: HourFigures
    simulated_all: HourFigures
    observed_by_class: dict[str, HourFigures]
    """Overall figures of each class (``regular``, ``high``); ``hour`` is -1."""
    simulated_by_class: dict[str, HourFigures]
    replications: int
    calls: CallOutcomes
    """Every call's own outcome, observed and in each replication."""

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


def _figures(
    hour: npt.NDArray[np.int64],
    task_class: StrArray,
    outcome: StrArray,
    wait: FloatArray,
    replications: int,
) -> list[HourFigures]:
    """Figures per hour, overall and per class: means over rows of ``outcome``/``wait``."""
    outcome = np.atleast_2d(outcome)
    wait = np.atleast_2d(wait)
    served = outcome == "served"
    abandoned = outcome == "abandoned"
    # Queued: not answered the instant it arrived (a hang-up after 0 s queued too).
    queued = abandoned | (served & (wait > 0))
    slots = [
        np.broadcast_to(hour, outcome.shape),
        np.full(outcome.shape, 24),
        np.broadcast_to(25 + (task_class == "high").astype(np.int64), outcome.shape),
    ]

    def count(weights: npt.NDArray[Any]) -> FloatArray:
        total = np.zeros(_SLOTS)
        for slot in slots:
            total += np.bincount(slot.reshape(-1), weights=weights.reshape(-1), minlength=_SLOTS)
        return total / replications

    calls = count(np.ones(outcome.shape))
    queued_n, served_n, abandoned_n = count(queued), count(served), count(abandoned)
    wait_sum = count(np.where(served, wait, 0.0))
    rows = []
    for slot in range(_SLOTS):
        rows.append(
            HourFigures(
                hour=slot if slot < 24 else -1,
                calls=float(calls[slot]),
                queued=float(queued_n[slot]),
                served=float(served_n[slot]),
                abandoned=float(abandoned_n[slot]),
                mean_wait=float(wait_sum[slot] / served_n[slot]) if served_n[slot] else math.nan,
                abandonment=(
                    float(abandoned_n[slot] / queued_n[slot]) if queued_n[slot] else math.nan
                ),
            )
        )
    return rows


def _entry(arrival: Arrival) -> float:
    entry = arrival.attributes.get("vru_entry")
    if not isinstance(entry, int | float) or isinstance(entry, bool):
        raise InvalidInputError(
            f"arrivals: a call has vru_entry {_shown(entry)} (expected the seconds from "
            "the origin's midnight at which it entered the voice menu, as build_replay sets it)",
            [("vru_entry", _shown(entry), "seconds from the origin's midnight")],
        )
    return float(entry)


def _cutoffs(replay: Replay, entry_day: npt.NDArray[np.int64]) -> FloatArray:
    """Per call, when its run of consecutive replayed days ends (tail included)."""
    offsets = sorted(_day_offset(day, replay.origin) for day in replay.days)
    run_end: dict[int, float] = {}
    for index, offset in enumerate(offsets):
        last = offset
        for following in offsets[index + 1 :]:
            if following != last + 1:
                break
            last = following
        run_end[offset] = (last + 1) * _DAY_SECONDS + _TAIL_SECONDS
    ends = [run_end.get(day, math.inf) for day in entry_day.tolist()]
    return np.array(ends, dtype=np.float64)


def simulate_calls(
    scenario: Scenario, replay: Replay, *, replication: int = 0
) -> list[tuple[float, float, bool]]:
    """Run one replication of a replay scenario; per replayed call ``(arrival, wait, served)``.

    ``wait`` is the time to answer (served) or to hang up (abandoned), NaN
    for a call still waiting when its days' replay ends: an hour after the
    midnight that ends its run of consecutive replayed days (for the last
    run, the end of the scenario). O(events × log(open tasks)).
    """
    _check_replay(replay)
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
    entry_day = np.array(
        [math.floor(_entry(a) / _DAY_SECONDS) for a in replay.arrivals], dtype=np.int64
    )
    cutoffs = _cutoffs(replay, entry_day).tolist()
    result = []
    # The world numbers tasks 1, 2, ... in submission order, which is the trace's order.
    for index, (arrival, cutoff) in enumerate(zip(replay.arrivals, cutoffs, strict=True), 1):
        wait, served = outcome.get(str(index), (math.nan, False))
        if arrival.time + wait >= cutoff:
            wait, served = math.nan, False
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
    A call counts in the hour it entered the voice menu (the data's own
    hour). A simulated call counts as queued when it was not answered at the
    instant it arrived; a call still waiting when its days' replay ends
    counts as neither served nor abandoned. :attr:`ReplayComparison.calls`
    holds every call's outcome. The trace files go to ``directory`` if
    given, else to a temporary folder removed before returning.
    O(replications × events × log(open tasks)).
    """
    _check_replay(replay)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InvalidInputError(
            f"replications: got {_shown(replications)} (expected an integer >= 1)",
            [("replications", _shown(replications), "an integer >= 1")],
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(
            f"seed: got {_shown(seed)} (expected an integer >= 0)",
            [("seed", _shown(seed), "an integer >= 0")],
        )
    entry = np.array([_entry(a) for a in replay.arrivals], dtype=np.float64)
    count = len(replay.arrivals)
    waits = np.full((replications, count), math.nan)
    outcomes = np.full((replications, count), "waiting", dtype="U9")
    scratch: contextlib.AbstractContextManager[str | Path] = (
        tempfile.TemporaryDirectory(prefix="valueroute-replay-")
        if directory is None
        else contextlib.nullcontext(directory)
    )
    with scratch as folder:
        for replication in range(replications):
            scenario = replay_scenario(
                replay,
                rng=np.random.default_rng([seed, replication]),
                directory=folder,
                policy=policy,
                policy_params=policy_params,
                seed=seed,
            )
            per_call = simulate_calls(scenario, replay, replication=replication)
            for index, (_, wait, served) in enumerate(per_call):
                if not math.isnan(wait):
                    waits[replication, index] = wait
                    outcomes[replication, index] = "served" if served else "abandoned"
    origin = np.datetime64(replay.origin, "D")
    day_offset = np.floor(entry / _DAY_SECONDS).astype(np.int64)
    calls = CallOutcomes(
        day=origin + day_offset,
        hour=np.floor((entry - day_offset * _DAY_SECONDS) / _HOUR_SECONDS).astype(np.int64),
        vru_line=np.array([str(a.attributes["vru_line"]) for a in replay.arrivals]),
        call_id=np.array([a.attributes["call_id"] for a in replay.arrivals], dtype=np.int64),
        service_type=np.array([str(a.attributes["service_type"]) for a in replay.arrivals]),
        task_class=np.array([a.task_type for a in replay.arrivals]),
        arrival=np.array([a.time for a in replay.arrivals], dtype=np.float64),
        observed_outcome=np.array(
            [str(a.attributes["outcome"]) for a in replay.arrivals], dtype="U9"
        ),
        observed_wait=np.array(
            [a.attributes["queue_wait"] for a in replay.arrivals], dtype=np.float64
        ),
        simulated_outcome=outcomes,
        simulated_wait=waits,
    )
    observed = _figures(
        calls.hour, calls.task_class, calls.observed_outcome, calls.observed_wait, 1
    )
    simulated = _figures(calls.hour, calls.task_class, outcomes, waits, replications)
    return ReplayComparison(
        observed=observed[:24],
        simulated=simulated[:24],
        observed_all=observed[24],
        simulated_all=simulated[24],
        observed_by_class=dict(zip(_CLASSES, observed[25:], strict=True)),
        simulated_by_class=dict(zip(_CLASSES, simulated[25:], strict=True)),
        replications=replications,
        calls=calls,
    )


class ReplicationRedraw:
    """Gives replication ``r`` of a replay scenario its own draws of the unseen patiences.

    Called as ``redraw(scenario, replication, seed)``: the same scenario
    (routing and all) with its trace replaced by one whose served callers'
    patience comes from ``numpy.random.default_rng([seed, replication])``.
    Every variant of a benchmark gets the same draws for the same replication
    (common random numbers). The traces go to ``directory``; without one,
    to a temporary folder of the redraw's own, removed with it (when it is
    garbage-collected or the process exits). O(n log m) per call.
    """

    def __init__(self, replay: Replay, *, directory: str | Path | None = None) -> None:
        _check_replay(replay)
        self.replay = replay
        if directory is None:
            folder = tempfile.mkdtemp(prefix="valueroute-replay-")
            weakref.finalize(self, _remove_folder, folder, os.getpid())
            directory = folder
        self.directory: str | Path = directory

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
    if not isinstance(table, Mapping):
        raise InvalidInputError(
            f"replay: got {type(table).__name__} {_shown(table)} (expected a table with "
            "days, interval_minutes, staffing or data)",
            [("replay", _shown(table), "a table")],
        )
    known = {"days", "interval_minutes", "staffing", "data"}
    unknown = sorted(str(key) for key in set(table) - known)
    if unknown:
        raise InvalidInputError(
            f"replay: got keys {_shown(unknown)} (expected only {sorted(known)})",
            [("replay", _shown(unknown), f"keys among {sorted(known)}")],
        )
    seed = scenario_fields.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(
            f"seed: got {_shown(seed)} (expected an integer >= 0)",
            [("seed", _shown(seed), "an integer >= 0")],
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
        interval_minutes=table.get("interval_minutes", 30),
        staffing=table.get("staffing", "available"),
    )
    redraw = ReplicationRedraw(replay)
    built = replay_scenario(replay, rng=np.random.default_rng([seed, 0]), seed=seed)
    merged = built.model_dump() | dict(scenario_fields)
    return redraw(Scenario.model_validate(merged), 0, seed), redraw
