"""``valueroute schedule`` from the shell: tables, JSON, CSV, files, simulation, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from valueroute import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SPEC = """
interval_minutes = 60
start = "08:00"
requirements = [2, 3, 5, 5, 4, 3, 2, 1]

[[templates]]
name = "part"
starts = ["08:00-12:00"]
length_minutes = 240

[[templates]]
name = "full"
starts = ["08:00-09:00"]
length_minutes = 480
breaks = [{ minutes = 60, earliest = 180, latest = 300 }]
"""


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as the command line registers it (added here until it is listed there)."""
    if "valueroute.cli.schedule" not in cli._COMMANDS:
        monkeypatch.setattr(cli, "_COMMANDS", (*cli._COMMANDS, "valueroute.cli.schedule"))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def spec_file(tmp_path: Path, text: str = SPEC) -> str:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return str(path)


def test_prints_the_roster_and_its_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["schedule", spec_file(tmp_path)], capsys)
    assert code == 0, err
    assert "proven optimal" in out
    assert "every interval covered" in out
    assert "12:00+60" in out or "11:00+60" in out or "13:00+60" in out  # a lunch break


def test_json_csv_and_out_folder_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = spec_file(tmp_path)
    code, out, _ = run(["schedule", spec, "--json", "--out", str(tmp_path / "out")], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["totals"]["covered"] is True
    heads = [row["headcount"] for row in data["intervals"]]
    assert all(h >= r for h, r in zip(heads, [2, 3, 5, 5, 4, 3, 2, 1], strict=True))
    written = json.loads((tmp_path / "out" / "schedule.json").read_text())
    assert written["totals"]["cost"] == data["totals"]["cost"]
    shifts = list(csv.DictReader(io.StringIO((tmp_path / "out" / "shifts.csv").read_text())))
    assert sum(int(row["count"]) for row in shifts) == data["totals"]["shifts"]
    code, out, _ = run(["schedule", spec, "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(row["headcount"]) for row in rows] == heads


def test_reads_the_requirements_staff_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forecast = str(EXAMPLES / "forecast_day.csv")
    code, plan, _ = run(
        ["staff", forecast, "--target", "0.8", "--shrinkage", "0.3", "--csv"], capsys
    )
    assert code == 0
    (tmp_path / "plan.csv").write_text(plan)
    scheduled = [int(row["scheduled"]) for row in csv.DictReader(io.StringIO(plan))]
    code, out, err = run(
        [
            "schedule",
            str(EXAMPLES / "schedule_day.toml"),
            "--requirements",
            str(tmp_path / "plan.csv"),
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    assert [row["requirement"] for row in data["intervals"]] == scheduled
    assert data["totals"]["covered"] is True
    assert data["totals"]["status"] == "optimal"


def test_a_budget_leaves_a_shortage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["schedule", spec_file(tmp_path), "--budget", "20", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["totals"]["cost"] <= 20
    assert data["totals"]["shortage_hours"] > 0


def test_simulate_and_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "day.toml"
    scenario.write_text(
        """
horizon_seconds = 32400
interval_minutes = 60
seed = 3

[[task_types]]
name = "calls"
handle = { kind = "exponential", mean_seconds = 180 }
sla_seconds = 20

[[arrivals]]
kind = "profile"
task_type = "calls"
interval_minutes = 60
volumes = [60, 120, 180, 180, 120, 90, 60, 30]

[[agent_groups]]
name = "agents"
count = 1
"""
    )
    code, out, err = run(
        [
            "schedule",
            spec_file(tmp_path),
            "--simulate",
            str(scenario),
            "--replications",
            "4",
            "--serial",
        ],
        capsys,
    )
    assert code == 0, err
    assert "converged: every judged interval meets every target" in out
    assert "intervals missed" in out


@pytest.mark.parametrize(
    ("extra", "text", "message"),
    [
        ([], SPEC.replace("requirements = [2, 3, 5, 5, 4, 3, 2, 1]\n", ""), "requirements"),
        (
            [],
            SPEC.replace('start = "08:00"', 'start = "08:00"\nmax_headcount = 4'),
            "max_headcount",
        ),
        (["--requirements", "missing.csv"], SPEC, "cannot be read"),
        (["--budget", "-1"], SPEC, "--budget"),
        (["--simulate", "demo", "--awt", "20", "--asa", "30"], SPEC, "--awt"),
        ([], SPEC.replace("length_minutes = 240", "length_minutes = 250"), "grid"),
    ],
)
def test_failures_are_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    text: str,
    message: str,
) -> None:
    code, out, err = run(["schedule", spec_file(tmp_path, text), *extra], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("interval,calls\n08:00,3\n", "none of required, scheduled, agents"),
        ("required\n3\nthree\n", "line 3"),
        ("required\n", "no rows"),
        ("required\n-1\n", "line 2"),
    ],
)
def test_bad_requirement_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    (tmp_path / "plan.csv").write_text(content)
    code, _, err = run(
        ["schedule", spec_file(tmp_path), "--requirements", str(tmp_path / "plan.csv")], capsys
    )
    assert code == 2
    assert message in err
