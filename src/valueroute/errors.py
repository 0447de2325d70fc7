"""The exceptions valueroute raises.

Every exception derives from :class:`ValueRouteError`, so a host can catch one
root. Each also derives from the builtin that fits it, so code written against
plain Python keeps working (``except ValueError`` still catches a bad value)::

    ValueRouteError
    ├── InvalidInputError (ValueError)      bad data handed in at the boundary
    │   └── LimitExceededError              input beyond a documented size limit
    ├── ClockError (ValueError)             a time that runs backwards or is not finite
    ├── UnknownTaskError (KeyError)         no open task with that id
    ├── UnknownAgentError (KeyError)        no agent with that id
    ├── DuplicateTaskError (ValueError)     an id already in use with other content
    ├── DuplicateAgentError (ValueError)    an agent id already in use
    ├── InvalidTransitionError (RuntimeError)   a lifecycle change that is not allowed now
    ├── VersionConflictError (RuntimeError)     optimistic concurrency: stale expected version
    ├── CapacityError (RuntimeError)        an agent has no room for that task
    ├── PolicyError (ValueError)            a scoring policy returned something unusable
    ├── RuleError (ValueError)              a rule set that cannot be compiled
    └── ErlangError (ValueError)            a queueing formula asked outside its domain

Messages name what was wrong, the value received and what was expected. A
value is shown through :func:`bounded_repr`, so a message stays short and
cheap to build whatever was handed in (a 4,000-digit integer, a document that
expands to millions of items).
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = [
    "CapacityError",
    "ClockError",
    "DuplicateAgentError",
    "DuplicateTaskError",
    "ErlangError",
    "InvalidInputError",
    "InvalidTransitionError",
    "LimitExceededError",
    "PolicyError",
    "RuleError",
    "UnknownAgentError",
    "UnknownTaskError",
    "ValueRouteError",
    "VersionConflictError",
    "bounded_repr",
]

MAX_SHOWN = 80
"""Characters of a value :func:`bounded_repr` shows by default."""


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` with shallow nesting and integers shown without converting them whole."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = MAX_SHOWN
        self.maxother = MAX_SHOWN
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an integer is quadratic in its digits and refused beyond
        # 4,300 of them: describe a long one by its size instead.
        if x.bit_length() > 128:
            sign = "negative " if x < 0 else ""
            return f"<{sign}integer of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)


_REPR = _BoundedRepr()


def bounded_repr(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` cut to at most ``limit`` characters, at a cost bounded by ``limit``.

    For messages that show a value a user handed in: long strings, huge
    integers and large or deeply nested containers (even ones whose items
    are shared many times over, as YAML aliases make them) are abbreviated
    rather than rendered whole. Objects of other types are shown by their own
    ``repr``, then cut.

    >>> bounded_repr("x" * 200, 20)
    "'xxxxxxxxxxxxxxxx..."
    >>> bounded_repr(10**5000)
    '<integer of about 5001 digits>'
    >>> bounded_repr([[[[1]]]])
    '[[[[...]]]]'
    """
    text = _REPR.repr(value)
    if len(text) > limit:
        text = text[: max(0, limit - 3)] + "..."
    return text


class ValueRouteError(Exception):
    """Root of every exception raised by valueroute."""


class InvalidInputError(ValueRouteError, ValueError):
    """Data handed to valueroute failed validation.

    ``errors`` lists every problem found as ``(field, value, expected)``
    triples, so a host can show them all at once instead of one per attempt.
    """

    def __init__(self, message: str, errors: list[tuple[str, Any, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[tuple[str, Any, str]] = list(errors or [])


class LimitExceededError(InvalidInputError):
    """Input beyond a documented size limit (attributes, skills, text length)."""


class ClockError(ValueRouteError, ValueError):
    """A time that is not finite, or earlier than a time already seen."""


class UnknownTaskError(ValueRouteError, KeyError):
    """No open task has the given id."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a sentence reads better unquoted.
        return str(self.args[0]) if self.args else ""


class UnknownAgentError(ValueRouteError, KeyError):
    """No agent has the given id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateTaskError(ValueRouteError, ValueError):
    """A task id is already in use by a task with other content."""


class DuplicateAgentError(ValueRouteError, ValueError):
    """An agent id is already in use."""


class InvalidTransitionError(ValueRouteError, RuntimeError):
    """A lifecycle change that the task's or agent's current state forbids."""


class VersionConflictError(ValueRouteError, RuntimeError):
    """An update carried an expected version that is no longer current."""


class CapacityError(ValueRouteError, RuntimeError):
    """An agent has no free capacity for the task's channel."""


class PolicyError(ValueRouteError, ValueError):
    """A scoring policy returned a score the task list cannot index."""


class RuleError(ValueRouteError, ValueError):
    """A rule set is malformed; raised at load time, never at dispatch time."""


class ErlangError(ValueRouteError, ValueError):
    """A queueing formula was asked for a value outside its domain."""
