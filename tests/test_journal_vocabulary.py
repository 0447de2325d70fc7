"""The journal's records come from the command vocabulary (``valueroute.commands.COMMANDS``).

Every command that changes state is run, through the vocabulary as the
service runs it, on a durable engine; each record must hold exactly the
command's arguments in their JSON form, decode back to the same arguments,
and the journal must replay to the engine's state. The reference state is
the same commands applied straight to a plain :class:`~valueroute.Engine`
with the same clock readings, by hand-written calls that do not go through
the vocabulary or the journal. A journal written before the vocabulary
drove the journal (``tests/data/journal_before_vocabulary.sqlite``) still
recovers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.commands import COMMANDS, Command, NoArguments
from valueroute.journal import (
    DurableEngine,
    JournalFormatError,
    SQLiteStore,
    check_vocabulary,
    replay,
)
from valueroute.rules import parse_rules
from valueroute.scoring import policy_by_name

DATA = Path(__file__).resolve().parent / "data"
OLD_JOURNAL = DATA / "journal_before_vocabulary.sqlite"

RULES = """
name = "vocabulary"
version = "1"

[[prioritisation.rules]]
name = "vip"
when = { field = "priority", op = ">=", value = 5 }
then = { add_value = 100 }
"""

SCENARIO: list[tuple[str, dict[str, Any]]] = [
    ("add_agent", {"spec": {"id": "ann", "skills": {"billing": 2}}, "ready": False}),
    ("add_agent", {"spec": {"id": "bob", "skills": {"billing": 1}}, "ready": False}),
    ("add_agent", {"spec": {"id": "cy"}, "ready": False}),
    ("remove_agent", {"agent": "cy"}),
    ("set_policy", {"name": "aging_priority", "params": {"seconds_per_point": 30}}),
    ("set_rules", {"text": RULES, "format": "toml"}),
    ("submit", {"spec": {"id": "t1", "priority": 5, "skills": {"billing": 1}}}),
    ("submit", {"spec": {"id": "t2", "value": 10.0}}),
    ("submit", {"spec": {"id": "t3", "skills": {"billing": 1}}}),
    ("update", {"task": "t2", "priority": 3, "expected_version": 0}),
    ("hold", {"task": "t3"}),
    ("resume", {"task": "t3"}),
    ("defer", {"task": "t3", "until": 1050.0}),
    ("cancel", {"task": "t2", "reason": "duplicate"}),
    ("set_agent_state", {"agent": "ann", "state": "ready"}),
    ("accept", {"task": "t1", "agent": "ann"}),
    ("complete", {"task": "t1", "wrap_up": 5.0}),
    ("end_wrap_up", {"task": "t1"}),
    ("set_agent_state", {"agent": "ann", "state": "not_ready", "reason": "lunch"}),
    ("submit", {"spec": {"id": "t4", "skills": {"billing": 1}}}),
    ("set_agent_state", {"agent": "bob", "state": "ready"}),
    ("reject", {"task": "t4", "agent": "bob"}),
    ("set_agent_state", {"agent": "ann", "state": "ready"}),
    ("revoke", {"task": "t4"}),
    ("accept", {"task": "t4"}),
    ("transfer", {"task": "t4", "skills": {"billing": 2}, "keep_age": True}),
    ("set_rules", {"text": None}),
    ("advance", {}),
    ("next_task", {"agent": "bob"}),
]
"""Every command that changes state, at least once, as ``(name, journal form)``."""

TIMES = [1000.0 + 2.5 * n for n in range(len(SCENARIO))]
TIMES[SCENARIO.index(("advance", {}))] = 1060.0  # past t3's deferral


def _by_hand(engine: Engine, name: str, args: dict[str, Any]) -> None:
    """The reference: each command as a direct Engine call, written out by hand."""
    if name == "add_agent":
        engine.add_agent(AgentSpec.model_validate(args["spec"]), ready=args["ready"])
    elif name == "submit":
        engine.submit(TaskSpec.model_validate(args["spec"]))
    elif name == "set_policy":
        engine.set_policy(policy_by_name(args["name"], **args["params"]))
    elif name == "set_rules":
        text = args["text"]
        engine.set_rules(None if text is None else parse_rules(text, format="toml").compile())
    elif name == "update":
        engine.update(args["task"], priority=args["priority"], expected_version=0)
    elif name == "defer":
        engine.defer(args["task"], args["until"])
    elif name == "cancel":
        engine.cancel(args["task"], reason=args["reason"])
    elif name == "set_agent_state":
        engine.set_agent_state(args["agent"], args["state"], reason=args.get("reason"))
    elif name in ("accept", "reject"):
        getattr(engine, name)(args["task"], args.get("agent"))
    elif name == "complete":
        engine.complete(args["task"], wrap_up=args["wrap_up"])
    elif name == "transfer":
        engine.transfer(args["task"], skills=args["skills"], keep_age=True)
    elif name == "advance":
        engine.advance()
    elif name in ("remove_agent", "next_task"):
        getattr(engine, name)(args["agent"])
    else:
        getattr(engine, name)(args["task"])


def _clocked(times: list[float]) -> tuple[Callable[[], float], list[float]]:
    now = [times[0]]
    return (lambda: now[0]), now


def reference_digest() -> str:
    now = [0.0]
    engine = Engine(clock=lambda: now[0])
    for time, (name, args) in zip(TIMES, SCENARIO, strict=True):
        now[0] = time
        _by_hand(engine, name, args)
    return engine.digest()


def _factory(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock)


def test_the_scenario_runs_every_command_that_changes_state() -> None:
    changing = {name for name, command in COMMANDS.items() if command.mutates}
    assert {name for name, _ in SCENARIO} == changing


def test_every_command_round_trips_through_the_journal_and_replays_to_the_same_state(
    tmp_path: Path,
) -> None:
    clock, now = _clocked(TIMES)
    sent: list[tuple[Command, Any]] = []
    with DurableEngine.open(tmp_path / "j.sqlite", _factory, clock=clock) as durable:
        for time, (name, args) in zip(TIMES, SCENARIO, strict=True):
            now[0] = time
            command = COMMANDS[name]
            arguments = command.arguments.model_validate(args)
            command.invoke(durable, arguments)
            sent.append((command, arguments))
        digest = durable.digest()
        records = list(durable.store.read(after=0))
    assert digest == reference_digest()
    assert [r.command for r in records] == [name for name, _ in SCENARIO]
    for record, (command, arguments) in zip(records, sent, strict=True):
        stored = json.loads(record.arguments)
        assert stored == command.encode(arguments), record.command
        assert command.decode(stored) == arguments, record.command
    # Replay on a fresh engine, and recovery by a fresh open, rebuild the same state.
    pinned = [0.0]
    fresh = _factory(lambda: pinned[0])
    replay(fresh, records, clock=pinned)
    assert fresh.digest() == digest
    with DurableEngine.open(tmp_path / "j.sqlite", _factory) as again:
        assert again.report.replayed == len(SCENARIO)
        assert again.digest() == digest


def test_a_journal_written_before_the_vocabulary_drove_it_recovers(tmp_path: Path) -> None:
    for suffix in ("", ".mark"):
        shutil.copy(f"{OLD_JOURNAL}{suffix}", tmp_path / f"old.sqlite{suffix}")
    with DurableEngine.open(tmp_path / "old.sqlite", _factory, repair=False) as durable:
        assert durable.report.clean
        assert durable.report.replayed == len(SCENARIO)
        engine = durable.engine
        assert durable.digest() == reference_digest()
        assert engine.get("t1").state.value == "completed"
        assert engine.get("t2").state.value == "canceled"
        assert engine.get("t3").state.value == "offered"
        assert engine.get("t4").state.value == "offered"
        assert [task.id for task in engine.tasks_of("ann")] == ["t4"]
        assert [task.id for task in engine.tasks_of("bob")] == ["t3"]
        assert "cy" not in engine.agents


def test_a_command_added_to_the_vocabulary_without_a_journal_form_fails_loudly() -> None:
    check_vocabulary(COMMANDS)
    unknown = Command(
        "escalate",
        NoArguments,
        True,
        frozenset({"admin"}),
        ("POST", "/v1/escalate"),
        "Not a command the journal knows.",
        method="escalate",
    )
    with pytest.raises(JournalFormatError, match="escalate"):
        check_vocabulary({**COMMANDS, "escalate": unknown})
    unapplied = Command(
        "shout",
        NoArguments,
        True,
        frozenset({"admin"}),
        ("POST", "/v1/shout"),
        "A command with no method at all.",
    )
    with pytest.raises(JournalFormatError, match="shout"):
        check_vocabulary({"shout": unapplied})


def _write_old_journal(path: Path) -> None:  # pragma: no cover - how the fixture was made
    """Write the fixture with the code of before (run once, by hand, on that code)."""
    clock, now = _clocked(TIMES)
    with DurableEngine.open(path, _factory, clock=clock) as durable:
        for time, (name, args) in zip(TIMES, SCENARIO, strict=True):
            now[0] = time
            command = COMMANDS[name]
            command.invoke(durable, command.arguments.model_validate(args))
    SQLiteStore(path).close()
