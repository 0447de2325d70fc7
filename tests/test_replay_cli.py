"""``valueroute replay``: the table, JSON, CSV and per-call outputs, and one-line refusals.

Observed figures are checked against counts made here from the bundled
excerpt's rows; the simulated ones against the library run with the same
arguments (the command only presents them).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from valueroute.cli import main
from valueroute.replay import build_replay, run_replay

MONDAY = "1999-05-10"


def _monday_calls() -> list[dict[str, str]]:
    """The excerpt's Monday calls that asked for an agent: served, or queued then hung up."""
    excerpt = resources.files("valueroute") / "data" / "anonymous_bank_1999_excerpt.csv.gz"
    with excerpt.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
        rows = list(csv.DictReader(text))
    return [
        r for r in rows if r["date"] == MONDAY and (r["outcome"] == "AGENT" or r["queued"] == "1")
    ]


def _hand_counted(rows: list[dict[str, str]]) -> dict[str, float]:
    served_waits = [float(r["q_time"]) for r in rows if r["outcome"] == "AGENT"]
    abandoned = sum(1 for r in rows if r["outcome"] == "HANG")
    queued = sum(1 for r in rows if r["outcome"] == "HANG" or float(r["q_time"]) > 0)
    return {
        "calls": len(rows),
        "queued": queued,
        "served": len(served_waits),
        "abandoned": abandoned,
        "mean_wait": sum(served_waits) / len(served_waits),
        "abandonment": abandoned / queued,
    }


def test_the_table_shows_each_hour_and_the_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "excerpt", "--days", MONDAY, "--replications", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    calls = _monday_calls()
    assert (
        lines[0]
        == f"replay of {MONDAY}: {len(calls)} calls, 1 replication(s), staffing 'available'"
    )
    hours = sorted({int(r["hour"]) for r in calls})
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert [label for label in rows if label.isdigit()] == [f"{h:02d}" for h in hours]
    assert int(rows["all"][1]) == len(calls)
    assert float(rows["all"][3]) == pytest.approx(
        100 * _hand_counted(calls)["abandonment"], abs=0.05
    )


def test_json_observed_figures_are_the_logs_and_simulated_ones_the_librarys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["replay", "excerpt", "--days", MONDAY, "--replications", "2", "--seed", "7", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    calls = _monday_calls()
    assert data["days"] == [MONDAY]
    assert data["replications"] == 2
    for name, value in _hand_counted(calls).items():
        assert data["all"]["observed"][name] == pytest.approx(value), name
    per_hour = Counter(int(r["hour"]) for r in calls)
    assert {row["hour"]: row["observed"]["calls"] for row in data["hours"]} == per_hour
    high = [r for r in calls if r["priority"] == "2"]
    assert data["classes"]["high"]["observed"]["calls"] == len(high)

    library = run_replay(build_replay(days=[MONDAY]), replications=2, seed=7)
    expected = library.simulated_all
    for name in ("calls", "queued", "served", "abandoned", "mean_wait", "abandonment"):
        assert data["all"]["simulated"][name] == pytest.approx(getattr(expected, name)), name
    assert data["all"]["simulated"]["calls"] == len(calls)


def test_csv_has_one_row_per_hour_with_calls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "excerpt", "--days", MONDAY, "--replications", "1", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    per_hour = Counter(int(r["hour"]) for r in _monday_calls())
    assert {int(row["hour"]): float(row["calls_observed"]) for row in rows} == per_hour
    for row in rows:
        if row["abandonment_observed"]:
            share = float(row["abandonment_observed"])
            assert share == pytest.approx(
                float(row["abandoned_observed"]) / float(row["queued_observed"])
            )
        else:  # nobody queued that hour: no share to give
            assert float(row["queued_observed"]) == 0


def test_calls_csv_holds_every_call_once_per_replication(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "calls.csv"
    argv = ["replay", "excerpt", "--days", MONDAY, "--replications", "2"]
    assert main([*argv, "--calls-csv", str(target)]) == 0
    assert f"per-call outcomes: {target} (" in capsys.readouterr().out
    with target.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    calls = _monday_calls()
    assert len(written) == 2 * len(calls)
    assert Counter((r["vru_line"], r["call_id"]) for r in written) == Counter(
        {(r["vru_line"], r["call_id"]): 2 for r in calls}
    )
    assert {r["observed_outcome"] for r in written} <= {"served", "abandoned"}
    for row in written:
        if row["simulated_outcome"] == "waiting":
            assert math.isnan(float(row["simulated_wait"]))
        else:
            assert float(row["simulated_wait"]) >= 0


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--days", "1999-5-10"], "--days: got '1999-5-10'"),
        (["--days", "1999-05-12"], "days: got ['1999-05-12']"),
        (["--replications", "0"], "--replications: got '0'"),
        (["--interval-minutes", "20"], "--interval-minutes: invalid choice:"),
        (["--staffing", "rostered"], "--staffing: invalid choice:"),
        (["--json", "--csv"], "--csv: not allowed with argument --json"),
    ],
)
def test_bad_options_are_refused_in_one_line(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "excerpt", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert named in captured.err
    assert arguments[-1] in captured.err


def test_a_log_that_is_not_there_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "calls.csv.gz"
    assert main(["replay", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("valueroute replay: error: path: got '")
    assert "calls.csv.gz' (expected an existing file)" in err


@pytest.mark.parametrize("where", ["folder", "no_parent"])
def test_a_calls_csv_that_cannot_be_written_is_refused_before_the_replay(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path if where == "folder" else tmp_path / "missing" / "calls.csv"
    before = sorted(tmp_path.rglob("*"))
    assert main(["replay", "excerpt", "--calls-csv", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before anything ran
    assert "--calls-csv: got" in captured.err
    assert sorted(tmp_path.rglob("*")) == before
