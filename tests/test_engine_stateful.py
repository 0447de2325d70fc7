"""Random command sequences against the engine, checked after every step.

A reference model follows the event stream and accepts only transitions the
documented lifecycle allows; after every step it must agree with the engine
on every task's state. Independently of the engine's own bookkeeping the
checks also recompute, by brute force: capacities, eligibility of every
offered task, the matching fixed point (no available agent next to a task it
may take), conservation of tasks, the best task for a pull, and that failed
commands change nothing and emit nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine_support import restored_copy
from valueroute import AgentSpec, AgingPriority, TaskSpec, ValueRouteError
from valueroute.agents import Presence
from valueroute.engine import Engine, RelaxationStep
from valueroute.events import Event
from valueroute.models import QueueSpec, WorkflowSpec, WorkflowStep
from valueroute.rules import load_rules

SKILLS = ({}, {"billing": 1.0}, {"billing": 2.0}, {"claims": 1.0}, {"billing": 1.0, "claims": 1.0})
AGENT_SKILLS = (
    {"billing": 1.0},
    {"billing": 2.0, "claims": 1.0},
    {"claims": 2.0},
    {},
)
# Preferred agents of a new task: none, the generalists, an agent added later
# (a0), one who never exists.
PREFERENCES: tuple[tuple[str, ...], ...] = (
    (),
    (),
    ("generalist-2",),
    ("a0", "generalist-1"),
    ("nobody",),
)
# Requirement expressions over agents' attributes, each with the same test
# written by hand (the model's, independent of the compiler).
REQUIREMENTS: dict[str | None, Callable[[Mapping[str, Any]], bool]] = {
    None: lambda attributes: True,
    'language == "fr"': lambda attributes: attributes.get("language") == "fr",
    "not trainee": lambda attributes: attributes.get("trainee") is not True,
    '"de" in languages or years >= 3': lambda attributes: (
        "de" in attributes.get("languages", ())
        or (type(attributes.get("years")) in (int, float) and attributes.get("years", 0) >= 3)
    ),
}
AGENT_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {},
    {"language": "fr", "trainee": True},
    {"language": "en", "languages": ["de", "en"]},
    {"language": "fr", "years": 5},
)
# Named queues: one that overflows when full or after a wait, one served only
# by agents meeting an expression and a skill, one that refuses when full.
QUEUES = (
    QueueSpec(
        name="front",
        max_length=2,
        when_full="overflow",
        max_wait=25.0,
        when_too_old="overflow",
        overflow_to="back",
    ),
    QueueSpec(
        name="back",
        skills={"billing": 1.0},
        requires="not trainee",
        max_length=3,
        when_full="event",
    ),
    QueueSpec(name="capped", max_length=1),
)
QUEUE_SERVES: dict[str, Callable[[Mapping[str, float], Mapping[str, Any]], bool]] = {
    "front": lambda skills, attributes: True,
    "back": lambda skills, attributes: (
        skills.get("billing", -1.0) >= 1.0 and attributes.get("trainee") is not True
    ),
    "capped": lambda skills, attributes: True,
}
CAPACITIES = ({"voice": 1}, {"chat": 2, "email": 1}, {"voice": 1, "chat": 1})
COOLDOWN = 15.0
AGING_RULES = load_rules(
    {
        "name": "aging",
        "prioritisation": {
            "mode": "all",
            "rules": [
                {
                    "name": "waiting 25 s",
                    "when": {"field": "age", "op": ">=", "value": 25},
                    "then": {"add_priority": 2},
                }
            ],
        },
    }
)
SECONDS_PER_POINT = 8.0

# Which task states each event may start from, and the state it leads to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "task_queued": (
        frozenset({"new", "unoffered", "resuming", "transferring"}),
        "queued",
    ),
    "task_offered": (frozenset({"queued", "transferring"}), "offered"),
    "offer_accepted": (frozenset({"offered"}), "accepting"),
    # From "accepting" after an accepted offer; from "queued" or "transferring"
    # when the agent takes tasks without offers (auto-accept, checked below).
    "task_assigned": (frozenset({"accepting", "queued", "transferring"}), "assigned"),
    "offer_rejected": (frozenset({"offered"}), "unoffered"),
    "offer_timed_out": (frozenset({"offered"}), "unoffered"),
    "offer_revoked": (frozenset({"offered"}), "unoffered"),
    "task_held": (frozenset({"queued", "deferred"}), "held"),
    "task_resumed": (frozenset({"held", "deferred"}), "resuming"),
    "task_deferred": (frozenset({"queued", "held"}), "deferred"),
    "task_wrap_up": (frozenset({"assigned"}), "wrap_up"),
    "task_completed": (frozenset({"assigned", "wrap_up"}), "completed"),
    "task_canceled": (frozenset({"queued", "offered", "held", "deferred"}), "canceled"),
    "task_expired": (frozenset({"queued", "offered", "held", "deferred"}), "expired"),
    "task_rejected": (frozenset({"unoffered"}), "rejected"),
    "task_transferred": (frozenset({"assigned", "queued"}), "transferring"),
}
# Per command: the states it may be given, and the states the task may be in right after
# (dispatch may offer a queued task at once, or assign it to an agent who takes
# tasks without offers).
COMMANDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "accept": (frozenset({"offered"}), frozenset({"assigned"})),
    "reject": (frozenset({"offered"}), frozenset({"queued", "offered", "assigned", "rejected"})),
    "revoke": (frozenset({"offered"}), frozenset({"queued", "offered", "assigned"})),
    "complete": (frozenset({"assigned"}), frozenset({"wrap_up", "completed"})),
    "end_wrap_up": (frozenset({"wrap_up"}), frozenset({"completed"})),
    "cancel": (frozenset({"queued", "offered", "held", "deferred"}), frozenset({"canceled"})),
    "hold": (frozenset({"queued", "deferred"}), frozenset({"held"})),
    "resume": (frozenset({"held", "deferred"}), frozenset({"queued", "offered", "assigned"})),
}
TERMINAL = {"completed", "canceled", "expired", "rejected"}
# Events that change no task state.
NEUTRAL = {
    "task_submitted",
    "task_overflowed",
    "queue_limit_reached",
    "preference_ended",
    "task_updated",
    "task_relaxed",
    "workflow_step",  # the flow workflow's steps move no task between states or queues
    "sla_breached",
    "sla_warning",
    "agent_added",
    "agent_removed",
    "agent_state_changed",
    "policy_changed",
    "rules_changed",
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class EngineMachine(RuleBasedStateMachine):
    dispatch = "push"

    @initialize(
        offer_timeout=st.sampled_from([None, 20.0]),
        max_offers=st.sampled_from([None, 3]),
        auto_accept=st.sampled_from([False, ["chat"]]),
    )
    def setup(
        self, offer_timeout: float | None, max_offers: int | None, auto_accept: bool | list[str]
    ) -> None:
        self.clock = Clock()
        # Which tasks go without offers: the engine's channels, unless the
        # agent's own setting says otherwise.
        self.auto_channels = set(auto_accept or [])
        self.auto_of: dict[str, bool | None] = {}
        self.channel_of: dict[str, str] = {}
        # task id -> the agents it waits for while its preference holds.
        self.prefer: dict[str, tuple[str, ...]] = {}
        # task id -> the hand-written test of its requirement expression.
        self.requires_of: dict[str, Callable[[Mapping[str, Any]], bool]] = {}
        self.attributes_of: dict[str, dict[str, Any]] = {}
        # task id -> the queue it is in (followed from the events).
        self.queue_of: dict[str, str | None] = {}
        self.settings = (offer_timeout, max_offers, auto_accept)
        self.engine = self.build_engine()
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        self.model: dict[str, str] = {}
        self.cooldown: dict[tuple[str, str], float] = {}
        self.max_offers = max_offers
        # Offers counted toward max_offers: refused, timed out or live (a
        # revoke takes its offer back; a transfer starts the count again).
        self.offer_count: dict[str, int] = {}
        self.next_task = 0
        self.next_agent = 0
        # task id -> the due time it was submitted with, until an advance past it.
        self.due_of: dict[str, float] = {}
        # Two broadly skilled agents, so that offers, accepts and completions are common.
        for agent_id in ("generalist-1", "generalist-2"):
            spec = AgentSpec(
                id=agent_id,
                skills={"billing": 2.0, "claims": 2.0},
                capacity={"voice": 1, "chat": 2, "email": 1},
            )
            self.engine.add_agent(spec, ready=True)
        self.consume_events()

    def build_engine(self) -> Engine:
        offer_timeout, max_offers, auto_accept = self.settings
        return Engine(
            queues=QUEUES,
            clock=self.clock,
            policy=AgingPriority(seconds_per_point=SECONDS_PER_POINT),
            dispatch=self.dispatch,  # type: ignore[arg-type]
            offer_timeout=offer_timeout,
            reject_cooldown=COOLDOWN,
            max_offers=max_offers,
            auto_accept=auto_accept,
            wrap_up={"wrap": 10.0},
            time_to_live={"short": 100.0},
            relaxation={"relaxing": [RelaxationStep(after=40.0, lower_by=1.0)]},
            # Rules that look again as tasks age: priorities move on their own,
            # and updates, transfers and relaxation happen under them.
            rules=AGING_RULES,
            # A workflow whose later steps change requirements and priority
            # (its first routes as submitted, so a push is foreseen as without).
            workflows=[
                WorkflowSpec(
                    name="flow",
                    types=["flow"],
                    steps=[
                        WorkflowStep(timeout=10.0),
                        WorkflowStep(skills={"claims": 1.0}, priority=3, timeout=20.0),
                        WorkflowStep(skills={}),
                    ],
                )
            ],
        )

    # ------------------------------------------------------------ the model

    def consume_events(self) -> None:
        new = self.events[self.seen :]
        self.seen = len(self.events)
        for event in new:
            kind = event.kind.value
            if kind == "task_submitted":
                assert event.task not in self.model
                self.model[event.task] = "new"  # type: ignore[index]
                continue
            if kind == "preference_ended":
                assert list(self.prefer.pop(event.task)) == event.data["agents"]  # type: ignore[arg-type]
            if kind == "task_transferred":
                self.prefer.pop(event.task, None)  # type: ignore[arg-type]
            if kind == "task_overflowed":
                assert self.queue_of[event.task] == event.data["from_queue"]  # type: ignore[index]
                assert self.model[event.task] in ("new", "queued")  # type: ignore[index]
                self.queue_of[event.task] = event.data["queue"]  # type: ignore[index]
            if kind in ("task_offered", "task_assigned") and event.task in self.prefer:
                assert event.agent in self.prefer[event.task], (  # type: ignore[index]
                    f"{event.task} given to {event.agent}, not one of its preferred agents"
                )
            if kind in NEUTRAL:
                continue
            allowed, target = TRANSITIONS[kind]
            assert event.task is not None
            state = self.model[event.task]
            assert state in allowed, f"{kind} from {state} for {event.task}"
            self.model[event.task] = target
            if kind == "task_offered":
                assert not self.cooling(event.task, event.agent, at=event.time), (  # type: ignore[arg-type]
                    f"{event.task} offered to {event.agent} during its cool-down"
                )
                assert not self.auto(event.agent, event.task), (  # type: ignore[arg-type]
                    f"{event.task} offered to {event.agent}, who takes it without offers"
                )
            if kind == "task_assigned" and state != "accepting":
                assert self.auto(event.agent, event.task), (  # type: ignore[arg-type]
                    f"{event.task} assigned to {event.agent} without an offer"
                )
            if kind in ("offer_rejected", "offer_timed_out"):
                self.cooldown[(event.task, event.agent)] = event.time + COOLDOWN  # type: ignore[index]
            counted = self.offer_count.get(event.task, 0)
            if kind == "task_offered":
                counted += 1
                assert self.max_offers is None or counted <= self.max_offers, (
                    f"{event.task} offered {counted} times, past max_offers"
                )
            elif kind == "offer_revoked":
                counted -= 1
            elif kind == "task_transferred":
                counted = 0
            elif kind == "task_queued" and state == "unoffered":
                # Back to the list after a refusal only while under the limit.
                assert self.max_offers is None or counted < self.max_offers, event.task
            elif kind == "task_rejected":
                assert self.max_offers is not None, event.task
                assert counted >= self.max_offers, event.task
            self.offer_count[event.task] = counted

    def auto(self, agent_id: str, task_id: str) -> bool:
        """Whether the agent takes this task without an offer."""
        own = self.auto_of.get(agent_id)
        return own if own is not None else self.channel_of[task_id] in self.auto_channels

    def digest(self) -> object:
        engine = self.engine
        tasks = sorted(
            (t.id, t.state.value, t.priority, t.version, getattr(engine.agent_of(t.id), "id", None))
            for t in (engine.get(i) for i in self.model if i in engine._tasks)
        )
        agents = sorted((a.id, a.state.value, tuple(sorted(a.load.items()))) for a in engine.agents)
        return tasks, agents, len(self.events), engine.next_wakeup(), engine.now

    def attempt(self, call: object) -> bool:
        """Run a command; if it fails it must change nothing and emit nothing."""
        before = self.digest()
        try:
            call()  # type: ignore[operator]
        except ValueRouteError:
            assert self.digest() == before
            return False
        finally:
            self.consume_events()
        return True

    def open_ids(self, *states: str) -> list[str]:
        return sorted(i for i, s in self.model.items() if not states or s in states)

    # ------------------------------------------------------------ rules

    @rule(
        skills=st.sampled_from(SKILLS),
        channel=st.sampled_from(["voice", "chat", "email"]),
        priority=st.integers(0, 3),
        type=st.sampled_from(["plain", "wrap", "short", "relaxing", "flow"]),
        due=st.none() | st.integers(0, 60),
        preferred=st.sampled_from(PREFERENCES),
        preferred_for=st.sampled_from([None, 30.0]),
        requires=st.sampled_from(list(REQUIREMENTS)),
        queue=st.sampled_from([None, None, "front", "back", "capped"]),
    )
    def submit(
        self,
        skills: dict[str, float],
        channel: str,
        priority: int,
        type: str,
        due: int | None,
        preferred: tuple[str, ...],
        preferred_for: float | None,
        requires: str | None,
        queue: str | None,
    ) -> None:
        task_id = f"t{self.next_task}"
        self.next_task += 1
        spec = TaskSpec(
            id=task_id,
            skills=skills,
            channel=channel,
            priority=priority,
            type=type,
            due=None if due is None else self.clock.now + due,
            preferred_agents=list(preferred),
            preferred_for=preferred_for if preferred else None,
            requires=requires,
            queue=queue,
        )
        destination = None if queue is None else self.destination(queue)
        if queue is not None and destination is None:
            # Full, and the queue refuses: nothing may change.
            assert not self.attempt(lambda: self.engine.submit(spec))
            return
        # The named queue; the events move the model on to where the task ends.
        self.queue_of[task_id] = queue
        self.channel_of[task_id] = channel
        self.requires_of[task_id] = REQUIREMENTS[requires]
        if preferred:
            self.prefer[task_id] = preferred
        expected = self.push_choice(spec, destination) if self.dispatch == "push" else None
        assert self.attempt(lambda: self.engine.submit(spec))
        if spec.due is not None:
            self.due_of[task_id] = spec.due
        assert self.queue_of[task_id] == destination
        holder = self.engine.agent_of(task_id)
        # A pushed task goes to the agent the selection policy (longest idle) names.
        assert (None if holder is None else holder.id) == expected

    def destination(self, queue: str) -> str | None:
        """The queue a new task for ``queue`` ends in under the limits, from the
        model's own count of tasks waiting; ``None``: refused."""
        specs = {spec.name: spec for spec in QUEUES}
        passed: list[str] = []
        while True:
            spec = specs[queue]
            waiting = sum(
                1 for t, q in self.queue_of.items() if q == queue and self.model[t] == "queued"
            )
            if spec.max_length is None or waiting < spec.max_length or spec.when_full == "event":
                return queue
            if spec.when_full == "refuse":
                return None
            passed.append(queue)
            queue = spec.overflow_to  # type: ignore[assignment]
            if queue in passed:
                return None

    def push_choice(self, spec: TaskSpec, queue: str | None) -> str | None:
        """Longest idle among available agents whose skills meet the task's, by brute
        force; for a task with preferred agents, the first of them in its order."""
        meets = REQUIREMENTS[spec.requires]
        candidates = [
            (agent.idle_since, agent.order, agent.id)
            for agent in self.engine.agents
            if self.engine.agents.can_take(agent, spec.channel)
            and all(agent.skills.get(k, -1.0) >= v for k, v in spec.skills.items())
            and meets(self.attributes_of.get(agent.id, {}))
            and self.serves(agent.id, queue)
        ]
        if spec.preferred_agents:
            free = {agent_id for _, _, agent_id in candidates}
            return next((a for a in spec.preferred_agents if a in free), None)
        return min(candidates)[2] if candidates else None

    @rule(
        skills=st.sampled_from(AGENT_SKILLS),
        capacity=st.sampled_from(CAPACITIES),
        ready=st.booleans(),
        auto_accept=st.sampled_from([None, True, False]),
        attributes=st.sampled_from(AGENT_ATTRIBUTES),
    )
    def add_agent(
        self,
        skills: dict[str, float],
        capacity: dict[str, int],
        ready: bool,
        auto_accept: bool | None,
        attributes: dict[str, Any],
    ) -> None:
        agent_id = f"a{self.next_agent}"
        self.next_agent += 1
        spec = AgentSpec(
            id=agent_id,
            skills=skills,
            capacity=capacity,
            auto_accept=auto_accept,
            attributes=attributes,
        )
        self.auto_of[agent_id] = auto_accept
        self.attributes_of[agent_id] = attributes
        self.attempt(lambda: self.engine.add_agent(spec, ready=ready))

    @precondition(lambda self: len(self.engine.agents) > 0)
    @rule(data=st.data(), presence=st.sampled_from(list(Presence)))
    def set_agent_state(self, data: st.DataObject, presence: Presence) -> None:
        agent_id = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents)))
        until = self.clock.now + 5.0 if presence is Presence.wrap_up else None
        reason = "break" if presence is Presence.not_ready else None
        self.attempt(
            lambda: self.engine.set_agent_state(agent_id, presence, reason=reason, until=until)
        )

    @precondition(lambda self: len(self.engine.agents) > 0)
    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents)))
        self.attempt(lambda: self.engine.remove_agent(agent_id))

    @precondition(lambda self: self.model)
    @rule(
        data=st.data(),
        command=st.sampled_from(
            ["accept", "reject", "revoke", "complete", "end_wrap_up", "cancel", "hold", "resume"]
        ),
    )
    def task_command(self, data: st.DataObject, command: str) -> None:
        # Mostly a task the command applies to, sometimes any task (to test refusals).
        fitting = self.open_ids(*COMMANDS[command][0])
        pool = fitting if fitting and data.draw(st.integers(0, 4)) else self.open_ids()
        task_id = data.draw(st.sampled_from(pool))
        before = self.model[task_id]
        holder = self.engine.agent_of(task_id)
        succeeded = self.attempt(lambda: getattr(self.engine, command)(task_id))
        allowed, results = COMMANDS[command]
        assert succeeded == (before in allowed), (command, before)
        if succeeded:
            after = self.model[task_id]
            if command == "complete":
                expected = {"wrap_up"} if self.engine.get(task_id).type == "wrap" else {"completed"}
                assert after in expected
            else:
                assert after in results, (command, after)
            if command == "reject" and after == "offered":
                assert self.engine.agent_of(task_id) is not holder

    @precondition(lambda self: self.open_ids("offered"))
    @rule(data=st.data())
    def accept_an_offer(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(self.open_ids("offered")))
        assert self.attempt(lambda: self.engine.accept(task_id))
        assert self.model[task_id] == "assigned"

    @precondition(lambda self: self.open_ids("assigned"))
    @rule(data=st.data())
    def complete_an_assigned_task(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(self.open_ids("assigned")))
        assert self.attempt(lambda: self.engine.complete(task_id))
        wraps = self.engine.get(task_id).type == "wrap"
        assert self.model[task_id] == ("wrap_up" if wraps else "completed")

    @precondition(lambda self: self.model)
    @rule(data=st.data(), seconds=st.integers(-5, 50))
    def defer(self, data: st.DataObject, seconds: int) -> None:
        task_id = data.draw(st.sampled_from(self.open_ids()))
        self.attempt(lambda: self.engine.defer(task_id, until=self.clock.now + seconds))

    @precondition(lambda self: self.model)
    @rule(data=st.data(), skills=st.sampled_from(SKILLS), keep_age=st.booleans())
    def transfer(self, data: st.DataObject, skills: dict[str, float], keep_age: bool) -> None:
        task_id = data.draw(st.sampled_from(self.open_ids()))
        self.attempt(lambda: self.engine.transfer(task_id, skills=skills, keep_age=keep_age))

    @precondition(lambda self: self.model)
    @rule(data=st.data(), priority=st.integers(-1, 5), version=st.none() | st.integers(0, 2))
    def update(self, data: st.DataObject, priority: int, version: int | None) -> None:
        task_id = data.draw(st.sampled_from(self.open_ids()))
        self.attempt(
            lambda: self.engine.update(task_id, priority=priority, expected_version=version)
        )

    @rule(seconds=st.sampled_from([0.0, 1.0, 5.0, 10.0, 15.0, 20.0, 40.0]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        wakeup = self.engine.next_wakeup()
        fired = self.engine.advance()
        assert (fired > 0) == (wakeup <= self.clock.now)
        assert self.engine.next_wakeup() > self.clock.now
        self.consume_events()
        # A task still open once time has passed its due time was breached, once.
        breached = Counter(
            (event.task, event.data["due"])
            for event in self.events
            if event.kind.value == "sla_breached"
        )
        for task_id, due in list(self.due_of.items()):
            if due > self.clock.now:
                continue
            del self.due_of[task_id]
            if self.model[task_id] not in TERMINAL:
                assert breached[(task_id, due)] == 1, (task_id, due, self.model[task_id])
        assert all(count == 1 for count in breached.values()), breached

    @rule()
    def snapshot_and_restore(self) -> None:
        """Go on with an engine restored from a snapshot (through JSON): the
        model goes on checking it as if nothing happened."""
        self.engine = restored_copy(self.engine, self.build_engine)
        self.engine.subscribe(self.events.append)

    @precondition(lambda self: len(self.engine.agents) > 0)
    @rule(data=st.data())
    def next_task(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents)))
        expected = self.best_for(agent_id)
        before = len(self.events)
        offer = self.engine.next_task(agent_id)
        if expected is None:
            assert offer is None
            assert len(self.events) == before
        else:
            assert offer is not None
            assert offer.task.id == expected
        self.consume_events()

    # ------------------------------------------------------------ brute force

    def cooling(self, task_id: str, agent_id: str, at: float | None = None) -> bool:
        now = self.clock.now if at is None else at
        return self.cooldown.get((task_id, agent_id), -math.inf) > now

    def serves(self, agent_id: str, queue: str | None) -> bool:
        if queue is None:
            return True
        agent = self.engine.agents.get(agent_id)
        return QUEUE_SERVES[queue](agent.skills, self.attributes_of.get(agent_id, {}))

    def eligible(self, agent_id: str, task_id: str) -> bool:
        agent = self.engine.agents.get(agent_id)
        task = self.engine.get(task_id)
        meets = self.requires_of.get(task_id, REQUIREMENTS[None])
        return (
            all(agent.skills.get(k, -1.0) >= v for k, v in task.skills.items())
            and meets(self.attributes_of.get(agent_id, {}))
            and self.serves(agent_id, self.queue_of.get(task_id))
        )

    def best_for(self, agent_id: str) -> str | None:
        agent = self.engine.agents.get(agent_id)
        now = self.clock.now
        candidates = []
        for task_id in self.open_ids("queued"):
            task = self.engine.get(task_id)
            if (
                self.engine.agents.can_take(agent, task.channel)
                and self.eligible(agent_id, task_id)
                and not self.cooling(task_id, agent_id)
                and agent_id in self.prefer.get(task_id, (agent_id,))
            ):
                score = task.priority + (now - task.created) / SECONDS_PER_POINT
                candidates.append((-score, task.created, task.seq, task_id))
        return min(candidates)[3] if candidates else None

    # ------------------------------------------------------------ invariants

    @invariant()
    def model_agrees_with_engine(self) -> None:
        if not hasattr(self, "engine"):
            return
        self.consume_events()
        self.engine._check()
        terminal: Counter[str] = Counter()
        for task_id, state in self.model.items():
            assert state not in ("new", "unoffered", "resuming", "transferring", "accepting")
            assert self.engine.get(task_id).state.value == state, task_id
            if state not in TERMINAL:
                assert self.engine.explain(task_id)["queue"] == self.queue_of.get(task_id)
            if state in TERMINAL:
                terminal[state] += 1
        submitted = sum(1 for e in self.events if e.kind.value == "task_submitted")
        assert submitted == len(self.engine) + sum(terminal.values())
        for event in self.events:
            if event.kind.value == "sla_breached":
                # Never before the due time, and only of an open task.
                assert event.time >= event.data["due"], event
                assert event.data["state"] not in TERMINAL, event

    @invariant()
    def queues_count_their_waiting_tasks(self) -> None:
        if not hasattr(self, "engine"):
            return
        waiting = Counter(
            q for t, q in self.queue_of.items() if q is not None and self.model[t] == "queued"
        )
        statistics = self.engine.queue_statistics()
        assert {name: figures["waiting"] for name, figures in statistics.items()} == {
            spec.name: waiting[spec.name] for spec in QUEUES
        }

    @invariant()
    def capacity_and_eligibility_hold(self) -> None:
        if not hasattr(self, "engine"):
            return
        engine = self.engine
        for agent in engine.agents:
            held = engine.tasks_of(agent.id)
            load = Counter(t.channel for t in held)
            for channel, count in load.items():
                assert count <= agent.capacity.get(channel, 0)
            if any(t.channel == "voice" for t in held):
                assert len(held) == 1
            for task in held:
                if task.state.value == "offered":
                    assert self.eligible(agent.id, task.id)

    @invariant()
    def no_available_agent_sits_next_to_a_task_it_may_take(self) -> None:
        if not hasattr(self, "engine") or self.dispatch != "push":
            return
        for agent in self.engine.agents:
            assert self.best_for(agent.id) is None, agent.id


class PullEngineMachine(EngineMachine):
    dispatch = "pull"


TestEngineMachine = EngineMachine.TestCase
TestPullEngineMachine = PullEngineMachine.TestCase

pytestmark = pytest.mark.filterwarnings("error")
