"""The priority classes of the back-test: a centre with two classes is recovered, one class is
not enough for it, the high share is the count it claims to be, nothing leaks, bad input is
refused.

The logs are made by the library's simulator from a known centre with two
classes: high-priority callers with a 90 s head start (``aging_priority``)
and far more patience than the regular ones. The log records the class as
the bank's does: priority 2 for a high-priority caller who queued, priority
0 for every other call (a call answered at once shows priority 0 whatever
the customer). The truth the back-test is checked against is the
generating centre's figures on days simulated apart from the back-tested
log, read with the true class of every call.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_backtest import FIRST_DAY, altered, simulated_calls
from valueroute.backtest import (
    MIN_CLASS_CALLS,
    BacktestResult,
    Classes,
    Kpi,
    Roster,
    Supply,
    Tally,
    _day_arrivals,
    _Fits,
    _with_classes,
    run_backtest,
    tally_calls,
)
from valueroute.datasets import CallRecords, KaplanMeier, load_anonymous_bank
from valueroute.errors import InvalidInputError
from valueroute.sim.scenario import Scenario

OPEN, CLOSE = 8, 18
# Expected calls per hour: as many every hour, mostly high-priority callers in
# the morning and mostly regular ones in the afternoon (constant within each
# band of the day the back-test fits by: 07-10, 10-13, 13-16, 16-19).
REGULAR = [5, 5, 25, 25, 25, 55, 55, 55, 75, 75]
HIGH = [75, 75, 55, 55, 55, 25, 25, 25, 5, 5]
ROSTER = [6] * 10  # agents per hour
MEAN_HANDLE = 240.0
PATIENCE = {"regular": 120.0, "high": 1200.0}  # mean seconds, exponential
TRAIN_DAYS, PREDICT_DAYS, TRUTH_DAYS = 28, 7, 28
REPLICATIONS = 6


def hourly(values: list[int]) -> list[int]:
    return [0] * OPEN + values + [0] * (24 - CLOSE)


def two_class_calls(days: int, *, seed: int) -> tuple[CallRecords, npt.NDArray[np.bool_]]:
    """``days`` days of the two-class centre as a call log, and each call's true class
    (``True`` for high)."""
    scenario = Scenario.model_validate(
        {
            "name": "two_classes",
            "horizon_seconds": days * 86_400.0 + 3_600.0,
            "interval_minutes": 60,
            "seed": seed,
            "task_types": [
                {
                    "name": name,
                    "priority": 1 if name == "high" else 0,
                    "handle": {"kind": "exponential", "mean_seconds": MEAN_HANDLE},
                    "patience": {"kind": "exponential", "mean_seconds": PATIENCE[name]},
                }
                for name in ("regular", "high")
            ],
            "arrivals": [
                {
                    "kind": "profile",
                    "task_type": name,
                    "interval_minutes": 60,
                    "volumes": hourly(volumes),
                    "repeat": days,
                }
                for name, volumes in (("regular", REGULAR), ("high", HIGH))
            ],
            "agent_groups": [
                {"name": "agents", "headcount": hourly(ROSTER) * days + [0], "interval_minutes": 60}
            ],
            "routing": {"policy": "aging_priority", "policy_params": {"seconds_per_point": 90.0}},
        }
    )
    return simulated_calls(scenario, high_type="high")


# The figures compared: over all calls, for the calls of each class, and over all calls of
# the morning (08-10, mostly high-priority callers) and of the late afternoon (16-18, mostly
# regular ones), as (who, KPI).
Figure = tuple[str, Kpi]
FIGURES: tuple[Figure, ...] = (
    ("all", "queued_share"),
    ("all", "abandonment"),
    ("all", "mean_wait"),
    ("all", "service_level"),
    ("regular", "abandonment"),
    ("high", "abandonment"),
    ("regular", "mean_wait"),
    ("high", "mean_wait"),
    ("morning", "abandonment"),
    ("afternoon", "abandonment"),
)
# Columns of the evaluated hours (08-18) that make the morning and the afternoon.
PARTS = {"morning": slice(0, 2), "afternoon": slice(8, 10)}
_FIELDS = ("calls", "queued", "served", "abandoned", "wait_sum", "in_time")


def parts(tally_all: Tally, tally_high: Tally) -> dict[str, Tally]:
    """The tallies each figure is read from (days × evaluated hours)."""
    every = np.ones(tally_all.calls.shape[0], dtype=bool)
    return {
        "all": tally_all,
        "regular": Tally(*(getattr(tally_all, n) - getattr(tally_high, n) for n in _FIELDS)),
        "high": tally_high,
        **{name: tally_all.select(every, hours) for name, hours in PARTS.items()},
    }


def figures(tally_all: Tally, tally_high: Tally) -> dict[Figure, float]:
    """Each figure pooled over every day and hour of its tally."""
    tallies = parts(tally_all, tally_high)
    return {(who, kpi): float(tallies[who].kpi(kpi, axis=(0, 1))) for who, kpi in FIGURES}


@pytest.fixture(scope="module")
def centre() -> tuple[CallRecords, npt.NDArray[np.bool_]]:
    return two_class_calls(TRAIN_DAYS + PREDICT_DAYS, seed=21)


@pytest.fixture(scope="module")
def truth() -> dict[Figure, tuple[float, float]]:
    """The generating centre's figures (pooled over TRUTH_DAYS days simulated apart from the
    back-tested log, each call read with its true class) and a day's standard deviation."""
    calls, high = two_class_calls(TRUTH_DAYS, seed=98)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(TRUTH_DAYS)]
    every = np.ones(TRUTH_DAYS, dtype=bool)
    window = slice(OPEN, CLOSE)
    tally_all = tally_calls(calls, days).select(every, window)
    tally_high = tally_calls(calls.select(high), days).select(every, window)
    pooled = figures(tally_all, tally_high)
    tallies = parts(tally_all, tally_high)
    result = {}
    for who, kpi in FIGURES:
        per_day = tallies[who].kpi(kpi, axis=1)
        result[(who, kpi)] = (pooled[(who, kpi)], float(np.std(per_day, ddof=1)))
    return result


def backtest(
    calls: CallRecords,
    classes: Classes,
    *,
    roster: Roster | None = None,
    supply: Supply = "counted",
    seed: int = 0,
    train_days: int = TRAIN_DAYS,
    predict_days: int = PREDICT_DAYS,
) -> BacktestResult:
    """The back-test predicting from day TRAIN_DAYS on, trained on the ``train_days``
    days before it."""
    last_train = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS - 1)
    return run_backtest(
        calls,
        train=(last_train - dt.timedelta(days=train_days - 1), last_train),
        predict=(last_train + dt.timedelta(days=1), last_train + dt.timedelta(days=predict_days)),
        roster=roster,
        replications=REPLICATIONS,
        seed=seed,
        hours=(OPEN, CLOSE),
        supply=supply,
        classes=classes,
    )


def tolerance(day_sd: float) -> float:
    """Three standard errors of predicted minus true, per day's figure: the prediction is a
    mean over PREDICT_DAYS × REPLICATIONS simulated days, the truth over TRUTH_DAYS days,
    and the fits carry the noise of TRAIN_DAYS days; the three are independent."""
    spread = 1 / (PREDICT_DAYS * REPLICATIONS) + 1 / TRUTH_DAYS + 1 / TRAIN_DAYS
    return 3 * day_sd * math.sqrt(spread)


TRUE_ROSTER = Roster(interval_minutes=60, default=tuple(hourly(ROSTER)))


@pytest.fixture(scope="module")
def with_classes(centre: tuple[CallRecords, npt.NDArray[np.bool_]]) -> BacktestResult:
    return backtest(centre[0], "priority", roster=TRUE_ROSTER)


@pytest.fixture(scope="module")
def without_classes(centre: tuple[CallRecords, npt.NDArray[np.bool_]]) -> BacktestResult:
    return backtest(centre[0], "one", roster=TRUE_ROSTER)


def test_the_priority_classes_recover_the_generating_figures_per_class(
    with_classes: BacktestResult, truth: dict[Figure, tuple[float, float]]
) -> None:
    result = with_classes
    assert result.classes == "priority"
    assert result.predicted_high is not None
    predicted = figures(result.predicted, result.predicted_high)
    for figure, (mean, sd) in truth.items():
        assert abs(predicted[figure] - mean) <= tolerance(sd), (figure, predicted[figure], mean)
    # The case is built so the classes differ: the high-priority callers
    # lose far fewer of their queued callers, and the morning, mostly
    # high-priority callers, far fewer than the afternoon.
    assert truth[("high", "abandonment")][0] < truth[("regular", "abandonment")][0] / 3
    assert truth[("morning", "abandonment")][0] < truth[("afternoon", "abandonment")][0] / 2


def test_one_class_is_detectably_biased_where_the_classes_patience_differs(
    without_classes: BacktestResult, truth: dict[Figure, tuple[float, float]]
) -> None:
    result = without_classes
    assert result.classes == "one"
    assert result.predicted_high is None
    assert result.class_model is None
    # One patience for everyone: the morning's patient callers hang up as
    # often as the afternoon's impatient ones.
    predicted = figures(result.predicted, result.predicted)
    for part in ("morning", "afternoon"):
        mean, sd = truth[(part, "abandonment")]
        assert abs(predicted[(part, "abandonment")] - mean) > tolerance(sd), (part, mean)
    assert predicted[("morning", "abandonment")] > truth[("morning", "abandonment")][0]
    assert predicted[("afternoon", "abandonment")] < truth[("afternoon", "abandonment")][0]


# ------------------------------------------------------------------ the class model's estimates


def test_the_high_share_is_the_count_among_the_queued_training_calls(
    with_classes: BacktestResult, centre: tuple[CallRecords, npt.NDArray[np.bool_]]
) -> None:
    calls = centre[0]
    model = with_classes.class_model
    assert model is not None
    first, last = (dt.date.fromisoformat(d) for d in model["fit_window"])
    bands = model["band_hours"]
    # Counted call by call: the queued training calls of each band, and how
    # many of them the log shows with priority 2.
    queued = [0] * (len(bands) - 1)
    high = [0] * (len(bands) - 1)
    for day, seconds, was_queued, priority in zip(
        calls.day.astype(object), calls.arrival_seconds, calls.queued, calls.priority, strict=True
    ):
        if not (first <= day <= last) or not was_queued:
            continue
        band = next(b for b in range(len(bands) - 1) if seconds < 3600 * bands[b + 1])
        queued[band] += 1
        high[band] += int(priority == 2)
    every = sum(high) / sum(queued)
    expected = [h / q if q >= MIN_CLASS_CALLS else every for h, q in zip(high, queued, strict=True)]
    assert model["high_share"]["PS"] == pytest.approx(expected, abs=1e-12)
    assert model["queued_calls"]["PS"] == {
        "queued": sum(queued),
        "regular": sum(queued) - sum(high),
        "high": sum(high),
    }
    assert model["patience_source"] == {
        "PS": {"regular": "type and class", "high": "type and class"}
    }
    # The share the log shows among queued calls is the generating centre's:
    # whether a call queues does not depend on its class.
    total = sum(REGULAR) + sum(HIGH)
    morning = HIGH[0] / (HIGH[0] + REGULAR[0])
    assert abs(model["high_share"]["PS"][1] - morning) < 0.05  # 07-10
    assert abs(every - sum(HIGH) / total) < 0.05


def _log(
    task_type: list[str],
    hour: list[float],
    queued: list[bool],
    high: list[bool],
    abandoned: list[bool],
    wait: list[float],
) -> CallRecords:
    count = len(task_type)
    queue = np.array(queued)
    gone = np.array(abandoned) & queue
    seconds = np.array(hour) * 3600.0
    waits = np.where(queue, np.array(wait), 0.0)
    return CallRecords(
        day=np.full(count, np.datetime64("1999-03-01", "D")),
        arrival_seconds=seconds,
        menu_exit_seconds=seconds,
        queue_entry_seconds=np.where(queue, seconds, np.nan),
        service_start_seconds=np.where(gone, np.nan, seconds + waits),
        task_type=np.array(task_type),
        priority=np.where(np.array(high) & queue, 2, np.where(queue, 1, 0)).astype(np.int8),
        queue_wait=waits,
        service_time=np.where(gone, np.nan, 100.0),
        outcome=np.where(gone, "abandoned", "served"),
        queued=queue,
        agent=np.where(gone, "", "A"),
        vru_line=np.full(count, "AA0101"),
        call_id=np.arange(count, dtype=np.int64),
    )


_TYPES = ("PS", "NE", "TT")
_BANDS = (0, 7, 10, 13, 16, 19, 22, 24)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    count=st.integers(min_value=1, max_value=260),
)
def test_shares_and_patience_follow_the_threshold_rule_call_by_call(
    data: st.DataObject, count: int
) -> None:
    rows = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(_TYPES[:2]),
                st.sampled_from([8.5, 11.0, 14.5, 20.0]),  # a few bands, so some fill up
                st.booleans(),
                st.booleans(),
                st.booleans(),
                st.sampled_from([5.0, 30.0, 60.0, 120.0]),
            ),
            min_size=count,
            max_size=count,
        )
    )
    calls = _log(*(list(column) for column in zip(*rows, strict=True)))  # type: ignore[arg-type]
    pooled = KaplanMeier([1.0, 2.0], [True, False])
    base = _Fits(
        task_types=_TYPES,
        band_hours=_BANDS,
        handle_samples=tuple(tuple(np.ones(1) for _ in _BANDS[1:]) for _ in _TYPES),
        patience=(pooled,) * len(_TYPES),
        routing_delay=np.zeros(1),
    )
    window = (dt.date(1999, 3, 1), dt.date(1999, 3, 1))
    fits = _with_classes(base, calls, window)
    assert fits.classes == "priority"
    model = fits.class_model
    assert model is not None
    # The rule, read row by row.
    queued_rows = [r for r in rows if r[2]]
    every = sum(r[3] for r in queued_rows) / len(queued_rows) if queued_rows else 0.0

    def band_of(hour: float) -> int:
        return next(b for b in range(len(_BANDS) - 1) if hour < _BANDS[b + 1])

    for t, name in enumerate(_TYPES):
        of_type = [r for r in queued_rows if r[0] == name]
        for b in range(len(_BANDS) - 1):
            here = [r for r in of_type if band_of(r[1]) == b]
            if len(here) >= MIN_CLASS_CALLS:
                expected = sum(r[3] for r in here) / len(here)
            elif len(of_type) >= MIN_CLASS_CALLS:
                expected = sum(r[3] for r in of_type) / len(of_type)
            else:
                expected = every
            assert fits.high_share[t, b] == pytest.approx(expected, abs=1e-12), (name, b)
        for cls, want_high, estimate in (
            ("regular", False, fits.patience[t]),
            ("high", True, fits.patience_high[t]),
        ):
            own = [r for r in of_type if r[3] == want_high]
            of_class = [r for r in queued_rows if r[3] == want_high]
            if len(own) >= MIN_CLASS_CALLS:
                chosen, source = own, "type and class"
            elif len(of_class) >= MIN_CLASS_CALLS:
                chosen, source = of_class, "class, every type"
            else:
                chosen, source = None, "type, both classes"
            assert model["patience_source"][name][cls] == source
            if chosen is None:
                assert estimate is pooled
            else:
                reference = KaplanMeier([r[5] for r in chosen], [r[4] for r in chosen])
                assert np.array_equal(estimate.times, reference.times)
                assert np.allclose(
                    estimate.survival_probabilities, reference.survival_probabilities
                )


def test_a_simulated_call_is_high_with_the_fitted_share() -> None:
    # Every call of one type and band high, of another none, of a third one in four.
    share = np.zeros((3, len(_BANDS) - 1))
    share[1, :] = 1.0
    share[2, :] = 0.25
    pooled = KaplanMeier([1.0e6], [True])
    fits = _Fits(
        task_types=_TYPES,
        band_hours=_BANDS,
        handle_samples=tuple(tuple(np.ones(1) for _ in _BANDS[1:]) for _ in _TYPES),
        patience=(KaplanMeier([10.0], [True]),) * 3,
        routing_delay=np.zeros(1),
        classes="priority",
        high_share=share,
        patience_high=(pooled,) * 3,
    )
    volume = np.zeros((24, 3))
    volume[9, :] = 4000.0
    *_, kinds, _, patience, high = _day_arrivals(
        volume, fits, interval_minutes=60, rng=np.random.default_rng(5)
    )
    assert not high[kinds == 0].any()
    assert high[kinds == 1].all()
    third = high[kinds == 2]
    assert abs(third.mean() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / third.size)
    # Each class draws from its own patience.
    assert np.all(patience[high] == 1.0e6)
    assert np.all(patience[~high] == 10.0)


# ------------------------------------------------------------------ leakage, defaults, refusals

# Two weeks of training (two of each weekday for the calibration) and two
# predicted days show a leak as the full windows would, at a fraction of the
# calibration's cost.
LEAK_WINDOWS = {"train_days": 14, "predict_days": 2}


@pytest.mark.parametrize("supply", ["counted", "calibrated"])
def test_nothing_of_a_predicted_day_reaches_a_prediction_with_classes(
    centre: tuple[CallRecords, npt.NDArray[np.bool_]], supply: Supply
) -> None:
    calls = centre[0]
    first_predicted = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS)
    original = backtest(calls, "priority", supply=supply, seed=3, **LEAK_WINDOWS)
    changed_log = altered(calls, first_predicted)
    # Every queued caller of the predicted days becomes high-priority, too.
    fields = changed_log.columns()
    late = changed_log.day >= np.datetime64(first_predicted, "D")
    fields["priority"] = np.where(late, 2, changed_log.priority).astype(np.int8)
    changed = backtest(CallRecords(**fields), "priority", supply=supply, seed=3, **LEAK_WINDOWS)
    assert changed.observed.calls.sum() < original.observed.calls.sum()  # the log did change
    assert original.predicted_high is not None
    assert changed.predicted_high is not None
    for name in _FIELDS:
        assert np.array_equal(getattr(original.predicted, name), getattr(changed.predicted, name))
        assert np.array_equal(
            getattr(original.predicted_high, name), getattr(changed.predicted_high, name)
        )
        assert np.array_equal(getattr(original.naive, name), getattr(changed.naive, name))
    assert original.roster.to_dict() == changed.roster.to_dict()
    assert original.class_model == changed.class_model
    assert np.array_equal(original.forecast.volume, changed.forecast.volume)


def test_one_class_is_the_default_and_the_result_says_which() -> None:
    calls = load_anonymous_bank()
    options = {
        "train": ("1999-05-09", "1999-05-10"),
        "predict": ("1999-05-11", "1999-05-11"),
        "hours": (7, 22),
        "replications": 1,
    }
    default = run_backtest(calls, **options)  # type: ignore[arg-type]
    one = run_backtest(calls, classes="one", **options)  # type: ignore[arg-type]
    for name in _FIELDS:
        assert np.array_equal(getattr(default.predicted, name), getattr(one.predicted, name))
    assert default.to_dict()["classes"] == "one"
    assert default.to_dict()["class_model"] is None
    priority = run_backtest(calls, classes="priority", **options)  # type: ignore[arg-type]
    plain = priority.to_dict()
    assert plain["classes"] == "priority"
    assert set(plain["class_model"]["high_share"]) == set(priority.forecast.task_types)
    # On the bank's excerpt the share differs by service type: most of the
    # queued NE callers are high-priority, no queued NW caller is.
    assert min(plain["class_model"]["high_share"]["NE"]) > 0.5
    assert max(plain["class_model"]["high_share"]["NW"]) < 0.05
    assert priority.predicted_high is not None
    assert np.all(priority.predicted_high.calls <= priority.predicted.calls)


@pytest.mark.parametrize("value", ["two", "Priority", 1, None, True])
def test_bad_classes_are_refused_naming_the_field_value_and_expectation(value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_backtest(
            load_anonymous_bank(),
            train=("1999-05-09", "1999-05-10"),
            predict=("1999-05-11", "1999-05-11"),
            classes=value,  # type: ignore[arg-type]
        )
    message = str(caught.value)
    assert message.startswith("classes: got ")
    assert repr(value) in message
    assert "one of ['one', 'priority']" in message
