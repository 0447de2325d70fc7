"""Type aliases shared across valueroute.

Times inside the core are plain float seconds: on a live host, seconds since
the Unix epoch; in a simulation, SimPy's ``env.now``.
"""

from __future__ import annotations

from typing import TypeAlias

Seconds: TypeAlias = float
TaskId: TypeAlias = str
AgentId: TypeAlias = str
Score: TypeAlias = float
SkillName: TypeAlias = str
Channel: TypeAlias = str
AttributeValue: TypeAlias = str | int | float | bool | None

__all__ = [
    "AgentId",
    "AttributeValue",
    "Channel",
    "Score",
    "Seconds",
    "SkillName",
    "TaskId",
]
