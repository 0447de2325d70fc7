"""Properties of the service: any sequence of API calls answers with a client status (never a
500), and the journal it leaves rebuilds exactly the engine that answered; request-parsing
helpers agree with independent references."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute._documents import json_too_deep
from valueroute.journal import DurableEngine
from valueroute.serve import Principal, ServeSettings, TokenTable, build_app

TASKS = ("t0", "t1", "t2")
AGENTS = ("a0", "a1")
CLIENT_STATUSES = {200, 201, 404, 409, 412, 422}

operations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "submit",
                "add_agent",
                "state",
                "accept",
                "reject",
                "complete",
                "cancel",
                "hold",
                "resume",
                "defer",
                "update",
                "next",
                "remove_agent",
                "transfer",
                "revoke",
            ]
        ),
        st.sampled_from(TASKS),
        st.sampled_from(AGENTS),
        st.integers(min_value=0, max_value=2),
    ),
    max_size=30,
)


def _request(
    operation: tuple[str, str, str, int],
) -> tuple[str, str, dict[str, Any], dict[str, str]]:
    name, task, agent, number = operation
    states = ("ready", "not_ready", "offline")
    table: dict[str, tuple[str, str, dict[str, Any]]] = {
        "submit": ("POST", "/v1/tasks", {"id": task, "priority": number, "skills": {"s": 1}}),
        "add_agent": ("POST", "/v1/agents?ready=true", {"id": agent, "skills": {"s": 2}}),
        "state": ("PUT", f"/v1/agents/{agent}/state", {"state": states[number]}),
        "accept": ("POST", f"/v1/offers/{task}/accept", {"agent": agent}),
        "reject": ("POST", f"/v1/offers/{task}/reject", {"agent": agent}),
        "complete": ("POST", f"/v1/tasks/{task}/complete", {}),
        "cancel": ("POST", f"/v1/tasks/{task}/cancel", {}),
        "hold": ("POST", f"/v1/tasks/{task}/hold", {}),
        "resume": ("POST", f"/v1/tasks/{task}/resume", {}),
        "defer": ("POST", f"/v1/tasks/{task}/defer", {"until": 4e9 + number}),
        "update": ("PATCH", f"/v1/tasks/{task}", {"priority": number + 3}),
        "next": ("POST", f"/v1/agents/{agent}/next", {}),
        "remove_agent": ("DELETE", f"/v1/agents/{agent}", {}),
        "transfer": ("POST", f"/v1/tasks/{task}/transfer", {"skills": {"s": number}}),
        "revoke": ("POST", f"/v1/offers/{task}/revoke", {}),
    }
    method, path, body = table[name]
    headers = {"If-Match": f'"{number}"'} if name == "update" else {}
    return method, path, body, headers


async def _scenario(journal: Path, script: list[tuple[str, str, str, int]]) -> str:
    app = build_app(ServeSettings(journal=journal))
    service = app.state.service
    await service.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for operation in script:
                method, path, body, headers = _request(operation)
                response = await client.request(
                    method, path, json=body if method != "DELETE" else None, headers=headers
                )
                assert response.status_code in CLIENT_STATUSES, (operation, response.text)
                if response.status_code >= 400:
                    assert response.headers["content-type"] == "application/problem+json"
            assert (await client.get("/v1/stats")).status_code == 200
        service.engine._check()
        digest: str = service.engine.digest()
    finally:
        await service.stop()
    return digest


@settings(max_examples=60, deadline=None)
@given(script=operations)
def test_any_api_sequence_answers_cleanly_and_replays_to_the_same_engine(
    script: list[tuple[str, str, str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        journal = Path(scratch) / "journal.sqlite"
        served = asyncio.run(_scenario(journal, script))
        settings_ = ServeSettings(journal=journal)
        with DurableEngine.open(journal, settings_.build_engine) as rebuilt:
            assert rebuilt.digest() == served


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab[]{}"\\ ', max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='k[{"\\', max_size=3), children, max_size=3)
    ),
    max_leaves=40,
)


@given(document=json_values, limit=st.integers(min_value=1, max_value=8))
def test_the_depth_check_agrees_with_the_parsed_document(document: Any, limit: int) -> None:
    """Brackets inside strings (escaped quotes too) do not count; nesting does."""
    body = json.dumps(document).encode()
    assert json_too_deep(body, limit) == (_depth(document) > limit)
    assert json_too_deep(body.decode(), limit) == (_depth(document) > limit)


@given(guess=st.text(max_size=40))
def test_only_a_stored_token_authenticates(guess: str) -> None:
    table = TokenTable({"the-right-token": Principal("host")})
    expected = Principal("host") if guess == "the-right-token" else None
    assert table.authenticate(guess) == expected
