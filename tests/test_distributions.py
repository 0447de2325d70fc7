"""Distributions: parameters, analytic means, and draws checked against scipy.stats."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from scipy import stats

from valueroute.errors import InvalidInputError
from valueroute.sim.distributions import (
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Sampler,
    Uniform,
    distribution_from,
)

N = 20_000
# With fixed seeds a KS p-value below this would be a one-in-a-thousand event
# for a correct sampler; a wrong parameterisation gives p-values near 0.
P_MIN = 1e-3


def _mean_within(draws: np.ndarray, mean: float, std: float) -> None:
    standard_error = std / math.sqrt(draws.size)
    assert abs(draws.mean() - mean) < 5 * standard_error


# ---------------------------------------------------------------- references


REFERENCES: list[tuple[Any, Any]] = [
    (Exponential(mean_seconds=120), stats.expon(scale=120)),
    (Uniform(low_seconds=10, high_seconds=70), stats.uniform(loc=10, scale=60)),
    (Gamma(shape=2.5, scale_seconds=40), stats.gamma(a=2.5, scale=40)),
]


@pytest.mark.parametrize(("distribution", "reference"), REFERENCES, ids=lambda v: str(v)[:30])
def test_draws_follow_the_reference_cdf(distribution: Any, reference: Any) -> None:
    draws = distribution.sample(np.random.default_rng(11), size=N)
    assert stats.kstest(draws, reference.cdf).pvalue > P_MIN
    assert distribution.mean == pytest.approx(reference.mean())
    _mean_within(draws, reference.mean(), reference.std())


@pytest.mark.parametrize(("mean", "cv"), [(180.0, 1.2), (30.0, 0.25), (600.0, 3.0)])
def test_lognormal_has_the_stated_mean_and_cv(mean: float, cv: float) -> None:
    d = Lognormal(mean_seconds=mean, cv=cv)
    # scipy's lognorm(s=sigma, scale=exp(mu)) is the reference for what mu and
    # sigma mean; its own mean and std must then be the ones asked for.
    reference = stats.lognorm(s=d.sigma, scale=math.exp(d.mu))
    assert reference.mean() == pytest.approx(mean, rel=1e-12)
    assert reference.std() / reference.mean() == pytest.approx(cv, rel=1e-12)
    draws = d.sample(np.random.default_rng(5), size=N)
    assert stats.kstest(draws, reference.cdf).pvalue > P_MIN
    # The median of a lognormal is exp(mu): a moment-free check that survives
    # heavy tails (cv = 3), with the binomial standard error of a median.
    below = np.mean(draws < math.exp(d.mu))
    assert abs(below - 0.5) < 5 * 0.5 / math.sqrt(N)


@pytest.mark.parametrize(("mean", "cv"), [(200.0, 0.5), (90.0, 1.0), (50.0, 2.0)])
def test_gamma_by_mean_and_cv_matches_scipy(mean: float, cv: float) -> None:
    d = Gamma(mean_seconds=mean, cv=cv)
    reference = stats.gamma(a=d.shape_parameter, scale=d.scale_parameter)
    assert reference.mean() == pytest.approx(mean)
    assert reference.std() / reference.mean() == pytest.approx(cv)
    assert d.mean == pytest.approx(mean)
    draws = d.sample(np.random.default_rng(3), size=N)
    assert stats.kstest(draws, reference.cdf).pvalue > P_MIN
    _mean_within(draws, mean, mean * cv)


def test_exponential_with_cv_one_gamma_is_the_same_law() -> None:
    draws = Gamma(mean_seconds=60, cv=1).sample(np.random.default_rng(8), size=N)
    assert stats.kstest(draws, stats.expon(scale=60).cdf).pvalue > P_MIN


def test_a_wrong_reference_is_rejected() -> None:
    # The KS check used above does have power: a 10 % error in the mean fails.
    draws = Exponential(mean_seconds=120).sample(np.random.default_rng(11), size=N)
    assert stats.kstest(draws, stats.expon(scale=132).cdf).pvalue < P_MIN


def test_deterministic_returns_its_value_and_consumes_no_randomness() -> None:
    rng = np.random.default_rng(4)
    before = rng.bit_generator.state
    d = Deterministic(value_seconds=42)
    assert d.sample(rng) == 42.0
    assert np.array_equal(d.sample(rng, size=5), np.full(5, 42.0))
    assert rng.bit_generator.state == before
    assert d.mean == 42.0


def test_single_draw_is_a_float_and_size_gives_an_array() -> None:
    rng = np.random.default_rng(1)
    assert isinstance(Exponential(mean_seconds=1).sample(rng), float)
    many = Exponential(mean_seconds=1).sample(rng, size=3)
    assert isinstance(many, np.ndarray)
    assert many.shape == (3,)
    assert many.dtype == np.float64
    assert Exponential(mean_seconds=1).sample(rng, size=0).shape == (0,)


# ---------------------------------------------------------------- empirical


def test_empirical_resampling_frequencies_match_the_samples() -> None:
    d = Empirical(samples_seconds=[5, 1, 2, 2])
    draws = d.sample(np.random.default_rng(9), size=N)
    values, counts = np.unique(draws, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 5.0]
    expected = np.array([0.25, 0.5, 0.25]) * N
    assert stats.chisquare(counts, expected).pvalue > P_MIN
    assert d.mean == 2.5


def test_empirical_interpolated_follows_the_piecewise_linear_ecdf() -> None:
    samples = np.array([3.0, 10.0, 0.0, 4.0, 20.0, 4.5])
    d = Empirical(samples_seconds=samples.tolist(), interpolate=True)
    knots = np.sort(samples)
    levels = np.linspace(0.0, 1.0, knots.size)

    def cdf(x: np.ndarray) -> np.ndarray:
        return np.interp(x, knots, levels)

    draws = d.sample(np.random.default_rng(21), size=N)
    assert draws.min() >= 0.0
    assert draws.max() <= 20.0
    assert stats.kstest(draws, cdf).pvalue > P_MIN
    # Mean of the mixture of uniforms on neighbouring order statistics.
    segment_means = (knots[:-1] + knots[1:]) / 2
    assert d.mean == pytest.approx(segment_means.mean())
    variance = np.mean((knots[1:] ** 3 - knots[:-1] ** 3) / (3 * np.diff(knots))) - d.mean**2
    _mean_within(draws, d.mean, math.sqrt(variance))


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=40), st.booleans())
def test_empirical_draws_stay_within_the_samples_range(samples: list[float], interp: bool) -> None:
    d = Empirical(samples_seconds=samples, interpolate=interp)
    draws = d.sample(np.random.default_rng(0), size=200)
    assert draws.min() >= min(samples)
    assert draws.max() <= max(samples)
    slack = 1e-9 * max(1.0, max(samples))
    assert min(samples) - slack <= d.mean <= max(samples) + slack
    if not interp:
        assert set(draws.tolist()) <= set(samples)


def test_single_sample_empirical_is_deterministic() -> None:
    for interp in (False, True):
        d = Empirical(samples_seconds=[7], interpolate=interp)
        assert d.mean == 7.0
        assert d.sample(np.random.default_rng(0), size=3).tolist() == [7.0, 7.0, 7.0]


# ---------------------------------------------------------------- sampler


DISTRIBUTIONS = st.sampled_from(
    [
        Exponential(mean_seconds=3),
        Uniform(low_seconds=1, high_seconds=2),
        Lognormal(mean_seconds=100, cv=0.7),
        Gamma(mean_seconds=10, cv=2),
        Empirical(samples_seconds=[1, 4, 9]),
        Empirical(samples_seconds=[1, 4, 9], interpolate=True),
        Deterministic(value_seconds=2),
    ]
)


@given(DISTRIBUTIONS, st.integers(1, 50), st.integers(0, 200), st.integers(0, 2**32))
def test_sampler_yields_exactly_the_block_draws(
    distribution: Any, block: int, count: int, seed: int
) -> None:
    sampler = Sampler(distribution, np.random.default_rng(seed), block=block)
    one_at_a_time = [sampler.draw() for _ in range(count)]
    rng = np.random.default_rng(seed)
    blocks = [distribution.sample(rng, size=block) for _ in range(count // block + 1)]
    assert one_at_a_time == np.concatenate(blocks)[:count].tolist()


def test_sampler_take_continues_the_same_stream() -> None:
    d = Exponential(mean_seconds=1)
    first = d.sampler(np.random.default_rng(2), block=4)
    second = d.sampler(np.random.default_rng(2), block=4)
    assert [first.draw() for _ in range(3)] + first.take(7) == second.take(10)


@pytest.mark.parametrize("block", [0, -1, 1.5, True, 1 << 21])
def test_sampler_rejects_bad_block(block: Any) -> None:
    with pytest.raises(InvalidInputError, match="block"):
        Sampler(Exponential(mean_seconds=1), np.random.default_rng(0), block=block)


def test_sampler_rejects_a_missing_generator() -> None:
    with pytest.raises(InvalidInputError, match="rng"):
        Sampler(Exponential(mean_seconds=1), None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "exponential", "mean_seconds": -1}, "mean_seconds"),
        ({"kind": "exponential", "mean_seconds": 0}, "mean_seconds"),
        ({"kind": "exponential", "mean_seconds": math.inf}, "mean_seconds"),
        ({"kind": "exponential", "mean_seconds": math.nan}, "mean_seconds"),
        ({"kind": "exponential"}, "mean_seconds"),
        ({"kind": "deterministic", "value_seconds": -0.5}, "value_seconds"),
        ({"kind": "uniform", "low_seconds": 5, "high_seconds": 1}, "high_seconds"),
        ({"kind": "uniform", "low_seconds": -1, "high_seconds": 1}, "low_seconds"),
        ({"kind": "lognormal", "mean_seconds": 10, "cv": 0}, "cv"),
        ({"kind": "lognormal", "mean_seconds": 10, "cv": -2}, "cv"),
        ({"kind": "gamma", "mean_seconds": 10}, "cv"),
        ({"kind": "gamma", "shape": 2}, "scale_seconds"),
        ({"kind": "gamma", "mean_seconds": 10, "cv": 1, "shape": 2}, "shape"),
        ({"kind": "gamma", "shape": 0, "scale_seconds": 1}, "shape"),
        ({"kind": "empirical", "samples_seconds": []}, "samples_seconds"),
        ({"kind": "empirical", "samples_seconds": [1, math.nan]}, "samples_seconds"),
        ({"kind": "empirical", "samples_seconds": [1, -3]}, "samples_seconds"),
        ({"kind": "exponential", "mean_seconds": 1, "rate": 2}, "rate"),
        ({"kind": "weibull", "mean_seconds": 1}, "kind"),
        ({"mean_seconds": 1}, "kind"),
    ],
)
def test_bad_parameters_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field) as info:
        distribution_from(data)
    assert isinstance(info.value, ValueError)


def test_constructor_errors_name_the_field_and_value() -> None:
    with pytest.raises(InvalidInputError) as info:
        Lognormal(mean_seconds=-3, cv=1)
    assert info.value.errors[0][:2] == ("mean_seconds", -3)
    assert "mean_seconds" in str(info.value)
    assert "-3" in str(info.value)


@pytest.mark.parametrize("size", [-1, 1.5, "3", True])
def test_bad_size_is_refused(size: Any) -> None:
    with pytest.raises(InvalidInputError, match="size"):
        Exponential(mean_seconds=1).sample(np.random.default_rng(0), size=size)


def test_sampling_needs_a_generator() -> None:
    with pytest.raises(InvalidInputError, match="rng"):
        Deterministic(value_seconds=1).sample(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="rng"):
        Exponential(mean_seconds=1).sample(np.random.RandomState(0), size=2)  # type: ignore[arg-type]


def test_take_needs_a_count() -> None:
    sampler = Exponential(mean_seconds=1).sampler(np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="count"):
        sampler.take(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="count"):
        sampler.take(-1)
    assert sampler.take(0) == []


def test_not_a_mapping_or_not_json_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="JSON"):
        distribution_from("{not json")
    with pytest.raises(InvalidInputError, match="mapping"):
        distribution_from([1, 2])


@pytest.mark.parametrize(
    "distribution",
    [
        Exponential(mean_seconds=3),
        Deterministic(value_seconds=0),
        Uniform(low_seconds=1, high_seconds=1),
        Lognormal(mean_seconds=100, cv=0.7),
        Gamma(mean_seconds=10, cv=2),
        Gamma(shape=3, scale_seconds=0.5),
        Empirical(samples_seconds=[1, 4, 9], interpolate=True),
    ],
    ids=lambda d: d.kind,
)
def test_round_trip_through_json(distribution: Any) -> None:
    text = distribution.model_dump_json()
    assert json.loads(text)["kind"] == distribution.kind
    again = distribution_from(text)
    assert again == distribution
    assert again.mean == distribution.mean
    assert distribution_from(distribution.model_dump()) == distribution


def test_distributions_are_frozen() -> None:
    d = Exponential(mean_seconds=3)
    with pytest.raises(ValueError, match="frozen"):
        d.mean_seconds = 4  # type: ignore[misc]
    assert d.mean_seconds == 3


def test_a_scenario_model_embeds_distributions_and_names_the_bad_field() -> None:
    from valueroute.models import BoundaryModel
    from valueroute.sim.distributions import Distribution

    class TaskTypeSettings(BoundaryModel):
        handle: Distribution
        patience: Distribution | None = None

    settings = TaskTypeSettings.model_validate_json(
        '{"handle": {"kind": "gamma", "mean_seconds": 180, "cv": 0.8}}'
    )
    assert isinstance(settings.handle, Gamma)
    assert settings.handle.mean == 180
    with pytest.raises(InvalidInputError) as info:
        TaskTypeSettings(handle={"kind": "lognormal", "mean_seconds": 180, "cv": -1})
    message = str(info.value)
    assert "handle" in message
    assert "cv" in message
    assert "-1" in message


class SamplerMachine(RuleBasedStateMachine):
    """draw() and take() in any order hand out the block draws in order, none lost."""

    def __init__(self) -> None:
        super().__init__()
        self.distribution = Lognormal(mean_seconds=50, cv=0.9)
        self.sampler = Sampler(self.distribution, np.random.default_rng(77), block=5)
        reference_rng = np.random.default_rng(77)
        self.reference = np.concatenate(
            [self.distribution.sample(reference_rng, size=5) for _ in range(100)]
        ).tolist()
        self.handed_out: list[float] = []

    @rule()
    def draw(self) -> None:
        self.handed_out.append(self.sampler.draw())

    @rule(count=st.integers(0, 12))
    def take(self, count: int) -> None:
        self.handed_out.extend(self.sampler.take(count))

    @invariant()
    def the_stream_so_far_is_the_reference_prefix(self) -> None:
        self.sampler._check()
        assert self.handed_out == self.reference[: len(self.handed_out)]


TestSamplerMachine = SamplerMachine.TestCase


_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


@given(
    kind=st.sampled_from(["uniform", "gamma-moments", "gamma-shape", "lognormal", "empirical"]),
    a=_ANY_FLOAT,
    b=_ANY_FLOAT,
)
def test_any_parameters_give_a_finite_mean_and_draws_or_are_refused(
    kind: str, a: float, b: float
) -> None:
    from valueroute.errors import InvalidInputError
    from valueroute.sim.distributions import Empirical, Gamma, Lognormal, Uniform

    build = {
        "uniform": lambda: Uniform(low_seconds=a, high_seconds=b),
        "gamma-moments": lambda: Gamma(mean_seconds=a, cv=b),
        "gamma-shape": lambda: Gamma(shape=a, scale_seconds=b),
        "lognormal": lambda: Lognormal(mean_seconds=a, cv=b),
        "empirical": lambda: Empirical(samples_seconds=[a, b]),
    }[kind]
    try:
        distribution = build()
    except InvalidInputError:
        return
    assert math.isfinite(distribution.mean)
    draws = distribution.sample(np.random.default_rng(1), size=50)
    assert np.isfinite(draws).all()
    if kind.startswith("gamma"):
        assert math.isfinite(distribution.shape_parameter)
