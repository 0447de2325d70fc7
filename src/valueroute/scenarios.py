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

from importlib import resources

from valueroute.errors import InvalidInputError, bounded_repr

# One loader: valueroute.sim.scenario.load_scenario takes names and paths.
from valueroute.sim.scenario import load_scenario

__all__ = ["BUNDLED", "bundled_text", "load_scenario"]

BUNDLED: dict[str, str] = {"demo": "demo_scenario.toml"}
"""Bundled scenario names and their files in the package's ``data`` folder."""

_SHOWN = 160


def bundled_text(name: str) -> str:
    """The TOML text of the bundled scenario ``name`` (one of :data:`BUNDLED`)."""
    if not isinstance(name, str) or name not in BUNDLED:
        raise InvalidInputError(
            f"name: got {_shown(name)} (expected one of {sorted(BUNDLED)})",
            [("name", _shown(name), f"one of {sorted(BUNDLED)}")],
        )
    data = resources.files("valueroute").joinpath("data").joinpath(BUNDLED[name])
    return data.read_text(encoding="utf-8")


def _shown(value: object) -> str:
    return bounded_repr(value, _SHOWN)
