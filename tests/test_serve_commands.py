"""The command vocabulary: every command has a journal encoding, a route and an auth rule."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from valueroute.commands import COMMANDS, ROLES, NoArguments, command_named
from valueroute.engine import Engine
from valueroute.errors import InvalidInputError
from valueroute.journal import DurableEngine, SQLiteStore
from valueroute.serve import PUBLIC, ServeSettings, build_app, openapi_document, route_rules

# Each state-changing command once, in an order in which each succeeds.
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("add_agent", {"spec": {"id": "ann", "skills": {"billing": 2}}, "ready": False}),
    ("add_agent", {"spec": {"id": "bob"}}),
    ("remove_agent", {"agent": "bob"}),
    ("submit", {"spec": {"id": "t1", "skills": {"billing": 1}, "priority": 2}}),
    ("update", {"task": "t1", "priority": 4, "expected_version": 0}),
    ("hold", {"task": "t1"}),
    ("resume", {"task": "t1"}),
    ("defer", {"task": "t1", "until": 200.0}),
    ("resume", {"task": "t1"}),
    ("transfer", {"task": "t1", "skills": {"billing": 2}}),
    ("set_agent_state", {"agent": "ann", "state": "ready"}),
    ("reject", {"task": "t1", "agent": "ann"}),
    ("submit", {"spec": {"id": "t2", "skills": {"billing": 1}}}),
    ("accept", {"task": "t2", "agent": "ann"}),
    ("complete", {"task": "t2", "wrap_up": 5.0}),
    ("end_wrap_up", {"task": "t2"}),
    ("submit", {"spec": {"id": "t3"}}),
    ("revoke", {"task": "t3"}),
    ("next_task", {"agent": "ann"}),
    ("cancel", {"task": "t1", "reason": "duplicate"}),
    ("advance", {}),
    ("set_policy", {"name": "aging_priority", "params": {"seconds_per_point": 30}}),
    ("set_rules", {"text": None}),
]


def test_the_script_covers_every_state_changing_command() -> None:
    mutating = {name for name, command in COMMANDS.items() if command.mutates}
    assert {name for name, _ in SCRIPT} == mutating


def test_every_state_changing_command_has_a_journal_encoding(tmp_path: Path) -> None:
    """Run through the vocabulary, each command leaves one record of its own name whose
    arguments the command's model reads back to the same JSON."""
    clock = [100.0]
    path = tmp_path / "journal.sqlite"
    with DurableEngine.open(path, lambda c: Engine(clock=c), clock=lambda: clock[0]) as durable:
        for name, raw in SCRIPT:
            clock[0] += 1.0
            command = command_named(name)
            arguments = command.arguments.model_validate(raw)
            before = durable.position
            command.invoke(durable, arguments)
            assert durable.position == before + 1, name
    store = SQLiteStore(path)
    try:
        records = list(store.read(after=0))
    finally:
        store.close()
    assert [record.command for record in records] == [name for name, _ in SCRIPT]
    for record in records:
        command = COMMANDS[record.command]
        journaled = json.loads(record.arguments)
        assert command.encode(command.arguments.model_validate(journaled)) == journaled


def test_every_journaled_command_method_is_in_the_vocabulary() -> None:
    """A command added to DurableEngine without a vocabulary entry fails here."""
    not_commands = {
        "open",
        "engine",
        "store",
        "position",
        "durable_position",
        "digest",
        "get",
        "next_wakeup",
        "watch_wakeup",
        "subscribe",
        "flush",
        "snapshot",
        "compact",
        "close",
        "catch_up",
        "detach_pending",
        "commit_detached",
    }
    methods = {
        name
        for name, value in vars(DurableEngine).items()
        if inspect.isfunction(value) and not name.startswith("_") and name not in not_commands
    }
    vocabulary = {command.method for command in COMMANDS.values() if command.mutates}
    assert methods == vocabulary


def test_every_command_has_a_route_an_auth_rule_and_an_operation(tmp_path: Path) -> None:
    app = build_app(ServeSettings(journal=tmp_path / "unused.sqlite"))
    rules = route_rules(app)
    paths = openapi_document()["paths"]
    for command in COMMANDS.values():
        method, path = command.route
        assert rules[(method, path)] == command.roles, command.name
        assert command.roles, command.name
        assert set(command.roles) <= set(ROLES)
        assert paths[path][method.lower()]["operationId"] == command.name
    public = {key for key, rule in rules.items() if rule == PUBLIC}
    assert public == {("GET", p) for p in ("/", "/healthz", "/readyz", "/openapi.json")}


def test_views_change_nothing_and_are_open_to_supervisors() -> None:
    for command in COMMANDS.values():
        if not command.mutates:
            assert command.method is None
            assert command.route[0] == "GET"
        if command.mutates:
            assert "supervisor" not in command.roles, command.name


def test_an_unknown_command_or_wrong_arguments_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="command: got 'fly'"):
        command_named("fly")
    with pytest.raises(InvalidInputError, match="a view"):
        COMMANDS["statistics"].invoke(object(), NoArguments())
    with pytest.raises(InvalidInputError, match="expected TaskArguments"):
        COMMANDS["hold"].invoke(object(), NoArguments())
    with pytest.raises(InvalidInputError, match="until"):
        COMMANDS["defer"].arguments.model_validate({"task": "t", "until": "soon"})
