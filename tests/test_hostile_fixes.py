"""Bad input to scoring policies, relaxation, the simulator's inner modules and event export.

Each test here hands a public constructor or function a value of the wrong
type, a number no float holds, a non-finite or out-of-range number, and
checks that it is refused with a short
:class:`~valueroute.errors.InvalidInputError` naming the parameter (not a
TypeError, OverflowError or AttributeError from deep inside), and, where
the value is valid, that it is accepted and means the same as its float.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import scoring as s
from valueroute.errors import InvalidInputError, InvalidTransitionError, PolicyError
from valueroute.events import Event, EventKind
from valueroute.journal import JournalFormatError, export_events, import_events
from valueroute.models import TaskSpec
from valueroute.relaxation import ContinuousRelaxation, RelaxationStep
from valueroute.sim import (
    Exponential,
    Sampler,
    Scenario,
    StaffingTarget,
    World,
    distribution_from,
    staff_by_simulation,
    staff_intervals_by_simulation,
)
from valueroute.sim.distributions import MAX_SAMPLE_SIZE
from valueroute.sim.streams import RandomStreams, stream_key
from valueroute.tasklist import TaskList

MAX_MESSAGE = 600

MINIMAL_SCENARIO: dict[str, Any] = {
    "horizon_seconds": 3600,
    "task_types": [{"name": "calls", "handle": {"kind": "exponential", "mean_seconds": 60}}],
    "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 30}],
    "agent_groups": [{"name": "agents", "count": 2}],
}

# Integers no float holds (float() raises OverflowError on them).
huge_ints = st.integers(min_value=2**1024, max_value=2**4000) | st.integers(
    min_value=-(2**4000), max_value=-(2**1024)
)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
# Values of a type that is not a number.
not_numbers = st.one_of(
    st.text(max_size=20),
    st.binary(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2).filter(lambda d: "*" not in d),
    st.sets(st.integers(), max_size=3),
    st.booleans(),
    st.just(object()),
    st.just(1 + 2j),
)
not_a_number = st.one_of(huge_ints, non_finite, not_numbers)
positive_numbers = st.one_of(
    st.floats(min_value=1e-300, max_value=1e300),
    st.integers(min_value=1, max_value=2**60),
)


def refused(call: Callable[[], object], field: str) -> InvalidInputError:
    """``call`` raises a short InvalidInputError naming ``field`` as a word."""
    with pytest.raises(InvalidInputError) as caught:
        call()
    message = str(caught.value)
    assert len(message) <= MAX_MESSAGE, message[:200]
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(field)}(?![A-Za-z0-9_])", message), message
    return caught.value


# ---------------------------------------------------------------------- policy parameters

POSITIVE_PARAMETERS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "AgingPriority": ("seconds_per_point", lambda v: s.AgingPriority(v)),
    "Rescored": ("interval", lambda v: s.Rescored(lambda t, n: 0.0, interval=v)),
    "as_policy": ("interval", lambda v: s.as_policy(lambda t, n: 0.0, interval=v)),
    "EarliestDue": ("due_after", lambda v: s.EarliestDue(due_after=v)),
    "LeastSlack": ("handle_seconds", lambda v: s.LeastSlack(v)),
    "LeastSlack-map": ("handle_seconds", lambda v: s.LeastSlack({"*": v})),
    "CMu": ("handle_seconds", lambda v: s.CMu(v)),
    "CMu-cost": ("cost", lambda v: s.CMu(60.0, cost=v)),
    "Kleinrock": ("rates", lambda v: s.Kleinrock(v)),
    "Kleinrock-map": ("rates", lambda v: s.Kleinrock({"claim": v, "*": 1.0})),
    "CMuTheta-handle": ("handle_seconds", lambda v: s.CMuTheta(v, 60.0)),
    "CMuTheta-patience": ("patience_seconds", lambda v: s.CMuTheta(60.0, v)),
    "ValueAtRisk": ("expected_wait", lambda v: s.ValueAtRisk(v)),
    "ValueAtRisk-handle": ("handle_seconds", lambda v: s.ValueAtRisk(60.0, handle_seconds=v)),
    "Ramp-step": ("step", lambda v: s.Ramp(step=v, every=60.0)),
    "Ramp-every": ("every", lambda v: s.Ramp(step=1.0, every=v)),
    "Ramp-cap": ("cap", lambda v: s.Ramp(step=1.0, every=60.0, cap=v)),
    "Ramp-after": ("after", lambda v: s.Ramp(step=1.0, every=60.0, after=v)),
    "Composite-weight": ("weight", lambda v: s.Composite([(v, s.Fifo())])),
    "policy_by_name": (
        "seconds_per_point",
        lambda v: s.policy_by_name("aging_priority", seconds_per_point=v),
    ),
}


@pytest.mark.parametrize("case", sorted(POSITIVE_PARAMETERS))
@settings(max_examples=60, deadline=None)
@given(value=not_a_number)
def test_policy_parameters_refuse_what_is_not_a_finite_real_number(case: str, value: Any) -> None:
    # Before: OverflowError for integers no float holds, TypeError for text,
    # lists and None, and AgingPriority and Rescored took True as 1 second.
    field, make = POSITIVE_PARAMETERS[case]
    refused(lambda: make(value), field)


@pytest.mark.parametrize("case", sorted(POSITIVE_PARAMETERS))
@settings(max_examples=30, deadline=None)
@given(value=positive_numbers)
def test_policy_parameters_accept_a_finite_positive_number_as_its_float(
    case: str, value: float
) -> None:
    _field, make = POSITIVE_PARAMETERS[case]
    if case == "Ramp-every":
        # A ramp steps at most every MIN_RAMP_EVERY seconds (its steps are counted).
        from valueroute.models import MIN_RAMP_EVERY

        value = max(value, MIN_RAMP_EVERY)
    made = make(value)
    same = make(float(value))
    # The integer and its float build the same policy.
    assert repr(made) == repr(same)


def test_aging_priority_scores_an_integer_setting_as_its_float() -> None:
    task = TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email", priority=2), now=0.0)
    for seconds in (1, 7, 120, 2**53 + 1):
        policy = s.AgingPriority(seconds)
        assert policy.seconds_per_point == float(seconds)
        assert policy.segment(task, 10.0) == s.AgingPriority(float(seconds)).segment(task, 10.0)


@pytest.mark.parametrize("value", [5, "x", ["claim"], 3.5], ids=["int", "str", "list", "float"])
def test_priority_ramp_refuses_ramps_that_are_not_a_mapping(value: Any) -> None:
    # Before: AttributeError ('int' object has no attribute 'items').
    refused(lambda: s.PriorityRamp(value), "ramps")


def test_priority_ramp_refuses_a_task_type_that_is_not_text() -> None:
    # Before: the key 1 was taken as the task type "1" without a word.
    refused(lambda: s.PriorityRamp({1: {"step": 1, "every": 60}}), "ramps")
    refused(lambda: s.PriorityRamp({"claim": 5}), "ramps")


def test_ramp_from_config_refuses_field_names_that_are_not_text() -> None:
    # Before: TypeError from sorting a mix of int and str field names.
    refused(lambda: s.Ramp.from_config({1: 2, "x": 3, "step": 1, "every": 60}), "ramp")


@pytest.mark.parametrize("value", [5, None, 2.5], ids=["int", "None", "float"])
def test_composite_refuses_parts_that_are_not_a_collection(value: Any) -> None:
    # Before: TypeError ('int' object is not iterable).
    refused(lambda: s.Composite(value), "parts")


@pytest.mark.parametrize(
    "name", [[], {}, ["fifo"], {"fifo"}], ids=["list", "dict", "list-1", "set"]
)
def test_policy_by_name_refuses_an_unhashable_name(name: Any) -> None:
    # Before: TypeError (unhashable type).
    refused(lambda: s.policy_by_name(name), "policy")


def test_value_at_risk_refuses_a_mode_that_is_not_text() -> None:
    refused(lambda: s.ValueAtRisk(60.0, mode=np.array(["log", "log"])), "mode")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- explain


@pytest.fixture(scope="module")
def task() -> Any:
    return TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email", priority=2), now=0.0)


@pytest.mark.parametrize(
    "policy", [5, None, "fifo", object()], ids=["int", "None", "str", "object"]
)
def test_explain_refuses_what_is_not_a_policy(policy: Any, task: Any) -> None:
    # Before: AttributeError ('int' object has no attribute 'segment').
    refused(lambda: s.explain(policy, task, 0.0), "policy")


@pytest.mark.parametrize(
    "value", [5, None, "t", TaskSpec(id="t", channel="email")], ids=["int", "None", "str", "spec"]
)
def test_explain_refuses_what_is_not_a_task(value: Any) -> None:
    refused(lambda: s.explain(s.Fifo(), value, 0.0), "task")


@settings(max_examples=60, deadline=None)
@given(now=not_a_number)
def test_explain_refuses_a_time_that_is_not_a_finite_real_number(now: Any) -> None:
    # Before: nan gave an explanation with nan everywhere, text a TypeError.
    task = TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email"), now=0.0)
    refused(lambda: s.explain(s.Fifo(), task, now), "now")


@pytest.mark.parametrize("rules", [5, "rule", [1]], ids=["int", "str", "list-int"])
def test_explain_refuses_rules_that_are_not_rule_names(rules: Any, task: Any) -> None:
    refused(lambda: s.explain(s.Fifo(), task, 0.0, rules=rules), "rules")


@settings(max_examples=40, deadline=None)
@given(now=st.integers(min_value=-(2**53), max_value=2**53) | st.floats(-1e12, 1e12))
def test_explain_answers_at_any_finite_time_as_at_its_float(now: float) -> None:
    task = TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email", priority=1), now=0.0)
    policy = s.AgingPriority(60)
    explained = s.explain(policy, task, now)
    assert explained == s.explain(policy, task, float(now))
    assert explained.score == policy.segment(task, float(now)).at(float(now))


# ---------------------------------------------------------------------- relaxation

RELAXATION_PARAMETERS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "RelaxationStep-after": ("after", lambda v: RelaxationStep(v)),
    "RelaxationStep-lower_by": ("lower_by", lambda v: RelaxationStep(10.0, lower_by=v)),
    "ContinuousRelaxation-rate": ("rate", lambda v: ContinuousRelaxation(v)),
    "ContinuousRelaxation-floor": ("floor", lambda v: ContinuousRelaxation(0.1, floor=v)),
    "ContinuousRelaxation-value_scale": (
        "value_scale",
        lambda v: ContinuousRelaxation(0.1, value_scale=v),
    ),
}


@pytest.mark.parametrize("case", sorted(RELAXATION_PARAMETERS))
@settings(max_examples=60, deadline=None)
@given(value=not_a_number)
def test_relaxation_parameters_refuse_what_is_not_a_finite_real_number(
    case: str, value: Any
) -> None:
    # Before: OverflowError for integers no float holds, TypeError for text and lists.
    field, make = RELAXATION_PARAMETERS[case]
    refused(lambda: make(value), field)


@pytest.mark.parametrize("case", sorted(RELAXATION_PARAMETERS))
@settings(max_examples=30, deadline=None)
@given(value=positive_numbers)
def test_relaxation_parameters_accept_a_finite_positive_number_as_its_float(
    case: str, value: float
) -> None:
    field, make = RELAXATION_PARAMETERS[case]
    made = make(value)
    assert getattr(made, field) == float(value)
    assert type(getattr(made, field)) is float
    assert made == make(float(value))


@pytest.mark.parametrize(
    "drop",
    [5, (1,), "claims", ("",), (None,), [["claims"]], ("x" * 1000,)],
    ids=["int", "tuple-int", "str", "empty-name", "None-name", "nested", "long-name"],
)
def test_relaxation_step_refuses_drop_that_is_not_skill_names(drop: Any) -> None:
    # Before: accepted, and the engine failed or silently matched nothing later.
    refused(lambda: RelaxationStep(10.0, drop=drop), "drop")


def test_relaxation_step_takes_drop_as_a_tuple_of_names() -> None:
    assert RelaxationStep(10.0, drop=["claims", "fraud"]).drop == ("claims", "fraud")
    assert RelaxationStep(10.0, drop=("claims",)) == RelaxationStep(10.0, drop=["claims"])


# ---------------------------------------------------------------------- simulator inner modules


@pytest.mark.parametrize(
    "distribution",
    [5, None, {"kind": "exponential", "mean_seconds": 1}, "exponential"],
    ids=["int", "None", "dict", "str"],
)
def test_sampler_refuses_what_is_not_a_distribution(distribution: Any) -> None:
    # Before: accepted, and the first draw raised AttributeError.
    refused(lambda: Sampler(distribution, np.random.default_rng(0)), "distribution")


def test_sampler_messages_stay_short_for_any_block() -> None:
    rng = np.random.default_rng(0)
    refused(lambda: Sampler(Exponential(mean_seconds=1), rng, block=10**5000), "block")
    refused(lambda: Sampler(Exponential(mean_seconds=1), rng, block="x" * 1_000_000), "block")
    refused(lambda: Exponential(mean_seconds=1).sample(rng, size="x" * 1_000_000), "size")


@pytest.mark.parametrize(
    "scenario",
    [5, dict(MINIMAL_SCENARIO), None, "scenario.toml"],
    ids=["int", "dict", "None", "str"],
)
def test_world_refuses_what_is_not_a_scenario(scenario: Any) -> None:
    # Before: AttributeError ('int' object has no attribute 'check_code').
    refused(lambda: World(scenario), "scenario")


@pytest.mark.parametrize("value", [5, None, 2.5], ids=["int", "None", "float"])
@pytest.mark.parametrize(
    "function", [staff_by_simulation, staff_intervals_by_simulation], ids=["period", "intervals"]
)
def test_staffing_refuses_targets_that_are_not_targets(function: Any, value: Any) -> None:
    # Before: TypeError ('int' object is not iterable).
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    refused(lambda: function(scenario, targets=value, replications=4), "targets")


@pytest.mark.parametrize(
    "function", [staff_by_simulation, staff_intervals_by_simulation], ids=["period", "intervals"]
)
def test_staffing_refuses_what_is_not_a_scenario_before_reading_targets(function: Any) -> None:
    # Before: AttributeError ('dict' object has no attribute 'task_types').
    refused(lambda: function(dict(MINIMAL_SCENARIO), targets=StaffingTarget(asa=20)), "scenario")


@pytest.mark.parametrize("start", [5, ["agents"], "agents"], ids=["int", "list", "str"])
def test_staff_by_simulation_refuses_a_start_that_is_not_a_mapping(start: Any) -> None:
    # Before: AttributeError ('int' object has no attribute 'items').
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    refused(
        lambda: staff_by_simulation(
            scenario, targets=StaffingTarget(asa=20), replications=4, start=start
        ),
        "start",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: stream_key(["x"] * 1_000_000),
        lambda: RandomStreams("x" * 1_000_000),
        lambda: RandomStreams(0, replication=[0] * 1_000_000),
    ],
    ids=["stream_key", "seed", "replication"],
)
def test_stream_messages_stay_short_whatever_was_handed_in(call: Callable[[], object]) -> None:
    # Before: the message held the whole value (megabytes).
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert len(str(caught.value)) <= MAX_MESSAGE


# ---------------------------------------------------------------------- event export


def _events(count: int) -> list[Event]:
    return [
        Event(
            seq=i, time=float(i), kind=EventKind.task_submitted, task=f"t{i}", agent=None, data={}
        )
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "events",
    [5, [5], [{"kind": "bogus"}], [*_events(3), "event"], None],
    ids=["int", "list-int", "list-dict", "good-then-bad", "None"],
)
def test_export_events_refuses_what_is_not_events_and_leaves_the_file(
    events: Any, tmp_path: Path
) -> None:
    # Before: TypeError or AttributeError, with the file already cut to the
    # events written so far.
    path = tmp_path / "events.jsonl"
    assert export_events(_events(2), path) == 2
    before = path.read_bytes()
    refused(lambda: export_events(events, path), "events")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]


@pytest.mark.parametrize(
    "where",
    [
        lambda tmp: tmp,
        lambda tmp: tmp / "no" / "events.jsonl",
        lambda tmp: 5,
        lambda tmp: None,
        lambda tmp: str(tmp / "e\x00.jsonl"),
        lambda tmp: str(tmp / ("e" * 100_000)),
        lambda tmp: str(tmp / "e\ud83d.jsonl"),
    ],
    ids=["directory", "missing-folder", "int", "None", "nul", "long", "surrogate"],
)
def test_export_events_refuses_a_path_it_cannot_write(where: Any, tmp_path: Path) -> None:
    # Before: IsADirectoryError, FileNotFoundError, TypeError, ValueError, OSError.
    refused(lambda: export_events(_events(1), where(tmp_path)), "path")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(0, 30), data=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
)
def test_export_events_round_trips_through_import(count: int, data: dict[str, int]) -> None:
    import tempfile

    events = [event._replace(data=data) for event in _events(count)]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "events.jsonl"
        assert export_events(iter(events), path) == count
        assert import_events(path) == events
        lines = path.read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[0]) == {"schema": "valueroute-events", "version": 1}
        assert len(lines) == count + 1


def test_export_events_refuses_data_that_is_not_json_and_leaves_the_file(tmp_path: Path) -> None:
    # Before: TypeError from json, with the file cut after the events before it.
    path = tmp_path / "events.jsonl"
    export_events(_events(2), path)
    before = path.read_bytes()
    bad = [*_events(2), _events(1)[0]._replace(data={"set": {1, 2}})]
    refused(lambda: export_events(bad, path), "events")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]


def test_export_events_keeps_the_permissions_of_a_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("old\n")
    path.chmod(0o640)
    assert export_events(_events(3), path) == 3
    assert path.stat().st_mode & 0o777 == 0o640
    assert import_events(path) == _events(3)


def test_export_events_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert export_events(_events(2), link) == 2
    assert link.is_symlink()
    assert import_events(real) == _events(2)


def test_export_events_writes_a_file_whose_name_is_near_the_limit(tmp_path: Path) -> None:
    path = tmp_path / ("e" * 250)
    assert export_events(_events(1), path) == 1
    assert import_events(path) == _events(1)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("path", [5, None, ["e.jsonl"]], ids=["int", "None", "list"])
def test_import_events_refuses_what_is_not_a_path(path: Any) -> None:
    # Before: TypeError (expected str, bytes or os.PathLike object).
    refused(lambda: import_events(path), "path")


@pytest.mark.parametrize(
    "name",
    ["e" * 1_000_000, "e\x00.jsonl", "e\ud83d.jsonl"],
    ids=["1MB", "nul", "surrogate"],
)
def test_import_events_refuses_a_path_it_cannot_open_in_a_short_message(
    name: str, tmp_path: Path
) -> None:
    # Before: a message a megabyte long, a ValueError, a UnicodeEncodeError.
    with pytest.raises(JournalFormatError) as caught:
        import_events(str(tmp_path / name))
    assert len(str(caught.value)) <= MAX_MESSAGE
    assert "cannot be read" in str(caught.value)


def test_import_events_refuses_a_header_version_of_any_size_in_a_short_message(
    tmp_path: Path,
) -> None:
    # Before: the message repeated the whole version value (900 kB here).
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"schema": "valueroute-events", "version": [' + ",".join(["1"] * 300_000) + "]}\n"
    )
    with pytest.raises(JournalFormatError) as caught:
        import_events(path)
    assert len(str(caught.value)) <= MAX_MESSAGE
    assert "version" in str(caught.value)


@pytest.mark.parametrize(
    "score",
    ["5", None, 10**400, True, [1.0], b"1"],
    ids=["str", "None", "10**400", "bool", "list", "bytes"],
)
def test_rescored_refuses_a_score_that_is_not_a_real_number(score: Any, task: Any) -> None:
    # Before: text "5" was taken as 5.0 and True as 1.0 without a word; None
    # and a list raised TypeError, 10**400 OverflowError.
    policy = s.Rescored(lambda t, n: score, interval=60)
    for call in (lambda: policy.segment(task, 0.0), lambda: policy.terms(task, 0.0)):
        with pytest.raises(PolicyError) as caught:
            call()
        assert len(str(caught.value)) <= MAX_MESSAGE
        assert "<lambda>" in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(
    score=st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**60), 2**60)
    | st.floats(-1e30, 1e30).map(np.float32)
    | st.integers(-(2**31), 2**31).map(np.int64)
)
def test_rescored_takes_any_real_number_score_as_its_float(score: Any) -> None:
    task = TaskList(s.Fifo()).add(TaskSpec(id="t", channel="email"), now=0.0)
    policy = s.Rescored(lambda t, n: score, interval=60)
    assert policy.segment(task, 5.0) == s.Segment(float(score), 0.0, 65.0)
    assert policy.terms(task, 5.0) == [("<lambda>", float(score))]


@pytest.mark.parametrize("size", [10**13, 10**30, 2**63, MAX_SAMPLE_SIZE + 1], ids=str)
def test_sample_refuses_a_size_beyond_the_limit(size: int) -> None:
    # Before: MemoryError (72.8 TiB) or numpy's ValueError (maximum dimension).
    rng = np.random.default_rng(0)
    refused(lambda: Exponential(mean_seconds=1).sample(rng, size=size), "size")
    sampler = Sampler(Exponential(mean_seconds=1), rng)
    refused(lambda: sampler.take(size), "count")


def test_sample_takes_sizes_up_to_the_limit_in_principle() -> None:
    # The limit refuses nothing smaller: a size is checked, not allocated, here.
    rng = np.random.default_rng(0)
    assert Exponential(mean_seconds=1).sample(rng, size=0).shape == (0,)
    assert Exponential(mean_seconds=1).sample(rng, size=np.int64(3)).shape == (3,)
    assert MAX_SAMPLE_SIZE >= 10**8


def test_distribution_from_refuses_json_nested_past_the_parser() -> None:
    # Before: RecursionError from the JSON decoder.
    refused(lambda: distribution_from("[" * 100_000 + "]" * 100_000), "Distribution")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"chunks": "x"}, "chunks"),
        ({"chunks": 0}, "chunks"),
        ({"chunks": True}, "chunks"),
        ({"chunks": 10**9}, "chunks"),
        ({"progress": 5}, "progress"),
        ({"progress": "report"}, "progress"),
    ],
    ids=["chunks-str", "chunks-zero", "chunks-bool", "chunks-huge", "progress-int", "progress-str"],
)
def test_world_run_refuses_bad_options_before_simulating(options: Any, field: str) -> None:
    # Before: TypeError, or (progress) a TypeError after the first chunk had
    # been simulated, chunks=0 taken as 1 and 10**9 chunks run one by one.
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    world = World(scenario)
    refused(lambda: world.run(**options), field)
    assert world.env.now == 0.0
    world.run()
    fresh = World(scenario)
    fresh.run()
    assert world.result() == fresh.result()


def test_world_runs_once() -> None:
    # Before: a second run scheduled the day's arrivals and shifts again, then
    # failed with simpy's ValueError (until must be after the current time).
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    world = World(scenario)
    world.run()
    before = world.result()
    with pytest.raises(InvalidTransitionError, match="run"):
        world.run()
    assert world.result() == before


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"executor": 5}, "executor"),
        ({"executor": "pool"}, "executor"),
        ({"cost_per_hour": 10**400}, "cost_per_hour"),
        ({"cost_per_hour": {"agents": 10**400}}, "cost_per_hour.agents"),
        ({"allow_code": "yes"}, "allow_code"),
        ({"allow_code": 1}, "allow_code"),
    ],
    ids=["executor-int", "executor-str", "cost-huge", "cost-map-huge", "code-str", "code-int"],
)
@pytest.mark.parametrize(
    "function", [staff_by_simulation, staff_intervals_by_simulation], ids=["period", "intervals"]
)
def test_staffing_refuses_bad_options_before_simulating(
    function: Any, options: dict[str, Any], field: str
) -> None:
    # Before: AttributeError ('int' object has no attribute 'submit') once the
    # runs began, OverflowError, and allow_code="yes" let scenario code run.
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    refused(
        lambda: function(scenario, targets=StaffingTarget(asa=20), replications=2, **options),
        field,
    )


@pytest.mark.parametrize("allow_code", ["yes", 1, None], ids=["str", "int", "None"])
def test_world_refuses_allow_code_that_is_not_a_bool(allow_code: Any) -> None:
    # Before: any truthy value allowed the scenario's code to run.
    scenario = Scenario.model_validate(MINIMAL_SCENARIO)
    refused(lambda: World(scenario, allow_code=allow_code), "allow_code")


@pytest.mark.parametrize("field", ["service_level", "asa", "abandon"])
@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["huge", "-huge"])
def test_staffing_target_refuses_a_goal_no_float_holds(field: str, value: int) -> None:
    # Before: OverflowError from math.isfinite.
    refused(lambda: StaffingTarget(**{field: value}), field)


@pytest.mark.parametrize("tiny", [5e-324, 1e-310], ids=["smallest", "subnormal"])
def test_policies_refuse_a_setting_whose_rate_is_infinite(tiny: float) -> None:
    # Before: accepted; every task then got an infinite slope and was held as
    # unscorable when it arrived.
    refused(lambda: s.AgingPriority(tiny), "seconds_per_point")
    refused(lambda: s.ValueAtRisk(tiny), "expected_wait")
    refused(lambda: s.ValueAtRisk({"claim": tiny, "*": 60.0}), "expected_wait")


@pytest.mark.parametrize(
    "call",
    [
        lambda: stream_key("a\ud83d"),
        lambda: RandomStreams(0).generator("handle", "\udc80"),
    ],
    ids=["stream_key", "generator"],
)
def test_stream_names_with_a_lone_surrogate_are_refused(call: Callable[[], object]) -> None:
    # Before: UnicodeEncodeError from hashing the name.
    refused(call, "name")


def test_random_streams_repr_stays_short_for_any_seed() -> None:
    # Before: ValueError (an integer beyond Python's 4,300 digits for str()).
    text = repr(RandomStreams(10**5000))
    assert len(text) <= 200
    assert (
        repr(RandomStreams(7, replication=2)) == "RandomStreams(seed=7, replication=2, streams=0)"
    )
