"""Engine.watch_wakeup: a host sleeping until next_wakeup() never oversleeps a timer set later."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.errors import ValueRouteError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _engine(clock: Clock, **settings: object) -> Engine:
    return Engine(clock=clock, offer_timeout=30.0, **settings)  # type: ignore[arg-type]


def test_a_watcher_hears_of_an_offer_timeout_set_after_the_host_went_to_sleep() -> None:
    clock = Clock()
    engine = _engine(clock)
    heard: list[float] = []
    engine.watch_wakeup(heard.append)
    assert engine.next_wakeup() == math.inf  # the host sleeps "forever"
    engine.add_agent(AgentSpec(id="ann", capacity={"voice": 1}), ready=True)
    clock.now = 5.0
    engine.submit(TaskSpec(id="call", channel="voice"))
    assert heard == [35.0]
    assert engine.next_wakeup() == 35.0


def test_a_later_timer_is_no_news() -> None:
    clock = Clock()
    engine = _engine(clock)
    heard: list[float] = []
    engine.add_agent(AgentSpec(id="ann", capacity={"voice": 1}), ready=True)
    engine.add_agent(AgentSpec(id="bob", capacity={"voice": 1}), ready=True)
    engine.submit(TaskSpec(id="first", channel="voice"))
    engine.watch_wakeup(heard.append)
    assert engine.next_wakeup() == 30.0
    clock.now = 10.0
    engine.submit(TaskSpec(id="second", channel="voice"))  # its offer ends at 40
    assert heard == []


def test_unwatch_stops_the_calls() -> None:
    clock = Clock()
    engine = _engine(clock)
    heard: list[float] = []
    unwatch = engine.watch_wakeup(heard.append)
    unwatch()
    unwatch()  # twice is harmless
    engine.add_agent(AgentSpec(id="ann", capacity={"voice": 1}), ready=True)
    engine.submit(TaskSpec(id="call", channel="voice"))
    assert heard == []


def test_a_watcher_that_is_not_callable_is_refused() -> None:
    engine = _engine(Clock())
    with pytest.raises(ValueRouteError, match="watcher"):
        engine.watch_wakeup(42)  # type: ignore[arg-type]


COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "submit",
                "ready",
                "not_ready",
                "accept",
                "reject",
                "complete",
                "defer",
                "tick",
                "read",
            ]
        ),
        st.integers(0, 4),
        st.floats(0.0, 50.0),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(commands=COMMANDS, wrap_up=st.sampled_from([0.0, 15.0]))
def test_the_host_never_sleeps_past_a_timer(
    commands: list[tuple[str, int, float]], wrap_up: float
) -> None:
    """After every command, what the host was told (its last read of
    next_wakeup, or a watcher call since) is never later than the engine's
    real next wakeup: a host sleeping until then wakes in time."""
    clock = Clock()
    engine = _engine(clock, wrap_up=wrap_up, sla_warning=20.0)
    told = [math.inf]

    def watcher(at: float) -> None:
        told[0] = min(told[0], at)

    engine.watch_wakeup(watcher)
    for name in ("ann", "bob"):
        engine.add_agent(AgentSpec(id=name, capacity={"voice": 1, "email": 2}))
    submitted = 0
    for command, which, amount in commands:
        agent = ("ann", "bob")[which % 2]
        try:
            if command == "submit":
                submitted += 1
                channel = "voice" if which % 2 else "email"
                due = clock.now + 60.0 + amount if which > 2 else None
                engine.submit(TaskSpec(id=f"t{submitted}", channel=channel, due=due))
            elif command == "ready":
                engine.set_agent_state(agent, "ready")
            elif command == "not_ready":
                engine.set_agent_state(agent, "not_ready")
            elif command in ("accept", "reject", "complete", "defer"):
                tasks = engine.tasks_of(agent)
                if command == "defer":
                    queued = list(engine.tasklist.top(3, now=clock.now))
                    if queued:
                        engine.defer(queued[0][0].id, clock.now + amount + 1.0)
                elif tasks:
                    getattr(engine, command)(tasks[0].id)
            elif command == "tick":
                clock.now += amount
                if clock.now >= told[0]:
                    # The host wakes when it was told to and runs the timers.
                    engine.advance()
                    told[0] = engine.next_wakeup()
            else:
                told[0] = engine.next_wakeup()
        except ValueRouteError:
            pass  # a command that does not fit the state is refused
        # A host whose sleep has not run out yet must not be due later than this.
        assert told[0] <= clock.now or told[0] <= _real_next_wakeup(engine)


def _real_next_wakeup(engine: Engine) -> float:
    """The next valid timer, read without telling anyone (next_wakeup() would)."""
    valid = [at for at, _, kind, key in engine._timers if engine._timer_valid(at, kind, key)]
    return min(valid, default=math.inf)
