"""Simulation inputs: duration distributions, arrival processes and random streams."""

from __future__ import annotations

from valueroute.sim.arrivals import (
    Arrival,
    ArrivalProcess,
    PoissonArrivals,
    ProfileArrivals,
    TraceArrivals,
    arrival_process_from,
    load_profile_csv,
    load_trace,
    merge_arrivals,
)
from valueroute.sim.distributions import (
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Sampler,
    Uniform,
    distribution_from,
)
from valueroute.sim.streams import RandomStreams, stream_key

__all__ = [
    "Arrival",
    "ArrivalProcess",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "PoissonArrivals",
    "ProfileArrivals",
    "RandomStreams",
    "Sampler",
    "TraceArrivals",
    "Uniform",
    "arrival_process_from",
    "distribution_from",
    "load_profile_csv",
    "load_trace",
    "merge_arrivals",
    "stream_key",
]

from valueroute.sim.metrics import ReplicationResult, mean_ci, student_t_quantile
from valueroute.sim.run import ComparisonResult, InlineExecutor, SimulationResult, compare, simulate
from valueroute.sim.scenario import (
    AgentGroup,
    Routing,
    Scenario,
    Shift,
    TaskType,
    load_scenario,
    parse_scenario,
)
from valueroute.sim.world import World, run_replication

__all__ += [
    "AgentGroup",
    "ComparisonResult",
    "InlineExecutor",
    "ReplicationResult",
    "Routing",
    "Scenario",
    "Shift",
    "SimulationResult",
    "TaskType",
    "World",
    "compare",
    "load_scenario",
    "mean_ci",
    "parse_scenario",
    "run_replication",
    "simulate",
    "student_t_quantile",
]

# Each area appends its own block of names, so this import follows the one above.
from valueroute.sim.staffing import (  # noqa: E402
    IntervalStaffingResult,
    StaffingResult,
    StaffingTarget,
    staff_by_simulation,
    staff_intervals_by_simulation,
)

__all__ += [
    "IntervalStaffingResult",
    "StaffingResult",
    "StaffingTarget",
    "staff_by_simulation",
    "staff_intervals_by_simulation",
]
