"""JSON Schemas for the files users write: scenarios, rule sets, bench scenarios.

Editors validate a file as it is typed when it names its schema (see
docs/reference/schemas.md). The schemas are generated from the same pydantic
models the loaders validate with, so they cannot say something the loaders do
not; the copies shipped in the package are checked against the models by the
test suite. The loaders stay the authority: they also check what a schema
cannot express (a rule set's names being unique, a scenario's references
resolving, values within documented limits).

    python -m valueroute.schemas DIRECTORY    # write the three files there
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "SCHEMA_FILES",
    "bench_scenario_schema",
    "rules_schema",
    "scenario_schema",
    "shipped_schema",
    "write_schemas",
]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"

SchemaName = Literal["scenario", "rules", "bench-scenario"]

SCHEMA_FILES: dict[SchemaName, str] = {
    "scenario": "scenario.schema.json",
    "rules": "rules.schema.json",
    "bench-scenario": "bench-scenario.schema.json",
}
"""The file each schema ships as, in the package's ``data`` folder."""


def _document(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": _DIALECT, **schema, "title": title}


def scenario_schema() -> dict[str, Any]:
    """The schema of a scenario file (:func:`valueroute.sim.scenario.load_scenario`)."""
    from valueroute.sim.scenario import Scenario

    return _document(Scenario.model_json_schema(), "valueroute scenario")


def rules_schema() -> dict[str, Any]:
    """The schema of a rule file (:func:`valueroute.rules.load_rules`)."""
    from valueroute.rules import RuleSet

    return _document(RuleSet.model_json_schema(), "valueroute rule set")


# The [replay] table of a bench scenario (see valueroute.replay.bench_replay).
_REPLAY_TABLE: dict[str, Any] = {
    "type": "object",
    "description": "Recorded days replayed in place of arrivals and agent groups.",
    "additionalProperties": False,
    "properties": {
        "days": {
            "type": "array",
            "items": {"type": "string", "format": "date"},
            "description": "ISO dates to replay (default: every day of the data).",
        },
        "interval_minutes": {
            "type": "integer",
            "exclusiveMinimum": 0,
            "description": "Length of the headcount intervals (default 30).",
        },
        "staffing": {"enum": ["available", "seen"]},
        "data": {
            "type": "string",
            "description": "Path to the full cleaned data file (default: the bundled excerpt).",
        },
    },
}


def bench_scenario_schema() -> dict[str, Any]:
    """The schema of a bench scenario file (:func:`valueroute.bench.load_bench_scenario`).

    A scenario with a ``[bench]`` table; with a ``[replay]`` table, the
    arrivals and agent groups come from recorded days, so only the name is
    required.
    """
    from valueroute.bench import BenchSpec
    from valueroute.sim.scenario import Scenario

    scenario = Scenario.model_json_schema()
    bench = BenchSpec.model_json_schema()
    defs = {**scenario.pop("$defs", {}), **bench.pop("$defs", {})}
    defs["BenchSpec"] = bench
    schema = copy.deepcopy(scenario)
    schema["properties"]["bench"] = {"$ref": "#/$defs/BenchSpec"}
    schema["properties"]["replay"] = _REPLAY_TABLE
    scenario_required = schema.pop("required", [])
    schema["required"] = ["name"]
    schema["if"] = {"not": {"required": ["replay"]}}
    schema["then"] = {"required": scenario_required}
    schema["$defs"] = defs
    return _document(schema, "valueroute bench scenario")


_BUILDERS: dict[SchemaName, Callable[[], dict[str, Any]]] = {
    "scenario": scenario_schema,
    "rules": rules_schema,
    "bench-scenario": bench_scenario_schema,
}


def shipped_schema(name: SchemaName) -> dict[str, Any]:
    """The schema as shipped in the installed package (read with importlib.resources)."""
    if name not in SCHEMA_FILES:
        from valueroute.errors import InvalidInputError

        raise InvalidInputError(
            f"name: got {str(name)[:60]!r} (expected one of {sorted(SCHEMA_FILES)})",
            [("name", str(name)[:60], f"one of {sorted(SCHEMA_FILES)}")],
        )
    text = resources.files("valueroute").joinpath("data", SCHEMA_FILES[name]).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def render(name: SchemaName) -> str:
    """The schema's JSON text, as written to its file."""
    return json.dumps(_BUILDERS[name](), indent=2, sort_keys=True) + "\n"


def write_schemas(directory: str | Path) -> list[Path]:
    """Write the three schema files into ``directory`` (created if missing)."""
    from valueroute.errors import InvalidInputError, bounded_repr

    if not isinstance(directory, str | os.PathLike):
        raise InvalidInputError(
            f"directory: got {bounded_repr(directory)} (expected a folder path)",
            [("directory", bounded_repr(directory), "a folder path")],
        )
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a valid path"
        raise InvalidInputError(
            f"directory: got {bounded_repr(str(directory))} (expected a folder that can be "
            f"created and written: {reason})",
            [("directory", bounded_repr(str(directory)), "a writable folder")],
        ) from None
    written = []
    for name, filename in SCHEMA_FILES.items():
        path = folder / filename
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in tests
    if len(sys.argv) != 2:
        print("usage: python -m valueroute.schemas DIRECTORY", file=sys.stderr)
        sys.exit(2)
    for written_path in write_schemas(sys.argv[1]):
        print(written_path)
