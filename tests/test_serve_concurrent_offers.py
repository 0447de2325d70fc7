"""Concurrent offers over HTTP, against a real ``valueroute serve`` process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serve_support import Server, start_server
from valueroute.serve import OffersView, TaskView

CONFIG = "[engine]\nconcurrent_offers = 2\noffer_timeout = 600\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve-offers"), config=CONFIG)
    with running.client("admin") as admin:
        for agent in ("ann", "bob"):
            spec = {"id": agent, "skills": {"billing": 2}}
            assert admin.post("/v1/agents", json=spec).status_code == 201
    yield running
    assert running.terminate() == 0, running.stderr()


def _ready(server: Server, state: str = "ready") -> None:
    for role, agent in (("agent", "ann"), ("agent_bob", "bob")):
        with server.client(role) as client:
            answer = client.put(f"/v1/agents/{agent}/state", json={"state": state})
            assert answer.status_code == 200, answer.text


def _offers(server: Server, role: str, agent: str) -> list[tuple[str, str]]:
    with server.client(role) as client:
        view = OffersView.model_validate(client.get(f"/v1/agents/{agent}/offers").json())
    return [(offer.task, offer.agent) for offer in view.offers]


def test_two_agents_race_to_accept_and_exactly_one_wins(server: Server) -> None:
    _ready(server)
    with server.client("host") as host:
        made = host.post("/v1/tasks", json={"id": "race-1", "skills": {"billing": 1}})
        assert made.status_code == 201, made.text
    assert _offers(server, "agent", "ann") == [("race-1", "ann")]
    assert _offers(server, "agent_bob", "bob") == [("race-1", "bob")]

    start = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def answer(role: str, agent: str) -> None:
        with server.client(role) as client:
            start.wait()
            answers[agent] = client.post("/v1/offers/race-1/accept", json={})

    threads = [
        threading.Thread(target=answer, args=("agent", "ann")),
        threading.Thread(target=answer, args=("agent_bob", "bob")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(response.status_code for response in answers.values())
    # The loser no longer holds an offer of the task when its answer is checked.
    assert statuses == [200, 403], {a: r.text for a, r in answers.items()}
    winner = next(agent for agent, r in answers.items() if r.status_code == 200)
    loser = "bob" if winner == "ann" else "ann"
    assert TaskView.model_validate(answers[winner].json()).agent == winner
    with server.client("host") as host:
        shown = TaskView.model_validate(host.get("/v1/tasks/race-1").json())
        assert (shown.state, shown.agent) == ("assigned", winner)
        assert host.post("/v1/tasks/race-1/complete", json={}).status_code == 200
    assert _offers(server, "agent" if loser == "ann" else "agent_bob", loser) == []
    _ready(server, "offline")


def test_a_host_must_name_the_agent_when_several_hold_offers(server: Server) -> None:
    _ready(server)
    with server.client("host") as host:
        assert host.post("/v1/tasks", json={"id": "named-1"}).status_code == 201
        refused = host.post("/v1/offers/named-1/accept", json={})
        assert refused.status_code == 422, refused.text
        assert "agent" in refused.json()["detail"]
        rejected = host.post("/v1/offers/named-1/reject", json={"agent": "ann"})
        assert rejected.status_code == 200, rejected.text
        # bob's offer lives on: the task stays offered, to him alone.
        assert host.get("/v1/tasks/named-1").json()["state"] == "offered"
        accepted = host.post("/v1/offers/named-1/accept", json={})
        assert accepted.status_code == 200, accepted.text
        assert TaskView.model_validate(accepted.json()).agent == "bob"
        assert host.post("/v1/tasks/named-1/complete", json={}).status_code == 200
        stats = host.get("/v1/stats").json()
        assert (stats["offered"], stats["live_offers"]) == (0, 0)
    _ready(server, "offline")


def test_offers_survive_a_restart_of_the_service(tmp_path: Path) -> None:
    first = start_server(tmp_path, config=CONFIG)
    try:
        with first.client("admin") as admin:
            for agent in ("ann", "bob"):
                assert admin.post("/v1/agents", json={"id": agent}).status_code == 201
        _ready(first)
        with first.client("host") as host:
            assert host.post("/v1/tasks", json={"id": "kept-1"}).status_code == 201
        before = {a: _offers(first, r, a) for r, a in (("agent", "ann"), ("agent_bob", "bob"))}
        with first.client("admin") as admin:
            expiry = admin.get("/v1/tasks/kept-1").json()["explanation"]["offers"]
    finally:
        assert first.terminate() == 0, first.stderr()
    second = start_server(tmp_path, journal=first.journal, config=CONFIG)
    try:
        after = {a: _offers(second, r, a) for r, a in (("agent", "ann"), ("agent_bob", "bob"))}
        assert after == before == {"ann": [("kept-1", "ann")], "bob": [("kept-1", "bob")]}
        with second.client("admin") as admin:
            assert admin.get("/v1/tasks/kept-1").json()["explanation"]["offers"] == expiry
    finally:
        assert second.terminate() == 0, second.stderr()
