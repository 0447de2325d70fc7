"""The agent pool, by example: each test is one rule, on a small hand-made pool."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute.agents import (
    Agent,
    AgentPool,
    AgentSelection,
    AgentState,
    FewestTasks,
    LeastOccupied,
    LeastSkilled,
    LeastTalkTime,
    LongestIdle,
    MostProficient,
    Presence,
    RandomAgent,
    RoundRobin,
    SelectionCallable,
    TopDown,
    selection_by_name,
)
from valueroute.errors import (
    CapacityError,
    ClockError,
    DuplicateAgentError,
    InvalidInputError,
    InvalidTransitionError,
    PolicyError,
    UnknownAgentError,
    ValueRouteError,
)
from valueroute.models import AgentSpec
from valueroute.task import RequirementGroup, Task
from valueroute.tasklist import TaskList


def spec(agent_id: str, skills: Mapping[str, float] | None = None, **capacity: int) -> AgentSpec:
    return AgentSpec(id=agent_id, skills=dict(skills or {}), capacity=capacity or {"voice": 1})


def ready(
    pool: AgentPool,
    agent_id: str,
    skills: dict[str, float] | None = None,
    *,
    now: float,
    **capacity: int,
) -> Agent:
    return pool.add(spec(agent_id, skills, **capacity), now=now, presence=Presence.ready)


def chosen(
    pool: AgentPool,
    group: RequirementGroup,
    *,
    now: float,
    strategy: AgentSelection | SelectionCallable | None = None,
    task: Task | None = None,
) -> str | None:
    """The id of the agent ``select`` picks, or ``None``."""
    agent = pool.select(group, task=task, now=now, strategy=strategy)
    return None if agent is None else agent.id


def ids(agents: Sequence[Agent]) -> list[str]:
    return [agent.id for agent in agents]


@pytest.fixture
def tasks() -> TaskList:
    return TaskList()


# ------------------------------------------------------------------ presence


def test_a_new_agent_starts_offline_and_is_never_selected(tasks: TaskList) -> None:
    pool = AgentPool()
    agent = pool.add(spec("ann"), now=0.0)
    assert agent.state is AgentState.offline
    assert pool.select(tasks.group_for("voice", {}), now=1.0) is None


def test_state_reports_busy_for_a_ready_agent_holding_a_task() -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0, chat=2)
    idle_state = agent.state
    pool.take(agent, "chat", now=1.0)
    assert (idle_state, agent.state) == (AgentState.ready, AgentState.busy)
    assert agent.presence is Presence.ready


def test_not_ready_carries_its_reason_and_wrap_up_its_end() -> None:
    pool = AgentPool()
    ready(pool, "ann", now=0.0)
    agent = pool.set_presence("ann", "not_ready", now=1.0, reason="lunch")
    assert (agent.state, agent.reason) == (AgentState.not_ready, "lunch")
    pool.set_presence("ann", Presence.wrap_up, now=2.0, wrap_up_until=32.0)
    assert (agent.state, agent.reason, agent.wrap_up_until) == (AgentState.wrap_up, None, 32.0)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Presence.offline, Presence.offline),
        (Presence.offline, Presence.wrap_up),
        (Presence.ready, Presence.ready),
    ],
)
def test_forbidden_transitions_raise_and_change_nothing(start: Presence, target: Presence) -> None:
    pool = AgentPool()
    agent = pool.add(spec("ann"), now=0.0, presence=start)
    before = (agent.presence, agent.idle_since, agent.reason)
    with pytest.raises(InvalidTransitionError, match="ann"):
        pool.set_presence("ann", target, now=5.0)
    assert (agent.presence, agent.idle_since, agent.reason) == before
    pool._check()


def test_an_agent_holding_a_task_cannot_go_offline_or_be_removed() -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0)
    pool.take(agent, "voice", now=1.0)
    with pytest.raises(InvalidTransitionError, match="holds 1 task"):
        pool.set_presence("ann", "offline", now=2.0)
    with pytest.raises(InvalidTransitionError, match="holds 1 task"):
        pool.remove("ann")
    assert "ann" in pool
    assert agent.presence is Presence.ready
    pool._check()


def test_not_ready_while_holding_keeps_the_task_but_takes_no_more() -> None:
    pool = AgentPool(exclusive_channels=())
    agent = ready(pool, "ann", now=0.0, chat=3)
    pool.take(agent, "chat", now=1.0)
    pool.set_presence("ann", "not_ready", now=2.0, reason="coaching")
    assert agent.load["chat"] == 1
    assert not pool.can_take(agent, "chat")
    pool.release(agent, "chat", now=3.0)
    assert agent.load["chat"] == 0
    pool._check()


def test_reason_and_wrap_up_end_are_refused_with_the_wrong_presence() -> None:
    pool = AgentPool()
    ready(pool, "ann", now=0.0)
    with pytest.raises(InvalidInputError, match="reason"):
        pool.set_presence("ann", "wrap_up", now=1.0, reason="lunch")
    with pytest.raises(InvalidInputError, match="wrap_up_until"):
        pool.set_presence("ann", "not_ready", now=1.0, wrap_up_until=9.0)
    with pytest.raises(InvalidInputError, match="wrap_up_until"):
        pool.set_presence("ann", "wrap_up", now=10.0, wrap_up_until=9.0)
    with pytest.raises(InvalidInputError, match="presence"):
        pool.set_presence("ann", "asleep", now=1.0)
    assert pool.get("ann").presence is Presence.ready


def test_becoming_ready_restarts_the_idle_clock() -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0)
    pool.set_presence("ann", "not_ready", now=5.0, reason="break")
    pool.set_presence("ann", "ready", now=9.0)
    assert agent.idle_since == 9.0


def test_time_must_not_run_backwards() -> None:
    pool = AgentPool()
    ready(pool, "ann", now=10.0)
    with pytest.raises(ClockError, match="now"):
        pool.set_presence("ann", "not_ready", now=9.0)
    with pytest.raises(ClockError, match="now"):
        pool.add(spec("bob"), now=float("nan"))
    assert pool.get("ann").presence is Presence.ready
    assert "bob" not in pool


def test_ids_are_unique_and_unknown_ids_are_named() -> None:
    pool = AgentPool()
    pool.add(spec("ann"), now=0.0)
    with pytest.raises(DuplicateAgentError, match="ann"):
        pool.add(spec("ann"), now=0.0)
    with pytest.raises(UnknownAgentError, match="zed"):
        pool.get("zed")
    stranger = AgentPool().add(spec("ann"), now=0.0, presence="ready")
    with pytest.raises(UnknownAgentError, match="not registered in this pool"):
        pool.take(stranger, "voice", now=1.0)
    assert len(pool) == 1
    assert ids(list(pool)) == ["ann"]


def test_errors_share_the_valueroute_root() -> None:
    pool = AgentPool()
    with pytest.raises(ValueRouteError):
        pool.add({"id": "ann"}, now=0.0)  # type: ignore[arg-type]


# ----------------------------------------------------------------- capacity


def test_capacity_per_channel_is_enforced_and_a_failed_take_changes_nothing() -> None:
    pool = AgentPool(exclusive_channels=())
    agent = ready(pool, "ann", now=0.0, chat=2)
    pool.take(agent, "chat", now=1.0)
    pool.take(agent, "chat", now=2.0)
    with pytest.raises(CapacityError, match="holds 2 of 2"):
        pool.take(agent, "chat", now=3.0)
    with pytest.raises(CapacityError, match="email"):
        pool.take(agent, "email", now=3.0)
    assert dict(agent.load) == {"chat": 2}
    assert agent.tasks_handled == 2
    pool._check()


def test_a_voice_task_needs_an_agent_holding_nothing_and_blocks_everything_else() -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0, voice=1, chat=3)
    pool.take(agent, "chat", now=1.0)
    assert not pool.can_take(agent, "voice")
    with pytest.raises(CapacityError, match="exclusive"):
        pool.take(agent, "voice", now=1.0)
    pool.release(agent, "chat", now=2.0)
    pool.take(agent, "voice", now=3.0)
    assert not pool.can_take(agent, "chat")
    with pytest.raises(CapacityError, match="exclusive"):
        pool.take(agent, "chat", now=3.0)
    pool._check()


def test_without_exclusive_channels_voice_and_chat_mix() -> None:
    pool = AgentPool(exclusive_channels=frozenset())
    agent = ready(pool, "ann", now=0.0, voice=1, chat=3)
    pool.take(agent, "chat", now=1.0)
    pool.take(agent, "voice", now=1.0)
    assert dict(agent.load) == {"voice": 1, "chat": 1}
    pool._check()


def test_releasing_what_is_not_held_raises() -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0)
    with pytest.raises(InvalidTransitionError, match="no task on channel 'voice'"):
        pool.release(agent, "voice", now=1.0)


def test_only_ready_agents_take_tasks() -> None:
    pool = AgentPool()
    agent = pool.add(spec("ann"), now=0.0, presence="not_ready", reason="meeting")
    with pytest.raises(CapacityError, match="not_ready"):
        pool.take(agent, "voice", now=1.0)


def test_talk_time_logged_in_time_and_occupancy() -> None:
    pool = AgentPool()
    agent = pool.add(spec("ann"), now=0.0)
    pool.set_presence("ann", "ready", now=10.0)
    pool.take(agent, "voice", now=20.0)
    pool.release(agent, "voice", now=50.0)
    pool.take(agent, "voice", now=60.0)
    # Logged in since 10; talking 20-50 and since 60.
    assert agent.talk_time(70.0) == 40.0
    assert agent.logged_in_time(70.0) == 60.0
    assert agent.occupancy(70.0) == pytest.approx(40.0 / 60.0)
    assert agent.tasks_handled == 2


# -------------------------------------------------------------- eligibility


def test_eligible_groups_need_skills_and_a_channel_the_agent_can_take_now(
    tasks: TaskList,
) -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", {"billing": 3, "french": 1}, now=0.0, voice=1, chat=2)
    billing_voice = tasks.group_for("voice", {"billing": 2})
    billing_chat = tasks.group_for("chat", {"billing": 3})
    french_expert = tasks.group_for("voice", {"french": 4})  # level too low
    email = tasks.group_for("email", {})  # no email capacity
    assert set(pool.eligible_groups(agent, tasks.groups)) == {billing_voice, billing_chat}
    pool.take(agent, "chat", now=1.0)  # voice is now blocked
    assert pool.eligible_groups(agent, tasks.groups) == [billing_chat]
    assert french_expert not in pool.eligible_groups(agent, tasks.groups)
    assert email not in pool.eligible_groups(agent, tasks.groups)


def test_eligibility_extends_as_new_groups_appear(tasks: TaskList) -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", {"billing": 3}, now=0.0)
    assert pool.eligible_groups(agent, tasks.groups) == []
    later = tasks.group_for("voice", {"billing": 1})
    assert pool.eligible_groups(agent, tasks.groups) == [later]
    pool._check()


def test_eligible_groups_refuses_a_sequence_that_is_not_the_same(tasks: TaskList) -> None:
    pool = AgentPool()
    agent = ready(pool, "ann", now=0.0)
    tasks.group_for("voice", {})
    tasks.group_for("chat", {})
    pool.eligible_groups(agent, tasks.groups)
    with pytest.raises(InvalidInputError, match="append-only"):
        pool.eligible_groups(agent, tasks.groups[:1])


# ---------------------------------------------------------------- strategies


@pytest.fixture
def team(tasks: TaskList) -> tuple[AgentPool, TaskList]:
    """Four ready billing agents; registration order ann, bob, cat, dan.

    ===== ====================== ================ ==========
    agent skills                 became idle at   capacity
    ===== ====================== ================ ==========
    ann   billing 2              30               voice
    bob   billing 5, french 3    10               voice
    cat   billing 4, french 4,   20               voice
          sales 2
    dan   billing 3              40               voice
    ===== ====================== ================ ==========
    """
    pool = AgentPool()
    for agent_id, skills in [
        ("ann", {"billing": 2}),
        ("bob", {"billing": 5, "french": 3}),
        ("cat", {"billing": 4, "french": 4, "sales": 2}),
        ("dan", {"billing": 3}),
    ]:
        pool.add(spec(agent_id, skills), now=0.0)
    for agent_id, idle in [("bob", 10.0), ("cat", 20.0), ("ann", 30.0), ("dan", 40.0)]:
        pool.set_presence(agent_id, "ready", now=idle)
    return pool, tasks


def test_longest_idle_picks_the_earliest_idle_since(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    assert chosen(pool, billing, now=50.0, strategy=LongestIdle()) == "bob"
    # Only bob and cat speak French; with bob busy, cat is the longest idle left.
    french = tasks.group_for("voice", {"french": 3})
    pool.take(pool.get("bob"), "voice", now=50.0)
    assert chosen(pool, french, now=50.0) == "cat"


def test_longest_idle_spreads_chats_over_idle_agents(tasks: TaskList) -> None:
    # Three chat agents, three slots each, all idle: three chats in a row go
    # to three agents, not all to the one idle longest before the first.
    pool = AgentPool()
    for n, agent_id in enumerate(["ann", "bob", "cat"]):
        ready(pool, agent_id, now=float(n), chat=3)
    group = tasks.group_for("chat", {})
    taken = []
    for now in (10.0, 11.0, 12.0):
        agent = pool.select(group, now=now)
        assert agent is not None
        pool.take(agent, "chat", now=now)
        taken.append(agent.id)
        assert agent.idle_since == now
    assert taken == ["ann", "bob", "cat"]
    # A fourth goes to whoever's workload changed least recently: ann.
    assert chosen(pool, group, now=13.0) == "ann"
    pool.release(pool.get("bob"), "chat", now=14.0)
    assert pool.get("bob").idle_since == 14.0
    assert chosen(pool, group, now=15.0) == "ann"


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["take", "release", "away", "back"]), st.integers(0, 5)),
        max_size=60,
    )
)
def test_longest_idle_is_the_earliest_workload_change(steps: list[tuple[str, int]]) -> None:
    """Against a brute force: the available agent whose load last changed (a task
    taken or finished, or ready with nothing) earliest, then registration order."""
    pool = AgentPool()
    group = TaskList().group_for("chat", {})
    ids = [f"a{n}" for n in range(6)]
    changed: dict[str, float] = {}
    for n, agent_id in enumerate(ids):
        ready(pool, agent_id, now=0.0, chat=1 + n % 3, voice=1)
        changed[agent_id] = 0.0
    now = 0.0
    for action, pick in steps:
        now += 1.0
        agent = pool.get(ids[pick])
        if action == "take" and pool.can_take(agent, "chat"):
            pool.take(agent, "chat", now=now)
            changed[agent.id] = now
        elif action == "release" and agent.load["chat"]:
            pool.release(agent, "chat", now=now)
            changed[agent.id] = now
        elif action == "away" and agent.presence is Presence.ready:
            pool.set_presence(agent.id, "not_ready", now=now)
        elif action == "back" and agent.presence is Presence.not_ready:
            pool.set_presence(agent.id, "ready", now=now)
            if not agent.held:
                changed[agent.id] = now
        candidates = [a for a in ids if pool.can_take(pool.get(a), "chat")]
        expected = min(candidates, key=lambda a: (changed[a], ids.index(a)), default=None)
        assert chosen(pool, group, now=now, strategy=LongestIdle()) == expected
        assert [a.id for a in pool.available_agents(group)] == sorted(
            candidates, key=lambda a: (changed[a], ids.index(a))
        )
    pool._check()


def test_longest_idle_ties_go_to_registration_order(tasks: TaskList) -> None:
    pool = AgentPool()
    ready(pool, "zed", now=5.0)
    ready(pool, "amy", now=5.0)
    assert chosen(pool, tasks.group_for("voice", {}), now=6.0) == "zed"


def test_most_proficient_uses_the_mean_level_over_required_skills(
    team: tuple[AgentPool, TaskList],
) -> None:
    pool, tasks = team
    # billing+french: bob (5+3)/2 = 4.0, cat (4+4)/2 = 4.0 -> tie, bob idle longer.
    both = tasks.group_for("voice", {"billing": 1, "french": 1})
    assert chosen(pool, both, now=50.0, strategy=MostProficient()) == "bob"
    # french only: cat 4 beats bob 3.
    french = tasks.group_for("voice", {"french": 1})
    assert chosen(pool, french, now=50.0, strategy=MostProficient()) == "cat"


def test_least_skilled_keeps_multi_skilled_agents_free(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    # ann and dan have one skill each; ann has been idle since 30, dan since 40.
    assert chosen(pool, billing, now=50.0, strategy=LeastSkilled()) == "ann"


def test_top_down_takes_the_first_registered_available_agent(
    team: tuple[AgentPool, TaskList],
) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    assert chosen(pool, billing, now=50.0, strategy=TopDown()) == "ann"
    pool.take(pool.get("ann"), "voice", now=50.0)
    assert chosen(pool, billing, now=50.0, strategy=TopDown()) == "bob"


def test_round_robin_cycles_in_registration_order_and_wraps(
    team: tuple[AgentPool, TaskList],
) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    rotation = RoundRobin()
    picks = [pool.select(billing, now=50.0, strategy=rotation) for _ in range(6)]
    assert ids([a for a in picks if a is not None]) == ["ann", "bob", "cat", "dan", "ann", "bob"]
    # bob is busy: after ann comes cat.
    rotation = RoundRobin()
    pool.take(pool.get("bob"), "voice", now=50.0)
    picks = [pool.select(billing, now=50.0, strategy=rotation) for _ in range(3)]
    assert ids([a for a in picks if a is not None]) == ["ann", "cat", "dan"]


def test_fewest_tasks_and_least_talk_time(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    bob, cat = pool.get("bob"), pool.get("cat")
    # bob: two short tasks (2 s each); cat: one long task (100 s).
    pool.take(cat, "voice", now=50.0)
    pool.take(bob, "voice", now=50.0)
    pool.release(bob, "voice", now=52.0)
    pool.take(bob, "voice", now=52.0)
    pool.release(bob, "voice", now=54.0)
    pool.release(cat, "voice", now=150.0)
    pool.take(pool.get("ann"), "voice", now=150.0)
    pool.take(pool.get("dan"), "voice", now=150.0)
    pool.release(pool.get("ann"), "voice", now=151.0)
    pool.release(pool.get("dan"), "voice", now=151.0)
    # Tasks: ann 1, bob 2, cat 1, dan 1 -> fewest is a tie of ann, cat, dan;
    # cat has been idle longest (since 150).
    assert chosen(pool, billing, now=160.0, strategy=FewestTasks()) == "cat"
    # Talk time: ann 1, bob 4, cat 100, dan 1 -> ann and dan tie, both idle since
    # 151, ann registered first.
    assert chosen(pool, billing, now=160.0, strategy=LeastTalkTime()) == "ann"


def test_least_occupied_compares_held_over_slots(tasks: TaskList) -> None:
    pool = AgentPool(exclusive_channels=())
    ann = ready(pool, "ann", now=0.0, chat=2)  # will hold 1 of 2
    bob = ready(pool, "bob", now=1.0, chat=4)  # will hold 1 of 4
    ready(pool, "cat", now=2.0, chat=3, email=3)  # will hold 3 of 6
    pool.take(ann, "chat", now=3.0)
    pool.take(bob, "chat", now=3.0)
    for _ in range(3):
        pool.take(pool.get("cat"), "email", now=3.0)
    chat = tasks.group_for("chat", {})
    assert chosen(pool, chat, now=4.0, strategy=LeastOccupied()) == "bob"
    # Longest idle ignores load: ann (0) has waited longest.
    assert chosen(pool, chat, now=4.0) == "ann"


def test_random_is_uniform_over_candidates_in_longest_idle_order(
    team: tuple[AgentPool, TaskList],
) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    longest_idle_first = ["bob", "cat", "ann", "dan"]
    draws = np.random.default_rng(7).integers(4, size=20)
    strategy = RandomAgent(np.random.default_rng(7))
    picks = [pool.select(billing, now=50.0, strategy=strategy) for _ in range(20)]
    assert ids([a for a in picks if a is not None]) == [longest_idle_first[k] for k in draws]


def test_random_draws_nothing_when_no_agent_is_available(tasks: TaskList) -> None:
    pool = AgentPool()
    rng = np.random.default_rng(3)
    strategy = RandomAgent(rng)
    assert pool.select(tasks.group_for("voice", {}), now=0.0, strategy=strategy) is None
    assert rng.integers(1000) == np.random.default_rng(3).integers(1000)


def test_a_user_callable_sees_candidates_longest_idle_first(
    team: tuple[AgentPool, TaskList],
) -> None:
    pool, tasks = team
    seen: list[list[str]] = []
    task = Task(id="t1", seq=0, created=0.0)

    def last_candidate(candidates: Sequence[Agent], task: Task | None, now: float) -> Agent:
        assert task is not None
        assert task.id == "t1"
        seen.append(ids(candidates))
        return candidates[-1]

    french = tasks.group_for("voice", {"french": 1})
    assert chosen(pool, french, task=task, now=50.0, strategy=last_candidate) == "cat"
    assert seen == [["bob", "cat"]]


def test_a_user_callable_must_return_a_candidate(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    outsider = pool.get("ann")
    french = tasks.group_for("voice", {"french": 1})

    def outside_pick(candidates: Sequence[Agent], task: Task | None, now: float) -> Agent:
        return outsider

    with pytest.raises(PolicyError, match="expected one of the 2 candidates"):
        pool.select(french, now=50.0, strategy=outside_pick)


def test_selection_by_name_builds_every_strategy() -> None:
    rng = np.random.default_rng(1)
    names = {
        "longest_idle": LongestIdle,
        "most_proficient": MostProficient,
        "least_skilled": LeastSkilled,
        "least_occupied": LeastOccupied,
        "round_robin": RoundRobin,
        "fewest_tasks": FewestTasks,
        "least_talk_time": LeastTalkTime,
        "top_down": TopDown,
    }
    for name, kind in names.items():
        assert isinstance(selection_by_name(name), kind)
    assert isinstance(selection_by_name("random", rng=rng), RandomAgent)
    with pytest.raises(InvalidInputError, match="'best'"):
        selection_by_name("best")
    with pytest.raises(InvalidInputError, match="random"):
        selection_by_name("random")


def test_select_returns_none_without_admitted_agents(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    spanish = tasks.group_for("voice", {"spanish": 1})
    strategies: list[AgentSelection] = [
        LongestIdle(),
        MostProficient(),
        LeastOccupied(),
        RoundRobin(),
        TopDown(),
    ]
    for strategy in strategies:
        assert pool.select(spanish, now=50.0, strategy=strategy) is None


def test_available_agents_follows_presence_and_removal(team: tuple[AgentPool, TaskList]) -> None:
    pool, tasks = team
    billing = tasks.group_for("voice", {"billing": 1})
    assert ids(list(pool.available_agents(billing))) == ["bob", "cat", "ann", "dan"]
    pool.set_presence("cat", "not_ready", now=50.0, reason="break")
    pool.set_presence("ann", "offline", now=50.0)
    pool.remove("ann")
    assert ids(list(pool.available_agents(billing))) == ["bob", "dan"]
    pool._check()


def test_the_selection_example_prints_the_picks_its_team_implies() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "agent_selection.py"
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    picks = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:10]}
    # Idle order bob (10), cat (20), ann (30), dan (40); registration ann, bob, cat, dan.
    # French billing admits only bob and cat; they tie on mean level (5+3)/2 = (4+4)/2.
    # One generator serves both calls of the random strategy, in that order.
    rng = np.random.default_rng(1)
    draws = rng.integers(4), rng.integers(2)
    assert picks == {
        "longest_idle": ["bob", "bob"],
        "most_proficient": ["bob", "bob"],
        "least_skilled": ["ann", "bob"],
        "least_occupied": ["bob", "bob"],
        "fewest_tasks": ["bob", "bob"],
        "least_talk_time": ["bob", "bob"],
        "top_down": ["ann", "bob"],
        "round_robin": ["ann", "bob"],
        "random": [["bob", "cat", "ann", "dan"][draws[0]], ["bob", "cat"][draws[1]]],
    }
    assert "longest idle for billing is now cat" in result.stdout


def test_availability_stays_exact_and_bounded_when_agents_leave_from_the_middle() -> None:
    # Agents leaving the ready set out of idle order leave stale heap entries
    # behind; the index must still name the longest idle agent and must not
    # grow with the number of departures.
    pool = AgentPool()
    tasks = TaskList()
    group = tasks.group_for("voice", {"s": 1.0})
    now = 0.0
    ids = [f"a{i}" for i in range(200)]
    for agent_id in ids:
        now += 1.0
        ready(pool, agent_id, {"s": 2.0}, now=now)
    rng = np.random.default_rng(5)
    idle_since = {agent_id: pool.get(agent_id).idle_since for agent_id in ids}
    available = set(ids)
    for _ in range(3_000):
        now += 1.0
        agent_id = ids[int(rng.integers(len(ids)))]
        if agent_id in available:
            pool.take(pool.get(agent_id), "voice", now=now)
            available.discard(agent_id)
        else:
            pool.release(pool.get(agent_id), "voice", now=now)
            available.add(agent_id)
            idle_since[agent_id] = now
        expected = min(available, key=lambda a: (idle_since[a], ids.index(a)), default=None)
        chosen = pool.select(group, now=now)
        assert (chosen.id if chosen else None) == expected
        assert [a.id for a in pool.available_agents(group)] == sorted(
            available, key=lambda a: (idle_since[a], ids.index(a))
        )
        lists = pool._available["voice"][pool.get("a0").profile]
        assert len(lists.heap) <= 2 * len(available) + 33
    pool._check()
