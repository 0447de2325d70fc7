"""From a forecast and a staffing table to a scenario: profiles, scenarios, files, Erlang C."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valueroute.erlang import Forecast, read_forecast, service_level, staff_intervals
from valueroute.errors import InvalidInputError
from valueroute.scenarios import load_scenario as load_bundled
from valueroute.sim import InlineExecutor, RandomStreams, Scenario, mean_ci, simulate
from valueroute.sim.arrivals import ProfileArrivals, load_profile_csv
from valueroute.sim.planning import (
    profile_from_forecast,
    scenario_from_forecast,
    scenario_to_toml,
    write_profile_csv,
    write_scenario,
)
from valueroute.sim.scenario import load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _clock(seconds: int) -> str:
    seconds %= 86_400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _forecast(
    calls: list[float], *, start: int = 8 * 3600, minutes: int = 15, aht=None
) -> Forecast:
    labels = tuple(_clock(start + i * minutes * 60) for i in range(len(calls)))
    return Forecast(
        labels=labels,
        calls=np.array(calls, dtype=np.float64),
        aht=None if aht is None else np.array(aht, dtype=np.float64),
    )


_volumes = st.lists(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=30,
)
_names = st.text(min_size=1, max_size=20).filter(lambda s: s.isprintable() or "\n" in s)


# ----------------------------------------------------------------- profiles


@st.composite
def _profiles(draw: st.DrawFn) -> list[ProfileArrivals]:
    names = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
    starts = st.one_of(
        st.integers(min_value=0, max_value=86_399).map(float),
        st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    )
    profiles = []
    for name in names:
        volumes = draw(_volumes.filter(lambda v: len(v) >= 2))
        handles = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)
        profiles.append(
            ProfileArrivals(
                task_type=name,
                interval_minutes=draw(st.sampled_from([15, 30, 60])),
                volumes=volumes,
                start_seconds=draw(starts),
                aht=draw(
                    st.none() | st.lists(handles, min_size=len(volumes), max_size=len(volumes))
                ),
            )
        )
    return profiles


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profiles=_profiles())
def test_written_profiles_load_back_equal(profiles: list[ProfileArrivals], tmp_path: Path) -> None:
    path = write_profile_csv(profiles, tmp_path / "profile.csv")
    assert load_profile_csv(path) == profiles


def test_a_profile_starting_at_a_fraction_of_a_second_loads_back(tmp_path: Path) -> None:
    # 7477.173 + 900 - 7477.173 is 899.9999999999991 in floating point: the
    # loader must still read quarter hours, as the file's starts are exactly
    # start + i × 900.
    profile = ProfileArrivals(
        task_type="a", interval_minutes=15, volumes=[1, 2, 3], start_seconds=7477.173
    )
    assert load_profile_csv(write_profile_csv(profile, tmp_path / "p.csv")) == [profile]


def test_a_profile_of_one_interval_loads_back_given_its_length(tmp_path: Path) -> None:
    profile = ProfileArrivals(task_type="claims", interval_minutes=30, volumes=[7.5])
    path = write_profile_csv(profile, tmp_path / "one.csv")
    assert load_profile_csv(path, interval_minutes=30) == [profile]


def test_profile_file_uses_times_of_day_within_a_day(tmp_path: Path) -> None:
    profile = profile_from_forecast(_forecast([12, 15.5, 9], start=8 * 3600), task_type="claims")
    text = write_profile_csv(profile, tmp_path / "p.csv").read_text()
    assert (
        text
        == "interval_start,task_type,volume\n08:00,claims,12\n08:15,claims,15.5\n08:30,claims,9\n"
    )


@given(
    calls=_volumes,
    start=st.integers(min_value=0, max_value=95).map(lambda q: q * 900),
    minutes=st.sampled_from([15, 30, 60]),
)
def test_profile_volumes_are_the_forecast_calls(
    calls: list[float], start: int, minutes: int
) -> None:
    forecast = _forecast(calls, start=start, minutes=minutes)
    profile = profile_from_forecast(forecast, task_type="voice", interval_minutes=minutes)
    assert profile.volumes == tuple(calls)
    assert profile.start_seconds == start
    assert profile.interval_minutes == minutes
    if len(calls) >= 2:  # the length read off the labels
        assert profile_from_forecast(forecast, task_type="voice") == profile


def test_profile_from_a_forecast_file_past_midnight(tmp_path: Path) -> None:
    path = tmp_path / "night.csv"
    path.write_text("interval,calls,aht\n23:00,10,200\n23:30,8,200\n00:00,6,200\n")
    profile = profile_from_forecast(path, task_type="night")
    assert profile.start_seconds == 23 * 3600
    assert profile.volumes == (10, 8, 6)
    assert profile.end_seconds == 23 * 3600 + 3 * 1800
    written = write_profile_csv(profile, tmp_path / "night-profile.csv")
    assert load_profile_csv(written) == [profile]


def test_profile_handle_times_follow_the_interval_aht() -> None:
    plain = ProfileArrivals(task_type="a", interval_minutes=60, volumes=[400, 0, 300, 500])
    timed = plain.model_copy(update={"aht": (30.0, 99.0, 600.0, 120.0)})
    handles: list[list[float]] = [[], [], [], []]
    for day in range(5):
        rng = RandomStreams(seed=4).replication(day).generator("arrivals", "a")
        again = RandomStreams(seed=4).replication(day).generator("arrivals", "a")
        with_handle = list(timed.generate(rng=rng))
        # The same arrival times as without handle times.
        assert [a.time for a in with_handle] == [a.time for a in plain.generate(rng=again)]
        for arrival in with_handle:
            assert arrival.handle_time is not None
            handles[int(arrival.time // 3600)].append(arrival.handle_time)
    assert handles[1] == []
    for index in (0, 2, 3):
        values = np.array(handles[index])
        mean = timed.aht[index]  # type: ignore[index]
        # Exponential: standard deviation = mean; 4.5 standard errors.
        assert abs(values.mean() - mean) <= 4.5 * mean / math.sqrt(values.size)
        assert abs(values.std() - mean) <= 0.1 * mean


def test_profile_aht_must_match_the_volumes() -> None:
    with pytest.raises(InvalidInputError, match=r"aht has 1 values \(expected 2"):
        ProfileArrivals(task_type="a", interval_minutes=60, volumes=[1, 2], aht=[3])
    with pytest.raises(InvalidInputError, match=r"aht\.0"):
        ProfileArrivals(task_type="a", interval_minutes=60, volumes=[1], aht=[0])


def test_profile_csv_aht_is_on_every_row_of_a_type_or_none(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("interval_start,task_type,volume,aht\n08:00,a,1,100\n08:30,a,2,\n")
    with pytest.raises(InvalidInputError, match=r"^p.csv line 3, aht: got '' \(expected an aht on"):
        load_profile_csv(path)
    path.write_text("interval_start,task_type,volume,aht\n08:00,a,1,100\n08:30,a,2,-5\n")
    with pytest.raises(InvalidInputError, match=r"^p.csv line 3, aht: got '-5'"):
        load_profile_csv(path)
    path.write_text("interval_start,task_type,volume,aht\n08:00,a,1,\n08:30,a,2,\n")
    assert load_profile_csv(path)[0].aht is None


# ---------------------------------------------------------------- scenarios


def test_scenario_arrivals_follow_the_forecast_calls() -> None:
    forecast = read_forecast(EXAMPLES / "forecast_day.csv")
    scenario = scenario_from_forecast(forecast, staffing=20)
    (arrivals,) = scenario.arrivals
    width = 900.0
    assert scenario.interval_minutes == 15
    assert scenario.horizon_seconds == len(forecast.calls) * width
    expected = [
        arrivals.rate_per_second((i + 0.5) * width) * width for i in range(len(forecast.calls))
    ]
    assert expected == pytest.approx(list(forecast.calls), rel=1e-12)
    assert arrivals.rate_per_second(scenario.horizon_seconds) == 0.0

    # The process the scenario runs: mean arrivals per interval over many
    # days, each within 4.5 standard errors of the forecast's calls.
    days = 300
    counts = np.zeros(len(forecast.calls))
    for day in range(days):
        rng = RandomStreams(seed=11).replication(day).generator("arrivals", "voice")
        times = np.array([a.time for a in arrivals.generate(rng=rng)])
        counts += np.bincount((times // width).astype(int), minlength=len(forecast.calls))
    mean = counts / days
    standard_error = np.sqrt(forecast.calls / days)
    assert np.all(np.abs(mean - forecast.calls) <= 4.5 * standard_error)


def test_simulated_offered_calls_match_the_forecast_total() -> None:
    forecast = _forecast([40, 80, 120, 60], minutes=30, aht=[180] * 4)
    scenario = scenario_from_forecast(forecast, staffing=[8, 12, 16, 10])
    result = simulate(scenario, replications=30, seed=2, executor=InlineExecutor())
    offered = result.summary["voice"]["offered"]
    assert offered["ci_low"] <= 300.0 <= offered["ci_high"]
    per_interval = np.zeros(4)
    for replication in result.replications:
        for row in replication.intervals:
            per_interval[int(row["interval_start"] // 1800)] += row["offered"]
    mean = per_interval / 30
    assert np.all(np.abs(mean - forecast.calls) <= 4.5 * np.sqrt(forecast.calls / 30))


def test_headcount_is_the_staffing_tables_agents() -> None:
    forecast = read_forecast(EXAMPLES / "forecast_day.csv")
    assert forecast.aht is not None
    table = staff_intervals(
        forecast.calls, interval=900, aht=forecast.aht, service_level=0.8, awt=20, shrinkage=0.3
    )
    scenario = scenario_from_forecast(forecast, staffing=table)
    (group,) = scenario.agent_groups
    assert group.headcount == [int(n) for n in table.agents]
    assert group.headcount != [int(n) for n in table.scheduled]  # shrinkage is not simulated
    assert scenario.headcount_minutes(group) == 15
    # Without a staffing, Erlang C for the service-level target, per interval.
    default = scenario_from_forecast(forecast)
    assert default.agent_groups[0].headcount == group.headcount


def test_staffing_as_a_list_or_one_count() -> None:
    forecast = _forecast([10, 20, 30], minutes=60, aht=[300, 300, 300])
    listed = scenario_from_forecast(forecast, staffing=[2, 3, 4])
    assert listed.agent_groups[0].headcount == [2, 3, 4]
    assert listed.agent_groups[0].count is None
    flat = scenario_from_forecast(forecast, staffing=5)
    assert flat.agent_groups[0].count == 5
    assert flat.agent_groups[0].headcount == []
    assert scenario_from_forecast(forecast, staffing=np.array([1, 2, 3])).agent_groups[
        0
    ].headcount == [1, 2, 3]


@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=500, allow_nan=False),
            st.floats(min_value=1, max_value=3600, allow_nan=False),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_handle_time_is_the_calls_weighted_mean_aht(rows: list[tuple[float, float]]) -> None:
    calls = [c for c, _ in rows]
    aht = [h for _, h in rows]
    forecast = _forecast(calls, aht=aht)
    scenario = scenario_from_forecast(forecast, staffing=1, interval_minutes=15)
    handle = scenario.task_types[0].handle
    total = sum(calls)
    expected = sum(c * h for c, h in rows) / total if total > 0 else sum(aht) / len(aht)
    assert handle.kind == "exponential"
    assert handle.mean == pytest.approx(expected, rel=1e-9)


def test_rows_without_aht_take_the_default_and_a_given_handle_is_kept() -> None:
    forecast = read_forecast(["interval,calls,aht", "08:00,10,100", "08:15,30,"])
    assert scenario_from_forecast(forecast, staffing=3, aht=300).task_types[0].handle.mean == 250.0
    handle = {"kind": "lognormal", "mean_seconds": 200, "cv": 1.5}
    kept = scenario_from_forecast(forecast, staffing=3, handle=handle)
    assert kept.task_types[0].handle.kind == "lognormal"
    assert kept.task_types[0].handle.mean == 200.0
    with pytest.raises(InvalidInputError, match=r"^aht: .*08:15"):
        scenario_from_forecast(forecast, staffing=3)


def test_targets_skills_patience_and_channel_reach_the_scenario() -> None:
    scenario = scenario_from_forecast(
        _forecast([10, 10]),
        staffing=2,
        task_type="claims",
        channel="email",
        aht=120,
        patience={"kind": "exponential", "mean_seconds": 90},
        service_level=(0.9, 3600),
        skills={"claims": 2},
        name="claims day",
    )
    (task,) = scenario.task_types
    (group,) = scenario.agent_groups
    assert (task.name, task.channel, task.sla_seconds, task.skills) == (
        "claims",
        "email",
        3600,
        {"claims": 2},
    )
    assert task.patience is not None
    assert task.patience.mean == 90
    assert group.capacity == {"email": 1}
    assert group.skills == {"claims": 2}
    assert scenario.name == "claims day"
    assert scenario.arrivals[0].task_type == "claims"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("staffing", "field"),
    [
        ([3, 3], "staffing: got '2 counts' (expected 3, one per interval"),
        ([3, 3, 3, 3], "staffing: got '4 counts'"),
        ([3, -1, 3], "staffing.1: got -1 (expected an agent count, an integer from 0 to 100000)"),
        ([3, 2.5, 3], "staffing.1: got 2.5"),
        ([3, True, 3], "staffing.1: got True"),
        (
            [3, 100_001, 3],
            "staffing.1: got 100001 (expected an agent count, an integer from 0 to 100000",
        ),
        (
            10**400,
            "staffing: got <integer of about 401 digits> (expected an agent count from 0 to 100000",
        ),
        (-2, "staffing: got -2"),
        (True, "staffing: got True"),
        ("3", "staffing: got 'str'"),
    ],
)
def test_bad_staffing_is_refused_naming_the_field(staffing: object, field: str) -> None:
    forecast = _forecast([10, 20, 30], aht=[200] * 3)
    with pytest.raises(InvalidInputError) as error:
        scenario_from_forecast(forecast, staffing=staffing)  # type: ignore[arg-type]
    assert str(error.value).startswith(field)


def test_a_staffing_table_of_another_forecast_length_is_refused() -> None:
    forecast = _forecast([10, 20, 30], aht=[200] * 3)
    table = staff_intervals([10, 20], interval=900, aht=200, service_level=0.8, awt=20)
    with pytest.raises(InvalidInputError, match=r"^staffing.agents: got '2 counts' \(expected 3"):
        scenario_from_forecast(forecast, staffing=table)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            ("08:00", "08:15", "08:45"),
            r"^forecast.labels.2: got '08:45' \(expected 08:30: intervals evenly spaced by 15",
        ),
        (
            ("08:00", "08:10", "08:20"),
            r"^forecast.labels.1: got '08:10' \(expected a start 15, 30 or 60 minutes",
        ),
        (("08:00", "lunch", "09:00"), r"^forecast.labels.1: got 'lunch' \(expected a time of day"),
        (
            ("a", "b", "c"),
            r"^interval_minutes: got None \(expected 15, 30 or 60: the forecast's labels",
        ),
    ],
)
def test_uneven_or_unreadable_intervals_are_refused(labels: tuple[str, ...], message: str) -> None:
    forecast = Forecast(labels=labels, calls=np.array([1.0, 2.0, 3.0]), aht=None)
    with pytest.raises(InvalidInputError, match=message):
        profile_from_forecast(forecast, task_type="voice")
    with pytest.raises(InvalidInputError, match=message):
        scenario_from_forecast(forecast, staffing=1, aht=100)


def test_labels_that_are_names_need_the_interval_length() -> None:
    forecast = Forecast(labels=("a", "b"), calls=np.array([4.0, 8.0]), aht=None)
    scenario = scenario_from_forecast(forecast, staffing=1, aht=100, interval_minutes=60)
    assert scenario.horizon_seconds == 7200
    assert scenario.interval_minutes == 60
    with pytest.raises(
        InvalidInputError, match=r"^interval_minutes: got 20 \(expected 15, 30 or 60\)"
    ):
        scenario_from_forecast(forecast, staffing=1, aht=100, interval_minutes=20)  # type: ignore[arg-type]
    single = _forecast([5.0])
    with pytest.raises(InvalidInputError, match=r"^interval_minutes: .*one interval"):
        profile_from_forecast(single, task_type="voice")


def test_labels_that_disagree_with_the_interval_length_are_refused() -> None:
    forecast = _forecast([1, 2, 3], minutes=30)
    with pytest.raises(
        InvalidInputError, match=r"^forecast.labels.1: got '08:30' \(expected 08:15"
    ):
        profile_from_forecast(forecast, task_type="voice", interval_minutes=15)


@pytest.mark.parametrize(
    "level", [(1.0, 20), (0.8, -1), (0.8, math.inf), (0.8,), "0.8/20", (True, 20), (0.8, "20")]
)
def test_a_bad_service_level_is_refused(level: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^service_level: got .* \(expected a pair"):
        scenario_from_forecast(_forecast([1, 2], aht=[60, 60]), staffing=1, service_level=level)  # type: ignore[arg-type]


def test_a_bad_forecast_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"^forecast: got 'dict'"):
        scenario_from_forecast({"calls": [1]}, staffing=1)  # type: ignore[arg-type]
    broken = Forecast(labels=("08:00", "08:15"), calls=np.array([1.0, -3.0]), aht=None)
    with pytest.raises(InvalidInputError, match=r"^forecast.calls.1: got -3.0"):
        profile_from_forecast(broken, task_type="voice")
    short = Forecast(labels=("08:00", "08:15"), calls=np.array([1.0]), aht=None)
    with pytest.raises(InvalidInputError, match=r"^forecast.calls: "):
        profile_from_forecast(short, task_type="voice")
    zero = Forecast(
        labels=("08:00", "08:15"), calls=np.array([1.0, 1.0]), aht=np.array([60.0, 0.0])
    )
    with pytest.raises(InvalidInputError, match=r"^forecast.aht.1: got 0.0"):
        scenario_from_forecast(zero, staffing=1)


def test_bad_profiles_to_write_are_refused(tmp_path: Path) -> None:
    looped = ProfileArrivals(task_type="a", interval_minutes=60, volumes=[1, 2], repeat=2)
    with pytest.raises(InvalidInputError, match=r"^profiles.0.repeat: got 2"):
        write_profile_csv(looped, tmp_path / "p.csv")
    twice = ProfileArrivals(task_type="a", interval_minutes=60, volumes=[1, 2])
    with pytest.raises(InvalidInputError, match=r"^profiles.1.task_type: got 'a'"):
        write_profile_csv([twice, twice], tmp_path / "p.csv")
    with pytest.raises(InvalidInputError, match=r"^profiles: got \[\]"):
        write_profile_csv([], tmp_path / "p.csv")
    with pytest.raises(InvalidInputError, match=r"^path: "):
        write_profile_csv(twice, tmp_path / "missing" / "p.csv")
    assert not (tmp_path / "p.csv").exists()


# ------------------------------------------------------------ scenario files


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=12),
    task_type=_names,
    skill=_names,
    patience=st.none() | st.floats(min_value=0.001, max_value=1e5),
    awt=st.floats(min_value=0, max_value=1e5),
    staff=st.integers(min_value=0, max_value=500),
)
def test_scenario_files_load_back_equal(
    calls: list[float],
    task_type: str,
    skill: str,
    patience: float | None,
    awt: float,
    staff: int,
    tmp_path: Path,
) -> None:
    scenario = scenario_from_forecast(
        _forecast(calls, aht=[123.25] * len(calls)),
        staffing=[staff] * len(calls),
        task_type=task_type,
        channel=skill,
        skills={skill: 1.5},
        patience=None if patience is None else {"kind": "exponential", "mean_seconds": patience},
        service_level=(0.8, awt),
        interval_minutes=15,
    )
    assert parse_scenario(scenario_to_toml(scenario)) == scenario
    for suffix in (".toml", ".json"):
        assert load_scenario(write_scenario(scenario, tmp_path / f"day{suffix}")) == scenario


def test_a_name_ending_in_a_newline_is_quoted_in_a_scenario_file() -> None:
    # "$" in a pattern also matches before a final newline: such a name was
    # written as a bare key and the file did not parse.
    scenario = scenario_from_forecast(
        _forecast([3.0], aht=[123.25]),
        staffing=[1],
        task_type="calls",
        channel="voice",
        skills={"0\n": 1.5},
        interval_minutes=15,
    )
    text = scenario_to_toml(scenario)
    assert '"0\\n" = 1.5' in text
    assert parse_scenario(text) == scenario


@pytest.mark.parametrize("source", ["demo", str(EXAMPLES / "backoffice_day.toml")])
def test_other_scenarios_load_back_equal(source: str, tmp_path: Path) -> None:
    scenario = load_bundled(source)
    assert parse_scenario(scenario_to_toml(scenario)) == scenario
    assert load_scenario(write_scenario(scenario, tmp_path / "copy.json")) == scenario


def test_file_paths_in_a_scenario_are_written_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trace.csv").write_text("time,task_type\n1,a\n")
    scenario = Scenario.model_validate(
        {
            "horizon_seconds": 60,
            "task_types": [{"name": "a", "handle": {"kind": "deterministic", "value_seconds": 1}}],
            "arrivals": [{"kind": "trace", "path": "trace.csv"}],
            "agent_groups": [{"name": "g", "count": 1}],
        }
    )
    (tmp_path / "elsewhere").mkdir()
    copy = load_scenario(write_scenario(scenario, tmp_path / "elsewhere" / "s.toml"))
    assert Path(copy.arrivals[0].path) == tmp_path / "trace.csv"


def test_a_null_toml_cannot_hold_is_refused_not_dropped(tmp_path: Path) -> None:
    scenario = scenario_from_forecast(_forecast([1, 2], aht=[60, 60]), staffing=1)
    with_null = scenario.with_routing(selection_params={"unused": None}, agent_selection="random")
    with pytest.raises(
        InvalidInputError,
        match=r"^routing.selection_params.unused: got None \(expected a value TOML can hold",
    ):
        write_scenario(with_null, tmp_path / "s.toml")
    assert not (tmp_path / "s.toml").exists()
    assert load_scenario(write_scenario(with_null, tmp_path / "s.json")) == with_null


def test_infinite_parameters_are_written_as_infinite(tmp_path: Path) -> None:
    scenario = scenario_from_forecast(_forecast([1, 2], aht=[60, 60]), staffing=1)
    data = scenario.model_dump(exclude_none=True)
    data["routing"] = {
        "policy": "users.code:policy",
        "policy_params": {"cap": math.inf, "low": -math.inf},
    }
    coded = Scenario.model_validate(data)
    assert parse_scenario(scenario_to_toml(coded)) == coded
    assert load_scenario(write_scenario(coded, tmp_path / "s.json")) == coded
    odd = coded.with_routing(policy_params={"when": object()})
    with pytest.raises(
        InvalidInputError, match=r"^scenario: got .* \(expected values JSON can hold\)"
    ):
        write_scenario(odd, tmp_path / "odd.json")
    with pytest.raises(InvalidInputError, match=r"^routing.policy_params.when: got 'object'"):
        scenario_to_toml(odd)


def test_bad_scenario_files_are_refused(tmp_path: Path) -> None:
    scenario = scenario_from_forecast(_forecast([1, 2], aht=[60, 60]), staffing=1)
    with pytest.raises(
        InvalidInputError, match=r"^path: got .* \(expected a file ending in .toml or .json\)"
    ):
        write_scenario(scenario, tmp_path / "s.yaml")
    with pytest.raises(InvalidInputError, match=r"^scenario: got 'dict'"):
        scenario_to_toml({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^path: "):
        write_scenario(scenario, tmp_path / "no" / "s.toml")


# ---------------------------------------------------------------- Erlang C


def test_simulated_service_level_agrees_with_erlang_c() -> None:
    """A flat day staffed by Erlang C for 80 % in 20 s simulates Erlang C's service level.

    Sixteen hours of 300 calls an hour with exponential 240 s handling (20
    Erlangs), no abandonment, the first hour left out as warm-up. The
    confidence interval must cover Erlang C's service level for the staffed
    headcount, and be narrow enough that one agent fewer or more would fall
    outside it: a headcount, volume or handle time off by a little fails.
    """
    hours, calls, aht, awt = 16, 300.0, 240.0, 20.0
    forecast = Forecast(
        labels=tuple(f"{h:02d}:00" for h in range(6, 6 + hours)),
        calls=np.full(hours, calls),
        aht=np.full(hours, aht),
    )
    table = staff_intervals(
        forecast.calls, interval=3600, aht=forecast.aht, service_level=0.8, awt=awt
    )
    agents = int(table.agents[0])
    assert set(table.agents.tolist()) == {agents}
    scenario = scenario_from_forecast(forecast, staffing=table, service_level=(0.8, awt))
    scenario = Scenario.model_validate(
        {**scenario.model_dump(exclude_none=True), "warmup_seconds": 3600.0}
    )
    result = simulate(scenario, replications=20, seed=5, executor=InlineExecutor())
    level = result.summary["all"]["service_level"]
    traffic = calls * aht / 3600.0
    expected = service_level(agents, traffic, aht=aht, awt=awt)
    assert level["ci_low"] <= expected <= level["ci_high"]
    for neighbour in (agents - 1, agents + 1):
        other = service_level(neighbour, traffic, aht=aht, awt=awt)
        assert not level["ci_low"] <= other <= level["ci_high"]


def test_simulated_service_level_follows_erlang_c_when_aht_changes() -> None:
    """Each half of a day with two handle times simulates its own Erlang C service level.

    Eight hours of 300 calls at 150 s, then eight of 200 calls at 360 s,
    staffed per hour by Erlang C. Each half (its first hour left out) must
    simulate the service level Erlang C gives its headcount, which only
    holds when each call's handle time follows the aht of its interval: at
    the calls-weighted mean aht (234 s) the first half would be overloaded.
    """
    calls = [300.0] * 8 + [200.0] * 8
    aht = [150.0] * 8 + [360.0] * 8
    forecast = Forecast(
        labels=tuple(f"{h:02d}:00" for h in range(6, 22)),
        calls=np.array(calls),
        aht=np.array(aht),
    )
    table = staff_intervals(
        forecast.calls, interval=3600, aht=forecast.aht, service_level=0.8, awt=20
    )
    scenario = scenario_from_forecast(forecast, staffing=table)
    result = simulate(scenario, replications=20, seed=8, executor=InlineExecutor())
    for hours in (range(1, 8), range(9, 16)):
        levels = []
        for replication in result.replications:
            rows = [r for r in replication.intervals if int(r["interval_start"] // 3600) in hours]
            closed = sum(r["answered"] + r["abandoned"] for r in rows)
            levels.append(sum(r["answered_within"] for r in rows) / closed)
        mean, half = mean_ci(levels)
        first = hours[0]
        agents = int(table.agents[first])
        traffic = calls[first] * aht[first] / 3600.0
        expected = service_level(agents, traffic, aht=aht[first], awt=20)
        assert mean - half <= expected <= mean + half, (hours, mean, half, expected)
        for neighbour in (agents - 1, agents + 1):
            other = service_level(neighbour, traffic, aht=aht[first], awt=20)
            assert not mean - half <= other <= mean + half


# ------------------------------------------------------------ hostile input

_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=300),
    st.binary(max_size=10),
    st.lists(st.integers(-5, 50), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.tuples(st.floats(), st.floats()),
    st.builds(np.array, st.lists(st.floats(), max_size=3)),
    st.builds(object),
)
_ARGUMENTS = [
    "staffing",
    "task_type",
    "channel",
    "handle",
    "aht",
    "patience",
    "service_level",
    "skills",
    "name",
    "interval_minutes",
    "replications",
    "seed",
]


@settings(max_examples=400, deadline=None)
@given(argument=st.sampled_from(_ARGUMENTS), value=_ANY)
def test_any_argument_is_accepted_or_refused_with_a_short_error(
    argument: str, value: object
) -> None:
    forecast = Forecast(
        labels=("08:00", "08:15"), calls=np.array([3.0, 4.0]), aht=np.array([100.0, np.nan])
    )
    arguments: dict[str, object] = {"staffing": 2, "aht": 60, argument: value}
    refused: InvalidInputError | None = None
    try:
        scenario = scenario_from_forecast(forecast, **arguments)  # type: ignore[arg-type]
    except InvalidInputError as error:
        refused = error
    if refused is None:
        assert parse_scenario(scenario_to_toml(scenario)) == scenario
    else:
        assert len(str(refused)) < 1500


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["forecast", "labels", "calls", "aht"]), value=_ANY)
def test_any_forecast_is_read_or_refused_with_a_short_error(field: str, value: object) -> None:
    parts: dict[str, object] = {
        "labels": ("08:00", "08:15"),
        "calls": np.array([3.0, 4.0]),
        "aht": None,
    }
    forecast = value if field == "forecast" else Forecast(**{**parts, field: value})  # type: ignore[arg-type]
    for build in (
        lambda: profile_from_forecast(forecast, task_type="voice", aht=60),  # type: ignore[arg-type]
        lambda: scenario_from_forecast(forecast, staffing=1, aht=60),  # type: ignore[arg-type]
    ):
        refused: InvalidInputError | None = None
        try:
            build()
        except InvalidInputError as error:
            refused = error
        assert refused is None or len(str(refused)) < 1500


def test_an_unreadable_forecast_file_is_refused_naming_the_forecast(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"^forecast: cannot read forecast"):
        scenario_from_forecast(tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("interval,calls\n08:00,many\n")
    with pytest.raises(
        InvalidInputError, match=r"^forecast: forecast line 2: calls must be a number"
    ):
        profile_from_forecast(str(tmp_path / "bad.csv"), task_type="voice")


def test_loads_beyond_any_operation_are_refused() -> None:
    huge = _forecast([1e300, 2.0], aht=[60, 60])
    with pytest.raises(
        InvalidInputError,
        match=r"^forecast.calls.0: got 1e\+300 \(expected a number from 0 to 1e\+09",
    ):
        scenario_from_forecast(huge, staffing=1)
    heavy = _forecast([1e9, 1e9], aht=[1e6, 1e6])
    with pytest.raises(
        InvalidInputError,
        match=r"^forecast: got 1111111111111.111 \(expected a load of at most 100000 Erlangs",
    ):
        scenario_from_forecast(heavy)
    # The distribution itself refuses a mean no duration has (MAX_DURATION_SECONDS).
    with pytest.raises(InvalidInputError, match=r"^handle: Exponential.mean_seconds: got 1e\+300"):
        scenario_from_forecast(
            _forecast([1, 2]), handle={"kind": "exponential", "mean_seconds": 1e300}
        )
