"""Regression tests: Erlang functions and simulation entry points refuse bad input cleanly.

Each case here used to escape as a TypeError, OverflowError, ValueError,
KeyError or RuntimeWarning (an error under this suite's warning filter), or
to answer from an integer cast numpy calls undefined. Refusals must be the
module's own error (``ErlangError`` or ``InvalidInputError``), name the
argument and stay short whatever was handed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

from valueroute import erlang as e
from valueroute.errors import ErlangError, InvalidInputError, ValueRouteError

SHORT = 600
HUGE = 10**400
MEGABYTE_TEXT = "x" * 1_000_000


def refusal(call: Callable[[], object], kind: type[ValueRouteError], *names: str) -> str:
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert len(message) <= SHORT, message[:200]
    for name in names:
        assert name in message, message
    return message


# ---------------------------------------------------------------- Erlang: numbers no float holds

HUGE_ARGUMENTS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "erlang_b-agents": ("agents", lambda v: e.erlang_b(v, 5.0)),
    "erlang_b-traffic": ("traffic", lambda v: e.erlang_b(10, v)),
    "erlang_c-traffic": ("traffic", lambda v: e.erlang_c(10, v)),
    "erlang_a-aht": ("aht", lambda v: e.erlang_a(10, 5.0, aht=v, patience=60)),
    "erlang_a-patience": ("patience", lambda v: e.erlang_a(10, 5.0, aht=180, patience=v)),
    "occupancy-traffic": ("traffic", lambda v: e.occupancy(10, v)),
    "sqrt_staffing-traffic": ("traffic", lambda v: e.sqrt_staffing(v, beta=0.5)),
    "scheduled_agents-agents": ("agents", lambda v: e.scheduled_agents(v, shrinkage=0.1)),
    "required_agents-aht": (
        "aht",
        lambda v: e.required_agents(5.0, aht=v, service_level=0.8, awt=20),
    ),
    "required_agents-awt": (
        "awt",
        lambda v: e.required_agents(5.0, aht=180, service_level=0.8, awt=v),
    ),
    "required_agents-asa": ("asa", lambda v: e.required_agents(5.0, aht=180, asa=v)),
}


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("case", list(HUGE_ARGUMENTS))
def test_an_integer_no_float_holds_is_refused_naming_the_argument(case: str, sign: int) -> None:
    name, call = HUGE_ARGUMENTS[case]
    message = refusal(lambda: call(sign * HUGE), ErlangError, name)
    assert "401 digits" in message  # described by its size, not printed in full


# ---------------------------------------------------------------- Erlang: scalar arguments

SCALAR_ARGUMENTS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "required_agents-service_level": (
        "service_level",
        lambda v: e.required_agents(5.0, aht=180, service_level=v, awt=20),
    ),
    "required_agents-awt": (
        "awt",
        lambda v: e.required_agents(5.0, aht=180, service_level=0.8, awt=v),
    ),
    "required_agents-asa": ("asa", lambda v: e.required_agents(5.0, aht=180, asa=v)),
    "required_agents-max_occupancy": (
        "max_occupancy",
        lambda v: e.required_agents(5.0, aht=180, max_occupancy=v),
    ),
    "required_agents-abandon": (
        "abandon",
        lambda v: e.required_agents(5.0, aht=180, abandon=v, patience=60),
    ),
    "scheduled_agents-shrinkage": ("shrinkage", lambda v: e.scheduled_agents(10, shrinkage=v)),
    "halfin_whitt_beta-p_wait": ("p_wait", lambda v: e.halfin_whitt_beta(v)),
    "staff_intervals-interval": (
        "interval",
        lambda v: e.staff_intervals([10.0], interval=v, aht=180, service_level=0.8, awt=20),
    ),
    "staff_intervals-shrinkage": (
        "shrinkage",
        lambda v: e.staff_intervals(
            [10.0], interval=900, aht=180, service_level=0.8, awt=20, shrinkage=v
        ),
    ),
}
NOT_REAL_NUMBERS: dict[str, Any] = {
    "text": "0.5",
    "megabyte-text": MEGABYTE_TEXT,
    "bytes": b"0.5",
    "list": [0.5],
    "complex": 0.5j,
    "bool": False,  # 0.0 to float(): a shrinkage or an awt it took
}


@pytest.mark.parametrize("value", list(NOT_REAL_NUMBERS))
@pytest.mark.parametrize("case", list(SCALAR_ARGUMENTS))
def test_a_scalar_argument_that_is_not_a_real_number_is_refused(case: str, value: str) -> None:
    # Text that reads as a number ("0.5") is refused too: these are numbers, not strings.
    name, call = SCALAR_ARGUMENTS[case]
    refusal(lambda: call(NOT_REAL_NUMBERS[value]), ErlangError, name)


@pytest.mark.parametrize("case", ["halfin_whitt_beta-p_wait", "staff_intervals-interval"])
def test_a_required_scalar_given_as_none_is_refused(case: str) -> None:
    name, call = SCALAR_ARGUMENTS[case]
    refusal(lambda: call(None), ErlangError, name, "None")


def test_a_service_level_definition_of_a_megabyte_is_refused_in_a_short_message() -> None:
    refusal(
        lambda: e.required_agents(
            5.0,
            aht=180,
            service_level=0.8,
            awt=20,
            patience=60,
            definition=MEGABYTE_TEXT,  # type: ignore[arg-type]
        ),
        ErlangError,
        "definition",
    )
    result = e.erlang_a(10, 5.0, aht=180, patience=60)
    refusal(lambda: result.service_level(MEGABYTE_TEXT), ErlangError, "definition")  # type: ignore[arg-type]


# ---------------------------------------------------------------- Erlang: extreme traffic


def _erlang_b_reference(n: int, traffic: float) -> float:
    with mpmath.workdps(40):
        a = mpmath.mpf(traffic)
        term = mpmath.mpf(1)
        total = term
        for k in range(1, n + 1):
            term = term * a / k
            total += term
        return float(term / total)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), traffic=st.floats(1e18, 1.7976931348623157e308))
def test_erlang_b_far_beyond_its_agents_matches_mpmath(n: int, traffic: float) -> None:
    # Traffic past 9.2e18 has no int64 floor: the window bounds were cast from
    # values numpy calls invalid (a RuntimeWarning) and only happened to work.
    blocking = e.erlang_b(n, traffic)
    assert blocking == pytest.approx(_erlang_b_reference(n, traffic), rel=1e-12, abs=0.0)
    waiting = e.erlang_c(n, traffic)
    assert waiting == 1.0  # unstable: every call waits


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), traffic=st.floats(1e18, 1e300))
def test_erlang_a_far_beyond_its_agents_answers_or_refuses_naming_patience(
    n: int, traffic: float
) -> None:
    try:
        result = e.erlang_a(n, traffic, aht=180.0, patience=60.0)
    except ErlangError as error:
        message = str(error)
        assert "patience" in message
        assert len(message) <= SHORT
    else:
        assert result.p_wait == pytest.approx(1.0)


def test_erlang_b_refuses_a_sum_too_long_to_evaluate_naming_agents_and_traffic() -> None:
    # With agents 12√A above a traffic of 4e10 the window would hold about 4.8
    # million terms (hundreds of MB); at 1e14 Erlangs it would be 240 million.
    for agents, traffic in ((40_002_400_000, 4e10), (10**14 + 10**8, 1e14)):
        refusal(partial(e.erlang_b, agents, traffic), ErlangError, "agents", "traffic")
        refusal(partial(e.erlang_c, agents, traffic), ErlangError, "agents", "traffic")
    # An unstable queue needs no sum: every call waits.
    assert e.erlang_c(10**14, 1e14) == 1.0
    # Far from each other the window is short and the answer exact.
    assert e.erlang_b(10**14, 5.0) == 0.0
    assert e.erlang_b(20_000, 20_000.0) == pytest.approx(_erlang_b_reference(20_000, 20_000.0))


def test_agents_beyond_2_to_the_53_are_refused() -> None:
    # 1e19 agents do not fit an int64: the cast gave a negative count.
    for call in (
        lambda: e.erlang_b(1e19, 5.0),
        lambda: e.erlang_c(np.array([10.0, 1e19]), 5.0),
        lambda: e.scheduled_agents(1e19, shrinkage=0.1),
    ):
        refusal(call, ErlangError, "agents", "2**53")
    assert e.erlang_b(e.MAX_AGENTS, 5.0) == 0.0


def test_answers_of_more_agents_than_a_count_holds_are_refused() -> None:
    refusal(lambda: e.sqrt_staffing(1e6, beta=1e300), ErlangError, "beta")
    refusal(lambda: e.scheduled_agents(10**15, shrinkage=0.9999), ErlangError, "shrinkage")
    assert e.scheduled_agents(10**12, shrinkage=0.5) == 2 * 10**12


@pytest.mark.parametrize("traffic", [1e308, 1.0000001e10, [5.0, 1e20]])
def test_staffing_refuses_traffic_beyond_its_limit(traffic: Any) -> None:
    refusal(
        lambda: e.required_agents(traffic, aht=180, service_level=0.8, awt=20),
        ErlangError,
        "traffic",
        "1e+10",
    )
    refusal(lambda: e.required_agents(traffic, aht=180, max_occupancy=0.9), ErlangError, "traffic")
    refusal(lambda: e.sqrt_staffing(traffic, beta=0.5), ErlangError, "traffic")


def test_staffing_at_its_traffic_limit_answers() -> None:
    agents = e.required_agents(e.MAX_STAFFING_TRAFFIC, aht=180, service_level=0.8, awt=20)
    assert e.MAX_STAFFING_TRAFFIC < agents < e.MAX_STAFFING_TRAFFIC + 1000


@pytest.mark.parametrize("calls", [[1e308], [10.0, 1e300]])
def test_staff_intervals_refuses_calls_whose_load_is_beyond_the_limit(calls: list[float]) -> None:
    refusal(
        lambda: e.staff_intervals(calls, interval=900, aht=180, service_level=0.8, awt=20),
        ErlangError,
        "calls",
    )


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 50),
    load=st.floats(0.05, 0.95),
    awt=st.floats(1e200, 1.7976931348623157e308),
)
def test_a_wait_far_beyond_any_handle_time_meets_every_call(
    n: int, load: float, awt: float
) -> None:
    # (n − A)·awt overflowed to ∞ with a RuntimeWarning; e^−∞ = 0 is the right limit.
    assert e.service_level(n, n * load, aht=180.0, awt=awt) == 1.0


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 50), aht=st.floats(1e300, 1.7976931348623157e308))
def test_a_mean_wait_beyond_the_largest_float_is_infinite(n: int, aht: float) -> None:
    traffic = n - 1e-6
    speed = e.average_speed_of_answer(n, traffic, aht=aht)
    expected = e.erlang_c(n, traffic) * aht / (n - traffic)  # Python floats: ∞ without a warning
    assert speed == expected


@pytest.mark.parametrize(
    ("keywords", "name"),
    [
        ({"aht": 180.0, "patience": 1e-308}, "patience"),
        ({"aht": 1e-308, "patience": 60.0}, "aht"),
    ],
    ids=["patience-1e-308", "aht-1e-308"],
)
def test_erlang_a_refuses_rates_beyond_the_largest_float(
    keywords: dict[str, Any], name: str
) -> None:
    # 1/patience times the queue length overflowed (a RuntimeWarning); traffic/aht
    # and agents/aht both infinite made a NaN that int() refused (a ValueError).
    refusal(lambda: e.erlang_a(10, 5.0, **keywords), ErlangError, name)
    refusal(lambda: e.required_agents(5.0, abandon=0.1, **keywords), ErlangError, name)


def test_erlang_a_at_the_edge_of_its_time_range_reaches_its_limits() -> None:
    # Callers who abandon at once see Erlang B; agents who serve at once, Erlang C.
    assert e.erlang_a(10, 5.0, aht=180.0, patience=1e-100).p_wait == pytest.approx(
        e.erlang_b(10, 5.0), rel=1e-9
    )
    assert e.erlang_a(10, 5.0, aht=1e-100, patience=60.0).p_wait == pytest.approx(
        e.erlang_c(10, 5.0), rel=1e-9
    )


# ---------------------------------------------------------------- Erlang: shapes and forecasts


def test_arrays_that_do_not_broadcast_are_refused_naming_the_arguments() -> None:
    refusal(lambda: e.erlang_b([1, 2], [1.0, 2.0, 3.0]), ErlangError, "agents, traffic")
    refusal(
        lambda: e.service_level([10, 11], [5.0, 6.0, 7.0], aht=180, awt=20),
        ErlangError,
        "agents, traffic, aht, awt",
    )
    refusal(
        lambda: e.required_agents([5.0, 6.0], aht=[180.0, 200.0, 300.0], service_level=0.8, awt=20),
        ErlangError,
        "traffic, aht",
    )


def test_staff_intervals_refuses_an_aht_of_another_length() -> None:
    refusal(
        lambda: e.staff_intervals(
            [10.0], interval=900, aht=[180.0, 180.0], service_level=0.8, awt=20
        ),
        ErlangError,
        "aht",
    )


@pytest.mark.parametrize(
    "labels",
    [5, "ab", b"ab", [1], [None], [MEGABYTE_TEXT, 7]],
    ids=["int", "str", "bytes", "int-label", "none-label", "megabyte-then-int"],
)
def test_staff_intervals_refuses_labels_that_are_not_strings(labels: Any) -> None:
    refusal(
        lambda: e.staff_intervals(
            [10.0, 12.0] if labels != [1] and labels != [None] else [10.0],
            interval=900,
            aht=180,
            labels=labels,
            service_level=0.8,
            awt=20,
        ),
        ErlangError,
        "labels",
    )


@pytest.mark.parametrize(
    "source",
    [5, None, b"interval,calls\n", ["interval,calls", 5], ["interval,calls", "a," + "9" * 200_000]],
    ids=["int", "None", "bytes", "line-int", "field-beyond-the-csv-limit"],
)
def test_read_forecast_refuses_a_source_that_is_not_csv_text(source: Any) -> None:
    refusal(
        lambda: e.read_forecast(source),
        ErlangError,
        "forecast" if isinstance(source, list) else "source",
    )


def test_read_forecast_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "forecast.csv"
    path.write_bytes(b"interval,calls\n09:00,\xff\n")
    refusal(lambda: e.read_forecast(path), ErlangError, "UTF-8", "forecast.csv")


def test_read_forecast_shows_a_long_cell_cut_short() -> None:
    message = refusal(
        lambda: e.read_forecast(["interval,calls", "09:00," + "x" * 100_000]), ErlangError, "calls"
    )
    assert "line 2" in message


# ---------------------------------------------------------------- simulation entry points


def test_mean_ci_refuses_a_confidence_outside_0_1_naming_it() -> None:
    from valueroute.sim import mean_ci

    confidences: tuple[Any, ...] = (2.0, math.nan, 0.0, 1.0, "0.9", None, True, HUGE)
    for confidence in confidences:
        refusal(
            partial(mean_ci, [1.0, 2.0, 3.0], confidence=confidence),
            InvalidInputError,
            "confidence",
        )


def test_mean_ci_refuses_values_that_are_not_real_numbers() -> None:
    from valueroute.sim import mean_ci

    bad: tuple[Any, ...] = (["x", "y"], [1.0, None], [1.0, HUGE], [1.0, True], 5, "12")
    for values in bad:
        refusal(partial(mean_ci, values), InvalidInputError, "values")


@pytest.mark.parametrize("df", [10**78, 10**400], ids=["10**78", "10**400"])
def test_student_t_quantile_at_degrees_of_freedom_beyond_a_float_is_the_normal_one(
    df: int,
) -> None:
    from valueroute.sim import student_t_quantile

    # df**4 passed the largest float: an OverflowError.
    assert student_t_quantile(0.9, df) == pytest.approx(float(stats.norm.ppf(0.9)), rel=1e-12)


def test_interval_figures_refuse_what_is_not_a_replication() -> None:
    from valueroute.sim.metrics import interval_band, interval_series

    refusal(lambda: interval_series(5, "asa"), InvalidInputError, "replication")  # type: ignore[arg-type]
    refusal(lambda: interval_band(5, "asa"), InvalidInputError, "replications")  # type: ignore[arg-type]
    refusal(lambda: interval_band([5], "asa"), InvalidInputError, "replication")  # type: ignore[list-item]
    # The confidence is checked even when there is nothing to band.
    refusal(lambda: interval_band([], "asa", confidence=2.0), InvalidInputError, "confidence")


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30),
    confidence=st.floats(0.5, 0.99),
)
def test_mean_ci_still_matches_scipy(values: list[float], confidence: float) -> None:
    from valueroute.sim import mean_ci

    mean, half = mean_ci(values, confidence=confidence)
    assert mean == pytest.approx(float(np.mean(values)), rel=1e-9, abs=1e-9)
    spread = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    quantile = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1))
    # The Cornish–Fisher quantile is within 2e-3 relative for df >= 5 (documented).
    tolerance = 2e-3 if len(values) >= 6 else 6e-2
    assert half == pytest.approx(quantile * spread, rel=tolerance, abs=1e-9)


MINIMAL_SCENARIO: dict[str, Any] = {
    "horizon_seconds": 3600,
    "task_types": [{"name": "calls", "handle": {"kind": "exponential", "mean_seconds": 60}}],
    "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 30}],
    "agent_groups": [{"name": "agents", "count": 2}],
}


@pytest.fixture(scope="module")
def scenario() -> Any:
    from valueroute.sim import Scenario

    return Scenario.model_validate(MINIMAL_SCENARIO)


@pytest.mark.parametrize("replications", [10_001, HUGE], ids=["10001", "10**400"])
def test_simulate_and_compare_refuse_more_replications_than_a_scenario_takes(
    scenario: Any, replications: int
) -> None:
    from valueroute.sim import compare, simulate

    message = refusal(
        lambda: simulate(scenario, replications=replications),
        InvalidInputError,
        "replications",
        "10,000",
    )
    assert len(message) < 200
    refusal(
        lambda: compare(scenario, policies=["fifo", "edd"], replications=replications),
        InvalidInputError,
        "replications",
    )


@pytest.mark.parametrize(
    "policies",
    [5, None, {"policy": "fifo"}, b"fifo", iter(["fifo", "edd"])],
    ids=["int", "None", "mapping", "bytes", "iterator"],
)
def test_compare_refuses_policies_that_are_not_a_list(scenario: Any, policies: Any) -> None:
    from valueroute.sim import compare

    refusal(lambda: compare(scenario, policies=policies), InvalidInputError, "policies")


@pytest.mark.parametrize(
    "kpis",
    [["bogus"], [5], 5, "asa", [MEGABYTE_TEXT]],
    ids=["bogus", "int-kpi", "int", "str", "MB"],
)
def test_compare_refuses_unknown_kpis_before_running(
    scenario: Any, kpis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valueroute.sim import compare, run

    def no_run(*args: object, **kwargs: object) -> object:
        raise AssertionError("the comparison ran before its kpis were checked")

    monkeypatch.setattr(run, "_run_all", no_run)
    refusal(
        lambda: compare(scenario, policies=["fifo", "edd"], kpis=kpis), InvalidInputError, "kpis"
    )


def test_compare_refuses_a_bad_seed_and_a_non_scenario(scenario: Any) -> None:
    from valueroute.sim import compare

    seeds: tuple[Any, ...] = (-1, 1.5, "x", True)
    for seed in seeds:
        refusal(
            partial(compare, scenario, policies=["fifo", "edd"], seed=seed),
            InvalidInputError,
            "seed",
        )
    refusal(
        lambda: compare(dict(MINIMAL_SCENARIO), policies=["fifo", "edd"]),  # type: ignore[arg-type]
        InvalidInputError,
        "scenario",
    )


def test_compare_with_chosen_kpis_reports_exactly_those(scenario: Any) -> None:
    from valueroute.sim import InlineExecutor, compare

    result = compare(
        scenario, policies=["fifo", "edd"], replications=2, kpis=["asa"], executor=InlineExecutor()
    )
    assert set(result.differences["edd"]["all"]) == {"asa"}


@pytest.fixture(scope="module")
def result(scenario: Any) -> Any:
    from valueroute.sim import InlineExecutor, simulate

    return simulate(scenario, replications=2, executor=InlineExecutor())


@pytest.mark.parametrize(
    ("kpi", "task_type", "name"),
    [
        (5, "all", "kpi"),
        ("bogus", "all", "kpi"),
        ("asa", "bogus", "task_type"),
        ("asa", [], "task_type"),
    ],
    ids=["kpi-int", "kpi-bogus", "type-bogus", "type-list"],
)
def test_a_result_mean_refuses_an_unknown_kpi_or_type(
    result: Any, kpi: Any, task_type: Any, name: str
) -> None:
    # A KeyError (or a TypeError for a list) before.
    refusal(lambda: result.mean(kpi, task_type), InvalidInputError, name)
    assert result.mean("asa") == result.summary["all"]["asa"]["mean"]


@pytest.mark.parametrize("indent", [HUGE, -1, True, "  "], ids=["10**400", "-1", "bool", "str"])
def test_result_json_refuses_an_indent_that_is_not_a_small_integer(
    result: Any, indent: Any
) -> None:
    refusal(lambda: result.to_json(indent=indent), InvalidInputError, "indent")


def _unwritable_paths(tmp_path: Path) -> dict[str, Any]:
    existing_file = tmp_path / "file"
    existing_file.write_text("x")
    return {
        "int": 5,
        "bytes": b"out",
        "nul": str(tmp_path / "a\0b"),
        "surrogate": str(tmp_path / "\ud83d"),
        "too-long": str(tmp_path / ("x" * 5000)),
        "under-a-file": existing_file / "inside",
    }


@pytest.mark.parametrize("case", ["int", "bytes", "nul", "surrogate", "too-long", "under-a-file"])
def test_result_csv_refuses_a_directory_it_cannot_write(
    result: Any, tmp_path: Path, case: str
) -> None:
    directory = _unwritable_paths(tmp_path)[case]
    refusal(lambda: result.to_csv(directory), InvalidInputError, "directory")


@pytest.mark.parametrize(
    "case", ["int", "bytes", "nul", "surrogate", "too-long", "under-a-file", "unknown-format"]
)
def test_result_plot_refuses_a_path_it_cannot_write(result: Any, tmp_path: Path, case: str) -> None:
    pytest.importorskip("matplotlib")
    paths = {**_unwritable_paths(tmp_path), "unknown-format": tmp_path / "day.bogus"}
    refusal(lambda: result.plot(paths[case]), InvalidInputError, "path")


def test_result_plot_without_a_suffix_writes_png_at_exactly_that_path(
    result: Any, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    # It wrote day.png next to the path it returned, which did not exist.
    out = result.plot(tmp_path / "day")
    assert out == tmp_path / "day"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "day.png").exists()


@pytest.mark.parametrize("entry", ["simulate", "compare"])
def test_simulate_and_compare_refuse_an_executor_or_progress_of_the_wrong_kind(
    scenario: Any, entry: str
) -> None:
    from valueroute.sim import InlineExecutor, compare, simulate

    def run(**keywords: Any) -> object:
        if entry == "simulate":
            return simulate(scenario, replications=2, **keywords)
        return compare(scenario, policies=["fifo", "edd"], replications=2, **keywords)

    # An AttributeError ('int' has no submit) and, from compare, a TypeError after the runs.
    refusal(lambda: run(executor=5), InvalidInputError, "executor")
    refusal(lambda: run(executor=InlineExecutor(), progress=5), InvalidInputError, "progress")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), traffic=st.floats(5e-324, 1e-280))
def test_erlang_b_at_traffic_near_zero_matches_mpmath(n: int, traffic: float) -> None:
    # (n − i + 1)/A passed the largest float: an overflow warning, then a NaN.
    assert e.erlang_b(n, traffic) == pytest.approx(
        _erlang_b_reference(n, traffic), rel=1e-12, abs=0.0
    )


def test_erlang_a_with_an_arrival_rate_that_underflows_has_no_queue() -> None:
    # traffic/aht underflowed to 0 and math.log(0) raised "math domain error".
    result = e.erlang_a(10, 5e-324, aht=1e6, patience=60.0)
    assert (result.p_wait, result.p_abandon, result.occupancy) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("keywords", "name"),
    [
        ({"aht": 180.0, "patience": 1e300}, "patience"),
        ({"aht": 1e-101, "patience": 60.0}, "aht"),
        ({"aht": 1e-308, "patience": 1e10, "awt": 1e308}, "aht"),
        ({"aht": 1.7e308, "patience": 1.7e308, "awt": 1e10}, "aht"),
    ],
    ids=["patience-1e300", "aht-1e-101", "aht-1e-308-awt-1e308", "aht-and-patience-1.7e308"],
)
def test_erlang_a_refuses_times_beyond_its_range_naming_them(
    keywords: dict[str, Any], name: str
) -> None:
    # An OverflowError from int(inf), or overflow and invalid-value warnings.
    message = refusal(lambda: e.erlang_a(1, 0.5, **keywords), ErlangError, name)
    assert "1e-100" in message


def test_an_occupancy_cap_no_count_of_agents_meets_is_refused() -> None:
    # traffic / cap was infinite and math.ceil raised an OverflowError.
    refusal(
        lambda: e.required_agents(1e10, aht=180, max_occupancy=1e-300),
        ErlangError,
        "max_occupancy",
        "2**53",
    )


@pytest.mark.parametrize("asa", [5e-324, 1e-300, 1e-10])
def test_an_asa_target_below_a_nanosecond_is_refused_instead_of_searched_forever(
    asa: float,
) -> None:
    from valueroute.erlang import required_agents
    from valueroute.errors import ErlangError

    with pytest.raises(ErlangError, match="asa must be at least"):
        required_agents(1e6, aht=1e15, asa=asa)
    assert required_agents(1e6, aht=180, asa=1e-9) > 1e6
