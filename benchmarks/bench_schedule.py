"""Shift scheduling speed and quality: the MIP against a greedy roster, and the repair loop.

Cases:
- A 96-interval day (quarter hours, open 06:00-23:00, two peaks) with 30
  shift templates (4, 6, 8, 9 and 10 hours, each in six start windows; the
  longer ones with two paid 15-minute breaks and an unpaid lunch, each in a
  window): :func:`valueroute.schedule.solve_schedule` proves the cheapest
  roster for peaks of 100, 200 and 300 agents on duty. Baseline, same run:
  the greedy rule planners use by hand (and the repair loop uses one
  interval at a time): while some interval is short, add the shift that
  covers the most missing agent-intervals per unit of cost, breaks placed
  where they leave the most shortfall covered. Printed: seconds, cost, and
  the greedy roster's extra cost.
- The simulate-and-repair loop on the same day as calls (peak load 0.92 ×
  300 Erlangs, 240 s exponential handle times, 20-minute mean patience) with
  the same templates: requirements from Erlang C for 80 % in 20 s per
  interval, the roster simulated (every break taken), shifts added where an
  interval misses 80 % in 20 s, until none does; 10 replications a round in
  a process pool on every core. Baseline, same run: simulating the first
  roster once (one round).

- A week of quarter hours (672 intervals) with days off (five consecutive
  working days): ten templates (the five lengths, each in a morning and an
  afternoon window), the day's shape every day and 60 % of it on Friday and
  Saturday, solved under a time limit (120 s by default). Printed: seconds,
  status, the proven gap and the cost.

Targets: days of up to 300 agents solved to optimality in under 10 s
(``--peaks`` takes any list, e.g. every tenth peak from 10 to 300); the
repair loop converging in under 2 minutes. Writes JSON to
benchmarks/results/bench_schedule.json.

    python benchmarks/bench_schedule.py [--peaks 100,200,300] [--repair-peak 300]
        [--replications 10] [--max-rounds 20] [--week-peak 60] [--week-limit 120]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from typing import Any

import numpy as np

from _timing import results_dir
from valueroute.erlang import staff_intervals
from valueroute.schedule import (
    BreakRule,
    ScheduleSpec,
    ShiftTemplate,
    repair_by_simulation,
    solve_schedule,
)
from valueroute.sim import Scenario
from valueroute.sim.staffing import StaffingTarget

DAY = 1440
LENGTHS: list[tuple[int, list[tuple[int, int, int, bool]]]] = [
    # (minutes, breaks as (minutes, earliest, latest, paid))
    (240, []),
    (360, [(15, 90, 180, True)]),
    (480, [(15, 60, 150, True), (30, 180, 300, False), (15, 330, 420, True)]),
    (540, [(15, 60, 150, True), (60, 210, 330, False), (15, 390, 480, True)]),
    (600, [(15, 60, 150, True), (60, 240, 360, False), (15, 420, 540, True)]),
]
WINDOWS = [(360, 540), (480, 660), (600, 780), (720, 900), (840, 1020), (960, 1140)]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_templates(
    close: int = DAY,
    windows: list[tuple[int, int]] = WINDOWS,
    labels: list[str] | None = None,
) -> list[ShiftTemplate]:
    """A template for each length and start window (30 by default), each window
    cut so shifts end by ``close``; named by length and ``labels`` (else the
    window's number)."""
    templates = []
    for length, breaks in LENGTHS:
        for window, (first, last) in enumerate(windows):
            latest = min(last, close - length)
            earliest = min(first, latest)
            label = labels[window] if labels else f"window {window + 1}"
            templates.append(
                ShiftTemplate(
                    name=f"{length / 60:g}h {label}",
                    starts=[f"{_clock(earliest)}-{_clock(latest)}"],
                    length_minutes=length,
                    breaks=[
                        BreakRule(minutes=m, earliest=e, latest=la, paid=p)
                        for m, e, la, p in breaks
                    ],
                    cost_per_hour=1.05 if length == 240 else 1.0,
                )
            )
    return templates


def day_requirements(peak: int) -> list[int]:
    """A 96-interval day with a late-morning and an afternoon peak, open 06:00-23:00."""
    hours = np.arange(96) / 4.0
    shape = np.exp(-(((hours - 11) / 2.5) ** 2)) + 0.8 * np.exp(-(((hours - 16) / 2.5) ** 2))
    shape = np.where((hours >= 6) & (hours < 23), shape + 0.08, 0.0)
    return [int(v) for v in np.ceil(peak * shape / shape.max())]


def greedy(spec: ScheduleSpec, requirement: list[int]) -> tuple[float, int]:
    """Cost and shifts of the greedy roster (see the module docstring)."""
    step = spec.interval_minutes
    short = np.array(requirement, dtype=np.int64)
    count = len(requirement)
    options = []
    for template in spec.templates:
        length = template.length_minutes // step
        for clock in template.start_minutes(step):
            first = clock // step
            if first + length <= count:
                options.append((template, first, length))
    cost = 0.0
    shifts = 0
    while short.max() > 0:
        best: tuple[float, np.ndarray[Any, Any]] | None = None
        for template, first, length in options:
            duty = np.zeros(count, dtype=bool)
            duty[first : first + length] = True
            for rule in template.breaks:
                size = rule.minutes // step
                starts = range(first + rule.earliest // step, first + rule.latest // step + 1)
                # The break goes where it uncovers the least shortfall.
                where = min(starts, key=lambda s: (short[s : s + size] > 0).sum())
                duty[where : where + size] = False
            gain = int((short[duty] > 0).sum())
            if gain == 0:
                continue
            score = gain / template.cost
            if best is None or score > best[0]:
                best = (score, duty)
                best_cost = template.cost
        assert best is not None, "an interval no template covers"
        short[best[1]] -= 1
        short = np.maximum(short, 0)
        cost += best_cost
        shifts += 1
    return cost, shifts


def solve_case(peak: int) -> dict[str, Any]:
    requirement = day_requirements(peak)
    spec = ScheduleSpec(interval_minutes=15, templates=day_templates())
    started = time.perf_counter()
    schedule = solve_schedule(requirement, spec)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    greedy_cost, greedy_shifts = greedy(spec, requirement)
    greedy_seconds = time.perf_counter() - started
    assert schedule.covered
    return {
        "peak": peak,
        "required_agent_hours": sum(requirement) / 4,
        "seconds": seconds,
        "status": schedule.status,
        "cost": schedule.cost,
        "shifts": schedule.agents,
        "paid_hours": schedule.paid_hours,
        "greedy_seconds": greedy_seconds,
        "greedy_cost": greedy_cost,
        "greedy_shifts": greedy_shifts,
        "greedy_extra_cost": greedy_cost / schedule.cost - 1.0,
    }


def week_templates() -> list[ShiftTemplate]:
    """Ten templates for a week: the five lengths, each in a morning and an afternoon window."""
    return day_templates(23 * 60, [(360, 600), (720, 960)], ["morning", "afternoon"])


def week_requirements(peak: int) -> list[int]:
    """Seven days of the solved day's shape, Friday and Saturday at 60 % of the others."""
    day = day_requirements(peak)
    week: list[int] = []
    for weekday in range(7):
        scale = 0.6 if weekday in (5, 6) else 1.0
        week.extend(math.ceil(v * scale) for v in day)
    return week


def solve_week(peak: int, limit: float) -> dict[str, Any]:
    """A week of quarter hours (672 intervals) with five consecutive working days per agent."""
    spec = ScheduleSpec(
        interval_minutes=15,
        templates=week_templates(),
        days_off={"work_days": 5, "consecutive": True},
        time_limit_seconds=limit,
    )
    started = time.perf_counter()
    schedule = solve_schedule(week_requirements(peak), spec)
    seconds = time.perf_counter() - started
    return {
        "peak": peak,
        "seconds": seconds,
        "status": schedule.status,
        "gap": schedule.gap,
        "cost": schedule.cost,
        "agents": sum(count for _, count in schedule.patterns),
    }


def repair_scenario(peak: int) -> tuple[Scenario, list[int]]:
    """The solved cases' day as calls: offered load peaking near ``peak`` agents' worth.

    Requirements are Erlang C's per interval for 80 % in 20 s; calls are
    Poisson within each quarter hour with exponential handle times (240 s)
    and patience (20 minutes on average).
    """
    aht = 240.0
    hours = np.arange(96) / 4.0
    shape = np.exp(-(((hours - 11) / 2.5) ** 2)) + 0.8 * np.exp(-(((hours - 16) / 2.5) ** 2))
    shape = np.where((hours >= 6) & (hours < 23), shape + 0.08, 0.0)
    load = 0.92 * peak * shape / shape.max()  # Erlangs
    volumes = [float(round(v)) for v in load * 900.0 / aht]
    plan = staff_intervals(volumes, interval=900.0, aht=aht, service_level=0.8, awt=20.0)
    scenario = Scenario.model_validate(
        {
            "horizon_seconds": 24 * 3600.0,
            "interval_minutes": 15,
            "seed": 11,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": aht},
                    "patience": {"kind": "exponential", "mean_seconds": 1200.0},
                    "sla_seconds": 20.0,
                }
            ],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": "calls",
                    "interval_minutes": 15,
                    "volumes": volumes,
                }
            ],
            "agent_groups": [{"name": "agents", "count": 1}],
        }
    )
    return scenario, [int(n) for n in plan.agents]


def repair_case(peak: int, replications: int, max_rounds: int) -> dict[str, Any]:
    scenario, requirement = repair_scenario(peak)
    spec = ScheduleSpec(interval_minutes=15, templates=day_templates())
    target = StaffingTarget(service_level=0.8, awt=20.0)
    started = time.perf_counter()
    one = repair_by_simulation(
        scenario, spec, requirement, targets=target, replications=replications, max_rounds=0
    )
    one_round = time.perf_counter() - started
    started = time.perf_counter()
    result = repair_by_simulation(
        scenario,
        spec,
        requirement,
        targets=target,
        replications=replications,
        max_rounds=max_rounds,
    )
    seconds = time.perf_counter() - started
    return {
        "peak": peak,
        "replications": replications,
        "workers": min(replications, os.cpu_count() or 1),
        "calls_per_replication": sum(
            a.expected_count()  # type: ignore[union-attr]
            for a in scenario.arrivals
        ),
        "seconds": seconds,
        "one_round_seconds": one_round,
        "first_round_missed": len({c.interval for c in one.checks if not c.met}),
        "converged": result.converged,
        "rounds": len(result.rounds),
        "initial_cost": result.initial.cost,
        "cost": result.schedule.cost,
        "added_cost_share": result.schedule.cost / result.initial.cost - 1.0,
        "solve_seconds": sum(r.solve_seconds for r in result.rounds),
        "simulate_seconds": [r.simulate_seconds for r in result.rounds],
        "reason": result.reason,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peaks", default="100,200,300", help="peak agents of the solved days")
    parser.add_argument("--repair-peak", type=int, default=300, help="peak of the repaired day")
    parser.add_argument("--replications", type=int, default=10, help="replications per round")
    parser.add_argument("--max-rounds", type=int, default=20, help="most repair rounds")
    parser.add_argument(
        "--week-peak", type=int, default=60, help="peak of the week with days off (0: skip)"
    )
    parser.add_argument("--week-limit", type=float, default=120.0, help="the week's time limit")
    args = parser.parse_args()
    peaks = [int(p) for p in args.peaks.split(",") if p]
    solved = []
    print("96-interval day, 30 templates: proven optimum against the greedy roster")
    print(
        f"{'peak':>5} {'seconds':>8} {'cost':>9} {'greedy s':>9} {'greedy cost':>12} {'extra':>7}"
    )
    for peak in peaks:
        row = solve_case(peak)
        solved.append(row)
        print(
            f"{peak:>5} {row['seconds']:>8.2f} {row['cost']:>9.1f} {row['greedy_seconds']:>9.2f} "
            f"{row['greedy_cost']:>12.1f} {row['greedy_extra_cost']:>7.1%}"
        )
    week = None
    if args.week_peak:
        week = solve_week(args.week_peak, args.week_limit)
        print(
            f"\na week with days off, 10 templates, peak {args.week_peak}: "
            f"{week['seconds']:.1f} s, {week['status']}, gap {week['gap']:.2%}, "
            f"cost {week['cost']:.1f}, {week['agents']} agents"
        )
    repaired = repair_case(args.repair_peak, args.replications, args.max_rounds)
    print(
        f"\nsimulate and repair, the same day as calls, peak {args.repair_peak}: "
        f"{repaired['seconds']:.1f} s for {repaired['rounds']} rounds "
        f"({repaired['one_round_seconds']:.1f} s for one), "
        f"{'converged' if repaired['converged'] else 'not converged'}, "
        f"{repaired['first_round_missed']} intervals missed at first, "
        f"cost +{repaired['added_cost_share']:.1%}"
    )
    worst = max((r["seconds"] for r in solved), default=math.nan)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "solve": solved,
        "repair": repaired,
        "week": week,
        "targets": {
            "solve_300_seconds": 10.0,
            "repair_seconds": 120.0,
            "solve_met": bool(worst < 10.0),
            "repair_met": bool(repaired["converged"] and repaired["seconds"] < 120.0),
        },
    }
    (results_dir() / "bench_schedule.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
