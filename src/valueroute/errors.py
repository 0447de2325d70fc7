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

Messages name what was wrong, the value received and what was expected.
"""

from __future__ import annotations

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
]


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
