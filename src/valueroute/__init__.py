"""valueroute: value-based workload distribution and its simulator.

Score every task by business value, priority and due time; keep one
enterprise-wide list of open tasks in exact score order; hand the most
valuable task to the right agent; and run the same engine in a SimPy
simulation to answer what-if questions.

The names below are the stable public API. Submodules hold more:
:mod:`valueroute.erlang` (queueing formulas and staffing),
:mod:`valueroute.rules` (rule files), :mod:`valueroute.sim` (simulation
inputs and runs), :mod:`valueroute.datasets` (public call-centre data).
"""

from __future__ import annotations

import importlib
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
    from valueroute.engine import (
        Engine,
        Offer,
        StarvationGuard,
    )
    from valueroute.erlang import (
        erlang_a,
        erlang_b,
        erlang_c,
        required_agents,
        staff_intervals,
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
    from valueroute.journal import (
        DurableEngine,
        RecoveryReport,
        SQLiteStore,
        Store,
        SyncPolicy,
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
    from valueroute.sim.run import (
        ComparisonResult,
        SimulationResult,
        compare,
        simulate,
    )
    from valueroute.sim.scenario import (
        Scenario,
        load_scenario,
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
    "ComparisonResult": "valueroute.sim.run",
    "CompiledRules": "valueroute.rules",
    "Composite": "valueroute.scoring",
    "ContinuousRelaxation": "valueroute.relaxation",
    "DuplicateAgentError": "valueroute.errors",
    "DuplicateTaskError": "valueroute.errors",
    "DurableEngine": "valueroute.journal",
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
    "RecoveryReport": "valueroute.journal",
    "RelaxationStep": "valueroute.relaxation",
    "RequirementGroup": "valueroute.task",
    "Rescored": "valueroute.scoring",
    "RoundRobin": "valueroute.agents",
    "RuleError": "valueroute.errors",
    "RuleSet": "valueroute.rules",
    "SQLiteStore": "valueroute.journal",
    "Scenario": "valueroute.sim.scenario",
    "Segment": "valueroute.scoring",
    "SimulationResult": "valueroute.sim.run",
    "StarvationGuard": "valueroute.engine",
    "Store": "valueroute.journal",
    "StrictPriority": "valueroute.scoring",
    "SyncPolicy": "valueroute.journal",
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
    "compare": "valueroute.sim.run",
    "dry_run": "valueroute.rules",
    "erlang_a": "valueroute.erlang",
    "erlang_b": "valueroute.erlang",
    "erlang_c": "valueroute.erlang",
    "explain": "valueroute.scoring",
    "load_rules": "valueroute.rules",
    "load_scenario": "valueroute.sim.scenario",
    "policy_by_name": "valueroute.scoring",
    "required_agents": "valueroute.erlang",
    "selection_by_name": "valueroute.agents",
    "simulate": "valueroute.sim.run",
    "staff_intervals": "valueroute.erlang",
    "to_seconds": "valueroute.models",
}

__all__ = [
    "Agent",
    "AgentPool",
    "AgentSelection",
    "AgentSpec",
    "AgentState",
    "AgingPriority",
    "CMu",
    "CMuTheta",
    "CapacityError",
    "ClockError",
    "ComparisonResult",
    "CompiledRules",
    "Composite",
    "ContinuousRelaxation",
    "DuplicateAgentError",
    "DuplicateTaskError",
    "DurableEngine",
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
    "RecoveryReport",
    "RelaxationStep",
    "RequirementGroup",
    "Rescored",
    "RoundRobin",
    "RuleError",
    "RuleSet",
    "SQLiteStore",
    "Scenario",
    "Segment",
    "SimulationResult",
    "StarvationGuard",
    "Store",
    "StrictPriority",
    "SyncPolicy",
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
    "compare",
    "dry_run",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "explain",
    "load_rules",
    "load_scenario",
    "policy_by_name",
    "required_agents",
    "selection_by_name",
    "simulate",
    "staff_intervals",
    "to_seconds",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
