"""Running a policy benchmark: replications with the bench's observations, relations judged.

Depends on :mod:`valueroute.bench._model` for what it runs and on
:mod:`valueroute.bench._report` for the :class:`BenchReport` it returns.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from valueroute.bench._model import (
    _POLICY_NAMES,
    BENCH_KPIS,
    BenchScenario,
    BenchSpec,
    Progress,
    Relation,
    RelationOutcome,
    ScenarioResult,
    _direction,
    _interval,
    _rank_variants,
    _significant,
    _variant_scenario,
    _with_length,
    build_variants,
    load_bench_scenario,
    scenario_hash,
    standard_suite,
)
from valueroute.bench._report import BenchReport
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.sim.arrivals import TraceArrivals
from valueroute.sim.metrics import ReplicationResult, WaitHistogram, mean_ci
from valueroute.sim.run import InlineExecutor
from valueroute.sim.scenario import Scenario
from valueroute.sim.world import World

# ---------------------------------------------------------------- one replication


class _Observer:
    """Collects what the simulator's summary does not keep: waits by bin, per-agent load."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.waits = WaitHistogram()
        self.busy_at_warmup: dict[str, float] = {}
        self.logged_at_warmup: dict[str, float] = {}
        world.engine.subscribe(self._on_event, kinds=(EventKind.task_assigned,))
        world.env.timeout(world.warmup).callbacks.append(self._mark)

    def _on_event(self, event: Event) -> None:
        if event.kind is EventKind.task_assigned:
            wait = float(event.data["wait"])
            # Engine time: simulated seconds after the engine's origin (the
            # scenario's start instant when it has calendars).
            if event.time - wait >= self.world.engine_origin + self.world.warmup:
                self.waits.add(wait)

    def _now(self) -> float:
        """The engine's clock: the world's simulated time after its origin."""
        return self.world.engine_origin + self.world.env.now

    def _mark(self, _: object) -> None:
        now = self._now()
        for agent in self.world.engine.agents:
            self.busy_at_warmup[agent.id] = agent.talk_time(now)
            self.logged_at_warmup[agent.id] = agent.logged_in_time(now)

    def agent_loads(self) -> list[float]:
        """Each agent's busy share of its logged-in time after the warm-up. O(agents)."""
        now = self._now()
        loads = []
        for agent in self.world.engine.agents:
            logged = agent.logged_in_time(now) - self.logged_at_warmup.get(agent.id, 0.0)
            if logged > 0:
                busy = agent.talk_time(now) - self.busy_at_warmup.get(agent.id, 0.0)
                loads.append(busy / logged)
        return loads


@dataclass
class _Replication:
    kpis: dict[str, dict[str, float]]
    wait_bins: list[int]
    wait_zeros: int


def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index (Σx)² / (n Σx²): 1 for equal shares, 1/n for one taker. O(n)."""
    total = math.fsum(values)
    squares = math.fsum(v * v for v in values)
    return total * total / (len(values) * squares) if squares > 0 else math.nan


def _bench_kpis(
    scenario: Scenario, result: ReplicationResult, loads: Sequence[float]
) -> dict[str, dict[str, float]]:
    values = {t.name: t.value for t in scenario.task_types}
    kpis = {key: dict(figures) for key, figures in result.kpis.items()}
    lost_total = 0.0
    holding_total = 0.0
    for name, value in values.items():
        figures = kpis[name]
        lost = (
            figures["value_lost_late"]
            + figures["value_lost_abandoned"]
            + value * figures["waiting_at_end"]
        )
        holding = 3600.0 * value * figures["mean_queue"]
        figures["value_lost"] = lost
        figures["holding_cost_per_hour"] = holding
        lost_total += lost
        holding_total += holding
    overall = kpis["all"]
    overall["value_lost"] = lost_total
    overall["holding_cost_per_hour"] = holding_total
    talk = math.fsum(g["talk_seconds"] for g in result.groups.values())
    login = math.fsum(g["logged_in_seconds"] for g in result.groups.values())
    overall["occupancy"] = talk / login if login else math.nan
    overall["load_fairness"] = jain_index(loads) if loads else math.nan
    if len(loads) > 1:
        mean = math.fsum(loads) / len(loads)
        spread = math.sqrt(math.fsum((x - mean) ** 2 for x in loads) / (len(loads) - 1))
        overall["load_cv"] = spread / mean if mean > 0 else math.nan
    else:
        overall["load_cv"] = math.nan
    return kpis


def _replicate(scenario: Scenario, replication: int, seed: int, allow_code: bool) -> _Replication:
    """One replication with the bench's extra observations (a picklable top-level function)."""
    world = World(scenario, replication=replication, seed=seed, allow_code=allow_code)
    observer = _Observer(world)
    world.run()
    result = world.result()
    return _Replication(
        _bench_kpis(scenario, result, observer.agent_loads()),
        list(observer.waits.bins),
        observer.waits.zeros,
    )


# ---------------------------------------------------------------- relations


def _formula_value(relation: Relation, scenario: Scenario) -> float:
    from valueroute.erlang import erlang_a, erlang_c
    from valueroute.sim.arrivals import PoissonArrivals
    from valueroute.sim.distributions import Exponential

    task = scenario.task_types[0]
    arrival = scenario.arrivals[0]
    groups = scenario.agent_groups
    if (
        len(scenario.task_types) != 1
        or len(scenario.arrivals) != 1
        or not isinstance(arrival, PoissonArrivals)
        or not isinstance(task.handle, Exponential)
        or len(groups) != 1
        or groups[0].count is None
    ):
        raise InvalidInputError(
            f"relations: formula {relation.formula!r} needs one task type with Poisson arrivals, "
            "exponential handle times and one agent group with a fixed count",
            [("relations.formula", relation.formula, "an M/M/n(+M) scenario")],
        )
    aht = task.handle.mean_seconds
    traffic = arrival.rate_per_hour / 3600.0 * aht
    agents = groups[0].count
    if relation.formula == "erlang_c.p_wait":
        return float(erlang_c(agents, traffic))
    if not isinstance(task.patience, Exponential):
        raise InvalidInputError(
            f"relations: formula {relation.formula!r} needs exponential patience",
            [("task_types.0.patience", task.patience, "an exponential distribution")],
        )
    result = erlang_a(agents, traffic, aht=aht, patience=task.patience.mean_seconds)
    return float(result.p_abandon if relation.formula == "erlang_a.p_abandon" else result.p_wait)


def _paired(
    samples: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
    a: str,
    b: str,
    task_type: str,
    kpi: str,
) -> dict[str, float]:
    return _interval(
        [x - y for x, y in zip(samples[a][task_type][kpi], samples[b][task_type][kpi], strict=True)]
    )


def _judge(
    relation: Relation,
    samples: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
    scenario: Scenario,
    mode: str,
) -> RelationOutcome:
    kpi, task_type = relation.kpi, relation.task_type
    labels = list(samples)
    named = [relation.variant, relation.reference, relation.target, *relation.beats]
    named += relation.variants
    for label in named:
        if label is not None and label not in samples:
            raise InvalidInputError(
                f"relations: variant {label!r} is not among the variants run ({labels})",
                [("relations.variant", label, f"one of {labels}")],
            )
    first = samples[labels[0]]
    if task_type not in first or kpi not in first[task_type]:
        raise InvalidInputError(
            f"relations: got kpi {kpi!r} for type {task_type!r} (expected a reported KPI "
            f"of one of {sorted(first)})",
            [("relations.kpi", kpi, "a reported KPI")],
        )
    if mode not in relation.modes:
        return RelationOutcome(relation, False, True, f"tested in {relation.modes} mode only")
    direction = _direction(kpi)
    sign = -1 if direction == "min" else 1
    if relation.kind in ("best", "better"):
        if relation.variant is None:
            raise InvalidInputError(
                f"relations: kind {relation.kind!r} needs 'variant'",
                [("relations.variant", None, "a variant label")],
            )
        if direction == "none":
            raise InvalidInputError(
                f"relations: kpi {kpi!r} has no better direction (expected one of "
                f"{sorted(k for k in BENCH_KPIS if BENCH_KPIS[k] != 'none')})",
                [("relations.kpi", kpi, "a KPI with a direction")],
            )
        winner = relation.variant
        figures: dict[str, Any] = {}
        problems = []
        others = labels if relation.kind == "best" else relation.beats
        for other in others:
            if other == winner:
                continue
            diff = _paired(samples, other, winner, task_type, kpi)
            figures[other] = diff
            verdict = sign * _significant(diff)
            if verdict > 0:
                problems.append(f"{other} is significantly better")
            elif other in relation.beats and verdict == 0:
                problems.append(f"not distinguishable from {other}")
        holds = not problems
        detail = (
            f"{winner} {'best' if relation.kind == 'best' else 'better'} on {kpi}"
            if holds
            else "; ".join(problems)
        )
        return RelationOutcome(relation, True, holds, detail, figures)
    if relation.kind == "same":
        if len(relation.variants) < 2:
            raise InvalidInputError(
                "relations: kind 'same' needs two or more 'variants'",
                [("relations.variants", relation.variants, "two or more labels")],
            )
        figures = {}
        problems = []
        for i, a in enumerate(relation.variants):
            for b in relation.variants[i + 1 :]:
                diff = _paired(samples, a, b, task_type, kpi)
                figures[f"{a} - {b}"] = diff
                if _significant(diff) != 0:
                    problems.append(f"{a} and {b} differ")
        holds = not problems
        return RelationOutcome(
            relation, True, holds, "not distinguishable" if holds else "; ".join(problems), figures
        )
    if relation.kind == "formula":
        if relation.variant is None or relation.formula is None:
            raise InvalidInputError(
                "relations: kind 'formula' needs 'variant' and 'formula'",
                [("relations.formula", relation.formula, "a formula name")],
            )
        expected = _formula_value(relation, scenario)
        figures = _interval(list(samples[relation.variant][task_type][kpi]))
        figures["formula"] = expected
        holds = figures["ci_low"] <= expected <= figures["ci_high"]
        detail = (
            f"{kpi} {figures['mean']:.4f} ± {figures['half_width']:.4f}, "
            f"{relation.formula} = {expected:.4f}"
        )
        return RelationOutcome(relation, True, holds, detail, figures)
    # captures
    if relation.variant is None or relation.reference is None or relation.target is None:
        raise InvalidInputError(
            "relations: kind 'captures' needs 'variant', 'reference' and 'target'",
            [("relations.reference", relation.reference, "variant labels")],
        )
    ref = samples[relation.reference][task_type][kpi]
    var = samples[relation.variant][task_type][kpi]
    tgt = samples[relation.target][task_type][kpi]
    gain = [(r - v) * -sign for r, v in zip(ref, var, strict=True)]
    full = [(r - t) * -sign for r, t in zip(ref, tgt, strict=True)]
    margin = _interval([g - relation.share * f for g, f in zip(gain, full, strict=True)])
    gain_mean = mean_ci(gain)[0]
    full_mean = mean_ci(full)[0]
    captured = gain_mean / full_mean if full_mean else math.nan
    holds = margin["ci_low"] > 0
    detail = (
        f"{relation.variant} captures {captured:.0%} of the {relation.reference} → "
        f"{relation.target} gain on {kpi} (needs ≥ {relation.share:.0%} with 95 % confidence)"
    )
    return RelationOutcome(relation, True, holds, detail, {"captured": captured, "margin": margin})


# ---------------------------------------------------------------- running


def _check_positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(
            f"{name}: got {value!r} (expected an integer >= {minimum})",
            [(name, value, f"an integer >= {minimum}")],
        )


def _check_list(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, Sequence) or isinstance(value, str | bytes)):
        raise InvalidInputError(
            f"{name}: got {type(value).__name__} (expected a list)",
            [(name, type(value).__name__, "a list")],
        )


def run_scenario(
    bench: BenchScenario,
    *,
    policies: Sequence[str | Mapping[str, Any]] | None = None,
    selections: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    fast: bool = False,
    executor: Executor | None = None,
    allow_code: bool = False,
    progress: Progress | None = None,
) -> ScenarioResult:
    """Run every variant of one bench scenario on common random numbers and judge its relations.

    ``policies``/``selections`` replace the scenario's own lists (relations
    that name a variant no longer run are then skipped). ``replications``
    and ``seed`` override the mode's and the scenario's. ``executor``: any
    :class:`concurrent.futures.Executor` (default: in this process).
    """
    if not isinstance(bench, BenchScenario):
        raise InvalidInputError(
            f"bench: got {type(bench).__name__} (expected a BenchScenario, as "
            "load_bench_scenario returns)",
            [("bench", type(bench).__name__, "a BenchScenario")],
        )
    _check_list("policies", policies)
    _check_list("selections", selections)
    _check_positive("replications", replications, 2)
    if seed is not None:
        _check_positive("seed", seed, 0)
    mode: Literal["fast", "full"] = "fast" if fast else "full"
    length = bench.spec.fast if fast else bench.spec.full
    base = _with_length(bench.scenario, length)
    count = replications or length.replications or max(2, base.replications)
    base_seed = base.seed if seed is None else seed
    variants = build_variants(bench, policies=policies, selections=selections)
    scenarios = [_variant_scenario(bench, v, base) for v in variants]
    for scenario in scenarios:
        scenario.check_code(allow_code=allow_code)
    started = time.perf_counter()
    pool = InlineExecutor() if executor is None else executor
    redraw = bench.per_replication
    futures = [
        pool.submit(
            _replicate,
            scenario if redraw is None else redraw(scenario, r, base_seed),
            r,
            base_seed,
            allow_code,
        )
        for scenario in scenarios
        for r in range(count)
    ]
    runs: list[_Replication] = []
    for done, future in enumerate(futures, start=1):
        runs.append(future.result())
        if progress is not None:
            progress(done / len(futures))
    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    waits: dict[str, dict[str, Any]] = {}
    for position, variant in enumerate(variants):
        own = runs[position * count : (position + 1) * count]
        table: dict[str, dict[str, list[float]]] = {}
        for task_type, kpis in own[0].kpis.items():
            table[task_type] = {kpi: [run.kpis[task_type][kpi] for run in own] for kpi in kpis}
        samples[variant.label] = table
        bins = [sum(column) for column in zip(*(run.wait_bins for run in own), strict=True)]
        waits[variant.label] = {
            "zeros": sum(run.wait_zeros for run in own),
            "bins": {str(i): n for i, n in enumerate(bins) if n},
            "low_seconds": WaitHistogram.LOW,
            "bins_per_decade": WaitHistogram.PER_DECADE,
        }
    labels = [v.label for v in variants]
    baseline = bench.spec.baseline if bench.spec.baseline in samples else labels[0]
    summary = {
        label: {
            t: {
                k: _interval(v) | {"n": float(sum(not math.isnan(x) for x in v))}
                for k, v in kp.items()
            }
            for t, kp in table.items()
        }
        for label, table in samples.items()
    }
    differences = {
        label: {
            t: {k: _paired(samples, label, baseline, t, k) for k in kp}
            for t, kp in samples[label].items()
        }
        for label in labels
        if label != baseline
    }
    ranking = {}
    if len(labels) > 1:
        for kpi, direction in BENCH_KPIS.items():
            if direction != "none":
                ranking[kpi] = _rank_variants(
                    {label: samples[label]["all"][kpi] for label in labels}, direction
                )
    outcomes = []
    for relation in bench.spec.relations:
        named = [relation.variant, relation.reference, relation.target, *relation.beats]
        named += relation.variants
        if any(label is not None and label not in samples for label in named):
            outcomes.append(RelationOutcome(relation, False, True, "its variants were not all run"))
            continue
        outcomes.append(_judge(relation, samples, base, mode))
    return ScenarioResult(
        name=bench.name,
        title=bench.spec.title or bench.name,
        description=bench.spec.description,
        scenario_hash=scenario_hash(base),
        seed=base_seed,
        replications=count,
        mode=mode,
        baseline=baseline,
        variants=variants,
        samples=samples,
        summary=summary,
        differences=differences,
        ranking=ranking,
        relations=outcomes,
        waits=waits,
        elapsed_seconds=time.perf_counter() - started,
        abandons=any(t.patience is not None for t in base.task_types)
        or any(isinstance(a, TraceArrivals) for a in base.arrivals),
    )


def _as_bench(item: str | Path | BenchScenario | Scenario) -> BenchScenario:
    if isinstance(item, BenchScenario):
        return item
    if isinstance(item, Scenario):
        return BenchScenario(item, BenchSpec(policies=list(_POLICY_NAMES)))
    if isinstance(item, str | os.PathLike):
        return load_bench_scenario(item)
    raise InvalidInputError(
        f"scenarios: got {type(item).__name__} (expected a file path, a Scenario or a "
        "BenchScenario)",
        [("scenarios", type(item).__name__, "paths or scenarios")],
    )


def run_bench(
    scenarios: Iterable[str | Path | BenchScenario | Scenario] | None = None,
    *,
    policies: Sequence[str | Mapping[str, Any]] | None = None,
    selections: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    fast: bool = False,
    executor: Executor | None = None,
    allow_code: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> BenchReport:
    """Benchmark policies on scenarios (default: the standard suite).

    A plain :class:`Scenario` runs every built-in policy with parameters from
    :func:`default_policy_params`. ``seed`` (default 0 for the report; each
    scenario otherwise uses its own) is passed to every scenario.
    ``progress(scenario name, fraction)`` follows the run.

    >>> from valueroute.bench import run_bench  # doctest: +SKIP
    >>> report = run_bench(fast=True)           # doctest: +SKIP
    >>> report.all_hold                          # doctest: +SKIP
    True
    """
    if scenarios is not None and (
        not isinstance(scenarios, Iterable) or isinstance(scenarios, str | bytes | os.PathLike)
    ):
        raise InvalidInputError(
            f"scenarios: got {type(scenarios).__name__} (expected a list of files, names or "
            "scenarios)",
            [("scenarios", type(scenarios).__name__, "a list")],
        )
    _check_list("policies", policies)
    _check_list("selections", selections)
    items = standard_suite() if scenarios is None else [_as_bench(s) for s in scenarios]
    started = time.perf_counter()
    results = []
    for bench in items:
        callback = None
        if progress is not None:
            name = bench.name
            report = progress

            def callback(fraction: float, name: str = name, report: Any = report) -> None:
                report(name, fraction)

        results.append(
            run_scenario(
                bench,
                policies=policies,
                selections=selections,
                replications=replications,
                seed=seed,
                fast=fast,
                executor=executor,
                allow_code=allow_code,
                progress=callback,
            )
        )
    return BenchReport(
        results,
        seed=-1 if seed is None else seed,
        mode="fast" if fast else "full",
        elapsed_seconds=time.perf_counter() - started,
    )
