"""Random command sequences while the host's own code fails now and then.

A scoring policy, an agent selection and an event listener supplied by the
host raise ``HostDown`` whenever the machine switches them off; the listener
may also answer offers at once from inside its call. Whatever a command then
leaves behind, after every step: the engine's invariants hold, every task is
in exactly one place, every change was told by an event the lifecycle allows
(a task the policy could not score is held), conservation holds, and a
command that failed before doing anything changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from host_code import Clock
from valueroute import AgentSpec, AgingPriority, TaskSpec, ValueRouteError
from valueroute.agents import Agent, Presence
from valueroute.engine import Engine
from valueroute.events import Event
from valueroute.scoring import Segment
from valueroute.task import Task

# Which task states each event may start from, and the state it leads to. A
# task on its way into the queue ("new", "unoffered", "resuming") is held
# instead when the policy cannot score it.
ON_THE_WAY_IN = frozenset({"new", "unoffered", "resuming"})
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "task_queued": (ON_THE_WAY_IN, "queued"),
    "task_offered": (frozenset({"queued"}), "offered"),
    "offer_accepted": (frozenset({"offered"}), "accepting"),
    "task_assigned": (frozenset({"accepting"}), "assigned"),
    "offer_rejected": (frozenset({"offered"}), "unoffered"),
    "offer_revoked": (frozenset({"offered"}), "unoffered"),
    "task_held": (frozenset({"queued"}) | ON_THE_WAY_IN, "held"),
    "task_resumed": (frozenset({"held"}), "resuming"),
    "task_completed": (frozenset({"assigned"}), "completed"),
    "task_canceled": (frozenset({"queued", "offered", "held"}), "canceled"),
}
NEUTRAL = {"task_submitted", "agent_added", "agent_state_changed", "policy_changed"}
SETTLED = {"queued", "offered", "assigned", "held", "completed", "canceled"}
TERMINAL = {"completed", "canceled"}


class HostDown(RuntimeError):
    """The host's service behind a policy or a selection is unavailable."""


class Switch:
    def __init__(self) -> None:
        self.on = True

    def check(self) -> None:
        if not self.on:
            raise HostDown("host service down")


class FlakyPolicy:
    name = "flaky_aging"

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.inner = AgingPriority(seconds_per_point=10)

    def segment(self, task: Task, now: float) -> Segment:
        self.switch.check()
        return self.inner.segment(task, now)


class HostFailureMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.clock = Clock()
        self.policy_switch = Switch()
        self.selection_switch = Switch()

        def flaky_selection(candidates: Sequence[Agent], task: Task | None, now: float) -> Agent:
            self.selection_switch.check()
            return candidates[0]

        self.engine = Engine(
            clock=self.clock,
            policy=FlakyPolicy(self.policy_switch),
            agent_selection=flaky_selection,
            offer_timeout=None,
        )
        self.listener_switch = Switch()
        self.answering = False

        def host_listener(event: Event) -> None:
            # Subscribed before the recorder: what it runs or raises must not
            # cost the recorder an event, nor change their order.
            if self.answering and event.kind.value == "task_offered":
                self.engine.accept(event.task)  # type: ignore[arg-type]
            self.listener_switch.check()

        self.engine.subscribe(host_listener)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        self.model: dict[str, str] = {}
        self.next_task = 0
        for agent_id in ("a0", "a1"):
            self.engine.add_agent(
                AgentSpec(id=agent_id, skills={"billing": 2.0}, capacity={"voice": 1, "chat": 2}),
                ready=True,
            )
        self.consume_events()

    def consume_events(self) -> None:
        for event in self.events[self.seen :]:
            kind = event.kind.value
            if kind == "task_submitted":
                assert event.task not in self.model
                self.model[event.task] = "new"  # type: ignore[index]
                continue
            if kind in NEUTRAL:
                continue
            allowed, target = TRANSITIONS[kind]
            state = self.model[event.task]  # type: ignore[index]
            assert state in allowed, f"{kind} from {state} for {event.task}"
            if kind == "task_held" and state != "queued":
                assert event.data["reason"] == "unscorable"
                assert "HostDown" in event.data["error"]
            self.model[event.task] = target  # type: ignore[index]
        self.seen = len(self.events)

    def digest(self) -> object:
        return self.engine.digest(), len(self.events), self.engine.now

    def attempt(self, call: Callable[[], object]) -> None:
        """Run a command: it succeeds, is refused having changed nothing, or
        fails on the host's code with whatever it did told."""
        before = self.digest()
        told = len(self.events)
        failure: Exception | None = None
        try:
            call()
        except (ValueRouteError, HostDown, ExceptionGroup) as caught:
            failure = caught
        if isinstance(failure, ExceptionGroup):
            # Several host calls failed: each one is reported.
            assert all(isinstance(e, HostDown) for e in failure.exceptions)
        if isinstance(failure, ValueRouteError) or (
            failure is not None and len(self.events) == told
        ):
            # A refusal, or a failure before anything happened: nothing changed.
            assert self.digest() == before
        self.consume_events()

    def open_ids(self, *states: str) -> list[str]:
        return sorted(i for i, s in self.model.items() if s in states)

    @rule(
        policy=st.booleans(),
        selection=st.booleans(),
        listener=st.booleans(),
        answering=st.booleans(),
    )
    def switch_host_code(
        self, policy: bool, selection: bool, listener: bool, answering: bool
    ) -> None:
        self.policy_switch.on = policy
        self.selection_switch.on = selection
        self.listener_switch.on = listener
        self.answering = answering

    @rule(skills=st.sampled_from([{}, {"billing": 1.0}, {"claims": 1.0}]), chat=st.booleans())
    def submit(self, skills: dict[str, float], chat: bool) -> None:
        spec = TaskSpec(id=f"t{self.next_task}", skills=skills, channel="chat" if chat else "voice")
        self.next_task += 1
        self.clock.now += 1.0
        self.attempt(lambda: self.engine.submit(spec))

    @precondition(lambda self: self.model)
    @rule(
        data=st.data(),
        command=st.sampled_from(
            ["accept", "reject", "revoke", "complete", "cancel", "hold", "resume"]
        ),
    )
    def task_command(self, data: st.DataObject, command: str) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.model)))
        self.clock.now += 1.0
        self.attempt(lambda: getattr(self.engine, command)(task_id))

    @rule(data=st.data(), presence=st.sampled_from([Presence.ready, Presence.not_ready]))
    def set_agent_state(self, data: st.DataObject, presence: Presence) -> None:
        agent_id = data.draw(st.sampled_from(["a0", "a1"]))
        reason = "break" if presence is Presence.not_ready else None
        self.clock.now += 1.0
        self.attempt(lambda: self.engine.set_agent_state(agent_id, presence, reason=reason))

    @invariant()
    def every_task_is_in_one_place_and_every_change_was_told(self) -> None:
        self.engine._check()
        terminal: Counter[str] = Counter()
        for task_id, state in self.model.items():
            assert state in SETTLED, (task_id, state)
            assert self.engine.get(task_id).state.value == state, task_id
            if state in TERMINAL:
                terminal[state] += 1
        queued = {t.id for t in self.engine.tasklist}
        assert queued == set(self.open_ids("queued"))
        for agent in self.engine.agents:
            for task in self.engine.tasks_of(agent.id):
                assert self.model[task.id] in ("offered", "assigned")
        submitted = sum(1 for e in self.events if e.kind.value == "task_submitted")
        assert submitted == len(self.engine) + sum(terminal.values())


TestHostFailureMachine = HostFailureMachine.TestCase

pytestmark = pytest.mark.filterwarnings("error")
