"""Policy benchmark: routing policies and agent selections compared on standard scenarios.

A *bench scenario* is an ordinary :class:`~valueroute.sim.scenario.Scenario`
file with one extra ``[bench]`` table (:class:`BenchSpec`), removed before
the scenario is validated. The table names the variants to run (scoring
policies × agent-selection strategies × optional skill designs), the run
lengths for the fast and the full mode, and the *relations* that theory or
the literature says must hold (:class:`Relation`), each checked by a
statistical test rather than against a fixed number.

Statistics
----------
Every variant of a scenario runs the same replications with the same seed,
so replication *r* of every variant sees the same customers with the same
handle times and patience (common random numbers). For each KPI the bench
reports the replication mean with its 95 % Student t interval, and for each
variant the *paired* difference against the baseline variant with its
interval: pairing removes the customer-to-customer noise the variants share.
Two variants are *not distinguishable* on a KPI when the interval of their
paired difference contains 0; :func:`rank_variants` ranks variants by how
many others are significantly better, so indistinguishable variants share a
rank.

KPIs (:data:`BENCH_KPIS`) extend the simulator's: ``value_lost`` (value of
tasks answered late, abandoned, or still waiting at the end),
``holding_cost_per_hour`` (Σ over types of value × mean number waiting, per
hour: the linear delay cost of the c-mu literature with the task value as
cost rate), ``occupancy`` (busy over logged-in time of all agents) and
``load_fairness`` (Jain's index of the agents' occupancies: 1 when every
agent is equally loaded, 1/n when one agent does all the work) with
``load_cv`` (their coefficient of variation).

Cost: a scenario with V variants and R replications runs V × R simulations,
each O(events × log(open tasks)); the statistics are O(V² × R) per KPI.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from valueroute import __version__
from valueroute._documents import SUFFIXES, DocumentError, parse_document
from valueroute._jsonio import csv_cell, json_ready
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.events import Event, EventKind
from valueroute.models import BoundaryModel
from valueroute.sim.arrivals import TraceArrivals
from valueroute.sim.metrics import ReplicationResult, WaitHistogram, mean_ci
from valueroute.sim.run import InlineExecutor
from valueroute.sim.scenario import AgentGroup, Scenario, parse_scenario
from valueroute.sim.world import World

__all__ = [
    "BENCH_KPIS",
    "SCENARIO_DIR",
    "BenchReport",
    "BenchScenario",
    "BenchSpec",
    "Rank",
    "Relation",
    "RelationOutcome",
    "ScenarioResult",
    "Variant",
    "bundled_bench_scenarios",
    "default_policy_params",
    "load_bench_scenario",
    "rank_variants",
    "run_bench",
    "run_scenario",
    "standard_suite",
]

Direction = Literal["min", "max", "none"]

BENCH_KPIS: dict[str, Direction] = {
    "service_level": "max",
    "asa": "min",
    "p90_wait": "min",
    "abandonment_rate": "min",
    "value_lost": "min",
    "value_sla_attainment": "max",
    "holding_cost_per_hour": "min",
    "occupancy": "none",
    "load_fairness": "max",
}
"""The KPIs the bench reports for every variant, with the direction that is better."""

_EXTRA_DIRECTIONS: dict[str, Direction] = {
    "mean_wait": "min",
    "p_wait": "min",
    "p50_wait": "min",
    "p99_wait": "min",
    "value_lost_late": "min",
    "value_lost_abandoned": "min",
    "load_cv": "min",
    "mean_queue": "min",
    "abandoned": "min",
}

SCENARIO_DIR = Path(__file__).resolve().parent / "data" / "bench"
"""Where the standard suite's scenario files are installed: package data, ``valueroute/data/bench``.

Code that needs to work from any installation (a zipped one too) loads them by
name instead: ``load_bench_scenario("edd_deadlines")``, :func:`standard_suite`.
"""

_SHOWN = 160

_POLICY_NAMES = (
    "fifo",
    "strict_priority",
    "aging_priority",
    "edd",
    "least_slack",
    "ramp",
    "cmu",
    "kleinrock",
    "cmu_theta",
    "value_at_risk",
    "composite",
)

Progress = Callable[[float], None]


def _direction(kpi: str) -> Direction:
    return BENCH_KPIS.get(kpi) or _EXTRA_DIRECTIONS.get(kpi, "none")


# ---------------------------------------------------------------- the [bench] table


def _both_modes() -> list[Literal["fast", "full"]]:
    return ["fast", "full"]


def _fifo_only() -> list[str | dict[str, Any]]:
    return ["fifo"]


class RunLength(BoundaryModel):
    """Replications and horizon of one mode (unset fields keep the scenario's)."""

    replications: Annotated[int, Field(ge=2, le=10_000)] | None = None
    horizon_seconds: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    warmup_seconds: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None


class Relation(BoundaryModel):
    """What theory says must hold between variants, checked by a statistical test.

    ``kind``:

    - ``best``: no variant is significantly better than ``variant`` on ``kpi``
      (paired 95 % interval excludes 0 in the better direction), and
      ``variant`` is significantly better than each of ``beats``.
    - ``better``: ``variant`` is significantly better than each of ``beats``.
    - ``same``: every pair in ``variants`` is not distinguishable.
    - ``formula``: the 95 % interval of ``variant``'s ``kpi`` contains the
      value of ``formula`` (``erlang_a.p_abandon``, ``erlang_a.p_wait``,
      ``erlang_c.p_wait``) for the scenario's single M/M/n(+M) queue.
    - ``captures``: ``variant`` captures at least ``share`` of the improvement
      from ``reference`` to ``target``: the paired interval of
      (reference − variant) − share × (reference − target) lies above 0
      (for a KPI where lower is better; mirrored otherwise).

    ``modes`` lists the modes in which the relation is tested (a relation too
    weak to detect with the fast mode's replications is tested in ``full``
    only).
    """

    kind: Literal["best", "better", "same", "formula", "captures"]
    kpi: str
    task_type: str = "all"
    variant: str | None = None
    beats: list[str] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)
    formula: Literal["erlang_a.p_abandon", "erlang_a.p_wait", "erlang_c.p_wait"] | None = None
    reference: str | None = None
    target: str | None = None
    share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    statement: str = ""
    source: str = ""
    modes: list[Literal["fast", "full"]] = Field(default_factory=_both_modes)


class BenchSpec(BoundaryModel):
    """The ``[bench]`` table of a scenario file.

    ``policies``: names (parameters derived from the scenario by
    :func:`default_policy_params`, overridden by ``policy_params[name]``) or
    mappings ``{label, policy, ...params}``. ``selections``: strategy names.
    ``designs``: alternative ``agent_groups`` lists by name (skill designs);
    when set, each variant runs on each design. ``baseline``: the label of
    the baseline variant (the first when unset).
    """

    title: str = ""
    description: str = ""
    policies: list[str | dict[str, Any]] = Field(default_factory=_fifo_only)
    policy_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    selections: list[str] = Field(default_factory=lambda: ["longest_idle"])
    designs: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    baseline: str | None = None
    fast: RunLength = Field(default_factory=RunLength)
    full: RunLength = Field(default_factory=RunLength)
    relations: list[Relation] = Field(default_factory=list)


@dataclass(frozen=True)
class BenchScenario:
    """A scenario and its bench table, as read from one file."""

    scenario: Scenario
    spec: BenchSpec
    path: Path | None = None
    per_replication: Callable[[Scenario, int, int], Scenario] | None = None
    """``(scenario, replication, seed) -> scenario`` for replication *r*, applied to
    each variant's scenario; ``None`` runs the same scenario every replication.
    A replay of real days uses it to redraw the patience the data did not see."""

    @property
    def name(self) -> str:
        return self.scenario.name


def _split_bench(data: Mapping[str, Any], where: str) -> tuple[dict[str, Any], BenchSpec]:
    rest = dict(data)
    table = rest.pop("bench", {})
    try:
        spec = BenchSpec.model_validate(table)
    except ValidationError as exc:
        raise _validation_error(f"{where} [bench]", exc) from None
    return rest, spec


def _validation_error(where: str, exc: ValidationError) -> InvalidInputError:
    problems = [
        (".".join(str(p) for p in error["loc"]), error.get("input"), error["msg"])
        for error in exc.errors()
    ]
    detail = "; ".join(f"{loc}: got {value!r} ({msg})" for loc, value, msg in problems)
    return InvalidInputError(f"{where}: {detail}", problems)


def _bundled_folder() -> Traversable:
    return resources.files("valueroute").joinpath("data").joinpath("bench")


def bundled_bench_scenarios() -> list[str]:
    """Names of the standard suite's scenarios, shipped with the package, sorted. O(files)."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _bundled_folder().iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def load_bench_scenario(path: str | Path) -> BenchScenario:
    """Read a bench scenario (TOML or JSON): the scenario and its ``[bench]`` table.

    ``path`` is a file, or the name of a standard scenario shipped with the
    package (:func:`bundled_bench_scenarios`, e.g. ``"edd_deadlines"``): a
    name has no suffix and no folder. Relative paths inside a file (rules,
    traces) resolve from its folder.
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(
            f"path: got {type(path).__name__} (expected a file path or a bundled scenario name)",
            [("path", type(path).__name__, "a str or a Path")],
        )
    file = Path(path)
    if not file.suffix and file.name == os.fspath(path):
        names = bundled_bench_scenarios()
        if file.name not in names:
            raise InvalidInputError(
                f"path: got {_shown(file.name)} (expected a .toml or .json file, or a bundled "
                f"scenario name, one of {names})",
                [("path", file.name[:_SHOWN], "a file or a bundled scenario name")],
            )
        entry = _bundled_folder().joinpath(file.name + ".toml")
        on_disk = entry if isinstance(entry, Path) else None
        folder = None if on_disk is None else on_disk.parent
        return _bench_from_bytes(entry.read_bytes(), entry.name, ".toml", folder, on_disk)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"path: got {_shown(str(file))} (cannot be read: {exc.strerror})",
            [("path", str(file)[:_SHOWN], "a readable scenario file")],
        ) from None
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InvalidInputError(
            f"path: got {_shown(str(file))} (expected a .toml or .json file)",
            [("path", str(file)[:_SHOWN], "a .toml or .json file")],
        )
    return _bench_from_bytes(text, file.name, suffix, file.parent, file)


def _bench_from_bytes(
    text: bytes, name: str, suffix: str, base_dir: Path | None, file: Path | None
) -> BenchScenario:
    try:
        data = parse_document(text, SUFFIXES[suffix])
    except DocumentError as exc:
        raise InvalidInputError(f"{name}: {exc.reason}", [("(file)", None, "valid text")]) from None
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"{name}: got {type(data).__name__} (expected a table of scenario fields)",
            [("(file)", type(data).__name__, "a table")],
        )
    rest, spec = _split_bench(data, name)
    if "replay" in rest:
        # A [replay] table: the arrivals and agents come from recorded days.
        from valueroute.replay import bench_replay

        table = rest.pop("replay")
        if not isinstance(table, Mapping):
            raise InvalidInputError(
                f"{name} [replay]: got {type(table).__name__} (expected a table)",
                [("replay", type(table).__name__, "a table")],
            )
        replayed, redraw = bench_replay(
            table, rest, base_dir=SCENARIO_DIR if base_dir is None else base_dir
        )
        return BenchScenario(replayed, spec, file, redraw)
    scenario = parse_scenario(json.dumps(rest), format="json", base_dir=base_dir)
    return BenchScenario(scenario, spec, file)


def standard_suite(directory: str | Path | None = None) -> list[BenchScenario]:
    """The standard suite: every ``*.toml`` in ``directory``.

    Without ``directory``, the scenarios shipped with the package
    (:func:`bundled_bench_scenarios`), read as package data so the suite runs
    from an installed wheel as from a source checkout.
    """
    if directory is None:
        return [load_bench_scenario(name) for name in bundled_bench_scenarios()]
    if not isinstance(directory, str | os.PathLike):
        raise InvalidInputError(
            f"directory: got {type(directory).__name__} (expected a folder path)",
            [("directory", type(directory).__name__, "a str or a Path")],
        )
    folder = Path(directory)
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise InvalidInputError(
            f"directory: got {str(folder)!r} (expected a folder holding bench scenario files)",
            [("directory", str(folder), "a folder with *.toml bench scenarios")],
        )
    return [load_bench_scenario(f) for f in files]


# ---------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """One configuration to run: policy, agent selection and skill design."""

    label: str
    policy: str
    policy_params: Mapping[str, Any] = field(default_factory=dict)
    selection: str = "longest_idle"
    selection_params: Mapping[str, Any] = field(default_factory=dict)
    design: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "policy": self.policy,
            "policy_params": dict(self.policy_params),
            "selection": self.selection,
            "selection_params": dict(self.selection_params),
            "design": self.design,
        }


def default_policy_params(name: str, scenario: Scenario) -> dict[str, Any]:
    """Parameters for a built-in policy, taken from the scenario's task types.

    Handle times and patience are those :meth:`Scenario.policy_params`
    derives for ``cmu_theta``: the types' mean handle times, their mean
    patience (ten horizons for customers who never abandon), and the mean
    over the types for ``"*"``; costs are the types' business values.
    ``aging_priority``: one point per 60 s; ``ramp``: one point per 60 s;
    ``value_at_risk``: expected wait = mean handle time;
    ``composite``: c-mu plus an age term worth the mean c-mu index after ten
    mean handle times. Other policies take no parameters. O(task types).
    """
    if not isinstance(name, str):
        raise InvalidInputError(
            f"name: got {type(name).__name__} (expected a policy name)",
            [("name", type(name).__name__, "a policy name")],
        )
    if not isinstance(scenario, Scenario):
        raise InvalidInputError(
            f"scenario: got {type(scenario).__name__} (expected a Scenario)",
            [("scenario", type(scenario).__name__, "a Scenario")],
        )
    types = scenario.task_types
    # The scenario's own derivation, as a cmu_theta run of it would use (a copy, not validated
    # again: only the routing's policy and parameters change).
    routing = scenario.routing.model_copy(update={"policy": "cmu_theta", "policy_params": {}})
    derived = scenario.model_copy(update={"routing": routing}).policy_params()
    handle_map: dict[str, float] = derived["handle_seconds"]
    patience_map: dict[str, float] = derived["patience_seconds"]
    handles = {t.name: handle_map[t.name] for t in types}
    mean_handle = handle_map["*"]
    costs = {t.name: (t.value if t.value > 0 else 1.0) for t in types}
    if name in ("fifo", "strict_priority", "edd"):
        return {}
    if name == "aging_priority":
        return {"seconds_per_point": 60.0}
    if name == "ramp":
        return {"default": {"step": 1, "every": 60.0}}
    if name in ("least_slack", "cmu"):
        return {"handle_seconds": handle_map}
    if name == "kleinrock":
        rates = {t: costs[t] / handles[t] for t in handles}
        rates["*"] = math.fsum(rates.values()) / len(rates)
        return {"rates": rates}
    if name == "cmu_theta":
        return {"handle_seconds": handle_map, "patience_seconds": patience_map}
    if name == "value_at_risk":
        return {"expected_wait": handle_map, "handle_seconds": handle_map}
    if name == "composite":
        index = math.fsum(t.value / handles[t.name] for t in types) / len(types)
        age_weight = index / (10.0 * mean_handle) if index > 0 else 1.0
        return {
            "parts": [
                {"policy": "cmu", "weight": 1.0, "handle_seconds": handle_map},
                {"policy": "fifo", "weight": age_weight},
            ]
        }
    return {}


def _policy_entries(
    entries: Sequence[str | Mapping[str, Any]],
    overrides: Mapping[str, Mapping[str, Any]],
    scenario: Scenario,
) -> list[tuple[str, str, dict[str, Any]]]:
    built = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            label, name = entry, entry
            params = ({} if ":" in name else default_policy_params(name, scenario)) | dict(
                overrides.get(name, {})
            )
        elif isinstance(entry, Mapping) and isinstance(entry.get("policy"), str):
            params = dict(entry)
            name = str(params.pop("policy"))
            label = str(params.pop("label", name))
        else:
            raise InvalidInputError(
                f"policies.{index}: got {entry!r} (expected a policy name or a mapping with "
                "'policy', an optional 'label' and parameters)",
                [(f"policies.{index}", entry, "a policy name or {'policy': name, ...}")],
            )
        built.append((label, name, params))
    return built


def build_variants(
    bench: BenchScenario,
    *,
    policies: Sequence[str | Mapping[str, Any]] | None = None,
    selections: Sequence[str] | None = None,
) -> list[Variant]:
    """The cross product of policies × selections × designs, labelled by what varies."""
    spec = bench.spec
    chosen = _policy_entries(
        spec.policies if policies is None else policies, spec.policy_params, bench.scenario
    )
    strategies = list(spec.selections if selections is None else selections)
    if not chosen or not strategies:
        raise InvalidInputError(
            "policies/selections: got an empty list (expected at least one of each)",
            [("policies", policies, "one or more"), ("selections", selections, "one or more")],
        )
    designs: list[str | None] = list(spec.designs) or [None]
    variants = []
    for design in designs:
        for label, name, params in chosen:
            for selection in strategies:
                parts = []
                if len(designs) > 1:
                    parts.append(str(design))
                if len(chosen) > 1 or (len(strategies) == 1 and len(designs) == 1):
                    parts.append(label)
                if len(strategies) > 1:
                    parts.append(selection)
                variants.append(Variant("/".join(parts), name, params, selection, {}, design))
    seen: set[str] = set()
    for variant in variants:
        if variant.label in seen:
            raise InvalidInputError(
                f"policies: label {variant.label!r} is used twice (expected distinct labels; "
                "give a 'label' to each repeated policy)",
                [("policies", variant.label, "distinct labels")],
            )
        seen.add(variant.label)
    return variants


def _variant_scenario(bench: BenchScenario, variant: Variant, base: Scenario) -> Scenario:
    data = base.model_dump()
    data["routing"] = base.routing.model_dump() | {
        "policy": variant.policy,
        "policy_params": dict(variant.policy_params),
        "agent_selection": variant.selection,
        "selection_params": dict(variant.selection_params),
    }
    if variant.design is not None:
        data["agent_groups"] = [
            AgentGroup.model_validate(g).model_dump() for g in bench.spec.designs[variant.design]
        ]
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(f"{bench.name} variant {variant.label!r}", exc) from None
    except ValueRouteError:
        raise


def _with_length(scenario: Scenario, length: RunLength) -> Scenario:
    changes: dict[str, Any] = {}
    if length.horizon_seconds is not None:
        changes["horizon_seconds"] = length.horizon_seconds
    if length.warmup_seconds is not None:
        changes["warmup_seconds"] = length.warmup_seconds
    if not changes:
        return scenario
    return Scenario.model_validate(scenario.model_dump() | changes)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON (trace files by content, not by path)."""
    data = scenario.model_dump(mode="json")
    for index, arrival in enumerate(scenario.arrivals):
        if isinstance(arrival, TraceArrivals):
            content = Path(arrival.path).read_bytes()
            data["arrivals"][index]["path"] = "sha256:" + hashlib.sha256(content).hexdigest()
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
            if event.time - wait >= self.world.warmup:
                self.waits.add(wait)

    def _mark(self, _: object) -> None:
        now = self.world.env.now
        for agent in self.world.engine.agents:
            self.busy_at_warmup[agent.id] = agent.talk_time(now)
            self.logged_at_warmup[agent.id] = agent.logged_in_time(now)

    def agent_loads(self) -> list[float]:
        """Each agent's busy share of its logged-in time after the warm-up. O(agents)."""
        now = self.world.env.now
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


# ---------------------------------------------------------------- statistics


def _interval(values: Sequence[float]) -> dict[str, float]:
    mean, half = mean_ci(values)
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) >= 2 and max(finite) == min(finite):
        half = 0.0  # identical paired runs: the difference is exactly known
    return {"mean": mean, "half_width": half, "ci_low": mean - half, "ci_high": mean + half}


@dataclass(frozen=True)
class Rank:
    """A variant's place on one KPI.

    ``rank`` is 1 + the number of variants significantly better; ``tied_with``
    the variants whose paired difference with this one is not significant.
    """

    label: str
    mean: float
    rank: int
    better_than: tuple[str, ...]
    tied_with: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "mean": self.mean,
            "rank": self.rank,
            "better_than": list(self.better_than),
            "tied_with": list(self.tied_with),
        }


def _significant(difference: Mapping[str, float]) -> int:
    """+1 when the interval lies above 0, −1 below, 0 when it contains 0 (or is undefined)."""
    low, high = difference["ci_low"], difference["ci_high"]
    if math.isnan(low) or math.isnan(high):
        return 0
    if low > 0:
        return 1
    if high < 0:
        return -1
    return 0


def _check_samples(samples: Any) -> None:
    """Refuse samples that are not label -> finite real numbers (NaN would rank arbitrarily)."""
    if not isinstance(samples, Mapping):
        raise InvalidInputError(
            f"samples: got {type(samples).__name__} (expected a mapping of label to values)",
            [("samples", type(samples).__name__, "a mapping")],
        )
    for label, values in samples.items():
        if not isinstance(values, Sequence) or isinstance(values, str | bytes):
            raise InvalidInputError(
                f"samples: got {type(values).__name__} for a label (expected a list of numbers)",
                [("samples", type(values).__name__, "a list of numbers")],
            )
        for value in values:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                shown = repr(value) if isinstance(value, int | float) else type(value).__name__
                raise InvalidInputError(
                    f"samples[{_shown(str(label))}]: got {shown[:40]} (expected finite numbers)",
                    [("samples", shown[:40], "finite numbers")],
                )


def rank_variants(
    samples: Mapping[str, Sequence[float]], *, direction: Direction = "min"
) -> list[Rank]:
    """Rank variants from paired per-replication values of one KPI.

    ``samples[label][r]`` is the KPI in replication r (the same customers for
    every label). For each pair the 95 % interval of the paired difference
    decides: significantly better, worse, or not distinguishable. A
    variant's rank is 1 + the number of variants significantly better than
    it; the list is sorted by rank, then mean. O(V² × R). Values must be
    finite numbers.
    """
    _check_samples(samples)
    return _rank_variants(samples, direction)


def _rank_variants(samples: Mapping[str, Sequence[float]], direction: Direction) -> list[Rank]:
    """:func:`rank_variants` without the check of the values (a bench run's KPIs may be NaN)."""
    labels = list(samples)
    count = {len(v) for v in samples.values()}
    if len(count) > 1:
        raise InvalidInputError(
            f"samples: got {sorted(count)} replications per label (expected the same number "
            "for every label: the values are paired)",
            [("samples", sorted(count), "equal lengths")],
        )
    if not isinstance(direction, str) or direction not in ("min", "max"):
        shown = _shown(direction) if isinstance(direction, str) else type(direction).__name__
        raise InvalidInputError(
            f"direction: got {shown} (expected 'min' or 'max')",
            [("direction", shown, "'min' or 'max'")],
        )
    sign = -1 if direction == "min" else 1
    better: dict[str, list[str]] = {label: [] for label in labels}
    tied: dict[str, list[str]] = {label: [] for label in labels}
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            paired = [x - y for x, y in zip(samples[a], samples[b], strict=True)]
            verdict = sign * _significant(_interval(paired))
            if verdict > 0:
                better[a].append(b)
            elif verdict < 0:
                better[b].append(a)
            else:
                tied[a].append(b)
                tied[b].append(a)
    beaten_by = {label: sum(label in better[o] for o in labels) for label in labels}
    means = {label: mean_ci(samples[label])[0] for label in labels}
    ranks = [
        Rank(label, means[label], 1 + beaten_by[label], tuple(better[label]), tuple(tied[label]))
        for label in labels
    ]

    def order(rank: Rank) -> tuple[int, float]:
        value = rank.mean if not math.isnan(rank.mean) else math.inf * -sign
        return rank.rank, -sign * value

    return sorted(ranks, key=order)


@dataclass
class RelationOutcome:
    """The verdict on one relation: whether it held, and the figures it rests on."""

    relation: Relation
    tested: bool
    holds: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.relation.kind,
            "kpi": self.relation.kpi,
            "task_type": self.relation.task_type,
            "statement": self.relation.statement,
            "source": self.relation.source,
            "tested": self.tested,
            "holds": self.holds,
            "detail": self.detail,
            "figures": self.figures,
        }


@dataclass
class ScenarioResult:
    """Everything one scenario's bench produced.

    ``summary[label][type][kpi]`` and ``differences[label][type][kpi]``
    hold ``mean``, ``half_width``, ``ci_low``, ``ci_high``; ``samples``
    the per-replication values behind them; ``ranking[kpi]`` the ranks on
    the ``"all"`` row; ``waits[label]`` the answered waits of all
    replications as histogram counts (:class:`WaitHistogram` bins).
    """

    name: str
    title: str
    description: str
    scenario_hash: str
    seed: int
    replications: int
    mode: Literal["fast", "full"]
    baseline: str
    variants: list[Variant]
    samples: dict[str, dict[str, dict[str, list[float]]]]
    summary: dict[str, dict[str, dict[str, dict[str, float]]]]
    differences: dict[str, dict[str, dict[str, dict[str, float]]]]
    ranking: dict[str, list[Rank]]
    relations: list[RelationOutcome]
    waits: dict[str, dict[str, Any]]
    elapsed_seconds: float

    @property
    def labels(self) -> list[str]:
        return [v.label for v in self.variants]

    def mean(self, label: str, kpi: str, task_type: str = "all") -> float:
        return self.summary[label][task_type][kpi]["mean"]

    def to_dict(self) -> dict[str, Any]:
        ready: dict[str, Any] = json_ready(
            {
                "name": self.name,
                "title": self.title,
                "description": self.description,
                "scenario_hash": self.scenario_hash,
                "seed": self.seed,
                "replications": self.replications,
                "mode": self.mode,
                "baseline": self.baseline,
                "variants": [v.to_dict() for v in self.variants],
                "summary": self.summary,
                "differences": self.differences,
                "ranking": {k: [r.to_dict() for r in v] for k, v in self.ranking.items()},
                "relations": [r.to_dict() for r in self.relations],
                "samples": self.samples,
                "waits": self.waits,
                "elapsed_seconds": self.elapsed_seconds,
            }
        )
        return ready

    def rows(self) -> list[dict[str, Any]]:
        """One row per (variant, type, KPI): mean, interval, paired difference vs baseline."""
        rows = []
        for label in self.labels:
            for task_type, kpis in self.summary[label].items():
                for kpi, figures in kpis.items():
                    diff = self.differences.get(label, {}).get(task_type, {}).get(kpi)
                    rows.append(
                        {
                            "scenario": self.name,
                            "variant": label,
                            "type": task_type,
                            "kpi": kpi,
                            "mean": figures["mean"],
                            "ci_low": figures["ci_low"],
                            "ci_high": figures["ci_high"],
                            "diff_mean": math.nan if diff is None else diff["mean"],
                            "diff_ci_low": math.nan if diff is None else diff["ci_low"],
                            "diff_ci_high": math.nan if diff is None else diff["ci_high"],
                        }
                    )
        return rows


CSV_COLUMNS = (
    "scenario",
    "variant",
    "type",
    "kpi",
    "mean",
    "ci_low",
    "ci_high",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
)
"""The columns of ``bench.csv`` (see :meth:`BenchReport.to_csv`)."""


@dataclass
class BenchReport:
    """Results of a bench run over one or more scenarios."""

    scenarios: list[ScenarioResult]
    seed: int
    mode: Literal["fast", "full"]
    version: str = __version__
    elapsed_seconds: float = 0.0

    @property
    def all_hold(self) -> bool:
        """Whether every tested relation held."""
        return all(o.holds for s in self.scenarios for o in s.relations if o.tested)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "seed": self.seed,
            "mode": self.mode,
            "elapsed_seconds": self.elapsed_seconds,
            "all_relations_hold": self.all_hold,
            "scenarios": [s.to_dict() for s in self.scenarios],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self, path: str | Path) -> Path:
        """Write one CSV row per (scenario, variant, type, KPI) with :data:`CSV_COLUMNS`."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for scenario in self.scenarios:
            for row in scenario.rows():
                writer.writerow({k: csv_cell(v) for k, v in row.items()})
        out.write_text(buffer.getvalue(), encoding="utf-8")
        return out

    def table(self) -> str:
        """The terminal table: KPI means ± half-widths, ranks, relation verdicts."""
        from valueroute._bench_report import scenario_table

        return "\n\n".join(scenario_table(s) for s in self.scenarios)

    def write(self, directory: str | Path, *, plots: bool = True) -> list[Path]:
        """Write ``bench.json``, ``bench.csv``, ``report.html`` and (matplotlib) PNG plots.

        With ``plots`` and no matplotlib (the ``plot`` extra), raises
        :class:`InvalidInputError` before writing anything.
        """
        from valueroute._bench_report import write_outputs

        return write_outputs(self, Path(directory), plots=plots)


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
