"""Concurrent offers: one chat offered to three agents at once, the first to accept takes it.

Four chat agents are free; the engine offers each new chat to the three who
have been idle longest. One refuses (only that offer ends), one accepts
(the other live offer is revoked at once, its agent free for other work),
and an offer nobody answers times out: the chat goes back to the list and
out to the free agents again.

    python examples/concurrent_offers.py
"""

from __future__ import annotations

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.events import Event


def main() -> None:
    now = [0.0]
    engine = Engine(clock=lambda: now[0], concurrent_offers=3, offer_timeout=20.0)

    def show(event: Event) -> None:
        extra = f" (accepted by {event.data['accepted_by']})" if "accepted_by" in event.data else ""
        print(f"t={event.time:>4g}  {event.kind.value:<16} {event.task:<7} {event.agent}{extra}")

    engine.subscribe(
        show,
        kinds=[
            "task_offered",
            "offer_rejected",
            "offer_revoked",
            "offer_timed_out",
            "offer_accepted",
            "task_queued",
        ],
    )
    for agent_id in ("ann", "bo", "cy", "dee"):
        now[0] += 1.0
        engine.add_agent(
            AgentSpec(id=agent_id, skills={"chat": 1}, capacity={"chat": 1}), ready=True
        )

    now[0] = 10.0
    engine.submit(TaskSpec(id="chat-1", channel="chat", skills={"chat": 1}))
    print("offers of chat-1:", [offer.agent.id for offer in engine.offers_of("chat-1")])
    engine.submit(TaskSpec(id="chat-2", channel="chat", skills={"chat": 1}))
    print("offers of chat-2:", [offer.agent.id for offer in engine.offers_of("chat-2")])

    now[0] = 12.0
    engine.reject("chat-1", "ann")  # only ann's offer ends; bo and cy still hold theirs
    print("offers of chat-1 after ann refused:", [o.agent.id for o in engine.offers_of("chat-1")])

    now[0] = 13.0
    engine.accept("chat-1", "cy")  # the first accept wins: bo's offer is revoked
    print("chat-1 is", engine.get("chat-1").state.value, "with", engine.agent_of("chat-1").id)  # type: ignore[union-attr]
    print("offers of chat-2:", [offer.agent.id for offer in engine.offers_of("chat-2")])

    now[0] = 40.0
    engine.advance()  # nobody answered chat-2: its offers time out
    stats = engine.statistics()
    print("chat-2 is", engine.get("chat-2").state.value, "| live offers:", stats["live_offers"])
    print("per-type counts:", stats["by_type"]["task"])


if __name__ == "__main__":
    main()
