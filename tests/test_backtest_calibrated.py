"""The calibrated supply: it finds the agents a simulated centre had, even where the count
of agents serving is wrong, uses the same training days as the count, and is repeatable.

The logs are made by the library's simulator from a known roster (the
generating centre of ``test_backtest.py``) and back-tested with
``supply="calibrated"``; the truth the calibrated roster is checked against
is that generating roster, which the back-test never sees.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_backtest import CLOSE, FIRST_DAY, OPEN, ROSTER, synthetic_calls
from valueroute.backtest import BacktestResult, _supply_days, run_backtest
from valueroute.datasets import CallRecords, load_anonymous_bank
from valueroute.errors import InvalidInputError

# Eight weeks of training: the calibration reads the eight days of the
# predicted day's weekday, as the counted estimate does with supply_weeks=8.
WEEKS = 8
# A lighter centre than the generating one: two agents more every hour, so
# that callers wait in only part of each half hour and the count of agents
# serving leans on the agents named in the log.
LIGHT = [n + 2 for n in ROSTER]
PLAN = Path(__file__).resolve().parents[1] / "examples" / "schedule_plan.csv"


def half_hours(roster: list[int]) -> npt.NDArray[np.int64]:
    return np.array([n for n in roster for _ in range(2)], dtype=np.int64)


def open_half_hours(counts: tuple[int, ...]) -> npt.NDArray[np.int64]:
    return np.array(counts[2 * OPEN : 2 * CLOSE], dtype=np.int64)


def with_agents(calls: CallRecords, agents: npt.NDArray[np.str_]) -> CallRecords:
    fields = calls.columns()
    fields["agent"] = agents
    return CallRecords(**fields)


def calibrated(calls: CallRecords, *, seed: int = 0) -> BacktestResult:
    """Predict the Monday after WEEKS weeks of ``calls``, with the calibrated supply."""
    last_train = FIRST_DAY + dt.timedelta(days=7 * WEEKS - 1)
    monday = last_train + dt.timedelta(days=2)
    return run_backtest(
        calls,
        train=(FIRST_DAY, last_train),
        predict=(monday, monday),
        replications=1,
        seed=seed,
        hours=(OPEN, CLOSE),
        supply="calibrated",
        supply_weeks=WEEKS,
    )


def assert_recovers(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> None:
    """The tolerance: sampling noise, not bias.

    Each half hour is fitted to the share queued and abandoned of eight
    training days, 40 to 200 calls each, whose queues move together within
    a day: a half hour's share carries a standard error of several points,
    and one agent more or less moves it by 5 to 15 points. So a half hour
    may land an agent off (rarely two), but not the level of the supply:
    on average within one agent of the truth, and on the mean over the day
    within half an agent of it. A roster one agent off all day fails.
    """
    gap = found - truth
    assert int(np.abs(gap).max()) <= 2, (found, truth)
    assert float(np.abs(gap).mean()) <= 1.0, (found, truth)
    assert abs(float(gap.mean())) <= 0.5, (found, truth)


@pytest.fixture(scope="module")
def busy_centre() -> BacktestResult:
    return calibrated(synthetic_calls(7 * WEEKS + 3, seed=12))


def test_the_tolerance_refuses_a_roster_one_agent_off() -> None:
    truth = half_hours(ROSTER)
    with pytest.raises(AssertionError):
        assert_recovers(truth + 1, truth)
    with pytest.raises(AssertionError):
        assert_recovers(np.where(np.arange(truth.size) % 2 == 0, truth + 3, truth), truth)


def test_the_calibrated_supply_recovers_the_generating_roster(
    busy_centre: BacktestResult,
) -> None:
    result = busy_centre
    assert result.roster_source == "calibrated"
    day = result.days[0]
    assert_recovers(open_half_hours(result.roster.for_day(day)), half_hours(ROSTER))
    # Where the centre is busy every half hour, the count was right too.
    assert result.counted_roster is not None
    assert_recovers(open_half_hours(result.counted_roster.for_day(day)), half_hours(ROSTER))


def test_a_count_too_low_is_corrected() -> None:
    # A log that names no agent: where callers hardly waited, the count falls
    # back on the agents seen serving, and sees none.
    calls = synthetic_calls(7 * WEEKS + 3, seed=12, roster=LIGHT)
    result = calibrated(with_agents(calls, np.full(len(calls), "")))
    day = result.days[0]
    truth = half_hours(LIGHT)
    assert result.counted_roster is not None
    counted = open_half_hours(result.counted_roster.for_day(day))
    assert float((counted - truth).mean()) <= -3.0  # the count is far off
    assert_recovers(open_half_hours(result.roster.for_day(day)), truth)


def test_a_count_too_high_is_corrected() -> None:
    # A log that names the line, not the agent: every call a different name,
    # so the agents seen serving are the calls served.
    calls = synthetic_calls(7 * WEEKS + 3, seed=11, roster=LIGHT)
    result = calibrated(with_agents(calls, np.array([f"line {i}" for i in range(len(calls))])))
    day = result.days[0]
    truth = half_hours(LIGHT)
    assert result.counted_roster is not None
    counted = open_half_hours(result.counted_roster.for_day(day))
    assert float((counted - truth).mean()) >= 10.0  # the count is far off
    assert_recovers(open_half_hours(result.roster.for_day(day)), truth)


def test_half_hours_without_training_calls_keep_the_count(busy_centre: BacktestResult) -> None:
    result = busy_centre
    day = result.days[0]
    assert result.counted_roster is not None
    counted, found = result.counted_roster.for_day(day), result.roster.for_day(day)
    # The centre takes calls from 08:00 to 18:00 only.
    assert found[: 2 * OPEN] == counted[: 2 * OPEN]
    assert found[2 * CLOSE + 1 :] == counted[2 * CLOSE + 1 :]


def test_the_calibration_is_repeatable_and_the_count_stays_the_default() -> None:
    calls = load_anonymous_bank()
    options = {
        "train": ("1999-05-09", "1999-05-10"),
        "predict": ("1999-05-11", "1999-05-11"),
        "hours": (7, 22),
        "replications": 1,
    }
    first = run_backtest(calls, supply="calibrated", **options)  # type: ignore[arg-type]
    again = run_backtest(calls, supply="calibrated", **options)  # type: ignore[arg-type]
    assert first.roster.to_dict() == again.roster.to_dict()
    assert np.array_equal(first.predicted.abandoned, again.predicted.abandoned)
    default = run_backtest(calls, **options)  # type: ignore[arg-type]
    counted = run_backtest(calls, supply="counted", **options)  # type: ignore[arg-type]
    assert default.roster_source == counted.roster_source == "estimated"
    assert default.roster.to_dict() == counted.roster.to_dict()
    assert default.counted_roster is not None
    assert default.counted_roster.to_dict() == default.roster.to_dict()
    assert np.array_equal(default.predicted.abandoned, counted.predicted.abandoned)
    # The calibration starts from the same count.
    assert first.counted_roster is not None
    assert first.counted_roster.to_dict() == default.roster.to_dict()
    assert first.to_dict()["roster_source"] == "calibrated"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"supply": "guess"}, "one of ['counted', 'calibrated']"),
        ({"supply": 1}, "one of ['counted', 'calibrated']"),
        ({"supply": None}, "one of ['counted', 'calibrated']"),
        (
            {"supply": "calibrated", "roster": PLAN},
            "'counted' (the default) when a roster is given",
        ),
    ],
)
def test_a_bad_supply_is_refused_naming_the_field_value_and_expectation(
    options: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_backtest(
            load_anonymous_bank(),
            train=("1999-05-09", "1999-05-10"),
            predict=("1999-05-11", "1999-05-11"),
            **options,  # type: ignore[arg-type]
        )
    message = str(caught.value)
    assert message.startswith("supply: got ")
    assert repr(options["supply"]) in message
    assert expected in message


# ------------------------------------------------------------------ which training days

_DAYS = st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=60, unique=True).map(
    lambda offsets: [dt.date(1999, 1, 1) + dt.timedelta(days=k) for k in offsets]
)


@given(
    seen=_DAYS,
    ahead=st.integers(min_value=1, max_value=40),
    weeks=st.integers(min_value=1, max_value=6),
    irregular=st.sets(st.integers(min_value=0, max_value=120), max_size=30),
)
def test_the_supply_days_are_the_recent_regular_days_of_the_weekday(
    seen: list[dt.date], ahead: int, weeks: int, irregular: set[int]
) -> None:
    # The rule read call by call: the days of the last `weeks` weeks before
    # the last training day, of the predicted day's weekday, regular ones if any.
    day = max(seen) + dt.timedelta(days=ahead)
    regular = {d for d in seen if (d - dt.date(1999, 1, 1)).days not in irregular}
    recent = [d for d in sorted(seen) if (max(seen) - d).days <= 7 * weeks - 1]
    same = [d for d in recent if d.weekday() == day.weekday()]
    expected = [d for d in same if d in regular] or same or recent
    assert list(_supply_days(seen, day, weeks=weeks, regular=regular)) == expected
