"""Scenarios by name or by path: the days that ship with valueroute, and your own files.

:func:`load_scenario` takes the name of a bundled scenario (:data:`BUNDLED`,
today ``"demo"``: a multi-skill contact-centre day with voice sales and
support, e-mail claims with due times and three agent groups) or the path of
a scenario file. Bundled scenarios are package data read with
:mod:`importlib.resources`, so they work from an installed wheel as from a
source checkout. The policy benchmark's standard scenarios are loaded by name
with :func:`valueroute.bench.load_bench_scenario`.

>>> from valueroute.scenarios import load_scenario
>>> load_scenario("demo").name
'demo: multi-skill day'
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from valueroute.errors import InvalidInputError
from valueroute.sim.scenario import Scenario, parse_scenario
from valueroute.sim.scenario import load_scenario as _load_file

__all__ = ["BUNDLED", "bundled_text", "load_scenario"]

BUNDLED: dict[str, str] = {"demo": "demo_scenario.toml"}
"""Bundled scenario names and their files in the package's ``data`` folder."""

_SHOWN = 160


def bundled_text(name: str) -> str:
    """The TOML text of the bundled scenario ``name`` (one of :data:`BUNDLED`)."""
    if name not in BUNDLED:
        raise InvalidInputError(
            f"name: got {_shown(name)} (expected one of {sorted(BUNDLED)})",
            [("name", name[:_SHOWN], f"one of {sorted(BUNDLED)}")],
        )
    data = resources.files("valueroute").joinpath("data").joinpath(BUNDLED[name])
    return data.read_text(encoding="utf-8")


def load_scenario(source: str | Path) -> Scenario:
    """A bundled scenario by name (``"demo"``), or a scenario file by path.

    A name is a string without a suffix or folder (``"demo"``); anything else
    is read as a file (``.toml``, ``.json``, ``.yaml``/``.yml``) with
    :func:`valueroute.sim.scenario.load_scenario`, relative paths inside it
    resolving from its folder. Raises :class:`InvalidInputError` naming the
    source when it is neither.
    """
    if not isinstance(source, str | os.PathLike):
        raise InvalidInputError(
            f"source: got {type(source).__name__} (expected a bundled scenario name or a path)",
            [("source", type(source).__name__, "a str or a Path")],
        )
    text = os.fspath(source)
    path = Path(text)
    if not path.suffix and path.name == text:
        if text in BUNDLED:
            return parse_scenario(bundled_text(text), format="toml")
        raise InvalidInputError(
            f"source: got {_shown(text)} (expected a bundled scenario name, one of "
            f"{sorted(BUNDLED)}, or a scenario file ending in .toml, .json, .yaml or .yml)",
            [("source", text[:_SHOWN], "a bundled name or a scenario file")],
        )
    return _load_file(path)


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")
