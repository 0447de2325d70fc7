"""Random command sequences against an engine making concurrent offers.

A reference model follows the event stream and keeps, per task, the agents
holding a live offer of it (with its expiry), per agent its slots, and the
cool-downs. After every step it must agree with the engine: the same live
offers in the same order, never more than ``concurrent_offers`` of one task
nor two to one agent, no agent's capacity over-reserved, every task in one
place, nothing lost. Accepting checks that the first accept wins and every
other offer is revoked in the same command; a push is checked against a
brute-force choice (the k longest idle eligible agents); refused commands
must change nothing; a snapshot restores the same engine at every step.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from valueroute import AgentSpec, TaskSpec, ValueRouteError
from valueroute._snapshot import restore, snapshot
from valueroute.engine import Engine
from valueroute.events import Event
from valueroute.rules import load_rules

COOLDOWN = 15.0
SKILLS = ({}, {"billing": 1.0}, {"billing": 2.0})
AGENT_SKILLS = ({"billing": 1.0}, {"billing": 2.0}, {})
CAPACITIES = ({"voice": 1}, {"chat": 2}, {"voice": 1, "chat": 1})
TERMINAL = {"completed", "canceled", "expired", "rejected"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class OffersMachine(RuleBasedStateMachine):
    @initialize(
        k=st.sampled_from([1, 2, 3]),
        offer_timeout=st.sampled_from([None, 20.0]),
        max_offers=st.sampled_from([None, 2, 4]),
    )
    def setup(self, k: int, offer_timeout: float | None, max_offers: int | None) -> None:
        self.k = k
        self.max_offers = max_offers
        self.clock = Clock()
        self.settings: dict[str, Any] = {
            "concurrent_offers": k,
            "offer_timeout": offer_timeout,
            "reject_cooldown": COOLDOWN,
            "max_offers": max_offers,
            "time_to_live": {"short": 60.0},
            # Rules that look again as tasks age, kept through snapshots.
            "rules": load_rules(
                {
                    "name": "aging",
                    "prioritisation": {
                        "rules": [
                            {
                                "name": "waiting 25 s",
                                "when": {"field": "age", "op": ">=", "value": 25},
                                "then": {"add_priority": 2},
                            }
                        ]
                    },
                }
            ),
        }
        self.engine = Engine(clock=self.clock, **self.settings)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.seen = 0
        self.state: dict[str, str] = {}
        # task id -> agent id -> expiry of its live offer, in offer order.
        self.offers: dict[str, dict[str, float | None]] = {}
        self.assigned: dict[str, str] = {}
        self.offer_count: Counter[str] = Counter()
        self.cooldown: dict[tuple[str, str], float] = {}
        self.channel: dict[str, str] = {}
        self.next_task = 0
        self.next_agent = 0

    # ------------------------------------------------------------ the model

    def consume_events(self) -> list[Event]:
        new = self.events[self.seen :]
        self.seen = len(self.events)
        for event in new:
            kind = event.kind.value
            task, agent = event.task, event.agent
            if task is None:
                continue
            state = self.state.get(task)
            live = self.offers.get(task, {})
            if kind == "task_submitted":
                assert state is None
                self.state[task] = "new"
            elif kind == "task_queued":
                assert state in ("new", "unoffered", "resuming", "transferred"), (kind, state)
                assert not live
                self.state[task] = "queued"
            elif kind == "task_offered":
                assert agent is not None
                assert state in ("queued", "offered"), (kind, state)
                assert agent not in live, f"{task} offered twice to {agent}"
                assert self.cooldown.get((task, agent), -1.0) <= event.time, "cooling"
                self.offers.setdefault(task, {})[agent] = event.data["expires"]
                assert len(self.offers[task]) <= self.k, f"{task} has more than {self.k} offers"
                self.offer_count[task] += 1
                if self.max_offers is not None:
                    assert self.offer_count[task] <= self.max_offers
                self.state[task] = "offered"
            elif kind in ("offer_rejected", "offer_timed_out", "offer_revoked"):
                assert agent in live, (kind, task, agent, live)
                del live[agent]
                if kind != "offer_revoked":
                    self.cooldown[(task, agent)] = event.time + COOLDOWN
                elif event.data.get("reason") != "accepted_by_other":
                    # Withdrawn by the host, not refused: not counted toward max_offers.
                    self.offer_count[task] -= 1
                if not live:
                    del self.offers[task]
                    self.state[task] = "unoffered"
            elif kind == "offer_accepted":
                # Every other offer was revoked first: the winner's is the last.
                assert list(live) == [agent], (task, agent, live)
                del self.offers[task]
                self.state[task] = "accepting"
            elif kind == "task_assigned":
                assert state == "accepting"
                assert agent is not None
                self.assigned[task] = agent
                self.state[task] = "assigned"
            elif kind == "task_transferred":
                assert state in ("assigned", "queued"), (kind, state)
                self.assigned.pop(task, None)
                # Routed anew: max_offers counts from here.
                self.offer_count[task] = 0
                self.state[task] = "transferred"
            elif kind == "task_held":
                assert state == "queued"
                self.state[task] = "held"
            elif kind == "task_resumed":
                assert state == "held"
                self.state[task] = "resuming"
            elif kind == "task_completed":
                assert state == "assigned"
                del self.assigned[task]
                self.state[task] = "completed"
            elif kind in ("task_canceled", "task_expired"):
                assert state in ("queued", "offered", "held"), (kind, state)
                self.offers.pop(task, None)
                self.state[task] = "canceled" if kind == "task_canceled" else "expired"
            elif kind == "task_rejected":
                assert state == "unoffered"
                assert self.max_offers is not None
                assert self.offer_count[task] >= self.max_offers
                self.state[task] = "rejected"
        return new

    def digest(self) -> str:
        return self.engine.digest()

    def attempt(self, call: object) -> list[Event] | None:
        """Run a command; if it is refused it must change nothing and emit nothing.
        Returns the command's events, ``None`` when refused."""
        before = self.digest()
        try:
            call()  # type: ignore[operator]
        except ValueRouteError:
            assert self.digest() == before
            assert self.consume_events() == []
            return None
        return self.consume_events()

    def ids(self, *states: str) -> list[str]:
        return sorted(t for t, s in self.state.items() if s in states)

    def eligible(self, agent_id: str, task_id: str) -> bool:
        agent = self.engine.agents.get(agent_id)
        task = self.engine.get(task_id)
        return all(agent.skills.get(k, -1.0) >= v for k, v in task.skills.items())

    def free_candidates(self, skills: dict[str, float], channel: str) -> list[str]:
        """Agents who could take such a task now, longest idle first (brute force)."""
        found = [
            (agent.idle_since, agent.order, agent.id)
            for agent in self.engine.agents
            if self.engine.agents.can_take(agent, channel)
            and all(agent.skills.get(k, -1.0) >= v for k, v in skills.items())
        ]
        return [agent_id for _, _, agent_id in sorted(found)]

    # ------------------------------------------------------------ rules

    @rule(
        skills=st.sampled_from(SKILLS),
        channel=st.sampled_from(["voice", "chat"]),
        kind=st.sampled_from(["plain", "short"]),
    )
    def submit(self, skills: dict[str, float], channel: str, kind: str) -> None:
        task_id = f"t{self.next_task}"
        self.next_task += 1
        self.channel[task_id] = channel
        expected = self.free_candidates(skills, channel)[: self.k]
        if self.max_offers is not None:
            expected = expected[: self.max_offers]
        events = self.attempt(
            lambda: self.engine.submit(
                TaskSpec(id=task_id, skills=skills, channel=channel, type=kind)
            )
        )
        assert events is not None
        offered = [e.agent for e in events if e.kind.value == "task_offered"]
        assert offered == expected

    @rule(
        skills=st.sampled_from(AGENT_SKILLS),
        capacity=st.sampled_from(CAPACITIES),
        ready=st.booleans(),
    )
    def add_agent(self, skills: dict[str, float], capacity: dict[str, int], ready: bool) -> None:
        agent_id = f"a{self.next_agent}"
        self.next_agent += 1
        spec = AgentSpec(id=agent_id, skills=skills, capacity=capacity)
        assert self.attempt(lambda: self.engine.add_agent(spec, ready=ready)) is not None

    @precondition(lambda self: len(self.engine.agents) > 0)
    @rule(data=st.data(), presence=st.sampled_from(["ready", "offline", "not_ready"]))
    def set_agent_state(self, data: st.DataObject, presence: str) -> None:
        agent_id = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents)))
        self.attempt(lambda: self.engine.set_agent_state(agent_id, presence))

    def answerer(self, data: st.DataObject, task_id: str) -> str | None:
        """Mostly an agent holding an offer of the task; sometimes none or anyone."""
        holders = sorted(self.offers.get(task_id, {}))
        others = sorted(a.id for a in self.engine.agents)
        choice = data.draw(st.integers(0, 5))
        if choice == 0 or not (holders or others):
            return None
        if choice == 1 and others:
            return data.draw(st.sampled_from(others))
        return data.draw(st.sampled_from(holders or others))

    @precondition(lambda self: self.state)
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        offered = self.ids("offered")
        task_id = data.draw(st.sampled_from(offered or sorted(self.state)))
        agent_id = self.answerer(data, task_id)
        holders = list(self.offers.get(task_id, {}))
        events = self.attempt(lambda: self.engine.accept(task_id, agent_id))
        valid = bool(holders) and (
            agent_id in holders if agent_id is not None else len(holders) == 1
        )
        assert (events is not None) == valid, (task_id, agent_id, holders)
        if events is None:
            return
        winner = agent_id or holders[0]
        assert self.assigned[task_id] == winner
        revoked = [e.agent for e in events if e.kind.value == "offer_revoked" and e.task == task_id]
        assert revoked == [a for a in holders if a != winner]

    @precondition(lambda self: self.state)
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        offered = self.ids("offered")
        task_id = data.draw(st.sampled_from(offered or sorted(self.state)))
        agent_id = self.answerer(data, task_id)
        holders = list(self.offers.get(task_id, {}))
        events = self.attempt(lambda: self.engine.reject(task_id, agent_id))
        valid = bool(holders) and (
            agent_id in holders if agent_id is not None else len(holders) == 1
        )
        assert (events is not None) == valid, (task_id, agent_id, holders)
        if events is None:
            return
        gone = agent_id or holders[0]
        assert [e.agent for e in events if e.kind.value == "offer_rejected"] == [gone]
        if len(holders) > 1:
            # The others still hold theirs; the task stays offered.
            assert list(self.offers[task_id]) == [a for a in holders if a != gone]

    @precondition(lambda self: self.state)
    @rule(
        data=st.data(),
        command=st.sampled_from(
            ["revoke", "cancel", "complete", "hold", "resume", "update", "transfer"]
        ),
    )
    def task_command(self, data: st.DataObject, command: str) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.state)))
        before = self.state[task_id]
        holders = list(self.offers.get(task_id, {}))
        if command == "update":
            events = self.attempt(lambda: self.engine.update(task_id, priority=3))
        else:
            events = self.attempt(lambda: getattr(self.engine, command)(task_id))
        allowed = {
            "revoke": {"offered"},
            "cancel": {"queued", "offered", "held"},
            "complete": {"assigned"},
            "hold": {"queued"},
            "resume": {"held"},
            "update": {"queued", "offered", "assigned", "held"},
            "transfer": {"assigned", "queued"},
        }[command]
        assert (events is not None) == (before in allowed), (command, before)
        if events is not None and command == "revoke":
            revoked = [
                e.agent for e in events if e.kind.value == "offer_revoked" and e.task == task_id
            ]
            assert revoked == holders
        if events is not None and command == "update" and before == "offered":
            # An update leaves the offers as they were.
            assert list(self.offers[task_id]) == holders

    @precondition(lambda self: len(self.engine.agents) > 0)
    @rule(data=st.data())
    def next_task(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents)))
        events = self.attempt(lambda: self.engine.next_task(agent_id))
        assert events is not None
        offered = [e for e in events if e.kind.value == "task_offered"]
        assert all(e.agent == agent_id for e in offered)
        assert len(offered) <= 1

    @rule(seconds=st.sampled_from([0.0, 1.0, 5.0, 15.0, 20.0, 40.0]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.engine.advance()
        self.consume_events()
        for task_id, live in self.offers.items():
            for agent_id, expires in live.items():
                assert expires is None or expires > self.clock.now, (task_id, agent_id)

    # ------------------------------------------------------------ invariants

    @invariant()
    def model_agrees_with_engine(self) -> None:
        if not hasattr(self, "engine"):
            return
        self.consume_events()
        engine = self.engine
        engine._check()
        for task_id, state in self.state.items():
            assert state not in ("new", "unoffered", "accepting"), (task_id, state)
            assert engine.get(task_id).state.value == state, task_id
            if state in TERMINAL:
                continue
            live = [(o.agent.id, o.expires) for o in engine.offers_of(task_id)]
            model = [
                (a, float("inf") if e is None else e)
                for a, e in self.offers.get(task_id, {}).items()
            ]
            assert live == model, task_id
            assert len(live) <= self.k
        submitted = sum(1 for e in self.events if e.kind.value == "task_submitted")
        closed = sum(1 for s in self.state.values() if s in TERMINAL)
        assert submitted == len(engine) + closed

    @invariant()
    def a_snapshot_restores_the_same_engine(self) -> None:
        if not hasattr(self, "engine"):
            return
        data = json.loads(json.dumps(snapshot(self.engine), allow_nan=False))
        copy = Engine(clock=self.clock, **self.settings)
        restore(data, copy)
        copy._check()
        assert copy.digest() == self.engine.digest()

    @invariant()
    def no_capacity_is_over_reserved(self) -> None:
        if not hasattr(self, "engine"):
            return
        held: dict[str, Counter[str]] = {a.id: Counter() for a in self.engine.agents}
        for task_id, live in self.offers.items():
            for agent_id in live:
                held[agent_id][self.channel[task_id]] += 1
        for task_id, agent_id in self.assigned.items():
            held[agent_id][self.channel[task_id]] += 1
        for agent in self.engine.agents:
            for channel, count in held[agent.id].items():
                assert count <= agent.capacity.get(channel, 0), (agent.id, channel)
            assert {c: n for c, n in agent.load.items() if n} == dict(held[agent.id])

    @invariant()
    def no_free_agent_sits_next_to_a_queued_task_it_may_take(self) -> None:
        if not hasattr(self, "engine"):
            return
        now = self.clock.now
        for task_id in self.ids("queued"):
            for agent in self.engine.agents:
                if (
                    self.engine.agents.can_take(agent, self.channel[task_id])
                    and self.eligible(agent.id, task_id)
                    and self.cooldown.get((task_id, agent.id), -1.0) <= now
                ):
                    raise AssertionError(f"{agent.id} is free next to {task_id}")


TestOffersMachine = OffersMachine.TestCase

pytestmark = pytest.mark.filterwarnings("error")
