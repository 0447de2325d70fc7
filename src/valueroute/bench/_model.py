"""What a policy benchmark is made of: bench scenario files, variants, statistics, results.

The data side of :mod:`valueroute.bench`: the ``[bench]`` table
(:class:`BenchSpec`, :class:`Relation`), loading bench scenarios, building
variants, the paired statistics that rank them, and the per-scenario results
(:class:`ScenarioResult`). It imports neither the runner nor the report.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from valueroute._documents import SUFFIXES, DocumentError, parse_document
from valueroute._jsonio import json_ready
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.models import BoundaryModel
from valueroute.sim.arrivals import TraceArrivals
from valueroute.sim.metrics import mean_ci
from valueroute.sim.scenario import AgentGroup, Scenario, parse_scenario

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

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "data" / "bench"
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
    abandons: bool = True
    """Whether a customer of the scenario can abandon: a task type has a patience, or
    arrivals come from a trace (which may record patience). Without it the abandonment
    rate is 0 by construction, not a measurement, and reports leave it out."""

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
                "abandons": self.abandons,
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
