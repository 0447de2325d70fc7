"""The event stream: Server-Sent Events with the sequence number as id, resumable without gaps."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from serve_support import Server, auth, sse_events, start_server
from valueroute.events import Event


def _read(server: Server, count: int, headers: dict[str, str], into: list[tuple[int, str]]) -> None:
    """Read ``count`` events into ``into`` as ``(id, data)``."""
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        client.stream("GET", "/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for ident, _kind, data in sse_events(response):
            assert ident is not None
            into.append((ident, data))
            if len(into) >= count:
                return


def _drive(server: Server, first: int, last: int) -> None:
    with server.client("host") as host:
        for i in range(first, last):
            assert host.post("/v1/tasks", json={"id": f"ev-{i}", "priority": i % 5}).is_success
            if i % 3 == 0:
                assert host.post(f"/v1/tasks/ev-{i}/hold").is_success


def _check(events: list[tuple[int, str]]) -> list[dict[str, Any]]:
    ids = [ident for ident, _ in events]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "a gap or a duplicate"
    decoded = [json.loads(data) for _, data in events]
    for ident, event in zip(ids, decoded, strict=True):
        assert Event.from_dict(event).seq == ident
    return decoded


def test_a_reader_resumes_with_last_event_id_without_gap_or_duplicate(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        # 30 submissions (2 events each: submitted, queued) and 10 holds: 70 events.
        total = 70
        first: list[tuple[int, str]] = []
        reader = threading.Thread(
            target=_read,
            args=(server, 25, {**auth("supervisor"), "Last-Event-ID": "0"}, first),
            daemon=True,
        )
        reader.start()
        _drive(server, 0, 15)
        reader.join(timeout=30)
        assert len(first) == 25
        rest: list[tuple[int, str]] = []
        resumed = threading.Thread(
            target=_read,
            args=(
                server,
                total - 25,
                {**auth("supervisor"), "Last-Event-ID": str(first[-1][0])},
                rest,
            ),
            daemon=True,
        )
        resumed.start()
        _drive(server, 15, 30)
        resumed.join(timeout=30)
        decoded = _check(first + rest)
        assert [e["seq"] for e in decoded] == list(range(1, total + 1))
        kinds = [e["kind"] for e in decoded]
        assert kinds.count("task_submitted") == 30
        assert kinds.count("task_held") == 10
        with server.client("supervisor") as supervisor:
            replayed: list[tuple[int, str]] = []
            with supervisor.stream("GET", "/v1/events?after=60") as response:
                for ident, _kind, data in sse_events(response):
                    assert ident is not None
                    replayed.append((ident, data))
                    if len(replayed) == 10:
                        break
            assert replayed == (first + rest)[60:]
    finally:
        assert server.terminate() == 0, server.stderr()


def test_after_a_restart_older_events_are_rebuilt_from_the_journal(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    seen: list[tuple[int, str]] = []
    try:
        reader = threading.Thread(
            target=_read,
            args=(server, 37, {**auth("supervisor"), "Last-Event-ID": "0"}, seen),
            daemon=True,
        )
        reader.start()
        _drive(server, 0, 15)  # 35 events; then agent_added and the offer it gets: 37
        with server.client("admin") as admin:
            agent = {"id": "ann", "skills": {}}
            assert admin.post("/v1/agents?ready=true", json=agent).status_code == 201
        reader.join(timeout=30)
        assert len(seen) == 37
        assert [json.loads(data)["kind"] for _, data in seen[-2:]] == [
            "agent_added",
            "task_offered",
        ]
    finally:
        server.kill()
    again = start_server(tmp_path)
    try:
        rebuilt: list[tuple[int, str]] = []
        _read(again, 32, {**auth("supervisor"), "Last-Event-ID": "5"}, rebuilt)
        assert rebuilt == seen[5:37]
        _check(rebuilt)
        # Kept in memory in front of the live events: a second reader gets the same.
        again_rebuilt: list[tuple[int, str]] = []
        _read(again, 35, {**auth("supervisor"), "Last-Event-ID": "2"}, again_rebuilt)
        assert again_rebuilt == seen[2:37]
    finally:
        assert again.terminate() == 0, again.stderr()


def test_sigterm_ends_open_streams_and_the_service_exits_0(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    ended = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            client.stream("GET", "/v1/events", headers=auth("supervisor")) as response,
        ):
            for _ in response.iter_lines():
                pass
        ended.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert server.terminate() == 0, server.stderr()
    assert time.monotonic() - started < 5
    assert ended.wait(5)


def test_a_bad_last_event_id_is_422(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with server.client("supervisor") as supervisor:
            response = supervisor.get("/v1/events", headers={"Last-Event-ID": "yesterday"})
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "Last-Event-ID"
            assert supervisor.get("/v1/events?after=-3").status_code == 422
    finally:
        assert server.terminate() == 0, server.stderr()
