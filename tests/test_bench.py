"""The policy benchmark: the standard suite's relations, ranking logic, outputs, reproducibility."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from valueroute.bench import (
    BENCH_KPIS,
    CSV_COLUMNS,
    SCENARIO_DIR,
    BenchScenario,
    BenchSpec,
    Relation,
    bundled_bench_scenarios,
    default_policy_params,
    jain_index,
    load_bench_scenario,
    rank_variants,
    run_bench,
    run_scenario,
    scenario_hash,
    standard_suite,
)
from valueroute.cli import main
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.sim import Scenario

SUITE = bundled_bench_scenarios()


def test_the_suite_has_the_standard_scenarios() -> None:
    assert {
        "erlang_a_fifo",
        "cmu_one_pool",
        "cmu_theta_overload",
        "edd_deadlines",
        "fast_slow_agents",
        "identical_agents",
        "skill_designs",
        "backoffice_value",
        "time_varying_day",
    } <= set(SUITE)


@pytest.fixture(scope="module")
def fast_suite() -> dict[str, Any]:
    report = run_bench(fast=True)
    return {result.name: result for result in report.scenarios}


@pytest.mark.parametrize("name", SUITE)
def test_each_relation_of_the_fast_suite_holds(fast_suite: dict[str, Any], name: str) -> None:
    result = fast_suite[name]
    tested = [outcome for outcome in result.relations if outcome.tested]
    assert tested, f"{name} tests no relation in fast mode"
    for outcome in tested:
        assert outcome.holds, f"{name}: {outcome.relation.statement}: {outcome.detail}"


def test_erlang_a_relation_compares_against_the_formula(fast_suite: dict[str, Any]) -> None:
    from valueroute.erlang import erlang_a

    outcome = fast_suite["erlang_a_fifo"].relations[0]
    expected = erlang_a(11, 165 / 3600 * 240, aht=240.0, patience=120.0).p_abandon
    assert outcome.figures["formula"] == pytest.approx(expected)
    assert outcome.figures["ci_low"] <= expected <= outcome.figures["ci_high"]


def test_identical_agents_queue_does_not_depend_on_the_selection(
    fast_suite: dict[str, Any],
) -> None:
    # Handle times belong to customers: the queue is the same sample path.
    result = fast_suite["identical_agents"]
    waits = {label: result.samples[label]["all"]["asa"] for label in result.labels}
    first = waits["longest_idle"]
    for label, values in waits.items():
        assert values == pytest.approx(first, rel=1e-9), label


# ---------------------------------------------------------------- ranking


def test_ranking_separates_significant_differences_and_ties() -> None:
    base = [10.0, 12.0, 9.0, 11.0, 10.5, 9.5]
    samples = {
        "slow": [x + 5.0 + 0.1 * i for i, x in enumerate(base)],
        "a": list(base),
        "b": [x + (0.2 if i % 2 else -0.2) for i, x in enumerate(base)],
    }
    ranks = {r.label: r for r in rank_variants(samples, direction="min")}
    assert ranks["a"].rank == 1
    assert ranks["b"].rank == 1
    assert set(ranks["a"].tied_with) == {"b"}
    assert ranks["slow"].rank == 3
    assert set(ranks["a"].better_than) == {"slow"}
    flipped = {r.label: r for r in rank_variants(samples, direction="max")}
    assert flipped["slow"].rank == 1
    assert flipped["a"].rank == 2


def test_identical_paired_values_are_not_distinguishable() -> None:
    values = [1.0, 5.0, 3.0]
    ranks = rank_variants({"x": values, "y": list(values)}, direction="min")
    assert [r.rank for r in ranks] == [1, 1]


def test_constant_shift_is_significant_even_with_noisy_levels() -> None:
    # Pairing removes the level noise: a constant 0.01 gap is exactly known.
    levels = [1.0, 100.0, 7.0, 50.0]
    ranks = rank_variants({"x": levels, "y": [v + 0.01 for v in levels]}, direction="min")
    assert [(r.label, r.rank) for r in ranks] == [("x", 1), ("y", 2)]


@given(st.lists(st.lists(st.floats(-1e3, 1e3), min_size=5, max_size=5), min_size=2, max_size=4))
def test_ranking_agrees_with_a_direct_t_interval(rows: list[list[float]]) -> None:
    from valueroute.sim.metrics import student_t_quantile

    samples = {f"v{i}": row for i, row in enumerate(rows)}
    ranks = {r.label: r for r in rank_variants(samples, direction="min")}
    for a in samples:
        beaten = 0
        for b in samples:
            if a == b:
                continue
            d = [x - y for x, y in zip(samples[b], samples[a], strict=True)]
            mean = math.fsum(d) / len(d)
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in d) / (len(d) - 1))
            t = student_t_quantile(0.975, len(d) - 1)
            half = 0.0 if max(d) == min(d) else t * sd / math.sqrt(len(d))
            assume(abs(mean + half) > 1e-9 * (1.0 + abs(mean)))
            if mean + half < 0:
                beaten += 1
        assert ranks[a].rank == 1 + beaten


def test_ranking_refuses_unpaired_samples() -> None:
    with pytest.raises(InvalidInputError, match="samples"):
        rank_variants({"x": [1.0, 2.0], "y": [1.0]})


def test_jain_index_bounds() -> None:
    assert jain_index([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert jain_index([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)


# ---------------------------------------------------------------- outputs


def _small_bench() -> BenchScenario:
    bench = load_bench_scenario(SCENARIO_DIR / "edd_deadlines.toml")
    return bench


def test_json_and_csv_have_the_documented_keys(tmp_path: Path) -> None:
    report = run_bench(
        [_small_bench()], policies=["fifo", "edd"], replications=3, fast=True, seed=5
    )
    paths = report.write(tmp_path, plots=False)
    data = json.loads((tmp_path / "bench.json").read_text())
    assert {"version", "seed", "mode", "elapsed_seconds", "all_relations_hold", "scenarios"} <= set(
        data
    )
    scenario = data["scenarios"][0]
    assert {
        "name",
        "scenario_hash",
        "seed",
        "replications",
        "baseline",
        "variants",
        "summary",
        "differences",
        "ranking",
        "relations",
        "samples",
        "waits",
    } <= set(scenario)
    assert scenario["seed"] == 5
    assert scenario["replications"] == 3
    for kpi in BENCH_KPIS:
        assert set(scenario["summary"]["edd"]["all"][kpi]) >= {"mean", "ci_low", "ci_high"}
        assert set(scenario["differences"]["edd"]["all"][kpi]) >= {"mean", "ci_low", "ci_high"}
    with (tmp_path / "bench.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row["variant"] for row in rows} == {"fifo", "edd"}
    assert tmp_path / "report.html" in paths


def test_same_seed_gives_identical_json_apart_from_timing() -> None:
    def strip(data: Any) -> Any:
        if isinstance(data, dict):
            return {k: strip(v) for k, v in data.items() if k != "elapsed_seconds"}
        if isinstance(data, list):
            return [strip(v) for v in data]
        return data

    runs = [
        strip(
            run_bench(
                [_small_bench()], policies=["fifo", "edd"], replications=2, fast=True, seed=9
            ).to_dict()
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    other = strip(
        run_bench(
            [_small_bench()], policies=["fifo", "edd"], replications=2, fast=True, seed=10
        ).to_dict()
    )
    assert other != runs[0]


def test_scenario_hash_is_stable_and_sensitive() -> None:
    bench = _small_bench()
    again = load_bench_scenario(SCENARIO_DIR / "edd_deadlines.toml")
    assert scenario_hash(bench.scenario) == scenario_hash(again.scenario)
    changed = Scenario.model_validate(bench.scenario.model_dump() | {"seed": 1})
    assert scenario_hash(changed) != scenario_hash(bench.scenario)
    # Canonical JSON: the hash is of sorted keys, not of the file's layout.
    assert len(scenario_hash(bench.scenario)) == 64


def test_paired_difference_is_the_mean_of_per_replication_differences() -> None:
    result = run_scenario(_small_bench(), policies=["fifo", "edd"], replications=3, fast=True)
    fifo = result.samples["fifo"]["all"]["abandonment_rate"]
    edd = result.samples["edd"]["all"]["abandonment_rate"]
    expected = sum(e - f for e, f in zip(edd, fifo, strict=True)) / 3
    assert result.differences["edd"]["all"]["abandonment_rate"]["mean"] == pytest.approx(expected)


def test_the_bench_table_is_stripped_before_validation(tmp_path: Path) -> None:
    source = (SCENARIO_DIR / "erlang_a_fifo.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(source.replace('policies = ["fifo"]', 'policies = ["fifo"]\nunknown = 1'))
    with pytest.raises(ValueRouteError, match="unknown"):
        load_bench_scenario(path)


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("deep.json", b"[" * 100_000, "not valid json"),
        ("latin.toml", b"name = '\xff'", "not UTF-8 text"),
        ("bench.yaml", b"name: x", "expected a .toml or .json file"),
    ],
)
def test_a_malformed_bench_file_fails_as_invalid_input(
    tmp_path: Path, name: str, content: bytes, named: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=named):
        load_bench_scenario(path)


def test_a_relation_naming_a_missing_kpi_is_refused() -> None:
    bench = _small_bench()
    spec = bench.spec.model_copy(
        update={
            "relations": [Relation(kind="better", kpi="nonsense", variant="edd", beats=["fifo"])]
        }
    )
    with pytest.raises(InvalidInputError, match="nonsense"):
        run_scenario(BenchScenario(bench.scenario, spec), replications=2, fast=True)


def test_bad_replications_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="replications"):
        run_scenario(_small_bench(), replications=1, fast=True)


def test_plain_scenario_runs_every_builtin_policy() -> None:
    scenario = load_bench_scenario(SCENARIO_DIR / "edd_deadlines.toml").scenario
    short = Scenario.model_validate(scenario.model_dump() | {"horizon_seconds": 4000.0})
    report = run_bench([short], replications=2)
    labels = report.scenarios[0].labels
    assert len(labels) == 11
    assert labels[0] == "fifo"


def test_code_policies_need_allow_code() -> None:
    with pytest.raises(ValueRouteError, match=r"allow_code|--allow-code"):
        run_scenario(
            _small_bench(), policies=["fifo", "valueroute.scoring:Fifo"], replications=2, fast=True
        )
    result = run_scenario(
        _small_bench(),
        policies=["fifo", "valueroute.scoring:Fifo"],
        replications=2,
        fast=True,
        allow_code=True,
    )
    assert result.samples["fifo"] == result.samples["valueroute.scoring:Fifo"]


def test_cli_prints_a_table_and_writes_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(SCENARIO_DIR / "identical_agents.toml")
    code = main(["bench", path, "--fast", "--out", str(tmp_path), "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0
    assert "longest_idle" in out
    assert "[PASS]" in out
    assert (tmp_path / "bench.json").is_file()
    assert (tmp_path / "bench.csv").is_file()
    code = main(["bench", path, "--fast", "--replications", "2", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "fast"
    assert code == (0 if data["all_relations_hold"] else 1)


def test_cli_exit_code_is_one_when_a_relation_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # FIFO does not beat c-mu on holding cost: the claim, reversed, must fail.
    source = (SCENARIO_DIR / "cmu_one_pool.toml").read_text()
    reversed_claim = source.replace('variant = "cmu"', 'variant = "fifo"').replace(
        'beats = ["fifo", "strict_priority", "aging_priority"]', 'beats = ["cmu"]'
    )
    path = tmp_path / "reversed.toml"
    path.write_text(reversed_claim)
    assert main(["bench", str(path), "--fast", "--policy", "fifo", "--policy", "cmu"]) == 1
    assert "[FAIL]" in capsys.readouterr().out


def test_standard_suite_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="directory"):
        standard_suite(tmp_path)


def test_spec_defaults() -> None:
    spec = BenchSpec()
    assert spec.policies == ["fifo"]
    assert spec.selections == ["longest_idle"]


def test_the_standard_scenarios_are_package_data() -> None:
    from importlib import resources

    folder = resources.files("valueroute").joinpath("data", "bench")
    shipped = sorted(e.name[: -len(".toml")] for e in folder.iterdir() if e.name.endswith(".toml"))
    assert shipped == SUITE
    assert sorted(path.stem for path in SCENARIO_DIR.glob("*.toml")) == SUITE
    assert [bench.name for bench in standard_suite()] == [
        load_bench_scenario(SCENARIO_DIR / f"{name}.toml").name for name in SUITE
    ]


@pytest.mark.parametrize("name", ["edd_deadlines", "identical_agents"])
def test_a_standard_scenario_loads_by_name_as_by_path(name: str) -> None:
    by_name = load_bench_scenario(name)
    by_path = load_bench_scenario(SCENARIO_DIR / f"{name}.toml")
    assert by_name.scenario == by_path.scenario
    assert by_name.spec == by_path.spec
    assert scenario_hash(by_name.scenario) == scenario_hash(by_path.scenario)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_such_scenario", "path: got 'no_such_scenario' (expected a .toml or .json file"),
        ("no_such_scenario", "edd_deadlines"),
        ("y" * 1000, "path: got 'yyyy"),
        ("missing.toml", "cannot be read"),
    ],
)
def test_an_unknown_bench_scenario_is_refused(path: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        load_bench_scenario(path)
    assert message in str(info.value)
    assert len(str(info.value)) < 600


def test_cli_runs_a_standard_scenario_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "identical_agents", "--fast", "--replications", "2", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in data["scenarios"]] == ["identical_agents"]
    assert code == (0 if data["all_relations_hold"] else 1)


def test_every_bundled_data_file_is_declared_as_package_data() -> None:
    # A wheel holds only the files the package-data globs name (setuptools globs
    # them from the package folder); a file left out works in a checkout only.
    import tomllib

    root = Path(__file__).resolve().parents[1]
    package = root / "src" / "valueroute"
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["valueroute"]
    declared = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    data = {path for path in (package / "data").rglob("*") if path.is_file()}
    data = {path for path in data if "__pycache__" not in path.parts}
    assert data - declared == set()
    assert {path.name for path in declared} >= {f"{name}.toml" for name in SUITE}


def _reference_policy_params(name: str, scenario: Scenario) -> dict[str, Any]:
    """The parameters the bench documents for a built-in policy, derived here from the types."""
    types = scenario.task_types
    handles = {t.name: float(t.handle.mean) for t in types}
    mean_handle = math.fsum(handles.values()) / len(handles)
    never = 10.0 * scenario.horizon_seconds
    patience = {t.name: never if t.patience is None else float(t.patience.mean) for t in types}
    handle_map = {**handles, "*": mean_handle}
    patience_map = {**patience, "*": math.fsum(patience.values()) / len(types)}
    costs = {t.name: (t.value if t.value > 0 else 1.0) for t in types}
    if name == "aging_priority":
        return {"seconds_per_point": 60.0}
    if name == "ramp":
        return {"default": {"step": 1, "every": 60.0}}
    if name in ("least_slack", "cmu"):
        return {"handle_seconds": handle_map}
    if name == "kleinrock":
        rates = {t: costs[t] / handles[t] for t in handles}
        return {"rates": {**rates, "*": math.fsum(rates.values()) / len(rates)}}
    if name == "cmu_theta":
        return {"handle_seconds": handle_map, "patience_seconds": patience_map}
    if name == "value_at_risk":
        return {"expected_wait": handle_map, "handle_seconds": handle_map}
    if name == "composite":
        index = math.fsum(t.value / handles[t.name] for t in types) / len(types)
        weight = index / (10.0 * mean_handle) if index > 0 else 1.0
        return {
            "parts": [
                {"policy": "cmu", "weight": 1.0, "handle_seconds": handle_map},
                {"policy": "fifo", "weight": weight},
            ]
        }
    return {}


POLICY_NAMES = (
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


@pytest.mark.parametrize("name", SUITE)
def test_default_policy_params_are_the_documented_ones_for_every_standard_scenario(
    name: str,
) -> None:
    scenario = load_bench_scenario(name).scenario
    for policy in POLICY_NAMES:
        assert default_policy_params(policy, scenario) == _reference_policy_params(
            policy, scenario
        ), policy
    # The handle and patience figures are the ones the scenario derives for its own runs.
    derived = scenario.with_routing(policy="cmu_theta", policy_params={}).policy_params()
    assert default_policy_params("cmu_theta", scenario) == derived


# ---------------------------------------------------------------- layout

PUBLIC_BEFORE_THE_SPLIT = {
    "BENCH_KPIS",
    "CSV_COLUMNS",
    "SCENARIO_DIR",
    "BenchReport",
    "BenchScenario",
    "BenchSpec",
    "Direction",
    "Progress",
    "Rank",
    "Relation",
    "RelationOutcome",
    "RunLength",
    "ScenarioResult",
    "Variant",
    "build_variants",
    "bundled_bench_scenarios",
    "default_policy_params",
    "jain_index",
    "load_bench_scenario",
    "rank_variants",
    "run_bench",
    "run_scenario",
    "scenario_hash",
    "standard_suite",
}


def test_every_public_name_is_importable_from_the_bench() -> None:
    import valueroute.bench as bench

    assert len(set(bench.__all__)) == len(bench.__all__)
    assert set(bench.__all__) <= PUBLIC_BEFORE_THE_SPLIT
    for name in PUBLIC_BEFORE_THE_SPLIT:
        assert getattr(bench, name) is not None, name
    namespace: dict[str, Any] = {}
    exec("from valueroute.bench import *", namespace)
    assert set(bench.__all__) <= set(namespace)


def _bench_modules() -> dict[str, Path]:
    import importlib.util
    import pkgutil

    import valueroute.bench

    names = ["valueroute.bench", "valueroute._bench_report"]
    folder = getattr(valueroute.bench, "__path__", None)
    if folder is not None:
        names += [f"valueroute.bench.{m.name}" for m in pkgutil.iter_modules(folder)]
    found = {}
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            found[name] = Path(spec.origin)
    return found


def _imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The known modules that ``path`` imports anywhere (inside functions too)."""
    import ast

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known and t != module}


def test_the_bench_modules_import_each_other_one_way_only() -> None:
    modules = _bench_modules()
    known = set(modules)
    graph = {name: _imports_of(path, name, known) for name, path in modules.items()}
    # No cycle: repeatedly drop the modules that import nothing left in the graph.
    remaining = dict(graph)
    while remaining:
        leaves = {name for name, targets in remaining.items() if not targets & set(remaining)}
        assert leaves, f"the bench modules import each other in a circle: {remaining}"
        for name in leaves:
            del remaining[name]
    assert "valueroute.bench._model" in graph
    assert graph["valueroute.bench._model"] == set()
    assert graph["valueroute.bench._report"] == {"valueroute.bench._model"}


def test_a_calendar_open_around_the_clock_changes_no_bench_figure() -> None:
    """With calendars the engine's clock starts at the scenario's start instant
    instead of 0: the bench's own observations (the waits after the warm-up, each
    agent's load) must read that clock, so a calendar nobody is closed by leaves
    every figure as it was."""
    plain = load_bench_scenario(SCENARIO_DIR / "identical_agents.toml")
    data = plain.scenario.model_dump(mode="json", exclude_unset=True)
    data["calendars"] = {"always": {"timezone": "UTC", "hours": "24/7"}}
    data["start"] = "2026-12-07T00:00:00+00:00"
    shifted = BenchScenario(Scenario.model_validate(data), plain.spec)
    assert plain.scenario.warmup_seconds > 0

    def figures(bench: BenchScenario) -> Any:
        data = run_scenario(bench, replications=2, fast=True, seed=3).to_dict()
        return data["waits"], data["samples"]

    def close(a: Any, b: Any) -> bool:
        # Times near 1.8e9 s round differently from times near 0: waits and
        # loads agree to rounding, counts exactly.
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, float):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (
                math.isnan(a) and math.isnan(b)
            )
        return bool(a == b)

    waits, samples = figures(plain)
    assert samples["longest_idle"]["all"]["load_cv"][0] > 0
    shifted_waits, shifted_samples = figures(shifted)
    assert shifted_waits == waits
    assert close(shifted_samples, samples)
