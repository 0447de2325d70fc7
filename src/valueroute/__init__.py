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

from valueroute._version import __version__
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
from valueroute.engine import Engine, Offer, StarvationGuard
from valueroute.erlang import erlang_a, erlang_b, erlang_c, required_agents, staff_intervals
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
from valueroute.events import Event, EventKind
from valueroute.journal import DurableEngine, RecoveryReport, SQLiteStore, Store, SyncPolicy
from valueroute.models import AgentSpec, TaskSpec, to_seconds
from valueroute.relaxation import ContinuousRelaxation, RelaxationStep
from valueroute.rules import CompiledRules, RuleSet, dry_run, load_rules
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
from valueroute.sim.run import ComparisonResult, SimulationResult, compare, simulate
from valueroute.sim.scenario import Scenario, load_scenario
from valueroute.task import RequirementGroup, Task, TaskState
from valueroute.tasklist import TaskList

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
