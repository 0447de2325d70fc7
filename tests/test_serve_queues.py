"""Queues and workflows through the service: configured in `[engine]`, used over HTTP,
kept across a restart."""

from __future__ import annotations

from pathlib import Path

from serve_support import start_server

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
