"""Queues and workflows through the service: configured in `[engine]`, used over HTTP,
kept across a restart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_support import start_server
from valueroute.serve import QueuesView

CONFIG = """
[engine]
auto_accept = true

[[engine.queues]]
name = "billing"
skills = { billing = 2 }
max_length = 1
when_full = "overflow"
overflow_to = "general"

[[engine.queues]]
name = "general"

[[engine.workflows]]
name = "claims"
types = ["claim"]
then = "hold"
steps = [{ queue = "billing", timeout = 600 }, { queue = "general", priority = 5 }]
"""


def test_queues_and_workflows_configured_in_the_service(tmp_path: Path) -> None:
    server = start_server(tmp_path, tokens=False, config=CONFIG)
    try:
        with server.client() as client:
            assert client.post("/v1/tasks", json={"id": "b1", "queue": "billing"}).is_success
            # billing holds one: the next overflows to general.
            assert client.post("/v1/tasks", json={"id": "b2", "queue": "billing"}).is_success
            assert client.post("/v1/tasks", json={"id": "c1", "type": "claim"}).is_success
            refused = client.post("/v1/tasks", json={"id": "x", "queue": "nowhere"})
            assert refused.status_code == 422, refused.text
            assert "queue" in refused.json()["detail"]
            first = client.get("/v1/tasks/b1").json()
            second = client.get("/v1/tasks/b2").json()
            claim = client.get("/v1/tasks/c1").json()
    finally:
        server.kill()
    assert _field(first, "queue") == "billing"
    assert _field(second, "queue") == "general"
    assert _field(claim, "workflow") == "claims"
    assert _field(claim, "queue") == "general"  # billing was full: the step's queue overflowed
    again = start_server(tmp_path, tokens=False, config=CONFIG)
    try:
        with again.client() as client:
            assert _field(client.get("/v1/tasks/b2").json(), "queue") == "general"
            assert _field(client.get("/v1/tasks/c1").json(), "workflow_step") == 0
    finally:
        assert again.terminate() == 0, again.stderr()


def _field(document: dict[str, object], name: str) -> object:
    """A field of a task document: at the top, or in its explanation."""
    if name in document:
        return document[name]
    explanation = document.get("explanation")
    assert isinstance(explanation, dict), document
    return explanation[name]


VIEW_CONFIG = """
[[engine.queues]]
name = "billing"
skills = { billing = 2 }

[[engine.queues]]
name = "general"
"""


def _queues(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """``GET /v1/queues``, checked to be strict JSON (no NaN or Infinity literals) and to
    match its model."""
    response = client.get("/v1/queues")
    assert response.status_code == 200, response.text
    document = json.loads(response.text, parse_constant=_not_json)
    QueuesView.model_validate(document)
    queues: dict[str, dict[str, Any]] = document["queues"]
    return queues


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_the_queue_view_follows_waits_agents_and_handle_times(tmp_path: Path) -> None:
    """Each figure checked against what the test did: counts it made, waits bounded by its
    own clock, and the expected wait by its definition, (waiting + 1) * mean handle /
    agents logged on; "Infinity" while no logged-on agent serves a queue, null while no
    handle time is known."""
    server = start_server(tmp_path, config=VIEW_CONFIG)
    try:
        with server.client("host") as host, server.client("supervisor") as supervisor:
            started = time.time()
            for task in ("b1", "b2", "b3"):
                spec = {"id": task, "queue": "billing", "skills": {"billing": 1}}
                assert host.post("/v1/tasks", json=spec).status_code == 201
            nobody = _queues(supervisor)
            waited = time.time() - started
            assert sorted(nobody) == ["billing", "general"]
            billing = nobody["billing"]
            assert (billing["waiting"], billing["entered"]) == (3, 3)
            assert 0.0 <= billing["oldest_wait"] <= waited + 1.0
            assert (billing["agents"], billing["available"]) == (0, 0)
            assert billing["expected_wait"] == "Infinity"
            assert billing["mean_handle"] is None
            general = nobody["general"]
            assert (general["waiting"], general["oldest_wait"]) == (0, None)
            assert general["expected_wait"] == "Infinity"

            with server.client("admin") as admin:
                spec = {"id": "ann", "skills": {"billing": 2}}
                assert admin.post("/v1/agents", json=spec).status_code == 201
            offline = _queues(supervisor)
            # Serving the queue, but not logged on: still no bound on the wait.
            assert (offline["billing"]["agents"], offline["billing"]["available"]) == (1, 0)
            assert offline["billing"]["expected_wait"] == "Infinity"
            assert offline["general"]["agents"] == 1

            with server.client("agent") as ann:
                assert ann.put("/v1/agents/ann/state", json={"state": "not_ready"}).is_success
                unknown = _queues(supervisor)
                # Logged on, but nothing has been handled: no estimate yet.
                assert unknown["billing"]["expected_wait"] is None
                assert unknown["billing"]["available"] == 0

                assert ann.put("/v1/agents/ann/state", json={"state": "ready"}).is_success
                offered = ann.get("/v1/agents/ann/offers").json()["offers"]
                first = offered[0]["task"]
                assert _queues(supervisor)["billing"]["waiting"] == 2
                accepting = time.time()
                assert ann.post(f"/v1/offers/{first}/accept").is_success
                assert ann.post(f"/v1/tasks/{first}/complete").is_success
                handled = time.time() - accepting
            # The next task is offered to ann at once; one is left waiting.
            after = _queues(supervisor)["billing"]
            assert after["waiting"] == 1
            assert (after["agents"], after["available"]) == (1, 0)
            assert 0.0 < after["mean_handle"] <= handled + 1.0
            assert after["expected_wait"] == pytest.approx((1 + 1) * after["mean_handle"] / 1)
            refused = supervisor.get("/v1/queues?name=billing")
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        with server.client("agent") as agent:
            assert agent.get("/v1/queues").status_code == 403
        with server.client() as anonymous:
            assert anonymous.get("/v1/queues").status_code == 401
    finally:
        assert server.terminate() == 0, server.stderr()


def test_the_queue_view_of_an_engine_without_named_queues_is_empty(tmp_path: Path) -> None:
    server = start_server(tmp_path, tokens=False)
    try:
        with server.client() as client:
            assert client.post("/v1/tasks", json={"id": "t1"}).status_code == 201
            assert _queues(client) == {}
    finally:
        assert server.terminate() == 0, server.stderr()
