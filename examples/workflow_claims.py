"""A workflow: experts first, then anyone skilled, then a supervisor's hold.

Claims go to the experts' queue for two minutes (or at once, if no expert is
logged on), then to everyone with claims skill at a higher priority; a claim
nobody took in ten more minutes is held for a supervisor.

    python examples/workflow_claims.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep


def main() -> None:
    now = [0.0]
    engine = Engine(
        clock=lambda: now[0],
        auto_accept=True,
        queues=[QueueSpec(name="experts", requires="senior"), QueueSpec(name="claims")],
        workflows=[
            WorkflowSpec(
                name="claims",
                types=["claim"],
                then="hold",
                steps=[
                    WorkflowStep(queue="experts", skills={"claims": 3}, timeout=120, no_agent=True),
                    WorkflowStep(queue="claims", skills={"claims": 1}, priority=5, timeout=600),
                ],
            )
        ],
    )
    engine.subscribe(
        lambda e: print(
            f"{e.time:5.0f} s  {e.task}: step {e.data['step']} ({e.data['reason']})"
            + (f", then {e.data['then']}" if e.data["step"] is None else "")
        ),
        kinds=["workflow_step"],
    )
    engine.add_agent(AgentSpec(id="sam", skills={"claims": 4}, attributes={"senior": True}))
    engine.set_agent_state("sam", "not_ready")  # logged on, on a break
    engine.add_agent(AgentSpec(id="kim", skills={"claims": 1}, attributes={"senior": False}))

    engine.submit(TaskSpec(id="claim-1", type="claim"))
    now[0] = 130.0
    engine.advance()  # two minutes in the experts' queue: on to everyone
    engine.set_agent_state("kim", "ready")
    print("claim-1 taken by", engine.agent_of("claim-1").id)  # type: ignore[union-attr]

    engine.set_agent_state("sam", "offline")
    engine.submit(TaskSpec(id="claim-2", type="claim"))  # no expert logged on: straight on
    now[0] = 900.0
    engine.advance()
    print("claim-2 is", engine.get("claim-2").state.value)


if __name__ == "__main__":
    main()
