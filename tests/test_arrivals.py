"""Arrival processes: Poisson statistics, profile volumes, exact trace replay, file errors."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from valueroute.errors import InvalidInputError
from valueroute.sim.arrivals import (
    Arrival,
    PoissonArrivals,
    ProfileArrivals,
    TraceArrivals,
    arrival_process_from,
    load_profile_csv,
    load_trace,
    merge_arrivals,
)

P_MIN = 1e-3


def _times(process: Any, seed: int) -> np.ndarray:
    return np.array([a.time for a in process.generate(rng=np.random.default_rng(seed))])


def _dispersion_p_value(counts: np.ndarray, mean: float) -> float:
    # Fisher's index of dispersion with a known Poisson mean: Σ(c−m)²/m is
    # approximately chi-square with len(counts) degrees of freedom. Two-sided,
    # so both over- and under-dispersion (e.g. a regular grid) fail.
    statistic = float(np.sum((counts - mean) ** 2) / mean)
    tail = stats.chi2.sf(statistic, counts.size)
    return 2 * min(tail, 1 - tail)


# ---------------------------------------------------------------- Poisson


def test_poisson_counts_per_hour_are_poisson() -> None:
    hours = 2000
    process = PoissonArrivals(task_type="a", rate_per_hour=30, end_seconds=hours * 3600.0)
    times = _times(process, 1)
    counts = np.bincount((times // 3600).astype(int), minlength=hours)
    assert counts.size == hours
    assert abs(counts.mean() - 30) < 5 * math.sqrt(30 / hours)
    assert _dispersion_p_value(counts, 30.0) > P_MIN


def test_poisson_gaps_are_exponential_with_the_stated_mean() -> None:
    process = PoissonArrivals(task_type="a", rate_per_hour=90, start_seconds=500)
    arrivals = process.generate(rng=np.random.default_rng(2))
    times = np.array([next(arrivals).time for _ in range(20_000)])
    gaps = np.diff(np.concatenate([[500.0], times]))
    assert stats.kstest(gaps, stats.expon(scale=40).cdf).pvalue > P_MIN
    assert times.min() >= 500


def test_poisson_respects_start_and_end_and_zero_rate() -> None:
    process = PoissonArrivals(task_type="a", rate_per_hour=3600, start_seconds=100, end_seconds=160)
    times = _times(process, 3)
    assert times.min() >= 100
    assert times.max() < 160
    assert process.expected_count() == 60
    none = PoissonArrivals(task_type="a", rate_per_hour=0)
    assert list(none.generate(rng=np.random.default_rng(0))) == []
    assert none.expected_count() == 0


def test_a_regular_grid_fails_the_dispersion_check() -> None:
    # The check above has power: exactly 30 arrivals every hour is rejected.
    assert _dispersion_p_value(np.full(2000, 30), 30.0) < P_MIN


def test_poisson_records_carry_the_type_and_no_trace_fields() -> None:
    process = PoissonArrivals(task_type="claims", rate_per_hour=60)
    first = next(process.generate(rng=np.random.default_rng(4)))
    assert first.task_type == "claims"
    assert first.handle_time is None
    assert first.patience is None
    assert dict(first.attributes) == {}


def test_same_generator_seed_gives_the_same_arrivals() -> None:
    process = PoissonArrivals(task_type="a", rate_per_hour=60, end_seconds=36_000)
    assert _times(process, 5).tolist() == _times(process, 5).tolist()


# ---------------------------------------------------------------- profiles


def test_profile_counts_per_interval_follow_the_volumes() -> None:
    volumes = [5.0, 0.0, 20.0, 12.5, 1.0]
    days = 2000
    profile = ProfileArrivals(
        task_type="a", interval_minutes=15, volumes=volumes, start_seconds=3600, repeat=days
    )
    times = _times(profile, 6)
    assert times.min() >= 3600
    assert times.max() < profile.end_seconds
    slot = ((times - 3600) // 900).astype(int)
    counts = np.bincount(slot, minlength=len(volumes) * days).reshape(days, len(volumes))
    for column, volume in enumerate(volumes):
        observed = counts[:, column]
        if volume == 0:
            assert observed.sum() == 0
            continue
        assert abs(observed.mean() - volume) < 5 * math.sqrt(volume / days)
        assert _dispersion_p_value(observed, volume) > P_MIN
    # Given its count, a Poisson process places arrivals uniformly in the interval.
    offsets = ((times - 3600) % 900) / 900
    assert stats.kstest(offsets, "uniform").pvalue > P_MIN


def test_profile_gaps_within_an_interval_are_exponential() -> None:
    profile = ProfileArrivals(task_type="a", interval_minutes=60, volumes=[20_000])
    times = _times(profile, 7)
    gaps = np.diff(times)
    assert stats.kstest(gaps, stats.expon(scale=3600 / 20_000).cdf).pvalue > P_MIN


@given(
    st.lists(st.floats(0, 30), min_size=1, max_size=12),
    st.sampled_from([15, 30, 60]),
    st.integers(1, 3),
    st.floats(-1e5, 1e5),
    st.integers(0, 2**32),
)
def test_profile_arrivals_are_sorted_and_inside_positive_volume_intervals(
    volumes: list[float], minutes: int, repeat: int, start: float, seed: int
) -> None:
    profile = ProfileArrivals(
        task_type="a",
        interval_minutes=minutes,
        volumes=volumes,
        start_seconds=start,
        repeat=repeat,
    )
    times = _times(profile, seed)
    assert np.all(np.diff(times) >= 0)
    for t in times:
        assert start <= t < profile.end_seconds
        assert profile.rate_per_second(t) > 0
    assert profile.expected_count() == pytest.approx(sum(volumes) * repeat)


def test_profile_rate_per_second() -> None:
    profile = ProfileArrivals(task_type="a", interval_minutes=30, volumes=[18, 36], repeat=2)
    assert profile.rate_per_second(0) == 18 / 1800
    assert profile.rate_per_second(1800) == 36 / 1800
    assert profile.rate_per_second(3600 + 5) == 18 / 1800
    assert profile.rate_per_second(-1) == 0
    assert profile.rate_per_second(profile.end_seconds) == 0


# ---------------------------------------------------------------- merging


def test_merge_keeps_time_order_and_source_order_on_ties() -> None:
    a = [Arrival(1.0, "a"), Arrival(3.0, "a")]
    b = [Arrival(1.0, "b"), Arrival(2.0, "b")]
    merged = list(merge_arrivals(a, b))
    assert [(x.time, x.task_type) for x in merged] == [
        (1.0, "a"),
        (1.0, "b"),
        (2.0, "b"),
        (3.0, "a"),
    ]


# ---------------------------------------------------------------- trace replay


def test_csv_trace_replays_exactly_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_text(
        "time,task_type,handle_time,patience,segment\n"
        "40.0,sales,95.5,120,silver\n"
        "12.5,claims,310,,gold\n"
        "40.0,claims,,,\n"
    )
    assert load_trace(path) == [
        Arrival(12.5, "claims", 310.0, None, {"segment": "gold"}),
        Arrival(40.0, "sales", 95.5, 120.0, {"segment": "silver"}),
        Arrival(40.0, "claims", None, None, {"segment": ""}),
    ]


def test_jsonl_trace_keeps_attribute_types(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    lines = [
        {"time": 5, "task_type": "a", "handle_time": 60, "vip": True, "value": 12.5},
        {"time": 1, "task_type": "b", "patience": 30, "note": None},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    assert load_trace(path) == [
        Arrival(1.0, "b", None, 30.0, {"note": None}),
        Arrival(5.0, "a", 60.0, None, {"vip": True, "value": 12.5}),
    ]
    replay = TraceArrivals(path=str(path))
    assert list(replay.generate()) == load_trace(path)


def test_gzipped_csv_trace_and_explicit_format(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("time,task_type\n3,a\n1,b\n")
    assert [a.time for a in load_trace(path)] == [1.0, 3.0]
    other = tmp_path / "trace.txt"
    other.write_text('{"time": 2, "task_type": "a"}\n')
    assert load_trace(other, format="jsonl") == [Arrival(2.0, "a")]
    with pytest.raises(InvalidInputError, match="format"):
        load_trace(other)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("time,task_type\nabc,a\n", "line 2, time"),
        ("time,task_type\n1,\n", "line 2, task_type"),
        ("time,task_type\nnan,a\n", "line 2, time"),
        ("time,task_type,handle_time\n1,a,-3\n", "line 2, handle_time"),
        ("time,task_type,patience\n1,a,2\n2,a,inf\n", "line 3, patience"),
        ("task_type\na\n", "header"),
        ("time,task_type\n1,a,extra\n", "line 2, row"),
    ],
)
def test_bad_csv_traces_name_line_and_column(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=where):
        load_trace(path)


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("[1, 2]", "line 1, line"),
        ("{not json", "line 1, line"),
        ('{"task_type": "a"}', "line 1, time"),
        ('{"time": true, "task_type": "a"}', "line 1, time"),
        ('{"time": 1, "task_type": "a", "nested": {"x": 1}}', "line 1, nested"),
    ],
)
def test_bad_jsonl_traces_name_line_and_field(tmp_path: Path, line: str, where: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InvalidInputError, match=where):
        load_trace(path)


# ---------------------------------------------------------------- profile CSV


def test_profile_csv_with_types(tmp_path: Path) -> None:
    path = tmp_path / "profile.csv"
    path.write_text(
        "interval_start,task_type,volume\n"
        "08:00,claims,12\n08:30,claims,15.5\n09:00,claims,0\n"
        "08:00,sales,4\n09:00,sales,6\n"
    )
    claims, sales = load_profile_csv(path, repeat=2)
    assert claims == ProfileArrivals(
        task_type="claims",
        interval_minutes=30,
        volumes=[12, 15.5, 0],
        start_seconds=8 * 3600,
        repeat=2,
    )
    assert sales.interval_minutes == 60
    assert sales.volumes == (4.0, 6.0)


def test_profile_csv_without_types_uses_the_keyword(tmp_path: Path) -> None:
    path = tmp_path / "profile.csv"
    path.write_text("interval_start,volume\n0,3\n")
    (profile,) = load_profile_csv(path, task_type="a", interval_minutes=15)
    assert profile.volumes == (3.0,)
    assert profile.end_seconds == 900
    with pytest.raises(InvalidInputError, match="interval_minutes"):
        load_profile_csv(path, task_type="a")
    with pytest.raises(InvalidInputError, match="task_type"):
        load_profile_csv(path)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("interval_start,volume\n08:00,1\n08:20,1\n", "line 3, interval_start"),
        ("interval_start,volume\n08:00,1\n08:15,1\n08:45,1\n", "line 4, interval_start"),
        ("interval_start,volume\n08:00,1\n08:15,-1\n", "line 3, volume"),
        ("interval_start,volume\n25:00,1\n", "line 2, interval_start"),
        ("interval_start,volume\n", "rows"),
        ("start,volume\n0,1\n", "header"),
    ],
)
def test_bad_profile_csv_names_line_and_column(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=where):
        load_profile_csv(path, task_type="a")


# ---------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "poisson", "task_type": "a", "rate_per_hour": -1}, "rate_per_hour"),
        ({"kind": "poisson", "task_type": "a", "rate_per_hour": math.inf}, "rate_per_hour"),
        ({"kind": "poisson", "task_type": "", "rate_per_hour": 1}, "task_type"),
        (
            {"kind": "poisson", "task_type": "a", "rate_per_hour": 1, "end_seconds": -5},
            "end_seconds",
        ),
        ({"kind": "poisson", "task_type": "a", "rate_per_second": 1}, "rate_per_hour"),
        (
            {"kind": "profile", "task_type": "a", "interval_minutes": 20, "volumes": [1]},
            "interval_minutes",
        ),
        (
            {"kind": "profile", "task_type": "a", "interval_minutes": 15, "volumes": []},
            "volumes",
        ),
        (
            {"kind": "profile", "task_type": "a", "interval_minutes": 15, "volumes": [1, -2]},
            "volumes",
        ),
        (
            {
                "kind": "profile",
                "task_type": "a",
                "interval_minutes": 15,
                "volumes": [1],
                "repeat": 0,
            },
            "repeat",
        ),
        ({"kind": "trace", "path": ""}, "path"),
        ({"kind": "renewal"}, "kind"),
    ],
)
def test_bad_processes_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        arrival_process_from(data)


def test_generators_need_an_explicit_rng() -> None:
    with pytest.raises(InvalidInputError, match="rng"):
        PoissonArrivals(task_type="a", rate_per_hour=1).generate()
    with pytest.raises(InvalidInputError, match="rng"):
        ProfileArrivals(task_type="a", interval_minutes=15, volumes=[1]).generate(rng=None)


def test_processes_round_trip_through_json() -> None:
    for process in (
        PoissonArrivals(task_type="a", rate_per_hour=12, end_seconds=60),
        ProfileArrivals(task_type="a", interval_minutes=60, volumes=[1, 2], repeat=3),
        TraceArrivals(path="calls.csv"),
    ):
        assert arrival_process_from(json.loads(process.model_dump_json())) == process


# ---------------------------------------------------------------- the docs page


DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "simulation-inputs.md"


def test_simulation_inputs_doc_examples_run() -> None:
    page = DOCS_PAGE
    text = page.read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]
    assert len(blocks) >= 6
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)


def test_simulation_inputs_doc_file_formats_load(tmp_path: Path) -> None:
    text = DOCS_PAGE.read_text(encoding="utf-8")
    samples = [block.split("```", 1)[0] for block in text.split("```text\n")[1:]]
    profile = next(s for s in samples if s.startswith("interval_start,"))
    (tmp_path / "profile.csv").write_text(profile)
    claims, sales = load_profile_csv(tmp_path / "profile.csv")
    assert (claims.interval_minutes, sales.interval_minutes) == (30, 60)
    trace_csv = next(s for s in samples if s.startswith("time,"))
    (tmp_path / "trace.csv").write_text(trace_csv)
    trace_jsonl = next(s for s in samples if s.startswith("{"))
    (tmp_path / "trace.jsonl").write_text(trace_jsonl)
    from_csv = load_trace(tmp_path / "trace.csv")
    from_jsonl = load_trace(tmp_path / "trace.jsonl")
    assert [(a.time, a.task_type, a.handle_time) for a in from_csv] == [
        (a.time, a.task_type, a.handle_time) for a in from_jsonl
    ]
    assert from_jsonl[0].attributes["vip"] is True


# ------------------------------------------------ bad files and arguments refused


def _refused_naming(field: str, call: Any) -> str:
    with pytest.raises(InvalidInputError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(field), message
    assert len(message) < 400, message
    return message


def test_load_trace_refuses_files_it_cannot_read_naming_the_path(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"time,task_type\n1,caf\xe9\n")
    assert "UTF-8" in _refused_naming("path", lambda: load_trace(latin))
    deep = tmp_path / "deep.jsonl"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    _refused_naming("deep.jsonl line 1, line", lambda: load_trace(deep))
    missing = tmp_path / "missing.csv"
    assert "missing.csv" in _refused_naming("path", lambda: load_trace(missing))
    assert "12345" in _refused_naming("path", lambda: load_trace(12345))  # type: ignore[arg-type]
    _refused_naming("path", lambda: load_trace("a\x00b.csv"))


def test_load_profile_csv_refuses_unreadable_files_and_bad_interval_minutes(
    tmp_path: Path,
) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"interval_start,volume\n08:00,\xe9\n")
    _refused_naming("path", lambda: load_profile_csv(latin, task_type="calls"))
    _refused_naming("path", lambda: load_profile_csv(tmp_path / "no.csv", task_type="calls"))
    good = tmp_path / "profile.csv"
    good.write_text("interval_start,volume\n08:00,3\n08:15,4\n")
    for bad in (7, "seven", 15.0, True, "x" * 10_000):
        message = _refused_naming(
            "interval_minutes",
            lambda bad=bad: load_profile_csv(good, task_type="calls", interval_minutes=bad),
        )
        assert (
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            not in message
        )
    (profile,) = load_profile_csv(good, task_type="calls", interval_minutes=15)
    assert profile.volumes == (3.0, 4.0)


def test_merge_arrivals_refuses_what_is_not_a_stream_of_arrivals() -> None:
    _refused_naming("sources.0", lambda: list(merge_arrivals(5)))  # type: ignore[arg-type]
    _refused_naming("sources", lambda: list(merge_arrivals([5])))  # type: ignore[list-item]
    _refused_naming(
        "sources",
        lambda: list(merge_arrivals([Arrival(1.0, "a")], [object()])),  # type: ignore[list-item]
    )
    merged = list(merge_arrivals([Arrival(2.0, "a")], [Arrival(1.0, "b"), Arrival(2.0, "b")]))
    assert [(a.time, a.task_type) for a in merged] == [(1.0, "b"), (2.0, "a"), (2.0, "b")]
