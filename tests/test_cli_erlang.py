"""``valueroute erlang`` and ``valueroute staff`` end to end, checked against mpmath."""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import pytest

from valueroute.cli import main

mpmath.mp.dps = 40


def mp_erlang_c(n: int, traffic: float) -> mpmath.mpf:
    a = mpmath.mpf(traffic)
    terms = [a**k / mpmath.factorial(k) for k in range(n + 1)]
    blocking = terms[-1] / mpmath.fsum(terms)
    return n * blocking / (n - a * (1 - blocking))


def mp_service_level(n: int, traffic: float, aht: float, awt: float) -> float:
    if n <= traffic:
        return 0.0
    waiting = mp_erlang_c(n, traffic)
    return float(1 - waiting * mpmath.exp(-(n - traffic) * mpmath.mpf(awt) / aht))


def mp_minimum_agents(traffic: float, aht: float, target: float, awt: float) -> int:
    n = 1
    while mp_service_level(n, traffic, aht, awt) < target:
        n += 1
    return n


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_erlang_finds_the_fewest_agents_from_calls(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(
        capsys,
        "erlang",
        "--calls",
        "100",
        "--interval",
        "1800",
        "--aht",
        "180",
        "--target",
        "0.8",
        "--awt",
        "20",
        "--json",
    )
    assert report["traffic"] == pytest.approx(10.0)
    assert report["agents"] == mp_minimum_agents(10.0, 180.0, 0.8, 20.0) == 14
    assert report["p_wait"] == pytest.approx(float(mp_erlang_c(14, 10.0)), rel=1e-10)
    assert report["service_level"] == pytest.approx(mp_service_level(14, 10.0, 180.0, 20.0))
    assert report["asa"] == pytest.approx(float(mp_erlang_c(14, 10.0)) * 180.0 / 4.0)
    assert report["occupancy"] == pytest.approx(10.0 / 14.0)


def test_erlang_evaluates_given_agents(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(
        capsys,
        "erlang",
        "--traffic",
        "48",
        "--aht",
        "240",
        "--agents",
        "55",
        "--awt",
        "15",
        "--json",
    )
    assert report["agents"] == 55
    assert report["service_level"] == pytest.approx(mp_service_level(55, 48.0, 240.0, 15.0))


def test_unstable_evaluation_reports_an_unbounded_speed_of_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = run_json(capsys, "erlang", "--traffic", "10", "--agents", "9", "--json")
    assert report["p_wait"] == 1.0
    assert report["service_level"] == 0.0
    assert report["asa"] is None


def test_patience_switches_to_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(
        capsys,
        "erlang",
        "--traffic",
        "10",
        "--aht",
        "180",
        "--patience",
        "120",
        "--target",
        "0.8",
        "--awt",
        "20",
        "--json",
    )
    for key in ("agents", "traffic", "p_wait", "service_level", "asa", "occupancy", "p_abandon"):
        assert key in report
    assert report["model"] == "erlang_a"
    assert report["service_level"] >= 0.8  # type: ignore[operator]
    # Identity of Erlang A: P(abandon) = mean wait over all calls / mean patience.
    assert report["p_abandon"] == pytest.approx(report["mean_wait"] / 120.0)  # type: ignore[operator]
    fewer = run_json(
        capsys,
        "erlang",
        "--traffic",
        "10",
        "--aht",
        "180",
        "--patience",
        "120",
        "--agents",
        str(int(report["agents"]) - 1),  # type: ignore[call-overload]
        "--json",
    )
    assert fewer["service_level"] < 0.8  # type: ignore[operator]


def test_human_output_names_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erlang", "--traffic", "10", "--target", "0.8", "--awt", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Erlang C: 14 agents (required)")


FORECAST = "interval,calls\n08:00,120\n08:15,0\n08:30,300\n08:45,45\n"


@pytest.fixture
def forecast(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.csv"
    path.write_text(FORECAST, encoding="utf-8")
    return path


def test_staff_gives_the_minimum_per_interval(
    capsys: pytest.CaptureFixture[str], forecast: Path
) -> None:
    document = run_json(
        capsys,
        "staff",
        str(forecast),
        "--target",
        "0.8",
        "--awt",
        "20",
        "--aht",
        "180",
        "--shrinkage",
        "0.25",
        "--json",
    )
    rows = document["rows"]
    assert isinstance(rows, list)
    assert [row["interval"] for row in rows] == ["08:00", "08:15", "08:30", "08:45"]
    for row, calls in zip(rows, (120, 0, 300, 45), strict=True):
        traffic = calls * 180.0 / 900.0
        expected = 0 if calls == 0 else mp_minimum_agents(traffic, 180.0, 0.8, 20.0)
        assert row["agents"] == expected
        assert row["scheduled"] == -(-expected * 4 // 3)  # ceil(n / 0.75)


def test_staff_prints_a_table_and_csv(capsys: pytest.CaptureFixture[str], forecast: Path) -> None:
    common = [str(forecast), "--target", "0.8", "--awt", "20", "--aht", "180"]
    assert main(["staff", *common]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["interval", "calls", "load", "Erl", "agents"]
    assert "SL % (20 s)" in table[0]
    assert table[-2].startswith("total: 465 calls")
    assert table[-1] == "of 900 s"
    assert main(["staff", *common, "--patience", "90", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",p_abandon")
    assert len(lines) == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["erlang", "--traffic", "-3", "--agents", "4"],
            "--traffic: got '-3' (expected a finite number of Erlangs >= 0",
        ),
        (["erlang", "--traffic", "10"], "nothing to do"),
        (["erlang", "--calls", "100", "--aht", "180", "--target", "0.8"], "no load given"),
        (
            ["erlang", "--calls", "100", "--interval", "0", "--agents", "3"],
            "--interval: got '0' (expected a finite number of seconds > 0)",
        ),
        (
            ["erlang", "--traffic", "10", "--target", "1.5"],
            "--target: got '1.5' (expected a finite number > 0 and < 1)",
        ),
        (["erlang", "--traffic", "10", "--abandon", "0.05"], "needs patience"),
        (["erlang", "--traffic", "10", "--agents", "12", "--target", "0.8"], "not both"),
        (
            ["erlang", "--traffic", "10", "--agents", "12", "--aht", "0"],
            "--aht: got '0' (expected a finite number of seconds > 0)",
        ),
        (["staff", "missing.csv", "--target", "0.8", "--awt", "20"], "cannot read forecast"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_staff_without_a_handle_time_exits_2(
    capsys: pytest.CaptureFixture[str], forecast: Path
) -> None:
    assert main(["staff", str(forecast), "--target", "0.8", "--awt", "20"]) == 2
    assert "give --aht SECONDS" in capsys.readouterr().err


def test_staff_bad_csv_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("interval,calls\n08:00,lots\n", encoding="utf-8")
    assert main(["staff", str(path), "--target", "0.8", "--awt", "20", "--aht", "180"]) == 2
    assert "line 2: calls must be a number; got 'lots'" in capsys.readouterr().err


def test_staffing_example_runs() -> None:
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[1] / "examples" / "erlang_staffing.py"
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == f"10 Erlangs, 80% in 20 s: {mp_minimum_agents(10.0, 180.0, 0.8, 20.0)} agents"
    )
    assert any(line.startswith("Erlang A, 150 s patience: peak") for line in lines)


SCENARIO = """
name = "single queue with abandonment"
horizon_seconds = 20000
warmup_seconds = 1000
replications = 4
seed = 3

[[task_types]]
name = "calls"
sla_seconds = 20
handle = { kind = "exponential", mean_seconds = 60 }
patience = { kind = "exponential", mean_seconds = 60 }

[[arrivals]]
kind = "poisson"
task_type = "calls"
rate_per_hour = 480

[[agent_groups]]
name = "agents"
count = 10
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_staff_simulate_reports_simulation_beside_erlang_c(
    capsys: pytest.CaptureFixture[str], scenario_file: Path
) -> None:
    document = run_json(
        capsys,
        "staff",
        "--simulate",
        str(scenario_file),
        "--target",
        "0.8",
        "--awt",
        "20",
        "--serial",
        "--cost-per-hour",
        "30",
        "--json",
    )
    # Erlang C from the load the pilot run measured (8 Erlangs at 60 s, within noise).
    loads = document["offered_load"]
    assert isinstance(loads, dict)
    assert loads["agents"] == pytest.approx(8.0, rel=0.03)
    assert document["erlang_c"] == {"agents": mp_minimum_agents(loads["agents"], 60.0, 0.8, 20.0)}
    # Callers who hang up after a minute on average leave Erlang A's 9 agents enough,
    # where Erlang C asks for 11 at exactly 8 Erlangs.
    assert mp_minimum_agents(8.0, 60.0, 0.8, 20.0) == 11
    assert document["simulation"] == {"agents": 9}
    hours = document["agent_hours"]
    assert isinstance(hours, dict)
    assert hours["simulation"] == pytest.approx(9 * 19_000 / 3600)
    cost = document["cost"]
    assert isinstance(cost, dict)
    assert cost["simulation"] == pytest.approx(30 * hours["simulation"])


def test_staff_simulate_prints_a_table(
    capsys: pytest.CaptureFixture[str], scenario_file: Path
) -> None:
    argv = ["staff", "--simulate", str(scenario_file), "--target", "0.8", "--serial"]
    assert main([*argv, "--replications", "2", "--confidence", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "Erlang C" in out
    assert "simulation" in out
    assert "staffings simulated" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--patience", "30"], "--patience: got 30.0"),
        (["--shrinkage", "0.3"], "--shrinkage: got 0.3"),
        (
            ["--confidence", "1.5"],
            "--confidence: got '1.5' (expected a finite number >= 0.5 and <= 1)",
        ),
        (["--type", "nope"], "targets.0.task_type: got 'nope'"),
        (["forecast.csv"], "forecast: got 'forecast.csv'"),
    ],
)
def test_staff_simulate_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], scenario_file: Path, extra: list[str], message: str
) -> None:
    argv = ["staff", "--simulate", str(scenario_file), "--target", "0.8", "--serial", *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_staff_needs_a_forecast_or_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "--target", "0.8", "--awt", "20"]) == 2
    assert "--simulate" in capsys.readouterr().err


FORECAST_DAY = Path(__file__).resolve().parents[1] / "examples" / "forecast_day.csv"


def test_staff_writes_a_scenario_that_simulate_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from valueroute.erlang import read_forecast, staff_intervals
    from valueroute.sim import load_scenario

    out = tmp_path / "day.toml"
    argv = ["staff", str(FORECAST_DAY), "--target", "0.8", "--awt", "20", "--json"]
    table = run_json(capsys, *argv, "--scenario-out", str(out))
    scenario = load_scenario(out)
    agents = [row["agents"] for row in table["rows"]]  # type: ignore[index, union-attr]
    forecast = read_forecast(FORECAST_DAY)
    expected = staff_intervals(
        forecast.calls, interval=900, aht=forecast.aht, service_level=0.8, awt=20
    )
    assert agents == expected.agents.tolist()
    assert scenario.agent_groups[0].headcount == agents
    assert scenario.arrivals[0].volumes == tuple(forecast.calls)  # type: ignore[union-attr]
    assert scenario.arrivals[0].aht == tuple(forecast.aht)  # type: ignore[union-attr, arg-type]
    assert scenario.task_types[0].sla_seconds == 20
    assert main(["simulate", str(out), "--replications", "1", "--serial", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["voice"]["offered"]["mean"] > 0


def test_staff_scenario_out_needs_scenario_intervals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day.toml"
    argv = ["staff", str(FORECAST_DAY), "--target", "0.8", "--awt", "20", "--interval", "600"]
    assert main([*argv, "--scenario-out", str(out)]) == 2
    assert "--interval: got 600 with --scenario-out" in capsys.readouterr().err
    assert not out.exists()
