"""The HTTP API against a real ``valueroute serve`` process on a loopback port, driven by httpx."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_support import Server, auth, start_server
from valueroute.commands import COMMANDS
from valueroute.serve import (
    PUBLIC,
    AgentView,
    NextView,
    OffersView,
    Problem,
    ServeSettings,
    StatsView,
    TaskListView,
    TaskView,
    build_app,
    route_rules,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve-api")
    running = start_server(
        folder, config="[engine]\noffer_timeout = 600\n[limits]\nmax_body_bytes = 4096\n"
    )
    with running.client("admin") as admin:
        for agent in ("ann", "bob"):
            spec = {"id": agent, "skills": {"billing": 2}}
            assert admin.post("/v1/agents", json=spec).status_code == 201
    yield running
    assert running.terminate() == 0, running.stderr()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    Problem.model_validate(body)
    assert body["status"] == status
    return body


def _stats(server: Server) -> dict[str, Any]:
    with server.client("admin") as admin:
        stats: dict[str, Any] = admin.get("/v1/stats").json()
    return stats


# ---------------------------------------------------------------------- lifecycle


def test_a_task_goes_through_its_whole_lifecycle(server: Server) -> None:
    with server.client("host") as host, server.client("agent") as ann:
        ready = ann.put("/v1/agents/ann/state", json={"state": "ready"})
        assert ready.status_code == 200, ready.text
        assert AgentView.model_validate(ready.json()).state == "ready"

        made = host.post("/v1/tasks", json={"id": "life-1", "skills": {"billing": 1}})
        assert made.status_code == 201, made.text
        task = TaskView.model_validate(made.json())
        assert (task.state, task.agent) == ("offered", "ann")
        assert made.headers["location"] == "/v1/tasks/life-1"

        offers = OffersView.model_validate(ann.get("/v1/agents/ann/offers").json())
        assert [offer.task for offer in offers.offers] == ["life-1"]

        accepted = ann.post("/v1/offers/life-1/accept", json={})
        assert TaskView.model_validate(accepted.json()).state == "assigned"

        shown = TaskView.model_validate(host.get("/v1/tasks/life-1").json())
        assert (shown.state, shown.agent) == ("assigned", "ann")
        assert shown.explanation is not None
        assert shown.score == shown.explanation["score"]

        done = ann.post("/v1/tasks/life-1/complete", json={})
        assert TaskView.model_validate(done.json()).state == "completed"
        gone = TaskView.model_validate(host.get("/v1/tasks/life-1").json())
        assert (gone.state, gone.agent) == ("completed", None)
        assert ann.put("/v1/agents/ann/state", json={"state": "offline"}).status_code == 200


def test_a_pull_offers_the_best_task_the_agent_may_take(tmp_path: Path) -> None:
    server = start_server(tmp_path, config='[engine]\ndispatch = "pull"\n')
    try:
        with server.client("admin") as admin:
            assert admin.post("/v1/agents", json={"id": "bob"}).status_code == 201
        with server.client("host") as host, server.client("agent_bob") as bob:
            for name, priority in (("pull-low", 1), ("pull-high", 9)):
                assert host.post("/v1/tasks", json={"id": name, "priority": priority}).is_success
            listed = TaskListView.model_validate(host.get("/v1/tasklist").json())
            assert [entry.id for entry in listed.tasks] == ["pull-high", "pull-low"]
            assert bob.put("/v1/agents/bob/state", json={"state": "ready"}).status_code == 200
            assert bob.get("/v1/agents/bob/offers").json()["offers"] == []
            pulled = NextView.model_validate(bob.post("/v1/agents/bob/next").json())
            assert pulled.offer is not None
            assert (pulled.offer.task, pulled.offer.agent) == ("pull-high", "bob")
            assert bob.post("/v1/offers/pull-high/reject", json={"agent": "bob"}).is_success
            assert host.get("/v1/tasks/pull-high").json()["state"] == "queued"
    finally:
        assert server.terminate() == 0, server.stderr()


def test_hold_resume_defer_and_transfer_move_a_queued_task(server: Server) -> None:
    with server.client("host") as host:
        spec = {"id": "moves", "skills": {"spanish": 1}}
        assert host.post("/v1/tasks", json=spec).status_code == 201
        assert host.post("/v1/tasks/moves/hold").json()["state"] == "held"
        assert host.post("/v1/tasks/moves/resume").json()["state"] == "queued"
        later = time.time() + 3600
        assert host.post("/v1/tasks/moves/defer", json={"until": later}).json()["state"] == (
            "deferred"
        )
        assert host.post("/v1/tasks/moves/resume").json()["state"] == "queued"
        moved = host.post("/v1/tasks/moves/transfer", json={"skills": {"french": 1}})
        assert moved.json()["skills"] == {"french": 1.0}
        assert host.post("/v1/tasks/moves/cancel", json={"reason": "test"}).json()["state"] == (
            "canceled"
        )


def test_stats_and_tasklist_match_their_models(server: Server) -> None:
    with server.client("supervisor") as supervisor:
        StatsView.model_validate(supervisor.get("/v1/stats").json())
        TaskListView.model_validate(supervisor.get("/v1/tasklist?n=5&offset=0").json())


# ---------------------------------------------------------------------- idempotency and If-Match


def test_resubmitting_the_same_task_returns_it_and_other_content_conflicts(
    server: Server,
) -> None:
    spec = {"id": "idem-1", "priority": 2, "skills": {"german": 1}}
    with server.client("host") as host:
        first = host.post("/v1/tasks", json=spec)
        again = host.post("/v1/tasks", json=spec)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        other = host.post("/v1/tasks", json={**spec, "priority": 3})
        body = _problem(other, 409)
        assert "idem-1" in body["detail"]
        assert host.get("/v1/tasks/idem-1").json()["priority"] == 2


def test_if_match_makes_an_update_conditional(server: Server) -> None:
    with server.client("host") as host:
        assert host.post("/v1/tasks", json={"id": "ver-1", "skills": {"dutch": 1}}).is_success
        etag = host.get("/v1/tasks/ver-1").headers["etag"]
        assert etag == '"0"'
        changed = host.patch("/v1/tasks/ver-1", json={"priority": 5}, headers={"If-Match": etag})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["version"], changed.headers["etag"]) == (1, '"1"')
        stale = host.patch("/v1/tasks/ver-1", json={"priority": 7}, headers={"If-Match": etag})
        body = _problem(stale, 412)
        assert "version 1" in body["detail"]
        assert host.get("/v1/tasks/ver-1").json()["priority"] == 5
        bad = host.patch("/v1/tasks/ver-1", json={"priority": 7}, headers={"If-Match": "soon"})
        assert _problem(bad, 422)["errors"][0]["field"] == "If-Match"


# ---------------------------------------------------------------------- error statuses


def test_invalid_arguments_are_422_naming_field_value_and_expectation(server: Server) -> None:
    with server.client("host") as host:
        before = _stats(server)["by_type"]
        body = _problem(host.post("/v1/tasks", json={"id": "bad-1", "priority": "high"}), 422)
        assert body["errors"][0]["field"] == "priority"
        assert "high" in body["errors"][0]["value"]
        assert body["errors"][0]["expected"]
        body = _problem(host.post("/v1/tasks", json={"id": "bad-2", "colour": "red"}), 422)
        assert body["errors"][0]["field"] == "colour"
        body = _problem(host.put("/v1/agents/ann/state", json={"state": "asleep"}), 422)
        assert body["errors"][0]["field"] == "state"
        body = _problem(host.get("/v1/tasklist?n=-1"), 422)
        assert body["errors"][0]["field"] == "n"
        body = _problem(host.get("/v1/tasklist?colour=red"), 422)
        assert body["errors"][0]["field"] == "query"
        assert _stats(server)["by_type"] == before


def test_unknown_ids_are_404(server: Server) -> None:
    with server.client("host") as host:
        assert "no task" in _problem(host.get("/v1/tasks/never-seen"), 404)["detail"]
        _problem(host.post("/v1/tasks/never-seen/hold"), 404)
        _problem(host.put("/v1/agents/nobody/state", json={"state": "ready"}), 404)
        _problem(host.get("/v1/agents/nobody/offers"), 404)
        _problem(host.get("/v1/no/such/route"), 404)


def test_an_invalid_transition_is_409_and_changes_nothing(server: Server) -> None:
    with server.client("host") as host:
        assert host.post("/v1/tasks", json={"id": "tr-1", "skills": {"greek": 1}}).is_success
        body = _problem(host.post("/v1/tasks/tr-1/complete"), 409)
        assert "queued" in body["detail"]
        assert host.get("/v1/tasks/tr-1").json()["state"] == "queued"
        assert host.post("/v1/tasks/tr-1/resume").status_code == 409


def test_a_body_over_the_limit_is_413_and_changes_nothing(server: Server) -> None:
    big = {"id": "big-1", "attributes": {"note": "x" * 5000}}
    with server.client("host") as host:
        _problem(host.post("/v1/tasks", json=big), 413)
        # Chunked, with no Content-Length to check first.
        chunks = iter([json.dumps(big).encode()[i : i + 1000] for i in range(0, 5100, 1000)])
        streamed = host.post(
            "/v1/tasks", content=chunks, headers={"content-type": "application/json"}
        )
        _problem(streamed, 413)
        _problem(host.get("/v1/tasks/big-1"), 404)


def test_wrong_content_type_malformed_and_deep_json_are_refused(server: Server) -> None:
    with server.client("host") as host:
        form = host.post("/v1/tasks", content=b"id=x", headers={"content-type": "text/plain"})
        assert _problem(form, 415)["errors"][0]["field"] == "content-type"
        broken = host.post(
            "/v1/tasks", content=b'{"id": "x",', headers={"content-type": "application/json"}
        )
        _problem(broken, 400)
        nan = host.post(
            "/v1/tasks",
            content=b'{"id": "x", "value": NaN}',
            headers={"content-type": "application/json"},
        )
        _problem(nan, 400)
        deep = '{"id": "deep", "attributes": {"a": ' + "[" * 40 + "]" * 40 + "}}"
        refused = host.post("/v1/tasks", content=deep, headers={"content-type": "application/json"})
        assert _problem(refused, 422)["errors"][0]["field"] == "body"
        not_object = host.post("/v1/tasks", json=[1, 2])
        _problem(not_object, 422)
        _problem(host.get("/v1/tasks/deep"), 404)


def test_requests_without_a_valid_token_are_401(server: Server) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        response = anonymous.post("/v1/tasks", json={"id": "anon"})
        _problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = anonymous.get("/v1/stats", headers={"Authorization": "Bearer not-a-token"})
        _problem(wrong, 401)
        basic = anonymous.get("/v1/stats", headers={"Authorization": "Basic YTpi"})
        _problem(basic, 401)
        assert anonymous.get("/healthz").status_code == 200


def test_a_header_flood_is_refused_and_the_server_keeps_serving(server: Server) -> None:
    headers = {f"x-flood-{i}": "1" for i in range(150)} | auth("host")
    with httpx.Client(base_url=server.url) as client:
        _problem(client.get("/v1/stats", headers=headers), 431)
        huge = {"x-huge": "y" * 70_000} | auth("host")
        assert client.get("/v1/stats", headers=huge).status_code in (400, 431)
    with server.client("host") as host:
        assert host.get("/healthz").status_code == 200


def test_a_head_arriving_in_pieces_past_the_limit_is_refused_before_it_ends(
    server: Server,
) -> None:
    """A request head sent a line at a time and never finished: the server answers and
    closes once it has more than the header limit (16 KiB) plus slack, whichever HTTP
    parser uvicorn runs (h11: 400, httptools: 431), instead of buffering without end."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # A whole request first: the limit holds for the next head on a kept-alive connection.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        head, _, rest = first.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += sock.recv(65536)
        sock.sendall(b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        for _ in range(200):  # up to 200 KiB, far past the limit
            try:
                sock.sendall(b"X-Pad: " + b"a" * 1017 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.002)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    assert status in (400, 431), answer[:300]
    with server.client("host") as client:
        assert client.get("/healthz").status_code == 200


def test_ids_with_traversal_or_control_characters_change_nothing(server: Server) -> None:
    before = _stats(server)
    with server.client("host") as host:
        for path in (
            "/v1/tasks/..%2F..%2Fetc%2Fpasswd",
            "/v1/tasks/../../etc/passwd",
            "/v1/tasks/%00",
            "/v1/tasks/" + "x" * 300,
        ):
            response = host.get(path)
            assert response.status_code in (404, 422), (path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
        long_id = host.post("/v1/tasks", json={"id": "y" * 300})
        assert _problem(long_id, 422)["errors"][0]["field"] == "id"
        assert host.get("/healthz").status_code == 200
    after = _stats(server)
    assert after["open"] == before["open"]
    assert after["by_type"] == before["by_type"]


HOSTILE_BODIES = {
    "a 4,000-digit priority": b'{"id": "h1", "priority": ' + b"9" * 4000 + b"}",
    "a 400-digit priority": b'{"id": "h2", "priority": ' + b"9" * 400 + b"}",
    "an overflowing value": b'{"id": "h3", "value": 1e400}',
    "a lone surrogate id": b'{"id": "\\ud83d"}',
    "a lone surrogate skill": b'{"id": "h4", "skills": {"\\ud83d": 1}}',
    "nesting 10,000 deep": b'{"id": "h5", "attributes": {"a": '
    + b"[" * 10_000
    + b"]" * 10_000
    + b"}}",
    "not UTF-8": b'{"id": "\xff\xfe"}',
    "a boolean priority": b'{"id": "h6", "priority": true}',
    "an empty id": b'{"id": ""}',
    "a duplicate key": b'{"id": "h7", "id": "h8", "priority": "x"}',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_hostile_bodies_are_refused_cleanly_and_change_nothing(server: Server, case: str) -> None:
    before = _stats(server)
    with server.client("host") as host:
        response = host.post(
            "/v1/tasks", content=HOSTILE_BODIES[case], headers={"content-type": "application/json"}
        )
        body = _problem(response, response.status_code)
        assert response.status_code in (400, 413, 422), (case, body)
        assert len(response.content) < 4000, case
        assert host.get("/healthz").status_code == 200
    after = _stats(server)
    assert (after["open"], after["by_type"]) == (before["open"], before["by_type"])


def test_too_many_requests_in_flight_is_503_with_retry_after(tmp_path: Path) -> None:
    server = start_server(tmp_path, tokens=False, config="[limits]\nmax_in_flight = 1\n")
    try:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as stuck:
            # A request whose body never finishes keeps its slot taken.
            stuck.sendall(
                b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
            time.sleep(0.3)
            with server.client() as client:
                busy = client.post("/v1/tasks", json={"id": "busy"})
                _problem(busy, 503)
                assert busy.headers["retry-after"] == "1"
        time.sleep(0.3)
        with server.client() as client:
            assert client.post("/v1/tasks", json={"id": "busy"}).status_code == 201
    finally:
        assert server.terminate() == 0, server.stderr()


# ---------------------------------------------------------------------- authorisation


def test_every_route_has_an_authorisation_rule(tmp_path: Path) -> None:
    app = build_app(ServeSettings(journal=tmp_path / "unused.sqlite"))
    rules = route_rules(app)
    served = {(method, route.path) for route in app.routes for method in route.methods or ()}
    served -= {("HEAD", path) for _, path in served}
    assert served == set(rules)
    for command in COMMANDS.values():
        assert rules[command.route] == command.roles


def _probe_path(path: str, agent: str) -> str:
    return path.replace("{task}", "probe-task").replace("{agent}", agent)


def test_every_role_on_every_route_gets_exactly_its_rule(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        rules = route_rules(build_app(ServeSettings(journal=tmp_path / "unused.sqlite")))
        with server.client("admin") as admin:
            assert admin.post("/v1/agents", json={"id": "ann"}).status_code == 201
            assert admin.post("/v1/agents", json={"id": "bob"}).status_code == 201
        roles = (None, "admin", "host", "supervisor", "agent")
        clients = {role: httpx.Client(base_url=server.url, timeout=10) for role in roles}
        for (method, path), rule in sorted(rules.items()):
            for role in roles:
                for agent in ("ann", "bob"):
                    headers = auth(role) if role else {}
                    url = _probe_path(path, agent)
                    with clients[role].stream(method, url, headers=headers) as response:
                        status = response.status_code
                    where = (method, path, role, agent, status)
                    if rule == PUBLIC:
                        assert status == 200, where
                    elif role is None:
                        assert status == 401, where
                    elif role not in rule:
                        assert status == 403, where
                    elif (
                        role == "agent"
                        and "{agent}" in path
                        and agent == "bob"
                        and "argument" in COMMANDS[_command_of(method, path)].agent_scope
                    ):
                        assert status == 403, where  # another agent's resource
                    else:
                        assert status not in (401, 403), where
        for client in clients.values():
            client.close()
    finally:
        assert server.terminate() == 0, server.stderr()


def _command_of(method: str, path: str) -> str:
    return next(c.name for c in COMMANDS.values() if c.route == (method, path))


def test_an_agent_may_answer_and_complete_only_its_own_offers_and_tasks(server: Server) -> None:
    with (
        server.client("host") as host,
        server.client("agent") as ann,
        server.client("agent_bob") as bob,
    ):
        assert ann.put("/v1/agents/ann/state", json={"state": "ready"}).status_code == 200
        made = host.post("/v1/tasks", json={"id": "own-1", "skills": {"billing": 1}})
        assert made.json()["agent"] == "ann"
        _problem(bob.post("/v1/offers/own-1/accept", json={}), 403)
        _problem(bob.post("/v1/offers/own-1/accept", json={"agent": "ann"}), 403)
        _problem(bob.get("/v1/agents/ann/offers"), 403)
        _problem(bob.put("/v1/agents/ann/state", json={"state": "offline"}), 403)
        assert host.get("/v1/tasks/own-1").json()["state"] == "offered"
        assert ann.post("/v1/offers/own-1/accept", json={}).status_code == 200
        _problem(bob.post("/v1/tasks/own-1/complete"), 403)
        _problem(host.post("/v1/agents", json={"id": "eve"}), 403)
        assert ann.post("/v1/tasks/own-1/complete").json()["state"] == "completed"
        assert ann.put("/v1/agents/ann/state", json={"state": "offline"}).status_code == 200


# ---------------------------------------------------------------------- the rest of the surface


def test_openapi_describes_every_command_route_with_its_models(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for command in COMMANDS.values():
        method, path = command.route
        operation = document["paths"][path][method.lower()]
        assert operation["operationId"] == command.name
        assert "422" in operation["responses"]
    submit = document["paths"]["/v1/tasks"]["post"]["requestBody"]["content"]
    assert submit["application/json"]["schema"] == {"$ref": "#/components/schemas/TaskSpec"}
    assert "priority" in document["components"]["schemas"]["TaskSpec"]["properties"]


def test_health_and_readiness(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready"
        assert ready["durable_position"] == ready["position"]


def test_sigterm_stops_cleanly_with_a_snapshot_and_everything_acknowledged_kept(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path, tokens=False)
    with server.client() as client:
        for i in range(20):
            assert client.post("/v1/tasks", json={"id": f"keep-{i}"}).status_code == 201
    assert server.terminate() == 0, server.stderr()
    again = start_server(tmp_path, tokens=False)
    try:
        with again.client() as client:
            assert client.get("/v1/stats").json()["open"] == 20
            assert client.get("/v1/tasks/keep-19").json()["state"] == "queued"
    finally:
        assert again.terminate() == 0
    from valueroute.journal import SQLiteStore

    store = SQLiteStore(tmp_path / "journal.sqlite")
    try:
        assert next(store.snapshots()).position == 20
    finally:
        store.close()


def test_the_timer_task_times_out_an_unanswered_offer_as_a_journaled_command(
    tmp_path: Path,
) -> None:
    config = "[engine]\noffer_timeout = 0.3\nreject_cooldown = 60\n"
    server = start_server(tmp_path, tokens=False, config=config)
    try:
        with server.client() as client:
            assert client.post("/v1/agents?ready=true", json={"id": "ann"}).status_code == 201
            assert client.post("/v1/tasks", json={"id": "late"}).json()["state"] == "offered"
            deadline = time.monotonic() + 5
            while client.get("/v1/tasks/late").json()["state"] == "offered":
                assert time.monotonic() < deadline, "the offer never timed out"
                time.sleep(0.05)
            assert client.get("/v1/tasks/late").json()["state"] == "queued"
            stats = client.get("/v1/stats").json()
            assert stats["by_type"]["task"]["offer_timed_out"] == 1
    finally:
        server.kill()
    again = start_server(tmp_path, tokens=False, config=config)
    try:
        with again.client() as client:
            assert client.get("/v1/tasks/late").json()["state"] == "queued"
            stats = client.get("/v1/stats").json()
            assert stats["by_type"]["task"]["offer_timed_out"] == 1
    finally:
        assert again.terminate() == 0, again.stderr()


def test_responses_validate_against_the_openapi_schemas(server: Server) -> None:
    """The document's schemas are valid JSON Schema (2020-12, as OpenAPI 3.1 says) and the
    service's real answers satisfy the schemas it declares for them."""
    import jsonschema
    from referencing import Registry, Resource

    with server.client("host") as host:
        document = host.get("/openapi.json").json()
        schemas = document["components"]["schemas"]
        for schema in schemas.values():
            jsonschema.Draft202012Validator.check_schema(schema)
        dialect = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        registry = Registry().with_resource(
            "urn:openapi", Resource.from_contents({**dialect, **document})
        )

        def check(response: httpx.Response, method: str, path: str) -> None:
            operation = document["paths"][path][method]
            declared = operation["responses"][str(response.status_code)]["content"]
            media = response.headers["content-type"]
            reference = declared[media]["schema"]["$ref"]
            validator = jsonschema.Draft202012Validator(
                {"$ref": "urn:openapi" + reference}, registry=registry
            )
            validator.validate(response.json())

        made = host.post("/v1/tasks", json={"id": "schema-1", "skills": {"thai": 1}})
        check(made, "post", "/v1/tasks")
        check(host.get("/v1/tasks/schema-1"), "get", "/v1/tasks/{task}")
        check(host.get("/v1/tasks/nope"), "get", "/v1/tasks/{task}")
        check(host.get("/v1/tasklist"), "get", "/v1/tasklist")
        check(host.get("/v1/stats"), "get", "/v1/stats")
        check(host.get("/v1/queues"), "get", "/v1/queues")
        check(host.post("/v1/tasks", json={"id": 3}), "post", "/v1/tasks")
        check(host.get("/v1/agents/ann/offers"), "get", "/v1/agents/{agent}/offers")
