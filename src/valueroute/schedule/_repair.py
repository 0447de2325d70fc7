"""The roster in the simulator, and the simulate-and-repair loop."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from valueroute.errors import InvalidInputError
from valueroute.schedule._result import Schedule
from valueroute.schedule._solve import _build, _Model, _solve
from valueroute.schedule._spec import (
    InfeasibleScheduleError,
    ScheduleSpec,
    _fail,
    _spec,
    requirements_from,
)

if TYPE_CHECKING:
    from valueroute.sim.metrics import ReplicationResult
    from valueroute.sim.scenario import Scenario
    from valueroute.sim.staffing import StaffingTarget


def roster_scenario(
    scenario: Scenario,
    schedule: Schedule,
    *,
    group: str | None = None,
    offset_seconds: float = 0.0,
) -> Scenario:
    """``scenario`` with one agent group's staffing replaced by the roster's shifts and breaks.

    The schedule's first interval begins at scenario second
    ``offset_seconds`` (0 by default: the scenario starts where the
    requirements start, as the scenarios ``valueroute staff --scenario-out``
    writes do; give ``8 * 3600`` for a scenario whose time 0 is midnight and
    a schedule that starts at 08:00). ``group`` names the agent
    group that works the roster (by default the only group; a scenario with
    several groups must name one). Each shift becomes a
    :class:`~valueroute.sim.scenario.Shift` with its breaks, paid or not.
    """
    from valueroute.sim.scenario import Scenario as _Scenario

    if not isinstance(scenario, _Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    if not isinstance(schedule, Schedule):
        raise _fail("schedule", type(schedule).__name__, "a Schedule (see solve_schedule)")
    names = [g.name for g in scenario.agent_groups]
    if group is None:
        if len(names) != 1:
            raise _fail(
                "group", None, f"the name of the group that works the roster, one of {names}"
            )
        group = names[0]
    if group not in names:
        raise _fail("group", group, f"one of the scenario's agent groups {names}")
    if (
        isinstance(offset_seconds, bool)
        or not isinstance(offset_seconds, int | float)
        or not (math.isfinite(offset_seconds) and 0.0 <= offset_seconds <= 1e9)
    ):
        raise _fail("offset_seconds", offset_seconds, "a finite number of seconds >= 0")
    origin = 60.0 * schedule.start_minutes - float(offset_seconds)
    shifts = [
        {
            "start_seconds": 60.0 * s.start_minutes - origin,
            "end_seconds": 60.0 * s.end_minutes - origin,
            "count": s.count,
            "breaks": [
                {
                    "start_seconds": 60.0 * b.start_minutes - origin,
                    "duration_seconds": 60.0 * b.minutes,
                }
                for b in s.breaks
            ],
        }
        for s in schedule.shifts
    ]
    if not shifts:
        # An empty roster: nobody on duty (a group needs some staffing).
        shifts = [{"start_seconds": 0.0, "end_seconds": 1.0, "count": 0}]
    data = scenario.model_dump()
    for entry in data["agent_groups"]:
        if entry["name"] == group:
            entry.update(count=None, headcount=[], calendar=None, shifts=shifts)
            entry["interval_minutes"] = None
    return _Scenario.model_validate(data)


@dataclass(frozen=True)
class IntervalCheck:
    """One target in one interval: pooled figure over replications, its bound, verdict.

    ``value`` pools the replications' counts (answered within T over
    answered + abandoned, for instance); ``bound`` moves it by the Student t
    half-width of the per-replication figures at the chosen confidence
    (lower for a service level, upper for ASA and abandonment).
    """

    interval: int
    label: str
    task_type: str
    kpi: str
    goal: float
    value: float
    bound: float
    offered: float
    met: bool


@dataclass(frozen=True)
class RepairRound:
    """One simulate-and-repair round: the roster simulated, the misses, what was added."""

    round: int
    cost: float
    shifts: int
    missed: tuple[IntervalCheck, ...]
    added_cost: float
    simulate_seconds: float
    solve_seconds: float


@dataclass(frozen=True)
class RepairResult:
    """The repaired roster, whether simulation confirms it, and the rounds it took.

    ``converged`` is True when the last round's simulation met every target
    in every judged interval; otherwise ``reason`` says why the loop
    stopped (round limit, no shift could be added). ``checks`` are the last
    simulation's checks; ``skipped`` the intervals not judged because fewer
    than ``min_offered`` tasks arrived in them per replication.
    """

    schedule: Schedule
    initial: Schedule
    converged: bool
    reason: str
    rounds: tuple[RepairRound, ...]
    checks: tuple[IntervalCheck, ...]
    skipped: tuple[int, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the rounds, the final roster, the unmet checks."""
        return {
            "converged": self.converged,
            "reason": self.reason,
            "initial_cost": self.initial.cost,
            "cost": self.schedule.cost,
            "rounds": [
                {
                    "round": r.round,
                    "cost": r.cost,
                    "shifts": r.shifts,
                    "missed_intervals": sorted({c.label for c in r.missed}),
                    "added_cost": r.added_cost,
                    "simulate_seconds": r.simulate_seconds,
                    "solve_seconds": r.solve_seconds,
                }
                for r in self.rounds
            ],
            "unmet": [
                {
                    "interval": c.label,
                    "task_type": c.task_type,
                    "kpi": c.kpi,
                    "goal": c.goal,
                    "value": _finite_or_none(c.value),
                    "bound": _finite_or_none(c.bound),
                }
                for c in self.checks
                if not c.met
            ],
            "skipped_intervals": [self.schedule.labels[t] for t in self.skipped],
            "seconds": self.seconds,
            "schedule": self.schedule.to_dict(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_pandas(self, table: Literal["rounds", "checks"] = "rounds") -> Any:
        """The rounds (one row each) or the last simulation's checks as a DataFrame.

        Needs pandas (``pip install "valueroute[pandas]"``).
        """
        if table == "rounds":
            rows: list[dict[str, Any]] = [
                {
                    "round": r.round,
                    "cost": r.cost,
                    "shifts": r.shifts,
                    "intervals_missed": len({c.interval for c in r.missed}),
                    "added_cost": r.added_cost,
                    "simulate_seconds": r.simulate_seconds,
                    "solve_seconds": r.solve_seconds,
                }
                for r in self.rounds
            ]
        elif table == "checks":
            rows = [dataclasses.asdict(c) for c in self.checks]
        else:
            raise _fail("table", table, "'rounds' or 'checks'")
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                'to_pandas: pandas is not installed (expected `pip install "valueroute[pandas]"`)'
            ) from None
        return pd.DataFrame(rows)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _pooled(
    runs: Sequence[ReplicationResult], start: float, types: set[str] | None
) -> tuple[list[tuple[float, float, float, float, float]], float]:
    """Per replication (within, answered, abandoned, wait sum, offered) of one interval."""
    from valueroute.sim.staffing import _interval_sums

    figures = [_interval_sums(run, start, types) for run in runs]
    return figures, math.fsum(f[4] for f in figures) / max(1, len(figures))


def _check_interval(
    runs: Sequence[ReplicationResult],
    targets: Sequence[StaffingTarget],
    *,
    t: int,
    label: str,
    start: float,
    confidence: float,
) -> list[IntervalCheck]:
    from valueroute.sim.metrics import student_t_quantile

    checks = []
    for target in targets:
        types = None if target.task_type == "all" else {target.task_type}
        figures, offered = _pooled(runs, start, types)
        for kpi, goal in target.kpis():
            per_run: list[float] = []
            top = bottom = 0.0
            for within, answered, abandoned, waited, _ in figures:
                closed = answered + abandoned
                if kpi == "service_level":
                    part, whole = within, closed
                elif kpi == "asa":
                    part, whole = waited, answered
                else:
                    part, whole = abandoned, closed
                top += part
                bottom += whole
                if whole:
                    per_run.append(part / whole)
            if bottom == 0.0:
                # Nothing was answered or abandoned: nothing missed the target.
                checks.append(
                    IntervalCheck(
                        t, label, target.task_type, kpi, goal, math.nan, math.nan, offered, True
                    )
                )
                continue
            value = top / bottom
            spread = 0.0
            if confidence > 0.5 and len(per_run) >= 2:
                mean = math.fsum(per_run) / len(per_run)
                variance = math.fsum((v - mean) ** 2 for v in per_run) / (len(per_run) - 1)
                spread = student_t_quantile(confidence, len(per_run) - 1) * math.sqrt(
                    variance / len(per_run)
                )
            if kpi == "service_level":
                bound = value - spread
                met = bound >= goal - 1e-12
            else:
                bound = value + spread
                met = bound <= goal + 1e-12
            checks.append(
                IntervalCheck(t, label, target.task_type, kpi, goal, value, bound, offered, met)
            )
    return checks


def _with_awt(scenario: Scenario, targets: Sequence[StaffingTarget]) -> Scenario:
    """The targets' ``awt`` as the task types' service-level threshold."""
    awts: dict[str, float] = {}
    for target in targets:
        if target.awt is None:
            continue
        names = (
            [t.name for t in scenario.task_types]
            if target.task_type == "all"
            else [target.task_type]
        )
        for name in names:
            if name in awts and awts[name] != target.awt:
                raise _fail(
                    "targets", target.awt, f"one awt per task type ({name!r} has {awts[name]:g})"
                )
            awts[name] = target.awt
    if not awts:
        return scenario
    data = scenario.model_dump()
    for entry in data["task_types"]:
        if entry["name"] in awts:
            entry["sla_seconds"] = awts[entry["name"]]
    return type(scenario).model_validate(data)


def repair_by_simulation(
    scenario: Scenario,
    spec: ScheduleSpec | Mapping[str, Any] | str | Path,
    requirements: Any | None = None,
    *,
    targets: StaffingTarget | Sequence[StaffingTarget],
    group: str | None = None,
    offset_seconds: float = 0.0,
    schedule: Schedule | None = None,
    replications: int = 10,
    seed: int | None = None,
    confidence: float = 0.5,
    min_offered: float = 1.0,
    max_rounds: int = 10,
    executor: Executor | None = None,
    allow_code: bool = False,
) -> RepairResult:
    """Simulate the roster and add the cheapest shifts where the simulated service misses.

    Starts from ``schedule`` (by default :func:`solve_schedule` of
    ``requirements`` and ``spec``), turns it into the scenario's ``group``
    (:func:`roster_scenario`, with ``offset_seconds``) and runs ``replications`` replications. An
    interval (the scenario's ``interval_minutes``, which must equal the
    spec's) fails when a target's pooled figure over the replications, moved
    by the Student t half-width at ``confidence`` (0.5: the plain figure),
    misses its goal; intervals where fewer than ``min_offered`` tasks arrive
    per replication are not judged. Each failing interval then needs one more
    agent on duty than it had, every other interval keeps at least what it
    had, and the shifts already rostered stay: the MIP finds the cheapest
    shifts to add (with breaks and every rule of the spec). Repeat until no
    interval fails (``converged``) or ``max_rounds`` rounds have run.

    Every round uses the same ``seed``, so rounds see the same customers
    (common random numbers) and adding an agent can only help on each sample
    path but for rare routing effects. ``executor`` runs the replications (by
    default one process pool, one worker per CPU, for the whole loop).
    """
    from valueroute.sim.run import simulate
    from valueroute.sim.scenario import Scenario as _Scenario
    from valueroute.sim.staffing import StaffingTarget as _Target

    started = time.perf_counter()
    if not isinstance(scenario, _Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    chosen: tuple[Any, ...]
    if isinstance(targets, _Target):
        chosen = (targets,)
    elif isinstance(targets, Iterable) and not isinstance(targets, str | bytes | Mapping):
        chosen = tuple(targets)
    else:
        chosen = ()
    if not chosen or not all(isinstance(t, _Target) for t in chosen):
        raise _fail("targets", targets, "one StaffingTarget or a non-empty list of them")
    type_names = [t.name for t in scenario.task_types]
    for index, target in enumerate(chosen):
        if target.task_type != "all" and target.task_type not in type_names:
            raise _fail(
                f"targets.{index}.task_type", target.task_type, f"'all' or one of {type_names}"
            )
    for name, value, low, high in (
        ("replications", replications, 1, 10_000),
        ("max_rounds", max_rounds, 0, 1000),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(name, value, f"a whole number from {low} to {high}")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.5 <= confidence < 1.0
    ):
        raise _fail("confidence", confidence, "a number from 0.5 (plain figure) to below 1")
    if (
        isinstance(min_offered, bool)
        or not isinstance(min_offered, int | float)
        or not (math.isfinite(min_offered) and min_offered >= 0.0)
    ):
        raise _fail("min_offered", min_offered, "a finite number >= 0")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise _fail("seed", seed, "a whole number >= 0")
    if executor is not None and not isinstance(executor, Executor):
        raise _fail("executor", type(executor).__name__, "a concurrent.futures.Executor")
    checked = _spec(spec)
    grid = 60.0 * scenario.interval_minutes
    if (
        isinstance(offset_seconds, int | float)
        and not isinstance(offset_seconds, bool)
        and math.isfinite(offset_seconds)
        and offset_seconds % grid
    ):
        raise _fail(
            "offset_seconds",
            offset_seconds,
            f"a multiple of the scenario's interval, {grid:g} s (intervals are judged on its grid)",
        )
    if checked.interval_minutes != scenario.interval_minutes:
        raise _fail(
            "spec.interval_minutes",
            checked.interval_minutes,
            f"the scenario's interval_minutes, {scenario.interval_minutes} (intervals are "
            "judged on the scenario's grid)",
        )
    if schedule is None:
        needed = requirements_from(checked.requirements if requirements is None else requirements)
        model = _build(checked, needed)
        current = _solve(model)
    else:
        if not isinstance(schedule, Schedule):
            raise _fail("schedule", type(schedule).__name__, "a Schedule (see solve_schedule)")
        model = _build(checked, schedule.requirement)
    initial = current if schedule is None else schedule
    current = initial
    # Refuses a bad group or offset before any run.
    roster_scenario(scenario, current, group=group, offset_seconds=offset_seconds)
    prepared = _with_awt(scenario, chosen)
    base_seed = scenario.seed if seed is None else seed
    pool = executor
    own = False
    if pool is None and replications > 1:
        pool = ProcessPoolExecutor(max_workers=min(replications, os.cpu_count() or 1))
        own = True
    rounds: list[RepairRound] = []
    checks: list[IntervalCheck] = []
    skipped: list[int] = []
    converged = False
    reason = ""
    try:
        for number in range(max_rounds + 1):
            clock = time.perf_counter()
            result = simulate(
                roster_scenario(prepared, current, group=group, offset_seconds=offset_seconds),
                replications=replications,
                seed=base_seed,
                executor=pool,
                allow_code=allow_code,
            )
            simulated = time.perf_counter() - clock
            checks, skipped = _judge_all(
                result.replications,
                chosen,
                current,
                confidence,
                min_offered,
                scenario.horizon_seconds,
                float(offset_seconds),
            )
            missed = tuple(c for c in checks if not c.met)
            if not missed:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, (), 0.0, simulated, 0.0)
                )
                converged = True
                reason = "every judged interval meets every target in simulation"
                break
            if number == max_rounds:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = f"targets still missed after max_rounds={max_rounds} repairs"
                break
            failing = {c.interval for c in missed}
            need = [
                max(r, h + 1 if t in failing else h)
                for t, (r, h) in enumerate(zip(current.requirement, current.headcount, strict=True))
            ]
            blocked = [
                t
                for t in failing
                if model.maximum[t] is not None and need[t] > (model.maximum[t] or 0)
            ]
            if blocked:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = "no shift can be added: max_headcount reached in " + ", ".join(
                    current.labels[t] for t in sorted(blocked)[:5]
                )
                break
            lower = _counts(model, current)
            try:
                repaired = _solve(model, need=need, lower=lower)
            except InfeasibleScheduleError as exc:
                rounds.append(
                    RepairRound(number, current.cost, current.agents, missed, 0.0, simulated, 0.0)
                )
                reason = f"no shift can be added under the spec's rules ({exc})"
                break
            if repaired.cost <= current.cost and repaired.agents <= current.agents:
                rounds.append(
                    RepairRound(
                        number,
                        current.cost,
                        current.agents,
                        missed,
                        0.0,
                        simulated,
                        repaired.solve_seconds,
                    )
                )
                reason = "no shift can be added within the budget"
                break
            rounds.append(
                RepairRound(
                    number,
                    current.cost,
                    current.agents,
                    missed,
                    repaired.cost - current.cost,
                    simulated,
                    repaired.solve_seconds,
                )
            )
            current = repaired
    finally:
        if own and pool is not None:
            pool.shutdown()
    return RepairResult(
        schedule=current,
        initial=initial,
        converged=converged,
        reason=reason,
        rounds=tuple(rounds),
        checks=tuple(checks),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )


def _judge_all(
    runs: Sequence[ReplicationResult],
    targets: Sequence[StaffingTarget],
    schedule: Schedule,
    confidence: float,
    min_offered: float,
    horizon: float,
    offset: float,
) -> tuple[list[IntervalCheck], list[int]]:
    checks: list[IntervalCheck] = []
    skipped: list[int] = []
    step = 60.0 * schedule.interval_minutes
    for t, label in enumerate(schedule.labels):
        start = offset + t * step
        if start >= horizon:
            break
        _, offered = _pooled(runs, start, None)
        if offered == 0.0:
            continue
        if offered < min_offered:
            skipped.append(t)
            continue
        checks.extend(
            _check_interval(runs, targets, t=t, label=label, start=start, confidence=confidence)
        )
    return checks, skipped


def _counts(model: _Model, schedule: Schedule) -> list[int]:
    """Shifts per option of ``model`` in ``schedule`` (the repair's floor)."""
    index = {(o.name, o.start): k for k, o in enumerate(model.options)}
    counts = [0] * len(model.options)
    step = model.spec.interval_minutes
    for shift in schedule.shifts:
        key = (shift.template, (shift.start_minutes - schedule.start_minutes) // step)
        if key not in index:
            raise _fail(
                "schedule",
                f"{shift.template} at {shift.label()}",
                "shifts the spec's templates allow (the schedule was solved from another spec)",
            )
        counts[index[key]] += shift.count
    return counts
