"""The ASGI application: routes derived from the command vocabulary, auth, limits, problems."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from valueroute.commands import COMMANDS, Command, Role
from valueroute.engine import Engine
from valueroute.errors import (
    CapacityError,
    DuplicateAgentError,
    DuplicateTaskError,
    InvalidInputError,
    InvalidTransitionError,
    UnknownAgentError,
    UnknownTaskError,
    ValueRouteError,
    VersionConflictError,
    bounded_repr,
)
from valueroute.journal import JournalStateError
from valueroute.serve._openapi import openapi_document
from valueroute.serve._page import SUPERVISOR_PAGE
from valueroute.serve._service import EngineService, ServiceUnavailableError
from valueroute.serve._settings import Principal, ServeSettings
from valueroute.serve._views import (
    agent_view,
    offer_view,
    offers_view,
    queues_view,
    stats_view,
    task_view,
    tasklist_view,
)

__all__ = ["PUBLIC", "build_app", "route_rules"]

PUBLIC: Literal["public"] = "public"
"""The rule of a route anyone may call (health, readiness, the OpenAPI document, the page)."""

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


# ---------------------------------------------------------------------- problems


class _Refusal(Exception):
    """A request refused before it reached the engine (auth, limits, malformed body)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[tuple[str, Any, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = dict(headers or {})


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[tuple[str, Any, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An RFC 9457 ``application/problem+json`` response; ``extra`` adds members to it."""
    title = _TITLES.get(status, "Error")
    body = {
        "type": f"urn:valueroute:problem:{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [
            {
                "field": str(field),
                "value": value if isinstance(value, str) else bounded_repr(value),
                "expected": str(expected),
            }
            for field, value, expected in errors or []
        ],
    }
    for name, value in (extra or {}).items():
        body.setdefault(name, value)
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=_PROBLEM,
        headers=dict(headers or {}),
    )


def _error_response(exc: Exception) -> Response:
    """The problem response for an error of the engine, the journal or the service."""
    if isinstance(exc, _Refusal):
        return problem(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, ServiceUnavailableError):
        headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return problem(503, str(exc), headers=headers, extra=exc.details)
    if isinstance(exc, JournalStateError):
        return problem(503, str(exc))
    if isinstance(exc, InvalidInputError):
        return problem(422, str(exc), errors=exc.errors)
    if isinstance(exc, UnknownTaskError | UnknownAgentError):
        return problem(404, str(exc))
    if isinstance(exc, VersionConflictError):
        return problem(412, str(exc))
    if isinstance(
        exc, DuplicateTaskError | DuplicateAgentError | InvalidTransitionError | CapacityError
    ):
        return problem(409, str(exc))
    if isinstance(exc, ValueRouteError):
        return problem(422, str(exc))
    raise exc


# ---------------------------------------------------------------------- request parsing


def _too_deep(body: bytes, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (strings skipped). O(len(body))."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def _read_json(request: Request, settings: ServeSettings) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` when empty), within the limits."""
    limits = settings.limits
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _Refusal(400, f"content-length: got {bounded_repr(length)} (expected digits)")
        if int(length) > limits.max_body_bytes:
            raise _Refusal(
                413,
                f"body: {length} bytes (expected at most {limits.max_body_bytes})",
                errors=[("body", f"{length} bytes", f"at most {limits.max_body_bytes} bytes")],
            )
    # The ASGI messages read directly: Request.stream() costs a generator and
    # its bookkeeping per request, for the same bytes.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise _Refusal(
                413,
                f"body: more than {limits.max_body_bytes} bytes "
                f"(expected at most {limits.max_body_bytes})",
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not body.strip():
        return {}
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != _JSON and not (media.startswith("application/") and media.endswith("+json")):
        raise _Refusal(
            415,
            f"content-type: got {bounded_repr(media or None)} (expected {_JSON})",
            errors=[("content-type", media, _JSON)],
        )
    if _too_deep(body, limits.max_json_depth):
        raise _Refusal(
            422,
            f"body: nested deeper than {limits.max_json_depth} levels "
            f"(expected at most {limits.max_json_depth})",
            errors=[("body", "deeply nested JSON", f"at most {limits.max_json_depth} levels")],
        )
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise _Refusal(400, f"body: not JSON ({bounded_repr(str(exc), 120)})") from None
    if not isinstance(data, dict):
        raise _Refusal(
            422,
            f"body: got a JSON {type(data).__name__} (expected a JSON object)",
            errors=[("body", data, "a JSON object")],
        )
    return data


def _check_headers(request: Request, settings: ServeSettings) -> None:
    limits = settings.limits
    raw = request.headers.raw
    if len(raw) > limits.max_headers:
        raise _Refusal(431, f"headers: {len(raw)} lines (expected at most {limits.max_headers})")
    size = sum(len(name) + len(value) for name, value in raw)
    if size > limits.max_header_bytes:
        raise _Refusal(431, f"headers: {size} bytes (expected at most {limits.max_header_bytes})")


def _if_match(request: Request) -> int | None:
    """The task version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise _Refusal(
            422,
            f'If-Match: got {bounded_repr(header)} (expected a task version such as "3")',
            errors=[("If-Match", header, 'a task version such as "3"')],
        )
    return int(text)


def _authenticate(request: Request, settings: ServeSettings, roles: frozenset[Role]) -> Principal:
    principal = settings.principal(request.headers.get("authorization"))
    if principal is None:
        raise _Refusal(
            401,
            "authorization: missing or unknown bearer token (expected 'Authorization: Bearer "
            "<token>' with a token from the service's token file)",
            headers={"WWW-Authenticate": 'Bearer realm="valueroute"'},
        )
    if principal.role not in roles:
        raise _Refusal(
            403,
            f"role {principal.role!r} may not do this (expected one of {sorted(roles)})",
        )
    return principal


def _arguments(
    command: Command, request: Request, body: dict[str, Any], principal: Principal
) -> Any:
    values: dict[str, Any] = {}
    if command.body is not None:
        # Validated on its own, so errors name the body's fields ("priority",
        # not "spec.priority"): the body is the spec.
        model = command.arguments.model_fields[command.body].annotation
        values[command.body] = model.model_validate(body) if model is not None else body
    else:
        values.update(body)
    for name, value in request.query_params.multi_items():
        if name not in command.query:
            raise _Refusal(
                422,
                f"query: got parameter {bounded_repr(name)} "
                f"(expected only {list(command.query) or 'none'})",
                errors=[("query", name, f"one of {list(command.query)}")],
            )
        values[name] = value
    for name in command.path_arguments:
        given = request.path_params[name]
        if name in values and values[name] != given:
            raise _Refusal(
                422,
                f"{name}: the body says {bounded_repr(values[name])}, "
                f"the path {bounded_repr(given)} (expected the id only in the path)",
                errors=[(name, values[name], "the id in the path")],
            )
        values[name] = given
    if command.name == "update":
        version = _if_match(request)
        if version is not None:
            values["expected_version"] = version
    if principal.role == "agent" and "argument" in command.agent_scope:
        if values.get("agent") is None and command.name in ("accept", "reject"):
            values["agent"] = principal.agent
        if values.get("agent") != principal.agent:
            raise _Refusal(
                403,
                f"agent: got {bounded_repr(values.get('agent'))} "
                f"(expected {principal.agent!r}, the agent this token acts for)",
            )
    return command.arguments.model_validate(values)


def _holder_check(principal: Principal, task_id: str) -> Callable[[Engine], None]:
    def check(engine: Engine) -> None:
        engine.get(task_id)
        holder = engine.agent_of(task_id)
        if (holder is None or holder.id != principal.agent) and all(
            # A task offered to several agents at once is held by each of them.
            offer.agent.id != principal.agent
            for offer in engine.offers_of(task_id)
        ):
            raise _Refusal(
                403,
                f"task {task_id!r} is not held by {principal.agent!r}, the agent this token "
                "acts for (expected one of its own tasks)",
            )

    return check


# ---------------------------------------------------------------------- endpoints


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":"), allow_nan=False),
        status_code=status,
        media_type=_JSON,
        headers=dict(headers or {}),
    )


def _render_result(engine: Engine, result: Any) -> Any:
    from valueroute.agents import Agent
    from valueroute.engine import Offer
    from valueroute.task import Task

    if isinstance(result, Task):
        return task_view(engine, result)
    if isinstance(result, Agent):
        return agent_view(result)
    if isinstance(result, Offer):
        return {"offer": offer_view(result)}
    if isinstance(result, int):
        return {"fired": result}
    return {"offer": None} if result is None else {"status": "applied"}


def _known(task_id: str) -> Callable[[Engine], bool]:
    def known(engine: Engine) -> bool:
        try:
            engine.get(task_id)
        except UnknownTaskError:
            return False
        return True

    return known


Handler = Callable[[Request], Awaitable[Response]]


def _command_endpoint(command: Command, service: EngineService) -> Handler:
    settings = service.settings
    limits = settings.limits
    roles = command.roles

    async def endpoint(request: Request) -> Response:
        if service.in_flight >= limits.max_in_flight:
            return problem(
                503,
                f"{service.in_flight} requests in flight (expected at most "
                f"{limits.max_in_flight}); retry shortly",
                headers={"Retry-After": "1"},
            )
        service.in_flight += 1
        try:
            _check_headers(request, settings)
            principal = _authenticate(request, settings, roles)
            body = await _read_json(request, settings) if request.method in _BODY_METHODS else {}
            arguments = _arguments(command, request, body, principal)
            return await _run(command, arguments, principal, service)
        except Exception as exc:  # noqa: BLE001 - every error becomes a problem response
            return _error_response(exc)
        finally:
            service.in_flight -= 1

    endpoint.__name__ = command.name
    return endpoint


async def _run(
    command: Command, arguments: Any, principal: Principal, service: EngineService
) -> Response:
    name = command.name
    if command.mutates:
        before: Callable[[Engine], Any] | None = None
        if principal.role == "agent" and "holder" in command.agent_scope:
            before = _holder_check(principal, arguments.task)
        elif name == "submit":
            before = _known(arguments.spec.id)
        view, seen = await service.execute(command, arguments, _render_result, before=before)
        if name == "submit":
            headers = {"Location": f"/v1/tasks/{view['id']}", "ETag": f'"{view["version"]}"'}
            return _json(view, 200 if seen else 201, headers)
        if name == "add_agent":
            return _json(view, 201, {"Location": f"/v1/agents/{view['id']}"})
        if "version" in view:
            return _json(view, 200, {"ETag": f'"{view["version"]}"'})
        return _json(view)
    if name == "get_task":
        view = await service.read(lambda e: task_view(e, e.get(arguments.task), explain=True))
        return _json(view, 200, {"ETag": f'"{view["version"]}"'})
    if name == "get_agent":
        return _json(await service.read(lambda e: agent_view(e.agents.get(arguments.agent))))
    if name == "agent_offers":
        return _json(await service.read(lambda e: offers_view(e, arguments.agent)))
    if name == "tasklist":
        filters = arguments.model_dump()
        return _json(await service.read(lambda e: tasklist_view(e, filters)))
    if name == "statistics":
        return _json(await service.read(stats_view))
    if name == "queues":
        return _json(await service.read(queues_view))
    raise AssertionError(f"no endpoint for the view {name!r}")


def _events_endpoint(command: Command, service: EngineService) -> Handler:
    settings = service.settings
    limits = settings.limits

    async def events(request: Request) -> Response:
        try:
            _check_headers(request, settings)
            principal = _authenticate(request, settings, command.roles)
            arguments = _arguments(command, request, {}, principal)
            after = arguments.after
            resume = request.headers.get("last-event-id")
            if resume is not None:
                if not resume.strip().isdigit() or len(resume) > 18:
                    raise _Refusal(
                        422,
                        f"Last-Event-ID: got {bounded_repr(resume)} (expected an event's "
                        "sequence number)",
                        errors=[("Last-Event-ID", resume, "an event sequence number")],
                    )
                after = int(resume)
            if service.streams >= limits.max_streams:
                raise ServiceUnavailableError(
                    f"{service.streams} event streams open (expected at most {limits.max_streams})"
                )
            service.check_serving()
        except Exception as exc:  # noqa: BLE001 - every error becomes a problem response
            return _error_response(exc)
        start = service.last_published if after is None else after
        return StreamingResponse(
            _event_stream(service, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    events.__name__ = command.name
    return events


async def _event_stream(service: EngineService, after: int) -> AsyncIterator[bytes]:
    service.streams += 1
    keepalive = service.settings.limits.keepalive_seconds
    try:
        yield b"retry: 1000\n\n"
        last = after
        while True:
            oldest = service.oldest_buffered
            if last + 1 < oldest:
                # From before the buffer: at the start, or after a standby's
                # engine was rebuilt from the journal (its buffer starts again).
                older = await service.backfill(last, oldest)
                if older is None:
                    gap = json.dumps({"after": last, "before": oldest})
                    yield f"event: gap\ndata: {gap}\n\n".encode()
                else:
                    for seq, _kind, text in older:
                        yield f"id: {seq}\ndata: {text}\n\n".encode()
                last = oldest - 1
            news = service.news
            for seq, _kind, text in service.events_after(last):
                yield f"id: {seq}\ndata: {text}\n\n".encode()
                last = seq
            if service.stopping or service.failure is not None:
                return
            try:
                await asyncio.wait_for(news.wait(), timeout=keepalive)
            except TimeoutError:
                yield b": keepalive\n\n"
    finally:
        service.streams -= 1


def _health(service: EngineService) -> Handler:
    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    return healthz


def _readiness(service: EngineService) -> Handler:
    async def readyz(request: Request) -> Response:
        if not service.ready:
            if service.failure is None and not service.stopping and service.started:
                refusal = service.standby_refusal()
                return problem(
                    503,
                    f"not ready: {refusal}",
                    headers={"Retry-After": "1"},
                    extra={**refusal.details, "position": service.durable.position},
                )
            reason = service.failure or ("stopping" if service.stopping else "starting")
            return problem(503, f"not ready: {reason}", headers={"Retry-After": "1"})
        durable = service.durable
        return _json(
            {
                "status": "ready",
                "role": "leader",
                "term": service.leader_term,
                "position": durable.position,
                "durable_position": durable.durable_position,
                "commits": service.commits,
                "committed_commands": service.committed_commands,
                "webhook_delivered": service.webhook_delivered,
                "webhook_failures": service.webhook_failures,
            }
        )

    return readyz


def route_rules(app: Starlette) -> dict[tuple[str, str], frozenset[Role] | Literal["public"]]:
    """Who may call each route of an app from :func:`build_app`: ``(method, path)`` -> roles.

    Built with the routes, from the same command list; a route without an
    entry here would be a route without an authorisation rule.
    """
    rules: dict[tuple[str, str], frozenset[Role] | Literal["public"]] = app.state.route_rules
    return dict(rules)


def build_app(settings: ServeSettings) -> Starlette:
    """The ASGI application for ``settings``: routes, auth, limits, the engine's lifespan.

    Everything lives on the app (``app.state.service`` is its
    :class:`~valueroute.serve.EngineService`), so two apps can run side by
    side. The journal is opened (and recovered) when the server starts the
    app's lifespan, and committed, snapshotted and closed when it stops.
    """
    if not isinstance(settings, ServeSettings):
        raise InvalidInputError(
            f"settings: got {type(settings).__name__} (expected a ServeSettings)",
            [("settings", settings, "a ServeSettings")],
        )
    service = EngineService(settings)
    routes: list[Route] = []
    rules: dict[tuple[str, str], frozenset[Role] | Literal["public"]] = {}
    for command in COMMANDS.values():
        method, path = command.route
        factory = _events_endpoint if command.name == "events" else _command_endpoint
        routes.append(Route(path, factory(command, service), methods=[method]))
        rules[(method, path)] = command.roles

    async def openapi(request: Request) -> Response:
        return _json(openapi_document())

    async def page(request: Request) -> Response:
        return HTMLResponse(SUPERVISOR_PAGE)

    for path, endpoint in (
        ("/healthz", _health(service)),
        ("/readyz", _readiness(service)),
        ("/openapi.json", openapi),
        ("/", page),
    ):
        routes.append(Route(path, endpoint, methods=["GET"]))
        rules[("GET", path)] = PUBLIC

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        if status == 404:
            detail = f"no route {request.url.path!r} (see /openapi.json)"
        elif status == 405:
            detail = f"method {request.method} not allowed on {request.url.path!r}"
        return problem(status, str(detail))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.service = service
    app.state.settings = settings
    app.state.route_rules = rules
    return app
