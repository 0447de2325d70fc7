"""Engine.statistics(): a dict of real-time counters, and its tables for pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError


def _engine() -> Engine:
    clock = [0.0]
    engine = Engine(clock=lambda: clock[0], offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", capacity={"voice": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bob", capacity={"voice": 1, "email": 2}))
    engine.submit(TaskSpec(id="a", channel="voice", type="sales"))
    clock[0] = 10.0
    engine.submit(TaskSpec(id="b", channel="voice", type="support"))
    engine.submit(TaskSpec(id="c", channel="voice", type="support"))
    clock[0] = 25.0
    return engine


def test_statistics_is_still_a_plain_mapping() -> None:
    statistics = _engine().statistics()
    assert isinstance(statistics, dict)
    assert statistics["waiting"] == {"support": 2}
    assert statistics["oldest_age"] == {"support": 15.0}


def test_types_table_holds_the_counters() -> None:
    pytest.importorskip("pandas")
    statistics = _engine().statistics()
    table = statistics.to_pandas()
    assert list(table.index) == ["sales", "support"]
    assert table.loc["support", "waiting"] == 2
    assert table.loc["sales", "waiting"] == 0
    assert table.loc["support", "oldest_age_s"] == 15.0
    for task_type, counts in statistics["by_type"].items():
        for what, count in counts.items():
            assert table.loc[task_type, what] == count


def test_agents_table_holds_state_load_and_work() -> None:
    pytest.importorskip("pandas")
    table = _engine().statistics().to_pandas("agents")
    assert table.loc["ann", "state"] == "busy"
    assert table.loc["ann", "load_voice"] == 1
    assert table.loc["bob", "state"] == "offline"  # added, never made ready


def test_an_unknown_table_is_refused() -> None:
    pytest.importorskip("pandas")
    with pytest.raises(InvalidInputError, match="table: got"):
        _engine().statistics().to_pandas("queues")  # type: ignore[arg-type]


BLOCK_PANDAS = """
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not installed here")
        return None

sys.meta_path.insert(0, Refuse())
from valueroute import Engine
from valueroute.errors import InvalidInputError
try:
    Engine().statistics().to_pandas()
except InvalidInputError as error:
    print(error)
"""


def test_without_pandas_the_error_names_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_PANDAS], capture_output=True, text=True, check=True
    )
    assert "valueroute[pandas]" in done.stdout
