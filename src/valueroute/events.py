"""Events: every state change of the engine, in order.

Each :class:`Event` carries a sequence number that increases by one per event,
the engine time it happened at, its :class:`EventKind`, the task and agent it
concerns, and a small JSON-ready ``data`` mapping. Subscribers, the journal
and the simulator's statistics all read the same events.

JSON form (one object per event, see :meth:`Event.to_dict`)::

    {"seq": 12, "time": 1700000000.5, "kind": "task_offered",
     "task": "t-17", "agent": "ann", "data": {"expires": 1700000030.5}}
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn

from valueroute.errors import InvalidInputError, bounded_repr

__all__ = ["Event", "EventKind"]


class EventKind(StrEnum):
    """What happened."""

    task_submitted = "task_submitted"
    task_queued = "task_queued"
    task_updated = "task_updated"
    task_offered = "task_offered"
    offer_accepted = "offer_accepted"
    offer_rejected = "offer_rejected"
    offer_timed_out = "offer_timed_out"
    offer_revoked = "offer_revoked"
    task_assigned = "task_assigned"
    task_held = "task_held"
    task_resumed = "task_resumed"
    task_deferred = "task_deferred"
    task_transferred = "task_transferred"
    task_relaxed = "task_relaxed"
    preference_ended = "preference_ended"
    """A task's time to wait for its preferred agents is up: anyone eligible may take it."""
    task_overflowed = "task_overflowed"
    """A task went to another queue: its queue was full when it arrived
    (``reason="max_length"``) or it waited there ``max_wait`` (``"max_wait"``)."""
    queue_limit_reached = "queue_limit_reached"
    """A queue's limit was passed and its action is to tell: ``limit`` names it."""
    workflow_step = "workflow_step"
    """A task entered a step of its workflow (``step``: its index; ``None`` after
    the last, with the final action in ``then``), for ``reason``: ``start``,
    ``timeout`` or the trigger that held."""
    task_wrap_up = "task_wrap_up"
    task_completed = "task_completed"
    task_canceled = "task_canceled"
    task_rejected = "task_rejected"
    task_expired = "task_expired"
    sla_warning = "sla_warning"
    """A task's due time is ``sla_warning`` seconds away and the task is still open."""
    sla_breached = "sla_breached"
    agent_added = "agent_added"
    agent_removed = "agent_removed"
    agent_state_changed = "agent_state_changed"
    policy_changed = "policy_changed"
    rules_changed = "rules_changed"


_NO_DATA: Mapping[str, Any] = MappingProxyType({})


class Event(NamedTuple):
    """One state change.

    An immutable named tuple: the engine makes several per task, and a tuple
    is the cheapest immutable record Python builds.
    """

    seq: int
    time: float
    kind: EventKind
    task: str | None = None
    agent: str | None = None
    data: Mapping[str, Any] = _NO_DATA

    def to_dict(self) -> dict[str, Any]:
        """A plain dict with JSON-ready values."""
        return {
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind.value,
            "task": self.task,
            "agent": self.agent,
            "data": dict(self.data),
        }

    def to_json(self) -> str:
        """One line of JSON (the JSON Lines export format)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_dict` output.

        ``data`` is a mapping with ``seq`` (an integer >= 0), ``time`` (a
        finite number of seconds), ``kind`` (an :class:`EventKind` value) and,
        optionally, ``task`` and ``agent`` (a string or ``None``) and ``data``
        (a mapping or ``None``). Anything else raises
        :class:`~valueroute.errors.InvalidInputError` naming the field, with
        the value cut short.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(
                f"event: got {bounded_repr(data)} of type {type(data).__name__} "
                "(expected a mapping with seq, time and kind)"
            )
        for name in ("seq", "time", "kind"):
            if name not in data:
                raise InvalidInputError(
                    f"{name}: missing from {bounded_repr(data)} (expected every event to have one)"
                )
        seq = data["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            _refuse("seq", seq, "an integer >= 0")
        time = data["time"]
        # Compared, not converted: an integer beyond float range cannot be; nan fails too.
        if (
            isinstance(time, bool)
            or not isinstance(time, int | float)
            or not -_FLOAT_MAX <= time <= _FLOAT_MAX
        ):
            _refuse("time", time, "a finite number of seconds")
        kind = data["kind"]
        if not isinstance(kind, str) or kind not in _KINDS:
            _refuse("kind", kind, "an event kind such as 'task_submitted'")
        task = data.get("task")
        agent = data.get("agent")
        for name, label in (("task", task), ("agent", agent)):
            if label is not None and not isinstance(label, str):
                _refuse(name, label, "an id string or None")
        payload = data.get("data")
        if payload is not None and not isinstance(payload, Mapping):
            _refuse("data", payload, "a mapping or None")
        return cls(
            seq=seq,
            time=float(time),
            kind=_KINDS[kind],
            task=task,
            agent=agent,
            data=dict(payload or {}),
        )


_KINDS: dict[str, EventKind] = {kind.value: kind for kind in EventKind}
_FLOAT_MAX = sys.float_info.max


def _refuse(field: str, value: object, expected: str) -> NoReturn:
    raise InvalidInputError(
        f"{field}: got {bounded_repr(value)} of type {type(value).__name__} (expected {expected})",
        [(field, value, expected)],
    )
