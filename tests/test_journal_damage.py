"""The journal under damaged files, damaged snapshots and refused commands.

Each test damages what a crash, a failing disk or a careless hand can damage
(the ``-wal`` file, the main file, a snapshot, the journal's mark) or drives
the durable engine with arguments of the wrong type, and checks that recovery
either rebuilds exactly the commands it reports or says what was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.journal import DurableEngine, JournalFormatError


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "routing.journal"


# ---------------------------------------------------------------------- refused commands


def busy(path: Path, clock: list[float]) -> DurableEngine:
    """A journal with an agent holding one assigned task and one task queued."""
    durable = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    durable.add_agent(AgentSpec(id="a0", capacity={"voice": 1}), ready=True)
    durable.submit(TaskSpec(id="t0"))
    durable.accept("t0")
    durable.submit(TaskSpec(id="t1"))
    return durable


WRONG: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("accept", (["t0"],), {}),
    ("accept", ("t0",), {"agent": ["a0"]}),
    ("reject", ({"t": 1},), {}),
    ("revoke", (3,), {}),
    ("cancel", ({"task": "t1"},), {}),
    ("cancel", ("t1",), {"reason": ["why"]}),
    ("hold", (b"t1",), {}),
    ("resume", (None,), {}),
    ("defer", ("t1", "tomorrow"), {}),
    ("defer", (("t1",), 50.0), {}),
    ("transfer", ("t0",), {"to_agent": ["a0"]}),
    ("transfer", ("t0",), {"channel": 5}),
    ("transfer", ("t0",), {"skills": ["billing"]}),
    ("transfer", ("t0",), {"skills": {"billing": "high"}}),
    ("transfer", ("t0",), {"keep_age": "no"}),
    ("complete", ("t0",), {"wrap_up": "x"}),
    ("complete", (["t0"],), {}),
    ("end_wrap_up", ({"t0"},), {}),
    ("update", ("t1",), {"priority": "high"}),
    ("update", ("t1",), {"value": [1]}),
    ("update", ("t1",), {"due": "soon"}),
    ("update", ("t1",), {"clear_due": "yes"}),
    ("update", ("t1",), {"skills": {1: 2.0}}),
    ("update", ("t1",), {"expected_version": 1.5}),
    ("update", (["t1"],), {"priority": 1}),
    ("next_task", (["a0"],), {}),
    ("remove_agent", ({"a0": 1},), {}),
    ("set_agent_state", (["a0"], "ready"), {}),
    ("set_agent_state", ("a0", 3), {}),
    ("set_agent_state", ("a0", "not_ready"), {"reason": 7}),
    ("set_agent_state", ("a0", "wrap_up"), {"until": "later"}),
    ("submit", (["t9"],), {}),
    ("add_agent", ("a9",), {}),
    ("set_policy", (["fifo"],), {}),
    ("set_rules", (None,), {"format": "ini"}),
    ("get", (["t0"],), {}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)]
)
def test_a_wrong_typed_argument_is_refused_and_never_wedges_the_journal(
    path: Path, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    clock = [10.0]
    durable = busy(path, clock)
    digest, position = durable.digest(), durable.position
    seq = durable.engine._event_seq
    clock[0] = 20.0
    with pytest.raises(InvalidInputError) as refused:
        getattr(durable, name)(*args, **kwargs)
    assert isinstance(refused.value, ValueRouteError)
    assert len(str(refused.value)) < 400
    assert (durable.digest(), durable.position, durable.engine._event_seq) == (
        digest,
        position,
        seq,
    )
    # Still in step: a good command works and is journaled.
    durable.complete("t0", wrap_up=0.0)
    after = durable.digest()
    durable.close()
    reopened = DurableEngine.open(path, make_engine, clock=lambda: clock[0])
    assert reopened.report.clean, reopened.report
    assert reopened.position == position + 1
    assert reopened.digest() == after
    reopened.close()


def test_an_unbounded_argument_is_not_repeated_whole_in_the_error(path: Path) -> None:
    durable = busy(path, [1.0])
    with pytest.raises(InvalidInputError) as refused:
        durable.cancel("t1", reason=["x" * 100_000])  # type: ignore[arg-type]
    assert len(str(refused.value)) < 400
    durable.close()


# ---------------------------------------------------------------------- paths


def test_a_directory_is_refused_with_a_clear_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "journals"
    folder.mkdir()
    with pytest.raises(JournalFormatError, match=r"journals'?: is a directory"):
        DurableEngine.open(folder, make_engine)
    assert list(folder.iterdir()) == []
