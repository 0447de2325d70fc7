"""Workflow trigger readings with many tasks waiting, against a scan of the same state.

Scenario: ``--waiting`` tasks (4,000 by default) wait in the first step of a
workflow whose step reads the oldest wait of its queue every 5 s (a
threshold never reached, so every task is read again at every round), with
``--agents`` agents registered (1,000), half of them serving the queue,
none logged on. A second engine does the same with an expected-wait
trigger.

Measured, per trigger kind:

- *round*: one ``advance()`` that reads every waiting task's trigger once,
  per task read;
- *baseline*: what one reading cost when the engine scanned for it, in the
  same run on the same engine: the oldest wait as the maximum over every
  task in a queue, the serving agents as every registered agent asked
  whether the queue admits it (the code the engine ran before these
  readings were indexed), per reading;
- *submit*: a submission into the step, which reads the triggers once.

Writes JSON to benchmarks/results/bench_workflow_triggers.json.

    python benchmarks/bench_workflow_triggers.py [--waiting 4000] [--agents 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

from _timing import best_seconds, results_dir
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.agents import Presence
from valueroute.engine import TaskState
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep


def build(kind: str, waiting: int, agents: int) -> tuple[Engine, list[float], float]:
    clock = [0.0]
    trigger: dict[str, Any] = (
        {"oldest_wait_at_least": 1e9} if kind == "oldest_wait" else {"expected_wait_at_least": 1e9}
    )
    engine = Engine(
        clock=lambda: clock[0],
        queues=[QueueSpec(name="desk", skills={"claims": 1})],
        workflows=[
            WorkflowSpec(
                name="escalate",
                types=["case"],
                check_every=5.0,
                steps=[WorkflowStep(queue="desk", **trigger), WorkflowStep()],
            )
        ],
    )
    for number in range(agents):
        skills = {"claims": 1} if number % 2 else {"mail": 1}
        engine.add_agent(AgentSpec(id=f"a{number}", skills=skills))
    if kind == "expected_wait":
        # Someone serving the queue is logged on, so that the expected wait is
        # finite and the trigger does not hold: every task stays to be read.
        engine.set_agent_state("a1", "not_ready")
    start = time.perf_counter()
    for number in range(waiting):
        engine.submit(TaskSpec(id=f"t{number}", type="case", skills={"claims": 1}))
    submit = (time.perf_counter() - start) / waiting
    return engine, clock, submit


def scanned_oldest(engine: Engine, now: float) -> float:
    """The oldest wait as the engine found it by scanning (the baseline)."""
    queue = engine._queues["desk"]
    return max(
        (
            now - since
            for task_id, (since, _) in engine._in_queue_since.items()
            if engine._tasks[task_id].queue is queue
            and engine._tasks[task_id].state is TaskState.queued
        ),
        default=0.0,
    )


def scanned_serving(engine: Engine) -> int:
    """Serving agents logged on, asking every agent (the baseline)."""
    queue = engine._queues["desk"]
    serving = [
        agent
        for agent in engine.agents
        if queue.admits(agent.skills, agent.profile.attributes, agent.profile.listed)
    ]
    return sum(1 for agent in serving if agent.presence is not Presence.offline)


def measure(kind: str, waiting: int, agents: int) -> dict[str, Any]:
    engine, clock, submit = build(kind, waiting, agents)
    assert engine.next_wakeup() == 5.0
    clock[0] = 5.0
    start = time.perf_counter()
    fired = engine.advance()
    round_seconds = time.perf_counter() - start
    assert fired >= waiting
    assert all(engine.explain(f"t{n}")["workflow_step"] == 0 for n in range(0, waiting, 97))
    if kind == "oldest_wait":
        assert scanned_oldest(engine, 5.0) == engine._oldest_wait(engine._queues["desk"], 5.0)
        repeats = max(3, min(50, 200_000 // max(1, waiting)))
        baseline = best_seconds(lambda: scanned_oldest(engine, 5.0), repeats)
    else:
        repeats = max(3, min(50, 200_000 // max(1, agents)))
        baseline = best_seconds(lambda: scanned_serving(engine), repeats)
    per_reading = round_seconds / waiting
    return {
        "kind": kind,
        "waiting": waiting,
        "agents": agents,
        "round_ms": round_seconds * 1e3,
        "per_reading_us": per_reading * 1e6,
        "baseline_scan_us": baseline * 1e6,
        "scan_over_reading": baseline / per_reading,
        "submit_us": submit * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=4000)
    parser.add_argument("--agents", type=int, default=1000)
    args = parser.parse_args()
    rows = [measure(kind, args.waiting, args.agents) for kind in ("oldest_wait", "expected_wait")]
    print(f"{args.waiting:,} tasks waiting in a step with a trigger, {args.agents:,} agents")
    head = ("trigger", "round", "per reading", "scan (before)", "submit")
    print(f"{head[0]:15s} {head[1]:>10s} {head[2]:>12s} {head[3]:>14s} {head[4]:>10s}")
    for row in rows:
        print(
            f"{row['kind']:15s} {row['round_ms']:8.1f} ms {row['per_reading_us']:9.1f} us "
            f"{row['baseline_scan_us']:11.1f} us {row['submit_us']:7.1f} us"
            f"   (scan / reading: {row['scan_over_reading']:.0f}x)"
        )
    out = results_dir() / "bench_workflow_triggers.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "workflow_triggers",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"written: {out.name}")


if __name__ == "__main__":
    main()
