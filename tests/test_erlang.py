"""Erlang B/C/A and staffing against independent references.

References computed here, never taken from the module under test:
- mpmath at 60 digits for Erlang B and C (the defining sums, or the
  regularised incomplete gamma function for large cases);
- the birth–death chain of M/M/n and M/M/n+M on a truncated state space,
  its stationary distribution solved with numpy's linear algebra;
- the tagged caller's absorbing chain (served / abandoned), solved with a
  matrix exponential (scipy) for waiting-time probabilities and with the
  fundamental matrix for mean waits;
- published Erlang B table entries and the widely reproduced Erlang C worked
  example (360 calls per half hour, 4-minute calls, 55 agents).
"""

from __future__ import annotations

import io
import json
import math

import mpmath
import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from valueroute.erlang import (
    ErlangAResult,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    halfin_whitt_beta,
    occupancy,
    read_forecast,
    required_agents,
    scheduled_agents,
    service_level,
    sqrt_staffing,
    staff_intervals,
)
from valueroute.errors import ErlangError, ValueRouteError

mpmath.mp.dps = 60


# --------------------------------------------------------------------------
# independent references


def mp_erlang_b(n: int, traffic: float) -> mpmath.mpf:
    a = mpmath.mpf(traffic)
    if n <= 400:
        term = mpmath.mpf(1)
        total = mpmath.mpf(1)
        for k in range(1, n + 1):
            term = term * a / k
            total += term
        return term / total
    # Large n: Poisson pmf over its cdf, through the incomplete gamma function.
    log_pmf = n * mpmath.log(a) - a - mpmath.loggamma(n + 1)
    cdf = mpmath.gammainc(n + 1, a, mpmath.inf, regularized=True)
    return mpmath.exp(log_pmf) / cdf


def mp_erlang_c(n: int, traffic: float) -> mpmath.mpf:
    if n <= traffic:
        return mpmath.mpf(1)
    b = mp_erlang_b(n, traffic)
    return n * b / (n - traffic * (1 - b))


def chain_distribution(
    n: int, arrival: float, serve: float, theta: float, states: int
) -> np.ndarray:
    """Stationary distribution of the birth–death chain of M/M/n(+M), solved as πQ = 0."""
    generator = np.zeros((states, states))
    for k in range(states):
        if k + 1 < states:
            generator[k, k + 1] = arrival
        if k > 0:
            generator[k, k - 1] = min(k, n) * serve + max(k - n, 0) * theta
        generator[k, k] = -generator[k].sum()
    system = generator.T.copy()
    system[-1, :] = 1.0
    right = np.zeros(states)
    right[-1] = 1.0
    distribution = np.linalg.solve(system, right)
    assert distribution[-1] < 1e-14, "truncation too tight for this reference"
    return distribution


def tagged_caller(n: int, serve: float, theta: float, ahead: int) -> tuple[np.ndarray, np.ndarray]:
    """Transient generator of a caller with 0..ahead callers in front; rates to 'served'."""
    size = ahead + 1
    transient = np.zeros((size, size))
    to_served = np.zeros(size)
    for i in range(size):
        advance = n * serve + i * theta  # a server frees up or someone ahead abandons
        if i == 0:
            to_served[i] = advance
        else:
            transient[i, i - 1] = advance
        transient[i, i] = -(advance + theta)  # the caller's own abandonment
    return transient, to_served


def chain_measures(
    n: int, traffic: float, *, aht: float, patience: float | None, awt: float, states: int = 400
) -> dict[str, float]:
    arrival = traffic / aht
    serve = 1.0 / aht
    theta = 0.0 if patience is None else 1.0 / patience
    pi = chain_distribution(n, arrival, serve, theta, states)
    k = np.arange(states)
    queue = np.maximum(k - n, 0)
    p_wait = float(pi[n:].sum())
    mean_queue = float((queue * pi).sum())
    ahead = states - n - 1
    transient, to_served = tagged_caller(n, serve, theta, ahead)
    fundamental = np.linalg.inv(-transient)
    p_served = fundamental @ to_served
    served_time = fundamental @ p_served  # E[wait · 1{served}] from each position
    full = np.zeros((ahead + 2, ahead + 2))
    full[: ahead + 1, : ahead + 1] = transient
    full[: ahead + 1, -1] = to_served
    served_by_awt = scipy.linalg.expm(full * awt)[: ahead + 1, -1]
    arriving = pi[n:]  # PASTA: an arrival finds n + j with probability π_{n+j}
    p_answered = float(pi[:n].sum() + (arriving * p_served).sum())
    within = float(pi[:n].sum() + (arriving * served_by_awt).sum())
    busy = float((np.minimum(k, n) * pi).sum())
    return {
        "p_wait": p_wait,
        "mean_queue": mean_queue,
        "mean_wait": mean_queue / arrival,
        "p_abandon": theta * mean_queue / arrival,
        "p_answered": p_answered,
        "asa": float((arriving * served_time).sum()) / p_answered if n else math.inf,
        "service_level_offered": within,
        "service_level_answered": within / p_answered if n else 0.0,
        "occupancy": busy / n if n else 0.0,
    }


# --------------------------------------------------------------------------
# Erlang B


@pytest.mark.parametrize(
    ("trunks", "blocking", "max_traffic"),
    [(10, 0.01, 4.46), (10, 0.02, 5.08), (20, 0.01, 12.03), (100, 0.01, 84.06)],
)
def test_erlang_b_matches_published_table(trunks: int, blocking: float, max_traffic: float) -> None:
    # Tables list the largest load (two decimals) that keeps blocking at the grade.
    assert erlang_b(trunks, max_traffic) <= blocking < erlang_b(trunks, max_traffic + 0.01)


@given(n=st.integers(0, 300), traffic=st.floats(1e-3, 400.0))
def test_erlang_b_matches_mpmath(n: int, traffic: float) -> None:
    expected = float(mp_erlang_b(n, traffic))
    assert erlang_b(n, traffic) == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize(
    ("n", "traffic"),
    [(20000, 20000.0), (20000, 19500.0), (20000, 20500.0), (19000, 20000.0), (20000, 100.0)],
)
def test_erlang_b_large_cases_are_finite_and_match_mpmath(n: int, traffic: float) -> None:
    value = erlang_b(n, traffic)
    assert math.isfinite(value)
    assert value == pytest.approx(float(mp_erlang_b(n, traffic)), rel=1e-9, abs=1e-300)


def test_erlang_b_limits() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    assert erlang_b(0, 0.0) == 1.0


# --------------------------------------------------------------------------
# Erlang C


def test_erlang_c_worked_example() -> None:
    # 360 calls per half hour, 4-minute calls: 48 Erlangs on 55 agents, 15-second target.
    traffic = 360 * 240.0 / 1800.0
    assert erlang_c(55, traffic) == pytest.approx(0.2387, abs=5e-5)
    assert average_speed_of_answer(55, traffic, aht=240.0) == pytest.approx(8.18, abs=0.005)
    assert service_level(55, traffic, aht=240.0, awt=15.0) == pytest.approx(0.8459, abs=5e-5)
    assert occupancy(55, traffic) == pytest.approx(0.8727, abs=5e-5)


@given(n=st.integers(1, 300), load=st.floats(0.01, 0.999))
def test_erlang_c_matches_mpmath(n: int, load: float) -> None:
    traffic = n * load
    expected = float(mp_erlang_c(n, traffic))
    assert erlang_c(n, traffic) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("n", "traffic"), [(20000, 19900.0), (20000, 19999.0), (10000, 9800.5)])
def test_erlang_c_large_cases_match_mpmath(n: int, traffic: float) -> None:
    assert erlang_c(n, traffic) == pytest.approx(float(mp_erlang_c(n, traffic)), rel=1e-9)


@given(
    n=st.integers(1, 25),
    load=st.floats(0.05, 0.9),
    aht=st.floats(30.0, 600.0),
    awt=st.floats(0.0, 120.0),
)
def test_erlang_c_measures_match_the_chain(n: int, load: float, aht: float, awt: float) -> None:
    traffic = n * load
    states = n + 60 + int(40.0 / (1.0 - load))
    pi = chain_distribution(n, traffic / aht, 1.0 / aht, 0.0, states)
    j = np.arange(states - n)
    # Ahead of an arrival at n + j are j callers: it waits j + 1 service completions at rate n/aht.
    answered_in_time = (
        pi[:n].sum() + (pi[n:] * scipy.stats.gamma.cdf(awt, j + 1, scale=aht / n)).sum()
    )
    mean_queue = (j * pi[n:]).sum()
    assert erlang_c(n, traffic) == pytest.approx(pi[n:].sum(), rel=1e-9)
    assert service_level(n, traffic, aht=aht, awt=awt) == pytest.approx(answered_in_time, abs=1e-9)
    # Little's law: mean queue = arrival rate × mean wait.
    asa = average_speed_of_answer(n, traffic, aht=aht)
    assert mean_queue == pytest.approx(traffic / aht * asa, rel=1e-8, abs=1e-12)


def test_unstable_erlang_c_returns_documented_limits() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.5) == 1.0
    assert service_level(10, 12.5, aht=180.0, awt=20.0) == 0.0
    assert average_speed_of_answer(10, 10.0, aht=180.0) == math.inf
    assert occupancy(10, 12.5) == 1.0
    assert occupancy(0, 0.0) == 0.0


@given(n=st.integers(1, 200), traffic=st.floats(0.1, 200.0), awt=st.floats(0.0, 60.0))
def test_erlang_measures_are_monotone_in_agents(n: int, traffic: float, awt: float) -> None:
    agents = np.array([n, n + 1])
    blocking = erlang_b(agents, traffic)
    waiting = erlang_c(agents, traffic)
    level = service_level(agents, traffic, aht=180.0, awt=awt)
    speed = average_speed_of_answer(agents, traffic, aht=180.0)
    assert blocking[1] <= blocking[0]
    assert waiting[1] <= waiting[0]
    assert level[1] >= level[0]
    assert speed[1] <= speed[0]


def test_arrays_broadcast_and_scalars_give_floats() -> None:
    assert isinstance(erlang_c(12, 10.0), float)
    grid = erlang_c(np.array([[11], [12], [13]]), np.array([9.0, 10.0]))
    assert grid.shape == (3, 2)
    for row, n in enumerate((11, 12, 13)):
        for column, traffic in enumerate((9.0, 10.0)):
            assert grid[row, column] == erlang_c(n, traffic)
    result = erlang_a([10, 11], 10.0, aht=180.0, patience=120.0, awt=20.0)
    assert result.p_wait.shape == (2,)
    assert isinstance(erlang_a(10, 10.0, aht=180.0, patience=120.0).p_wait, float)


# --------------------------------------------------------------------------
# Erlang A


@given(
    n=st.integers(0, 12),
    load=st.floats(0.1, 2.0),
    aht=st.floats(100.0, 400.0),
    patience=st.floats(10.0, 300.0),
    awt=st.floats(0.0, 90.0),
)
def test_erlang_a_matches_the_chain(
    n: int, load: float, aht: float, patience: float, awt: float
) -> None:
    traffic = max(n, 1) * load
    result = erlang_a(n, traffic, aht=aht, patience=patience, awt=awt)
    # Queue states past n + λ·patience·(a few) carry no mass; keep the reference exact.
    arrival = traffic / aht
    beyond_mode = max(0.0, (arrival - n / aht) * patience)
    states = n + int(beyond_mode + 15 * math.sqrt(arrival * patience + 1)) + 60
    expected = chain_measures(n, traffic, aht=aht, patience=patience, awt=awt, states=states)
    assert result.p_wait == pytest.approx(expected["p_wait"], rel=1e-8)
    assert result.mean_queue == pytest.approx(expected["mean_queue"], rel=1e-8, abs=1e-12)
    assert result.p_abandon == pytest.approx(expected["p_abandon"], rel=1e-8, abs=1e-12)
    assert result.service_level_offered == pytest.approx(
        expected["service_level_offered"], abs=1e-8
    )
    assert result.occupancy == pytest.approx(expected["occupancy"], rel=1e-8, abs=1e-12)
    if n > 0:
        assert result.asa == pytest.approx(expected["asa"], rel=1e-7, abs=1e-9)
        assert result.service_level_answered == pytest.approx(
            expected["service_level_answered"], abs=1e-8
        )
    else:
        assert result.asa == math.inf
        assert result.service_level_answered == 0.0


@given(
    n=st.integers(1, 60),
    load=st.floats(0.1, 1.5),
    patience=st.floats(5.0, 2000.0),
)
def test_erlang_a_identities(n: int, load: float, patience: float) -> None:
    aht = 200.0
    traffic = n * load
    result = erlang_a(n, traffic, aht=aht, patience=patience, awt=15.0)
    # P(abandon) = θ · E[wait over all calls]; Little's law: E[queue] = λ · E[wait].
    assert result.p_abandon == pytest.approx(result.mean_wait / patience, rel=1e-12)
    assert result.mean_queue == pytest.approx(traffic / aht * result.mean_wait, rel=1e-12)
    # Carried load: busy agents = A · P(answered).
    assert result.occupancy * n == pytest.approx(traffic * (1.0 - result.p_abandon), rel=1e-9)
    assert 0.0 <= result.service_level_offered <= result.service_level_answered <= 1.0
    assert result.p_abandon <= result.p_wait


@given(n=st.integers(1, 300), load=st.floats(0.05, 0.97), awt=st.floats(0.0, 60.0))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(n: int, load: float, awt: float) -> None:
    traffic = n * load
    aht = 180.0
    result = erlang_a(n, traffic, aht=aht, patience=aht * 1e7, awt=awt)
    assert result.p_wait == pytest.approx(erlang_c(n, traffic), rel=1e-4, abs=1e-12)
    assert result.service_level_offered == pytest.approx(
        service_level(n, traffic, aht=aht, awt=awt), abs=1e-4
    )
    asa = average_speed_of_answer(n, traffic, aht=aht)
    assert result.asa == pytest.approx(asa, rel=1e-3, abs=1e-9)
    assert result.p_abandon < 1e-4


@given(
    n=st.integers(1, 100),
    load=st.floats(0.1, 1.6),
    patience=st.floats(10.0, 600.0),
    awt=st.floats(0.0, 60.0),
)
def test_erlang_a_is_monotone_in_agents(n: int, load: float, patience: float, awt: float) -> None:
    traffic = n * load
    result = erlang_a(np.array([n, n + 1]), traffic, aht=240.0, patience=patience, awt=awt)
    assert result.p_wait[1] <= result.p_wait[0]
    assert result.p_abandon[1] <= result.p_abandon[0]
    assert result.asa[1] <= result.asa[0] * (1 + 1e-12)
    # Near 1 the two values can differ in the last bits only; allow rounding, nothing more.
    assert result.service_level_offered[1] >= result.service_level_offered[0] - 1e-12
    assert result.service_level_answered[1] >= result.service_level_answered[0] - 1e-12


def test_erlang_a_is_finite_for_twenty_thousand_agents() -> None:
    result = erlang_a(20000, 20000.0, aht=300.0, patience=180.0, awt=20.0)
    for name in ("p_wait", "p_abandon", "mean_wait", "asa", "service_level_offered", "occupancy"):
        assert math.isfinite(getattr(result, name)), name
    assert 0.0 < result.p_abandon < result.p_wait < 1.0
    # Far above the load it reduces to Erlang C (no one waits long enough to abandon).
    calm = erlang_a(20000, 19000.0, aht=300.0, patience=1e9, awt=20.0)
    assert calm.p_wait == pytest.approx(float(mp_erlang_c(20000, 19000.0)), rel=1e-6, abs=1e-300)


def test_erlang_a_without_traffic() -> None:
    result = erlang_a(3, 0.0, aht=180.0, patience=60.0, awt=20.0)
    assert result == ErlangAResult(0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0)


# --------------------------------------------------------------------------
# staffing


def brute_force_minimum(meets: object, start: int = 0) -> int:
    n = start
    while not meets(n):  # type: ignore[operator]
        n += 1
    return n


@given(
    traffic=st.floats(0.05, 150.0),
    target=st.floats(0.5, 0.99),
    awt=st.floats(1.0, 60.0),
    aht=st.floats(30.0, 600.0),
)
def test_service_level_staffing_is_the_true_minimum(
    traffic: float, target: float, awt: float, aht: float
) -> None:
    n = required_agents(traffic, aht=aht, service_level=target, awt=awt)
    assert service_level(n, traffic, aht=aht, awt=awt) >= target
    assert service_level(n - 1, traffic, aht=aht, awt=awt) < target
    assert n == brute_force_minimum(
        lambda m: m > 0 and service_level(m, traffic, aht=aht, awt=awt) >= target
    )


@given(traffic=st.floats(0.05, 150.0), asa=st.floats(1.0, 120.0), cap=st.floats(0.5, 1.0))
def test_asa_and_occupancy_staffing_is_the_true_minimum(
    traffic: float, asa: float, cap: float
) -> None:
    n = required_agents(traffic, aht=180.0, asa=asa, max_occupancy=cap)

    def meets(m: int) -> bool:
        return (
            m > 0 and average_speed_of_answer(m, traffic, aht=180.0) <= asa and traffic / m <= cap
        )

    assert meets(n)
    assert not meets(n - 1)


@given(
    traffic=st.floats(0.1, 60.0),
    patience=st.floats(10.0, 600.0),
    target=st.floats(0.5, 0.95),
    abandon=st.floats(0.005, 0.3),
    definition=st.sampled_from(["offered", "answered"]),
)
def test_erlang_a_staffing_is_the_true_minimum(
    traffic: float, patience: float, target: float, abandon: float, definition: str
) -> None:
    kwargs = {"aht": 240.0, "patience": patience}
    n = required_agents(
        traffic,
        service_level=target,
        awt=20.0,
        abandon=abandon,
        definition=definition,  # type: ignore[arg-type]
        **kwargs,
    )

    def meets(m: int) -> bool:
        if m == 0:
            return False
        result = erlang_a(m, traffic, awt=20.0, **kwargs)
        return bool(result.service_level(definition) >= target and result.p_abandon <= abandon)  # type: ignore[arg-type]

    assert meets(n)
    assert not meets(n - 1)
    assert n == brute_force_minimum(meets)


def test_worked_staffing_example() -> None:
    # 100 calls in half an hour, 3-minute calls: 10 Erlangs; 80 % within 20 s needs 14.
    assert required_agents(10.0, aht=180.0, service_level=0.8, awt=20.0) == 14
    assert service_level(13, 10.0, aht=180.0, awt=20.0) < 0.8


def test_staffing_is_vectorised_and_zero_traffic_needs_nobody() -> None:
    loads = np.array([0.0, 5.0, 48.0, 2000.0])
    staff = required_agents(loads, aht=240.0, service_level=0.8, awt=15.0)
    assert staff.dtype == np.int64
    assert staff[0] == 0
    for load, n in zip(loads[1:], staff[1:], strict=True):
        assert n == required_agents(float(load), aht=240.0, service_level=0.8, awt=15.0)


def test_large_staffing_finds_a_minimum() -> None:
    n = required_agents(20000.0, aht=300.0, service_level=0.8, awt=20.0)
    assert (
        service_level(n, 20000.0, aht=300.0, awt=20.0)
        >= 0.8
        > service_level(n - 1, 20000.0, aht=300.0, awt=20.0)
    )


@given(p_wait=st.floats(0.01, 0.99))
def test_halfin_whitt_beta_solves_its_equation(p_wait: float) -> None:
    beta = halfin_whitt_beta(p_wait)
    phi = scipy.stats.norm.pdf(beta)
    big_phi = scipy.stats.norm.cdf(beta)
    assert 1.0 / (1.0 + beta * big_phi / phi) == pytest.approx(p_wait, abs=1e-9)


def test_square_root_staffing_tracks_the_exact_answer_for_large_loads() -> None:
    # Halfin–Whitt: P(wait) at A + β√A tends to the limit as A grows.
    beta = halfin_whitt_beta(0.2)
    for traffic in (400.0, 4000.0):
        n = sqrt_staffing(traffic, beta=beta)
        assert n == math.ceil(traffic + beta * math.sqrt(traffic))
        assert erlang_c(n, traffic) == pytest.approx(0.2, abs=0.02)


def test_shrinkage_scales_up_the_schedule() -> None:
    assert scheduled_agents(14, shrinkage=0.3) == 20
    assert scheduled_agents(14, shrinkage=0.0) == 14
    assert list(scheduled_agents(np.array([0, 7, 10]), shrinkage=0.25)) == [0, 10, 14]


# --------------------------------------------------------------------------
# forecasts


FORECAST = "interval,calls,aht\n08:00,120,200\n08:15,0,\n08:30,300,240\n"


def test_staffing_table_for_a_forecast() -> None:
    forecast = read_forecast(io.StringIO(FORECAST))
    assert forecast.labels == ("08:00", "08:15", "08:30")
    handles = np.where(np.isnan(forecast.aht), 180.0, forecast.aht)
    table = staff_intervals(
        forecast.calls,
        interval=900.0,
        aht=handles,
        labels=forecast.labels,
        service_level=0.8,
        awt=20.0,
        shrinkage=0.3,
    )
    loads = forecast.calls * handles / 900.0
    assert list(table.traffic) == pytest.approx(list(loads))
    for index, load in enumerate(loads):
        expected = required_agents(
            float(load), aht=float(handles[index]), service_level=0.8, awt=20.0
        )
        assert table.agents[index] == expected
        assert table.scheduled[index] == scheduled_agents(expected, shrinkage=0.3)
    assert table.agents[1] == 0
    assert table.service_level[1] == 1.0
    assert abs(table.sqrt_agents - table.agents).max() <= 2
    document = json.loads(table.to_json())
    assert [row["agents"] for row in document["rows"]] == list(table.agents)
    assert document["totals"]["peak_agents"] == int(table.agents.max())
    lines = table.to_csv().splitlines()
    assert lines[0].startswith("interval,calls,aht,traffic,agents,sqrt_agents,scheduled")
    assert len(lines) == 4


def test_staffing_table_with_patience_reports_abandonment() -> None:
    table = staff_intervals(
        [50.0, 400.0], interval=1800.0, aht=300.0, service_level=0.8, awt=20.0, patience=120.0
    )
    assert table.p_abandon is not None
    for index, load in enumerate(table.traffic):
        n = required_agents(float(load), aht=300.0, service_level=0.8, awt=20.0, patience=120.0)
        assert table.agents[index] == n
        result = erlang_a(n, float(load), aht=300.0, patience=120.0, awt=20.0)
        assert table.p_abandon[index] == result.p_abandon


# --------------------------------------------------------------------------
# invalid input


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: erlang_b(5, -1.0), "traffic must be finite and >= 0; got -1.0"),
        (lambda: erlang_c(2.5, 1.0), "agents must be a whole number"),
        (lambda: erlang_c(-1, 1.0), "agents must be finite and >= 0"),
        (lambda: erlang_c(3, float("nan")), "traffic must be finite"),
        (lambda: erlang_b(3, "many"), "traffic must be a number"),
        (lambda: service_level(3, 1.0, aht=0.0, awt=20.0), "aht must be finite and > 0; got 0.0"),
        (lambda: service_level(3, 1.0, aht=180.0, awt=-1.0), "awt must be finite and >= 0"),
        (lambda: erlang_a(3, 1.0, aht=180.0, patience=0.0), "patience must be finite and > 0"),
        (lambda: erlang_a(3, 1.0, aht=180.0, patience=math.inf), "patience must be finite"),
        (lambda: required_agents(10.0, aht=180.0), "no staffing target"),
        (lambda: required_agents(10.0, aht=180.0, service_level=0.8), "needs awt"),
        (lambda: required_agents(10.0, aht=180.0, service_level=1.2, awt=20.0), "service_level"),
        (lambda: required_agents(10.0, aht=180.0, abandon=0.05), "needs patience"),
        (lambda: required_agents(10.0, aht=180.0, asa=-3.0), "asa must be finite and > 0"),
        (lambda: scheduled_agents(10, shrinkage=1.0), "shrinkage must be in [0, 1)"),
        (lambda: read_forecast(io.StringIO("time,volume\n1,2\n")), "missing ['interval', 'calls']"),
        (lambda: read_forecast(io.StringIO("interval,calls\n1,-2\n")), "line 2: calls must be"),
        (lambda: read_forecast(io.StringIO("interval,calls\n")), "forecast has no rows"),
        (
            lambda: staff_intervals([1.0], interval=0.0, aht=180.0, asa=20.0),
            "interval must be finite and > 0",
        ),
    ],
)
def test_invalid_input_raises_erlang_error(call: object, fragment: str) -> None:
    with pytest.raises(ErlangError) as caught:
        call()  # type: ignore[operator]
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueRouteError)
    assert isinstance(caught.value, ValueError)


def test_patience_too_long_for_erlang_a_is_refused_not_approximated() -> None:
    with pytest.raises(ErlangError, match="use Erlang C"):
        erlang_a(1, 5000.0, aht=10.0, patience=1e9)


def test_docstring_examples_hold() -> None:
    import doctest

    import valueroute.erlang

    failures, attempted = doctest.testmod(valueroute.erlang)
    assert attempted >= 6
    assert failures == 0
