"""Hostile documents and values for tests/test_hostile_inputs.py, and a child runner.

The documents here are built to hurt a reader: YAML alias bombs, nesting far
past the recursion limit, bytes that are not UTF-8. A loader that mishandles
one can hang in C code (where no signal interrupts it) or eat memory, so the
tests call such loaders in a child process, through :func:`main`, with a
memory cap and a timeout. The child prints one JSON line saying what the
call raised.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

MB = 1_000_000

# ------------------------------------------------------------------ values

NON_FINITE: dict[str, float] = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "1e308x10": 1e308 * 10,
}
HUGE_INTS: dict[str, int] = {"10**400": 10**400, "-10**400": -(10**400)}
SURROGATE = "\ud83d"


def nested_list(depth: int) -> Any:
    """A list nested ``depth`` deep, built without recursion."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_dict(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


class Opaque:
    """An object of no type valueroute knows; its repr is short and stable."""

    def __repr__(self) -> str:
        return "Opaque()"


# Values of a wrong type where a number is expected.
NOT_NUMBERS: dict[str, Any] = {
    "list": [],
    "dict": {},
    "set": set(),
    "object": Opaque(),
    "bytes": b"1",
    "str": "5",
    "bool": True,
    "None": None,
}
# Values of a wrong type where a string id is expected.
NOT_STRINGS: dict[str, Any] = {
    "list": ["q1"],
    "dict": {"id": "q1"},
    "object": Opaque(),
    "bytes": b"q1",
    "int": 1,
    "float": 1.5,
    "bool": True,
    "None": None,
}

# ------------------------------------------------------------------ documents


def alias_bomb_yaml(tail: str) -> str:
    """The "billion laughs" YAML: nine to the eighth references from 600 bytes.

    ``tail`` is appended as more top-level keys and may use ``*h`` (the whole
    bomb) as a value.
    """
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    previous = "a"
    for name in "bcdefgh":
        lines.append(f"{name}: &{name} [" + ", ".join(f"*{previous}" for _ in range(9)) + "]")
        previous = name
    return "\n".join(lines) + "\n" + tail


def deep_json(depth: int = 10_000, key: str = "name") -> str:
    """A JSON object whose ``key`` holds lists nested ``depth`` deep."""
    return '{"' + key + '": ' + "[" * depth + "]" * depth + "}"


def deep_toml(depth: int = 10_000) -> str:
    return "name = " + "[" * depth + "]" * depth + "\n"


def deep_yaml(depth: int = 1_500) -> str:
    """YAML nested ``depth`` deep (past the recursion limit of 1,000).

    Less deep than the JSON and TOML documents: PyYAML's pure-Python reader
    takes about 1.7 s to reach its RecursionError at depth 10,000, too close
    to the time bound on a busy machine.
    """
    return "name: " + "[" * depth + "]" * depth + "\n"


NOT_UTF8 = b'name = "\xff\xfe\xfa"\n'

# ------------------------------------------------------------------ child runner

_LOADERS = (
    "load_scenario",
    "load_rules",
    "load_bench_scenario",
    "parse_scenario_yaml",
    "parse_rules_yaml",
    "load_calendar",
)


def _call(loader: str, path: Path) -> None:
    if loader == "load_scenario":
        from valueroute.sim.scenario import load_scenario

        load_scenario(path)
    elif loader == "load_rules":
        from valueroute.rules import load_rules

        load_rules(path)
    elif loader == "load_bench_scenario":
        from valueroute.bench import load_bench_scenario

        load_bench_scenario(path)
    elif loader == "load_calendar":
        from valueroute.calendar import load_calendar

        load_calendar(path)
    elif loader == "parse_scenario_yaml":
        from valueroute.sim.scenario import parse_scenario

        parse_scenario(path.read_text(), format="yaml")
    elif loader == "parse_rules_yaml":
        from valueroute.rules import parse_rules

        parse_rules(path.read_text(), format="yaml")
    else:  # pragma: no cover - a typo in a test
        raise SystemExit(f"unknown loader {loader!r} (expected one of {_LOADERS})")


def main(argv: list[str]) -> int:
    """``hostile_cases.py LOADER PATH``: call the loader, print what it raised as JSON.

    Any exception other than a ValueRouteError ends the child with its
    traceback (and a non-zero exit code), which the test shows.
    """
    from valueroute.errors import ValueRouteError

    loader, path = argv[0], Path(argv[1])
    outcome: dict[str, Any]
    try:
        _call(loader, path)
    except ValueRouteError as exc:
        message = str(exc)
        outcome = {
            "raised": type(exc).__name__,
            "valueroute_error": True,
            "message_length": len(message),
            "message_head": message[:300],
        }
    else:
        outcome = {"raised": None, "valueroute_error": False, "message_length": 0}
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
