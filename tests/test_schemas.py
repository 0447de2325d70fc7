"""JSON Schemas for user files: shipped copies match the models, and schema and loader agree.

The schemas come from the loaders' own pydantic models; these tests check the
copies in the package are current, that every scenario, bench scenario and
rule file in the project validates, and that a document the loader refuses
for a wrong or misspelt key is refused by the schema too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.rules import parse_rules
from valueroute.schemas import (
    SCHEMA_FILES,
    bench_scenario_schema,
    rules_schema,
    scenario_schema,
    shipped_schema,
    write_schemas,
)
from valueroute.sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = {
    "scenario": scenario_schema,
    "rules": rules_schema,
    "bench-scenario": bench_scenario_schema,
}


def _project_toml_files() -> dict[str, list[Path]]:
    """Every TOML document in the project, by the kind of file it is."""
    kinds: dict[str, list[Path]] = {"scenario": [], "rules": [], "bench-scenario": []}
    for folder in ("src", "examples", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.toml")):
            data = tomllib.loads(path.read_text())
            if "bench" in data:
                kinds["bench-scenario"].append(path)
            elif "classification" in data or "prioritisation" in data:
                kinds["rules"].append(path)
            elif "task_types" in data:
                kinds["scenario"].append(path)
    return kinds


PROJECT_FILES = _project_toml_files()


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_shipped_schema_is_what_the_models_say(name: Any) -> None:
    assert shipped_schema(name) == BUILDERS[name](), (
        f"the shipped {SCHEMA_FILES[name]} is out of date: python -m valueroute.schemas "
        "src/valueroute/data"
    )


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_is_a_valid_json_schema(name: Any) -> None:
    Draft202012Validator.check_schema(BUILDERS[name]())


def test_every_kind_of_file_is_found_in_the_project() -> None:
    assert all(PROJECT_FILES.values()), PROJECT_FILES


@pytest.mark.parametrize(
    ("kind", "path"),
    [(kind, path) for kind, paths in PROJECT_FILES.items() for path in paths],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_project_files_validate_against_their_schema(kind: Any, path: Path) -> None:
    validator = Draft202012Validator(BUILDERS[kind]())
    errors = [
        f"{list(e.path)}: {e.message}"
        for e in validator.iter_errors(tomllib.loads(path.read_text()))
    ]
    assert errors == []


def _demo() -> dict[str, Any]:
    return tomllib.loads((ROOT / "src/valueroute/data/demo_scenario.toml").read_text())


def test_a_misspelt_scenario_key_is_refused_by_schema_and_loader() -> None:
    document = _demo()
    document["horizon_second"] = document.pop("horizon_seconds")
    assert list(Draft202012Validator(scenario_schema()).iter_errors(document))
    with pytest.raises(InvalidInputError, match="horizon_second"):
        parse_scenario(json.dumps(document), format="json")


def test_a_wrong_type_is_refused_by_schema_and_loader() -> None:
    document = _demo()
    document["replications"] = "many"
    assert list(Draft202012Validator(scenario_schema()).iter_errors(document))
    with pytest.raises(InvalidInputError, match="replications"):
        parse_scenario(json.dumps(document), format="json")


def test_a_rule_with_an_unknown_action_is_refused_by_schema_and_loader() -> None:
    text = (ROOT / "examples/rules/claims.toml").read_text()
    document = tomllib.loads(text)
    assert list(Draft202012Validator(rules_schema()).iter_errors(document)) == []
    parse_rules(text)
    first_rule = _first_rule(document)
    first_rule.setdefault("then", {})["valu"] = 5
    assert list(Draft202012Validator(rules_schema()).iter_errors(document))
    with pytest.raises(ValueRouteError, match="valu"):
        parse_rules(json.dumps(document), format="json")


def _first_rule(document: dict[str, Any]) -> dict[str, Any]:
    stage = document.get("classification") or document["prioritisation"]
    rule: dict[str, Any] = stage["rules"][0]
    return rule


def test_a_replay_bench_file_needs_only_its_name() -> None:
    validator = Draft202012Validator(bench_scenario_schema())
    assert list(validator.iter_errors({"name": "day", "replay": {"days": ["1999-05-10"]}})) == []
    assert list(validator.iter_errors({"name": "day", "bench": {}}))  # no arrivals, no agents
    assert list(validator.iter_errors({"name": "day", "replay": {"day": ["1999-05-10"]}}))


def test_module_writes_the_files(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(SCHEMA_FILES.values())
    done = subprocess.run(
        [sys.executable, "-m", "valueroute.schemas", str(tmp_path / "again")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(done.stdout.split()) == 3
    for filename in SCHEMA_FILES.values():
        assert (tmp_path / "again" / filename).read_text() == (tmp_path / filename).read_text()


def test_unknown_schema_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="name"):
        shipped_schema("scenarios")  # type: ignore[arg-type]
