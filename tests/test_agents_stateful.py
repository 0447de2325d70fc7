"""The agent pool against a brute-force model, over random operation sequences.

The model keeps plain dicts and answers every question by scanning all agents;
each strategy's definition is written out again here from its documentation.
After every step: the pool's own invariants, every agent's observable state,
eligibility for every agent, and every strategy's pick for every group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valueroute.agents import (
    Agent,
    AgentPool,
    AgentSelection,
    FewestTasks,
    LeastOccupied,
    LeastSkilled,
    LeastTalkTime,
    LongestIdle,
    MostProficient,
    RandomAgent,
    RoundRobin,
    TopDown,
)
from valueroute.errors import (
    CapacityError,
    DuplicateAgentError,
    InvalidTransitionError,
    UnknownAgentError,
)
from valueroute.models import AgentSpec
from valueroute.task import RequirementGroup, Task
from valueroute.tasklist import TaskList

IDS = ["a", "b", "c", "d"]
SKILLS = ["billing", "french", "sales"]
CHANNELS = ["voice", "chat", "email"]
EXCLUSIVE = frozenset({"voice"})
SEED = 11

skill_sets = st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 3), max_size=3)
capacities = st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 2), max_size=3)
requirements = st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 3), max_size=2)


@dataclass
class Model:
    """What the pool should know about one agent, in plain data."""

    skills: dict[str, int]
    capacity: dict[str, int]
    order: int
    idle_since: float
    presence: str = "offline"
    reason: str | None = None
    wrap_up_until: float | None = None
    load: dict[str, int] = field(default_factory=dict)
    tasks_handled: int = 0
    talk: float = 0.0
    holding_since: float | None = None
    logged_in: float = 0.0
    online_since: float | None = None

    def held(self) -> int:
        return sum(self.load.values())

    def talk_time(self, now: float) -> float:
        return self.talk if self.holding_since is None else self.talk + (now - self.holding_since)

    def logged_in_time(self, now: float) -> float:
        if self.online_since is None:
            return self.logged_in
        return self.logged_in + (now - self.online_since)


ALLOWED = {
    ("offline", "ready"),
    ("offline", "not_ready"),
    ("ready", "offline"),
    ("ready", "not_ready"),
    ("ready", "wrap_up"),
    ("not_ready", "offline"),
    ("not_ready", "ready"),
    ("not_ready", "not_ready"),
    ("not_ready", "wrap_up"),
    ("wrap_up", "offline"),
    ("wrap_up", "ready"),
    ("wrap_up", "not_ready"),
    ("wrap_up", "wrap_up"),
}


def model_can_take(model: Model, channel: str) -> bool:
    if model.presence != "ready":
        return False
    if model.load.get(channel, 0) >= model.capacity.get(channel, 0):
        return False
    if any(model.load.get(c, 0) for c in EXCLUSIVE):
        return False
    return not (channel in EXCLUSIVE and model.held() > 0)


def model_admits(skills: dict[str, int], group: RequirementGroup) -> bool:
    return all(name in skills and skills[name] >= level for name, level in group.skills)


def mean_level(model: Model, group: RequirementGroup) -> Fraction:
    if not group.skills:
        return Fraction(0)
    return Fraction(sum(model.skills[name] for name, _ in group.skills), len(group.skills))


class AgentPoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pool = AgentPool(exclusive_channels=EXCLUSIVE)
        self.tasks = TaskList()
        self.models: dict[str, Model] = {}
        self.now = 0.0
        self.next_order = 0
        self.rotation = RoundRobin()
        self.model_last_order = -1
        self.random = RandomAgent(np.random.default_rng(SEED))
        self.model_rng = np.random.default_rng(SEED)
        self.task = Task(id="probe", seq=0, created=0.0)

    @initialize()
    def some_groups(self) -> None:
        self.tasks.group_for("voice", {})
        self.tasks.group_for("chat", {"billing": 1})

    # ---------------------------------------------------------------- rules

    @rule(seconds=st.integers(0, 5))
    def advance(self, seconds: int) -> None:
        self.now += seconds

    @rule(channel=st.sampled_from(CHANNELS), skills=requirements)
    def new_group(self, channel: str, skills: dict[str, int]) -> None:
        self.tasks.group_for(channel, {name: float(level) for name, level in skills.items()})

    @rule(
        agent_id=st.sampled_from(IDS),
        skills=skill_sets,
        capacity=capacities,
        # Mostly ready, so that takes and selections have agents to work with.
        presence=st.sampled_from(["ready", "ready", "ready", "offline", "not_ready", "wrap_up"]),
    )
    def add(
        self, agent_id: str, skills: dict[str, int], capacity: dict[str, int], presence: str
    ) -> None:
        spec = AgentSpec(
            id=agent_id,
            skills={name: float(level) for name, level in skills.items()},
            capacity=capacity,
        )
        reason = "lunch" if presence == "not_ready" else None
        if agent_id in self.models:
            try:
                self.pool.add(spec, now=self.now, presence=presence, reason=reason)
            except DuplicateAgentError:
                return
            raise AssertionError("duplicate id accepted")
        if presence == "wrap_up":
            try:
                self.pool.add(spec, now=self.now, presence=presence)
            except InvalidTransitionError:
                return
            raise AssertionError("an agent started in wrap_up")
        self.pool.add(spec, now=self.now, presence=presence, reason=reason)
        model = Model(skills, dict(capacity), self.next_order, self.now)
        model.load = dict.fromkeys(capacity, 0)
        self.next_order += 1
        if presence != "offline":
            model.presence = presence
            model.reason = reason
            model.online_since = self.now
        self.models[agent_id] = model

    @rule(agent_id=st.sampled_from(IDS))
    def remove(self, agent_id: str) -> None:
        model = self.models.get(agent_id)
        if model is None:
            try:
                self.pool.remove(agent_id)
            except UnknownAgentError:
                return
            raise AssertionError("removed an unknown agent")
        if model.held():
            try:
                self.pool.remove(agent_id)
            except InvalidTransitionError:
                return
            raise AssertionError("removed an agent holding tasks")
        self.pool.remove(agent_id)
        del self.models[agent_id]

    def existing(self, pick: int) -> str | None:
        """One of the registered agents (the rules below act on real agents)."""
        if not self.models:
            return None
        return list(self.models)[pick % len(self.models)]

    @rule(
        pick=st.integers(0, len(IDS)),
        presence=st.sampled_from(["offline", "ready", "not_ready", "wrap_up"]),
        extra=st.integers(0, 20),
    )
    def set_presence(self, pick: int, presence: str, extra: int) -> None:
        agent_id = self.existing(pick)
        if agent_id is None:
            return
        model = self.models[agent_id]
        reason = f"code{extra}" if presence == "not_ready" else None
        until = self.now + extra if presence == "wrap_up" and extra % 2 else None
        allowed = (model.presence, presence) in ALLOWED and not (
            presence == "offline" and model.held()
        )
        try:
            self.pool.set_presence(
                agent_id, presence, now=self.now, reason=reason, wrap_up_until=until
            )
        except InvalidTransitionError:
            assert not allowed
            return
        assert allowed
        if model.presence == "offline":
            model.online_since = self.now
        if presence == "offline":
            assert model.online_since is not None
            model.logged_in += self.now - model.online_since
            model.online_since = None
        if presence == "ready" and not model.held():
            model.idle_since = self.now
        model.presence, model.reason, model.wrap_up_until = presence, reason, until

    @rule(pick=st.integers(0, len(IDS)), channel=st.sampled_from(CHANNELS))
    def take(self, pick: int, channel: str) -> None:
        agent_id = self.existing(pick)
        if agent_id is None:
            return
        model = self.models[agent_id]
        agent = self.pool.get(agent_id)
        possible = model_can_take(model, channel)
        assert self.pool.can_take(agent, channel) == possible
        try:
            self.pool.take(agent, channel, now=self.now)
        except CapacityError:
            assert not possible
            return
        assert possible
        if not model.held():
            model.holding_since = self.now
        model.load[channel] += 1
        model.tasks_handled += 1
        # Idle since the workload last changed (docs/agents.md).
        model.idle_since = self.now

    @rule(pick=st.integers(0, len(IDS)), channel=st.sampled_from(CHANNELS))
    def release(self, pick: int, channel: str) -> None:
        agent_id = self.existing(pick)
        if agent_id is None:
            return
        model = self.models[agent_id]
        holds = model.load.get(channel, 0) > 0
        try:
            self.pool.release(self.pool.get(agent_id), channel, now=self.now)
        except InvalidTransitionError:
            assert not holds
            return
        assert holds
        model.load[channel] -= 1
        if not model.held():
            assert model.holding_since is not None
            model.talk += self.now - model.holding_since
            model.holding_since = None
        model.idle_since = self.now

    # ----------------------------------------------------------- invariants

    @invariant()
    def internal_invariants_hold(self) -> None:
        self.pool._check()

    @invariant()
    def every_agent_matches_the_model(self) -> None:
        assert [agent.id for agent in self.pool] == list(self.models)
        for agent_id, model in self.models.items():
            agent = self.pool.get(agent_id)
            assert agent.presence == model.presence
            assert (agent.reason, agent.wrap_up_until) == (model.reason, model.wrap_up_until)
            assert dict(agent.load) == model.load
            for channel, held in model.load.items():
                assert held <= model.capacity[channel]
            assert agent.idle_since == model.idle_since
            assert agent.tasks_handled == model.tasks_handled
            assert agent.talk_time(self.now) == model.talk_time(self.now)
            assert agent.logged_in_time(self.now) == model.logged_in_time(self.now)
            expected_state = model.presence
            if model.presence == "ready" and model.held():
                expected_state = "busy"
            assert agent.state == expected_state

    @invariant()
    def eligible_groups_match_brute_force(self) -> None:
        groups = self.tasks.groups
        for agent_id, model in self.models.items():
            found = self.pool.eligible_groups(self.pool.get(agent_id), groups)
            assert len(found) == len(set(found))
            expected = {
                group
                for group in groups
                if model_admits(model.skills, group) and model_can_take(model, group.channel)
            }
            assert set(found) == expected

    @invariant()
    def every_strategy_picks_what_its_definition_says(self) -> None:
        for group in self.tasks.groups:
            self.check_picks(group, self.now)

    def check_picks(self, group: RequirementGroup, now: float) -> None:
        candidates = sorted(
            (
                (model.idle_since, model.order, agent_id)
                for agent_id, model in self.models.items()
                if model_admits(model.skills, group) and model_can_take(model, group.channel)
            ),
        )
        ranked = [(self.models[agent_id], agent_id) for _, _, agent_id in candidates]
        assert [a.id for a in self.pool.available_agents(group)] == [i for _, i in ranked]

        def best(measure: Any, ranked: list[tuple[Model, str]] = ranked) -> str | None:
            if not ranked:
                return None
            return min(ranked, key=lambda item: (measure(item[0]), item[0].idle_since))[1]

        expected: list[tuple[AgentSelection, str | None]] = [
            (LongestIdle(), best(lambda m: 0)),
            (MostProficient(), best(lambda m: -mean_level(m, group))),
            (LeastSkilled(), best(lambda m: len(m.skills))),
            (
                LeastOccupied(),
                best(lambda m: Fraction(m.held(), sum(m.capacity.values()))),
            ),
            (FewestTasks(), best(lambda m: m.tasks_handled)),
            (LeastTalkTime(), best(lambda m: m.talk_time(now))),
            (TopDown(), best(lambda m: m.order)),
        ]
        for strategy, pick in expected:
            agent = self.pool.select(group, task=self.task, now=now, strategy=strategy)
            assert (None if agent is None else agent.id) == pick, strategy

        by_order = sorted((model.order, agent_id) for model, agent_id in ranked)
        after = [agent_id for order, agent_id in by_order if order > self.model_last_order]
        rotation_pick = after[0] if after else (by_order[0][1] if by_order else None)
        if rotation_pick is not None:
            self.model_last_order = self.models[rotation_pick].order
        agent = self.pool.select(group, now=now, strategy=self.rotation)
        assert (None if agent is None else agent.id) == rotation_pick

        random_pick = None
        if ranked:
            random_pick = ranked[int(self.model_rng.integers(len(ranked)))][1]
        agent = self.pool.select(group, now=now, strategy=self.random)
        assert (None if agent is None else agent.id) == random_pick

        def most_recently_registered(
            candidates: Sequence[Agent], task: Task | None, now: float
        ) -> Agent:
            assert task is self.task
            return max(candidates, key=lambda candidate: candidate.order)

        user_pick = by_order[-1][1] if by_order else None
        agent = self.pool.select(group, task=self.task, now=now, strategy=most_recently_registered)
        assert (None if agent is None else agent.id) == user_pick


TestAgentPool = AgentPoolMachine.TestCase
