"""``valueroute forecast``: the summary, the CSV, the files for ``valueroute staff`` and the
simulator, a CSV of timestamps, and refusals."""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from valueroute.cli import _Parser, _UsageError
from valueroute.cli import forecast as forecast_command
from valueroute.erlang import read_forecast
from valueroute.errors import InvalidInputError
from valueroute.sim.arrivals import load_profile_csv


def run(argv: list[str]) -> int:
    """Parse and run like ``valueroute forecast ...`` (the subcommand on its own parser)."""
    parser = _Parser(prog="valueroute")
    forecast_command.register(parser.add_subparsers(dest="command", required=True))
    args: argparse.Namespace = parser.parse_args(["forecast", *argv])
    code: int = args.run(args)
    return code


def test_the_summary_lists_each_day_with_its_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["excerpt", "--start", "1999-05-11", "--days", "2", "--holidays", "IL"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("profile forecast of 6 task type(s), 60-minute intervals")
    assert out[2].startswith("1999-05-11 Tue  regular")
    assert out[3].startswith("1999-05-12 Wed  regular")


def test_the_files_feed_valueroute_staff_and_the_simulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    assert run(["excerpt", "--start", "1999-05-11", "--days", "1", "--out", str(folder)]) == 0
    assert "wrote 3 files" in capsys.readouterr().out
    staff_file = folder / "staff-1999-05-11.csv"
    day = read_forecast(staff_file)
    assert len(day.labels) == 24
    profiles = load_profile_csv(folder / "profiles-1999-05-11.csv")
    assert [p.task_type for p in profiles] == ["IN", "NE", "NW", "PE", "PS", "TT"]
    assert sum(sum(p.volumes) for p in profiles) == pytest.approx(float(day.calls.sum()))
    rows = list(csv.DictReader(io.StringIO((folder / "forecast.csv").read_text())))
    assert len(rows) == 24 * 6
    assert sum(float(r["volume"]) for r in rows) == pytest.approx(float(day.calls.sum()), rel=1e-6)
    staffed = subprocess.run(
        [
            sys.executable,
            "-m",
            "valueroute",
            "staff",
            str(staff_file),
            "--interval",
            "3600",
            "--target",
            "0.8",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert staffed.returncode == 0, staffed.stderr
    assert "10:00" in staffed.stdout


def test_a_csv_of_timestamps_and_the_csv_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["at,queue"]
    for day in range(1, 15):
        for hour in (9, 9, 10, 14):
            lines.append(f"2026-03-{day:02d} {hour:02d}:15:00,{'a' if hour != 14 else 'b'}")
    source = tmp_path / "log.csv"
    source.write_text("\n".join(lines) + "\n")
    code = run(
        [
            str(source),
            "--timestamps",
            "--time-column",
            "at",
            "--type-column",
            "queue",
            "--start",
            "2026-03-15",
            "--days",
            "1",
            "--model",
            "seasonal_naive",
            "--csv",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_hour = {(r["interval_start"], r["task_type"]): float(r["volume"]) for r in rows}
    assert by_hour[("09:00", "a")] == 2.0
    assert by_hour[("14:00", "b")] == 1.0
    assert sum(by_hour.values()) == 4.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["excerpt", "--timestamps", "--start", "1999-05-11"], "^log: got 'excerpt'"),
        (["excerpt", "--start", "1999-05-11", "--holidays", "XX"], "^holidays.country"),
        (["excerpt", "--start", "1999-05-09"], "^train_start"),
    ],
)
def test_bad_requests_are_refused_naming_what_was_wrong(argv: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        run(argv)


def test_a_start_that_is_not_a_date_is_a_usage_error() -> None:
    with pytest.raises(_UsageError, match="expected an ISO date"):
        run(["excerpt", "--start", "next week"])
