"""The command routes reached directly: the same route Starlette's router would pick, the same
answers as through Starlette, a 500 for an unexpected error, and the in-memory event buffer
against the events the engine sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import Match, Route

from valueroute.agents import Agent
from valueroute.commands import COMMANDS
from valueroute.engine import Engine
from valueroute.events import Event
from valueroute.serve import Limits, Principal, ServeSettings, TokenTable, build_app
from valueroute.serve._app import _CommandRoute
from valueroute.task import Task

TOKENS = {
    "admin-token-0001": Principal("admin"),
    "host-token-0002": Principal("host"),
    "supervisor-token-0003": Principal("supervisor"),
    "ann-token-0004": Principal("agent", "ann"),
}
ADMIN = {"Authorization": "Bearer admin-token-0001"}
HOST = {"Authorization": "Bearer host-token-0002"}
SUPERVISOR = {"Authorization": "Bearer supervisor-token-0003"}
ANN = {"Authorization": "Bearer ann-token-0004"}
JSON_HOST = {**HOST, "Content-Type": "application/json"}


# ---------------------------------------------------------------------- routing


def _literals() -> list[str]:
    words = {"", "v1", "x", "cancel", "accept", "tasks", "offers", "agents", "state"}
    for command in COMMANDS.values():
        words.update(part for part in command.route[1].split("/") if not part.startswith("{"))
    return sorted(words)


segments = st.one_of(
    st.sampled_from(_literals()),
    st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",))),
)
paths = st.one_of(
    st.lists(segments, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.tuples(
        st.sampled_from([command.route[1] for command in COMMANDS.values()]),
        segments,
        st.sampled_from(["", "/", "/x"]),
    ).map(
        lambda drawn: (drawn[0].replace("{task}", drawn[1]).replace("{agent}", drawn[1])) + drawn[2]
    ),
)
methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])


def _starlette_pick(routes: Sequence[Any], method: str, path: str) -> tuple[Any, dict[str, Any]]:
    """The first route Starlette's own matching takes fully, and its path arguments."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in routes:
        assert isinstance(route, Route)
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route.endpoint, child["path_params"]
    return None, {}


# Built once: routing never opens the journal.
ROUTED = build_app(ServeSettings(journal=Path("never-opened.sqlite")))


@settings(max_examples=400, deadline=None)
@given(method=methods, path=paths)
def test_a_command_path_finds_the_route_starlettes_router_finds(method: str, path: str) -> None:
    endpoint, params = _starlette_pick(ROUTED.routes, method, path)
    found = ROUTED._commands.match(method, path)
    if found is not None:
        assert found[0] is endpoint
        assert found[1] == params
    elif method != "HEAD" and isinstance(endpoint, _CommandRoute):
        # Left to Starlette, which reaches the same route: only a path ending in
        # a newline, which Starlette's patterns take ("$" matches before it).
        assert path.endswith("\n")
    # HEAD, the event stream and everything unrouted are Starlette's.
    if method == "HEAD" or endpoint is None or not isinstance(endpoint, _CommandRoute):
        assert found is None


def test_every_command_but_the_event_stream_is_reached_directly(tmp_path: Path) -> None:
    app = build_app(ServeSettings(journal=tmp_path / "journal.sqlite"))
    for command in COMMANDS.values():
        method, path = command.route
        found = app._commands.match(method, path.replace("{task}", "t1").replace("{agent}", "a1"))
        if command.name == "events":
            assert found is None
        else:
            assert found is not None
            assert found[0].command is command


# ---------------------------------------------------------------------- same answers


def _settings(journal: Path, **options: Any) -> ServeSettings:
    return ServeSettings(journal=journal, tokens=TokenTable(TOKENS), **options)


SCRIPT: list[tuple[str, str, dict[str, str], Any]] = [
    ("POST", "/v1/agents?ready=true", ADMIN, {"id": "ann", "skills": {"billing": 2}}),
    ("POST", "/v1/agents", ADMIN, {"id": "bob", "skills": {"billing": 1}}),
    ("POST", "/v1/tasks", HOST, {"id": "t1", "priority": 5, "skills": {"billing": 1}}),
    ("POST", "/v1/tasks", HOST, {"id": "t1", "priority": 5, "skills": {"billing": 1}}),
    ("POST", "/v1/tasks", HOST, {"id": "t1", "priority": 6, "skills": {"billing": 1}}),
    ("POST", "/v1/tasks", HOST, {"id": "t2", "priority": "high"}),
    ("POST", "/v1/tasks", HOST, {"id": "t2", "colour": "red"}),
    ("POST", "/v1/tasks", HOST, [1, 2]),
    ("POST", "/v1/tasks", JSON_HOST, b"{not json"),
    ("POST", "/v1/tasks", JSON_HOST, b'{"id": NaN}'),
    (
        "POST",
        "/v1/tasks",
        JSON_HOST,
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ),
    ("POST", "/v1/tasks", {}, {"id": "t3"}),
    ("POST", "/v1/tasks", {"Authorization": "Bearer wrong-token-0000"}, {"id": "t3"}),
    ("POST", "/v1/tasks", {"Authorization": "Basic admin-token-0001"}, {"id": "t3"}),
    ("POST", "/v1/tasks", SUPERVISOR, {"id": "t3"}),
    ("POST", "/v1/tasks?x=1", HOST, {"id": "t3"}),
    ("POST", "/v1/tasks", {**HOST, "Content-Type": "text/plain"}, b'{"id": "t3"}'),
    ("POST", "/v1/tasks", HOST, {"id": "t4", "attributes": {"note": "x" * 2000}}),
    ("GET", "/v1/tasks/t1", SUPERVISOR, None),
    ("GET", "/v1/tasks/nope", SUPERVISOR, None),
    ("GET", "/v1/agents/ann/offers", ANN, None),
    ("GET", "/v1/agents/bob/offers", ANN, None),
    ("POST", "/v1/offers/t1/accept", ANN, {}),
    ("POST", "/v1/offers/t1/accept", ANN, {"agent": "bob"}),
    ("POST", "/v1/offers/t1/accept", HOST, {"agent": "ann", "task": "t9"}),
    ("PATCH", "/v1/tasks/t1", {**HOST, "If-Match": '"99"'}, {"priority": 1}),
    ("PATCH", "/v1/tasks/t1", {**HOST, "If-Match": "soon"}, {"priority": 1}),
    ("POST", "/v1/tasks/t1/complete", ANN, {"wrap_up": 0}),
    ("POST", "/v1/tasks/t1/complete", ANN, {}),
    ("POST", "/v1/tasks/t2/hold", HOST, {}),
    ("POST", "/v1/tasks/t4/defer", HOST, {"until": "later"}),
    ("PUT", "/v1/agents/ann/state", ANN, {"state": "not_ready", "reason": "lunch"}),
    ("PUT", "/v1/agents/bob/state", ANN, {"state": "ready"}),
    ("POST", "/v1/agents/bob/next", HOST, {}),
    ("GET", "/v1/tasklist?n=5", SUPERVISOR, None),
    ("GET", "/v1/tasklist?colour=red", SUPERVISOR, None),
    ("GET", "/v1/stats", SUPERVISOR, None),
    ("GET", "/v1/queues", HOST, None),
    ("DELETE", "/v1/agents/bob", ADMIN, None),
    ("POST", "/v1/advance", ADMIN, {}),
    ("PUT", "/v1/policy", ADMIN, {"name": "aging_priority", "params": {"seconds_per_point": 30}}),
    ("PUT", "/v1/policy", ADMIN, {"name": "no-such-policy"}),
]


def _untimed(value: Any) -> Any:
    """``value`` with every number that is not an integer blanked: clock readings and
    scores, which two runs cannot share."""
    if isinstance(value, dict):
        return {key: _untimed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untimed(item) for item in value]
    return None if isinstance(value, float) else value


async def _answers(journal: Path, root_path: str) -> list[tuple[int, list[tuple[str, str]], Any]]:
    """The script's answers, sent to the app's root (directly) or under ``root_path``
    (Starlette's router, which strips it and reaches the same routes)."""
    app = build_app(_settings(journal))
    service = app.state.service
    await service.start()
    answers = []
    try:
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for method, path, headers, body in SCRIPT:
                content = body if isinstance(body, bytes) else None
                response = await client.request(
                    method,
                    root_path + path,
                    headers=headers,
                    json=None if content is not None or body is None else body,
                    content=content,
                )
                text = response.content
                answers.append(
                    (
                        response.status_code,
                        [(k, v) for k, v in response.headers.items() if k != "content-length"],
                        _untimed(json.loads(text)) if text else None,
                    )
                )
    finally:
        await service.stop()
    return answers


def test_the_direct_routes_answer_as_starlettes_routing_does(tmp_path: Path) -> None:
    direct = asyncio.run(_answers(tmp_path / "direct.sqlite", ""))
    routed = asyncio.run(_answers(tmp_path / "routed.sqlite", "/mounted"))
    statuses = [status for status, _, _ in direct]
    # The script reaches successes and every kind of refusal.
    assert {200, 201, 400, 401, 403, 404, 409, 412, 415, 422} <= set(statuses)
    for step, (ours, theirs) in enumerate(zip(direct, routed, strict=True)):
        assert ours == theirs, SCRIPT[step]
    for (status, headers, body), (method, path, _, _) in zip(direct, SCRIPT, strict=True):
        kind = dict(headers)["content-type"]
        if status >= 400:
            assert kind == "application/problem+json", (method, path)
            assert body["status"] == status
        else:
            assert kind == "application/json", (method, path)


def test_a_body_over_the_limit_and_too_many_headers_are_refused_directly(tmp_path: Path) -> None:
    async def run() -> list[int]:
        app = build_app(
            _settings(
                tmp_path / "journal.sqlite", limits=Limits(max_body_bytes=100, max_headers=12)
            )
        )
        await app.state.service.start()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                big = await client.post("/v1/tasks", headers=HOST, json={"id": "x" * 200})
                many = await client.post(
                    "/v1/tasks",
                    headers={**HOST, **{f"x-extra-{i}": "1" for i in range(12)}},
                    json={"id": "t"},
                )
                fine = await client.post("/v1/tasks", headers=HOST, json={"id": "t"})
                return [big.status_code, many.status_code, fine.status_code]
        finally:
            await app.state.service.stop()

    assert asyncio.run(run()) == [413, 431, 201]


# ---------------------------------------------------------------------- unexpected errors


class SelectionDown(RuntimeError):
    """The host's agent selection is unavailable."""


def _failing_selection(candidates: Sequence[Agent], task: Task | None, now: float) -> Agent:
    raise SelectionDown("the host's selection service is down")


def test_an_unexpected_error_answers_500_and_is_raised_for_the_server(tmp_path: Path) -> None:
    async def run(raise_errors: bool) -> httpx.Response:
        app = build_app(
            _settings(
                tmp_path / f"journal-{raise_errors}.sqlite",
                engine_factory=lambda clock: Engine(
                    clock=clock, agent_selection=_failing_selection
                ),
            )
        )
        await app.state.service.start()
        try:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_errors)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                for agent in ("ann", "bob"):
                    added = await client.post(
                        "/v1/agents?ready=true", headers=ADMIN, json={"id": agent, "skills": {}}
                    )
                    assert added.status_code == 201, added.text
                return await client.post("/v1/tasks", headers=HOST, json={"id": "t1"})
        finally:
            await app.state.service.stop()

    answer = asyncio.run(run(raise_errors=False))
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "internal error"
    with pytest.raises(SelectionDown):
        asyncio.run(run(raise_errors=True))


# ---------------------------------------------------------------------- event buffer


def _stored(events: list[Event]) -> list[tuple[int, str, str]]:
    return [(event.seq, event.kind.value, event.to_json()) for event in events]


async def _drive(journal: Path, buffer: int, tasks: range, seen: list[Event]) -> Any:
    """Run a service with an ``event_buffer`` of ``buffer``: submit and cancel ``tasks``,
    recording every event the engine sends; the service, still open."""
    app = build_app(_settings(journal, limits=Limits(event_buffer=buffer)))
    service = app.state.service
    await service.start()
    service.durable.subscribe(seen.append)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for number in tasks:
            assert (
                await client.post("/v1/tasks", headers=HOST, json={"id": f"t{number}"})
            ).status_code == 201
            assert (
                await client.post(f"/v1/tasks/t{number}/cancel", headers=HOST, json={})
            ).status_code == 200
    return service


@pytest.mark.parametrize("buffer", [1, 5, 64])
def test_the_event_buffer_holds_the_newest_events_the_engine_sent(
    tmp_path: Path, buffer: int
) -> None:
    async def run() -> None:
        seen: list[Event] = []
        service = await _drive(tmp_path / "journal.sqlite", buffer, range(20), seen)
        try:
            held = _stored(seen)[-buffer:]
            assert service.oldest_buffered == held[0][0]
            assert service.last_published == seen[-1].seq
            for after in range(-1, seen[-1].seq + 2):
                expected = [item for item in held if item[0] > after]
                assert service.events_after(after) == expected, after
        finally:
            await service.stop()

    asyncio.run(run())


def test_events_rebuilt_after_a_restart_go_in_front_of_the_live_ones(tmp_path: Path) -> None:
    async def run() -> None:
        journal = tmp_path / "journal.sqlite"
        first: list[Event] = []
        service = await _drive(journal, 1000, range(6), first)
        await service.stop()
        later: list[Event] = []
        service = await _drive(journal, 1000, range(6, 8), later)
        try:
            assert service.oldest_buffered == later[0].seq
            older = await service.backfill(0, service.oldest_buffered)
            assert older is not None
            assert [seq for seq, _, _ in older] == [event.seq for event in first]
            assert service.oldest_buffered == 1
            everything = older + _stored(later)
            for after in range(later[-1].seq + 1):
                assert service.events_after(after) == everything[after:], after
        finally:
            await service.stop()

    asyncio.run(run())
