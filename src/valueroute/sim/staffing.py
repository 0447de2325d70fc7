"""Simulation-based staffing: the fewest agents per group, and per interval, that meet targets.

Erlang C sizes one pool of identical agents serving one Poisson stream of
exponential calls that never hang up. Real centres have several skills,
priorities, load that changes through the day, handle times with a long tail,
customers who abandon and call back. :func:`staff_by_simulation` finds the
smallest headcount per agent group for which the simulator (the real routing
engine) meets every :class:`StaffingTarget` with a stated confidence;
:func:`staff_intervals_by_simulation` does the same interval by interval.

Confidence. A target holds when a one-sided confidence bound over the
replications clears it: for a service level, mean − t(confidence, n − 1)·s/√n
≥ goal; for ASA or abandonment, mean + t·s/√n ≤ goal. ``confidence=0.5``
compares the plain mean.

Common random numbers. Every candidate staffing runs with the same seed and
replication numbers, so replication *r* of every candidate sees the same
customers with the same handle times and patience. Comparisons between
candidates are paired, and adding an agent almost always helps on every
sample path, which is what makes the search below behave monotonically.

Search (``docs/staffing.md`` repeats it with its cost):

1. Start from Erlang C per group, from the load each group carried in a pilot
   run of the scenario as given (scaled up by offered / answered, so work lost
   to abandonment counts), unless ``start`` is given.
2. Up: while the candidate misses a target, add 1, 2, 4, ... agents to every
   group.
3. Down, one group at a time: try one agent fewer; while that still meets
   the targets try 2, 4, ... fewer, then bisect between the last failing and
   the last meeting count. Repeat passes over the groups until a pass lowers
   none.

The last pass evaluated "one fewer" in every staffed group at the final
staffing and every one of them missed a target: the result is minimal in that
sense, verified by simulation with the same seed, and the result carries those
checks (:attr:`StaffingResult.one_fewer`). Each distinct staffing is simulated
once (results are cached). Cost: with G groups and a start d agents from the
answer, about G·(2 + 2·log₂ d) staffings plus one pass of G checks, each
staffing costing ``replications`` runs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from valueroute.erlang import required_agents
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.sim.metrics import ReplicationResult, student_t_quantile
from valueroute.sim.run import SimulationResult, simulate
from valueroute.sim.scenario import MAX_AGENTS, Scenario

__all__ = [
    "Evaluation",
    "IntervalStaffingResult",
    "StaffingResult",
    "StaffingTarget",
    "TargetCheck",
    "staff_by_simulation",
    "staff_intervals_by_simulation",
]

KpiName = Literal["service_level", "asa", "abandonment_rate"]


def _fail(field_name: str, value: Any, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field_name}: got {bounded_repr(value)} (expected {expected})",
        [(field_name, value, expected)],
    )


def _number(name: str, value: float | None, *, low: float, high: float | None) -> None:
    if value is None:
        return
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer no float holds
            number = math.nan
    ok = math.isfinite(number) and number >= low and (high is None or number <= high)
    if not ok:
        upper = "" if high is None else f" and <= {high:g}"
        raise _fail(name, value, f"a finite number >= {low:g}{upper}")


@dataclass(frozen=True)
class StaffingTarget:
    """What one task type (or ``"all"``) must achieve.

    ``service_level``: share answered within ``awt`` seconds (``awt`` replaces
    the type's ``sla_seconds``; without it the scenario's own T is used);
    ``asa``: the most average speed of answer in seconds; ``abandon``: the
    largest abandonment share. Give at least one.

    >>> StaffingTarget(service_level=0.8, awt=20.0).kpis()
    [('service_level', 0.8)]
    """

    task_type: str = "all"
    service_level: float | None = None
    awt: float | None = None
    asa: float | None = None
    abandon: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.task_type, str) or not self.task_type:
            raise _fail("task_type", self.task_type, "a task type name or 'all'")
        _number("service_level", self.service_level, low=0.0, high=1.0)
        _number("awt", self.awt, low=0.0, high=None)
        _number("asa", self.asa, low=0.0, high=None)
        _number("abandon", self.abandon, low=0.0, high=1.0)
        if not self.kpis():
            raise _fail("targets", self, "at least one of service_level, asa or abandon")
        if self.awt is not None and self.service_level is None:
            raise _fail("awt", self.awt, "awt only together with service_level")

    def kpis(self) -> list[tuple[KpiName, float]]:
        """The (KPI, goal) pairs this target asks for."""
        wanted: list[tuple[KpiName, float]] = []
        if self.service_level is not None:
            wanted.append(("service_level", self.service_level))
        if self.asa is not None:
            wanted.append(("asa", self.asa))
        if self.abandon is not None:
            wanted.append(("abandonment_rate", self.abandon))
        return wanted


@dataclass(frozen=True)
class TargetCheck:
    """One KPI of one target at one staffing: replication mean, confidence bound, verdict.

    ``bound`` is the lower bound for a service level and the upper bound for
    ASA and abandonment; ``n`` counts the replications where the KPI was
    defined.
    """

    task_type: str
    kpi: KpiName
    goal: float
    mean: float
    bound: float
    n: int
    met: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict; a ``mean`` or ``bound`` not finite becomes ``None``.

        A bound is infinite when one replication defined the KPI (and
        ``confidence`` is not 0.5); both are NaN when none did.
        """
        return {
            "task_type": self.task_type,
            "kpi": self.kpi,
            "goal": self.goal,
            "mean": _finite_or_none(self.mean),
            "bound": _finite_or_none(self.bound),
            "n": self.n,
            "met": self.met,
        }


@dataclass(frozen=True)
class Evaluation:
    """A staffing (agents per group, in group order) and what simulation found there."""

    staffing: tuple[int, ...]
    checks: tuple[TargetCheck, ...]

    @property
    def met(self) -> bool:
        """Whether every check at this staffing was met."""
        return all(check.met for check in self.checks)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _judge(
    task_type: str,
    kpi: KpiName,
    goal: float,
    values: Sequence[float],
    *,
    confidence: float,
    offered: float,
) -> TargetCheck:
    finite = [v for v in values if not math.isnan(v)]
    n = len(finite)
    if offered == 0.0:
        # Nothing arrived: nothing can miss the target.
        return TargetCheck(task_type, kpi, goal, math.nan, math.nan, 0, True)
    if n == 0:
        return TargetCheck(task_type, kpi, goal, math.nan, math.nan, 0, False)
    mean = math.fsum(finite) / n
    if n < 2:
        spread = 0.0 if confidence == 0.5 else math.inf
    else:
        variance = math.fsum((v - mean) ** 2 for v in finite) / (n - 1)
        spread = student_t_quantile(confidence, n - 1) * math.sqrt(variance / n)
    if kpi == "service_level":
        bound = mean - spread
        met = bound >= goal
    else:
        bound = mean + spread
        met = bound <= goal
    return TargetCheck(task_type, kpi, goal, mean, bound, n, met)


# ----------------------------------------------------------------- inputs


def _check_targets(
    scenario: Scenario, targets: StaffingTarget | Sequence[StaffingTarget]
) -> tuple[StaffingTarget, ...]:
    if not isinstance(scenario, Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    if isinstance(targets, StaffingTarget):
        chosen: tuple[Any, ...] = (targets,)
    elif isinstance(targets, Iterable) and not isinstance(targets, str | bytes | Mapping):
        chosen = tuple(targets)
    else:
        chosen = ()
    if not chosen or not all(isinstance(t, StaffingTarget) for t in chosen):
        raise _fail("targets", targets, "one StaffingTarget or a non-empty sequence of them")
    names = [t.name for t in scenario.task_types]
    for index, target in enumerate(chosen):
        if target.task_type != "all" and target.task_type not in names:
            raise _fail(f"targets.{index}.task_type", target.task_type, f"'all' or one of {names}")
    _awt_by_type(scenario, chosen)
    return chosen


def _awt_by_type(scenario: Scenario, targets: Sequence[StaffingTarget]) -> dict[str, float]:
    """The T each task type's service level uses after the targets' ``awt`` overrides."""
    chosen: dict[str, float] = {}
    for index, target in enumerate(targets):
        if target.awt is None:
            continue
        names = (
            [t.name for t in scenario.task_types]
            if target.task_type == "all"
            else [target.task_type]
        )
        for name in names:
            if name in chosen and chosen[name] != target.awt:
                raise _fail(
                    f"targets.{index}.awt",
                    target.awt,
                    f"the same awt as another target for {name!r} ({chosen[name]:g})",
                )
            chosen[name] = target.awt
    return chosen


def _check_options(
    scenario: Scenario,
    *,
    confidence: float,
    replications: int | None,
    max_agents: int,
    cost_per_hour: float | Mapping[str, float] | None,
    executor: Executor | None,
    allow_code: bool,
) -> int:
    if not isinstance(scenario, Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario (see load_scenario)")
    _number("confidence", confidence, low=0.5, high=1.0)
    if confidence >= 1.0:
        raise _fail("confidence", confidence, "a number >= 0.5 and < 1")
    count = scenario.replications if replications is None else replications
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _fail("replications", count, "an integer >= 1")
    if count < 2 and confidence > 0.5:
        raise _fail(
            "replications",
            count,
            "at least 2 for a confidence bound (or confidence=0.5 to compare means)",
        )
    if isinstance(max_agents, bool) or not isinstance(max_agents, int) or max_agents < 1:
        raise _fail("max_agents", max_agents, "an integer >= 1")
    if max_agents > MAX_AGENTS:
        raise _fail("max_agents", max_agents, f"at most {MAX_AGENTS}")
    groups = [g.name for g in scenario.agent_groups]
    if isinstance(cost_per_hour, Mapping):
        for name, price in cost_per_hour.items():
            if name not in groups:
                raise _fail("cost_per_hour", name, f"one of {groups}")
            _number(f"cost_per_hour.{name}", price, low=0.0, high=None)
    else:
        _number("cost_per_hour", cost_per_hour, low=0.0, high=None)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise _fail("executor", executor, "None or an executor with submit (such as Executor)")
    if not isinstance(allow_code, bool):
        raise _fail("allow_code", allow_code, "True or False")
    return count


def _with_awt(scenario: Scenario, awts: Mapping[str, float]) -> Scenario:
    if not awts:
        return scenario
    data = scenario.model_dump()
    for task_type in data["task_types"]:
        if task_type["name"] in awts:
            task_type["sla_seconds"] = awts[task_type["name"]]
    return Scenario.model_validate(data)


def _prices(scenario: Scenario, cost_per_hour: float | Mapping[str, float] | None) -> list[float]:
    if cost_per_hour is None:
        return [math.nan] * len(scenario.agent_groups)
    if isinstance(cost_per_hour, Mapping):
        return [float(cost_per_hour.get(g.name, math.nan)) for g in scenario.agent_groups]
    return [float(cost_per_hour)] * len(scenario.agent_groups)


# ----------------------------------------------------------------- search


class _Runner:
    """Simulates candidate staffings once each, with one seed, and judges them."""

    def __init__(
        self,
        build: Callable[[tuple[int, ...]], Scenario],
        judge: Callable[[SimulationResult], tuple[TargetCheck, ...]],
        *,
        replications: int,
        seed: int,
        executor: Executor,
        allow_code: bool,
    ) -> None:
        self._build = build
        self._judge = judge
        self._replications = replications
        self._seed = seed
        self._executor = executor
        self._allow_code = allow_code
        self.cache: dict[tuple[int, ...], Evaluation] = {}
        self.order: list[Evaluation] = []

    def __call__(self, staffing: tuple[int, ...]) -> Evaluation:
        known = self.cache.get(staffing)
        if known is not None:
            return known
        result = simulate(
            self._build(staffing),
            replications=self._replications,
            seed=self._seed,
            executor=self._executor,
            allow_code=self._allow_code,
        )
        evaluation = Evaluation(staffing, self._judge(result))
        self.cache[staffing] = evaluation
        self.order.append(evaluation)
        return evaluation


def _replace(staffing: tuple[int, ...], index: int, value: int) -> tuple[int, ...]:
    return (*staffing[:index], value, *staffing[index + 1 :])


def _lowest(evaluate: Callable[[tuple[int, ...]], Evaluation], x: tuple[int, ...], g: int) -> int:
    """Fewest agents in group ``g`` (others fixed) that still meet, below a meeting ``x[g]``."""
    high = x[g]
    step = 1
    while True:
        probe = max(high - step, 0)
        if not evaluate(_replace(x, g, probe)).met:
            low = probe
            break
        high = probe
        if probe == 0:
            return 0
        step *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if evaluate(_replace(x, g, middle)).met:
            high = middle
        else:
            low = middle
    return high


def _search(
    evaluate: Callable[[tuple[int, ...]], Evaluation],
    start: tuple[int, ...],
    *,
    max_agents: int,
    where: str,
) -> tuple[int, ...]:
    x = tuple(min(max(v, 0), max_agents) for v in start)
    step = 1
    while not evaluate(x).met:
        if all(v >= max_agents for v in x):
            missed = [c for c in evaluate(x).checks if not c.met]
            raise InvalidInputError(
                f"max_agents: got {max_agents} ({where}: even {max_agents} agents in every "
                f"group miss {_describe(missed)}; expected a reachable target or a larger "
                "max_agents)",
                [("max_agents", max_agents, "enough agents to meet the targets")],
            )
        x = tuple(min(v + step, max_agents) for v in x)
        step *= 2
    changed = True
    while changed:
        changed = False
        for g in range(len(x)):
            if x[g] == 0:
                continue
            fewest = _lowest(evaluate, x, g)
            if fewest < x[g]:
                x = _replace(x, g, fewest)
                changed = True
    return x


def _describe(checks: Sequence[TargetCheck]) -> str:
    return ", ".join(f"{c.task_type} {c.kpi} {c.goal:g} (bound {c.bound:.4g})" for c in checks)


def _own_executor(executor: Executor | None, replications: int) -> tuple[Executor, bool]:
    if executor is not None:
        return executor, False
    from valueroute.sim.run import InlineExecutor

    if replications == 1 or (os.cpu_count() or 1) == 1:
        return InlineExecutor(), False
    return ProcessPoolExecutor(max_workers=min(replications, os.cpu_count() or 1)), True


# ----------------------------------------------------------------- whole period


def _judge_period(
    targets: Sequence[StaffingTarget], confidence: float
) -> Callable[[SimulationResult], tuple[TargetCheck, ...]]:
    def judge(result: SimulationResult) -> tuple[TargetCheck, ...]:
        checks = []
        for target in targets:
            runs = [r.kpis[target.task_type] for r in result.replications]
            offered = math.fsum(k["offered"] for k in runs)
            for kpi, goal in target.kpis():
                checks.append(
                    _judge(
                        target.task_type,
                        kpi,
                        goal,
                        [k[kpi] for k in runs],
                        confidence=confidence,
                        offered=offered,
                    )
                )
        return tuple(checks)

    return judge


def _with_counts(scenario: Scenario, staffing: tuple[int, ...]) -> Scenario:
    data = scenario.model_dump()
    for group, count in zip(data["agent_groups"], staffing, strict=True):
        group["count"] = count
        group["shifts"] = []
        group["headcount"] = []
    return Scenario.model_validate(data)


def _erlang_agents(
    load: float, aht: float, scenario: Scenario, targets: Sequence[StaffingTarget]
) -> int:
    """Erlang C agents for one group's load, for the targets Erlang C can express.

    ``scenario`` already carries the targets' ``awt`` as its types' T; the
    strictest service level and T and the smallest ASA goal are used.
    Abandonment goals are left out: Erlang C has no abandonment.
    """
    if load <= 0.0:
        return 0
    sla = {t.name: t.sla_seconds for t in scenario.task_types}
    service = None
    awt = None
    for target in targets:
        if target.service_level is None:
            continue
        limit = min(sla.values()) if target.task_type == "all" else sla[target.task_type]
        service = max(service or 0.0, target.service_level)
        awt = limit if awt is None else min(awt, limit)
    asa = min((t.asa for t in targets if t.asa is not None), default=None)
    if service is None and asa is None:
        return math.floor(load) + 1
    agents: int = required_agents(load, aht=aht, service_level=service, awt=awt, asa=asa)
    return agents


def _carried_loads(scenario: Scenario, result: SimulationResult) -> tuple[list[float], float]:
    """Per-group offered load (Erlangs) from a run, and the mean handle time of all work."""
    window = scenario.horizon_seconds - scenario.warmup_seconds
    talks = [
        math.fsum(r.groups[g.name]["talk_seconds"] for r in result.replications)
        / len(result.replications)
        for g in scenario.agent_groups
    ]
    offered = math.fsum(r.kpis["all"]["offered"] for r in result.replications)
    answered = math.fsum(r.kpis["all"]["answered"] for r in result.replications)
    handles = [r.kpis["all"]["aht"] for r in result.replications]
    finite = [h for h in handles if not math.isnan(h)]
    aht = math.fsum(finite) / len(finite) if finite else math.nan
    carried = math.fsum(talks)
    if carried <= 0.0 or not math.isfinite(aht):
        raise InvalidInputError(
            "scenario: its pilot run served no task, so no load can be measured (expected "
            "agents on duty in scenario.agent_groups, or a start= staffing)",
            [("scenario", scenario.name, "a pilot run that serves work, or start=")],
        )
    scale = offered / answered if answered else 1.0
    return [t * scale / window for t in talks], aht


@dataclass
class StaffingResult:
    """Fewest agents per group that meet the targets all period, beside Erlang C.

    ``staffing`` and ``erlang`` map group → agents (``erlang`` is Erlang C from
    each group's load ``offered_load`` in Erlangs, the search's start);
    ``checks`` are the targets at ``staffing``; ``one_fewer[group]`` the
    failing checks with one agent fewer in that group (same seed), the
    minimality evidence; ``evaluations`` the staffings simulated in search
    order; ``runs`` the replications simulated in all. Agent-hours count the
    counted window (horizon − warm-up); cost uses ``cost_per_hour``.
    """

    scenario: str
    groups: tuple[str, ...]
    staffing: dict[str, int]
    erlang: dict[str, int]
    offered_load: dict[str, float]
    checks: tuple[TargetCheck, ...]
    one_fewer: dict[str, tuple[TargetCheck, ...]]
    evaluations: list[Evaluation]
    runs: int
    replications: int
    seed: int
    confidence: float
    hours: float
    prices: list[float] = field(default_factory=list)

    @property
    def agent_hours(self) -> float:
        """Agents in ``staffing``, all groups, × ``hours`` (the window: horizon − warm-up)."""
        return sum(self.staffing.values()) * self.hours

    @property
    def erlang_agent_hours(self) -> float:
        """As :attr:`agent_hours`, for the Erlang C staffing ``erlang``."""
        return sum(self.erlang.values()) * self.hours

    def cost(self, staffing: Mapping[str, int]) -> float:
        """Agent-hours × price per group (NaN when a price is missing)."""
        return math.fsum(
            staffing[g] * self.hours * price
            for g, price in zip(self.groups, self.prices, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: simulation beside Erlang C, checks, and how much was simulated.

        ``staffing`` appears as ``"simulation"`` and ``erlang`` as
        ``"erlang_c"``, with the agent-hours and cost of both (a cost is
        ``None`` when a group has no price); ``evaluations`` only as their
        number, ``"staffings_simulated"``. Checks are :meth:`TargetCheck.to_dict`.
        """
        return {
            "scenario": self.scenario,
            "groups": list(self.groups),
            "simulation": self.staffing,
            "erlang_c": self.erlang,
            "offered_load": self.offered_load,
            "agent_hours": {"simulation": self.agent_hours, "erlang_c": self.erlang_agent_hours},
            "cost": {
                "simulation": _finite_or_none(self.cost(self.staffing)),
                "erlang_c": _finite_or_none(self.cost(self.erlang)),
            },
            "checks": [c.to_dict() for c in self.checks],
            "one_fewer": {g: [c.to_dict() for c in cs] for g, cs in self.one_fewer.items()},
            "staffings_simulated": len(self.evaluations),
            "runs": self.runs,
            "replications": self.replications,
            "seed": self.seed,
            "confidence": self.confidence,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text, indented by ``indent`` spaces (``None``: one line)."""
        return json.dumps(self.to_dict(), indent=indent)

    def table(self) -> str:
        """A plain-text side-by-side table of Erlang C and simulation."""
        lines = [f"{'group':<20} {'load (Erl)':>10} {'Erlang C':>9} {'simulation':>10}"]
        for g in self.groups:
            lines.append(
                f"{g:<20} {self.offered_load[g]:>10.2f} {self.erlang[g]:>9} {self.staffing[g]:>10}"
            )
        hours = f"{self.erlang_agent_hours:>9.1f} {self.agent_hours:>10.1f}"
        lines.append(f"{'agent-hours':<20} {'':>10} {hours}")
        if not math.isnan(self.cost(self.staffing)):
            costs = f"{self.cost(self.erlang):>9.2f} {self.cost(self.staffing):>10.2f}"
            lines.append(f"{'cost':<20} {'':>10} {costs}")
        for check in self.checks:
            lines.append(
                f"  {check.task_type} {check.kpi}: mean {check.mean:.4f}, "
                f"{self.confidence:.0%} bound {check.bound:.4f}, goal {check.goal:g}"
            )
        lines.append(
            f"{len(self.evaluations)} staffings simulated, {self.runs} replications in all"
        )
        return "\n".join(lines)


def staff_by_simulation(
    scenario: Scenario,
    *,
    targets: StaffingTarget | Sequence[StaffingTarget],
    confidence: float = 0.95,
    replications: int | None = None,
    seed: int | None = None,
    start: Mapping[str, int] | None = None,
    max_agents: int = 1000,
    cost_per_hour: float | Mapping[str, float] | None = None,
    executor: Executor | None = None,
    allow_code: bool = False,
) -> StaffingResult:
    """The fewest agents per group, on duty all period, that meet every target.

    Each candidate staffing gives every group a constant ``count`` (shifts and
    interval headcounts of the scenario are replaced) and runs
    ``replications`` replications (the scenario's by default) with ``seed``;
    a target holds when its one-sided ``confidence`` bound clears the goal.
    ``start`` (group → agents) skips the pilot run and Erlang start.
    ``executor`` runs replications (any :class:`concurrent.futures.Executor`;
    by default a local process pool when there are several).

    Cost: one pilot run (without ``start``) plus about
    G·(2 + 2·log₂ d) + G staffings for G groups and a start d agents away,
    each ``replications`` simulation runs; see the module docstring.

    ``scenario`` is a :class:`~valueroute.sim.scenario.Scenario`, ``targets``
    one :class:`StaffingTarget` or a non-empty list of them, ``start``
    ``None`` or a mapping of group name to an integer >= 0, ``executor``
    ``None`` or an executor (an object with ``submit``, as
    :class:`concurrent.futures.Executor`), ``allow_code`` ``True`` or
    ``False``. Anything else
    (checked before any simulation runs) raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.
    """
    chosen = _check_targets(scenario, targets)
    count = _check_options(
        scenario,
        confidence=confidence,
        replications=replications,
        max_agents=max_agents,
        cost_per_hour=cost_per_hour,
        executor=executor,
        allow_code=allow_code,
    )
    base_seed = scenario.seed if seed is None else seed
    names = tuple(g.name for g in scenario.agent_groups)
    if start is not None:
        if not isinstance(start, Mapping):
            raise _fail("start", start, "None or a mapping of agent group to a number of agents")
        for name, value in start.items():
            if name not in names:
                raise _fail("start", name, f"one of {list(names)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _fail(f"start.{name}", value, "an integer >= 0")
    prepared = _with_awt(scenario, _awt_by_type(scenario, chosen))
    pool, own = _own_executor(executor, count)
    try:
        runner = _Runner(
            lambda staffing: _with_counts(prepared, staffing),
            _judge_period(chosen, confidence),
            replications=count,
            seed=base_seed,
            executor=pool,
            allow_code=allow_code,
        )
        pilot_runs = 0
        if start is None:
            pilot = simulate(
                prepared,
                replications=count,
                seed=base_seed,
                executor=pool,
                allow_code=allow_code,
            )
            pilot_runs = count
            loads, aht = _carried_loads(prepared, pilot)
            erlang = tuple(_erlang_agents(a, aht, prepared, chosen) for a in loads)
        else:
            loads = [math.nan] * len(names)
            erlang = tuple(
                start.get(name, g.size)
                for name, g in zip(names, scenario.agent_groups, strict=True)
            )
        best = _search(runner, erlang, max_agents=max_agents, where="staff_by_simulation")
    finally:
        if own:
            pool.shutdown()
    one_fewer = {
        names[g]: tuple(c for c in runner.cache[_replace(best, g, best[g] - 1)].checks if not c.met)
        for g in range(len(best))
        if best[g] > 0
    }
    return StaffingResult(
        scenario=scenario.name,
        groups=names,
        staffing=dict(zip(names, best, strict=True)),
        erlang=dict(zip(names, erlang, strict=True)),
        offered_load=dict(zip(names, loads, strict=True)),
        checks=runner.cache[best].checks,
        one_fewer=one_fewer,
        evaluations=list(runner.order),
        runs=pilot_runs + count * len(runner.order),
        replications=count,
        seed=base_seed,
        confidence=confidence,
        hours=(scenario.horizon_seconds - scenario.warmup_seconds) / 3600.0,
        prices=_prices(scenario, cost_per_hour),
    )


# ----------------------------------------------------------------- interval by interval


_LOOKAHEAD = 1
"""Intervals simulated after the one being staffed, so its late tasks can finish."""


def _interval_sums(
    run: ReplicationResult, start: float, types: set[str] | None
) -> tuple[float, float, float, float, float]:
    """(answered within target, answered, abandoned, wait sum of answered, offered)
    of one replication's interval starting at ``start``, over ``types`` (all: None)."""
    within = answered = abandoned = waited = offered = 0.0
    for row in run.intervals:
        if row["interval_start"] != start or (types is not None and row["type"] not in types):
            continue
        offered += row["offered"]
        within += row["answered_within"]
        answered += row["answered"]
        abandoned += row["abandoned"]
        if row["answered"]:
            waited += row["asa"] * row["answered"]
    return within, answered, abandoned, waited, offered


def _interval_kpis(
    run: ReplicationResult, start: float, types: set[str] | None
) -> tuple[dict[str, float], float]:
    within, answered, abandoned, waited, offered = _interval_sums(run, start, types)
    closed = answered + abandoned
    return {
        "service_level": within / closed if closed else math.nan,
        "asa": waited / answered if answered else math.nan,
        "abandonment_rate": abandoned / closed if closed else math.nan,
    }, offered


def _judge_interval(
    targets: Sequence[StaffingTarget], confidence: float, start: float
) -> Callable[[SimulationResult], tuple[TargetCheck, ...]]:
    def judge(result: SimulationResult) -> tuple[TargetCheck, ...]:
        checks = []
        for target in targets:
            types = None if target.task_type == "all" else {target.task_type}
            figures = [_interval_kpis(r, start, types) for r in result.replications]
            offered = math.fsum(count for _, count in figures)
            for kpi, goal in target.kpis():
                checks.append(
                    _judge(
                        target.task_type,
                        kpi,
                        goal,
                        [values[kpi] for values, _ in figures],
                        confidence=confidence,
                        offered=offered,
                    )
                )
        return tuple(checks)

    return judge


def _with_headcounts(
    scenario: Scenario, heads: Sequence[Sequence[int]], *, horizon: float
) -> Scenario:
    """``scenario`` up to ``horizon`` with these headcounts per interval.

    A group's last count stays on through the intervals up to the horizon it
    does not give (the look-ahead of the interval-by-interval search), so the
    headcount covers the horizon as a scenario requires. A group on a business
    calendar is staffed by these counts instead: the counts say who is on
    duty in each interval.
    """
    data = scenario.model_dump()
    data["horizon_seconds"] = horizon
    data["warmup_seconds"] = 0.0
    needed = math.ceil(horizon / scenario.interval_seconds)
    for group, counts in zip(data["agent_groups"], heads, strict=True):
        group["count"] = None
        group["shifts"] = []
        group["headcount"] = [*counts, *[counts[-1]] * (needed - len(counts))]
        group["interval_minutes"] = None
        group["calendar"] = None
    return Scenario.model_validate(data)


@dataclass
class IntervalStaffingResult:
    """Fewest agents per group and interval, beside Erlang C per interval.

    ``headcount[group][i]``: agents of the group on duty in interval ``i``;
    ``erlang[i]``: Erlang C agents for interval ``i``'s offered load (the
    stationary independent period-by-period answer, all groups together);
    ``offered[i]``: tasks offered in the interval (mean over the pilot's
    replications). ``checks[i]``: the targets of interval ``i`` when it was
    staffed (later intervals staffed like it); ``day_checks[i]``: the same
    targets in one run of the whole day with the final headcounts, which can
    differ because later intervals are then staffed as chosen.
    """

    scenario: str
    groups: tuple[str, ...]
    interval_seconds: float
    headcount: dict[str, list[int]]
    erlang: list[int]
    offered: list[float]
    checks: list[tuple[TargetCheck, ...]]
    day_checks: list[tuple[TargetCheck, ...]]
    staffings_simulated: int
    runs: int
    replications: int
    seed: int
    confidence: float
    prices: list[float] = field(default_factory=list)

    @property
    def intervals(self) -> int:
        """How many intervals were staffed: the horizon's, a last partial one included."""
        return len(self.erlang)

    def totals(self) -> list[int]:
        """Agents on duty per interval, all groups together."""
        return [sum(self.headcount[g][i] for g in self.groups) for i in range(self.intervals)]

    @property
    def agent_hours(self) -> float:
        """Agents on duty summed over the intervals × the interval length, in hours.

        Every interval counts at full length, a last one the horizon cuts short too.
        """
        return sum(self.totals()) * self.interval_seconds / 3600.0

    @property
    def erlang_agent_hours(self) -> float:
        """As :attr:`agent_hours`, for the Erlang C agents per interval ``erlang``."""
        return sum(self.erlang) * self.interval_seconds / 3600.0

    @property
    def cost(self) -> float:
        """Agent-hours × price per group (NaN when a price is missing)."""
        return math.fsum(
            sum(self.headcount[g]) * self.interval_seconds / 3600.0 * price
            for g, price in zip(self.groups, self.prices, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: headcounts per interval beside Erlang C, checks, and runs.

        ``headcount`` appears as ``"simulation"`` and ``erlang`` as
        ``"erlang_c"``, with the agent-hours of both; ``"cost"`` is ``None``
        when a group has no price. Checks are :meth:`TargetCheck.to_dict`,
        one list per interval.
        """
        return {
            "scenario": self.scenario,
            "interval_seconds": self.interval_seconds,
            "groups": list(self.groups),
            "simulation": self.headcount,
            "erlang_c": self.erlang,
            "offered": self.offered,
            "agent_hours": {"simulation": self.agent_hours, "erlang_c": self.erlang_agent_hours},
            "cost": _finite_or_none(self.cost),
            "checks": [[c.to_dict() for c in row] for row in self.checks],
            "day_checks": [[c.to_dict() for c in row] for row in self.day_checks],
            "staffings_simulated": self.staffings_simulated,
            "runs": self.runs,
            "replications": self.replications,
            "seed": self.seed,
            "confidence": self.confidence,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text, indented by ``indent`` spaces (``None``: one line)."""
        return json.dumps(self.to_dict(), indent=indent)

    def table(self) -> str:
        """A plain-text table: per interval, offered, Erlang C, simulation, whole-day check."""
        head = f"{'interval':>8} {'offered':>8} {'Erlang C':>8} {'sim':>5}"
        lines = [head + "".join(f" {g[:10]:>10}" for g in self.groups) + "  whole-day check"]
        totals = self.totals()
        for i in range(self.intervals):
            start = i * self.interval_seconds / 3600.0
            verdict = ", ".join(
                f"{c.kpi} {c.mean:.3f}{'' if c.met else ' (missed)'}" for c in self.day_checks[i]
            )
            lines.append(
                f"{start:>7.2f}h {self.offered[i]:>8.1f} {self.erlang[i]:>8} {totals[i]:>5}"
                + "".join(f" {self.headcount[g][i]:>10}" for g in self.groups)
                + f"  {verdict}"
            )
        lines.append(
            f"agent-hours: Erlang C {self.erlang_agent_hours:.1f}, simulation "
            f"{self.agent_hours:.1f}; {self.staffings_simulated} staffings simulated, "
            f"{self.runs} replications in all"
        )
        return "\n".join(lines)


def staff_intervals_by_simulation(
    scenario: Scenario,
    *,
    targets: StaffingTarget | Sequence[StaffingTarget],
    confidence: float = 0.95,
    replications: int | None = None,
    seed: int | None = None,
    max_agents: int = 1000,
    cost_per_hour: float | Mapping[str, float] | None = None,
    executor: Executor | None = None,
    allow_code: bool = False,
) -> IntervalStaffingResult:
    """The fewest agents per group in each interval that meet the targets of that interval.

    Intervals are the scenario's ``interval_minutes``; a target is judged on
    the tasks that *arrived* in the interval. Intervals are staffed in time
    order (a sequential, full-day approach): interval ``i`` is searched as in
    :func:`staff_by_simulation` with intervals ``0..i-1`` fixed at their
    answers, in a run from the start of the day to the end of interval
    ``i + 1``, the following interval staffed like ``i`` so that tasks
    arriving late in ``i`` can finish. Backlog carried in from earlier
    intervals is therefore seen (unlike the stationary independent
    period-by-period approximation Erlang C gives, reported beside it), but
    the influence of later staffing decisions on interval ``i`` is not: a
    final run of the whole day with the chosen headcounts reports every
    interval's targets again (``day_checks``). Warm-up is not used: the day
    starts empty, as a real day does.

    Cost: for I intervals, about I·(3 + 2·log₂ d) staffings, the one for
    interval ``i`` simulating i + 2 intervals, so O(I²) simulated intervals
    in all; plus a pilot and a final whole-day run.

    ``scenario``, ``targets``, ``executor`` and ``allow_code`` are as in
    :func:`staff_by_simulation`;
    anything else (checked before any simulation runs) raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.
    """
    chosen = _check_targets(scenario, targets)
    count = _check_options(
        scenario,
        confidence=confidence,
        replications=replications,
        max_agents=max_agents,
        cost_per_hour=cost_per_hour,
        executor=executor,
        allow_code=allow_code,
    )
    base_seed = scenario.seed if seed is None else seed
    names = tuple(g.name for g in scenario.agent_groups)
    width = scenario.interval_seconds
    total_intervals = math.ceil(scenario.horizon_seconds / width)
    prepared = _with_awt(scenario, _awt_by_type(scenario, chosen))
    pool, own = _own_executor(executor, count)
    try:
        pilot = simulate(
            prepared, replications=count, seed=base_seed, executor=pool, allow_code=allow_code
        )
        offered = [
            math.fsum(
                row["offered"]
                for r in pilot.replications
                for row in r.intervals
                if row["interval_start"] == i * width
            )
            / count
            for i in range(total_intervals)
        ]
        loads, aht = _carried_loads(prepared, pilot)
        shares = [load / math.fsum(loads) for load in loads]
        erlang = [_erlang_agents(calls * aht / width, aht, prepared, chosen) for calls in offered]
        heads: list[list[int]] = [[] for _ in names]
        checks: list[tuple[TargetCheck, ...]] = []
        simulated = 0
        for i in range(total_intervals):
            fixed = [list(h) for h in heads]
            horizon = min(scenario.horizon_seconds, (i + 1 + _LOOKAHEAD) * width)

            def build(
                staffing: tuple[int, ...], fixed: list[list[int]] = fixed, horizon: float = horizon
            ) -> Scenario:
                return _with_headcounts(
                    prepared,
                    [[*h, n] for h, n in zip(fixed, staffing, strict=True)],
                    horizon=horizon,
                )

            runner = _Runner(
                build,
                _judge_interval(chosen, confidence, i * width),
                replications=count,
                seed=base_seed,
                executor=pool,
                allow_code=allow_code,
            )
            start = tuple(math.ceil(erlang[i] * share) for share in shares)
            best = _search(
                runner, start, max_agents=max_agents, where=f"interval {i} (from {i * width:g} s)"
            )
            simulated += len(runner.order)
            checks.append(runner.cache[best].checks)
            for h, n in zip(heads, best, strict=True):
                h.append(n)
        day = simulate(
            _with_headcounts(prepared, heads, horizon=scenario.horizon_seconds),
            replications=count,
            seed=base_seed,
            executor=pool,
            allow_code=allow_code,
        )
    finally:
        if own:
            pool.shutdown()
    day_checks = [
        _judge_interval(chosen, confidence, i * width)(day) for i in range(total_intervals)
    ]
    return IntervalStaffingResult(
        scenario=scenario.name,
        groups=names,
        interval_seconds=width,
        headcount=dict(zip(names, heads, strict=True)),
        erlang=erlang,
        offered=offered,
        checks=checks,
        day_checks=day_checks,
        staffings_simulated=simulated,
        runs=count * (simulated + 2),
        replications=count,
        seed=base_seed,
        confidence=confidence,
        prices=_prices(scenario, cost_per_hour),
    )
