from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import valueroute


def test_all_is_sorted_and_unique() -> None:
    names = list(valueroute.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_every_public_name_imports() -> None:
    module = importlib.import_module("valueroute")
    for name in valueroute.__all__:
        assert getattr(module, name) is not None, name


def test_star_import_exports_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from valueroute import *", namespace)
    exported = {name for name in namespace if name != "__builtins__"}
    assert exported == set(valueroute.__all__)


def _modules_loaded_by(statement: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{statement}\nimport sys\nprint(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(done.stdout.split())


# What a host that only routes should never pay for at import.
NOT_FOR_ROUTING = {
    "simpy",
    "sqlite3",
    "numpy",
    "valueroute.sim",
    "valueroute.journal",
    "valueroute.erlang",
    "valueroute.bench",
    "valueroute.replay",
    "valueroute.datasets",
    "valueroute.cli",
}


def test_importing_the_engine_loads_no_simulator_journal_or_cli() -> None:
    loaded = _modules_loaded_by("from valueroute import AgentSpec, Engine, TaskSpec")
    assert "valueroute.engine" in loaded
    assert loaded & NOT_FOR_ROUTING == set()


def test_importing_the_package_loads_its_submodules_on_first_use() -> None:
    loaded = _modules_loaded_by("import valueroute")
    assert {m for m in loaded if m.startswith("valueroute.")} == {"valueroute._version"}
    loaded = _modules_loaded_by("import valueroute\nvalueroute.AgingPriority")
    assert "valueroute.scoring" in loaded
    assert "valueroute.sim" not in loaded


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = valueroute.no_such_name  # type: ignore[attr-defined]


SUBPACKAGES = [
    "valueroute.agents",
    "valueroute.bench",
    "valueroute.calendar",
    "valueroute.commands",
    "valueroute.datasets",
    "valueroute.engine",
    "valueroute.erlang",
    "valueroute.errors",
    "valueroute.expressions",
    "valueroute.forecast",
    "valueroute.hosting",
    "valueroute.journal",
    "valueroute.kpi",
    "valueroute.pgstore",
    "valueroute.replay",
    "valueroute.rules",
    "valueroute.scenarios",
    "valueroute.schemas",
    "valueroute.schedule",
    "valueroute.scoring",
    "valueroute.serve",
    "valueroute.sim",
    "valueroute.sim.planning",
    "valueroute.sim.report",
    "valueroute.standby",
]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_curates_its_all(name: str) -> None:
    module = importlib.import_module(name)
    names = list(module.__all__)
    assert len(names) == len(set(names)), name
    for public in names:
        assert hasattr(module, public), f"{name}.{public}"
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    assert {n for n in namespace if n != "__builtins__"} == set(names)


MOVED = sorted(valueroute._MOVED.items())


@pytest.mark.parametrize(("name", "home"), MOVED, ids=[name for name, _ in MOVED])
def test_moved_names_still_import_from_the_top_with_a_deprecation_warning(
    name: str, home: str
) -> None:
    with pytest.warns(DeprecationWarning, match=f"moved to {home}.{name}"):
        old = getattr(valueroute, name)
    assert old is getattr(importlib.import_module(home), name)
    assert name not in valueroute.__all__


def test_the_top_level_holds_what_a_host_routes_with() -> None:
    for name in ("Engine", "TaskSpec", "AgentSpec", "AgingPriority", "LongestIdle", "Event"):
        assert name in valueroute.__all__
    for name in ("simulate", "DurableEngine", "erlang_c", "Scenario"):
        assert name not in valueroute.__all__
