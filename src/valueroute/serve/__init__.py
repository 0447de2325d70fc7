"""``valueroute serve``: the engine as a durable, authenticated HTTP service.

An ASGI application on Starlette, served by uvicorn (``pip install
"valueroute[serve]"``). :func:`build_app` builds it from explicit
:class:`ServeSettings`; :func:`run` serves it until SIGTERM. One
:class:`~valueroute.journal.DurableEngine` per process is driven from one
event loop (:class:`EngineService`): commands run one at a time, requests
are answered only once their command is committed to the journal, and
commands arriving together share one commit. Routes, the OpenAPI document
and the authorisation table all come from :data:`valueroute.commands.COMMANDS`.

See the service guide (``docs/service.md``) for the HTTP API.
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        f'valueroute.serve needs the serve extra: pip install "valueroute[serve]" ({exc})'
    ) from exc

from valueroute.serve._app import PUBLIC, ServiceApp, build_app, problem, route_rules
from valueroute.serve._openapi import openapi_document
from valueroute.serve._page import SUPERVISOR_PAGE
from valueroute.serve._run import run
from valueroute.serve._service import EngineService, ServiceUnavailableError
from valueroute.serve._settings import (
    Limits,
    Principal,
    ServeSettings,
    TokenTable,
    is_loopback,
    load_config,
    load_tokens,
)
from valueroute.serve._views import (
    AdvanceView,
    AgentView,
    HealthView,
    NextView,
    OffersView,
    OfferView,
    Problem,
    ProblemField,
    QueuesView,
    QueueView,
    StatsView,
    TaskListEntry,
    TaskListView,
    TaskView,
)
from valueroute.serve._webhooks import Webhook, sign

__all__ = [
    "PUBLIC",
    "SUPERVISOR_PAGE",
    "AdvanceView",
    "AgentView",
    "EngineService",
    "HealthView",
    "Limits",
    "NextView",
    "OfferView",
    "OffersView",
    "Principal",
    "Problem",
    "ProblemField",
    "QueueView",
    "QueuesView",
    "ServeSettings",
    "ServiceApp",
    "ServiceUnavailableError",
    "StatsView",
    "TaskListEntry",
    "TaskListView",
    "TaskView",
    "TokenTable",
    "Webhook",
    "build_app",
    "is_loopback",
    "load_config",
    "load_tokens",
    "openapi_document",
    "problem",
    "route_rules",
    "run",
    "sign",
]
