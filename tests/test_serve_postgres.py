"""The service on the PostgreSQL journal store: same API, recovered after a restart."""

from __future__ import annotations

from pathlib import Path

from postgres_support import postgres_cluster, postgres_url  # noqa: F401 (fixtures)
from serve_support import start_server


def test_the_service_journals_to_postgresql_and_recovers(
    postgres_url: str,  # noqa: F811 (the imported fixture)
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path, tokens=False, extra=["--journal", postgres_url])
    try:
        with server.client() as client:
            assert client.post("/v1/agents?ready=true", json={"id": "ann"}).status_code == 201
            assert client.post("/v1/tasks", json={"id": "pg-1"}).json()["agent"] == "ann"
            assert client.post("/v1/offers/pg-1/accept").is_success
            assert client.post("/v1/tasks", json={"id": "pg-2", "priority": 3}).is_success
    finally:
        server.kill()
    again = start_server(tmp_path, tokens=False, extra=["--journal", postgres_url])
    try:
        with again.client() as client:
            assert client.get("/v1/tasks/pg-1").json()["state"] == "assigned"
            assert client.get("/v1/tasks/pg-2").json()["state"] == "queued"
            with client.stream("GET", "/v1/events?after=0") as stream:
                kinds = []
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        kinds.append(line.split('"kind":"', 1)[1].split('"', 1)[0])
                        if len(kinds) == 3:
                            break
            assert kinds == ["agent_added", "task_submitted", "task_queued"]
    finally:
        assert again.terminate() == 0, again.stderr()
