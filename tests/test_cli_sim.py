"""``valueroute simulate`` and ``valueroute compare`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valueroute.cli import main
from valueroute.sim.metrics import KPI_NAMES


def test_simulate_demo_prints_a_table_per_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "demo", "--replications", "2", "--serial"]) == 0
    out = capsys.readouterr().out
    for name in ("voice_sales", "voice_support", "email_claim", "all", "occupancy"):
        assert name in out


def test_simulate_json_has_the_summary_of_every_type_and_kpi(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "demo", "--replications", "2", "--serial", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"scenario", "policy", "seed", "replication_count", "summary", "groups"}
    assert data["replication_count"] == 2
    assert set(data["summary"]) == {"voice_sales", "voice_support", "email_claim", "all"}
    assert set(data["summary"]["all"]) == set(KPI_NAMES)
    assert set(data["summary"]["all"]["service_level"]) == {
        "mean",
        "half_width",
        "ci_low",
        "ci_high",
        "n",
    }
    assert set(data["groups"]) == {"sales_specialists", "generalists", "back_office"}


def test_simulate_writes_json_and_csv_tables(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["simulate", "demo", "--replications", "1", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["backlog.csv", "groups.csv", "intervals.csv", "result.json", "summary.csv"]
    result = json.loads((out / "result.json").read_text())
    assert len(result["replications"]) == 1
    header = (out / "intervals.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["replication", "interval_start", "type"]


def test_a_scenario_with_code_is_refused_without_allow_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "horizon_seconds": 600,
                "task_types": [
                    {"name": "calls", "handle": {"kind": "exponential", "mean_seconds": 60}}
                ],
                "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 30}],
                "agent_groups": [{"name": "agents", "count": 1}],
                "routing": {"policy": "valueroute.scoring:Fifo"},
            }
        )
    )
    assert main(["simulate", str(path)]) == 2
    assert "--allow-code" in capsys.readouterr().err
    assert main(["simulate", str(path), "--allow-code", "--json"]) == 0


def test_compare_reports_paired_differences_against_the_first_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "compare",
            "demo",
            "--policy",
            "fifo",
            "--policy",
            "strict_priority",
            "--replications",
            "2",
            "--serial",
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"] == "fifo"
    assert set(data["policies"]) == {"fifo", "strict_priority"}
    assert set(data["differences"]) == {"strict_priority"}
    # Common random numbers: the primary arrivals are the same under both policies.
    sales = data["differences"]["strict_priority"]["email_claim"]
    assert set(sales["service_level"]) == {"mean", "half_width", "ci_low", "ci_high"}


def test_compare_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "demo", "--policy", "fifo", "--policy", "aging_priority"]
    assert main([*argv, "--replications", "2", "--serial"]) == 0
    out = capsys.readouterr().out
    assert "aging_priority − fifo" in out


def test_an_unknown_scenario_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "no-such-file.toml"]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_results_plot_to_png_with_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from valueroute.scenarios import load_scenario
    from valueroute.sim import simulate

    result = simulate(load_scenario("demo"), replications=1)
    path = result.plot(tmp_path / "day.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_convert_to_pandas() -> None:
    pytest.importorskip("pandas")
    from valueroute.scenarios import load_scenario
    from valueroute.sim import simulate

    frame = simulate(load_scenario("demo"), replications=1).to_pandas()
    assert frame.loc[("all", "offered"), "mean"] > 0


def test_the_back_office_example_scenario_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "backoffice_day.toml"
    assert main(["simulate", str(example), "--replications", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["summary"]) == {"claim", "complaint", "address_change", "all"}


def test_the_demo_loads_by_name_from_package_data() -> None:
    from importlib import resources

    from valueroute.errors import InvalidInputError
    from valueroute.scenarios import BUNDLED, load_scenario
    from valueroute.sim.scenario import parse_scenario

    text = resources.files("valueroute").joinpath("data", BUNDLED["demo"]).read_text("utf-8")
    expected = parse_scenario(text, format="toml")
    assert load_scenario("demo") == expected
    # a Path is always a file: only the text "demo" names the bundled day
    with pytest.raises(InvalidInputError, match=r"source: got 'demo' \(expected a file ending"):
        load_scenario(Path("demo"))


def test_a_scenario_file_loads_by_path(tmp_path: Path) -> None:
    from valueroute.scenarios import bundled_text, load_scenario
    from valueroute.sim.scenario import parse_scenario

    path = tmp_path / "copy.toml"
    path.write_text(bundled_text("demo"), encoding="utf-8")
    assert load_scenario(path) == parse_scenario(bundled_text("demo"), format="toml")
    assert load_scenario(str(path)) == load_scenario(path)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nope", "source: got 'nope' (expected a bundled scenario name, one of ['demo']"),
        ("x" * 1000, "source: got 'xxxx"),
        (42, "source: got 42 (expected a bundled scenario name or a file path)"),
        ("missing.toml", "cannot be read"),
    ],
)
def test_an_unknown_scenario_name_is_refused(source: object, message: str) -> None:
    from valueroute.errors import InvalidInputError
    from valueroute.scenarios import load_scenario

    with pytest.raises(InvalidInputError) as info:
        load_scenario(source)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert len(str(info.value)) < 400


def test_simulate_and_compare_write_an_html_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = tmp_path / "reports" / "day.html"
    argv = ["simulate", "demo", "--replications", "2", "--serial", "--report", str(day)]
    assert main(argv) == 0
    assert f"report: {day}" in capsys.readouterr().out
    text = day.read_text(encoding="utf-8")
    assert text.count('<svg class="chart"') == 4
    assert "demo: multi-skill day" in text
    both = tmp_path / "both.html"
    argv = ["compare", "demo", "--policy", "fifo", "--policy", "edd", "--replications", "2"]
    assert main([*argv, "--serial", "--json", "--report", str(both)]) == 0
    json.loads(capsys.readouterr().out)  # --json output stays JSON
    assert 'data-series="edd"' in both.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_a_report_path_that_cannot_be_written_is_refused_before_the_run(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    policies = ["--policy", "fifo", "--policy", "edd"] if command == "compare" else []
    for target in (tmp_path, blocker / "day.html", tmp_path / ("r" * 100_000), "r\x00.html"):
        argv = [command, "demo", *policies, "--serial", "--report", str(target)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--report: got" in err
        assert len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
