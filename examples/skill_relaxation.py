"""Skill relaxation: a waiting task widens the pool of agents who may take it.

A generalist with tax level 3 is the only agent ready; the tasks ask for more.

- Stepwise (Genesys bullseye rings, Amazon Connect routing steps): a French
  tax case asking for level 4 accepts one level less after 30 s, and no
  longer needs French after 60 s, when the generalist gets it.
- Continuous: each required level decays by 0.05 a second of waiting, twice
  as fast for a case worth ``value_scale``; the engine moves the requirement
  to an agent's level at the moment the decay reaches it, so the valuable
  case reaches the generalist at 10 s and the routine one at 20 s.

Each ``task_relaxed`` event says what the task requires from then on; the
clock is a plain variable the example moves, as a simulator would.

    python examples/skill_relaxation.py
"""

from __future__ import annotations

from valueroute import AgentSpec, ContinuousRelaxation, Engine, RelaxationStep, TaskSpec


def show(engine: Engine) -> None:
    engine.subscribe(
        lambda event: print(
            f"  t={event.time:>4g}s  {event.task}: {event.kind.value}"
            + (f" to {event.agent}" if event.agent else f" {event.data}")
        ),
        kinds=["task_relaxed", "task_offered"],
    )


def advance_to(engine: Engine, now: list[float], until: float) -> None:
    """Move the clock to ``until``, stopping at every moment the engine has work."""
    while engine.next_wakeup() <= until:
        now[0] = engine.next_wakeup()
        engine.advance()
    now[0] = until


def main() -> None:
    now = [0.0]
    print("Stepwise: one level less at 30 s, French no longer needed at 60 s")
    stepwise = Engine(
        clock=lambda: now[0],
        relaxation=[
            RelaxationStep(after=30.0, lower_by=1.0),
            RelaxationStep(after=60.0, drop=("fr",)),
        ],
    )
    show(stepwise)
    stepwise.add_agent(AgentSpec(id="generalist", skills={"tax": 3}), ready=True)
    stepwise.submit(TaskSpec(id="case-1", skills={"tax": 4, "fr": 1}))
    advance_to(stepwise, now, 70.0)
    # Lowered at 30 s (French 1 -> 0 still needs French); dropped at 60 s.
    assert stepwise.agent_of("case-1").id == "generalist"  # type: ignore[union-attr]

    now[0] = 0.0
    print("\nContinuous: 0.05 levels a second, twice as fast for a case worth 100")
    continuous = Engine(
        clock=lambda: now[0],
        relaxation=ContinuousRelaxation(rate=0.05, value_scale=100.0),
    )
    show(continuous)
    continuous.add_agent(AgentSpec(id="generalist", skills={"tax": 3}), ready=True)
    continuous.submit(TaskSpec(id="routine", skills={"tax": 4}, value=0.0))
    continuous.submit(TaskSpec(id="valuable", skills={"tax": 4}, value=100.0))
    advance_to(continuous, now, 10.0)  # valuable: 4 - 0.1 * 10 = 3, the generalist's level
    continuous.accept("valuable")
    now[0] = 15.0
    continuous.complete("valuable")
    advance_to(continuous, now, 30.0)  # routine: 4 - 0.05 * 20 = 3 at 20 s
    assert continuous.agent_of("routine").id == "generalist"  # type: ignore[union-attr]
    assert continuous.offer_of("routine").time == 20.0


if __name__ == "__main__":
    main()
