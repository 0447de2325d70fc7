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

from test_backtest import FIRST_DAY, altered
from valueroute.backtest import (
    MIN_CLASS_CALLS,
    BacktestResult,
    Classes,
    Kpi,
    Roster,
    Supply,
    Tally,
    _fit,
    _with_classes,
    run_backtest,
    tally_calls,
)
from valueroute.datasets import CallRecords, load_anonymous_bank
from valueroute.errors import InvalidInputError
from valueroute.events import Event, EventKind
from valueroute.sim.scenario import Scenario
from valueroute.sim.world import World

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
    world = World(scenario)
    submitted: dict[str, tuple[float, str]] = {}
    assigned: dict[str, tuple[float, str]] = {}
    ended: dict[str, tuple[float, str]] = {}

    def record(event: Event) -> None:
        task = event.task
        if task is None:
            return
        if event.kind is EventKind.task_submitted:
            submitted[task] = (event.time, str(event.data["type"]))
        elif event.kind is EventKind.task_assigned:
            assigned[task] = (event.time, event.agent or "")
        elif event.kind is EventKind.task_completed:
            ended[task] = (event.time, "served")
        elif event.kind is EventKind.task_canceled:
            ended[task] = (event.time, "abandoned")

    world.engine.subscribe(
        record,
        kinds=(
            EventKind.task_submitted,
            EventKind.task_assigned,
            EventKind.task_completed,
            EventKind.task_canceled,
        ),
    )
    world.run()
    rows: list[tuple[int, float, float, float, str, str, bool]] = []
    for task, (arrival, task_type) in submitted.items():
        end = ended.get(task)
        if end is None:  # still waiting or in service at the horizon
            continue
        day = int(arrival // 86_400)
        if end[1] == "served":
            start, agent = assigned[task]
            wait, service = start - arrival, end[0] - start
        else:
            agent, wait, service = "", end[0] - arrival, math.nan
        rows.append(
            (day, arrival - day * 86_400, wait, service, end[1], agent, task_type == "high")
        )
    count = len(rows)
    entries = np.array([r[1] for r in rows])
    waits = np.array([r[2] for r in rows])
    outcome = np.array([r[4] for r in rows])
    high = np.array([r[6] for r in rows], dtype=bool)
    queued = (waits > 0) | (outcome == "abandoned")
    served = outcome == "served"
    calls = CallRecords(
        day=np.datetime64(FIRST_DAY, "D") + np.array([r[0] for r in rows]),
        arrival_seconds=entries,
        menu_exit_seconds=entries,
        queue_entry_seconds=np.where(queued, entries, np.nan),
        service_start_seconds=np.where(served, entries + waits, np.nan),
        task_type=np.full(count, "PS"),
        # As the bank's log: the class shows only for calls that queued.
        priority=np.where(high & queued, 2, 0).astype(np.int8),
        queue_wait=np.where(queued, waits, 0.0),
        service_time=np.array([r[3] for r in rows]),
        outcome=outcome,
        queued=queued,
        agent=np.array([r[5] for r in rows]),
        vru_line=np.full(count, "AA0101"),
        call_id=np.arange(count, dtype=np.int64),
    )
    return calls, high


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
) -> BacktestResult:
    last_train = FIRST_DAY + dt.timedelta(days=TRAIN_DAYS - 1)
    return run_backtest(
        calls,
        train=(FIRST_DAY, last_train),
        predict=(last_train + dt.timedelta(days=1), last_train + dt.timedelta(days=PREDICT_DAYS)),
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
