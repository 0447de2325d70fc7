"""``valueroute serve --store``: several real service processes on one PostgreSQL journal.

One leads (``/readyz`` 200, takes commands); the others follow the journal
with their own engine, serve views and the event stream, and refuse commands
with ``503``. The reference for what happened is the journal itself, read by
a fresh follower (:func:`journal_tasks`), never the services' own answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from serve_support import Server, auth, sse_events, start_server
from valueroute import Engine
from valueroute.journal import DurableEngine
from valueroute.pgstore import PostgresStore

LEASE = "1"
"""Seconds: short, so a paused leader is replaced quickly."""

CONFIG = """
[engine]
offer_timeout = 600
"""


def _factory(clock: Callable[[], float]) -> Engine:
    """The engine the services build from CONFIG (same options)."""
    return Engine(clock=clock, offer_timeout=600)


def journal_tasks(
    url: str, factory: Callable[[Callable[[], float]], Engine] = _factory
) -> dict[str, str]:
    """Every task the journal holds and its state, rebuilt by a fresh follower."""
    reader = DurableEngine.open(PostgresStore(url, lead=False), factory, repair=False)
    try:
        engine = reader.engine
        # Open and closed tasks alike (the engine keeps no other index of them all).
        found = {**engine._tasks, **engine._closed}
        return {task_id: task.state.value for task_id, task in found.items()}
    finally:
        reader.close()


def serve(folder: Path, url: str, name: str) -> Server:
    return start_server(
        folder / name,
        store=url,
        config=CONFIG,
        extra=["--lease-seconds", LEASE, "--name", name],
    )


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll ``condition`` until true; returns the seconds it took, fails after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {seconds} s")


def ready(server: Server) -> bool:
    try:
        return httpx.get(f"{server.url}/readyz", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def pair(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, Server, Server]]:  # noqa: F811
    """A leader (started first, alone) and a standby on one store."""
    leader = serve(tmp_path, postgres_url, "first")
    standby: Server | None = None
    try:
        wait_until(lambda: ready(leader), 10, "the first server leads")
        standby = serve(tmp_path, postgres_url, "second")
        yield postgres_url, leader, standby
    finally:
        for server in (standby, leader):
            if server is not None:
                server.kill()


def submit(client: httpx.Client, task: str) -> httpx.Response:
    return client.post("/v1/tasks", json={"id": task, "skills": {"billing": 1}})


def test_one_of_two_servers_leads_and_the_standby_serves_views_but_refuses_commands(
    pair: tuple[str, Server, Server],
) -> None:
    url, leader, standby = pair
    with leader.client("admin") as lead, standby.client("admin") as follow:
        ready_leader = lead.get("/readyz")
        ready_standby = follow.get("/readyz")
        assert ready_leader.status_code == 200
        assert ready_leader.json()["role"] == "leader"
        assert ready_standby.status_code == 503
        assert ready_standby.headers["content-type"] == "application/problem+json"
        body = ready_standby.json()
        assert body["role"] == "standby"
        assert body["term"] == ready_leader.json()["term"]
        assert body["leader"] == "first"
        assert lead.get("/healthz").status_code == follow.get("/healthz").status_code == 200

        assert lead.post("/v1/agents", json={"id": "ann", "skills": {"billing": 2}}).is_success
        assert submit(lead, "t1").status_code == 201
        assert lead.post("/v1/tasks/t1/hold").is_success

        # The standby follows: once at the leader's position, it shows what the leader does.
        position = lead.get("/readyz").json()["position"]
        wait_until(
            lambda: follow.get("/readyz").json()["position"] == position,
            10,
            "the standby applies the leader's records",
        )
        assert follow.get("/v1/tasks/t1").json()["state"] == "held"
        # Each process reads its own clock for a view's time; the rest is the state.
        views = [
            {k: v for k, v in client.get(path).json().items() if k != "time"}
            for path in ("/v1/tasklist", "/v1/stats", "/v1/queues")
            for client in (follow, lead)
        ]
        assert views[0] == views[1]
        assert views[2] == views[3]
        assert views[4] == views[5]

        refusals = [
            submit(follow, "t2"),
            follow.post("/v1/tasks/t1/resume"),
            follow.put("/v1/agents/ann/state", json={"state": "ready"}),
            follow.post("/v1/agents", json={"id": "bob"}),
            follow.post("/v1/advance"),
        ]
        for refused in refusals:
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["role"] == "standby"
            assert "standby" in refused.json()["detail"]
        # Nothing the standby refused reached the journal or either engine.
        assert lead.get("/readyz").json()["position"] == position
        assert follow.get("/v1/tasks/t2").status_code == 404
        assert follow.get("/v1/tasks/t1").json()["state"] == "held"
        assert journal_tasks(url) == {"t1": "held"}


def test_an_event_stream_on_the_standby_carries_the_leaders_events_and_resumes(
    pair: tuple[str, Server, Server],
) -> None:
    _, leader, standby = pair
    with leader.client("admin") as lead:
        assert lead.post("/v1/agents", json={"id": "ann", "skills": {"billing": 2}}).is_success
        stream_client = httpx.Client(base_url=standby.url, headers=auth("supervisor"), timeout=10)
        with stream_client, stream_client.stream("GET", "/v1/events?after=0") as stream:
            assert submit(lead, "e1").status_code == 201
            seen: list[tuple[int, str]] = []
            for ident, _kind, data in sse_events(stream):
                assert ident is not None
                seen.append((ident, data))
                if '"task":"e1"' in data and '"kind":"task_queued"' in data:
                    break
        assert seen
        assert '"task":"e1"' in seen[-1][1]
        # The leader's own stream, from the start: the same events, numbered alike.
        with lead.stream("GET", "/v1/events?after=0") as stream:
            theirs = []
            for ident, _kind, data in sse_events(stream):
                theirs.append((ident, data))
                if len(theirs) == len(seen):
                    break
        assert theirs == seen
        assert [ident for ident, _ in seen] == list(range(1, len(seen) + 1))

        assert submit(lead, "e2").status_code == 201
        resume = {"Last-Event-ID": str(seen[-1][0]), **auth("supervisor")}
        with (
            httpx.Client(base_url=standby.url, headers=resume, timeout=10) as again,
            again.stream("GET", "/v1/events") as stream,
        ):
            ident, _kind, data = next(sse_events(stream))
        assert ident == seen[-1][0] + 1
        assert '"task":"e2"' in data
        assert '"kind":"task_submitted"' in data


def test_the_standby_leads_soon_after_the_leader_is_killed_with_every_acknowledged_command(
    pair: tuple[str, Server, Server],
) -> None:
    url, leader, standby = pair
    acknowledged: list[str] = []
    stop = threading.Event()

    def load(client_number: int) -> None:
        # Submits until the leader dies under them: each 201 is acknowledged.
        with leader.client("admin") as lead:
            for number in range(10_000):
                if stop.is_set():
                    return
                task = f"k{client_number}-{number}"
                try:
                    if submit(lead, task).status_code == 201:
                        acknowledged.append(task)
                except httpx.TransportError:
                    return

    clients = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for client in clients:
        client.start()
    wait_until(lambda: len(acknowledged) >= 40, 20, "the leader acknowledges under load")
    leader.kill()
    took = wait_until(lambda: ready(standby), 10, "the standby takes over")
    stop.set()
    for client in clients:
        client.join(20)
    assert took < 10
    assert len(acknowledged) >= 40
    with standby.client("host") as follow:
        readiness = follow.get("/readyz").json()
        assert readiness["role"] == "leader"
        for task in acknowledged:
            assert follow.get(f"/v1/tasks/{task}").status_code == 200, task
        assert submit(follow, "after-kill").status_code == 201
    held = journal_tasks(url)
    # Every acknowledged command is in the journal; others may be (committed, unanswered).
    assert {*acknowledged, "after-kill"} <= set(held)
    assert all(task.startswith("k") or task == "after-kill" for task in held)


def test_a_leader_paused_past_its_lease_is_fenced_and_never_acknowledges_again(
    pair: tuple[str, Server, Server],
) -> None:
    url, leader, standby = pair
    streamed: list[tuple[int | None, str]] = []

    def watch() -> None:
        # A stream on the leader, open across its pause, fencing and rebuild.
        with (
            httpx.Client(base_url=leader.url, headers=auth("supervisor"), timeout=30) as client,
            client.stream("GET", "/v1/events?after=0") as stream,
        ):
            for ident, _kind, data in sse_events(stream):
                streamed.append((ident, data))
                if '"task":"new-leader"' in data and '"kind":"task_queued"' in data:
                    return

    watcher = threading.Thread(target=watch)
    watcher.start()
    with leader.client("admin") as lead:
        assert submit(lead, "before").status_code == 201
        term = lead.get("/readyz").json()["term"]
    wait_until(lambda: len(streamed) >= 2, 10, "the stream carries the first task")
    os.kill(leader.pid, signal.SIGSTOP)
    answers: list[int] = []
    try:
        wait_until(lambda: ready(standby), 10, "the standby takes over from the paused leader")
        with standby.client("admin") as follow:
            assert follow.get("/readyz").json()["term"] > term
            assert submit(follow, "new-leader").status_code == 201

        def send() -> None:
            # Sent while the old leader is stopped: it reads them when it resumes.
            with leader.client("admin") as stale:
                answers.extend(submit(stale, f"stale-{n}").status_code for n in range(3))

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(0.2)
    finally:
        os.kill(leader.pid, signal.SIGCONT)
    sender.join(20)
    assert answers == [503, 503, 503]
    with leader.client("admin") as old:
        refused = submit(old, "stale-after")
        assert refused.status_code == 503
        assert refused.json()["role"] == "standby"
        wait_until(
            lambda: old.get("/readyz").json().get("role") == "standby", 10, "the old leader follows"
        )
        assert old.get("/readyz").status_code == 503
        # It follows the new leader now.
        wait_until(
            lambda: old.get("/v1/tasks/new-leader").status_code == 200,
            10,
            "the old leader applies the new leader's commands",
        )
    assert ready(standby)
    assert journal_tasks(url) == {"before": "queued", "new-leader": "queued"}
    # The stream went on from the rebuilt engine: every event once, in order, no gap.
    watcher.join(20)
    assert not watcher.is_alive()
    assert [ident for ident, _ in streamed] == list(range(1, len(streamed) + 1))
    assert not any('"task":"stale-' in data for _, data in streamed)


def test_the_example_shows_a_standby_refusing_then_taking_over(
    postgres_url: str,  # noqa: F811 (the imported fixture)
) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "serve_standby.py"
    done = subprocess.run(
        [sys.executable, str(example), postgres_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "second: /readyz 503, role standby" in done.stdout
    assert "second refuses a command: 503 (standby)" in done.stdout
    assert "second takes commands: 201" in done.stdout
    # The example's services run the engine's defaults.
    held = journal_tasks(postgres_url, lambda clock: Engine(clock=clock))
    assert set(held) == {"call-1", "call-2", "call-3", "call-4"}


def _serve(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valueroute", "serve", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--store", "journal.sqlite"), "argument --store: got 'journal.sqlite'"),
        (("--store", "postgresql://x/y", "--journal", "j.sqlite"), "not allowed with"),
        (
            ("--store", "postgresql://x/y", "--lease-seconds", "0"),
            "argument --lease-seconds: got '0'",
        ),
        (("--store", "postgresql://x/y", "--name", ""), "node_name: got ''"),
        (
            ("--store", "postgresql://nobody@127.0.0.1:1/x", "--port", "0"),
            "cannot connect to PostgreSQL",
        ),
    ],
)
def test_the_command_line_refuses_a_wrong_store_in_one_line(
    tmp_path: Path, arguments: tuple[str, ...], expected: str
) -> None:
    done = _serve(*arguments, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_settings_for_a_standby_need_a_database_and_no_webhook(tmp_path: Path) -> None:
    from valueroute.errors import InvalidInputError
    from valueroute.serve import ServeSettings, Webhook

    with pytest.raises(InvalidInputError, match=r"journal: got .* postgresql:// URL when running"):
        ServeSettings(journal=tmp_path / "j.sqlite", standby=True)
    hook = Webhook(url="http://127.0.0.1:9/x", secret="s" * 16, state_file=tmp_path / "w")
    with pytest.raises(InvalidInputError, match=r"webhook: got .*no webhook"):
        ServeSettings(journal="postgresql://x/y", standby=True, webhook=hook)
    with pytest.raises(InvalidInputError, match="lease_seconds: got 0"):
        ServeSettings(journal="postgresql://x/y", standby=True, lease_seconds=0)
