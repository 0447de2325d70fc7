"""Concurrent offers: one task offered to up to k free agents at once.

Each test states one rule of docs/engine.md "Concurrent offers" and checks it
on the event log and the engine's views; the engine's own invariants
(``_check``) are asserted after every scenario.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute._snapshot import restore, snapshot
from valueroute.agents import MostProficient
from valueroute.errors import InvalidInputError, InvalidTransitionError
from valueroute.events import Event
from valueroute.journal import DurableEngine
from valueroute.kpi import KpiAggregator
from valueroute.models import QueueSpec


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class World:
    """An engine on a hand clock with its event log."""

    def __init__(self, k: int, **options: Any) -> None:
        self.clock = Clock()
        options.setdefault("offer_timeout", 30.0)
        self.engine = Engine(clock=self.clock, concurrent_offers=k, **options)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)

    def agents(self, *ids: str, **spec: Any) -> None:
        """Ready agents, one second apart: the first is the longest idle."""
        for agent_id in ids:
            skills = spec.get("skills", {"billing": 1.0})
            capacity = spec.get("capacity", {"voice": 1})
            self.engine.add_agent(
                AgentSpec(id=agent_id, skills=skills, capacity=capacity), ready=True
            )
            self.clock.now += 1.0

    def submit(self, task_id: str, **fields: Any) -> None:
        fields.setdefault("skills", {"billing": 1.0})
        self.engine.submit(TaskSpec(id=task_id, **fields))

    def offered_to(self, task_id: str) -> list[str]:
        return [offer.agent.id for offer in self.engine.offers_of(task_id)]

    def since(self, mark: int) -> list[tuple[str, str | None, str | None]]:
        return [(e.kind.value, e.task, e.agent) for e in self.events[mark:]]

    def check(self) -> None:
        self.engine._check()


@pytest.fixture
def world() -> Iterator[World]:
    made = World(3)
    yield made
    made.check()


# ---------------------------------------------------------------- the setting


@pytest.mark.parametrize("bad", [0, -1, 10_001, True, False, 1.5, "2", None, math.nan, [2]])
def test_a_bad_setting_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(
        InvalidInputError, match=r"concurrent_offers: got .*an integer from 1 to 10000"
    ):
        Engine(concurrent_offers=bad)  # type: ignore[arg-type]


def test_one_is_the_default_and_offers_a_task_to_one_agent() -> None:
    made = World(1)
    made.agents("ann", "bob")
    made.submit("t1")
    assert made.offered_to("t1") == ["ann"]
    assert made.engine.offer_of("t1").agent.id == "ann"
    assert Engine()._concurrent == 1


# ---------------------------------------------------------------- the round


def test_a_new_task_is_offered_to_k_agents_longest_idle_first(world: World) -> None:
    world.agents("ann", "bob", "cid", "dan")
    mark = len(world.events)
    world.submit("t1")
    assert world.offered_to("t1") == ["ann", "bob", "cid"]
    assert world.since(mark) == [
        ("task_submitted", "t1", None),
        ("task_queued", "t1", None),
        ("task_offered", "t1", "ann"),
        ("task_offered", "t1", "bob"),
        ("task_offered", "t1", "cid"),
    ]
    # Each offer reserves its agent's slot; dan is still free.
    loads = {a.id: dict(a.load) for a in world.engine.agents}
    assert loads == {
        "ann": {"voice": 1},
        "bob": {"voice": 1},
        "cid": {"voice": 1},
        "dan": {"voice": 0},
    }
    for agent in ("ann", "bob", "cid"):
        assert [t.id for t in world.engine.tasks_of(agent)] == ["t1"]


def test_an_agent_with_slots_left_gets_one_offer_of_a_task_not_two(world: World) -> None:
    world.agents("ann", capacity={"chat": 3})
    world.agents("bob", capacity={"chat": 1})
    world.submit("t1", channel="chat")
    assert world.offered_to("t1") == ["ann", "bob"]
    # ann still has slots: the next task comes to her (and to nobody else free).
    world.submit("t2", channel="chat")
    assert world.offered_to("t2") == ["ann"]


def test_the_round_follows_the_selection_strategy_s_ranking() -> None:
    made = World(2, agent_selection=MostProficient())
    for agent_id, level in (("low", 1.0), ("top", 5.0), ("mid", 3.0)):
        made.agents(agent_id, skills={"billing": level})
    made.submit("t1")
    assert made.offered_to("t1") == ["top", "mid"]
    made.check()


def test_preferred_agents_are_offered_the_task_in_its_order(world: World) -> None:
    world.agents("ann", "bob", "cid", "dan")
    world.submit("t1", preferred_agents=["dan", "bob"])
    assert world.offered_to("t1") == ["dan", "bob"]


def test_fewer_free_agents_than_k_get_it_and_later_free_agents_do_not(world: World) -> None:
    world.agents("ann")
    world.submit("t1")
    assert world.offered_to("t1") == ["ann"]
    # bob comes free while t1 is offered: it is in no list, so he is not offered it.
    world.agents("bob")
    assert world.offered_to("t1") == ["ann"]
    assert world.engine.tasks_of("bob") == []


def test_a_task_returning_to_the_list_gets_a_new_round(world: World) -> None:
    world.agents("ann", "bob", "cid")
    world.engine.set_agent_state("bob", "offline")
    world.engine.set_agent_state("cid", "offline")
    world.submit("t1")
    assert world.offered_to("t1") == ["ann"]
    world.engine.set_agent_state("bob", "ready")
    world.engine.set_agent_state("cid", "ready")
    world.engine.revoke("t1")
    # Back in the list: pushed again, to three agents (no cool-down after a revoke).
    assert sorted(world.offered_to("t1")) == ["ann", "bob", "cid"]


def test_an_agent_coming_free_pushes_its_best_task_to_others_too(world: World) -> None:
    world.agents("ann", "bob")
    world.engine.set_agent_state("ann", "offline")
    world.engine.set_agent_state("bob", "offline")
    world.submit("t1")
    assert world.offered_to("t1") == []
    world.engine.set_agent_state("ann", "ready")
    assert world.offered_to("t1") == ["ann"]
    # bob came free after the push: t1 already has its offer, so not him.
    world.engine.set_agent_state("bob", "ready")
    assert world.offered_to("t1") == ["ann"]


def test_cooling_agents_are_passed_over(world: World) -> None:
    world.agents("ann", "bob", "cid", "dan")
    world.submit("t1")
    for agent in ("ann", "bob", "cid"):
        world.engine.reject("t1", agent)
    # Back in the list after the last refusal: only dan is not cooling.
    assert world.offered_to("t1") == ["dan"]


def test_agents_who_take_tasks_without_offers_are_passed_over_in_a_round(world: World) -> None:
    world.agents("ann", "bob")
    world.engine.add_agent(
        AgentSpec(id="auto", skills={"billing": 1.0}, auto_accept=True), ready=True
    )
    world.agents("cid")
    world.submit("t1")
    assert world.offered_to("t1") == ["ann", "bob", "cid"]
    assert world.engine.tasks_of("auto") == []


def test_a_task_taken_without_an_offer_goes_to_one_agent_with_no_round() -> None:
    made = World(3, auto_accept=["chat"])
    made.agents("ann", "bob", "cid", capacity={"chat": 1, "voice": 1})
    mark = len(made.events)
    made.submit("c1", channel="chat")
    assert made.since(mark) == [
        ("task_submitted", "c1", None),
        ("task_queued", "c1", None),
        ("task_assigned", "c1", "ann"),
    ]
    made.submit("v1")
    # Voice is exclusive: ann, holding a chat, cannot take it.
    assert made.offered_to("v1") == ["bob", "cid"]
    made.check()


def test_a_pull_offers_one_task_to_the_pulling_agent_only() -> None:
    made = World(3, dispatch="pull")
    made.agents("ann", "bob", "cid")
    made.submit("t1")
    offer = made.engine.next_task("bob")
    assert offer is not None
    assert made.offered_to("t1") == ["bob"]
    made.check()


def test_a_transfer_to_an_agent_offers_the_task_to_that_agent_only(world: World) -> None:
    world.agents("ann", "bob", "cid", "dan")
    world.submit("t1")
    world.engine.accept("t1", "ann")
    world.engine.transfer("t1", to_agent="dan")
    assert world.offered_to("t1") == ["dan"]


# ---------------------------------------------------------------- answers


def test_the_first_accept_wins_and_every_other_offer_is_revoked(world: World) -> None:
    world.agents("ann", "bob", "cid")
    world.submit("t1")
    world.submit("t2")
    assert world.offered_to("t2") == []
    mark = len(world.events)
    world.engine.accept("t1", "bob")
    assert world.engine.get("t1").state.value == "assigned"
    assert world.engine.agent_of("t1").id == "bob"  # type: ignore[union-attr]
    log = world.since(mark)
    assert log[:4] == [
        ("offer_revoked", "t1", "ann"),
        ("offer_revoked", "t1", "cid"),
        ("offer_accepted", "t1", "bob"),
        ("task_assigned", "t1", "bob"),
    ]
    revoked = [e for e in world.events[mark:] if e.kind.value == "offer_revoked"]
    assert all(e.data["accepted_by"] == "bob" for e in revoked)
    assert all(e.data["reason"] == "accepted_by_other" for e in revoked)
    # The freed agents get other work in the same command: t2, to both.
    assert world.offered_to("t2") == ["ann", "cid"]
    stats = world.engine.statistics()["by_type"]["task"]
    assert stats["offered"] == 5
    assert stats["accepted"] == 1
    assert stats["offer_revoked"] == 2


def test_a_second_accept_is_refused_and_changes_nothing(world: World) -> None:
    world.agents("ann", "bob")
    world.submit("t1")
    world.engine.accept("t1", "ann")
    before = world.engine.digest()
    with pytest.raises(InvalidTransitionError, match="it is assigned"):
        world.engine.accept("t1", "bob")
    assert world.engine.digest() == before


@pytest.mark.parametrize("command", ["accept", "reject"])
def test_answering_without_naming_the_agent_is_refused_when_several_hold_offers(
    world: World, command: str
) -> None:
    world.agents("ann", "bob")
    world.submit("t1")
    before = world.engine.digest()
    with pytest.raises(InvalidInputError, match=r"agent_id: got None .*'ann', 'bob'"):
        getattr(world.engine, command)("t1")
    with pytest.raises(InvalidTransitionError, match=r"offered to \['ann', 'bob'\], not 'cid'"):
        getattr(world.engine, command)("t1", "cid")
    assert world.engine.digest() == before


def test_with_one_live_offer_the_agent_may_be_left_out(world: World) -> None:
    world.agents("ann", "bob")
    world.submit("t1")
    world.engine.reject("t1", "ann")
    world.engine.accept("t1")
    assert world.engine.agent_of("t1").id == "bob"  # type: ignore[union-attr]


def test_a_reject_removes_only_that_offer_and_cools_only_that_agent(world: World) -> None:
    world.agents("ann", "bob", "cid")
    world.submit("t1")
    mark = len(world.events)
    world.engine.reject("t1", "ann")
    assert world.since(mark) == [("offer_rejected", "t1", "ann")]
    assert world.engine.get("t1").state.value == "offered"
    assert world.offered_to("t1") == ["bob", "cid"]
    assert world.engine.agent_of("t1").id == "bob"  # type: ignore[union-attr]
    assert world.engine.tasks_of("ann") == []
    world.engine.reject("t1", "cid")
    world.engine.reject("t1", "bob")
    # No live offer left: back in the list, and everyone free is cooling.
    assert world.engine.get("t1").state.value == "queued"
    world.clock.now += 61.0
    world.engine.advance()
    assert world.engine.get("t1").state.value == "offered"


def test_offers_time_out_each_with_its_event(world: World) -> None:
    world.agents("ann", "bob", "cid")
    world.submit("t1")
    expires = [offer.expires for offer in world.engine.offers_of("t1")]
    assert expires == [world.clock.now + 30.0] * 3
    world.engine.reject("t1", "bob")
    mark = len(world.events)
    world.clock.now += 30.0
    assert world.engine.advance() == 1
    timed_out = [(k, a) for k, _, a in world.since(mark) if k == "offer_timed_out"]
    assert timed_out == [("offer_timed_out", "ann"), ("offer_timed_out", "cid")]
    assert world.engine.get("t1").state.value == "queued"


def test_timed_out_offers_set_each_agent_not_ready_when_configured() -> None:
    made = World(2, timeout_sets_not_ready=True)
    made.agents("ann", "bob")
    made.submit("t1")
    made.clock.now += 30.0
    made.engine.advance()
    assert {a.id: a.state.value for a in made.engine.agents} == {
        "ann": "not_ready",
        "bob": "not_ready",
    }
    made.check()


def test_revoke_withdraws_every_offer(world: World) -> None:
    world.agents("ann", "bob", "cid")
    world.engine.set_agent_state("cid", "offline")
    world.submit("t1")
    mark = len(world.events)
    world.engine.revoke("t1")
    log = world.since(mark)
    assert log[:3] == [
        ("offer_revoked", "t1", "ann"),
        ("offer_revoked", "t1", "bob"),
        ("task_queued", "t1", None),
    ]
    # Re-pushed at once (a revoke leaves no cool-down).
    assert world.offered_to("t1") == ["ann", "bob"]


@pytest.mark.parametrize("ending", ["cancel", "expire"])
def test_cancel_and_expiry_free_every_offered_agent(ending: str) -> None:
    made = World(3, time_to_live=50.0, offer_timeout=None)
    made.agents("ann", "bob")
    made.submit("t1")
    assert made.offered_to("t1") == ["ann", "bob"]
    if ending == "cancel":
        made.engine.cancel("t1")
    else:
        made.clock.now += 50.0
        made.engine.advance()
    assert made.engine.get("t1").state.value == ("canceled" if ending == "cancel" else "expired")
    assert made.engine.offers_of("t1") == []
    assert {a.id: dict(a.load) for a in made.engine.agents} == {
        "ann": {"voice": 0},
        "bob": {"voice": 0},
    }
    made.check()


def test_hold_transfer_and_update_of_an_offered_task_are_as_with_one_offer(
    world: World,
) -> None:
    world.agents("ann", "bob")
    world.submit("t1")
    with pytest.raises(InvalidTransitionError):
        world.engine.hold("t1")
    with pytest.raises(InvalidTransitionError):
        world.engine.transfer("t1", skills={})
    world.engine.update("t1", priority=5)
    assert world.offered_to("t1") == ["ann", "bob"]


# ---------------------------------------------------------------- max_offers


def test_max_offers_counts_every_offer_of_a_round() -> None:
    made = World(3, max_offers=3)
    made.agents("ann", "bob", "cid", "dan")
    made.submit("t1")
    assert made.offered_to("t1") == ["ann", "bob", "cid"]
    made.engine.reject("t1", "ann")
    made.engine.reject("t1", "bob")
    assert made.engine.get("t1").state.value == "offered"
    mark = len(made.events)
    made.engine.reject("t1", "cid")
    assert made.engine.get("t1").state.value == "rejected"
    ended = [e for e in made.events[mark:] if e.kind.value == "task_rejected"]
    assert [e.data["offers"] for e in ended] == [3]
    made.check()


def test_a_round_stops_at_max_offers() -> None:
    made = World(3, max_offers=2)
    made.agents("ann", "bob", "cid")
    made.submit("t1")
    assert made.offered_to("t1") == ["ann", "bob"]
    made.check()


# ---------------------------------------------------------------- views


def test_offer_of_refuses_a_task_with_several_offers_and_points_to_offers_of(
    world: World,
) -> None:
    world.agents("ann", "bob")
    world.submit("t1")
    with pytest.raises(InvalidTransitionError, match="offers_of lists them all"):
        world.engine.offer_of("t1")
    world.submit("t2")
    assert world.engine.offers_of("t2") == []


def test_explain_and_statistics_report_the_live_offers(world: World) -> None:
    world.agents("ann", "bob", "cid", "dan")
    world.submit("t1")
    world.submit("t2")
    explained = world.engine.explain("t1")
    assert [o["agent"] for o in explained["offers"]] == ["ann", "bob", "cid"]
    assert {o["expires"] for o in explained["offers"]} == {world.clock.now + 30.0}
    assert explained["agent"] == "ann"
    assert [o["agent"] for o in world.engine.explain("t2")["offers"]] == ["dan"]
    stats = world.engine.statistics()
    assert (stats["offered"], stats["live_offers"]) == (2, 4)


# ---------------------------------------------------------------- persistence


def _busy(made: World) -> None:
    made.agents("ann", "bob", "cid", "dan", "eve")
    made.submit("t1")
    made.clock.now += 5.0
    made.submit("t2")
    made.engine.reject("t1", made.offered_to("t1")[-1])


def test_a_snapshot_carries_every_offer_and_restores_the_same_engine() -> None:
    made = World(3)
    _busy(made)
    data = json.loads(json.dumps(snapshot(made.engine), allow_nan=False))
    copy = Engine(clock=made.clock, concurrent_offers=3, offer_timeout=30.0)
    restore(data, copy)
    copy._check()
    assert copy.digest() == made.engine.digest()
    assert [(o.agent.id, o.expires) for o in copy.offers_of("t1")] == [
        (o.agent.id, o.expires) for o in made.engine.offers_of("t1")
    ]
    # The same future: the same timeouts fire the same way.
    made.clock.now += 40.0
    made.engine.advance()
    copy.advance()
    assert copy.digest() == made.engine.digest()


def test_a_snapshot_is_refused_by_an_engine_with_another_setting() -> None:
    made = World(3)
    _busy(made)
    data = snapshot(made.engine)
    with pytest.raises(InvalidInputError, match="concurrent_offers"):
        restore(data, Engine(clock=made.clock, offer_timeout=30.0))
    plain = World(1)
    _busy(plain)
    with pytest.raises(InvalidInputError, match="concurrent_offers"):
        restore(snapshot(plain.engine), Engine(clock=plain.clock, concurrent_offers=2))


def test_a_snapshot_of_one_offer_per_task_keeps_its_layout() -> None:
    plain = World(1)
    _busy(plain)
    data = snapshot(plain.engine)
    assert "more_offers" not in data["engine"]
    assert "concurrent_offers" not in data["config"]


@pytest.mark.parametrize("from_snapshot", [True, False])
def test_offers_survive_a_restart_with_their_expiry_times(
    tmp_path: Path, from_snapshot: bool
) -> None:
    clock = Clock()

    def factory(engine_clock: Any) -> Engine:
        return Engine(clock=engine_clock, concurrent_offers=2, offer_timeout=30.0)

    # The same commands on an engine that never restarts: the reference.
    reference = factory(clock)
    journal = tmp_path / "routing.journal"
    durable = DurableEngine.open(journal, factory, clock=clock)

    def both(command: str, *args: Any, **kwargs: Any) -> None:
        getattr(durable, command)(*args, **kwargs)
        getattr(reference, command)(*args, **kwargs)

    for agent_id in ("ann", "bob", "cid"):
        both("add_agent", AgentSpec(id=agent_id, skills={"billing": 1.0}), ready=True)
        clock.now += 1.0
    both("submit", TaskSpec(id="t1", skills={"billing": 1.0}))
    clock.now += 2.0
    both("submit", TaskSpec(id="t2", skills={"billing": 1.0}))
    if from_snapshot:
        durable.snapshot()
    clock.now += 1.0
    both("reject", "t1", "ann")
    offers = {
        t: [(o.agent.id, o.expires) for o in durable.engine.offers_of(t)] for t in ("t1", "t2")
    }
    # ann, free again, is not offered t2: it already has its offers.
    assert offers == {"t1": [("bob", 33.0)], "t2": [("cid", 35.0)]}
    durable.close()

    reopened = DurableEngine.open(journal, factory, clock=clock)
    assert (reopened.report.snapshot is not None) == from_snapshot
    assert reopened.digest() == reference.digest()
    again = {t: [(o.agent.id, o.expires) for o in reopened.engine.offers_of(t)] for t in offers}
    assert again == offers
    reopened.engine._check()
    # The offers time out when they would have without the restart.
    clock.now = 35.0
    assert reopened.advance() == reference.advance() == 2
    assert reopened.digest() == reference.digest()
    assert len(reopened.engine.offers_of("t2")) == 2
    reopened.close()


# ---------------------------------------------------------------- KPIs


@settings(max_examples=60, deadline=None)
@given(
    k=st.sampled_from([1, 2, 3]),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["submit", "accept", "reject", "complete", "wait"]),
            st.integers(0, 9),
            st.sampled_from([0.5, 3.0, 12.0]),
        ),
        max_size=40,
    ),
)
def test_kpis_count_each_offered_agent_busy_while_its_offer_lives(
    k: int, steps: list[tuple[str, int, float]]
) -> None:
    """An agent's talk seconds from the event stream equal the engine's own
    record of the time it held at least one task (offers included)."""
    made = World(k, offer_timeout=10.0)
    aggregator = KpiAggregator(interval_seconds=5.0)
    aggregator.attach(made.engine)
    made.agents("ann", "bob", "cid", "dan")
    tasks = 0
    for action, pick, seconds in steps:
        made.clock.now += seconds
        open_tasks = [made.engine.get(f"t{n}") for n in range(tasks)]
        offered = [t for t in open_tasks if t.state.value == "offered"]
        assigned = [t for t in open_tasks if t.state.value == "assigned"]
        if action == "submit":
            made.submit(f"t{tasks}")
            tasks += 1
        elif action in ("accept", "reject") and offered:
            task = offered[pick % len(offered)]
            offers = made.engine.offers_of(task.id)
            getattr(made.engine, action)(task.id, offers[pick % len(offers)].agent.id)
        elif action == "complete" and assigned:
            made.engine.complete(assigned[pick % len(assigned)].id)
        else:
            made.engine.advance()
        made.check()
    end = made.clock.now + 1.0
    made.clock.now = end
    report = aggregator.report(now=end).by_agent()
    for agent in made.engine.agents:
        figures = report[agent.id]
        assert math.isclose(figures["talk_seconds"], agent.talk_time(end), abs_tol=1e-9)
        assert figures["offered"] == sum(
            1 for e in made.events if e.kind.value == "task_offered" and e.agent == agent.id
        )


def test_a_queue_s_own_strategy_ranks_its_tasks_offers() -> None:
    made = World(
        2,
        queues=[QueueSpec(name="vip", agent_selection="most_proficient")],
    )
    for agent_id, level in (("low", 1.0), ("top", 5.0), ("mid", 3.0)):
        made.agents(agent_id, skills={"billing": level})
    made.submit("t1", queue="vip")
    assert made.offered_to("t1") == ["top", "mid"]
    made.submit("t2")
    assert made.offered_to("t2") == ["low"]
    made.check()


def test_a_queue_offers_its_tasks_its_own_way() -> None:
    """A queue's ``concurrent_offers`` and ``offer_timeout`` override the
    engine's for its tasks only: a broadcast queue on an engine of one offer
    per task, and a one-at-a-time queue on an engine of three."""
    made = World(
        1,
        offer_timeout=30.0,
        queues=[
            QueueSpec(name="broadcast", concurrent_offers=3, offer_timeout=10.0),
            QueueSpec(name="single"),
        ],
    )
    made.agents("a", "b", "c", "d", "e")
    made.submit("t1", queue="broadcast")
    assert made.offered_to("t1") == ["a", "b", "c"]
    assert {offer.expires for offer in made.engine.offers_of("t1")} == {made.clock.now + 10.0}
    made.submit("t2", queue="single")
    made.submit("t3")
    assert made.offered_to("t2") == ["d"]
    assert made.offered_to("t3") == ["e"]
    assert made.engine.offers_of("t2")[0].expires == made.clock.now + 30.0
    made.check()
    wide = World(3, queues=[QueueSpec(name="single", concurrent_offers=1)])
    wide.agents("a", "b", "c", "d")
    wide.submit("t1", queue="single")
    wide.submit("t2")
    assert (wide.offered_to("t1"), wide.offered_to("t2")) == (["a"], ["b", "c", "d"])
    wide.check()
    # Offers lapse at each queue's own time.
    mark = len(made.events)
    made.clock.now += 10.0
    made.engine.advance()
    lapsed = [(e.task, e.agent) for e in made.events[mark:] if e.kind.value == "offer_timed_out"]
    assert lapsed == [("t1", "a"), ("t1", "b"), ("t1", "c")]
    assert made.offered_to("t2") == ["d"]
    made.check()
