"""The service's settings, its token table and the files they are read from."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import ipaddress
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valueroute.calendar import BusinessCalendar, calendar_from
from valueroute.commands import ROLES, Role
from valueroute.engine import Engine
from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.rules import load_rules
from valueroute.scoring import policy_by_name
from valueroute.serve._webhooks import Webhook

__all__ = [
    "Limits",
    "Principal",
    "ServeSettings",
    "TokenTable",
    "is_loopback",
    "load_config",
    "load_tokens",
]

_MIN_TOKEN_LENGTH = 8
_DATABASE_URLS = ("postgresql://", "postgres://")


def _refuse(name: str, value: object, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{name}: got {bounded_repr(value)} (expected {expected})", [(name, value, expected)]
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: a role, and the agent id an ``agent`` token is bound to."""

    role: Role
    agent: str | None = None


_ANONYMOUS_ADMIN = Principal("admin")


class TokenTable:
    """Bearer tokens and the principal each stands for.

    Only SHA-256 digests of the tokens are kept. :meth:`authenticate`
    compares the digest of the presented token with every stored digest by
    :func:`hmac.compare_digest`, so its time does not depend on which token
    matched or how much of one did. O(number of tokens).
    """

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        """``tokens`` maps each token (text of at least 8 characters) to its principal."""
        if not isinstance(tokens, Mapping) or not tokens:
            raise _refuse("tokens", tokens, "a non-empty mapping of token text to principal")
        entries: list[tuple[bytes, Principal]] = []
        for token, principal in tokens.items():
            if not isinstance(token, str) or len(token) < _MIN_TOKEN_LENGTH:
                # The token itself is never shown: only its length.
                length = len(token) if isinstance(token, str) else "not text"
                raise _refuse(
                    "tokens",
                    f"<a token of length {length}>",
                    f"tokens of at least {_MIN_TOKEN_LENGTH} characters",
                )
            if not isinstance(principal, Principal):
                raise _refuse("tokens", principal, "a Principal for each token")
            entries.append((hashlib.sha256(token.encode()).digest(), principal))
        self._entries = tuple(entries)

    def __len__(self) -> int:
        """The number of tokens."""
        return len(self._entries)

    def roles(self) -> set[Role]:
        """The roles some token has."""
        return {principal.role for _, principal in self._entries}

    def authenticate(self, token: str) -> Principal | None:
        """The principal of ``token``, or ``None`` for an unknown one (constant time)."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found: Principal | None = None
        for known, principal in self._entries:
            # Every entry is compared: no early exit on a match.
            if hmac.compare_digest(digest, known):
                found = principal
        return found


def load_tokens(path: str | Path) -> TokenTable:
    """Read a token file (TOML with a ``[tokens]`` table) into a :class:`TokenTable`.

    Each entry maps a token to a role (``"host"``) or to a table
    ``{ role = "agent", agent = "ann" }``; an ``agent`` token must name its
    agent, other roles must not. A wrong file raises
    :class:`~valueroute.errors.InvalidInputError` naming the entry (never
    showing a token).
    """
    data = _read_toml(path, "tokens")
    table = data.get("tokens")
    unknown = sorted(set(data) - {"tokens"})
    if unknown:
        raise _refuse("tokens file", unknown[0], "only a [tokens] table")
    if not isinstance(table, dict) or not table:
        raise _refuse("tokens", table, "a [tokens] table with at least one token")
    principals: dict[str, Principal] = {}
    for number, (token, entry) in enumerate(table.items(), start=1):
        where = f"tokens entry {number}"
        role: object
        agent: object
        if isinstance(entry, str):
            role, agent = entry, None
        elif isinstance(entry, dict):
            extra = sorted(set(entry) - {"role", "agent"})
            if extra:
                raise _refuse(where, extra[0], "only the keys role and agent")
            role, agent = entry.get("role"), entry.get("agent")
        else:
            raise _refuse(where, entry, "a role name or a table { role = ..., agent = ... }")
        if role not in ROLES:
            raise _refuse(f"{where}.role", role, f"one of {list(ROLES)}")
        if role == "agent":
            if not isinstance(agent, str) or not agent:
                raise _refuse(f"{where}.agent", agent, "the id of the agent the token acts for")
        elif agent is not None:
            raise _refuse(f"{where}.agent", agent, "no agent: only agent tokens name one")
        principals[token] = Principal(role, agent if isinstance(agent, str) else None)
    return TokenTable(principals)


@dataclass(frozen=True, slots=True)
class Limits:
    """What the service accepts, per request and at once.

    ``max_body_bytes``: request body size (larger: ``413``);
    ``max_json_depth``: nesting of arrays and objects in a body (deeper:
    ``422``); ``max_headers`` and ``max_header_bytes``: header lines per
    request and their total size (more: ``431``);
    ``max_in_flight``: requests being handled at once, event streams aside
    (more: ``503`` with ``Retry-After``); ``max_streams``: open event streams;
    ``event_buffer``: events kept in memory for streams to resume from
    (older ones are rebuilt from the journal); ``keepalive_seconds``: the
    longest silence on an event stream.
    """

    max_body_bytes: int = 1 << 20
    max_json_depth: int = 32
    max_headers: int = 100
    max_header_bytes: int = 16 * 1024
    max_in_flight: int = 1024
    max_streams: int = 256
    event_buffer: int = 100_000
    keepalive_seconds: float = 15.0

    def __post_init__(self) -> None:
        for name in (
            "max_body_bytes",
            "max_json_depth",
            "max_headers",
            "max_header_bytes",
            "max_in_flight",
            "max_streams",
            "event_buffer",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _refuse(name, value, "an integer >= 1")
        seconds = self.keepalive_seconds
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not (math.isfinite(seconds) and seconds > 0)
        ):
            raise _refuse("keepalive_seconds", seconds, "finite seconds > 0")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_ENGINE_OPTIONS = frozenset(
    name
    for name in inspect.signature(Engine).parameters
    if name not in {"policy", "rules", "clock", "calendars", "agent_selection"}
)


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """Everything :func:`~valueroute.serve.build_app` needs, explicitly.

    ``journal``: the SQLite journal file (created if missing; recovered on
    start), or a ``postgresql://`` URL of the PostgreSQL store.
    ``engine_factory(clock)`` builds the engine with the same configuration
    at every start (the journal's contract); by default an
    :class:`~valueroute.engine.Engine` with ``engine_options``, ``policy``
    (a built-in policy's name and parameters), ``rules`` (a rule file) and
    ``calendars`` (business calendars by name, each a table of
    :class:`~valueroute.calendar.BusinessCalendar`'s keys, given to the engine
    and to the rules; ``engine_options["calendar"]`` names the default).
    ``tokens``: ``None`` lets every request act as ``admin``, which is only
    allowed on a loopback ``host``. ``snapshot_on_stop``: write a snapshot
    at a clean shutdown, so the next start replays nothing. ``webhook``:
    where to POST every event (see :class:`~valueroute.serve.Webhook`).

    ``standby``: run as one of several processes on the PostgreSQL journal
    ``journal`` names (``valueroute serve --store``): the process holding
    the lease leads and takes commands, the others follow the journal with
    their own engine and serve views and events only (see
    :class:`~valueroute.standby.Standby`). ``lease_seconds``: how long a
    silent leader keeps the lead; ``node_name``: this process in the lease
    (default ``host:pid``). Without ``standby`` a PostgreSQL journal is
    opened by this process alone, which refuses to start while another leads.
    """

    journal: Path | str
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: TokenTable | None = None
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    policy: tuple[str, Mapping[str, Any]] | None = None
    rules: Path | None = None
    limits: Limits = field(default_factory=Limits)
    snapshot_on_stop: bool = True
    webhook: Webhook | None = None
    engine_factory: Callable[[Callable[[], float]], Engine] | None = None
    standby: bool = False
    lease_seconds: float = 5.0
    node_name: str | None = None
    calendars: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.journal, Path) and not (
            isinstance(self.journal, str) and self.journal.startswith(_DATABASE_URLS)
        ):
            raise _refuse(
                "journal",
                self.journal,
                "a pathlib.Path of the journal file or a postgresql:// URL",
            )
        if not isinstance(self.host, str) or not self.host:
            raise _refuse("host", self.host, "a host name or address")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise _refuse("port", self.port, "a port number from 0 to 65535")
        if not 0 <= self.port <= 65535:
            raise _refuse("port", self.port, "a port number from 0 to 65535")
        if self.tokens is not None and not isinstance(self.tokens, TokenTable):
            raise _refuse("tokens", self.tokens, "a TokenTable or None")
        if self.tokens is None and not is_loopback(self.host):
            raise _refuse(
                "host",
                self.host,
                "a loopback address (127.0.0.1, ::1, localhost) when no token file is given: "
                "a service reachable from other machines needs --tokens",
            )
        if self.webhook is not None and not isinstance(self.webhook, Webhook):
            raise _refuse("webhook", self.webhook, "a Webhook or None")
        if not isinstance(self.limits, Limits):
            raise _refuse("limits", self.limits, "a Limits")
        self._check_standby()
        self.build_calendars()
        unknown = sorted(set(self.engine_options) - _ENGINE_OPTIONS)
        if unknown:
            raise _refuse("engine option", unknown[0], f"one of {sorted(_ENGINE_OPTIONS)}")

    def _check_standby(self) -> None:
        if not isinstance(self.standby, bool):
            raise _refuse("standby", self.standby, "True or False")
        seconds = self.lease_seconds
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not (math.isfinite(seconds) and 0.05 <= seconds <= 3600)
        ):
            raise _refuse("lease_seconds", seconds, "seconds from 0.05 to 3600")
        if self.node_name is not None and (
            not isinstance(self.node_name, str) or not 0 < len(self.node_name) <= 200
        ):
            raise _refuse("node_name", self.node_name, "a name of 1 to 200 characters, or None")
        if not self.standby:
            return
        if isinstance(self.journal, Path):
            raise _refuse(
                "journal",
                str(self.journal),
                "a postgresql:// URL when running as leader or standby (--store)",
            )
        if self.webhook is not None:
            raise _refuse(
                "webhook",
                self.webhook.url,
                "no webhook when running as leader or standby: every process would deliver "
                "the same events (deliver from one process reading the event stream)",
            )

    def principal(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization`` header value, or ``None`` when it has none.

        Without a token table every request is an anonymous ``admin``.
        """
        if self.tokens is None:
            return _ANONYMOUS_ADMIN
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.tokens.authenticate(token.strip())

    def build_calendars(self) -> dict[str, BusinessCalendar]:
        """The business calendars of :attr:`calendars`, built afresh. O(calendars)."""
        if not isinstance(self.calendars, Mapping):
            raise _refuse("calendars", self.calendars, "a mapping of names to calendar tables")
        built = {}
        for name, table in self.calendars.items():
            if not isinstance(name, str) or not name:
                raise _refuse("calendars", name, "calendar names of at least one character")
            built[name] = calendar_from(table, name=name)
        return built

    def build_engine(self, clock: Callable[[], float]) -> Engine:
        """The engine to journal, on ``clock`` (the journal's engine factory)."""
        if self.engine_factory is not None:
            return self.engine_factory(clock)
        options: dict[str, Any] = dict(self.engine_options)
        # One set of calendar objects, shared by the engine and its rules.
        calendars = self.build_calendars()
        if calendars:
            options["calendars"] = calendars
        if self.policy is not None:
            name, params = self.policy
            options["policy"] = policy_by_name(name, **params)
        if self.rules is not None:
            options["rules"] = load_rules(self.rules, calendars=calendars or None)
        return Engine(clock=clock, **options)


def _read_toml(path: str | Path, what: str) -> dict[str, Any]:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise _refuse(f"{what} file", str(path), f"a readable file ({exc.strerror})") from None
    try:
        return tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _refuse(f"{what} file", str(path), f"TOML text ({exc})") from None


_LIMIT_NAMES = frozenset(Limits.__dataclass_fields__)


def load_config(path: str | Path, *, journal: Path | str | None = None) -> dict[str, Any]:
    """Read a service configuration file (TOML) into :class:`ServeSettings` keywords.

    Tables: ``[engine]`` (keyword options of :class:`~valueroute.engine.Engine`
    given as plain values: ``offer_timeout``, ``dispatch``, ``wrap_up``...),
    ``[policy]`` (``name`` and optional ``params``), ``[limits]`` (fields of
    :class:`Limits`), ``[webhooks]`` (fields of
    :class:`~valueroute.serve.Webhook`; its ``state_file`` defaults to
    ``journal`` plus ``.webhook``) and ``[calendars.<name>]`` (business
    calendars: ``timezone``, ``hours``, ``holidays``, ``exceptions``).
    Anything else raises :class:`~valueroute.errors.InvalidInputError`
    naming it.
    """
    data = _read_toml(path, "config")
    unknown = sorted(set(data) - {"engine", "policy", "limits", "webhooks", "calendars"})
    if unknown:
        raise _refuse(
            "config table",
            unknown[0],
            "only [engine], [policy], [limits], [webhooks] and [calendars.<name>]",
        )
    found: dict[str, Any] = {}
    calendars = data.get("calendars")
    if calendars is not None:
        if not isinstance(calendars, dict):
            raise _refuse("calendars", calendars, "tables [calendars.<name>] of calendars")
        for name, table in calendars.items():
            # Built here so that a wrong calendar is refused naming it, before binding.
            calendar_from(table, name=name)
        found["calendars"] = calendars
    engine = data.get("engine", {})
    if not isinstance(engine, dict):
        raise _refuse("engine", engine, "a table of Engine options")
    bad = sorted(set(engine) - _ENGINE_OPTIONS)
    if bad:
        raise _refuse("engine option", bad[0], f"one of {sorted(_ENGINE_OPTIONS)}")
    found["engine_options"] = engine
    policy = data.get("policy")
    if policy is not None:
        if not isinstance(policy, dict) or set(policy) - {"name", "params"}:
            raise _refuse("policy", policy, "a table with name and optional params")
        params = policy.get("params", {})
        if not isinstance(params, dict):
            raise _refuse("policy.params", params, "a table of the policy's parameters")
        name = policy.get("name")
        if not isinstance(name, str):
            raise _refuse("policy.name", name, "the name of a built-in policy")
        policy_by_name(name, **params)
        found["policy"] = (name, params)
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise _refuse("limits", limits, "a table of limits")
    bad = sorted(set(limits) - _LIMIT_NAMES)
    if bad:
        raise _refuse("limit", bad[0], f"one of {sorted(_LIMIT_NAMES)}")
    found["limits"] = Limits(**limits)
    hooks = data.get("webhooks")
    if hooks is not None:
        if not isinstance(hooks, dict):
            raise _refuse("webhooks", hooks, "a table with url and secret")
        found["webhook"] = Webhook.from_table(
            hooks, journal=Path("valueroute-journal.sqlite") if journal is None else journal
        )
    return found
