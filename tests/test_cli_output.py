"""What the command line prints: widths, units, CSV, progress, policy parameters, defaults."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueroute.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FORECAST = str(EXAMPLES / "forecast_day.csv")
RULES = str(EXAMPLES / "rules" / "claims.toml")
TASKS = str(EXAMPLES / "rules" / "tasks.jsonl")
BENCH = ["bench", "identical_agents", "--fast", "--replications", "2", "--serial", "--no-plots"]
SIMULATE = ["simulate", "demo", "--replications", "2", "--serial"]
COMPARE = ["compare", "demo", "--policy", "fifo", "--policy", "edd", "--replications", "2"]
STAFF_SIM = [
    "staff",
    "--simulate",
    "demo",
    "--target",
    "0.8",
    "--type",
    "voice_sales",
    "--replications",
    "2",
    "--serial",
]

SMALL_DAY = {
    "name": "small day",
    "horizon_seconds": 3600.0,
    "interval_minutes": 30,
    "replications": 2,
    "seed": 5,
    "task_types": [
        {
            "name": "calls",
            "handle": {"kind": "exponential", "mean_seconds": 240.0},
            "sla_seconds": 20.0,
        }
    ],
    "arrivals": [
        {"kind": "profile", "task_type": "calls", "interval_minutes": 30, "volumes": [40, 80]}
    ],
    "agent_groups": [{"name": "agents", "count": 8}],
}
PER_INTERVAL = ["staff", "--simulate", "{small}", "--per-interval", "--target", "0.8", "--serial"]

TABLE_COMMANDS: dict[str, list[str]] = {
    "simulate": SIMULATE,
    "compare": [*COMPARE, "--serial"],
    "bench": BENCH,
    "staff": ["staff", FORECAST, "--target", "0.8", "--aht", "180", "--patience", "120"],
    "staff-simulate": STAFF_SIM,
    "staff-per-interval": PER_INTERVAL,
    "erlang": ["erlang", "--traffic", "10", "--target", "0.8", "--patience", "120"],
    "rules-dry-run": ["rules", "dry-run", RULES, TASKS],
    "demo": ["demo"],
}

_GLUED = re.compile(r"\d±|\d+\.\d+\.\d|\d%\d|\d[+-]\d")
"""Two figures run together: 79.2%±3.8, 3.827564823.0, 12.5-3.0."""


@pytest.fixture(scope="module")
def small_day(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("scenario") / "small_day.json"
    path.write_text(json.dumps(SMALL_DAY), encoding="utf-8")
    return str(path)


def _command(name: str, small_day: str) -> list[str]:
    return [arg.format(small=small_day) for arg in TABLE_COMMANDS[name]]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err  # bench exits 1 when a relation fails
    assert captured.err == ""  # no progress when stderr is not a terminal
    return captured.out


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_fits_100_columns_with_figures_apart(
    command: str,
    small_day: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = _run(_command(command, small_day), capsys)
    lines = out.splitlines()
    assert len(lines) >= 3
    too_wide = [line for line in lines if len(line) > 100]
    assert not too_wide, too_wide[0]
    glued = [line for line in lines if _GLUED.search(line)]
    assert not glued, glued[0]


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_a_table_follows_the_terminal_width(
    columns: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = _run(SIMULATE, capsys).splitlines()
    assert max(len(line) for line in lines) <= columns
    # every KPI title is still printed, in some block
    for title in ("offered", "SL %", "ASA s", "p90 wait s", "AHT s", "value SLA %"):
        assert any(title in line for line in lines), title


def test_simulate_states_units_and_each_types_threshold(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from valueroute.scenarios import load_scenario

    monkeypatch.setenv("COLUMNS", "100")
    out = _run(SIMULATE, capsys)
    text = " ".join(out.split())
    for task_type in load_scenario("demo").task_types:
        assert f"{task_type.name} {task_type.sla_seconds:g} s" in text
    assert "occupancy %" in out
    assert "staffed hours" in out


def test_simulate_table_figures_are_the_json_figures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    data = json.loads(_run([*SIMULATE, "--json"], capsys))
    lines = _run(SIMULATE, capsys).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("type "))
    for line in lines[header + 1 : header + 1 + len(data["summary"])]:
        name, offered, offered_half, answered, *_ = line.split()
        figures = data["summary"][name]
        assert offered == f"{figures['offered']['mean']:.0f}"
        assert offered_half == f"±{figures['offered']['half_width']:.0f}"
        assert answered == f"{figures['answered']['mean']:.0f}"


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_command_prints_csv(
    command: str, small_day: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _csv_rows(_run([*_command(command, small_day), "--csv"], capsys))
    assert rows
    assert all(None not in row and all(v is not None for v in row.values()) for row in rows)


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_command_prints_json(
    command: str, small_day: str, capsys: pytest.CaptureFixture[str]
) -> None:
    json.loads(_run([*_command(command, small_day), "--json"], capsys))


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_json_and_csv_together_are_refused(
    command: str, small_day: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_command(command, small_day), "--json", "--csv"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "--csv" in err
    assert "--json" in err


def test_simulate_csv_holds_the_json_figures(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_run([*SIMULATE, "--json"], capsys))
    rows = _csv_rows(_run([*SIMULATE, "--csv"], capsys))
    for row in rows:
        source = data["summary"] if row["table"] == "type" else data["groups"]
        expected = source[row["name"]][row["kpi"]]["mean"]
        if expected is None:
            assert row["mean"] == ""
        else:
            assert float(row["mean"]) == expected


def test_demo_csv_is_the_table_order(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _csv_rows(_run(["demo", "--csv"], capsys))
    order = json.loads(_run(["demo", "--json"], capsys))["order"]
    assert [row["task"] for row in rows] == [row["task"] for row in order]
    scores = [float(row["score"]) for row in rows]
    assert scores == sorted(scores, reverse=True)


# ------------------------------------------------------------------------ progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


_CLOCK = r"(?:\d+:)?\d+:\d\d"


def _seconds(clock: str) -> int:
    """Seconds in an ``[H:]M:SS`` clock reading."""
    seconds = 0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def _frames(text: str) -> list[str]:
    """The successive drawings of a progress line (each starts with a carriage return)."""
    return [frame.rstrip("\n").rstrip() for frame in text.split("\r")[1:]]


def _elapsed(frame: str) -> int:
    match = re.search(rf"({_CLOCK}) elapsed|elapsed ({_CLOCK})", frame)
    assert match is not None, frame
    return _seconds(match.group(1) or match.group(2))


def _eta(frame: str) -> int | None:
    """The ETA shown, in seconds; None when shown as unknown."""
    match = re.search(rf"ETA (\?|{_CLOCK})", frame)
    assert match is not None, frame
    return None if match.group(1) == "?" else _seconds(match.group(1))


def _percent(frame: str) -> int:
    match = re.search(r"(\d+)%", frame)
    assert match is not None, frame
    return int(match.group(1))


def test_progress_shows_share_elapsed_and_eta_on_a_terminal_only() -> None:
    from valueroute.cli.output import ProgressLine

    now = [100.0]
    terminal = _Terminal()
    line = ProgressLine("simulating day", stream=terminal, clock=lambda: now[0])
    assert terminal.getvalue() == ""  # nothing before the first figure
    now[0] = 130.0
    line(0.25)
    (frame,) = _frames(terminal.getvalue())
    assert frame.startswith("simulating day")
    assert (_percent(frame), _elapsed(frame), _eta(frame)) == (25, 30, 90)
    now[0] = 130.05
    line(0.30)  # within a tenth of a second: not redrawn
    assert len(_frames(terminal.getvalue())) == 1
    now[0] = 3700.0
    line(1.0)
    assert terminal.getvalue().endswith("\n")
    frame = _frames(terminal.getvalue())[-1]
    assert (_percent(frame), _elapsed(frame), _eta(frame)) == (100, 3600, 0)
    line(0.5)  # the line ended with the whole share done
    assert _frames(terminal.getvalue())[-1] == frame

    piped = io.StringIO()
    quiet = ProgressLine("simulating day", stream=piped, clock=lambda: now[0])
    quiet(0.5)
    quiet.count(3, "runs")
    quiet.close()
    assert piped.getvalue() == ""


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30))
def test_progress_eta_is_the_remaining_share_at_the_rate_so_far(fractions: list[float]) -> None:
    from valueroute.cli.output import ProgressLine

    now = [0.0]
    terminal = _Terminal()
    line = ProgressLine("run", stream=terminal, clock=lambda: now[0])
    for fraction in sorted(fractions):
        now[0] += 1.0
        line(fraction)
        if fraction == 1.0:
            break  # the line is finished: later calls write nothing
    line.close()
    assert terminal.getvalue().endswith("\n")
    shown = _frames(terminal.getvalue())[-1]
    assert shown.startswith("run: ")
    last = max(fractions)
    assert abs(_percent(shown) - last * 100) <= 0.5 + 1e-9
    assert _elapsed(shown) == int(now[0])
    if last < 1e-9:  # nothing done yet (or a share too small to give a rate): no ETA
        assert _eta(shown) is None
    else:
        expected = now[0] * (1.0 - last) / last
        eta = _eta(shown)
        assert eta is not None
        assert abs(eta - expected) <= 1.0 + expected * 1e-12


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_a_progress_line_fits_the_terminal_and_keeps_its_figures(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valueroute.cli.output import ProgressLine

    monkeypatch.setenv("COLUMNS", str(columns))
    label = "simulating " + "a very long scenario name " * 8 + "end"
    now = [0.0]
    terminal = _Terminal()
    line = ProgressLine(label, stream=terminal, clock=lambda: now[0])
    now[0] = 3725.0
    line(0.5)
    line.close()
    counting = ProgressLine(label, stream=terminal, clock=lambda: now[0])
    counting.count(12, "replications run")
    counting.close()
    first, second, end = terminal.getvalue().split("\n")
    assert end == ""
    for drawn in first.split("\r")[1:] + second.split("\r")[1:]:
        assert len(drawn) <= columns, drawn  # padding that erases a longer drawing included
    for frame in _frames(first) + _frames(second):
        assert frame.startswith("sim")
        assert "end: " in frame  # the label is cut in its middle, keeping its end
    share, counted = _frames(first)[-1], _frames(second)[-1]
    assert (_percent(share), _elapsed(share), _eta(share)) == (50, 3725, 3725)
    assert "12 replications run" in counted
    assert _elapsed(counted) == 0  # counted from that line's creation


@pytest.mark.parametrize(
    "command", ["simulate", "compare", "bench", "staff-simulate", "staff-per-interval"]
)
def test_long_commands_show_progress_on_stderr_never_on_stdout(
    command: str,
    small_day: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(_command(command, small_day)) in (0, 1)
    out = capsys.readouterr().out
    assert "elapsed" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert "elapsed" not in out
    assert "\r" not in out


# ------------------------------------------------------------------- policy options


def test_compare_takes_policy_parameters_as_the_library_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from valueroute.scenarios import load_scenario
    from valueroute.sim.run import InlineExecutor, compare

    argv = [*COMPARE[:4], "--policy", "aging_priority:seconds_per_point=30", "--replications", "2"]
    data = json.loads(_run([*argv, "--serial", "--json"], capsys))
    expected = compare(
        load_scenario("demo"),
        policies=["fifo", {"policy": "aging_priority", "seconds_per_point": 30}],
        replications=2,
        executor=InlineExecutor(),
    )
    assert data == json.loads(expected.to_json())


def test_bench_takes_policy_parameters_labelled_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", "identical_agents", "--fast", "--replications", "2", "--serial"]
    policies = ["--policy", "fifo", "--policy", "aging_priority:seconds_per_point=30"]
    data = json.loads(_run([*argv, *policies, "--json"], capsys))
    labels = {variant["label"] for variant in data["scenarios"][0]["variants"]}
    assert any(label.startswith("aging_priority:seconds_per_point=30") for label in labels)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            "aging_priority:second_per_point=30",
            "aging_priority has no parameter 'second_per_point'; did you mean "
            "'seconds_per_point'? (expected one of: seconds_per_point, clock)",
        ),
        ("aging_prio:seconds_per_point=30", "did you mean 'aging_priority'?"),
        ("fifo:weight=2", "fifo has no parameter 'weight' (expected one of: no parameters)"),
        ("aging_priority:seconds_per_point=30,fast", "'fast' is not KEY=VALUE"),
        ("edd:due_after=1,=2", "'=2' is not KEY=VALUE"),
        ("edd:due_after=1,due_after=2", "'due_after' is given twice"),
        ("aging_priority:seconds_per_point=" + "[" * 5000, "nested too deeply"),
        ("aging_priority:x" + "y" * 10_000 + "=1", "has no parameter 'xyyy"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "bench", "rules"])
def test_bad_policy_parameters_are_refused_with_a_suggestion(
    policy: str, message: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = {
        "compare": ["compare", "demo", "--policy", "fifo", "--policy", policy],
        "bench": ["bench", "identical_agents", "--policy", policy],
        "rules": ["rules", "dry-run", RULES, TASKS, "--policy", policy],
    }[command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "argument --policy: got" in lines[0]
    assert len(lines[0]) < 800


@given(
    st.sampled_from(
        [
            ("aging_priority", "seconds_per_point"),
            ("edd", "due_after"),
            ("cmu", "handle_seconds"),
            ("value_at_risk", "mode"),
        ]
    ),
    st.one_of(
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.text(alphabet="abcxyz_", min_size=1, max_size=8),
        st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(0, 9), max_size=3),
        st.lists(st.integers(0, 9), max_size=3),
    ),
)
def test_policy_parameters_read_back_what_was_written(
    policy_key: tuple[str, str], value: object
) -> None:
    from valueroute.cli import policy_option

    name, key = policy_key
    written = value if isinstance(value, str) else json.dumps(value)
    text = f"{name}:{key}={written}"
    assert policy_option(text) == {"policy": name, "label": text, key: value}


def test_a_module_reference_stays_a_reference() -> None:
    from valueroute.cli import policy_option

    assert policy_option("valueroute.scoring:Fifo") == "valueroute.scoring:Fifo"
    assert policy_option("fifo") == "fifo"


def test_rules_dry_run_takes_parameters_in_policy_or_param_not_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["rules", "dry-run", RULES, TASKS, "--json"]
    inline = json.loads(_run([*base, "--policy", "aging_priority:seconds_per_point=30"], capsys))
    separate = [*base, "--policy", "aging_priority", "--param", "seconds_per_point=30"]
    assert inline == json.loads(_run(separate, capsys))
    assert inline["policy"] == "AgingPriority(seconds_per_point=30)"
    both = [*base, "--policy", "aging_priority:seconds_per_point=30"]
    assert main([*both, "--param", "seconds_per_point=40"]) == 2
    assert "--param 'seconds_per_point': also given in --policy" in capsys.readouterr().err


# ---------------------------------------------------------------------- defaults


def test_staff_and_erlang_default_the_acceptable_wait_alike(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["staff", FORECAST, "--target", "0.8", "--aht", "180", "--json"]
    assert _run(base, capsys) == _run([*base, "--awt", "20"], capsys)
    erlang = ["erlang", "--traffic", "10", "--target", "0.8", "--json"]
    assert json.loads(_run(erlang, capsys))["awt"] == 20.0
    first = json.loads(_run(base, capsys))
    assert (
        first["rows"][0]["agents"]
        == json.loads(
            _run(
                [
                    "erlang",
                    "--calls",
                    "42",
                    "--interval",
                    "900",
                    "--aht",
                    "240",
                    "--target",
                    "0.8",
                    "--json",
                ],
                capsys,
            )
        )["agents"]
    )


def test_every_option_help_names_its_default_or_unit(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from valueroute.cli import build_parser

    def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += parsers(sub)
        return found

    missing = []
    for parser in parsers(build_parser()):
        for action in parser._actions:
            if not action.option_strings or action.help in (None, argparse.SUPPRESS):
                continue
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            help_text = str(action.help)
            if isinstance(action, argparse._StoreTrueAction):
                continue  # a switch: off unless given
            if "default" not in help_text:
                missing.append(f"{parser.prog} {action.option_strings[0]}: {help_text}")
    assert not missing, missing


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_a_failure_during_a_run_starts_on_its_own_line_after_the_progress(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import valueroute.cli.sim
    from valueroute.errors import InvalidInputError

    def fails_half_way(*args: object, progress: object, **kwargs: object) -> None:
        assert callable(progress)
        progress(0.5)
        raise InvalidInputError("replication 3: the world stopped")

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(valueroute.cli.sim, command, fails_half_way)
    argv = [*COMPARE, "--serial"] if command == "compare" else SIMULATE
    assert main(argv) == 2
    progress_line, error, end = terminal.getvalue().split("\n")
    assert progress_line.startswith("\r")
    assert "50%" in progress_line
    assert error == f"valueroute {command}: error: replication 3: the world stopped"
    assert end == ""


def test_staff_with_patience_fits_one_block_of_100_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    lines = _run(TABLE_COMMANDS["staff"], capsys).splitlines()
    assert lines[0].split()[0] == "interval"
    assert lines[0].endswith("aband. %")
    assert sum(line.split()[:1] == ["interval"] for line in lines) == 1


def test_a_count_held_back_by_the_rate_limit_is_shown_when_the_line_ends() -> None:
    from valueroute.cli.output import ProgressLine

    terminal = _Terminal()
    line = ProgressLine("staffing", stream=terminal, clock=lambda: 5.0)
    line.count(1, "replications run")
    line.count(2, "replications run")  # same moment: held back
    assert "2 replications run" not in terminal.getvalue()
    line.close()
    assert terminal.getvalue().endswith("\n")
    shown = _frames(terminal.getvalue())[-1]
    assert shown.startswith("staffing: 2 replications run")
    assert _elapsed(shown) == 0


def test_nothing_is_written_after_the_line_ends() -> None:
    from valueroute.cli.output import ProgressLine

    now = [0.0]
    terminal = _Terminal()
    line = ProgressLine("staffing", stream=terminal, clock=lambda: now[0])
    line.close()
    assert terminal.getvalue() == ""  # nothing shown, nothing to end
    line = ProgressLine("staffing", stream=terminal, clock=lambda: now[0])
    line.count(1, "runs")
    line.close()
    written = terminal.getvalue()
    assert written.endswith("\n")
    assert "1 runs" in _frames(written)[-1]
    now[0] = 10.0
    line.count(2, "runs")  # a worker's callback arriving after the result
    line(0.5)
    line.close()
    assert terminal.getvalue() == written


def test_counts_reported_from_many_threads_draw_whole_lines_and_end_on_the_total() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from valueroute.cli.output import CountingExecutor, ProgressLine

    terminal = _Terminal()
    line = ProgressLine("staffing", stream=terminal, every=0.0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        counting = CountingExecutor(pool, line, "runs")
        for _ in range(400):
            counting.submit(math.sqrt, 2.0)
    line.close()
    frames = _frames(terminal.getvalue())
    assert len(frames) >= 2
    whole = rf"staffing: \d+ runs\W+(?:{_CLOCK} elapsed|elapsed {_CLOCK})"
    assert all(re.fullmatch(whole, frame) for frame in frames), frames
    assert frames[-1].startswith("staffing: 400 runs")
    assert terminal.getvalue().count("\n") == 1


def test_counts_finished_together_are_reported_in_order() -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from valueroute.cli.output import CountingExecutor, ProgressLine

    class Recorder(ProgressLine):
        def __init__(self) -> None:
            super().__init__("staffing", stream=io.StringIO())
            self.reported: list[int] = []

        def count(self, done: int, unit: str) -> None:
            if done == 1:
                time.sleep(0.05)  # the first finisher is slow to report
            self.reported.append(done)

    both = threading.Barrier(2)
    recorder = Recorder()
    with ThreadPoolExecutor(max_workers=2) as pool:
        counting = CountingExecutor(pool, recorder, "runs")
        for _ in range(2):
            counting.submit(both.wait)
    assert recorder.reported == [1, 2]


def _modules_loaded_by(statement: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{statement}\nimport sys\nprint(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "statement",
    ["import valueroute", "from valueroute import Engine", "import valueroute.sim"],
)
def test_the_library_never_imports_tqdm(statement: str) -> None:
    assert "tqdm" not in _modules_loaded_by(statement)


def test_the_command_line_imports_tqdm_only_to_draw_on_a_terminal() -> None:
    from test_public_api import _modules_loaded_by

    # tqdm takes about as long to import as the command line itself
    piped = (
        "from valueroute.cli import main\nmain(['erlang', '--traffic', '10', '--target', '0.8'])"
    )
    assert "tqdm" not in _modules_loaded_by(piped)
    drawn = (
        "import io\nfrom valueroute.cli.output import ProgressLine\n"
        "class T(io.StringIO):\n    def isatty(self): return True\n"
        "ProgressLine('x', stream=T())(0.5)"
    )
    assert "tqdm" in _modules_loaded_by(drawn)


def test_long_names_stay_told_apart_in_a_table() -> None:
    from valueroute.cli.output import table

    names = [
        "aging_priority:seconds_per_point=30",
        "aging_priority:seconds_per_point=60",
        "aging_priority:seconds_per_point=600",
    ]
    lines = table(["variant", "SL %"], [[name, "80.0"] for name in names], width=100).splitlines()
    shown = [line.rsplit(maxsplit=1)[0].strip() for line in lines[1:]]
    assert len(set(shown)) == 3
    assert all(len(name) <= 28 for name in shown)
    assert [name[-3:] for name in shown] == ["=30", "=60", "600"]


def test_bench_runs_one_worker_per_cpu_by_default_as_simulate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import valueroute.cli.bench
    from valueroute.sim.run import InlineExecutor

    made: list[int] = []

    class Pool(InlineExecutor):
        def __init__(self, max_workers: int) -> None:
            made.append(max_workers)

    monkeypatch.setattr(valueroute.cli.bench, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    _run([*BENCH[:-2], "--json"], capsys)  # without --serial
    assert made == [3]
    _run([*BENCH[:-2], "--jobs", "2", "--json"], capsys)
    assert made == [3, 2]
    _run([*BENCH, "--json"], capsys)  # --serial
    assert made == [3, 2]
    assert main([*BENCH, "--jobs", "2"]) == 2  # --serial with --jobs is refused
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [["demo"], ["erlang"], ["staff"], ["simulate"], ["compare"], ["bench"], ["rules", "dry-run"]],
)
def test_every_help_page_renders_within_100_columns(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "default" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_staff_by_simulation_refuses_an_awt_without_a_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["staff", "--simulate", "demo", "--asa", "30", "--awt", "15", "--serial"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "valueroute staff: error: --awt: got 15 without --target (expected --awt only with a "
        "service-level --target, whose threshold it sets)"
    ]
