"""Kill test: SIGKILL the service under load; every acknowledged command survives exactly once."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from serve_support import start_server
from valueroute.engine import Engine
from valueroute.journal import DurableEngine, SQLiteStore

CLIENTS = 8


def _load(url: str, name: str, stop: threading.Event, acknowledged: list[tuple[str, str]]) -> None:
    """Submit tasks and cancel every other one until the server dies or ``stop`` is set."""
    with httpx.Client(base_url=url, timeout=5) as client:
        i = 0
        while not stop.is_set():
            task = f"{name}-{i}"
            try:
                response = client.post("/v1/tasks", json={"id": task, "priority": i % 7})
                if response.status_code in (200, 201):
                    acknowledged.append(("submit", task))
                if i % 2 == 0 and response.is_success:
                    canceled = client.post(f"/v1/tasks/{task}/cancel", json={})
                    if canceled.is_success:
                        acknowledged.append(("cancel", task))
            except httpx.HTTPError:
                return
            i += 1


def _round(folder: Path, number: int, rng: random.Random) -> list[tuple[str, str]]:
    server = start_server(folder, tokens=False, journal=folder / "journal.sqlite")
    stop = threading.Event()
    acknowledged: list[tuple[str, str]] = []
    threads = [
        threading.Thread(
            target=_load, args=(server.url, f"r{number}c{c}", stop, acknowledged), daemon=True
        )
        for c in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    # Under load: once commands are being acknowledged, at a random moment.
    deadline = time.monotonic() + 10
    while not acknowledged and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.3))
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    return acknowledged


def _factory(clock: object) -> Engine:
    # Every closed task kept, so that each acknowledged one can be looked up
    # after recovery (the default keeps the last 10,000; a long run cancels
    # more). The ids never repeat, so the replay is the same either way.
    return Engine(clock=clock, closed_memory=1_000_000)  # type: ignore[arg-type]


def _kill_rounds(folder: Path, rounds: int) -> None:
    rng = random.Random(int(os.environ.get("VALUEROUTE_KILL_SEED", "17")))
    acknowledged: list[tuple[str, str]] = []
    for number in range(rounds):
        acknowledged += _round(folder, number, rng)
    assert len(acknowledged) > rounds, "the load produced almost no acknowledged commands"

    store = SQLiteStore(folder / "journal.sqlite")
    try:
        journaled = Counter(
            (record.command, json.loads(record.arguments)["spec"]["id"])
            if record.command == "submit"
            else (record.command, json.loads(record.arguments).get("task"))
            for record in store.read(after=0)
        )
    finally:
        store.close()
    for command in acknowledged:
        assert journaled[command] == 1, command

    durable = DurableEngine.open(folder / "journal.sqlite", _factory)
    try:
        assert durable.report.clean, str(durable.report)
        engine = durable.engine
        engine._check()
        for command, task in acknowledged:
            state = engine.get(task).state.value
            if command == "cancel":
                assert state == "canceled", (task, state)
            else:
                assert state in ("queued", "canceled"), (task, state)
        digest = durable.digest()
    finally:
        durable.close()
    with DurableEngine.open(folder / "journal.sqlite", _factory) as again:
        assert again.digest() == digest


def test_every_acknowledged_command_survives_20_kills_exactly_once(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, 20)


@pytest.mark.slow
def test_every_acknowledged_command_survives_100_kills_exactly_once(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, 100)
