"""valueroute: value-based workload distribution and its simulator.

Score every task by business value, priority and due time; keep one
enterprise-wide list of open tasks in exact score order; hand the most
valuable task to the right agent; and run the same engine in a SimPy
simulation to answer what-if questions.

The names below are what a host needs to route: the engine, specs,
policies, agent selections, rules, calendars, events and errors. The rest
lives in its subpackage, each with its own ``__all__``:
:mod:`valueroute.journal` (the durable engine), :mod:`valueroute.hosting`
(threads and asyncio), :mod:`valueroute.sim` (simulation),
:mod:`valueroute.erlang` (queueing formulas and staffing),
:mod:`valueroute.bench` (the policy benchmark), :mod:`valueroute.replay`
and :mod:`valueroute.datasets` (real call-centre days),
:mod:`valueroute.forecast` (forecasts, handle times and patience from
history), :mod:`valueroute.kpi` (KPIs from the event stream) and
:mod:`valueroute.expressions` (requirement expressions over agent attributes).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from valueroute._version import __version__

if TYPE_CHECKING:
    from valueroute.agents import (
        Agent,
        AgentPool,
        AgentSelection,
        AgentState,
        FewestTasks,
        LeastOccupied,
        LeastSkilled,
        LeastTalkTime,
        LongestIdle,
        MostProficient,
        Presence,
        RandomAgent,
        RoundRobin,
        TopDown,
        selection_by_name,
    )
    from valueroute.calendar import BusinessCalendar
    from valueroute.engine import (
        Engine,
        Offer,
        StarvationGuard,
    )
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
    from valueroute.events import (
        Event,
        EventKind,
    )
    from valueroute.models import (
        AgentSpec,
        TaskSpec,
        to_seconds,
    )
    from valueroute.relaxation import (
        ContinuousRelaxation,
        RelaxationStep,
    )
    from valueroute.rules import (
        CompiledRules,
        RuleSet,
        dry_run,
        load_rules,
    )
    from valueroute.scoring import (
        AgingPriority,
        CMu,
        CMuTheta,
        Composite,
        EarliestDue,
        Explanation,
        Fifo,
        Kleinrock,
        LeastSlack,
        Policy,
        PriorityRamp,
        Rescored,
        Segment,
        StrictPriority,
        ValueAtRisk,
        as_policy,
        explain,
        policy_by_name,
    )
    from valueroute.task import (
        RequirementGroup,
        Task,
        TaskState,
    )
    from valueroute.tasklist import (
        TaskList,
    )

# Where each public name lives. Submodules load on first use (PEP 562), so a
# host that routes with the engine never loads the simulator, the journal or
# the Erlang formulas.
_HOME: dict[str, str] = {
    "BusinessCalendar": "valueroute.calendar",
    "Agent": "valueroute.agents",
    "AgentPool": "valueroute.agents",
    "AgentSelection": "valueroute.agents",
    "AgentSpec": "valueroute.models",
    "AgentState": "valueroute.agents",
    "AgingPriority": "valueroute.scoring",
    "CMu": "valueroute.scoring",
    "CMuTheta": "valueroute.scoring",
    "CapacityError": "valueroute.errors",
    "ClockError": "valueroute.errors",
    "CompiledRules": "valueroute.rules",
    "Composite": "valueroute.scoring",
    "ContinuousRelaxation": "valueroute.relaxation",
    "DuplicateAgentError": "valueroute.errors",
    "DuplicateTaskError": "valueroute.errors",
    "EarliestDue": "valueroute.scoring",
    "Engine": "valueroute.engine",
    "ErlangError": "valueroute.errors",
    "Event": "valueroute.events",
    "EventKind": "valueroute.events",
    "Explanation": "valueroute.scoring",
    "FewestTasks": "valueroute.agents",
    "Fifo": "valueroute.scoring",
    "InvalidInputError": "valueroute.errors",
    "InvalidTransitionError": "valueroute.errors",
    "Kleinrock": "valueroute.scoring",
    "LeastOccupied": "valueroute.agents",
    "LeastSkilled": "valueroute.agents",
    "LeastSlack": "valueroute.scoring",
    "LeastTalkTime": "valueroute.agents",
    "LimitExceededError": "valueroute.errors",
    "LongestIdle": "valueroute.agents",
    "MostProficient": "valueroute.agents",
    "Offer": "valueroute.engine",
    "Policy": "valueroute.scoring",
    "PolicyError": "valueroute.errors",
    "Presence": "valueroute.agents",
    "PriorityRamp": "valueroute.scoring",
    "RandomAgent": "valueroute.agents",
    "RelaxationStep": "valueroute.relaxation",
    "RequirementGroup": "valueroute.task",
    "Rescored": "valueroute.scoring",
    "RoundRobin": "valueroute.agents",
    "RuleError": "valueroute.errors",
    "RuleSet": "valueroute.rules",
    "Segment": "valueroute.scoring",
    "StarvationGuard": "valueroute.engine",
    "StrictPriority": "valueroute.scoring",
    "Task": "valueroute.task",
    "TaskList": "valueroute.tasklist",
    "TaskSpec": "valueroute.models",
    "TaskState": "valueroute.task",
    "TopDown": "valueroute.agents",
    "UnknownAgentError": "valueroute.errors",
    "UnknownTaskError": "valueroute.errors",
    "ValueAtRisk": "valueroute.scoring",
    "ValueRouteError": "valueroute.errors",
    "VersionConflictError": "valueroute.errors",
    "as_policy": "valueroute.scoring",
    "dry_run": "valueroute.rules",
    "explain": "valueroute.scoring",
    "load_rules": "valueroute.rules",
    "policy_by_name": "valueroute.scoring",
    "selection_by_name": "valueroute.agents",
    "to_seconds": "valueroute.models",
}

# Top-level names of 0.1 development builds that now live in their subpackage:
# still importable from here, with a DeprecationWarning, until 0.2.
_MOVED: dict[str, str] = {
    "ComparisonResult": "valueroute.sim",
    "DurableEngine": "valueroute.journal",
    "RecoveryReport": "valueroute.journal",
    "SQLiteStore": "valueroute.journal",
    "Scenario": "valueroute.sim",
    "SimulationResult": "valueroute.sim",
    "Store": "valueroute.journal",
    "SyncPolicy": "valueroute.journal",
    "compare": "valueroute.sim",
    "erlang_a": "valueroute.erlang",
    "erlang_b": "valueroute.erlang",
    "erlang_c": "valueroute.erlang",
    "load_scenario": "valueroute.sim",
    "required_agents": "valueroute.erlang",
    "simulate": "valueroute.sim",
    "staff_intervals": "valueroute.erlang",
}

__all__ = [
    "Agent",
    "AgentPool",
    "AgentSelection",
    "AgentSpec",
    "AgentState",
    "AgingPriority",
    "BusinessCalendar",
    "CMu",
    "CMuTheta",
    "CapacityError",
    "ClockError",
    "CompiledRules",
    "Composite",
    "ContinuousRelaxation",
    "DuplicateAgentError",
    "DuplicateTaskError",
    "EarliestDue",
    "Engine",
    "ErlangError",
    "Event",
    "EventKind",
    "Explanation",
    "FewestTasks",
    "Fifo",
    "InvalidInputError",
    "InvalidTransitionError",
    "Kleinrock",
    "LeastOccupied",
    "LeastSkilled",
    "LeastSlack",
    "LeastTalkTime",
    "LimitExceededError",
    "LongestIdle",
    "MostProficient",
    "Offer",
    "Policy",
    "PolicyError",
    "Presence",
    "PriorityRamp",
    "RandomAgent",
    "RelaxationStep",
    "RequirementGroup",
    "Rescored",
    "RoundRobin",
    "RuleError",
    "RuleSet",
    "Segment",
    "StarvationGuard",
    "StrictPriority",
    "Task",
    "TaskList",
    "TaskSpec",
    "TaskState",
    "TopDown",
    "UnknownAgentError",
    "UnknownTaskError",
    "ValueAtRisk",
    "ValueRouteError",
    "VersionConflictError",
    "__version__",
    "as_policy",
    "dry_run",
    "explain",
    "load_rules",
    "policy_by_name",
    "selection_by_name",
    "to_seconds",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        moved_to = _MOVED.get(name)
        if moved_to is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(
            f"valueroute.{name} moved to {moved_to}.{name}; import it from there "
            "(the top-level name goes in valueroute 0.2)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(moved_to), name)
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
