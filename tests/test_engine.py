"""Engine behaviour: one lifecycle path or rule per test, read as specifications."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host_code import Clock, RampAfterTen
from valueroute import AgentSpec, AgingPriority, TaskSpec, ValueRouteError, load_rules
from valueroute.engine import Engine, RelaxationStep
from valueroute.errors import (
    DuplicateTaskError,
    InvalidInputError,
    InvalidTransitionError,
    PolicyError,
    UnknownTaskError,
    VersionConflictError,
)
from valueroute.events import Event
from valueroute.models import WorkflowSpec, WorkflowStep
from valueroute.scoring import Segment, StrictPriority
from valueroute.task import Task, TaskState


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_engine(clock: Clock, **options: object) -> tuple[Engine, list[Event]]:
    engine = Engine(clock=clock, **options)  # type: ignore[arg-type]
    log: list[Event] = []
    engine.subscribe(log.append)
    return engine, log


def kinds(log: list[Event]) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind.value, e.task, e.agent) for e in log]


def test_a_task_arriving_to_an_idle_agent_is_offered_then_assigned_then_completed(
    clock: Clock,
) -> None:
    engine, log = make_engine(clock)
    engine.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
    engine.submit(TaskSpec(id="t1", skills={"billing": 2}))
    clock.now = 4.0
    engine.accept("t1", "ann")
    clock.now = 100.0
    engine.complete("t1")
    assert kinds(log)[1:] == [
        ("task_submitted", "t1", None),
        ("task_queued", "t1", None),
        ("task_offered", "t1", "ann"),
        ("offer_accepted", "t1", "ann"),
        ("task_assigned", "t1", "ann"),
        ("task_completed", "t1", "ann"),
    ]
    assert engine.get("t1").state is TaskState.completed
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    engine._check()


def test_an_agent_becoming_ready_gets_the_best_task_across_all_queues(clock: Clock) -> None:
    engine, _ = make_engine(clock, policy=AgingPriority(seconds_per_point=60))
    engine.add_agent(
        AgentSpec(id="ann", skills={"billing": 1, "claims": 1}, capacity={"voice": 1, "email": 1})
    )
    engine.submit(TaskSpec(id="billing-old", skills={"billing": 1}, priority=0))
    clock.now = 30.0
    engine.submit(TaskSpec(id="claims-high", channel="email", skills={"claims": 1}, priority=2))
    engine.submit(TaskSpec(id="other", skills={"french": 1}, priority=9))
    clock.now = 60.0
    # Scores at t=60: billing-old 0 + 1 = 1; claims-high 2 + 0.5 = 2.5; "other" not eligible.
    engine.set_agent_state("ann", "ready")
    assert engine.offer_of("claims-high").agent.id == "ann"
    # Voice is exclusive: an agent holding an e-mail does not also take a call.
    assert engine.get("billing-old").state is TaskState.queued
    assert engine.get("other").state is TaskState.queued
    engine._check()


def test_voice_is_exclusive_by_default(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    engine.add_agent(AgentSpec(id="ann", capacity={"voice": 1, "chat": 3}), ready=True)
    engine.submit(TaskSpec(id="call", channel="voice"))
    engine.submit(TaskSpec(id="chat", channel="chat"))
    assert engine.get("call").state is TaskState.offered
    assert engine.get("chat").state is TaskState.queued
    engine.reject("call")
    # Freed: the chat goes to ann; the call cools down for her.
    assert engine.get("chat").state is TaskState.offered
    assert engine.get("call").state is TaskState.queued
    engine._check()


def test_push_goes_to_the_longest_idle_eligible_agent(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    engine.add_agent(AgentSpec(id="a", skills={"s": 1}), ready=True)
    clock.now = 10.0
    engine.add_agent(AgentSpec(id="b", skills={"s": 1}), ready=True)
    engine.add_agent(AgentSpec(id="c", skills={}), ready=True)
    clock.now = 20.0
    engine.submit(TaskSpec(id="t", skills={"s": 1}))
    assert engine.offer_of("t").agent.id == "a"


def test_reject_requeues_with_original_age_and_cools_down_for_that_agent(clock: Clock) -> None:
    engine, _ = make_engine(clock, reject_cooldown=50.0, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    clock.now = 5.0
    engine.reject("t", "ann")
    task = engine.get("t")
    assert task.state is TaskState.queued
    assert task.created == 0.0
    assert engine.next_wakeup() == 55.0
    clock.now = 55.0
    engine.advance()
    assert engine.offer_of("t").agent.id == "ann"
    engine._check()


def test_an_unanswered_offer_times_out_and_can_set_the_agent_not_ready(clock: Clock) -> None:
    engine, log = make_engine(clock, offer_timeout=15.0, timeout_sets_not_ready=True)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bob"), ready=True)
    engine.submit(TaskSpec(id="t"))
    assert engine.offer_of("t").agent.id == "ann"
    assert engine.next_wakeup() == 15.0
    clock.now = 15.0
    assert engine.advance() == 1
    assert engine.agents.get("ann").state.value == "not_ready"
    assert engine.agents.get("ann").reason == "offer_timeout"
    assert engine.offer_of("t").agent.id == "bob"
    assert ("offer_timed_out", "t", "ann") in kinds(log)
    engine._check()


def test_revoke_returns_the_task_without_cool_down(clock: Clock) -> None:
    engine, _ = make_engine(clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    engine.revoke("t")
    # Re-offered at once to the same (only) agent.
    assert engine.offer_of("t").agent.id == "ann"


def test_max_offers_rejects_the_task_for_good(clock: Clock) -> None:
    engine, _ = make_engine(clock, max_offers=2, reject_cooldown=0.0)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    engine.reject("t")
    engine.reject("t")
    assert engine.get("t").state is TaskState.rejected
    assert len(engine) == 0


def test_a_revoked_offer_does_not_count_toward_max_offers(clock: Clock) -> None:
    engine, events = make_engine(clock, max_offers=2, reject_cooldown=0.0)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    engine.reject("t")
    engine.revoke("t")  # the second offer, withdrawn: offered again
    assert engine.offer_of("t").agent.id == "ann"
    engine.reject("t")
    assert engine.get("t").state is TaskState.rejected
    offered = [e for e in events if e.kind.value == "task_offered"]
    (rejected,) = [e for e in events if e.kind.value == "task_rejected"]
    assert len(offered) == 3
    assert rejected.data["offers"] == 2


def test_a_transfer_counts_max_offers_afresh(clock: Clock) -> None:
    engine, events = make_engine(clock, max_offers=2, reject_cooldown=0.0)
    engine.add_agent(AgentSpec(id="ann", skills={"x": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"y": 1}), ready=True)
    engine.submit(TaskSpec(id="t", skills={"x": 1}))
    engine.reject("t")
    engine.accept("t")  # at its second offer
    engine.transfer("t", skills={"y": 1})
    engine.reject("t")  # bob's first refusal: offered again, not rejected
    assert engine.offer_of("t").agent.id == "bob"
    engine.reject("t")
    assert engine.get("t").state is TaskState.rejected
    (rejected,) = [e for e in events if e.kind.value == "task_rejected"]
    assert rejected.data["offers"] == 2


def test_revokes_alone_never_reject_a_task(clock: Clock) -> None:
    engine, _ = make_engine(clock, max_offers=2, reject_cooldown=0.0)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="u"))
    for _ in range(5):
        engine.revoke("u")
    assert engine.get("u").state is TaskState.offered
    engine.reject("u")
    engine.reject("u")
    assert engine.get("u").state is TaskState.rejected


def test_wrap_up_keeps_the_slot_until_it_ends(clock: Clock) -> None:
    engine, _ = make_engine(clock, wrap_up={"claim": 30.0})
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t1", type="claim"))
    engine.accept("t1")
    engine.submit(TaskSpec(id="t2"))
    clock.now = 10.0
    engine.complete("t1")
    assert engine.get("t1").state is TaskState.wrap_up
    assert engine.get("t2").state is TaskState.queued
    clock.now = 40.0
    engine.advance()
    assert engine.get("t1").state is TaskState.completed
    assert engine.offer_of("t2").agent.id == "ann"
    engine._check()


def test_hold_resume_and_defer(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    engine.submit(TaskSpec(id="t"))
    engine.hold("t")
    assert engine.get("t").state is TaskState.held
    assert "t" not in engine.tasklist
    engine.defer("t", until=100.0)
    assert engine.get("t").state is TaskState.deferred
    clock.now = 100.0
    engine.advance()
    assert engine.get("t").state is TaskState.queued
    assert engine.get("t").created == 0.0
    with pytest.raises(InvalidTransitionError, match="cannot resume task 't': it is queued"):
        engine.resume("t")
    engine._check()


def test_time_to_live_expires_waiting_tasks(clock: Clock) -> None:
    engine, log = make_engine(clock, time_to_live={"chat": 60.0})
    engine.submit(TaskSpec(id="chat", type="chat"))
    engine.submit(TaskSpec(id="mail", type="mail"))
    clock.now = 60.0
    engine.advance()
    assert engine.get("chat").state is TaskState.expired
    assert engine.get("mail").state is TaskState.queued
    assert ("task_expired", "chat", None) in kinds(log)


@given(
    submitted=st.floats(0.0, 50.0),
    taken_after=st.floats(0.0, 50.0),
    transferred_after=st.floats(0.0, 200.0),
    keep_age=st.booleans(),
    rerouted=st.booleans(),
)
def test_a_transfer_that_counts_the_task_as_new_restarts_its_time_to_live(
    submitted: float,
    taken_after: float,
    transferred_after: float,
    keep_age: bool,
    rerouted: bool,
) -> None:
    # The expiry instant worked out by hand: time_to_live of the type the task
    # has after the transfer, from its creation (the transfer's instant when
    # it counts as new). A rule re-types e-mail moved to the phone channel.
    ttl = {"mail": 100.0, "call": 30.0}
    rules = {
        "name": "phone",
        "version": "1",
        "classification": {
            "mode": "first",
            "rules": [
                {
                    "name": "mail on the phone is a call",
                    "when": {"field": "channel", "op": "==", "value": "phone"},
                    "then": {"type": "call"},
                }
            ],
        },
    }
    clock = Clock()
    clock.now = submitted
    engine = Engine(clock=clock, offer_timeout=None, time_to_live=ttl, rules=load_rules(rules))
    engine.add_agent(AgentSpec(id="ann", skills={"mail": 1}, capacity={"email": 1, "phone": 1}))
    engine.submit(TaskSpec(id="t", type="mail", channel="email", skills={"mail": 1}))
    clock.now = submitted + taken_after
    if clock.now >= submitted + ttl["mail"]:
        return
    engine.set_agent_state("ann", "ready")
    engine.accept("t")
    # Away while holding it: the transfer queues the task for nobody.
    engine.set_agent_state("ann", "not_ready")
    clock.now = transferred_after + clock.now
    engine.advance()
    engine.transfer("t", channel="phone" if rerouted else None, keep_age=keep_age)
    task = engine.get("t")
    assert task.type == ("call" if rerouted else "mail")
    # Counted as new: the time to live of the type it has now, from now.
    # Its age kept: the expiry it was submitted with.
    expected = clock.now + ttl[task.type] if not keep_age else submitted + ttl["mail"]
    assert engine.explain("t")["expires"] == expected
    if expected <= clock.now:
        # Its time to live was up while an agent held it: not waiting then,
        # it does not expire (expiry is judged at that instant).
        clock.now += 1000.0
        engine.advance()
        assert task.state is TaskState.queued
        return
    clock.now = max(clock.now, math.nextafter(expected, -math.inf))
    engine.advance()
    assert task.state is (TaskState.expired if clock.now >= expected else TaskState.queued)
    clock.now = max(clock.now, expected)
    engine.advance()
    assert task.state is TaskState.expired


def test_due_time_passing_emits_a_breach_once(clock: Clock) -> None:
    engine, log = make_engine(clock)
    engine.submit(TaskSpec(id="t", due=20.0))
    clock.now = 25.0
    engine.advance()
    engine.advance()
    assert [e.kind.value for e in log].count("sla_breached") == 1


def test_transfer_keeps_age_and_can_change_requirements(clock: Clock) -> None:
    engine, _ = make_engine(clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", skills={"sales": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"claims": 2}))
    engine.submit(TaskSpec(id="t", skills={"sales": 1}))
    engine.accept("t")
    clock.now = 50.0
    engine.transfer("t", skills={"claims": 2})
    task = engine.get("t")
    assert task.state is TaskState.queued
    assert task.created == 0.0
    engine.set_agent_state("bob", "ready")
    assert engine.offer_of("t").agent.id == "bob"
    engine._check()


def test_transfer_to_an_agent_who_cannot_take_it_changes_nothing(clock: Clock) -> None:
    engine, _ = make_engine(clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.add_agent(AgentSpec(id="bob"))
    engine.submit(TaskSpec(id="t"))
    engine.accept("t")
    with pytest.raises(InvalidTransitionError, match="'bob' cannot take"):
        engine.transfer("t", to_agent="bob")
    assert engine.get("t").state is TaskState.assigned
    assert engine.agent_of("t") is engine.agents.get("ann")
    engine._check()


def test_idempotent_submit(clock: Clock) -> None:
    engine, log = make_engine(clock)
    first = engine.submit(TaskSpec(id="t", priority=3))
    count = len(log)
    assert engine.submit(TaskSpec(id="t", priority=3)) is first
    assert len(log) == count
    with pytest.raises(DuplicateTaskError, match="other content"):
        engine.submit(TaskSpec(id="t", priority=4))
    engine.cancel("t")
    assert engine.submit({"id": "t", "priority": 3}).state is TaskState.canceled


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Python hashes -1 and -2 alike: content is compared exactly, not by hash.
        ({"priority": -1}, {"priority": -2}),
        ({"attributes": {"tier": -1}}, {"attributes": {"tier": -2}}),
        ({"created": -1.0}, {"created": -2.0}),
        ({"skills": {"a": 1.0, "b": 2.0}}, {"skills": {"a": 2.0, "b": 1.0}}),
    ],
)
def test_resubmission_with_other_content_is_refused_exactly(
    clock: Clock, first: dict[str, object], second: dict[str, object]
) -> None:
    engine, _ = make_engine(clock)
    task = engine.submit({"id": "t", **first})
    before = (len(engine.tasklist.groups), engine.digest())
    with pytest.raises(DuplicateTaskError, match="other content"):
        engine.submit({"id": "t", **second})
    assert (len(engine.tasklist.groups), engine.digest()) == before
    # Key order of mappings is not content.
    same = {k: dict(reversed(v.items())) if isinstance(v, dict) else v for k, v in first.items()}
    assert engine.submit({"id": "t", **same}) is task
    engine._check()


def test_update_with_expected_version(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    task = engine.submit(TaskSpec(id="t", priority=1))
    engine.update("t", priority=2, expected_version=0)
    assert task.version == 1
    with pytest.raises(VersionConflictError, match="version 1, not the expected 0"):
        engine.update("t", priority=3, expected_version=0)
    assert task.priority == 2
    with pytest.raises(InvalidInputError, match="value"):
        engine.update("t", value=-1.0)
    assert task.version == 1


def test_unknown_and_closed_tasks_give_clear_errors(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    with pytest.raises(UnknownTaskError, match="'ghost'"):
        engine.cancel("ghost")
    engine.submit(TaskSpec(id="t"))
    engine.cancel("t")
    with pytest.raises(InvalidTransitionError, match="canceled"):
        engine.cancel("t")


def test_stepwise_relaxation_widens_the_pool_after_waiting(clock: Clock) -> None:
    engine, log = make_engine(
        clock,
        relaxation=[
            RelaxationStep(after=30.0, lower_by=1.0),
            RelaxationStep(after=60.0, drop=("french",)),
        ],
    )
    engine.add_agent(AgentSpec(id="junior", skills={"billing": 2}), ready=True)
    engine.submit(TaskSpec(id="t", skills={"billing": 3, "french": 1}))
    assert engine.get("t").state is TaskState.queued
    assert engine.next_wakeup() == 30.0
    clock.now = 30.0
    engine.advance()
    assert dict(engine.get("t").skills) == {"billing": 2.0, "french": 0.0}
    assert engine.get("t").state is TaskState.queued
    clock.now = 60.0
    engine.advance()
    assert dict(engine.get("t").skills) == {"billing": 2.0}
    assert engine.offer_of("t").agent.id == "junior"
    assert [e.kind.value for e in log].count("task_relaxed") == 2
    engine._check()


def test_starvation_guard_puts_a_long_waiting_task_first(clock: Clock) -> None:
    engine, _ = make_engine(clock, max_wait=120.0)
    engine.submit(TaskSpec(id="old-low", priority=0))
    clock.now = 100.0
    engine.submit(TaskSpec(id="new-high", priority=9))
    clock.now = 119.0
    assert engine.tasklist.top(1, 119.0)[0][0].id == "new-high"
    clock.now = 120.0
    assert engine.tasklist.top(1, 120.0)[0][0].id == "old-low"


def test_pull_mode_offers_only_on_request(clock: Clock) -> None:
    engine, _ = make_engine(clock, dispatch="pull", policy=AgingPriority(seconds_per_point=10))
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="a", priority=0))
    engine.submit(TaskSpec(id="b", priority=1))
    assert engine.get("a").state is TaskState.queued
    clock.now = 20.0  # a: 0 + 2 = 2; b: 1 + 2 = 3
    offer = engine.next_task("ann")
    assert offer is not None
    assert offer.task.id == "b"
    assert engine.next_task("ann") is None  # voice capacity 1 is taken


def test_failed_commands_emit_nothing(clock: Clock) -> None:
    engine, log = make_engine(clock)
    engine.submit(TaskSpec(id="t"))
    count = len(log)
    for call in (
        lambda: engine.accept("t"),
        lambda: engine.complete("t"),
        lambda: engine.defer("t", until=-5.0),
        lambda: engine.transfer("t", skills={"x": -1}),
        lambda: engine.set_agent_state("nobody", "ready"),
    ):
        with pytest.raises((InvalidTransitionError, InvalidInputError, KeyError)):
            call()
    assert len(log) == count
    engine._check()


def test_events_serialise_to_json_and_back(clock: Clock) -> None:
    engine, log = make_engine(clock)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t", due=5.0))
    for event in log:
        assert Event.from_dict(__import__("json").loads(event.to_json())) == event


def _run_script(script: list[tuple[str, int, float]]) -> tuple[Engine, list[dict[str, object]]]:
    clock = Clock()
    engine, log = make_engine(clock, offer_timeout=10.0, reject_cooldown=5.0, wrap_up=3.0)
    for i in range(3):
        engine.add_agent(
            AgentSpec(id=f"a{i}", skills={"s": float(i)}, capacity={"voice": 1, "chat": 2}),
            ready=True,
        )
    for command, pick, step in script:
        clock.now += step
        open_ids = sorted(t for t in engine._tasks)
        target = open_ids[pick % len(open_ids)] if open_ids else "none"
        try:
            if command == "submit":
                engine.submit(
                    TaskSpec(
                        id=f"t{len(log)}-{pick}",
                        priority=pick % 4,
                        channel="chat" if pick % 2 else "voice",
                        skills={"s": float(pick % 3)},
                    )
                )
            elif command == "advance":
                engine.advance()
            else:
                getattr(engine, command)(target)
        except (InvalidTransitionError, UnknownTaskError):
            pass
    return engine, [e.to_dict() for e in log]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "submit",
                    "submit",
                    "accept",
                    "reject",
                    "complete",
                    "cancel",
                    "hold",
                    "resume",
                    "advance",
                ]
            ),
            st.integers(0, 50),
            st.sampled_from([0.0, 0.5, 2.0, 7.0]),
        ),
        max_size=40,
    )
)
def test_same_commands_and_clock_readings_give_the_same_decisions(
    script: list[tuple[str, int, float]],
) -> None:
    first, first_log = _run_script(script)
    second, second_log = _run_script(script)
    assert first_log == second_log
    assert first.digest() == second.digest()
    if script and any(command == "submit" for command, _, _ in script):
        # The digest sees state: one more submission changes it.
        first.submit(TaskSpec(id="extra"))
        assert first.digest() != second.digest()


RULES = {
    "name": "test-rules",
    "version": "1",
    "attributes": {"tier": "text"},
    "classification": {
        "mode": "first",
        "rules": [
            {
                "name": "gold to premium desk",
                "when": {"field": "attributes.tier", "op": "==", "value": "gold"},
                "then": {"department": "premium", "skills": {"premium": 1}},
            }
        ],
    },
    "prioritisation": {
        "mode": "all",
        "rules": [
            {
                "name": "waiting over a minute",
                "when": {"field": "age", "op": ">=", "value": 60},
                "then": {"add_priority": 5},
            }
        ],
    },
}


def test_rules_classify_at_submission_and_reprioritise_at_the_exact_moment(clock: Clock) -> None:
    from valueroute import load_rules

    engine, _ = make_engine(clock, rules=load_rules(RULES))
    gold = engine.submit(TaskSpec(id="gold", priority=1, attributes={"tier": "gold"}))
    assert gold.department == "premium"
    assert dict(gold.skills) == {"premium": 1.0}
    plain = engine.submit(TaskSpec(id="plain", priority=3, attributes={"tier": "none"}))
    assert engine.next_wakeup() == 60.0
    clock.now = 59.0
    engine.advance()
    assert (gold.priority, plain.priority) == (1, 3)
    clock.now = 60.0
    engine.advance()
    # Re-applied from the original fields: +5 once, never compounding.
    assert (gold.priority, plain.priority) == (6, 8)
    clock.now = 500.0
    engine.advance()
    assert (gold.priority, plain.priority) == (6, 8)
    assert engine.explain("plain")["rules"] == ["waiting over a minute"]
    engine._check()


def test_replacing_the_rules_reevaluates_waiting_tasks(clock: Clock) -> None:
    from valueroute import load_rules

    engine, _ = make_engine(clock)
    task = engine.submit(TaskSpec(id="t", priority=1, attributes={"tier": "gold"}))
    clock.now = 100.0
    engine.set_rules(load_rules(RULES))
    assert task.priority == 6
    assert task.department == "premium"
    engine.set_rules(None)
    assert task.priority == 1
    assert task.department is None
    engine._check()


def test_a_host_update_is_what_rules_start_from_when_they_look_again(clock: Clock) -> None:
    """A host's update changes the task as it was before the rules, and the
    rules apply on top, at once and when they look again later: the update is
    never undone by a rule turning true."""
    from valueroute import load_rules

    engine, log = make_engine(clock, rules=load_rules(RULES))
    plain = engine.submit(TaskSpec(id="plain", priority=1, value=4.0, skills={"claims": 3}))
    gold = engine.submit(TaskSpec(id="gold", priority=1, attributes={"tier": "gold"}))
    clock.now = 30.0
    engine.update("plain", priority=3, value=9.0, skills={"claims": 2})
    # The classification sets its requirements over the host's, as at submission.
    engine.update("gold", skills={"claims": 2})
    assert (plain.priority, plain.value, dict(plain.skills)) == (3, 9.0, {"claims": 2.0})
    assert dict(gold.skills) == {"premium": 1.0}
    clock.now = 60.0
    engine.advance()
    assert (plain.priority, plain.value, dict(plain.skills)) == (8, 9.0, {"claims": 2.0})
    told = [e for e in log if e.kind.value == "task_updated" and e.task == "plain"][-1]
    assert (told.data["reason"], told.data["priority"], told.data["value"]) == ("rules", 8, 9.0)
    clock.now = 90.0  # after the rule turned true, an update still comes under it
    engine.update("plain", priority=0)
    assert plain.priority == 5
    engine._check()


class _FussyAbout13:
    """Scores by priority, and cannot score priority 13."""

    name = "fussy"

    def segment(self, task: Task, now: float) -> Segment:
        if task.priority == 13:
            raise RuntimeError("no score for 13")
        return Segment(float(task.priority), 0.0)


@pytest.mark.parametrize("rules", [False, True])
def test_an_update_the_policy_cannot_score_changes_nothing(clock: Clock, rules: bool) -> None:
    from valueroute import load_rules

    engine, log = make_engine(
        clock, policy=_FussyAbout13(), rules=load_rules(RULES) if rules else None
    )
    task = engine.submit(TaskSpec(id="t", priority=7, value=2.0, skills={"claims": 2}))
    clock.now = 30.0
    engine.advance()  # the engine's time is part of its digest
    before = (task.priority, task.value, dict(task.skills), task.version, engine.digest())
    told = len(log)
    with pytest.raises(RuntimeError, match="no score for 13"):
        engine.update("t", priority=13, value=5.0, skills={"claims": 1})
    assert (task.priority, task.value, dict(task.skills), task.version, engine.digest()) == before
    assert len(log) == told
    assert task.state.value == "queued"
    if rules:
        clock.now = 60.0
        engine.advance()
        # The rules look again from the task as it was: 7, plus 5 after a minute.
        assert (task.priority, dict(task.skills)) == (12, {"claims": 2.0})
    engine._check()


def test_a_transfer_s_new_requirements_are_what_rules_start_from(clock: Clock) -> None:
    from valueroute import load_rules

    engine, _ = make_engine(clock, rules=load_rules(RULES))
    task = engine.submit(TaskSpec(id="t", priority=1, skills={"claims": 3}))
    clock.now = 30.0
    engine.transfer("t", skills={"claims": 1})
    clock.now = 60.0
    engine.advance()
    assert (task.priority, dict(task.skills)) == (6, {"claims": 1.0})
    clock.now = 70.0
    engine.transfer("t", skills={"billing": 1}, keep_age=False)  # age counted anew
    assert (task.priority, dict(task.skills)) == (1, {"billing": 1.0})
    clock.now = 130.0
    engine.advance()
    assert (task.priority, dict(task.skills)) == (6, {"billing": 1.0})
    engine._check()


def test_a_rule_changing_a_task_tells_its_new_priority_and_value(clock: Clock) -> None:
    # Those who count values (KPIs from events) hear every change rules make,
    # when a rule fires later and when the rule set is replaced.
    from valueroute import load_rules

    engine, log = make_engine(clock, rules=load_rules(RULES))
    engine.submit(TaskSpec(id="t", priority=1, value=40.0))
    clock.now = 60.0
    engine.advance()
    fired = [e for e in log if e.kind.value == "task_updated"]
    assert [(e.data["priority"], e.data["value"]) for e in fired] == [(6, 40.0)]
    engine.set_rules(None)
    told = [e for e in log if e.kind.value == "task_updated"][-1]
    assert (told.data["reason"], told.data["priority"], told.data["value"]) == ("rules", 1, 40.0)
    before = len(log)
    engine.set_rules(None)  # nothing changes: nothing told but the swap
    assert [e.kind.value for e in log[before:]] == ["rules_changed"]


def test_replacing_the_policy_rescores_waiting_tasks_at_once(clock: Clock) -> None:
    from valueroute import Fifo, StrictPriority

    engine, log = make_engine(clock, policy=Fifo())
    engine.submit(TaskSpec(id="old-low", priority=0))
    clock.now = 10.0
    engine.submit(TaskSpec(id="new-high", priority=5))
    assert engine.tasklist.top(1, 10.0)[0][0].id == "old-low"
    engine.set_policy(StrictPriority())
    assert engine.tasklist.top(1, 10.0)[0][0].id == "new-high"
    assert log[-1].kind.value == "policy_changed"
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    assert engine.offer_of("new-high").agent.id == "ann"


def test_a_refused_command_leaves_the_engine_time_unchanged(clock: Clock) -> None:
    engine, _ = make_engine(clock)
    engine.add_agent(AgentSpec(id="ann"))
    engine.submit(TaskSpec(id="t"))
    clock.now = 50.0
    digest = engine.digest()
    for call in (
        lambda: engine.defer("t", until=10.0),
        lambda: engine.add_agent(AgentSpec(id="ann")),
        lambda: engine.remove_agent("ghost"),
        lambda: engine.set_agent_state("ann", "wrap_up"),
    ):
        with pytest.raises(ValueRouteError):
            call()
        assert engine.now == 0.0
    assert engine.digest() == digest


def test_transfer_straight_to_another_agent_keeps_age(clock: Clock) -> None:
    engine, log = make_engine(clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", skills={"sales": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bob", skills={"claims": 2}), ready=True)
    engine.submit(TaskSpec(id="t", skills={"sales": 1}))
    engine.accept("t")
    clock.now = 30.0
    engine.transfer("t", skills={"claims": 2}, to_agent="bob")
    assert engine.offer_of("t").agent.id == "bob"
    assert engine.get("t").created == 0.0
    assert [e.kind.value for e in log[-3:]] == ["task_transferred", "task_queued", "task_offered"]
    engine._check()


def test_a_due_time_warns_ahead_then_breaches_once(clock: Clock) -> None:
    engine, log = make_engine(clock, sla_warning=60.0)
    engine.submit(TaskSpec(id="t", due=300.0))
    engine.submit(TaskSpec(id="soon", due=30.0))  # already inside the warning window
    assert engine.next_wakeup() == 30.0
    clock.now = 240.0
    engine.advance()
    clock.now = 300.0
    engine.advance()
    kinds_of_t = [e.kind.value for e in log if e.task == "t" and e.kind.value.startswith("sla")]
    assert kinds_of_t == ["sla_warning", "sla_breached"]
    assert [e.time for e in log if e.task == "t" and e.kind.value == "sla_warning"] == [240.0]
    soon = [e.kind.value for e in log if e.task == "soon" and e.kind.value.startswith("sla")]
    assert soon == ["sla_breached"]
    # Moving the due time re-arms both.
    engine.update("t", due=500.0)
    clock.now = 440.0
    engine.advance()
    assert [e.kind.value for e in log if e.task == "t"][-1] == "sla_warning"


def test_subscribers_can_ask_for_some_kinds_only(clock: Clock) -> None:
    engine = Engine(clock=clock, offer_timeout=None)
    assigned: list[Event] = []
    everything: list[Event] = []
    stop_assigned = engine.subscribe(assigned.append, kinds=["task_assigned"])
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t1"))
    engine.accept("t1")
    assert [(e.kind.value, e.task) for e in assigned] == [("task_assigned", "t1")]
    engine.subscribe(everything.append)
    stop_assigned()
    engine.complete("t1")
    assert [e.kind.value for e in everything] == ["task_completed"]
    assert len(assigned) == 1
    # Sequence numbers count every event, delivered or not.
    assert everything[0].seq == engine.event_count
    with pytest.raises(InvalidInputError, match="kinds"):
        engine.subscribe(everything.append, kinds=["no_such_kind"])


def test_timers_of_closed_tasks_do_not_pile_up(clock: Clock) -> None:
    engine, _ = make_engine(clock, time_to_live=86_400.0)
    for i in range(20_000):
        engine.submit(TaskSpec(id=f"t{i}", due=clock.now + 3_600.0))
        engine.cancel(f"t{i}")
        clock.now += 0.01
    # Each task left a time-to-live and a due-date timer a day or an hour away.
    assert len(engine._timers) <= 4096 + 8 + 2
    assert engine.next_wakeup() == float("inf")


@pytest.mark.parametrize("reading", [math.nan, math.inf, -math.inf])
def test_a_clock_reading_that_is_not_finite_is_refused_and_changes_nothing(
    clock: Clock, reading: float
) -> None:
    engine, log = make_engine(clock)
    clock.now = 5.0
    engine.submit(TaskSpec(id="t"))
    before = (engine.now, len(log), engine.digest())
    clock.now = reading
    with pytest.raises(InvalidInputError, match="clock: got"):
        engine.submit(TaskSpec(id="u"))
    with pytest.raises(InvalidInputError, match="clock: got"):
        engine.statistics()
    assert (engine.now, len(log), engine.digest()) == before
    clock.now = 4.0  # a step back is kept monotone, not refused
    engine.submit(TaskSpec(id="u"))
    assert engine.now == 5.0
    engine._check()


def test_the_digest_is_the_same_in_every_process() -> None:
    # Recovery compares digests computed in different processes, where string
    # hashes (and so set orders) differ.
    script = (
        "from valueroute import Engine, TaskSpec\n"
        "engine = Engine(clock=lambda: 1.0)\n"
        "for i in range(5):\n"
        "    attrs = {'tier': 'gold', 'region': 'north', 'lang': 'he', 'n': i}\n"
        "    engine.submit(TaskSpec(id=f't{i}', attributes=attrs, skills={'a': 1, 'b': 2}))\n"
        "    engine.cancel(f't{i}')\n"
        "engine.submit(TaskSpec(id='open', attributes={'x': 1, 'y': 'z'}))\n"
        "print(engine.digest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1, digests


class _RefusingRules:
    """Rules supplied by a host that refuse one task (the built-in ones never raise)."""

    def apply(self, task: Task, now: float, *, baseline: object = None) -> object:
        if task.id == "bad":
            raise InvalidInputError("rules: refused task 'bad' (expected a test refusal)")
        return SimpleNamespace(fired=(), next_change=math.inf, baseline=None)


def test_a_submission_refused_by_its_rules_changes_nothing(clock: Clock) -> None:
    engine, log = make_engine(clock, rules=_RefusingRules())
    clock.now = 1.0
    engine.submit(TaskSpec(id="ok"))
    before = (engine.now, len(log), engine.digest(), len(engine.tasklist.groups))
    clock.now = 2.0
    with pytest.raises(InvalidInputError, match="refused task 'bad'"):
        engine.submit(TaskSpec(id="bad", skills={"never_seen": 1.0}))
    assert (engine.now, len(log), engine.digest(), len(engine.tasklist.groups)) == before
    assert engine.submit(TaskSpec(id="next")).seq == engine.get("ok").seq + 1
    engine._check()


class _RulesFailingOnTheirSecondLook:
    """Host rules that ask to look again at 10 s and fail then, while ``broken``."""

    def __init__(self) -> None:
        self.broken = False

    def apply(self, task: Task, now: float, *, baseline: object = None) -> object:
        if now >= 10.0 and self.broken:
            raise ZeroDivisionError("rule bug")
        task.priority = 1 if now < 10.0 else 5
        return SimpleNamespace(
            fired=("r",), next_change=10.0 if now < 10.0 else math.inf, baseline=None
        )


def test_rules_failing_when_they_look_again_leave_the_task_in_the_queue(clock: Clock) -> None:
    rules = _RulesFailingOnTheirSecondLook()
    engine, _ = make_engine(clock, rules=rules)
    engine.submit(TaskSpec(id="t"))
    assert engine.next_wakeup() == 10.0
    rules.broken = True
    clock.now = 10.0
    with pytest.raises(ZeroDivisionError, match="rule bug"):
        engine.advance()
    assert engine.get("t").state is TaskState.queued
    assert "t" in engine.tasklist
    engine._check()


class _HostRulesWithoutBaseline:
    """Host rules keeping no baseline (``None``): every run adds a skill, at most once."""

    def __init__(self) -> None:
        self.broken = False

    def apply(self, task: Task, now: float, *, baseline: object = None) -> object:
        if self.broken:
            raise ZeroDivisionError("rule bug")
        task.skills = {**task.skills, "checked": 1.0}
        return SimpleNamespace(fired=("r",), next_change=math.inf, baseline=None)


def test_host_rules_without_a_baseline_take_updates_transfers_and_steps(clock: Clock) -> None:
    rules = _HostRulesWithoutBaseline()
    engine, _ = make_engine(
        clock,
        rules=rules,
        workflows=[
            WorkflowSpec(
                name="w",
                types=["claim"],
                steps=[WorkflowStep(skills={"claims": 3}, timeout=5), WorkflowStep(priority=4)],
            )
        ],
    )
    engine.submit(TaskSpec(id="t", skills={"billing": 1}))
    engine.submit(TaskSpec(id="c", type="claim"))
    engine.update("t", priority=2, skills={"billing": 2})
    assert (engine.get("t").priority, dict(engine.get("t").skills)) == (
        2,
        {"billing": 2.0, "checked": 1.0},
    )
    engine.transfer("t", skills={"sales": 1})
    assert dict(engine.get("t").skills) == {"sales": 1.0, "checked": 1.0}
    clock.now = 5.0
    engine.advance()
    assert (engine.get("c").priority, dict(engine.get("c").skills)) == (
        4,
        {"claims": 3.0, "checked": 1.0},
    )
    engine.set_rules(None)  # nothing to restore: the fields stay
    assert dict(engine.get("c").skills) == {"claims": 3.0, "checked": 1.0}
    engine._check()


def test_host_rules_failing_on_an_update_change_nothing_and_on_a_transfer_lose_nothing(
    clock: Clock,
) -> None:
    rules = _HostRulesWithoutBaseline()
    engine, _ = make_engine(clock, rules=rules)
    task = engine.submit(TaskSpec(id="t", priority=1, skills={"billing": 1}))
    clock.now = 1.0
    engine.advance()
    before = (task.priority, dict(task.skills), task.version, engine.digest())
    rules.broken = True
    with pytest.raises(ZeroDivisionError, match="rule bug"):
        engine.update("t", priority=3)
    assert (task.priority, dict(task.skills), task.version, engine.digest()) == before
    with pytest.raises(ZeroDivisionError, match="rule bug"):
        engine.transfer("t", skills={"sales": 1})
    # The transfer stands (it took effect before the rules ran); the task waits.
    assert task.state is TaskState.queued
    assert "t" in engine.tasklist
    engine._check()


def test_a_policy_failing_during_the_pull_after_a_completion_loses_neither_task_nor_agent(
    clock: Clock,
) -> None:
    policy = RampAfterTen(RuntimeError("scoring service unavailable"))
    engine, log = make_engine(clock, policy=policy)
    engine.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
    engine.submit(TaskSpec(id="first", skills={"billing": 1}))
    engine.accept("first")
    clock.now = 1.0
    engine.submit(TaskSpec(id="waiting", skills={"billing": 1}))
    clock.now = 20.0
    policy.broken = True
    with pytest.raises(RuntimeError, match="scoring service"):
        engine.complete("first")
    # The completion stands; the waiting task and the agent are both where
    # they belong, and the engine's indexes agree.
    assert engine.get("first").state is TaskState.completed
    assert engine.get("waiting").state is TaskState.queued
    engine._check()
    policy.broken = False
    clock.now = 21.0
    engine.set_agent_state("ann", "not_ready", reason="break")
    engine.set_agent_state("ann", "ready")
    assert engine.get("waiting").state is TaskState.offered
    engine._check()
    # Every change was told, once and in order, the completion included.
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert kinds(log).count(("task_completed", "first", "ann")) == 1
    assert kinds(log)[-1] == ("task_offered", "waiting", "ann")


class _Unscorable:
    """Scores by priority; while ``broken``, raises (``error``) or gives NaN for every task."""

    name = "unscorable"

    def __init__(self, error: Exception | None = None) -> None:
        self.broken = False
        self.error = error

    def segment(self, task: Task, now: float) -> Segment:
        if self.broken:
            if self.error is not None:
                raise self.error
            return Segment(math.nan, 0.0)
        return Segment(float(task.priority), 0.0)


def _held_events(log: list[Event]) -> list[tuple[str | None, dict[str, object]]]:
    return [(e.task, dict(e.data)) for e in log if e.kind.value == "task_held"]


def test_a_task_the_policy_cannot_score_on_its_way_back_to_the_queue_is_held_not_lost(
    clock: Clock,
) -> None:
    policy = _Unscorable(RuntimeError("scoring service down"))
    engine, log = make_engine(clock, policy=policy)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    policy.broken = True
    clock.now = 1.0
    with pytest.raises(RuntimeError, match="scoring service down"):
        engine.reject("t")
    # The rejection stands, the task is held and says why; nothing is lost.
    task = engine.get("t")
    assert task.state is TaskState.held
    assert "t" not in engine.tasklist
    assert engine.tasks_of("ann") == []
    engine._check()
    clock.now = 2.0
    policy.broken = False
    engine.resume("t")
    assert _held_events(log) == [
        ("t", {"reason": "unscorable", "error": "RuntimeError: scoring service down"})
    ]
    # Back in the queue; ann refused it and cools down, bob takes it.
    assert task.state is TaskState.queued
    engine.add_agent(AgentSpec(id="bob"), ready=True)
    assert engine.tasks_of("bob") == [task]
    engine._check()


def test_a_new_task_the_policy_cannot_score_is_held_and_a_resubmission_returns_it(
    clock: Clock,
) -> None:
    policy = _Unscorable()
    engine, log = make_engine(clock, policy=policy)
    policy.broken = True
    spec = TaskSpec(id="t", priority=3)
    with pytest.raises(PolicyError, match="'t'"):
        engine.submit(spec)
    assert engine.get("t").state is TaskState.held
    assert engine.submit(spec) is engine.get("t")
    engine._check()
    clock.now = 1.0
    # The event tells, and the engine's time stays with the events told.
    engine.subscribe(lambda event: None)
    assert [e.kind.value for e in log] == ["task_submitted", "task_held"]
    assert log[-1].data["reason"] == "unscorable"
    assert engine.now == 0.0
    policy.broken = False
    engine.resume("t")
    assert engine.get("t").state is TaskState.queued
    engine._check()


def test_a_resume_failing_to_score_keeps_the_time_of_what_it_told(clock: Clock) -> None:
    policy = _Unscorable()
    engine, log = make_engine(clock, policy=policy)
    engine.submit(TaskSpec(id="t"))
    clock.now = 5.0
    engine.hold("t")
    policy.broken = True
    clock.now = 9.0
    with pytest.raises(PolicyError):
        engine.resume("t")
    assert [(e.kind.value, e.time) for e in log[-2:]] == [("task_resumed", 9.0), ("task_held", 9.0)]
    assert engine.now == 9.0
    assert engine.get("t").state is TaskState.held
    engine._check()


def test_a_failing_agent_selection_leaves_the_new_task_waiting_in_the_list(clock: Clock) -> None:
    def broken_selection(candidates: object, task: object, now: float) -> object:
        raise ZeroDivisionError("selection bug")

    engine, _ = make_engine(clock, agent_selection=broken_selection)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    with pytest.raises(ZeroDivisionError, match="selection bug"):
        engine.submit(TaskSpec(id="t"))
    assert engine.get("t").state is TaskState.queued
    assert "t" in engine.tasklist
    engine._check()


def test_timers_due_together_all_take_effect_before_anyone_is_matched(clock: Clock) -> None:
    # The agent's wrap-up ends at 5, a better task's deferral at 6; a host
    # calling advance() at 7 gets the match made with both in view.
    engine, _ = make_engine(clock, policy=StrictPriority(), wrap_up={"wrap": 5.0})
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="call", type="wrap"))
    engine.accept("call")
    engine.complete("call")
    clock.now = 0.5
    engine.submit(TaskSpec(id="low", priority=0))
    clock.now = 1.0
    engine.submit(TaskSpec(id="high", priority=5))
    engine.defer("high", until=6.0)
    clock.now = 7.0
    assert engine.advance() == 2
    assert [task.id for task in engine.tasks_of("ann")] == ["high"]
    engine._check()


def test_a_failing_subscriber_costs_no_subscriber_an_event(clock: Clock) -> None:
    engine, log = make_engine(clock)
    seen_by_flaky: list[str] = []

    def flaky(event: Event) -> None:
        seen_by_flaky.append(event.kind.value)
        if event.kind.value == "task_queued":
            raise ConnectionError("dashboard unreachable")

    engine.subscribe(flaky)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    with pytest.raises(ConnectionError, match="dashboard"):
        engine.submit(TaskSpec(id="t"))
    # The submission stands and both subscribers heard all of it, in order.
    assert engine.get("t").state is TaskState.offered
    assert [e.kind.value for e in log][-3:] == ["task_submitted", "task_queued", "task_offered"]
    assert seen_by_flaky[-3:] == ["task_submitted", "task_queued", "task_offered"]
    engine.accept("t")
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert seen_by_flaky[-2:] == ["offer_accepted", "task_assigned"]

    def broken(event: Event) -> None:
        raise ZeroDivisionError("audit bug")

    engine.subscribe(broken)
    with pytest.raises(ZeroDivisionError, match="audit bug"):
        engine.complete("t")  # one failing call: its own error
    with pytest.raises(ExceptionGroup) as failed:
        engine.submit(TaskSpec(id="u"))
    # Three events: each fails in broken, task_queued in flaky too.
    assert sorted(type(e).__name__ for e in failed.value.exceptions) == [
        "ConnectionError",
        "ZeroDivisionError",
        "ZeroDivisionError",
        "ZeroDivisionError",
    ]
    assert [e.kind.value for e in log][-3:] == ["task_submitted", "task_queued", "task_offered"]
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    engine._check()


def test_commands_run_by_a_subscriber_are_told_to_everyone_in_order(clock: Clock) -> None:
    engine = Engine(clock=clock)

    def answer_at_once(event: Event) -> None:
        # A host auto-answering from its event handler.
        if event.kind.value == "task_offered":
            engine.accept(event.task)  # type: ignore[arg-type]

    engine.subscribe(answer_at_once)
    heard: list[Event] = []
    engine.subscribe(heard.append)
    engine.add_agent(AgentSpec(id="ann"), ready=True)
    engine.submit(TaskSpec(id="t"))
    assert engine.get("t").state is TaskState.assigned
    assert [e.seq for e in heard] == list(range(1, len(heard) + 1))
    assert [e.kind.value for e in heard][-5:] == [
        "task_submitted",
        "task_queued",
        "task_offered",
        "offer_accepted",
        "task_assigned",
    ]
    engine._check()


def test_host_rules_failing_on_a_task_when_swapped_in_leave_every_task_in_place(
    clock: Clock,
) -> None:
    engine, log = make_engine(clock)
    engine.submit(TaskSpec(id="ok"))
    engine.submit(TaskSpec(id="bad"))
    clock.now = 1.0
    with pytest.raises(InvalidInputError, match="refused task 'bad'"):
        engine.set_rules(_RefusingRules())
    # The new rules are in place and told; both tasks still wait in the list.
    assert [e.kind.value for e in log][-1] == "rules_changed"
    assert {t.id for t in engine.tasklist} == {"ok", "bad"}
    assert engine.now == 1.0
    engine._check()
