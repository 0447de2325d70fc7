"""Shift scheduling: from required headcounts per interval to the cheapest set of shifts.

A workforce plan says how many agents must be on duty in each interval
(:func:`valueroute.erlang.staff_intervals`, or simulation through
:func:`valueroute.sim.staffing.staff_intervals_by_simulation`). People do not
work intervals, they work shifts: a start, a length, breaks somewhere in a
window, days off on a longer horizon. :func:`solve_schedule` chooses how many
shifts of each template start at each allowed time, and where their breaks
go, so that every interval has at least its requirement on duty (not on a
break) at the lowest cost: a mixed-integer program solved by HiGHS through
:func:`scipy.optimize.milp` (the ``[planning]`` extra).

The program (Dantzig's set-covering model with Bechtold and Jacobs' implicit
breaks):

* ``x[o]``: shifts of option *o* (a template starting at one allowed time on
  one day), integer;
* ``w[f, p]``: breaks of family *f* (one template's break rule, over one run
  of overlapping windows) starting at interval *p*, integer. Breaks are not
  tied to shifts in the program: a family has as many breaks as shifts, at
  least as many breaks up to each latest break start as shifts whose window
  has closed, and at least as many from each earliest start as shifts whose
  window opens there. For windows of one length these (Hall's conditions)
  are exactly what lets every shift take one break in its window; the
  matching is made afterwards, earliest deadline first;
* on duty in interval *t*: ``Σ x[o] covering t − Σ w[f, p] covering t``,
  at least ``max(requirement[t], min_headcount[t])`` and at most
  ``max_headcount[t]``;
* both sums, and the conditions on breaks, are kept as running counts
  (continuous variables, one row an interval: shifts on duty now = an
  interval ago + starting − ending; breaks taken so far − shifts whose
  window has closed ≥ 0), so every variable appears in a few rows: the
  same linear program with about a ninth of the nonzeros;
* with ``days_off``, ``y[q]`` agents work the days of pattern *q* (every way of
  choosing ``work_days`` days, optionally with the days off in one block) and
  the shifts starting on day *d* equal the agents whose pattern works *d*;
* the cost is ``Σ x[o] × paid hours × cost_per_hour`` of each shift. With a
  ``budget`` the cost may not exceed it, coverage may fall short, and each
  missing agent-hour costs ``shortage_cost_per_hour`` in the objective.

Every cost is a whole multiple of one unit (0.1 for costs 4.2, 6 and 7.5),
so a roster within less than one unit of the solver's lower bound is proven
optimal; that is where the solver stops by default.

:func:`repair_by_simulation` then runs the roster through the simulator
(breaks included, as :class:`~valueroute.sim.scenario.Shift` breaks) and, in
each interval where the simulated service misses a target, adds the cheapest
shifts that give it one more agent on duty (the same program, with the
roster so far as a floor), until the targets hold or a round limit is
reached.

Everything a user hands in is validated by pydantic models
(:class:`ShiftTemplate`, :class:`BreakRule`, :class:`DaysOff`,
:class:`ScheduleSpec`); :func:`load_schedule_spec` reads a spec from TOML,
JSON or YAML. Inputs that cannot be scheduled at all (a requirement above
the maximum headcount, an interval no shift can cover, a break window that
leaves the shift) raise :class:`InfeasibleScheduleError` before the solver
runs, naming the field and the interval.
"""

from valueroute.schedule._repair import (
    IntervalCheck,
    RepairResult,
    RepairRound,
    repair_by_simulation,
    roster_scenario,
)
from valueroute.schedule._result import Schedule, ScheduledBreak, ScheduledShift
from valueroute.schedule._solve import solve_schedule
from valueroute.schedule._spec import (
    MAX_INTERVALS,
    MAX_PATTERNS,
    BreakRule,
    DaysOff,
    InfeasibleScheduleError,
    ScheduleSpec,
    ShiftTemplate,
    load_schedule_spec,
    parse_schedule_spec,
    requirements_from,
)

__all__ = [
    "MAX_INTERVALS",
    "MAX_PATTERNS",
    "BreakRule",
    "DaysOff",
    "InfeasibleScheduleError",
    "IntervalCheck",
    "RepairResult",
    "RepairRound",
    "Schedule",
    "ScheduleSpec",
    "ScheduledBreak",
    "ScheduledShift",
    "ShiftTemplate",
    "load_schedule_spec",
    "parse_schedule_spec",
    "repair_by_simulation",
    "requirements_from",
    "roster_scenario",
    "solve_schedule",
]
