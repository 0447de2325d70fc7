"""The OpenAPI 3.1 document, generated from the command vocabulary and the pydantic models."""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from valueroute import __version__
from valueroute.commands import COMMANDS, Command
from valueroute.serve._views import (
    AdvanceView,
    AgentView,
    HealthView,
    NextView,
    OffersView,
    Problem,
    QueuesView,
    StatsView,
    TaskListView,
    TaskView,
)

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"

_RESPONSES: dict[str, type[BaseModel]] = {
    "submit": TaskView,
    "update": TaskView,
    "cancel": TaskView,
    "hold": TaskView,
    "resume": TaskView,
    "defer": TaskView,
    "transfer": TaskView,
    "complete": TaskView,
    "end_wrap_up": TaskView,
    "accept": TaskView,
    "reject": TaskView,
    "revoke": TaskView,
    "add_agent": AgentView,
    "remove_agent": AgentView,
    "set_agent_state": AgentView,
    "next_task": NextView,
    "advance": AdvanceView,
    "set_policy": HealthView,
    "set_rules": HealthView,
    "get_task": TaskView,
    "get_agent": AgentView,
    "agent_offers": OffersView,
    "tasklist": TaskListView,
    "statistics": StatsView,
    "queues": QueuesView,
}

_ERRORS = {
    "401": "No token, or an unknown one",
    "403": "The token's role may not do this, or it is another agent's",
    "404": "No task or agent with that id",
    "409": "A conflict with the current state (duplicate id, invalid transition)",
    "412": "If-Match names a version that is no longer current",
    "413": "The body is larger than the configured limit",
    "415": "The body is not JSON",
    "422": "Invalid arguments: the errors list names each field, value and expectation",
    "503": "Too many requests in flight, or the service is stopping (see Retry-After)",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _body_schema(command: Command, schemas: dict[str, Any]) -> dict[str, Any] | None:
    method = command.route[0]
    if method not in ("POST", "PUT", "PATCH"):
        return None
    if command.body is not None:
        field = command.arguments.model_fields[command.body]
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{command.name}: the body argument is not a pydantic model")
        return _ref(model)
    schema: dict[str, Any] = copy.deepcopy(schemas[command.arguments.__name__])
    hidden = set(command.path_arguments) | set(command.query)
    if command.name == "update":
        hidden.add("expected_version")  # sent as If-Match
    properties = schema.get("properties", {})
    for name in hidden:
        properties.pop(name, None)
    schema["required"] = [name for name in schema.get("required", []) if name not in hidden]
    if not schema["required"]:
        del schema["required"]
    schema.pop("title", None)
    return schema


def _parameters(command: Command, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    properties = schemas[command.arguments.__name__].get("properties", {})
    for name in command.path_arguments:
        found.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    for name in command.query:
        found.append({"name": name, "in": "query", "required": False, "schema": properties[name]})
    if command.name == "update":
        found.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "The task version the change expects (from its ETag)",
                "schema": {"type": "string"},
            }
        )
    if command.name == "events":
        found.append(
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Resume after this event sequence number",
                "schema": {"type": "string"},
            }
        )
    return found


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI 3.1 document. Built once per process."""
    models: list[type[BaseModel]] = [c.arguments for c in COMMANDS.values()]
    models += [*_RESPONSES.values(), Problem, HealthView]
    _, top = models_json_schema(
        [(model, "validation") for model in dict.fromkeys(models)], ref_template=_REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    problem_content = {"application/problem+json": {"schema": _ref(Problem)}}
    for command in COMMANDS.values():
        method, path = command.route
        operation: dict[str, Any] = {
            "operationId": command.name,
            "summary": command.summary,
            "description": f"Roles: {', '.join(sorted(command.roles))}.",
            "parameters": _parameters(command, schemas),
            "security": [{"bearer": []}],
        }
        body = _body_schema(command, schemas)
        if body is not None:
            operation["requestBody"] = {
                "required": command.body is not None,
                "content": {"application/json": {"schema": body}},
            }
        if command.name == "events":
            ok: dict[str, Any] = {
                "description": "Server-Sent Events: each event as JSON, its sequence number "
                "as the id",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        else:
            ok = {
                "description": "Done; for a change, durable in the journal",
                "content": {"application/json": {"schema": _ref(_RESPONSES[command.name])}},
            }
        status = "201" if command.name in ("submit", "add_agent") else "200"
        responses: dict[str, Any] = {status: ok}
        if command.name == "submit":
            responses["200"] = {
                "description": "The same task was already submitted with the same content",
                "content": {"application/json": {"schema": _ref(TaskView)}},
            }
        for code, description in _ERRORS.items():
            responses[code] = {"description": description, "content": problem_content}
        operation["responses"] = responses
        paths.setdefault(path, {})[method.lower()] = operation
    health = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(HealthView)}},
        },
        "503": {"description": "Not ready", "content": problem_content},
    }
    paths["/healthz"] = {"get": {"operationId": "healthz", "responses": health, "security": []}}
    paths["/readyz"] = {"get": {"operationId": "readyz", "responses": health, "security": []}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "valueroute",
            "version": __version__,
            "description": "Value-based workload distribution as a durable HTTP service.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
