"""valueroute: value-based workload distribution and its simulator.

Score every task by business value, priority and due time; keep one
enterprise-wide list of open tasks in exact score order; hand the most
valuable task to the right agent; and run the same engine in a SimPy
simulation to answer what-if questions.
"""

from __future__ import annotations

from valueroute.errors import (
    CapacityError,
    ClockError,
    DuplicateAgentError,
    DuplicateTaskError,
    ErlangError,
    InvalidInputError,
    InvalidTransitionError,
    LimitExceededError,
    PolicyError,
    RuleError,
    UnknownAgentError,
    UnknownTaskError,
    ValueRouteError,
    VersionConflictError,
)
from valueroute.models import AgentSpec, TaskSpec, to_seconds
from valueroute.scoring import AgingPriority, Fifo, Policy, Rescored, Segment, StrictPriority
from valueroute.task import RequirementGroup, Task
from valueroute.tasklist import TaskList

__version__ = "0.1.0"

__all__ = [
    "AgentSpec",
    "AgingPriority",
    "CapacityError",
    "ClockError",
    "DuplicateAgentError",
    "DuplicateTaskError",
    "ErlangError",
    "Fifo",
    "InvalidInputError",
    "InvalidTransitionError",
    "LimitExceededError",
    "Policy",
    "PolicyError",
    "RequirementGroup",
    "Rescored",
    "RuleError",
    "Segment",
    "StrictPriority",
    "Task",
    "TaskList",
    "TaskSpec",
    "UnknownAgentError",
    "UnknownTaskError",
    "ValueRouteError",
    "VersionConflictError",
    "__version__",
    "to_seconds",
]
