"""The ASGI application: routes derived from the command vocabulary, auth, limits, problems.

Every command's route is a small raw ASGI application (:class:`_CommandRoute`):
it reads the request from the ASGI scope and messages and answers with two
ASGI messages, with no Request or Response object per request. The app
(:class:`ServiceApp`, a Starlette application) hands a request whose method
and path match a command's route straight to that route, ahead of
Starlette's middleware and routing; everything else (the event stream,
health, the OpenAPI document, the page, ``HEAD``, a mounted root path, and
every 404 and 405) goes through Starlette, which lists the same command
routes, so both ways reach the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from valueroute._documents import json_too_deep
from valueroute.agents import Agent
from valueroute.commands import COMMANDS, Command, Role
from valueroute.engine import Engine, Offer
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
from valueroute.serve._settings import Limits, Principal, ServeSettings
from valueroute.serve._views import (
    agent_view,
    offer_view,
    offers_view,
    queues_view,
    stats_view,
    task_view,
    tasklist_view,
)
from valueroute.task import Task

__all__ = ["PUBLIC", "ServiceApp", "build_app", "route_rules"]

PUBLIC: Literal["public"] = "public"
"""The rule of a route anyone may call (health, readiness, the OpenAPI document, the page)."""

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Built once: json.dumps with options builds an encoder per call. The output
# is json.dumps(data, separators=(",", ":"), allow_nan=...)'s.
_encode_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_encode_problem = json.JSONEncoder(separators=(",", ":")).encode

RawHeaders = list[tuple[bytes, bytes]]


# ---------------------------------------------------------------------- replies


class _Reply:
    """A response as its two ASGI messages' contents: status, raw headers, body.

    The headers are Starlette's for a ``Response(body, status, headers,
    media_type)``: the given ones (names lower-cased), then
    ``content-length`` and ``content-type`` unless given.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, body: bytes, media: str, headers: Mapping[str, str] | None = None
    ) -> None:
        raw: RawHeaders = []
        if headers:
            raw = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers.items()
            ]
            given = {name for name, _ in raw}
            if b"content-length" not in given:
                raw.append((b"content-length", str(len(body)).encode("latin-1")))
            if b"content-type" not in given:
                raw.append((b"content-type", media.encode("latin-1")))
        else:
            raw = [
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"content-type", media.encode("latin-1")),
            ]
        self.status = status
        self.headers = raw
        self.body = body

    async def send(self, send: Send) -> None:
        """Answer with this reply. O(size)."""
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})

    def response(self) -> Response:
        """The same reply as a Starlette response (for Starlette's own endpoints)."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers = list(self.headers)
        return response


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status, _encode_json(data).encode(), _JSON, headers)


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


class _Disconnected(Exception):
    """The client went away while its request body was being read: nobody to answer."""


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


def _problem_body(
    status: int,
    detail: str,
    errors: list[tuple[str, Any, str]] | None,
    extra: Mapping[str, Any] | None,
) -> bytes:
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
    return _encode_problem(body).encode()


def _problem_reply(
    status: int,
    detail: str,
    *,
    errors: list[tuple[str, Any, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> _Reply:
    return _Reply(status, _problem_body(status, detail, errors, extra), _PROBLEM, headers)


def problem(
    status: int,
    detail: str,
    *,
    errors: list[tuple[str, Any, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An RFC 9457 ``application/problem+json`` response; ``extra`` adds members to it."""
    return Response(
        _problem_body(status, detail, errors, extra),
        status_code=status,
        media_type=_PROBLEM,
        headers=dict(headers or {}),
    )


def _error_reply(exc: Exception) -> _Reply:
    """The problem for an error of the engine, the journal or the service; any other
    exception is raised again."""
    if isinstance(exc, _Refusal):
        return _problem_reply(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, ServiceUnavailableError):
        headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return _problem_reply(503, str(exc), headers=headers, extra=exc.details)
    if isinstance(exc, JournalStateError):
        return _problem_reply(503, str(exc))
    if isinstance(exc, InvalidInputError):
        return _problem_reply(422, str(exc), errors=exc.errors)
    if isinstance(exc, UnknownTaskError | UnknownAgentError):
        return _problem_reply(404, str(exc))
    if isinstance(exc, VersionConflictError):
        return _problem_reply(412, str(exc))
    if isinstance(
        exc, DuplicateTaskError | DuplicateAgentError | InvalidTransitionError | CapacityError
    ):
        return _problem_reply(409, str(exc))
    if isinstance(exc, ValueRouteError):
        return _problem_reply(422, str(exc))
    raise exc


_INTERNAL_ERROR = _problem_reply(500, "internal error")


# ---------------------------------------------------------------------- request parsing


class _Head:
    """The request headers the service reads (the first of each name), from the ASGI
    scope, within the limits on their number and size."""

    __slots__ = ("authorization", "content_length", "content_type", "if_match", "last_event_id")

    def __init__(self, scope: Scope, limits: Limits) -> None:
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        if len(raw) > limits.max_headers:
            raise _Refusal(
                431, f"headers: {len(raw)} lines (expected at most {limits.max_headers})"
            )
        size = 0
        authorization = length = media = match = resume = None
        for name, value in raw:
            size += len(name) + len(value)
            if name == b"authorization":
                if authorization is None:
                    authorization = value
            elif name == b"content-length":
                if length is None:
                    length = value
            elif name == b"content-type":
                if media is None:
                    media = value
            elif name == b"if-match":
                if match is None:
                    match = value
            elif name == b"last-event-id" and resume is None:
                resume = value
        if size > limits.max_header_bytes:
            raise _Refusal(
                431, f"headers: {size} bytes (expected at most {limits.max_header_bytes})"
            )
        self.authorization = None if authorization is None else authorization.decode("latin-1")
        self.content_length = None if length is None else length.decode("latin-1")
        self.content_type = None if media is None else media.decode("latin-1")
        self.if_match = None if match is None else match.decode("latin-1")
        self.last_event_id = None if resume is None else resume.decode("latin-1")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Built once (json.loads with an option builds a decoder per call); used as
# json.loads(body, parse_constant=_no_constants) would use it.
_decode_json = json.JSONDecoder(parse_constant=_no_constants).decode


async def _read_json(receive: Receive, head: _Head, limits: Limits) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` when empty), within the limits."""
    length = head.content_length
    if length is not None:
        if not length.isdigit():
            raise _Refusal(400, f"content-length: got {bounded_repr(length)} (expected digits)")
        if int(length) > limits.max_body_bytes:
            raise _Refusal(
                413,
                f"body: {length} bytes (expected at most {limits.max_body_bytes})",
                errors=[("body", f"{length} bytes", f"at most {limits.max_body_bytes} bytes")],
            )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
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
    media = (head.content_type or "").split(";", 1)[0].strip().lower()
    if media != _JSON and not (media.startswith("application/") and media.endswith("+json")):
        raise _Refusal(
            415,
            f"content-type: got {bounded_repr(media or None)} (expected {_JSON})",
            errors=[("content-type", media, _JSON)],
        )
    if json_too_deep(body, limits.max_json_depth):
        raise _Refusal(
            422,
            f"body: nested deeper than {limits.max_json_depth} levels "
            f"(expected at most {limits.max_json_depth})",
            errors=[("body", "deeply nested JSON", f"at most {limits.max_json_depth} levels")],
        )
    try:
        data = _decode_json(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise _Refusal(400, f"body: not JSON ({bounded_repr(str(exc), 120)})") from None
    if not isinstance(data, dict):
        raise _Refusal(
            422,
            f"body: got a JSON {type(data).__name__} (expected a JSON object)",
            errors=[("body", data, "a JSON object")],
        )
    return data


def _if_match(header: str | None) -> int | None:
    """The task version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``)."""
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


def _authenticate(head: _Head, settings: ServeSettings, roles: frozenset[Role]) -> Principal:
    principal = settings.principal(head.authorization)
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
    command: Command,
    scope: Scope,
    path_params: Mapping[str, str],
    head: _Head,
    body: dict[str, Any],
    principal: Principal,
) -> Any:
    values: dict[str, Any] = {}
    if command.body is not None:
        # Validated on its own, so errors name the body's fields ("priority",
        # not "spec.priority"): the body is the spec.
        model = command.body_model
        values[command.body] = model.model_validate(body) if model is not None else body
    else:
        values.update(body)
    query: bytes = scope["query_string"]
    if query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name not in command.query:
                raise _Refusal(
                    422,
                    f"query: got parameter {bounded_repr(name)} "
                    f"(expected only {list(command.query) or 'none'})",
                    errors=[("query", name, f"one of {list(command.query)}")],
                )
            values[name] = value
    for name in command.path_arguments:
        given = path_params[name]
        if name in values and values[name] != given:
            raise _Refusal(
                422,
                f"{name}: the body says {bounded_repr(values[name])}, "
                f"the path {bounded_repr(given)} (expected the id only in the path)",
                errors=[(name, values[name], "the id in the path")],
            )
        values[name] = given
    if command.name == "update":
        version = _if_match(head.if_match)
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


def _render_result(engine: Engine, result: Any) -> Any:
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


class _CommandRoute:
    """The route of one command or view, as a raw ASGI application.

    Starlette's router calls it with the path's arguments in
    ``scope["path_params"]``; :class:`ServiceApp` calls :meth:`handle` with
    them directly. Every refusal is a problem document; an unexpected error
    answers ``500`` and is raised again, for the server to log.
    """

    __slots__ = ("command", "service")

    def __init__(self, command: Command, service: EngineService) -> None:
        self.command = command
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send, scope.get("path_params", {}))

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, path_params: Mapping[str, str]
    ) -> None:
        """Answer one request. Cost: the command's, plus O(size of the request)."""
        try:
            reply = await self._reply(scope, receive, path_params)
        except _Disconnected:
            return
        except Exception:
            await _INTERNAL_ERROR.send(send)
            raise
        await reply.send(send)

    async def _reply(
        self, scope: Scope, receive: Receive, path_params: Mapping[str, str]
    ) -> _Reply:
        service = self.service
        settings = service.settings
        limits = settings.limits
        if service.in_flight >= limits.max_in_flight:
            return _problem_reply(
                503,
                f"{service.in_flight} requests in flight (expected at most "
                f"{limits.max_in_flight}); retry shortly",
                headers={"Retry-After": "1"},
            )
        command = self.command
        service.in_flight += 1
        try:
            head = _Head(scope, limits)
            principal = _authenticate(head, settings, command.roles)
            body = (
                await _read_json(receive, head, limits) if scope["method"] in _BODY_METHODS else {}
            )
            arguments = _arguments(command, scope, path_params, head, body, principal)
            return await _run(command, arguments, principal, service)
        except _Disconnected:
            raise
        except Exception as exc:  # noqa: BLE001 - every error becomes a problem response
            return _error_reply(exc)
        finally:
            service.in_flight -= 1


async def _run(
    command: Command, arguments: Any, principal: Principal, service: EngineService
) -> _Reply:
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
        scope = request.scope
        try:
            head = _Head(scope, limits)
            principal = _authenticate(head, settings, command.roles)
            arguments = _arguments(command, scope, request.path_params, head, {}, principal)
            after = arguments.after
            resume = head.last_event_id
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
            return _error_reply(exc).response()
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


# ---------------------------------------------------------------------- dispatch


class _CommandPaths:
    """Finds the command route of a method and path as Starlette's router would (the
    first route in order whose path and method match), without a regular expression.

    Routes are grouped by method, number of path segments and which segments
    are literal; within a group one dictionary look-up of the literal
    segments finds the route. ``None`` for anything a command route does not
    take, including the event stream (a Starlette endpoint). O(number of
    groups for the method and length), one or two.
    """

    def __init__(self, routes: list[tuple[str, str, _CommandRoute | None]]) -> None:
        groups: dict[tuple[str, int], dict[tuple[int, ...], _Group]] = {}
        for order, (method, path, route) in enumerate(routes):
            parts = path.split("/")
            literal = tuple(i for i, part in enumerate(parts) if not part.startswith("{"))
            named = tuple((i, part[1:-1]) for i, part in enumerate(parts) if part.startswith("{"))
            group = groups.setdefault((method, len(parts)), {}).get(literal)
            if group is None:
                group = groups[(method, len(parts))][literal] = _Group(literal)
            group.routes.setdefault(group.key(parts), (order, named, route))
        self._groups = {where: tuple(found.values()) for where, found in groups.items()}

    def match(self, method: str, path: str) -> tuple[_CommandRoute, dict[str, str]] | None:
        """The route and its path arguments, or ``None``."""
        parts = path.split("/")
        groups = self._groups.get((method, len(parts)))
        if groups is None:
            return None
        best: tuple[int, tuple[tuple[int, str], ...], _CommandRoute | None] | None = None
        for group in groups:
            found = group.routes.get(group.key(parts))
            # A segment in the place of a path argument is never empty.
            if (
                found is not None
                and (best is None or found[0] < best[0])
                and all(parts[i] for i, _ in found[1])
            ):
                best = found
        if best is None or best[2] is None:
            return None
        return best[2], {name: parts[i] for i, name in best[1]}


class _Group:
    """Routes of one method and length with the same literal segments' positions."""

    __slots__ = ("key", "routes")

    def __init__(self, literal: tuple[int, ...]) -> None:
        self.key: Callable[[list[str]], Any] = operator.itemgetter(*literal)
        self.routes: dict[Any, tuple[int, tuple[tuple[int, str], ...], _CommandRoute | None]] = {}


class ServiceApp(Starlette):
    """The service's ASGI application (from :func:`build_app`): Starlette, with the
    command routes reached directly.

    A request whose method and path are a command's route (``POST
    /v1/tasks``, ``POST /v1/offers/t1/accept``, ``GET /v1/tasks/t1``...)
    goes straight to that route, past Starlette's middleware, router and
    request objects; the route answers every error itself, as a problem
    document. Everything else is Starlette's, and its router lists the same
    routes.
    """

    def __init__(self, *, commands: _CommandPaths, **options: Any) -> None:
        super().__init__(**options)
        self._commands = commands

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self._commands.match(scope["method"], scope["path"])
            if found is not None:
                route, path_params = found
                await route.handle(scope, receive, send, path_params)
                return
        await super().__call__(scope, receive, send)


def _health(service: EngineService) -> Handler:
    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"}).response()

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
        ).response()

    return readyz


def route_rules(app: Starlette) -> dict[tuple[str, str], frozenset[Role] | Literal["public"]]:
    """Who may call each route of an app from :func:`build_app`: ``(method, path)`` -> roles.

    Built with the routes, from the same command list; a route without an
    entry here would be a route without an authorisation rule.
    """
    rules: dict[tuple[str, str], frozenset[Role] | Literal["public"]] = app.state.route_rules
    return dict(rules)


def build_app(settings: ServeSettings) -> ServiceApp:
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
    direct: list[tuple[str, str, _CommandRoute | None]] = []
    for command in COMMANDS.values():
        method, path = command.route
        if command.name == "events":
            routes.append(Route(path, _events_endpoint(command, service), methods=[method]))
            direct.append((method, path, None))
        else:
            route = _CommandRoute(command, service)
            routes.append(Route(path, route, methods=[method], name=command.name))
            direct.append((method, path, route))
        rules[(method, path)] = command.roles

    async def openapi(request: Request) -> Response:
        return _json(openapi_document()).response()

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

    app = ServiceApp(
        commands=_CommandPaths(direct),
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.service = service
    app.state.settings = settings
    app.state.route_rules = rules
    return app
