"""Scenario validation: every problem names its field before anything runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute.errors import InvalidInputError
from valueroute.sim import InlineExecutor, Scenario, World, load_scenario, parse_scenario, simulate
from valueroute.sim.scenario import Routing


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "horizon_seconds": 3600,
        "task_types": [{"name": "calls", "handle": {"kind": "exponential", "mean_seconds": 60}}],
        "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 30}],
        "agent_groups": [{"name": "agents", "count": 2}],
    }
    data.update(changes)
    return data


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInputError) as caught:
        Scenario.model_validate(data)
    return str(caught.value)


def test_a_minimal_scenario_is_valid() -> None:
    scenario = Scenario.model_validate(minimal())
    assert scenario.routing.policy == "fifo"
    assert scenario.interval_seconds == 1800


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"horizon_seconds": -5}, "horizon_seconds"),
        ({"warmup_seconds": 4000}, "warmup_seconds"),
        ({"replications": 0}, "replications"),
        (
            {"arrivals": [{"kind": "poisson", "task_type": "chats", "rate_per_hour": 3}]},
            "arrivals.0.task_type",
        ),
        (
            {
                "task_types": [
                    {"name": "calls", "handle": {"kind": "exponential", "mean_seconds": -1}}
                ]
            },
            "mean_seconds",
        ),
        (
            {
                "task_types": [
                    {
                        "name": "calls",
                        "handle": {"kind": "exponential", "mean_seconds": 60},
                        "skills": {"french": 2},
                    }
                ]
            },
            "task_types.0.skills",
        ),
        (
            {
                "task_types": [
                    {
                        "name": "calls",
                        "handle": {"kind": "exponential", "mean_seconds": 60},
                        "forward_probability": 0.5,
                        "forward_to": "letters",
                    }
                ]
            },
            "task_types.0.forward_to",
        ),
        (
            {
                "task_types": [
                    {
                        "name": "calls",
                        "handle": {"kind": "exponential", "mean_seconds": 60},
                        "retrial_probability": 0.5,
                    }
                ]
            },
            "retrial_delay",
        ),
        (
            {
                "task_types": [
                    {
                        "name": "calls",
                        "handle": {"kind": "exponential", "mean_seconds": 60},
                        "handle_by_group": {"experts": 0.5},
                    }
                ]
            },
            "task_types.0.handle_by_group",
        ),
        ({"agent_groups": [{"name": "agents"}]}, "count, shifts or headcount"),
        (
            {"agent_groups": [{"name": "agents", "count": 2, "headcount": [1, 2]}]},
            "count, shifts or headcount",
        ),
        (
            {
                "agent_groups": [
                    {
                        "name": "agents",
                        "shifts": [{"start_seconds": 9, "end_seconds": 3, "count": 1}],
                    }
                ]
            },
            "end_seconds",
        ),
        (
            {"agent_groups": [{"name": "agents", "count": 1}, {"name": "agents", "count": 1}]},
            "agent_groups.1.name",
        ),
        ({"routing": {"policy": "fastest"}}, "policy"),
        ({"routing": {"policy": "aging_priority", "policy_params": {"speed": 1}}}, "policy"),
        ({"routing": {"agent_selection": "luckiest"}}, "agent_selection"),
        ({"service_level_definition": "abandoned"}, "service_level_definition"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_scenario_fails_naming_the_field(changes: dict[str, Any], named: str) -> None:
    assert named in error_of(minimal(**changes))


def test_errors_carry_field_value_and_expectation_triples() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Scenario.model_validate(minimal(horizon_seconds="soon"))
    field, value, expected = caught.value.errors[0]
    assert field == "horizon_seconds"
    assert value == "soon"
    assert expected


# ---------------------------------------------------------------- code references


def test_a_code_reference_is_refused_unless_allowed() -> None:
    scenario = Scenario.model_validate(minimal(routing={"policy": "valueroute.scoring:Fifo"}))
    with pytest.raises(InvalidInputError, match=r"routing\.policy.*allow_code"):
        World(scenario)
    with pytest.raises(InvalidInputError, match=r"routing\.policy"):
        simulate(scenario, executor=InlineExecutor())
    result = simulate(scenario, allow_code=True)
    assert result.policy == "fifo"


def test_loading_a_scenario_with_code_imports_nothing(tmp_path: Path) -> None:
    # The module named does not exist: a load that imported it would fail.
    path = tmp_path / "s.json"
    path.write_text(json.dumps(minimal(routing={"policy": "no_such_module_xyz:Policy"})))
    scenario = load_scenario(path)
    assert scenario.routing.uses_code() == ["routing.policy"]
    with pytest.raises(InvalidInputError, match=r"routing\.policy.*cannot be imported"):
        scenario.routing.build_policy(allow_code=True)


def test_an_agent_selection_from_code_loads_only_when_allowed() -> None:
    routing = Routing(agent_selection="valueroute.agents:LongestIdle")
    with pytest.raises(InvalidInputError, match=r"routing\.agent_selection"):
        routing.build_selection(rng=None, allow_code=False)  # type: ignore[arg-type]
    assert repr(routing.build_selection(rng=None, allow_code=True)) == "LongestIdle()"  # type: ignore[arg-type]


# ---------------------------------------------------------------- file formats


def test_toml_json_and_yaml_give_the_same_scenario(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    data = minimal(name="same")
    (tmp_path / "s.json").write_text(json.dumps(data))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    toml = """
name = "same"
horizon_seconds = 3600
[[task_types]]
name = "calls"
handle = { kind = "exponential", mean_seconds = 60 }
[[arrivals]]
kind = "poisson"
task_type = "calls"
rate_per_hour = 30
[[agent_groups]]
name = "agents"
count = 2
"""
    (tmp_path / "s.toml").write_text(toml)
    loaded = [load_scenario(tmp_path / f"s.{suffix}") for suffix in ("json", "yaml", "toml")]
    assert loaded[0] == loaded[1] == loaded[2]


def test_relative_rule_and_trace_paths_resolve_from_the_scenario_folder(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text("time,task_type,handle_time\n1.0,calls,30\n")
    text = json.dumps(
        minimal(
            arrivals=[{"kind": "trace", "path": "calls.csv"}],
            routing={"rules": "rules.toml"},
        )
    )
    scenario = parse_scenario(text, format="json", base_dir=tmp_path)
    assert scenario.routing.rules == str(tmp_path / "rules.toml")
    assert scenario.arrivals[0].path == str(tmp_path / "calls.csv")  # type: ignore[union-attr]


def test_a_trace_naming_an_unknown_type_fails_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text("time,task_type\n1.0,letters\n")
    scenario = Scenario.model_validate(
        minimal(arrivals=[{"kind": "trace", "path": str(tmp_path / "calls.csv")}])
    )
    with pytest.raises(InvalidInputError, match="letters"):
        World(scenario)


def test_a_replayed_trace_uses_its_recorded_handle_times(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text("time,task_type,handle_time\n1.0,calls,30\n2.0,calls,50\n")
    scenario = Scenario.model_validate(
        minimal(arrivals=[{"kind": "trace", "path": str(tmp_path / "calls.csv")}])
    )
    result = simulate(scenario)
    assert result.mean("aht") == 40.0
    assert result.mean("answered") == 2.0


@pytest.mark.parametrize(
    ("text", "fmt", "named"),
    [
        ("horizon_seconds = ", "toml", "not valid toml"),
        ("[1, 2]", "json", "table of scenario fields"),
    ],
)
def test_unreadable_text_fails_clearly(text: str, fmt: Any, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        parse_scenario(text, format=fmt)


@pytest.mark.parametrize(
    ("text", "fmt", "named"),
    [
        # Each escaped as the parser's own exception before one reader served
        # rule files and scenarios alike.
        (b"\xff\xfe", "toml", "not UTF-8 text"),
        ("[" * 100_000, "json", "not valid json"),
        ("a: [1, 2", "yaml", "not valid yaml"),
        ("x = 1", "xml", "format: got 'xml'"),
    ],
)
def test_malformed_documents_fail_as_invalid_input(text: str | bytes, fmt: Any, named: str) -> None:
    if fmt == "yaml":
        pytest.importorskip("yaml")
    with pytest.raises(InvalidInputError, match=named) as caught:
        parse_scenario(text, format=fmt)
    assert caught.value.errors


def test_a_scenario_file_that_is_not_utf8_fails_as_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_bytes(b"name = '\xff'")
    with pytest.raises(InvalidInputError, match="not UTF-8 text"):
        load_scenario(path)


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="source"):
        load_scenario(tmp_path / "scenario.txt")


def test_the_bundled_demo_is_a_valid_scenario() -> None:
    from valueroute.scenarios import load_scenario as load_named_scenario

    demo = load_named_scenario("demo")
    assert len(demo.task_types) == 3
    assert len(demo.agent_groups) == 3


def test_load_scenario_takes_a_bundled_name_or_a_path(tmp_path: Path) -> None:
    demo = load_scenario("demo")
    (tmp_path / "day.toml").write_text(
        (Path(__file__).resolve().parents[1] / "src/valueroute/data/demo_scenario.toml").read_text()
    )
    assert load_scenario(tmp_path / "day.toml") == demo
    assert load_scenario(str(tmp_path / "day.toml")) == demo


@pytest.mark.parametrize("source", [5, None, b"demo.toml", ["demo"], "no_such_day", "a\x00.toml"])
def test_load_scenario_refuses_what_is_neither_name_nor_file(source: object) -> None:
    with pytest.raises(InvalidInputError, match="source: got") as raised:
        load_scenario(source)  # type: ignore[arg-type]
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize(("text", "base_dir"), [(5, None), ("name = 'x'", 5), (None, None)])
def test_parse_scenario_refuses_what_is_not_text_or_a_folder(
    text: object, base_dir: object
) -> None:
    with pytest.raises(InvalidInputError, match=r"text|base_dir"):
        parse_scenario(text, base_dir=base_dir)  # type: ignore[arg-type]


# ---------------------------------------------- keys, long values and allow_code


@pytest.mark.parametrize("field", ["task_types", "agent_groups", "arrivals"])
def test_an_entry_with_a_key_that_is_not_text_is_refused_naming_where(field: str) -> None:
    data = minimal()
    data[field] = [{**data[field][0], None: 1}]
    message = error_of(data)
    assert f"{field}.0: key None is not text" in message


def test_a_nested_key_that_is_not_text_is_refused_naming_its_path() -> None:
    message = error_of(minimal(routing={"relaxation": [{"after_seconds": 5, 7: 1}]}))
    assert "routing.relaxation.0: key 7 is not text" in message


def test_a_document_whose_top_level_key_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="key 1 is not text"):
        parse_scenario("1: 2\n", format="yaml")


def test_a_huge_integer_or_long_text_is_shown_bounded_in_an_error() -> None:
    huge = 10**5000
    for call in (lambda: parse_scenario(huge), lambda: load_scenario(huge)):  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert "<integer of about 5001 digits>" in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        load_scenario("x" * 100_000)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("permission", ["yes", 1, "False", [True], None])
def test_allow_code_must_be_a_bool(permission: Any) -> None:
    scenario = Scenario.model_validate(minimal(routing={"policy": "valueroute.scoring:Fifo"}))
    with pytest.raises(InvalidInputError, match="allow_code"):
        scenario.check_code(allow_code=permission)
    with pytest.raises(InvalidInputError, match="allow_code"):
        scenario.build_policy(allow_code=permission)
    with pytest.raises(InvalidInputError, match="allow_code"):
        simulate(scenario, allow_code=permission, executor=InlineExecutor())
    scenario.check_code(allow_code=True)
    with pytest.raises(InvalidInputError, match=r"routing\.policy"):
        scenario.check_code(allow_code=False)


_ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["UTC", "Europe/Berlin", "24/7", "09:00", "2026-03-28T00:00", "mon"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=10) | st.sampled_from(["hours", "timezone"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    calendars=st.dictionaries(st.text(min_size=1, max_size=8), _ANY, max_size=2) | _ANY,
    start=_ANY,
    type_calendar=_ANY,
    group_calendar=_ANY,
)
def test_calendar_fields_with_any_value_parse_or_refuse_cleanly(
    calendars: Any, start: Any, type_calendar: Any, group_calendar: Any
) -> None:
    data = minimal(calendars=calendars, start=start)
    data["task_types"][0]["calendar"] = type_calendar
    data["agent_groups"][0]["calendar"] = group_calendar
    message = ""
    try:
        scenario = Scenario.model_validate(data)
    except InvalidInputError as exc:
        message = str(exc)
    else:
        assert isinstance(scenario.start_instant(), float)
        assert set(scenario.build_calendars()) == set(scenario.calendars)
    assert len(message) < 2000


@pytest.mark.parametrize(
    ("horizon", "shown"),
    [(100_001 * 1800.0, "100001 intervals"), (1e301, "5.55556e+297 intervals")],
)
def test_too_many_intervals_are_refused_with_a_short_count(horizon: float, shown: str) -> None:
    message = error_of(minimal(horizon_seconds=horizon))
    assert "interval_minutes=30" in message
    assert shown in message
    # The count of a horizon near the largest float is not printed in full.
    assert not re.search(r"\d{20}", message)
