"""The Anonymous Bank loader, its bundled excerpt, Kaplan–Meier patience and agents on duty.

Figures marked README are the ones the shared data folder's README states for
the full cleaned file; the tests recompute them through the loader.
"""

from __future__ import annotations

import csv
import functools
import gzip
import itertools
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from valueroute.datasets import (
    ANONYMOUS_BANK_EXCERPT,
    ANONYMOUS_BANK_EXCERPT_DAYS,
    CallRecords,
    KaplanMeier,
    agents_on_duty,
    available_agents,
    excerpt_anonymous_bank,
    load_anonymous_bank,
    patience_observations,
)
from valueroute.errors import InvalidInputError

CLEAN = "anonymous_bank_1999_calls_clean.csv.gz"
EXCERPT = (
    Path(__file__).resolve().parents[1] / "src" / "valueroute" / "data" / ANONYMOUS_BANK_EXCERPT
)
P_MIN = 1e-3
FloatArray = npt.NDArray[np.float64]


@functools.cache
def _full(path: Path) -> CallRecords:
    return load_anonymous_bank(path)


@pytest.fixture
def full(shared_data: Path) -> CallRecords:
    return _full(shared_data / CLEAN)


# ---------------------------------------------------------------- full file vs README


def test_row_and_outcome_counts_match_the_readme(full: CallRecords) -> None:
    assert len(full) == 357_396
    assert int(full.queued.sum()) == 209_327
    outcome = dict(zip(*np.unique(full.outcome, return_counts=True), strict=True))
    assert outcome == {"served": 285_689, "abandoned": 51_987, "other": 19_720}
    assert len(full.days()) == 302
    assert "1999-01-11" not in full.days()
    assert "1999-01-12" not in full.days()
    assert len(set(full.agent.tolist()) - {""}) == 45


def test_calls_per_month_match_the_readme(full: CallRecords) -> None:
    readme = {
        1: 31_359, 2: 33_066, 3: 38_394, 4: 31_731, 5: 39_135,
        6: 37_613, 7: 38_644, 8: 41_768, 9: 31_208, 10: 34_478,
    }  # fmt: skip
    months = full.day.astype("datetime64[M]").astype(int) % 12 + 1
    assert dict(zip(*np.unique(months, return_counts=True), strict=True)) == readme


@pytest.mark.parametrize(
    ("task_type", "calls", "queued", "served", "abandoned_pct", "service_mean"),
    [
        ("PS", 244_462, 141_318, 203_404, 19.9, 183.2),
        ("NW", 57_596, 37_864, 35_238, 46.5, 111.6),
        ("NE", 30_643, 19_478, 27_523, 12.8, 272.4),
        ("IN", 13_313, 6_979, 9_278, 40.1, 407.6),
        ("TT", 9_900, 2_728, 9_231, 22.1, 111.5),
        ("PE", 1_477, 960, 1_015, 31.5, 267.1),
    ],
)
def test_per_type_figures_match_the_readme(
    full: CallRecords,
    task_type: str,
    calls: int,
    queued: int,
    served: int,
    abandoned_pct: float,
    service_mean: float,
) -> None:
    of_type = full.select(full.task_type == task_type)
    assert len(of_type) == calls
    assert int(of_type.queued.sum()) == queued
    assert int((of_type.outcome == "served").sum()) == served
    abandoned = int((of_type.outcome == "abandoned").sum())
    assert round(100 * abandoned / queued, 1) == abandoned_pct
    assert round(float(np.nanmean(of_type.service_time)), 1) == service_mean


def test_service_and_wait_means_match_the_readme(full: CallRecords) -> None:
    served = full.outcome == "served"
    assert round(float(full.service_time[served].mean()), 1) == 188.2
    named = served & (full.agent != "")
    assert round(float(full.service_time[named].mean()), 1) == 190.8
    assert round(float(full.queue_wait[served].mean()), 1) == 56.7
    assert round(float(full.queue_wait[served & full.queued].mean()), 1) == 103.0
    assert round(float(full.queue_wait[full.outcome == "abandoned"].mean()), 1) == 78.0


def test_priority_figures_for_queued_calls_match_the_readme(full: CallRecords) -> None:
    readme = {0: (48_863, 45.9), 1: (53_596, 26.0), 2: (106_868, 14.6)}
    for priority, (queued, abandoned_pct) in readme.items():
        observations = patience_observations(full, priority=priority)
        assert observations.wait.size == queued
        assert round(100 * observations.abandoned.mean(), 1) == abandoned_pct


def test_hourly_arrivals_match_the_readme(full: CallRecords) -> None:
    readme = [
        1_427, 551, 278, 149, 119, 272, 1_454, 10_001, 21_901, 28_389, 32_119, 28_444,
        25_762, 25_982, 26_215, 25_294, 25_052, 20_157, 16_893, 14_425, 13_736, 15_009,
        13_597, 10_170,
    ]  # fmt: skip
    hours = (full.arrival_seconds // 3600).astype(int)
    assert np.bincount(hours, minlength=24).tolist() == readme


def test_patience_observations_split_exact_and_censored(full: CallRecords) -> None:
    observations = patience_observations(full)
    assert observations.wait.size == 209_327
    assert int(observations.abandoned.sum()) == 51_987
    ps = patience_observations(full, task_type="PS")
    assert ps.wait.size == 141_318
    both = patience_observations(full, task_type=["PS", "NW"])
    assert both.wait.size == 141_318 + 37_864


def test_agents_per_hour_on_arrival_basis_match_the_readme(full: CallRecords) -> None:
    # README §1.5: distinct named agents who served a call arriving in that
    # hour, averaged over the Sun–Thu days on which there was at least one.
    readme = [
        1.3, 1.0, 1.0, 1.0, 1.0, 1.3, 1.6, 5.1, 8.1, 8.9, 9.3, 9.3,
        9.7, 10.2, 9.8, 10.0, 8.7, 7.2, 7.2, 6.7, 6.5, 5.9, 4.6, 3.9,
    ]  # fmt: skip
    duty = agents_on_duty(full, interval_minutes=60, basis="arrival")
    weekday = (np.array(duty.days, dtype="datetime64[D]").astype(int) + 4) % 7  # 0 = Sunday
    rows = duty.counts[weekday <= 4]
    means = [round(float(col[col > 0].mean()), 1) for col in rows.T]
    assert means == readme


def test_service_basis_is_at_least_the_agents_starting_service(full: CallRecords) -> None:
    duty = agents_on_duty(full, interval_minutes=30)
    served = (
        (full.outcome == "served") & (full.agent != "") & np.isfinite(full.service_start_seconds)
    )
    day_index = {d: i for i, d in enumerate(duty.days)}
    starting: dict[tuple[int, int], set[str]] = {}
    for day, start, agent in zip(
        full.day[served].astype(str),
        full.service_start_seconds[served],
        full.agent[served],
        strict=True,
    ):
        if start < 86_400:
            starting.setdefault((day_index[day], int(start // 1800)), set()).add(agent)
    for (row, column), agents in starting.items():
        assert duty.counts[row, column] >= len(agents)
    assert duty.counts.max() <= 45


def test_replay_records_cover_every_call_that_asked_for_an_agent(full: CallRecords) -> None:
    arrivals = full.to_arrivals()
    # README: 357,396 calls less the 19,720 that hung up in the voice menu.
    assert len(arrivals) == 337_676
    assert sum(a.patience is not None for a in arrivals) == 51_987
    assert sum(a.handle_time is not None for a in arrivals) == 285_689
    times = np.array([a.time for a in arrivals])
    assert np.all(np.diff(times) >= 0)


# ---------------------------------------------------------------- the excerpt


def test_excerpt_holds_exactly_the_full_files_rows_for_its_days(shared_data: Path) -> None:
    wanted = set(ANONYMOUS_BANK_EXCERPT_DAYS)
    with gzip.open(shared_data / CLEAN, "rt", newline="") as handle:
        header = handle.readline()
        expected = [header] + [line for line in handle if line.split(",")[6] in wanted]
    with gzip.open(EXCERPT, "rt", newline="") as handle:
        assert handle.readlines() == expected


def test_excerpt_loads_like_the_full_file_restricted_to_its_days(shared_data: Path) -> None:
    bundled = load_anonymous_bank()
    from_full = load_anonymous_bank(shared_data / CLEAN, days=ANONYMOUS_BANK_EXCERPT_DAYS)
    assert bundled.days() == list(ANONYMOUS_BANK_EXCERPT_DAYS)
    for name, column in bundled.columns().items():
        np.testing.assert_array_equal(column, from_full.columns()[name], err_msg=name)


def test_excerpt_is_reproducible_from_the_full_file(shared_data: Path, tmp_path: Path) -> None:
    made = tmp_path / "excerpt.csv.gz"
    count = excerpt_anonymous_bank(shared_data / CLEAN, made, days=ANONYMOUS_BANK_EXCERPT_DAYS)
    assert count == len(load_anonymous_bank())
    assert made.read_bytes() == EXCERPT.read_bytes()


def test_excerpt_is_small_and_covers_three_working_days() -> None:
    assert EXCERPT.stat().st_size < 1_000_000
    calls = load_anonymous_bank()
    assert len(calls) == 5_700
    weekdays = (np.array(calls.days(), dtype="datetime64[D]").astype(int) + 4) % 7
    assert weekdays.tolist() == [0, 1, 2]  # Sunday to Tuesday
    assert set(calls.outcome.tolist()) == {"served", "abandoned", "other"}


def test_days_filter_and_arrival_time() -> None:
    one = load_anonymous_bank(days=["1999-05-10"])
    assert one.days() == ["1999-05-10"]
    everything = load_anonymous_bank()
    times = everything.arrival_time()
    second_day = everything.day == np.datetime64("1999-05-10")
    np.testing.assert_array_equal(
        times[second_day], everything.arrival_seconds[second_day] + 86_400
    )
    np.testing.assert_array_equal(
        one.arrival_time(origin="1999-05-09"), one.arrival_seconds + 86_400
    )


def test_replay_records_of_the_excerpt() -> None:
    calls = load_anonymous_bank()
    arrivals = calls.to_arrivals(origin="1999-05-09")
    asked = calls.select(calls.outcome != "other")
    assert len(arrivals) == len(asked)
    by_id = {(a.attributes["vru_line"], a.attributes["call_id"]): a for a in arrivals}
    assert len(by_id) == len(arrivals)
    for index in range(len(asked)):
        record = by_id[(str(asked.vru_line[index]), int(asked.call_id[index]))]
        day_start = (asked.day[index] - np.datetime64("1999-05-09")).astype(int) * 86_400
        if asked.queued[index]:
            assert record.time == day_start + asked.queue_entry_seconds[index]
        else:
            assert record.time == day_start + asked.menu_exit_seconds[index]
        if asked.outcome[index] == "abandoned":
            assert record.patience == asked.queue_wait[index]
            assert record.handle_time is None
        else:
            assert record.patience is None
            assert record.handle_time == asked.service_time[index]
        assert record.attributes["priority"] == asked.priority[index]
        assert record.attributes["agent"] == asked.agent[index]
        assert record.attributes["vru_entry"] == day_start + asked.arrival_seconds[index]


def test_a_day_without_calls_gives_empty_records() -> None:
    empty = load_anonymous_bank(days=["1999-01-11"])
    assert len(empty) == 0
    assert empty.days() == []
    assert empty.to_arrivals() == []
    assert agents_on_duty(empty).counts.shape == (0, 24)


# ---------------------------------------------------------------- loader errors

HEADER = (
    "date,vru_line,call_id,vru_entry_ts,vru_exit_ts,q_start_ts,ser_start_ts,type,priority,"
    "q_time,ser_time,outcome,queued,server\n"
)


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


GOOD = (
    "1999-05-09,AA0101,1,1999-05-09 09:50:00,1999-05-09 09:50:10,1999-05-09 09:50:10,"
    "1999-05-09 09:50:30,PS,2,20,600,AGENT,1,ANN"
)


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    calls = load_anonymous_bank(_write(tmp_path, GOOD))
    assert calls.arrival_seconds.tolist() == [9 * 3600 + 50 * 60]
    assert calls.queue_entry_seconds.tolist() == [9 * 3600 + 50 * 60 + 10]
    assert calls.service_start_seconds.tolist() == [9 * 3600 + 50 * 60 + 30]
    assert calls.outcome.tolist() == ["served"]
    assert calls.agent.tolist() == ["ANN"]
    assert calls.priority.tolist() == [2]


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (GOOD.replace(",20,600,", ",x,600,"), "line 3, q_time"),
        (GOOD.replace("AGENT", "PHANTOM"), "line 3, outcome"),
        (GOOD.replace(",1,ANN", ",yes,ANN"), "line 3, queued"),
        (GOOD.replace("1999-05-09 09:50:00", "soon"), "line 3, vru_entry_ts"),
        (GOOD + ",extra", "line 3, row"),
    ],
)
def test_bad_rows_name_line_and_column(tmp_path: Path, row: str, where: str) -> None:
    with pytest.raises(InvalidInputError, match=where):
        load_anonymous_bank(_write(tmp_path, GOOD, row).parent / "calls.csv")


def test_error_lines_count_rows_the_days_filter_skipped(tmp_path: Path) -> None:
    other_day = GOOD.replace("1999-05-09", "1999-05-10")
    bad = GOOD.replace(",20,600,", ",x,600,")
    path = _write(tmp_path, other_day, other_day, bad)
    with pytest.raises(InvalidInputError, match="line 4, q_time"):
        load_anonymous_bank(path, days=["1999-05-09"])


def test_a_file_that_is_not_utf8_or_a_whole_gzip_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + GOOD.replace("ANN", "ZO\xc9")).encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"path: 'latin\.csv' it is not UTF-8 text"):
        load_anonymous_bank(latin)
    with pytest.raises(InvalidInputError, match=r"path: 'latin\.csv' it is not UTF-8 text"):
        excerpt_anonymous_bank(latin, tmp_path / "out.csv.gz", days=["1999-05-09"])
    whole = gzip.compress((HEADER + (GOOD + "\n") * 2_000).encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidInputError, match=r"path: 'cut\.csv\.gz' cannot be read"):
        load_anonymous_bank(cut)


def test_helpers_take_numpy_labels_and_refuse_others() -> None:
    calls = load_anonymous_bank()
    plain = patience_observations(calls, priority=[2], task_type="PS")
    numpy = patience_observations(calls, priority=np.int8(2), task_type=np.str_("PS"))
    np.testing.assert_array_equal(plain.wait, numpy.wait)
    with pytest.raises(InvalidInputError, match="priority: got 'x' "):
        patience_observations(calls, priority="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="task_type: got \\[1\\] "):
        patience_observations(calls, task_type=[1])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="days: got '1999-05-09' \\(expected a list"):
        load_anonymous_bank(days="1999-05-09")
    with pytest.raises(InvalidInputError, match="days: got 'xxxxx"):
        load_anonymous_bank(days=["x" * 10_000])
    with pytest.raises(InvalidInputError, match="durations: got \\['x'\\]"):
        KaplanMeier(["x"], [True])


def test_bad_path_header_and_days(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="path"):
        load_anonymous_bank(tmp_path / "missing.csv")
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="header"):
        load_anonymous_bank(path)
    with pytest.raises(InvalidInputError, match="days"):
        load_anonymous_bank(days=["May 9th"])


# ---------------------------------------------------------------- agents on duty


def test_agents_on_duty_counts_overlapping_services(tmp_path: Path) -> None:
    rows = [
        # ANN serves 09:50:30-10:00:30: intervals 9 and 10.
        GOOD,
        # BEN serves 10:00:00-11:00:00 exactly: interval 10 only.
        "1999-05-09,AA0101,2,1999-05-09 09:59:00,1999-05-09 10:00:00,,1999-05-09 10:00:00,"
        "PS,0,0,3600,AGENT,0,BEN",
        # CAT starts at 23:59 and runs into the next day, which has calls too.
        "1999-05-09,AA0101,3,1999-05-09 23:58:00,1999-05-09 23:59:00,,1999-05-09 23:59:00,"
        "PS,0,0,120,AGENT,0,CAT",
        # An abandoned call and an unnamed server count for nobody.
        "1999-05-10,AA0101,4,1999-05-10 08:00:00,1999-05-10 08:00:05,1999-05-10 08:00:05,,"
        "PS,2,30,0,HANG,1,NO_SERVER",
        "1999-05-10,AA0101,5,1999-05-10 08:00:00,1999-05-10 08:00:05,,1999-05-10 08:00:05,"
        "PS,0,0,6,AGENT,0,NO_SERVER",
    ]
    calls = load_anonymous_bank(_write(tmp_path, *rows))
    duty = agents_on_duty(calls)
    assert duty.days == ["1999-05-09", "1999-05-10"]
    expected = np.zeros((2, 24), dtype=int)
    expected[0, 9] = 1
    expected[0, 10] = 2
    expected[0, 23] = 1
    expected[1, 0] = 1
    np.testing.assert_array_equal(duty.counts, expected)
    by_arrival = agents_on_duty(calls, basis="arrival")
    assert by_arrival.counts[0].tolist() == [0] * 9 + [2] + [0] * 13 + [1]


def _excerpt_services() -> tuple[FloatArray, FloatArray, npt.NDArray[np.str_]]:
    """Start, end (seconds from 9 May) and agent of every named service in the
    excerpt, read from its rows with the csv module. A served call without a
    recorded start began when it left the queue (queue entry + wait), or the
    voice menu if it never queued: the data's README gives those fields."""
    origin = datetime(1999, 5, 9)

    def seconds(stamp: str) -> float:
        return (datetime.fromisoformat(stamp) - origin).total_seconds()

    starts, ends, agents = [], [], []
    with gzip.open(EXCERPT, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["outcome"] != "AGENT" or row["server"] == "NO_SERVER":
                continue
            if row["ser_start_ts"]:
                start = seconds(row["ser_start_ts"])
            elif row["queued"] == "1":
                start = seconds(row["q_start_ts"]) + float(row["q_time"])
            else:
                start = seconds(row["vru_exit_ts"])
            starts.append(start)
            ends.append(start + float(row["ser_time"]))
            agents.append(row["server"])
    return np.array(starts), np.array(ends), np.array(agents)


def test_agents_on_duty_matches_a_brute_force_count_on_the_excerpt() -> None:
    calls = load_anonymous_bank()
    duty = agents_on_duty(calls, interval_minutes=15)
    starts, ends, agents = _excerpt_services()
    for row in range(len(duty.days)):
        for column in range(96):
            low = row * 86_400 + column * 900
            high = low + 900
            overlapping = (starts < high) & ((ends > low) | ((ends == starts) & (starts >= low)))
            assert duty.counts[row, column] == len(set(agents[overlapping].tolist()))


@pytest.mark.parametrize(
    ("options", "field"),
    [({"interval_minutes": 20}, "interval_minutes"), ({"basis": "queue"}, "basis")],
)
def test_agents_on_duty_rejects_bad_options(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        agents_on_duty(load_anonymous_bank(), **options)


def _synthetic(
    calls: list[tuple[int, int, int, int]],
) -> CallRecords:
    """One day of calls (day, queue entry, wait, service seconds); a call with
    service 0 hangs up after its wait, any other is served right after it."""
    n = len(calls)
    day = np.array([np.datetime64("1999-05-09", "D") + np.timedelta64(d, "D") for d, *_ in calls])
    entry = np.array([float(e) for _, e, _, _ in calls])
    wait = np.array([float(w) for _, _, w, _ in calls])
    service = np.array([float(s) for *_, s in calls])
    served = service > 0
    return CallRecords(
        day=day,
        arrival_seconds=entry,
        menu_exit_seconds=entry,
        queue_entry_seconds=entry,
        service_start_seconds=np.where(served, entry + wait, math.nan),
        task_type=np.full(n, "PS"),
        priority=np.zeros(n, dtype=np.int8),
        queue_wait=wait,
        service_time=np.where(served, service, math.nan),
        outcome=np.where(served, "served", "abandoned"),
        queued=wait > 0,
        agent=np.array([f"A{i}" for i in range(n)]),
        vru_line=np.full(n, "AA0101"),
        call_id=np.arange(n, dtype=np.int64),
    )


@given(
    st.lists(
        st.tuples(
            st.integers(0, 1),
            st.integers(0, 86_400 - 1),
            st.sampled_from([0, 0, 1, 30, 400, 1_000, 5_000]),
            st.sampled_from([0, 1, 60, 300, 2_000]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_available_agents_is_the_mean_in_service_while_someone_waits(
    calls: list[tuple[int, int, int, int]],
) -> None:
    # Brute force on a one-second grid over both days (and the spill-over).
    records = _synthetic(calls)
    result = available_agents(records, interval_minutes=60)
    seconds = 3 * 86_400 + 20_000
    in_service = np.zeros(seconds, dtype=np.int64)
    waiting = np.zeros(seconds, dtype=np.int64)
    for day, entry, wait, service in calls:
        start = day * 86_400 + entry
        waiting[start : start + wait] += 1
        if service:
            in_service[start + wait : start + wait + service] += 1
    for row, name in enumerate(result.days):
        offset = int((np.datetime64(name, "D") - np.datetime64("1999-05-09", "D")).astype(int))
        for hour in range(24):
            span = slice(offset * 86_400 + hour * 3_600, offset * 86_400 + (hour + 1) * 3_600)
            waited = waiting[span] > 0
            assert result.waiting_share[row, hour] == pytest.approx(waited.mean())
            if waited.any():
                assert result.serving[row, hour] == pytest.approx(in_service[span][waited].mean())
            else:
                assert math.isnan(result.serving[row, hour])


def test_a_served_call_without_a_recorded_start_counts_where_it_left_the_queue(
    tmp_path: Path,
) -> None:
    # Served calls with no service start in the log (448 in the full file):
    # GIL answered at once at 01:14:41, when the call left the voice menu;
    # DAN's caller queued at 10:10:00 and waited 600 s, so DAN began at 10:20.
    rows = [
        "1999-03-09,AA0101,1,1999-03-09 01:14:32,1999-03-09 01:14:41,,,PS,0,0,0,AGENT,0,GIL",
        "1999-03-09,AA0101,2,1999-03-09 10:09:50,1999-03-09 10:10:00,1999-03-09 10:10:00,,"
        "PS,2,600,0,AGENT,1,DAN",
    ]
    calls = load_anonymous_bank(_write(tmp_path, *rows))
    assert np.isnan(calls.service_start_seconds).all()
    np.testing.assert_array_equal(calls.inferred_service_start(), [4_481.0, 37_200.0])
    duty = agents_on_duty(calls, interval_minutes=15)
    expected = np.zeros((1, 96), dtype=int)
    expected[0, 4 * 1 + 0] = 1  # 01:00-01:15
    expected[0, 4 * 10 + 1] = 1  # 10:15-10:30, not 10:00-10:15 when the call queued
    np.testing.assert_array_equal(duty.counts, expected)


_BLANKABLE = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 86_400 - 1),
        st.sampled_from([0, 0, 1, 30, 400, 1_000, 5_000]),
        st.sampled_from([0, 1, 60, 300, 2_000]),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


@given(_BLANKABLE)
def test_a_missing_service_start_counts_as_the_queue_exit(
    calls: list[tuple[int, int, int, int, bool]],
) -> None:
    # In _synthetic every served call starts service when it leaves the queue;
    # erasing some of those starts from the records must change no count.
    records = _synthetic([c[:4] for c in calls])
    blank = np.array([c[4] for c in calls]) & (records.outcome == "served")
    starts = records.service_start_seconds.copy()
    starts[blank] = math.nan
    erased = CallRecords(**(records.columns() | {"service_start_seconds": starts}))
    for minutes in (15, 60):
        np.testing.assert_array_equal(
            agents_on_duty(erased, interval_minutes=minutes).counts,
            agents_on_duty(records, interval_minutes=minutes).counts,
        )
        got = available_agents(erased, interval_minutes=minutes)
        want = available_agents(records, interval_minutes=minutes)
        np.testing.assert_array_equal(got.waiting_share, want.waiting_share)
        np.testing.assert_array_equal(got.serving, want.serving)


def test_available_agents_stay_within_the_agents_seen(full: CallRecords) -> None:
    available = available_agents(full, interval_minutes=30)
    seen = agents_on_duty(full, interval_minutes=30)
    assert available.days == seen.days
    above = (available.waiting_share > 0) & (available.serving > seen.counts + 1e-9)
    # Only the log's own slips can put more calls in service than named
    # agents seen serving: a call served by no named agent, or an agent
    # recorded on two calls at once. One of them is in every such half-hour.
    served = (full.outcome == "served") & np.isfinite(full.service_start_seconds)
    first = np.datetime64(seen.days[0], "D")
    start = (full.day[served] - first).astype(np.int64) * 86_400.0
    start = start + full.service_start_seconds[served]
    end = start + full.service_time[served]
    agent = full.agent[served]
    for row, column in np.argwhere(above):
        low = (np.datetime64(seen.days[row], "D") - first).astype(np.int64) * 86_400.0
        low += column * 1_800.0
        inside = (start < low + 1_800.0) & (end > low)
        names = agent[inside].tolist()
        spans = sorted(zip(names, start[inside].tolist(), end[inside].tolist(), strict=True))
        twice = any(a == b and s2 < e1 for (a, _, e1), (b, s2, _) in itertools.pairwise(spans))
        assert "" in names or twice, (seen.days[row], column)
    # The bank's agents were far from all available while callers waited:
    # in half-hours with callers waiting at least half the time, about two
    # thirds of the agents seen were serving.
    busy = available.waiting_share >= 0.5
    share = float(available.serving[busy].sum() / seen.counts[busy].sum())
    assert 0.5 < share < 0.8


def test_available_agents_rejects_bad_intervals() -> None:
    with pytest.raises(InvalidInputError, match="interval_minutes: got 20"):
        available_agents(load_anonymous_bank(), interval_minutes=20)


# ---------------------------------------------------------------- Kaplan–Meier


def test_kaplan_meier_matches_a_hand_computation() -> None:
    # t:  2  3  3+ 5  7+ 8  8  10+   (+ = censored)
    # at 2: 8 at risk, 1 event -> 7/8;  at 3: 7 at risk, 1 event -> 6/8
    # at 5: 5 at risk, 1 event -> 6/8 × 4/5 = 0.6;  at 8: 3 at risk, 2 events -> 0.2
    km = KaplanMeier([2, 3, 3, 5, 7, 8, 8, 10], np.array([1, 1, 0, 1, 0, 1, 1, 0], dtype=bool))
    assert km.times.tolist() == [2, 3, 5, 8]
    np.testing.assert_allclose(km.survival_probabilities, [0.875, 0.75, 0.6, 0.2])
    assert km.survival(1.9) == 1.0
    assert km.survival(3) == pytest.approx(0.75)
    assert km.survival(7.99) == pytest.approx(0.6)
    assert km.tail_probability == pytest.approx(0.2)
    # Beyond 3.5 (S = 0.75): P(5) = 0.15/0.75, P(8) = 0.4/0.75, P(never) = 0.2/0.75.
    draws = km.sample_beyond(rng=np.random.default_rng(1), seconds=3.5, size=30_000)
    values, counts = np.unique(draws, return_counts=True)
    assert values.tolist() == [5.0, 8.0, math.inf]
    expected = np.array([0.15, 0.4, 0.2]) / 0.75 * draws.size
    assert stats.chisquare(counts, expected).pvalue > P_MIN


def test_sample_beyond_edges() -> None:
    km = KaplanMeier([1.0, 2.0], [True, True])
    rng = np.random.default_rng(0)
    assert km.tail_probability == 0.0
    # No mass left beyond the last event: the caller abandons at once.
    assert km.sample_beyond(rng=rng, seconds=5.0) == 5.0
    assert km.sample_beyond(rng=rng, seconds=0.0, size=4).tolist() != []
    assert all(d > 1.0 for d in km.sample_beyond(rng=rng, seconds=1.0, size=50))
    censored_only = KaplanMeier([3.0], [False])
    assert censored_only.sample_beyond(rng=rng) == math.inf


@given(
    st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=40).filter(
        lambda rows: any(event for _, event in rows)
    )
)
def test_kaplan_meier_agrees_with_scipy(rows: list[tuple[int, bool]]) -> None:
    durations = np.array([d for d, _ in rows], dtype=float)
    observed = np.array([e for _, e in rows])
    km = KaplanMeier(durations, observed)
    reference = stats.ecdf(
        stats.CensoredData(uncensored=durations[observed], right=durations[~observed])
    )
    grid = np.arange(-1, 22) + 0.5
    np.testing.assert_allclose(km.survival(grid), reference.sf.evaluate(grid), atol=1e-12)


def test_kaplan_meier_recovers_exponential_patience_from_censored_data() -> None:
    rng = np.random.default_rng(12)
    patience = rng.exponential(100.0, 40_000)
    wait = rng.exponential(150.0, 40_000)
    km = KaplanMeier(np.minimum(patience, wait), patience <= wait)
    for t in (25.0, 50.0, 100.0, 200.0):
        assert km.survival(t) == pytest.approx(math.exp(-t / 100.0), abs=0.01)
    # Memorylessness: patience beyond a wait of 80 s exceeds it by an Exp(100).
    draws = km.sample_beyond(rng=np.random.default_rng(13), seconds=80.0, size=20_000)
    finite = draws[np.isfinite(draws)]
    assert finite.size > 0.99 * draws.size
    assert stats.kstest(finite - 80.0, stats.expon(scale=100.0).cdf).pvalue > P_MIN


@pytest.mark.parametrize(
    ("durations", "observed", "field"),
    [
        ([], [], "durations"),
        ([1.0, -2.0], [True, True], "durations"),
        ([1.0, math.nan], [True, True], "durations"),
        ([1.0, 2.0], [True], "observed"),
        ([1.0, 2.0], [1, 0], "observed"),
    ],
)
def test_kaplan_meier_rejects_bad_input(
    durations: list[float], observed: list[Any], field: str
) -> None:
    with pytest.raises(InvalidInputError, match=field):
        KaplanMeier(durations, observed)


def test_sample_beyond_rejects_bad_arguments() -> None:
    km = KaplanMeier([1.0], [True])
    with pytest.raises(InvalidInputError, match="rng"):
        km.sample_beyond(rng=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="seconds"):
        km.sample_beyond(rng=np.random.default_rng(0), seconds=-1.0)
    with pytest.raises(InvalidInputError, match="size"):
        km.sample_beyond(rng=np.random.default_rng(0), size=-3)


# ---------------------------------------------------------------- the example


def test_profile_example_reports_the_excerpt() -> None:
    script = Path(__file__).resolve().parents[1] / "examples" / "anonymous_bank_profile.py"
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "5,700 calls on 3 working days (1999-05-09 to 1999-05-11)"
    table = {int(line.split()[0]): line.split() for line in lines[3:27]}
    assert sorted(table) == list(range(24))
    # 24 values each rounded to 0.1: the sum is within 24 × 0.05 of the truth.
    assert sum(float(row[1]) for row in table.values()) == pytest.approx(5_700 / 3, abs=1.2)
    # Hour 10's abandonment, recomputed from the raw excerpt with the csv module.
    with gzip.open(EXCERPT, "rt", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["hour"] == "10"]
    queued = sum(row["queued"] == "1" for row in rows)
    abandoned = sum(row["abandoned_in_queue"] == "1" for row in rows)
    assert table[10][2] == f"{100 * abandoned / queued:.1f}"
    assert any(line.startswith("synthetic day from the hourly profile") for line in lines)
