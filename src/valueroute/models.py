"""Boundary models: what users hand to valueroute.

These frozen pydantic models validate tasks and agents once, at the edge.
The core never keeps a pydantic object per task; it copies what it needs into
slotted records (see :mod:`valueroute.tasklist`).

Times are accepted as timezone-aware :class:`datetime.datetime` or as float
seconds; both are stored as float seconds (for datetimes: seconds since the
Unix epoch). Naive datetimes are refused because their meaning depends on the
machine's time zone.

Every validation failure raises :class:`~valueroute.errors.InvalidInputError`
(or :class:`~valueroute.errors.LimitExceededError` for input beyond the limits
below), whose message names each field, the value received (abbreviated, see
:func:`~valueroute.errors.bounded_repr`) and what was expected.

Input limits (one task or agent):

===============================  =======
what                             limit
===============================  =======
id length                        128 characters
attributes per task              64
attribute name length            64 characters
attribute text value length      4,096 characters
skills per task or agent         64
skill name length                64 characters
===============================  =======

Every text (ids, type, channel, labels, skill and channel names, attribute
names and text values) must be valid Unicode: a lone surrogate, which UTF-8
cannot encode (and so neither can a regular expression engine, a journal or a
log), is refused. Every number must be finite and within the bounds that keep
every score a built-in policy computes finite:

===============================  =======================================
what                             bound
===============================  =======================================
priority                         integer, -10**15 to 10**15
value                            0 to 1e15
due, created                     -1e12 to 1e12 seconds (every datetime fits)
due_in                           more than 0, at most 1e12 seconds
skill levels                     0 to 1e15
capacity per channel             integer, 0 to 1,000,000
number attributes                finite, magnitude at most 1.797e308 (a float)
===============================  =======================================
"""

from __future__ import annotations

import difflib
import sys
import typing
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from valueroute._documents import is_unicode_text
from valueroute._types import AttributeValue
from valueroute.calendar import MAX_SPAN_SECONDS
from valueroute.errors import InvalidInputError, LimitExceededError, bounded_repr
from valueroute.expressions import AgentAttributes, _check_requirement

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME",
    "MAX_ATTRIBUTE_NUMBER",
    "MAX_ATTRIBUTE_TEXT",
    "MAX_CAPACITY",
    "MAX_ID_LENGTH",
    "MAX_PRIORITY",
    "MAX_RAMP_STEP",
    "MAX_SECONDS",
    "MAX_SKILLS",
    "MAX_SKILL_LEVEL",
    "MAX_SKILL_NAME",
    "MAX_VALUE",
    "MIN_RAMP_EVERY",
    "AgentSpec",
    "BoundaryModel",
    "QueueSpec",
    "TaskSpec",
    "WorkflowSpec",
    "WorkflowStep",
    "file_row_error",
    "model_by_kind",
    "to_seconds",
]

_Named = typing.TypeVar("_Named", bound="BoundaryModel")

MAX_ID_LENGTH = 128
MAX_PREFERRED_AGENTS = 16
"""The most agents a task may name as preferred."""
MAX_ATTRIBUTES = 64
MAX_ATTRIBUTE_NAME = 64
MAX_ATTRIBUTE_TEXT = 4096
MAX_SKILLS = 64
MAX_SKILL_NAME = 64
MAX_PRIORITY = 10**15
"""Largest priority magnitude: exact as a float, and far from overflowing any score."""
MAX_VALUE = 1e15
"""Largest business value."""
MAX_SECONDS = 1e12
"""Largest magnitude of a time in seconds (about the year 33,700; every datetime fits)."""
MAX_SKILL_LEVEL = 1e15
"""Largest skill level, required or held."""
MAX_CAPACITY = 1_000_000
"""Most tasks of one channel an agent may hold at once."""
MAX_ATTRIBUTE_NUMBER = sys.float_info.max
"""Largest magnitude of a number attribute: what a float can carry (integers too)."""
MAX_RAMP_STEP = 1e15
"""Largest magnitude of a priority ramp's step or cap, in priority points."""
MIN_RAMP_EVERY = 0.001
"""Shortest interval between a priority ramp's steps, in seconds: with the bounds
above, at most 10**15 steps, so ramp points stay finite."""

_LIMIT = "limit_exceeded"
# How deeply boundary-model validations are nested in this context: the
# outermost converts pydantic's ValidationError, nested ones pass it up so
# that error locations keep the full field path.
_DEPTH: ContextVar[int] = ContextVar("valueroute_validation_depth", default=0)
# Errors that mean "too much input" rather than "wrong input".
_LIMIT_TYPES = frozenset({_LIMIT, "string_too_long"})


def to_seconds(value: float | int | datetime) -> float:
    """Convert a timezone-aware datetime or a number of seconds to float seconds.

    >>> from datetime import datetime, timezone
    >>> to_seconds(datetime(1970, 1, 1, 0, 1, tzinfo=timezone.utc))
    60.0
    >>> to_seconds(12)
    12.0

    Anything else (a naive datetime, text, ``None``, a bool, ``nan``, an
    infinity, a number beyond :data:`MAX_SECONDS`) raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise _seconds_error(
                value,
                f"got naive datetime {bounded_repr(value.isoformat())} "
                "(expected a timezone-aware datetime or float seconds)",
            )
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _seconds_error(
            value,
            f"got {bounded_repr(value)} of type {type(value).__name__} "
            "(expected a timezone-aware datetime or float seconds)",
        )
    # Compared before converting: an integer beyond float range cannot be converted.
    if not -MAX_SECONDS <= value <= MAX_SECONDS:
        raise _seconds_error(
            value,
            f"got {bounded_repr(value)} (expected a finite number of seconds "
            f"from {-MAX_SECONDS:g} to {MAX_SECONDS:g})",
        )
    return float(value)


def _seconds_error(value: Any, detail: str) -> InvalidInputError:
    """The error of :func:`to_seconds`, naming its argument ``value``."""
    return InvalidInputError(
        f"to_seconds: value: {detail}",
        [("value", value, "a timezone-aware datetime or a finite number of seconds")],
    )


def _time_field(value: Any) -> Any:
    if value is None:
        return None
    try:
        return to_seconds(value)
    except InvalidInputError as exc:
        # The message without the function's prefix: pydantic names the field.
        raise PydanticCustomError("time", str(exc).removeprefix("to_seconds: value: ")) from None


Time = Annotated[float, BeforeValidator(_time_field)]
OptionalTime = Annotated[float | None, BeforeValidator(_time_field)]


_SHOWN_PROBLEMS = 10
"""Problems spelled out in a message; ``InvalidInputError.errors`` lists them all."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through unions, lists and mappings)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for argument in typing.get_args(annotation):
        found.extend(_models_in(argument))
    return found


def _keys_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> set[str]:
    """The field names valid at ``loc`` (the misspelt key's parent) below ``model``."""
    if model is None:
        return set()
    candidates: list[type[BaseModel]] = [model]
    for part in loc:
        if not isinstance(part, str):
            continue  # a list index or a mapping key of the user's
        nested: list[type[BaseModel]] = []
        for candidate in candidates:
            field = candidate.model_fields.get(part)
            if field is not None:
                nested.extend(_models_in(field.annotation))
        if nested:
            candidates = nested
        elif not any(part in c.model_fields for c in candidates):
            # A user's key (a task type's name, a discriminator's tag): stay here.
            continue
        else:
            return set()
    names: set[str] = set()
    for candidate in candidates:
        for name, field in candidate.model_fields.items():
            names.add(field.alias or name)
    return names


def _suggestion(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str:
    """For a key no model has: the valid keys there, with the closest first."""
    key = str(loc[-1]) if loc else ""
    valid = sorted(_keys_at(model, loc[:-1]))
    if not valid:
        return "not a known key"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(valid[:12]) + (", ..." if len(valid) > 12 else "")
    return f"not a known key; {hint}expected one of: {listed}"


def _format_errors(
    model: str, exc: ValidationError, model_class: type[BaseModel] | None = None
) -> tuple[str, list[tuple[str, Any, str]]]:
    problems: list[tuple[str, Any, str]] = []
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "(model)"
        value = err.get("input")
        expected = err["msg"]
        if err["type"] == "extra_forbidden":
            expected = _suggestion(model_class, tuple(err["loc"]))
        problems.append((field, value, expected))
        if len(lines) < _SHOWN_PROBLEMS:
            # A field path holds the user's keys (a skill or attribute name): cut it too.
            shown = field if len(field) <= 120 else field[:117] + "..."
            # A missing field's "input" is its parent: never repeat the document.
            got = "nothing" if err["type"] == "missing" else bounded_repr(value)
            lines.append(f"{model}.{shown}: got {got} ({expected[:300]})")
    if len(problems) > len(lines):
        lines.append(
            f"and {len(problems) - len(lines)} more problems (all in the errors attribute)"
        )
    return "; ".join(lines), problems


class BoundaryModel(BaseModel):
    """Frozen pydantic model whose validation errors are :class:`InvalidInputError`.

    Construction, :meth:`model_validate` and :meth:`model_validate_json` all
    raise the valueroute error, so hosts catch a single root exception.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, extra="forbid", validate_default=True
    )

    def __init__(self, /, **data: Any) -> None:
        # _boundary written out, as in model_validate: hosts build specs per task.
        depth = _DEPTH.get()
        token = _DEPTH.set(depth + 1)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if depth:
                raise
            raise _wrap(type(self).__name__, exc, type(self)) from exc
        finally:
            _DEPTH.reset(token)

    # Marked as pydantic's own, so that validation already inside a boundary
    # (model_validate, model_validate_json, a model nested in another) builds
    # the model without calling __init__ again: the boundary adds nothing
    # there (a nested one re-raises pydantic's error untouched), and it costs
    # a context manager per model.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a mapping or an object; errors are InvalidInputError (named fields)."""
        # What _boundary does, written out: this runs for every command a
        # host or the service validates, and the context manager cost as
        # much as pydantic's own validation of a small model.
        depth = _DEPTH.get()
        if not depth and isinstance(obj, Mapping):
            for key in obj:
                if not isinstance(key, str):
                    raise InvalidInputError(
                        f"{cls.__name__}: got key {bounded_repr(key)} of type "
                        f"{type(key).__name__} (expected field names as text)",
                        [("(model)", bounded_repr(key), "field names as text")],
                    )
        token = _DEPTH.set(depth + 1)
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as exc:
            if depth:
                raise
            raise _wrap(cls.__name__, exc, cls) from exc
        finally:
            _DEPTH.reset(token)

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a JSON document; a failure is :class:`~valueroute.errors.InvalidInputError`."""
        with _boundary(cls.__name__, cls):
            return super().model_validate_json(
                json_data,
                strict=strict,
                extra=extra,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )


@contextmanager
def _boundary(model: str, model_class: type[BaseModel] | None = None) -> Iterator[None]:
    """Turn pydantic's ValidationError into InvalidInputError at the outermost model.

    A nested boundary model re-raises pydantic's error untouched, so that
    pydantic places it under the parent's field path.
    """
    nested = _DEPTH.get() > 0
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        yield
    except ValidationError as exc:
        if nested:
            raise
        raise _wrap(model, exc, model_class) from exc
    finally:
        _DEPTH.reset(token)


def _wrap(
    model: str, exc: ValidationError, model_class: type[BaseModel] | None = None
) -> InvalidInputError:
    message, problems = _format_errors(model, exc, model_class)
    if any(err["type"] in _LIMIT_TYPES for err in exc.errors(include_url=False)):
        return LimitExceededError(message, problems)
    return InvalidInputError(message, problems)


def model_by_kind(what: str, data: Any, kinds: Mapping[str, type[BoundaryModel]]) -> Any:
    """Validate a mapping into the model its ``kind`` field names, among ``kinds``.

    ``what`` names the family in messages (``"Distribution"``). Raises
    :class:`~valueroute.errors.InvalidInputError` naming the field.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"{what}: got {type(data).__name__} (expected a mapping with a 'kind' field)",
            [("(model)", data, "a mapping with a 'kind' field")],
        )
    kind = data.get("kind")
    cls = kinds.get(kind) if isinstance(kind, str) else None
    if cls is None:
        expected = "one of " + ", ".join(repr(k) for k in kinds)
        raise InvalidInputError(
            f"{what}.kind: got {bounded_repr(kind)} (expected {expected})",
            [("kind", kind, expected)],
        )
    return cls(**{str(key): value for key, value in data.items()})


def file_row_error(
    path: Path, line: int, field: str, value: Any, expected: str
) -> InvalidInputError:
    """The error for a bad value in a data file: file name, line, field, value, expectation."""
    return InvalidInputError(
        f"{path.name} line {line}, {field}: got {bounded_repr(value)} (expected {expected})",
        [(field, value, expected)],
    )


def _limit(message: str) -> PydanticCustomError:
    return PydanticCustomError(_LIMIT, message)


def _not_text(what: str) -> PydanticCustomError:
    return PydanticCustomError(
        "unicode_text",
        "{what} is not valid Unicode text: it holds a lone surrogate, which UTF-8 cannot "
        "encode (expected text without surrogates)",
        {"what": what},
    )


def _check_text(text: str | None) -> str | None:
    """``text`` if it is None or valid Unicode; else the pydantic error."""
    if text is not None and not text.isascii() and not is_unicode_text(text):
        raise _not_text("the text")
    return text


def _check_agent_ids(field: str, agents: Sequence[str]) -> None:
    """Agent ids listed in ``field``: each text of 1 to MAX_ID_LENGTH characters, none twice."""
    for agent in agents:
        if not 1 <= len(agent) <= MAX_ID_LENGTH:
            raise PydanticCustomError(
                "agent_id",
                "{field}: agent id {agent} of {length} characters (expected 1 to {bound})",
                {
                    "field": field,
                    "agent": bounded_repr(agent),
                    "length": len(agent),
                    "bound": MAX_ID_LENGTH,
                },
            )
        if not agent.isascii() and not is_unicode_text(agent):
            raise _not_text(f"{field}: an agent id")
    if len(set(agents)) != len(agents):
        raise PydanticCustomError(
            "duplicate_agent",
            "{field}: {agents} name an agent twice (expected distinct agent ids)",
            {"field": field, "agents": bounded_repr(list(agents))},
        )


def _check_routing(
    agents: tuple[str, ...],
    preferred_for: float | None,
    related_to: str | None,
    requires: str | None,
) -> None:
    """The checks of a task's routing fields, each error naming its field."""
    _check_agent_ids("preferred_agents", agents)
    if preferred_for is not None and not agents and related_to is None:
        raise PydanticCustomError(
            "preferred_for_alone",
            "preferred_for {seconds} without preferred_agents or related_to "
            "(expected the agents the preference is for)",
            {"seconds": bounded_repr(preferred_for)},
        )
    if related_to is not None and not related_to.isascii() and not is_unicode_text(related_to):
        raise _not_text("related_to")
    if requires is not None:
        _check_requirement(requires)


def _named_specs(field: str, model: type[_Named], items: object, limit: int) -> dict[str, _Named]:
    """Engine settings given as a list of specs with names (queues, workflows):
    each item a ``model`` or a mapping of its fields, at most ``limit``, names
    distinct; by name, in order. Anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming ``field[i]``."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, typing.Iterable):
        raise InvalidInputError(
            f"{field}: got {bounded_repr(items)} (expected a list of {model.__name__} or mappings)"
        )
    found: dict[str, _Named] = {}
    for position, item in enumerate(items):
        if position >= limit:
            raise InvalidInputError(f"{field}: more than {limit} (expected at most {limit})")
        if isinstance(item, model):
            spec = item
        elif isinstance(item, Mapping):
            try:
                spec = model.model_validate(item)
            except InvalidInputError as error:
                raise InvalidInputError(f"{field}[{position}]: {error}") from error
        else:
            raise InvalidInputError(
                f"{field}[{position}]: got {bounded_repr(item)} (expected a {model.__name__} or "
                "a mapping of its fields)"
            )
        name = spec.name  # type: ignore[attr-defined]  # both models have a name
        if name in found:
            raise InvalidInputError(
                f"{field}[{position}].name: got {bounded_repr(name)} a second time "
                "(expected distinct names)"
            )
        found[name] = spec
    return found


def _no_bool(number: Any) -> Any:
    """A number field's input as given, unless it is a bool (pydantic takes True for 1)."""
    if isinstance(number, bool):
        raise PydanticCustomError("not_bool", "a bool is not a number here (expected a number)")
    return number


def _requirement(text: str | None) -> str | None:
    """A requirement expression's text, checked completely, or ``None``."""
    if text is not None:
        _check_requirement(text)
    return text


def _check_skills(skills: dict[str, float], what: str) -> dict[str, float]:
    if len(skills) > MAX_SKILLS:
        raise _limit(f"{len(skills)} {what}, at most {MAX_SKILLS} allowed")
    for name, level in skills.items():
        if not name:
            raise PydanticCustomError("skill_name", "skill names must not be empty")
        if len(name) > MAX_SKILL_NAME:
            raise _limit(f"skill name of {len(name)} characters, at most {MAX_SKILL_NAME}")
        if not name.isascii() and not is_unicode_text(name):
            raise _not_text(f"skill name {bounded_repr(name)}")
        if not 0 <= level <= MAX_SKILL_LEVEL:
            raise PydanticCustomError(
                "skill_level",
                "skill {name} has level {level}, expected a number from 0 to {bound}",
                {
                    "name": bounded_repr(name),
                    "level": bounded_repr(level),
                    "bound": f"{MAX_SKILL_LEVEL:g}",
                },
            )
    return skills


def _new_task_id() -> str:
    return uuid.uuid4().hex


class TaskSpec(BoundaryModel):
    """A piece of work as a host submits it.

    >>> spec = TaskSpec(id="t1", type="claim", channel="email", value=120.0,
    ...                 priority=2, skills={"claims": 3})
    >>> spec.skills
    {'claims': 3.0}
    """

    id: str = Field(default_factory=_new_task_id, min_length=1, max_length=MAX_ID_LENGTH)
    """Stable identifier; a random one is generated when absent."""
    type: str = Field(default="task", min_length=1)
    """Task type (class), for example ``"claim"`` or ``"sales_call"``."""
    channel: str = Field(default="voice", min_length=1)
    """Media channel; agents have a capacity per channel."""
    value: float = Field(default=0.0, ge=0.0, le=MAX_VALUE, allow_inf_nan=False)
    """Business value of doing the task, in the host's unit (money, points)."""
    priority: int = Field(default=0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    """Priority; larger is more urgent."""
    due: OptionalTime = None
    """When the task should be done (service-level deadline), in seconds."""
    created: OptionalTime = None
    """When the work arrived; ``None`` means at submission."""
    skills: dict[str, float] = Field(default_factory=dict)
    """Required skills with the minimum level an agent needs in each."""
    department: str | None = None
    process: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    """Free JSON scalars for rules and reporting."""
    calendar: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    """Name of one of the engine's business calendars: the task's working time
    (``due_in``, working-time aging and SLA warnings). ``None``: the engine's
    default calendar, wall time when it has none."""
    due_in: float | None = Field(default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    """Due this many seconds after submission, counted in the task's calendar's
    working time when it has one (else wall time); the engine sets ``due`` from
    it. Not together with ``due``."""
    # The routing fields below are checked in _across_fields, only when given,
    # and their defaults are not validated again: a task that uses none of
    # them pays next to nothing for them.
    preferred_agents: tuple[str, ...] = Field(
        default=(), max_length=MAX_PREFERRED_AGENTS, validate_default=False
    )
    """Agent ids, in order of preference: the task is offered only to them
    (waiting while they are busy) until ``preferred_for`` has passed, then to
    anyone eligible. Their skills must still meet the task's."""
    preferred_for: float | None = Field(
        default=None,
        gt=0.0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        strict=True,
        validate_default=False,
    )
    """Seconds the preference holds after submission; ``None``: until the task
    is taken (only the preferred agents ever get it)."""
    related_to: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID_LENGTH, validate_default=False
    )
    """The id of an earlier task (a follow-up, a callback): the agent it was
    last assigned to is preferred first ("last agent" routing)."""
    requires: str | None = Field(default=None, min_length=1, validate_default=False)
    """A requirement expression over agents' attributes
    (``'language == "fr" and not trainee'``, see :mod:`valueroute.expressions`),
    a condition besides ``skills``; ``None``: none. Kept as given."""
    queue: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID_LENGTH, validate_default=False
    )
    """The name of one of the engine's queues (:class:`QueueSpec`) the task
    enters: only agents serving that queue take it, and the queue's limits
    apply. ``None``: no queue."""
    workflow: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID_LENGTH, validate_default=False
    )
    """The name of one of the engine's workflows (:class:`WorkflowSpec`) the
    task follows; ``None``: its type's workflow if one names the type, else none."""

    @field_validator("priority", "value", "due_in", mode="before")
    @classmethod
    def _not_bool(cls, number: Any) -> Any:
        return _no_bool(number)

    @field_validator("department", "process", "calendar", "queue", "workflow")
    @classmethod
    def _labels(cls, text: str | None) -> str | None:
        return _check_text(text)

    @model_validator(mode="after")
    def _across_fields(self) -> Self:
        if self.due is not None and self.due_in is not None:
            raise PydanticCustomError(
                "due_and_due_in",
                "due {due} and due_in {due_in} given together (expected one of them)",
                {"due": bounded_repr(self.due), "due_in": bounded_repr(self.due_in)},
            )
        if (
            self.preferred_agents
            or self.preferred_for is not None
            or self.related_to is not None
            or self.requires is not None
        ):
            _check_routing(
                self.preferred_agents, self.preferred_for, self.related_to, self.requires
            )
        return self

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        return _check_skills(skills, "required skills")

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        if len(attributes) > MAX_ATTRIBUTES:
            raise _limit(f"{len(attributes)} attributes, at most {MAX_ATTRIBUTES} allowed")
        for name, value in attributes.items():
            if len(name) > MAX_ATTRIBUTE_NAME:
                raise _limit(
                    f"attribute name of {len(name)} characters, at most {MAX_ATTRIBUTE_NAME}"
                )
            if not name.isascii() and not is_unicode_text(name):
                raise _not_text(f"attribute name {bounded_repr(name)}")
            if isinstance(value, str):
                if len(value) > MAX_ATTRIBUTE_TEXT:
                    raise _limit(
                        f"attribute {bounded_repr(name)} has {len(value)} characters, "
                        f"at most {MAX_ATTRIBUTE_TEXT}"
                    )
                if not value.isascii() and not is_unicode_text(value):
                    raise _not_text(f"attribute {bounded_repr(name)}")
            elif (
                value is not None
                and value.__class__ is not bool
                and not -MAX_ATTRIBUTE_NUMBER <= value <= MAX_ATTRIBUTE_NUMBER
            ):
                # Fails for nan and infinities, and for integers beyond float range.
                raise PydanticCustomError(
                    "attribute_value",
                    "attribute {name} is {value}, expected a finite number of magnitude "
                    "at most {bound}",
                    {
                        "name": bounded_repr(name),
                        "value": bounded_repr(value),
                        "bound": f"{MAX_ATTRIBUTE_NUMBER:g}",
                    },
                )
        return attributes


QueueAction = Literal["refuse", "overflow", "event"]

QueueSelection = Literal[
    "longest_idle",
    "most_proficient",
    "least_skilled",
    "least_occupied",
    "round_robin",
    "fewest_tasks",
    "least_talk_time",
    "top_down",
]
"""The built-in agent selections a queue may name (``random`` needs a seeded
generator the engine does not own, so a queue cannot name it)."""

MAX_QUEUE_AGENTS = 100_000
"""The most agent ids one queue lists."""
"""What a queue does when a limit is reached (see :class:`QueueSpec`)."""


class QueueSpec(BoundaryModel):
    """A named queue: which agents serve it, and its limits.

    A queue is a view over the one enterprise-wide task list, not a list of its
    own: a task in a queue is ordered with every other task by the engine's
    policy, and an agent serving several queues pulls the single best task
    across all of them. What a queue adds is *who may take its tasks* (agents
    whose skills meet ``skills`` and whose attributes meet ``requires``, and,
    when ``agents`` lists ids, only those agents; all on top of each task's
    own requirements), *how its tasks are distributed* (``agent_selection``,
    ``offer_timeout``, ``concurrent_offers``, ``auto_accept``, each
    overriding the engine's for the queue's tasks, as a distribution policy
    per queue) and *limits*:

    - ``max_length``: at most this many tasks waiting in it. A task arriving at
      a full queue is refused (``when_full="refuse"``: the submit raises
      :class:`~valueroute.errors.LimitExceededError` and changes nothing),
      goes to ``overflow_to`` (``"overflow"``), or enters all the same with a
      ``queue_limit_reached`` event (``"event"``).
    - ``max_wait``: seconds a task may wait in it (working seconds of the
      task's calendar with ``clock="working"``). Then it moves to
      ``overflow_to`` (``when_too_old="overflow"``: a ``task_overflowed``
      event, its wait there counted afresh) or stays with a
      ``queue_limit_reached`` event (``"event"``).

    >>> QueueSpec(name="billing", skills={"billing": 2}, max_length=50,
    ...           when_full="overflow", overflow_to="general").when_full
    'overflow'
    """

    name: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    skills: dict[str, float] = Field(default_factory=dict)
    """Minimum levels every agent serving the queue has."""
    requires: str | None = Field(default=None, min_length=1)
    """A requirement expression over agents' attributes serving agents meet
    (``'team == "billing"'``); ``None``: none."""
    agents: tuple[str, ...] | None = Field(default=None, max_length=MAX_QUEUE_AGENTS)
    """The ids of the agents serving the queue (each still meeting ``skills``
    and ``requires``); ``None``: every agent meeting them. Ids of agents not
    registered yet are allowed: they serve the queue once added."""
    agent_selection: QueueSelection | None = None
    """How an agent is chosen among those free for the queue's tasks (a
    built-in strategy by name); ``None``: the engine's ``agent_selection``."""
    offer_timeout: float | None = Field(default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds an offer of the queue's tasks stands before it lapses;
    ``None``: the engine's ``offer_timeout``."""
    concurrent_offers: int | None = Field(default=None, ge=1, le=10_000, strict=True)
    """How many agents a pushed task of the queue is offered to at once;
    ``None``: the engine's ``concurrent_offers``."""
    auto_accept: bool | None = Field(default=None, strict=True)
    """Whether the queue's tasks go to their agents without an offer
    (``True``) or with one (``False``); an agent's own
    :attr:`AgentSpec.auto_accept` wins over it; ``None``: the engine's
    ``auto_accept``."""
    max_length: int | None = Field(default=None, ge=1, le=10**9, strict=True)
    """The most tasks waiting in the queue; ``None``: no limit."""
    when_full: QueueAction = "refuse"
    max_wait: float | None = Field(default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds a task may wait in the queue; ``None``: no limit."""
    clock: Literal["wall", "working"] = "wall"
    """What ``max_wait`` counts: ``"wall"`` seconds, or ``"working"`` seconds of the
    task's business calendar from when it entered the queue (wall seconds for a
    task without one), fixed on entering."""
    when_too_old: Literal["overflow", "event"] = "event"
    overflow_to: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    """The queue overflowing tasks go to (needed when an action is ``"overflow"``)."""
    description: str = Field(default="", max_length=1000)

    @field_validator("name", "overflow_to", "description")
    @classmethod
    def _labels(cls, text: str | None) -> str | None:
        return _check_text(text)

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        return _check_skills(skills, "skills")

    @field_validator("max_wait", "offer_timeout", mode="before")
    @classmethod
    def _not_bool(cls, number: Any) -> Any:
        return _no_bool(number)

    @field_validator("requires")
    @classmethod
    def _requires(cls, text: str | None) -> str | None:
        return _requirement(text)

    @field_validator("agents")
    @classmethod
    def _agents(cls, agents: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if agents is not None:
            _check_agent_ids("agents", agents)
        return agents

    @model_validator(mode="after")
    def _overflow(self) -> Self:
        if (
            self.clock == "working"
            and self.max_wait is not None
            and self.max_wait > MAX_SPAN_SECONDS
        ):
            raise PydanticCustomError(
                "working_max_wait",
                "max_wait: got {max_wait} (expected at most {bound} seconds of working "
                'time, what a business calendar counts, with clock="working")',
                {"max_wait": self.max_wait, "bound": MAX_SPAN_SECONDS},
            )
        overflows = self.when_full == "overflow" or (
            self.max_wait is not None and self.when_too_old == "overflow"
        )
        if overflows and self.overflow_to is None:
            raise PydanticCustomError(
                "overflow_to",
                "overflow_to: got None with when_full {full} and when_too_old {old} (expected "
                "the name of the queue tasks overflow to)",
                {"full": repr(self.when_full), "old": repr(self.when_too_old)},
            )
        if self.overflow_to == self.name:
            raise PydanticCustomError(
                "overflow_to",
                "overflow_to: got {name}, the queue itself (expected another queue)",
                {"name": bounded_repr(self.name)},
            )
        return self


MAX_WORKFLOW_STEPS = 32
"""The most steps one workflow has."""


class WorkflowStep(BoundaryModel):
    """One step of a :class:`WorkflowSpec`: where the task is routed, and when it moves on.

    On entering the step the task's routing changes as the step says
    (``queue``, ``skills``, ``requires``, ``priority``; ``None`` keeps what the
    task has). It moves to the next step after ``timeout`` seconds waiting in
    this one, or as soon as a trigger holds: ``queue_length_at_least`` (tasks
    waiting in the step's queue), ``oldest_wait_at_least`` (seconds the
    longest-waiting task of that queue has waited there),
    ``expected_wait_at_least`` (the queue's expected wait, see
    :meth:`~valueroute.Engine.queue_statistics`) or ``no_agent`` (no agent who
    could take the task is logged on). Triggers are read on entering the step
    and every ``check_every`` seconds of the workflow.
    """

    queue: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    skills: dict[str, float] | None = None
    """The skills the task requires from this step on (replacing its own)."""
    lower_by: float = Field(default=0.0, ge=0.0, le=MAX_SKILL_LEVEL, allow_inf_nan=False)
    """Required levels this much lower from this step on (never below 0):
    stepwise relaxation as a step (after ``skills``, if both are given)."""
    drop: list[str] = Field(default_factory=list, max_length=MAX_SKILLS)
    """Skills no longer required from this step on."""
    requires: str | None = Field(default=None, min_length=1)
    """The requirement expression over agents' attributes from this step on."""
    priority: int | None = Field(default=None, ge=-MAX_PRIORITY, le=MAX_PRIORITY, strict=True)
    timeout: float | None = Field(default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds waiting in this step before the next; ``None``: no time limit."""
    queue_length_at_least: int | None = Field(default=None, ge=1, le=10**9, strict=True)
    oldest_wait_at_least: float | None = Field(
        default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False
    )
    expected_wait_at_least: float | None = Field(
        default=None, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False
    )
    no_agent: bool = Field(default=False, strict=True)

    @field_validator("queue")
    @classmethod
    def _labels(cls, text: str | None) -> str | None:
        return _check_text(text)

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float] | None) -> dict[str, float] | None:
        return None if skills is None else _check_skills(skills, "required skills")

    @field_validator(
        "timeout", "oldest_wait_at_least", "expected_wait_at_least", "lower_by", mode="before"
    )
    @classmethod
    def _not_bool(cls, number: Any) -> Any:
        return _no_bool(number)

    @field_validator("drop")
    @classmethod
    def _drop(cls, names: list[str]) -> list[str]:
        for name in names:
            if not 0 < len(name) <= MAX_SKILL_NAME or _check_text(name) is None:
                raise PydanticCustomError(
                    "skill_name",
                    "drop: skill name {name} (expected text of 1 to {bound} characters)",
                    {"name": bounded_repr(name), "bound": MAX_SKILL_NAME},
                )
        return names

    def relaxes(self) -> bool:
        """Whether the step lowers or drops required skills."""
        return self.lower_by > 0.0 or bool(self.drop)

    @field_validator("requires")
    @classmethod
    def _requires(cls, text: str | None) -> str | None:
        return _requirement(text)

    @model_validator(mode="after")
    def _queue_triggers(self) -> Self:
        if self.queue is None and (
            self.queue_length_at_least is not None
            or self.oldest_wait_at_least is not None
            or self.expected_wait_at_least is not None
        ):
            raise PydanticCustomError(
                "queue_trigger",
                "queue_length_at_least, oldest_wait_at_least or expected_wait_at_least without "
                "a queue (expected the step's queue the trigger reads)",
            )
        return self

    def moves_on_trigger(self) -> bool:
        """Whether a trigger besides the timeout can move a task on from this step."""
        return (
            self.queue_length_at_least is not None
            or self.oldest_wait_at_least is not None
            or self.expected_wait_at_least is not None
            or self.no_agent
        )


class WorkflowSpec(BoundaryModel):
    """Ordered routing steps a task goes through while it waits, then a final action.

    TaskRouter's workflow targets with timeouts, Amazon Connect's routing
    steps, Genesys' bullseye rings: a task starts in the first step; each
    step routes it (a queue, skills, an expression, a priority) until its
    timeout or a trigger moves the task on; after the last step ``then``
    says what happens: ``"stay"`` (it waits where it is), ``"expire"``
    (``task_expired``), or ``"hold"`` (``task_held``, out of routing until
    resumed). Every step change is a ``workflow_step`` event. Steps progress
    only while the task waits in the list; a task offered when its step's
    time is up moves on if it comes back. Tasks of the ``types`` named follow
    the workflow unless they name another.

    >>> WorkflowSpec(name="claims", steps=[
    ...     WorkflowStep(queue="experts", timeout=60),
    ...     WorkflowStep(queue="everyone")]).steps[1].queue
    'everyone'
    """

    name: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    steps: list[WorkflowStep] = Field(min_length=1, max_length=MAX_WORKFLOW_STEPS)
    then: Literal["stay", "expire", "hold"] = "stay"
    check_every: float = Field(default=5.0, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds between readings of a step's triggers."""
    types: list[str] = Field(default_factory=list, max_length=1000)
    """Task types that follow this workflow when they name none."""
    clock: Literal["wall", "working"] = "wall"
    """What step timeouts count: ``"wall"`` seconds, or ``"working"`` seconds of the
    task's business calendar (wall seconds for a task without one); a step then
    ends at ``calendar.add(step start, timeout)``, fixed when the step starts.
    Trigger thresholds and ``check_every`` count wall time either way."""

    @field_validator("name")
    @classmethod
    def _labels(cls, text: str | None) -> str | None:
        return _check_text(text)

    @field_validator("check_every", mode="before")
    @classmethod
    def _not_bool(cls, number: Any) -> Any:
        return _no_bool(number)

    @field_validator("types")
    @classmethod
    def _types(cls, types: list[str]) -> list[str]:
        for name in types:
            if not name or _check_text(name) is None:
                raise PydanticCustomError("type", "task types must not be empty")
        return types

    @model_validator(mode="after")
    def _working_timeouts(self) -> Self:
        if self.clock == "working":
            for index, step in enumerate(self.steps):
                if step.timeout is not None and step.timeout > MAX_SPAN_SECONDS:
                    raise PydanticCustomError(
                        "working_timeout",
                        "steps[{index}].timeout: got {timeout} (expected at most {bound} "
                        "seconds of working time, what a business calendar counts, with "
                        'clock="working")',
                        {"index": index, "timeout": step.timeout, "bound": MAX_SPAN_SECONDS},
                    )
        return self


class AgentSpec(BoundaryModel):
    """An agent (person or bot) as a host registers it.

    >>> agent = AgentSpec(id="ann", skills={"claims": 4}, capacity={"email": 5, "voice": 1})
    >>> agent.capacity["email"]
    5
    """

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    skills: dict[str, float] = Field(default_factory=dict)
    """Skills with proficiency levels (larger is better)."""
    capacity: dict[str, int] = Field(default_factory=lambda: {"voice": 1})
    """How many tasks of each channel the agent may hold at once."""
    department: str | None = None
    team: str | None = None
    attributes: AgentAttributes = Field(default_factory=dict)
    """What requirement expressions read: text, numbers, booleans, sets of
    text (``{"language": "fr", "languages": {"fr", "en"}, "years": 4}``)."""
    auto_accept: bool | None = Field(default=None, strict=True)
    """Tasks go to this agent without offers (``True``), always as offers
    (``False``), or as the engine's ``auto_accept`` setting says (``None``)."""

    @field_validator("department", "team")
    @classmethod
    def _labels(cls, text: str | None) -> str | None:
        return _check_text(text)

    @field_validator("skills")
    @classmethod
    def _skills(cls, skills: dict[str, float]) -> dict[str, float]:
        return _check_skills(skills, "skills")

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, capacity: dict[str, int]) -> dict[str, int]:
        for channel, slots in capacity.items():
            if not channel:
                raise PydanticCustomError("channel", "channel names must not be empty")
            if not channel.isascii() and not is_unicode_text(channel):
                raise _not_text(f"channel name {bounded_repr(channel)}")
            if not 0 <= slots <= MAX_CAPACITY:
                raise PydanticCustomError(
                    "capacity",
                    "channel {channel} has capacity {slots}, expected an integer from 0 to {bound}",
                    {
                        "channel": bounded_repr(channel),
                        "slots": bounded_repr(slots),
                        "bound": MAX_CAPACITY,
                    },
                )
        return capacity
