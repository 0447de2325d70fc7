"""Read-only views of the task list and the agent pool never move the engine's time.

A supervisor asks ``engine.tasklist.top(5, now=t)`` for any ``t`` at or after
the list's time: the answer is the order at ``t``, computed without re-filing
anything, and the engine goes on exactly as if nobody had looked. Checked
against a brute-force sort of every queued task scored directly by the
policy, and with real threads through :class:`~valueroute.hosting.LockedEngine`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valueroute import AgentSpec, AgingPriority, Engine, TaskList, TaskSpec, _snapshot
from valueroute.errors import ClockError, ValueRouteError
from valueroute.hosting import LockedEngine
from valueroute.scoring import Composite, Policy, PriorityRamp, Ramp
from valueroute.task import Task, TaskState

# Scores that step (ramp every 10 s, overdue penalty at the due time) and
# scores that grow linearly: breakpoints fall between views and commands.
POLICY: Policy = Composite(
    [
        (1.0, PriorityRamp(default=Ramp(step=1, every=10, cap=6, overdue_step=3))),
        (1.0, AgingPriority(25)),
    ]
)


def brute_order(tasks: list[Task], policy: Policy, now: float) -> list[tuple[str, float]]:
    """Every task scored at ``now`` straight from the policy, best first."""
    scored = [(policy.segment(task, now).at(now), task) for task in tasks]
    scored.sort(key=lambda item: (-item[0], item[1].created, item[1].seq))
    return [(task.id, score) for score, task in scored]


def rounding(task: Task, now: float, score: float) -> float:
    """The documented bound on a score's float rounding (docs/tasklist.md#rounding),
    for a sum of two parts each with a slope of at most 1/25 per second."""
    age = now - task.created
    own = (2 * abs(task.created) + abs(now) + abs(age)) / 25 + abs(task.priority) + abs(score)
    return 2 * 2**-53 * (own + 10.0)


def assert_ranked(
    page: list[tuple[str, float]], tasks: list[Task], policy: Policy, now: float, n: int
) -> None:
    """``page`` is the best ``n`` of ``tasks`` at ``now``, best first, as a brute-force
    sort orders them: each score exactly the policy's, and the order that of the
    scores, then age, then submission, except between tasks whose scores are
    equal within their rounding (which the list may order either way; see
    docs/tasklist.md#rounding)."""
    expected = brute_order(tasks, policy, now)
    scores = dict(expected)
    by_id = {task.id: task for task in tasks}
    assert len(page) == min(n, len(expected))
    assert len({task_id for task_id, _ in page}) == len(page)
    for task_id, score in page:
        assert score == scores[task_id], task_id

    def margin(a: str, b: str) -> float:
        return rounding(by_id[a], now, scores[a]) + rounding(by_id[b], now, scores[b])

    rank = {task_id: position for position, (task_id, _) in enumerate(expected)}
    shown = [task_id for task_id, _ in page]
    left = [task_id for task_id, _ in expected if task_id not in set(shown)]
    for i, first in enumerate(shown):
        for later in shown[i + 1 :] + (left if i == len(shown) - 1 else []):
            if rank[later] < rank[first]:
                # Out of the brute-force order: only a tie within rounding.
                assert abs(scores[later] - scores[first]) <= margin(first, later), (first, later)


def test_a_tie_within_rounding_may_go_either_way_and_nothing_else_may() -> None:
    # Two tasks created together whose scores meet exactly (priority 3 and a
    # ramp capped at 6, against priority 1 and an overdue step): the policy's
    # two parts round differently for each, so their bases differ in the last
    # bit and the list puts the younger one first.
    clock = Clock()
    engine = Engine(policy=POLICY, clock=clock, offer_timeout=None)
    clock.now = 9.98950999954455
    engine.submit(TaskSpec(id="t0", priority=3))
    engine.submit(TaskSpec(id="t1", priority=1, due=clock.now))
    clock.now = 41.43420799152326
    engine.submit(TaskSpec(id="t2"))
    at = clock.now = 50.05920799152326
    queued = list(engine.tasklist)
    page = [(task.id, score) for task, score in engine.tasklist.top(3, now=at)]
    assert [task_id for task_id, _ in page][2] == "t2"
    assert page[0][1] == page[1][1]  # t0 and t1 tie
    assert_ranked(page, queued, POLICY, at, 3)
    swapped = [page[2], page[1], page[0]]
    with pytest.raises(AssertionError):
        assert_ranked(swapped, queued, POLICY, at, 3)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def queued_engine() -> tuple[Engine, Clock]:
    clock = Clock()
    engine = Engine(policy=POLICY, clock=clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", capacity={"chat": 1}), ready=False)
    engine.submit(TaskSpec(id="old", channel="chat", priority=1))
    clock.now = 3.0
    engine.submit(TaskSpec(id="young", channel="chat", priority=1))
    return engine, clock


def test_a_view_at_a_future_time_leaves_the_engine_as_it_was() -> None:
    engine, clock = queued_engine()
    digest = engine.digest()
    # 'old' steps up at 10: at 12 it leads by a ramp point.
    view = [(task.id, score) for task, score in engine.tasklist.top(5, now=12.0)]
    assert view == brute_order(list(engine.tasklist), POLICY, 12.0)
    assert engine.digest() == digest
    assert engine.tasklist.now == 3.0
    # The engine's clock still reads 3: its next command works and
    # dispatches the task that is best at 3.
    clock.now = 3.5
    engine.set_agent_state("ann", "ready")
    assert [task.id for task in engine.tasks_of("ann")] == ["old"]
    engine._check()


def test_a_future_view_does_not_reorder_work_at_the_engine_time() -> None:
    # Priority, plus 3 points once the due time has passed.
    policy = PriorityRamp(default=Ramp(step=1, every=1000, overdue_step=3))
    clock = Clock()
    engine = Engine(policy=policy, clock=clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", capacity={"chat": 1}), ready=False)
    engine.submit(TaskSpec(id="old", channel="chat", priority=1, due=20.0))
    clock.now = 4.0
    engine.submit(TaskSpec(id="young", channel="chat", priority=2))
    # At 30 'old' is overdue and leads; at the engine's time 'young' does. A
    # look at 30 must not leave 'old' filed as overdue at 4.
    assert [task.id for task, _ in engine.tasklist.top(2, now=30.0)] == ["old", "young"]
    clock.now = 4.5
    engine.set_agent_state("ann", "ready")
    assert [task.id for task in engine.tasks_of("ann")] == ["young"]
    engine._check()


def test_best_and_score_at_a_future_time_move_nothing() -> None:
    tasks = TaskList(POLICY)
    tasks.add(TaskSpec(id="a", priority=1), now=0.0)
    tasks.add(TaskSpec(id="b", priority=2), now=4.0)
    group = tasks.group_for("voice", {})
    expected = brute_order(list(tasks), POLICY, 25.0)
    assert tasks.best([group], now=25.0).id == expected[0][0]
    assert tasks.score(tasks.get("a"), 25.0) == dict(expected)["a"]
    assert tasks.now == 4.0
    tasks._check()
    # Time has not moved: a command at 5 is still accepted.
    tasks.add(TaskSpec(id="c", priority=0), now=5.0)
    tasks._check()


def test_a_view_before_the_list_time_is_refused_and_changes_nothing() -> None:
    tasks = TaskList(POLICY)
    tasks.add(TaskSpec(id="a", priority=1), now=10.0)
    group = tasks.group_for("voice", {})
    for call in (
        lambda: tasks.top(3, now=9.0),
        lambda: tasks.ranked(9.0),
        lambda: tasks.best([group], now=9.0),
        lambda: tasks.score(tasks.get("a"), 9.0),
        lambda: tasks.oldest(9.0),
        lambda: tasks.top(3, now=float("nan")),
        lambda: tasks.top(3, now=float("inf")),
        lambda: tasks.top(3, now="x" * 10_000),  # type: ignore[arg-type]
    ):
        with pytest.raises(ClockError, match="now") as caught:
            call()
        assert len(str(caught.value)) < 400
    assert tasks.now == 10.0
    tasks._check()


def test_page_arguments_are_checked() -> None:
    tasks = TaskList(POLICY)
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueRouteError, match="n"):
            tasks.top(bad, now=0.0)  # type: ignore[arg-type]
        with pytest.raises(ValueRouteError, match="offset"):
            tasks.top(1, now=0.0, offset=bad)  # type: ignore[arg-type]


@st.composite
def _list_ops(draw: st.DrawFn) -> list[tuple[str, float, int, float | None]]:
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(["add", "view", "remove", "update"]),
                st.floats(0.0, 40.0, allow_nan=False),
                st.integers(0, 5),
                st.one_of(st.none(), st.floats(0.0, 30.0, allow_nan=False)),
            ),
            max_size=40,
        )
    )


POLICIES: tuple[Policy, ...] = (
    POLICY,
    PriorityRamp(default=Ramp(step=2, every=7, overdue_step=1, overdue_every=3, overdue_cap=4)),
)


@settings(max_examples=300, deadline=None)
@given(ops=_list_ops(), which=st.sampled_from(range(len(POLICIES))))
def test_views_at_any_later_time_match_a_brute_force_sort(
    ops: list[tuple[str, float, int, float | None]], which: int
) -> None:
    policy = POLICIES[which]
    tasks = TaskList(policy)
    now = 0.0
    made = 0
    for op, step, number, due in ops:
        if op == "view":
            at = now + step
            before = tasks.now
            page = [(t.id, s) for t, s in tasks.top(number + 1, now=at)]
            assert_ranked(page, list(tasks), policy, at, number + 1)
            some = list(tasks.groups)[number % 2 :]
            best = tasks.best(some, now=at)
            among = [t for t in tasks if t.group in some]
            if best is None:
                assert not among
            else:
                # The best of those groups, or a task tied with it within rounding.
                assert_ranked([(best.id, tasks.score(best, at))], among, policy, at, 1)
            everyone = dict(brute_order(list(tasks), policy, at))
            for task in tasks:
                assert tasks.score(task, at) == everyone[task.id]
            assert tasks.now == before
            continue
        now += step / 4
        if op == "add":
            channel = ("voice", "chat")[number % 2]
            spec = TaskSpec(
                id=f"t{made}",
                channel=channel,
                priority=number,
                due=None if due is None else now + due,
            )
            tasks.add(spec, now=now)
            made += 1
        elif op == "remove" and len(tasks):
            tasks.remove(sorted(t.id for t in tasks)[number % len(tasks)])
        elif op == "update" and len(tasks):
            task_id = sorted(t.id for t in tasks)[number % len(tasks)]
            if due is None:
                tasks.update(task_id, now=now, priority=number)
            else:
                tasks.update(task_id, now=now, due=now + due)
        tasks._check()


class EngineViews(RuleBasedStateMachine):
    """Engine commands with supervisor views at random instants in between."""

    @initialize()
    def start(self) -> None:
        self.clock = Clock()
        self.engine = Engine(policy=POLICY, clock=self.clock, offer_timeout=None)
        self.tasks = 0
        self.agents = 0

    @rule(
        channel=st.sampled_from(["voice", "chat"]),
        priority=st.integers(0, 4),
        due=st.one_of(st.none(), st.floats(0.0, 30.0, allow_nan=False)),
    )
    def submit(self, channel: str, priority: int, due: float | None) -> None:
        at = None if due is None else self.clock.now + due
        spec = TaskSpec(id=f"t{self.tasks}", channel=channel, priority=priority, due=at)
        self.engine.submit(spec)
        self.tasks += 1

    @rule(capacity=st.sampled_from([{"voice": 1}, {"chat": 2}, {"voice": 1, "chat": 1}]))
    def add_agent(self, capacity: dict[str, int]) -> None:
        self.engine.add_agent(AgentSpec(id=f"a{self.agents}", capacity=capacity), ready=True)
        self.agents += 1

    @rule(pick=st.integers(0, 50))
    def finish(self, pick: int) -> None:
        held = [task for agent in self.engine.agents for task in self.engine.tasks_of(agent.id)]
        if not held:
            return
        task = held[pick % len(held)]
        if task.state is TaskState.offered:
            self.engine.accept(task.id)
        else:
            self.engine.complete(task.id)

    @rule(seconds=st.floats(0.0, 15.0, allow_nan=False))
    def wait(self, seconds: float) -> None:
        self.clock.now += seconds
        self.engine.advance()

    @rule(ahead=st.floats(-5.0, 40.0, allow_nan=False), n=st.integers(0, 6))
    def look(self, ahead: float, n: int) -> None:
        engine = self.engine
        digest = engine.digest()
        at = engine.now + ahead
        queued = list(engine.tasklist)
        if at < engine.tasklist.now:
            with pytest.raises(ClockError):
                engine.tasklist.top(n, now=at)
        else:
            page = [(task.id, score) for task, score in engine.tasklist.top(n, now=at)]
            assert_ranked(page, queued, POLICY, at, n)
            oldest = engine.tasklist.oldest(at)
            assert (oldest[0].id if oldest else None) == (
                min(queued, key=lambda t: (t.created, t.seq)).id if queued else None
            )
        assert engine.digest() == digest

    @invariant()
    def engine_is_consistent(self) -> None:
        if not hasattr(self, "engine"):
            return
        engine = self.engine
        engine._check()
        # Push dispatch: no ready agent with a free slot beside a task it may take.
        for task in engine.tasklist:
            for agent in engine.agents:
                assert not engine.agents.can_take(agent, task.channel), (task.id, agent.id)
        at = max(engine.now, engine.tasklist.now)
        page = [
            (task.id, score) for task, score in engine.tasklist.top(len(engine.tasklist), now=at)
        ]
        assert_ranked(page, list(engine.tasklist), POLICY, at, len(engine.tasklist))


TestEngineViews = EngineViews.TestCase
TestEngineViews.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)


def test_locked_engine_hands_out_locked_views() -> None:
    locked = LockedEngine(Engine(offer_timeout=None))
    tasklist = locked.tasklist
    agents = locked.agents
    assert not isinstance(tasklist, TaskList)
    # Each call takes the engine's lock: from another thread it waits.
    entered = threading.Event()
    done: list[int] = []

    def reader() -> None:
        entered.set()
        done.append(len(tasklist.top(5, now=locked.now)))

    with locked.lock:
        thread = threading.Thread(target=reader)
        thread.start()
        entered.wait(5.0)
        thread.join(0.2)
        assert thread.is_alive(), "a view ran without the engine's lock"
    thread.join(5.0)
    assert done == [0]
    assert len(agents) == 0
    assert list(agents) == []
    assert "x" not in agents


def test_locked_views_stay_consistent_under_threads() -> None:
    locked = LockedEngine(Engine(policy=AgingPriority(10), offer_timeout=None))
    for i in range(3):
        locked.add_agent(AgentSpec(id=f"a{i}", capacity={"chat": 2}), ready=True)
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker(start: int) -> None:
        try:
            for i in range(start, start + 150):
                task = locked.submit(TaskSpec(id=f"t{i}", channel="chat", priority=i % 3))
                if locked.agent_of(task.id) is not None:
                    locked.accept(task.id)
                    locked.complete(task.id)
        except BaseException as exc:  # noqa: BLE001 - a worker's failure must reach the test thread
            errors.append(exc)

    def supervisor() -> None:
        try:
            while not stop.is_set():
                page = locked.tasklist.top(20, now=locked.now + 30.0)
                scores = [score for _, score in page]
                assert scores == sorted(scores, reverse=True)
                ranked = list(locked.tasklist.ranked(locked.now))
                assert len(ranked) == len({task.id for task, _ in ranked})
                for agent in locked.agents.available_agents(locked.tasklist.group_for("chat", {})):
                    assert agent.id.startswith("a")
        except BaseException as exc:  # noqa: BLE001 - a reader's failure must reach the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(3)]
    watcher = threading.Thread(target=supervisor)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert errors == []
    with locked.lock:
        locked.engine._check()


def _decision_after_snapshot(look: Callable[[Engine], object] | None) -> list[str]:
    """Snapshot an engine (after ``look``), restore it, and let ann take work at 4.5."""
    policy = PriorityRamp(default=Ramp(step=1, every=1000, overdue_step=3))
    clock = Clock()
    engine = Engine(policy=policy, clock=clock, offer_timeout=None)
    engine.add_agent(AgentSpec(id="ann", capacity={"chat": 1}), ready=False)
    engine.submit(TaskSpec(id="old", channel="chat", priority=1, due=20.0))
    clock.now = 4.0
    engine.submit(TaskSpec(id="young", channel="chat", priority=2))
    if look is not None:
        look(engine)
    restored = Engine(policy=policy, clock=clock, offer_timeout=None)
    _snapshot.restore(_snapshot.snapshot(engine), restored)
    clock.now = 4.5
    restored.set_agent_state("ann", "ready")
    return [task.id for task in restored.tasks_of("ann")]


def test_a_snapshot_after_a_supervisor_page_decides_as_without_it() -> None:
    assert _decision_after_snapshot(None) == ["young"]
    assert _decision_after_snapshot(lambda engine: engine.tasklist.top(2, now=30.0)) == ["young"]
    assert _decision_after_snapshot(lambda engine: engine.tasklist.oldest(30.0)) == ["young"]
    assert _decision_after_snapshot(
        lambda engine: engine.tasklist.score(engine.tasklist.get("old"), 30.0)
    ) == ["young"]


def test_a_snapshot_after_a_look_ahead_by_best_decides_as_without_it() -> None:
    def look(engine: Engine) -> object:
        return engine.tasklist.best(engine.tasklist.groups, now=30.0)

    assert _decision_after_snapshot(look) == ["young"]
