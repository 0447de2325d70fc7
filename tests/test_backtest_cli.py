"""``valueroute backtest``: the summary, JSON, CSV, a given roster, and one-line refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from valueroute.cli import main

PLAN = Path(__file__).resolve().parents[1] / "examples" / "schedule_plan.csv"
WINDOWS = ["--train", "1999-05-09", "1999-05-10", "--predict", "1999-05-11", "1999-05-11"]


def test_the_summary_has_one_line_per_kpi(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "excerpt", *WINDOWS, "--hours", "7", "22", "--replications", "1"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("back-test of 1 day(s) 1999-05-11 to 1999-05-11, hours 07-22")
    assert "supply estimated" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == [
        "volume",
        "queued_share",
        "abandonment",
        "mean_wait",
        "service_level",
    ]


def test_json_holds_the_errors_of_the_model_and_the_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["backtest", "excerpt", *WINDOWS, "--replications", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["days"] == ["1999-05-11"]
    assert data["errors"]["abandonment"]["hours"] <= 24
    assert set(data["naive_errors"]) == set(data["errors"])
    assert len(data["intervals"]) == 24


def test_csv_has_one_row_per_day_and_interval(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backtest", "excerpt", *WINDOWS, "--hours", "8", "20", "--replications", "1", "--csv"]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["interval"] for row in rows] == [f"{h:02d}:00" for h in range(8, 20)]
    assert all(float(row["volume_observed"]) > 0 for row in rows)


def test_a_given_roster_is_simulated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("interval,agents\n" + "".join(f"{h:02d}:00,40\n" for h in range(24)))
    argv = ["backtest", "excerpt", *WINDOWS, "--replications", "1", "--json"]
    assert main([*argv, "--roster", str(roster)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["roster_source"] == "given"
    # Forty agents all day: next to nobody waits.
    assert data["errors"]["queued_share"]["period_predicted"] < 0.05


def test_the_calibrated_supply_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["backtest", "excerpt", *WINDOWS, "--hours", "7", "22", "--replications", "1"]
    assert main([*argv, "--supply", "calibrated", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["roster_source"] == "calibrated"
    assert data["counted_roster"]["interval_minutes"] == 30
    assert data["roster"] != data["counted_roster"]  # the calibration moved the count
    assert main([*argv, "--supply", "calibrated"]) == 0
    assert "supply calibrated" in capsys.readouterr().out.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (
            ["--train", "1999-05-09", "1999-05-11", "--predict", "1999-05-11", "1999-05-11"],
            "predict",
        ),
        (["--train", "1999-05-09", "1999-05-10", "--predict", "1999-05-11", "May"], "--predict"),
        ([*WINDOWS, "--weekdays", "fri"], "weekdays"),
        ([*WINDOWS, "--weekdays", "funday"], "--weekdays"),
        ([*WINDOWS, "--hours", "22", "7"], "hours"),
        ([*WINDOWS, "--replications", "0"], "--replications"),
        ([*WINDOWS, "--roster", "no-such-roster.csv"], "roster"),
        ([*WINDOWS, "--supply", "guess"], "--supply"),
        ([*WINDOWS, "--classes", "three"], "--classes"),
        ([*WINDOWS, "--supply", "calibrated", "--roster", str(PLAN)], "supply"),
    ],
)
def test_bad_command_lines_fail_in_one_line(
    argv: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "excerpt", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert field in err
    assert "Traceback" not in err


def test_priority_classes_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backtest", "excerpt", *WINDOWS, "--hours", "7", "22", "--replications", "1"]
    assert main([*argv, "--classes", "priority"]) == 0
    assert "priority classes" in capsys.readouterr().out.splitlines()[0]
    assert main([*argv, "--classes", "priority", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["classes"] == "priority"
    assert data["class_model"]["min_class_calls"] == 30
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["classes"] == "one"
