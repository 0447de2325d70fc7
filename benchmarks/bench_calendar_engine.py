"""Working-time due times and aging in engine and task list, against wall time in the same run.

Calendar: Europe/Berlin, two ranges a weekday (08:00-12:00, 13:00-18:00).

- submit: ``Engine.submit`` of prepared specs, ``TaskSpec(calendar="office",
  due_in=8 h)`` (the engine computes ``calendar.add(now, due_in)``) against
  ``TaskSpec(due=now + 8 h)``; no agents, so each task is filed in the list.
  Target: at most 1.3x.
- best: ``TaskList.best`` over a list of waiting tasks under
  ``AgingPriority(clock="working")`` against ``AgingPriority()``, the query
  time moving ``--step`` seconds per query over ``--queries`` queries, so the
  working-time run crosses openings and closings (scores on the calendar's
  clock: nothing is re-filed there). Target: at most 1.3x.
- rules: ``CompiledRules.apply`` of two prioritisation rules on
  ``working_age`` and ``working_time_to_due`` to tasks with the calendar,
  against the same rules on ``age`` and ``time_to_due``. No target: the
  price of counting business hours in a condition (two calendar look-ups
  each, against an addition).

    python benchmarks/bench_calendar_engine.py [--tasks 20000] [--queries 20000] [--step 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import time

from _timing import best_seconds, results_dir
from valueroute import AgingPriority, Engine, TaskList, TaskSpec
from valueroute.calendar import BusinessCalendar
from valueroute.rules import load_rules
from valueroute.task import Task

TARGET_RATIO = 1.3


def office() -> BusinessCalendar:
    ranges = [("08:00", "12:00"), ("13:00", "18:00")]
    return BusinessCalendar(
        timezone="Europe/Berlin",
        hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ranges),
        name="office",
    )


def bench_submit(calendar: BusinessCalendar, tasks: int, repeats: int) -> tuple[float, float]:
    start = dt.datetime(2026, 12, 7, 9, 0, tzinfo=calendar.zone).timestamp()
    working = [TaskSpec(id=f"w{i}", calendar="office", due_in=8 * 3600.0) for i in range(tasks)]
    wall = [TaskSpec(id=f"v{i}", due=start + i * 0.01 + 8 * 3600.0) for i in range(tasks)]

    def run(specs: list[TaskSpec]) -> None:
        now = [start]
        engine = Engine(clock=lambda: now[0], calendars={"office": calendar}, offer_timeout=None)
        submit = engine.submit
        for spec in specs:
            now[0] += 0.01
            submit(spec)

    return best_seconds(lambda: run(working), repeats), best_seconds(lambda: run(wall), repeats)


def bench_best(
    calendar: BusinessCalendar, tasks: int, queries: int, step: float, repeats: int
) -> tuple[float, float, int]:
    rng = random.Random(7)
    start = dt.datetime(2026, 12, 7, 7, 0, tzinfo=calendar.zone).timestamp()
    created = [start - rng.uniform(0, 5 * 86_400) for _ in range(tasks)]
    priorities = [rng.randrange(0, 5) for _ in range(tasks)]
    end = start + queries * step
    crossings = 0
    t = start
    while True:
        t = calendar.next_open(t) if not calendar.is_open(t) else calendar.next_close(t)
        if t > end:
            break
        crossings += 1

    def build(policy: AgingPriority) -> tuple[TaskList, list[object]]:
        task_list = TaskList(policy)
        for seq in range(tasks):
            task = Task(id=f"t{seq}", seq=seq, created=created[seq], priority=priorities[seq])
            task.calendar = calendar
            task_list.add(task, now=start)
        return task_list, list(task_list._groups.values())

    def run(policy: AgingPriority) -> float:
        task_list, groups = build(policy)
        best = task_list.best
        begin = time.perf_counter()
        now = start
        for _ in range(queries):
            now += step
            best(groups, now)  # type: ignore[arg-type]
        return time.perf_counter() - begin

    def fastest(policy_of: type[AgingPriority], clock: str) -> float:
        run(policy_of(600, clock=clock))  # type: ignore[arg-type]
        return min(run(policy_of(600, clock=clock)) for _ in range(repeats))  # type: ignore[arg-type]

    return fastest(AgingPriority, "working"), fastest(AgingPriority, "wall"), crossings


def bench_rules(calendar: BusinessCalendar, tasks: int, repeats: int) -> tuple[float, float]:
    rng = random.Random(11)
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=calendar.zone).timestamp()
    records = []
    for seq in range(tasks):
        created = now - rng.uniform(0, 5 * 86_400)
        task = Task(
            id=f"t{seq}", seq=seq, created=created, due=created + rng.uniform(0, 3 * 86_400)
        )
        task.calendar = calendar
        records.append(task)

    def rules(age: str, to_due: str) -> object:
        return load_rules(
            {
                "name": "escalation",
                "prioritisation": {
                    "mode": "all",
                    "rules": [
                        {
                            "name": "old",
                            "when": {"field": age, "op": ">=", "value": 7200},
                            "then": {"add_priority": 2},
                        },
                        {
                            "name": "late",
                            "when": {"field": to_due, "op": "<", "value": 3600},
                            "then": {"add_priority": 3},
                        },
                    ],
                },
            }
        )

    def run(compiled: object) -> None:
        apply = compiled.apply  # type: ignore[attr-defined]
        for task in records:
            apply(task, now)

    working = rules("working_age", "working_time_to_due")
    wall = rules("age", "time_to_due")
    return best_seconds(lambda: run(working), repeats), best_seconds(lambda: run(wall), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--step", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    calendar = office()
    calendar.add(dt.datetime(2026, 1, 2, tzinfo=calendar.zone).timestamp(), 1.0)  # tabulate

    working_submit, wall_submit = bench_submit(calendar, args.tasks, args.repeats)
    working_best, wall_best, crossings = bench_best(
        calendar, args.tasks, args.queries, args.step, args.repeats
    )
    working_rules, wall_rules = bench_rules(calendar, args.tasks, args.repeats)
    rows = [
        ("submit", args.tasks, working_submit, wall_submit),
        ("best", args.queries, working_best, wall_best),
        ("rules", args.tasks, working_rules, wall_rules),
    ]
    results = []
    print(f"{'operation':<10} {'working us':>11} {'wall us':>9} {'ratio':>7} {'target':>8}")
    for name, count, working, wall in rows:
        ratio = working / wall
        target = None if name == "rules" else TARGET_RATIO
        print(
            f"{name:<10} {working / count * 1e6:>11.2f} {wall / count * 1e6:>9.2f} "
            f"{ratio:>6.2f}x {'-' if target is None else f'<= {target}x':>8}"
        )
        results.append(
            {
                "operation": name,
                "count": count,
                "working_us_each": working / count * 1e6,
                "wall_us_each": wall / count * 1e6,
                "ratio": ratio,
                "target_ratio": target,
            }
        )
    print(f"best: {crossings} openings and closings crossed over {args.tasks} waiting tasks")
    out = results_dir() / "bench_calendar_engine.json"
    out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "tasks": args.tasks,
                "queries": args.queries,
                "step_seconds": args.step,
                "crossings": crossings,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
