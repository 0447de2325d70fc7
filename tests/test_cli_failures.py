"""Every command-line failure is one line on stderr and exit code 2, never a traceback.

The table runs each bad command line through ``valueroute.cli.main`` in this
process; a few run through a real ``python -m valueroute`` process, one of
them with matplotlib made unimportable.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import valueroute
from valueroute.cli import build_parser, integer, main, number

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RULES = str(EXAMPLES / "rules" / "claims.toml")
TASKS = str(EXAMPLES / "rules" / "tasks.jsonl")
FORECAST = str(EXAMPLES / "forecast_day.csv")
LONG = "9" * 5000

# (argv, a substring of the one-line message). Placeholders in braces name
# paths made per test: {missing} does not exist, {folder} is a directory,
# {file} is a plain file, {latin1} is not UTF-8 text.
FAILURES: list[tuple[list[str], str]] = [
    # no command, unknown command or option
    ([], "the following arguments are required: COMMAND"),
    (["nope"], "invalid choice: 'nope'"),
    (["erlang", "--traffic", "5", "--agents", "3", "--bogus"], "unrecognized arguments: --bogus"),
    # erlang: numbers
    (["erlang", "--traffic", "1e308", "--target", "0.8"], "--traffic: got '1e308'"),
    (["erlang", "--traffic", "1e308", "--agents", "3"], "--traffic: got '1e308'"),
    (["erlang", "--traffic", "nan", "--agents", "3"], "--traffic: got 'nan'"),
    (["erlang", "--traffic", "inf", "--agents", "3"], "--traffic: got 'inf'"),
    (["erlang", "--traffic", "-1", "--agents", "3"], "--traffic: got '-1'"),
    (["erlang", "--traffic", "lots", "--agents", "3"], "--traffic: got 'lots'"),
    (["erlang", "--traffic", "5", "--agents", "-1"], "--agents: got '-1'"),
    (["erlang", "--traffic", "5", "--agents", "x"], "--agents: got 'x'"),
    (["erlang", "--traffic", "5", "--agents", "1e3"], "--agents: got '1e3'"),
    (["erlang", "--traffic", "5", "--agents", "1" + "0" * 20], "--agents: got '1000"),
    (["erlang", "--traffic", "5", "--target", "1.5"], "--target: got '1.5'"),
    (["erlang", "--traffic", "5", "--target", "nan"], "--target: got 'nan'"),
    (["erlang", "--traffic", "5", "--target", "0"], "--target: got '0'"),
    (["erlang", "--traffic", "5", "--target", "0.8", "--awt", "-1"], "--awt: got '-1'"),
    (["erlang", "--traffic", "5", "--target", "0.8", "--awt", "inf"], "--awt: got 'inf'"),
    (["erlang", "--traffic", "5", "--asa", "0"], "--asa: got '0'"),
    (["erlang", "--traffic", "5", "--abandon", "2", "--patience", "100"], "--abandon: got '2'"),
    (["erlang", "--traffic", "5", "--max-occupancy", "0"], "--max-occupancy: got '0'"),
    (["erlang", "--traffic", "5", "--max-occupancy", "1.5"], "--max-occupancy: got '1.5'"),
    (["erlang", "--traffic", "5", "--agents", "9", "--patience", "nan"], "--patience: got 'nan'"),
    (["erlang", "--traffic", "5", "--agents", "9", "--patience", "0"], "--patience: got '0'"),
    (["erlang", "--traffic", "5", "--agents", "9", "--aht", "0"], "--aht: got '0'"),
    (["erlang", "--traffic", "5", "--agents", "9", "--definition", "x"], "invalid choice: 'x'"),
    (["erlang", "--calls", "100", "--interval", "0", "--target", "0.8"], "--interval: got '0'"),
    (["erlang", "--calls", "-5", "--interval", "900", "--agents", "3"], "--calls: got '-5'"),
    (
        ["erlang", "--calls", "1e300", "--interval", "1e-300", "--aht", "1e300", "--agents", "3"],
        "Erlangs (expected at most",
    ),
    (
        ["erlang", "--calls", "1e12", "--interval", "1", "--aht", "1e6", "--target", "0.8"],
        "Erlangs (expected at most",
    ),
    (["erlang", "--traffic", "5", "--calls", "9", "--interval", "9", "--agents", "3"], "either"),
    (["erlang"], "no load given"),
    (["erlang", "--traffic", "5"], "nothing to do"),
    # staff: files and numbers
    (["staff", "{missing}", "--target", "0.8", "--awt", "20"], "cannot read forecast"),
    (["staff", "{folder}", "--target", "0.8", "--awt", "20"], "Is a directory"),
    (["staff", "{latin1}", "--target", "0.8", "--awt", "20", "--aht", "60"], "not UTF-8"),
    (["staff", FORECAST, "--target", "0.8", "--awt", "20", "--interval", "0"], "--interval: got"),
    (
        ["staff", FORECAST, "--target", "0.8", "--awt", "20", "--interval", "1e-300"],
        "Erlangs (expected at most",
    ),
    (["staff", FORECAST, "--target", "0.8", "--awt", "20", "--aht", "-5"], "--aht: got '-5'"),
    (["staff", FORECAST, "--target", "0.8", "--awt", "20", "--shrinkage", "1"], "--shrinkage"),
    (["staff", FORECAST, "--target", "0.8", "--awt", "20", "--shrinkage", "nan"], "--shrinkage"),
    (["staff", FORECAST, "--target", "nan", "--awt", "20"], "--target: got 'nan'"),
    (["staff", FORECAST, "--abandon", "2", "--patience", "60"], "--abandon: got '2'"),
    (["staff", FORECAST, "--abandon", "0.1", "--patience", "0"], "--patience: got '0'"),
    (["staff", FORECAST, "--asa", "-1"], "--asa: got '-1'"),
    (["staff", FORECAST, "--max-occupancy", "2"], "--max-occupancy: got '2'"),
    (["staff", FORECAST, "--asa", "20", "--definition", "all"], "invalid choice: 'all'"),
    (["staff", "--simulate", "demo", "--asa", "20", "--patience", "60"], "--patience"),
    (["staff", FORECAST, "--simulate", "demo", "--asa", "20"], "forecast: got"),
    (["staff"], "give a forecast CSV"),
    (["staff", "--simulate", "{missing}", "--target", "0.8", "--awt", "20"], "cannot be read"),
    (["staff", "--simulate", "{folder}", "--target", "0.8", "--awt", "20"], "Is a directory"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--confidence", "1.5"], "--confidence"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--replications", "0"], "--replications"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--seed", "-1"], "--seed: got '-1'"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--max-agents", "0"], "--max-agents"),
    (["staff", "--simulate", "demo", "--asa", "20", "--cost-per-hour", "nan"], "--cost-per-hour"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--type", "nope"], "got 'nope'"),
    # simulate and compare
    (["simulate", "{missing}"], "cannot be read"),
    (["simulate", "{folder}"], "Is a directory"),
    (["simulate", "{latin1}"], "not UTF-8"),
    (["simulate", "no_such_scenario"], "'no_such_scenario'"),
    (["simulate", "demo", "--replications", "0"], "--replications: got '0'"),
    (["simulate", "demo", "--replications", "-1"], "--replications: got '-1'"),
    (["simulate", "demo", "--seed", "-1"], "--seed: got '-1'"),
    (["simulate", "demo", "--seed", "x"], "--seed: got 'x'"),
    (["simulate", "demo", "--out", "{file}"], "--out: got"),
    (["simulate", "demo", "--out", "{file}/below"], "--out: got"),
    (["simulate", "demo", "--out", "/proc/nope"], "--out: got '/proc/nope'"),
    (["compare", "demo", "--policy", "fifo"], "two or more --policy"),
    (["compare", "demo", "--policy", "fifo", "--policy", "edd", "--seed", "x"], "--seed: got"),
    (["compare", "{missing}", "--policy", "fifo", "--policy", "edd"], "cannot be read"),
    (["compare", "demo", "--policy", "fifo", "--policy", "edd", "--out", "x"], "unrecognized"),
    (["compare", "demo", "--policy", "fifo", "--policy", "nope"], "got 'nope'"),
    (["compare", "demo", "--policy", "fifo", "--policy", "edd", "--replications", "0"], "--repl"),
    # bench
    (["bench", "--fast", "--jobs", "0"], "--jobs: got '0'"),
    (["bench", "--fast", "--jobs", "-2"], "--jobs: got '-2'"),
    (
        ["bench", "--fast", "--jobs", "1025"],
        "--jobs: got '1025' (expected a whole number >= 1 and <= 1024)",
    ),
    (["bench", "--fast", "--replications", "1"], "--replications: got '1'"),
    (["bench", "--fast", "--seed", "-1"], "--seed: got '-1'"),
    (["bench", "{missing}", "--fast"], "cannot be read"),
    (["bench", "{folder}", "--fast"], "Is a directory"),
    (["bench", "{latin1}", "--fast"], "not UTF-8"),
    (["bench", "--fast", "--out", "{file}"], "--out: got"),
    (["bench", "--fast", "--out", "/proc/nope"], "--out: got '/proc/nope'"),
    (["bench", "erlang_a_fifo", "--fast", "--policy", "nope"], "got 'nope'"),
    (["bench", "erlang_a_fifo", "--fast", "--selection", "nope"], "got 'nope'"),
    (["bench", "no_such_scenario", "--fast"], "got 'no_such_scenario'"),
    (["bench", "erlang_a_fifo", "--fast", "--policy", "os:system"], "--allow-code"),
    (["bench", "--fast", "--replications", "10001"], "--replications: got '10001'"),
    (["simulate", "demo", "--replications", "10001"], "--replications: got '10001'"),
    (["compare", "demo", "--policy", "fifo", "--policy", "edd", "--replications", "99999"], "99"),
    (["staff", "--simulate", "demo", "--target", "0.8", "--replications", "10001"], "10001"),
    # demo
    (["demo", "--seconds-per-point", "nan"], "--seconds-per-point: got 'nan'"),
    (["demo", "--seconds-per-point", "0"], "--seconds-per-point: got '0'"),
    (["demo", "--at", "nan"], "--at: got 'nan'"),
    (["demo", "--at", "-100"], "--at: got '-100'"),
    (["demo", "--at", "1e308"], "--at: got '1e308'"),
    # rules
    (["rules"], "the following arguments are required: ACTION"),
    (["rules", "check", "{missing}"], "cannot be read"),
    (["rules", "check", "{folder}"], "Is a directory"),
    (["rules", "check", "{latin1}"], "not UTF-8"),
    (["rules", "dry-run", RULES, "{missing}"], "cannot be read"),
    (["rules", "dry-run", "{missing}", TASKS], "cannot be read"),
    (["rules", "dry-run", RULES, "{latin1}"], "not UTF-8"),
    (["rules", "dry-run", RULES, "{folder}"], "Is a directory"),
    (["rules", "dry-run", RULES, TASKS, "--at", "nan"], "--at: got 'nan'"),
    (["rules", "dry-run", RULES, TASKS, "--policy", "nope"], "got 'nope'"),
    (["rules", "dry-run", RULES, TASKS, "--at", "1e50"], "--at: got '1e50'"),
    (["rules", "dry-run", RULES, TASKS, "--at=-1e13"], "--at: got '-1e13'"),
    (["rules", "dry-run", RULES, TASKS, "--param", "x"], "--param: got 'x'"),
    # unbounded user values are shown cut short
    ([LONG], "invalid choice: '99999"),
    (["erlang", "--traffic", LONG, "--agents", "3"], "--traffic: got '99999"),
    (["simulate", "demo", "--seed", LONG], "--seed: got '99999"),
]


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    file = tmp_path / "file.txt"
    file.write_text("not a folder\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("name = 'Caf\u00e9'\n".encode("latin-1"))
    return {
        "missing": str(tmp_path / "missing.toml"),
        "folder": str(folder),
        "file": str(file),
        "latin1": str(latin1),
    }


def one_line_failure(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert "Traceback" not in captured.err
    assert len(lines) == 1, captured.err
    assert code == 2, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    FAILURES,
    ids=[" ".join(argv)[:60] or "(nothing)" for argv, _ in FAILURES],
)
def test_a_failure_is_one_line_and_exit_2(
    argv: list[str],
    expected: str,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_line_failure([arg.format(**paths) for arg in argv], capsys)
    assert expected in line
    assert line.startswith("valueroute")
    assert len(line) < 600, "the message should show long user values cut short"


def test_an_output_folder_is_checked_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import valueroute.cli.bench
    import valueroute.cli.sim

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run started before the output folder was checked")

    monkeypatch.setattr(valueroute.cli.sim, "simulate", must_not_run)
    monkeypatch.setattr(valueroute.cli.bench, "run_bench", must_not_run)
    blocker = tmp_path / "result"
    blocker.write_text("an existing file\n", encoding="utf-8")
    for argv in (
        ["simulate", "demo", "--out", str(blocker)],
        ["simulate", "demo", "--out", str(blocker / "below")],
        ["bench", "--fast", "--out", str(blocker)],
    ):
        line = one_line_failure(argv, capsys)
        assert str(blocker) in line
    assert blocker.read_text(encoding="utf-8") == "an existing file\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--fast", "--jobs", "0"],
        ["bench", "erlang_a_fifo", "--fast", "--policy", "nope"],
        ["bench", "erlang_a_fifo", "--fast", "--policy", "valueroute.scoring:Fifo"],
        ["simulate", "{code}"],
        ["simulate", "demo", "--seed", "-1"],
    ],
    ids=["bad-number", "bad-policy", "code-without-allow-code", "scenario-code", "bad-seed"],
)
def test_a_refused_command_creates_no_output_folder(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_scenario = tmp_path / "code.json"
    code_scenario.write_text(
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
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out" / "deeper"
    argv = [arg.format(code=code_scenario) for arg in argv]
    one_line_failure([*argv, "--out", str(out)], capsys)
    assert not (tmp_path / "out").exists()


def test_help_shows_percent_signs_once(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = ["demo", "erlang", "staff", "simulate", "compare", "bench"]
    texts = [parser.format_help()]
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        texts.append(capsys.readouterr().out)
    for action in ("check", "dry-run"):
        with pytest.raises(SystemExit):
            main(["rules", action, "--help"])
        texts.append(capsys.readouterr().out)
    joined = "\n".join(texts)
    assert "%%" not in joined
    assert "95% confidence" in joined


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"valueroute {valueroute.__version__}\n"


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["erlang", "--traffic", "1e308", "--target", "0.8"], "--traffic: got '1e308'"),
        (["bench", "--fast", "--jobs", "0"], "--jobs: got '0'"),
        (["simulate", "demo", "--out", "/proc/nope"], "--out: got '/proc/nope'"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_a_real_process_fails_with_one_line(argv: list[str], expected: str, tmp_path: Path) -> None:
    result = run_process("-m", "valueroute", *argv, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


_WITHOUT_MATPLOTLIB = textwrap.dedent(
    """
    import sys

    class BlockMatplotlib:
        def find_spec(self, name, path=None, target=None):
            if name == "matplotlib" or name.startswith("matplotlib."):
                raise ImportError(f"No module named {name!r} (blocked for this test)")
            return None

    sys.meta_path.insert(0, BlockMatplotlib())
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        del sys.modules[name]
    from valueroute.cli import main

    raise SystemExit(main(sys.argv[1:]))
    """
)


def test_bench_without_matplotlib_prints_the_table_and_writes_the_rest(tmp_path: Path) -> None:
    from valueroute.bench import SCENARIO_DIR

    out = tmp_path / "out"
    scenario = str(SCENARIO_DIR / "erlang_a_fifo.toml")
    argv = [scenario, "--fast", "--replications", "2", "--out", str(out)]
    result = run_process("-c", _WITHOUT_MATPLOTLIB, "bench", *argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "matplotlib" in lines[0]
    assert "valueroute[plot]" in lines[0]
    assert "--no-plots" in lines[0]
    assert "== Erlang A: one pool with patience" in result.stdout  # the table was printed
    written = sorted(path.name for path in out.iterdir())
    assert written == ["bench.csv", "bench.json", "report.html"]
    assert json.loads((out / "bench.json").read_text(encoding="utf-8"))["mode"] == "fast"


def test_bench_report_write_without_matplotlib_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    program = _WITHOUT_MATPLOTLIB.replace(
        "raise SystemExit(main(sys.argv[1:]))",
        textwrap.dedent(
            """
            from valueroute.bench import BenchReport
            from valueroute.errors import InvalidInputError

            try:
                BenchReport([], seed=0, mode="fast").write(sys.argv[1])
            except InvalidInputError as exc:
                print(exc)
            """
        ),
    )
    result = run_process("-c", program, str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "matplotlib" in result.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["rules", "dry-run", RULES, TASKS],
        ["simulate", "demo", "--replications", "1", "--serial", "--json"],
        ["erlang", "--traffic", "10", "--agents", "12"],
    ],
    ids=["rules", "simulate", "erlang"],
)
def test_a_closed_output_pipe_is_one_line(argv: list[str], tmp_path: Path) -> None:
    # `valueroute ... | head`: the reader has gone before the output is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "valueroute", *argv],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "broken pipe" in lines[0]
    assert result.returncode == 2


_NUMBER_TEXT = st.one_of(
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["nan", "-inf", "inf", "1e308", "-0", "0x10", "1_000", "٣", " 5 ", "1e-400"]),
)


@given(_NUMBER_TEXT)
def test_a_number_option_takes_exactly_the_finite_floats_in_range(text: str) -> None:
    parse = number(low=0.0, high=1e9, low_open=True)
    try:
        reference: float | None = float(text)
    except ValueError:
        reference = None
    if reference is not None and math.isfinite(reference) and 0.0 < reference <= 1e9:
        assert parse(text) == reference
    else:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse(text)
        message = str(info.value)
        assert message.startswith("got ")
        assert "(expected a finite number > 0 and <= 1e+09)" in message
        assert len(message) < 300


@given(_NUMBER_TEXT)
def test_an_integer_option_takes_exactly_the_plain_whole_numbers_in_range(text: str) -> None:
    parse = integer(low=1, high=10_000)
    # Surrounding whitespace is dropped as str.strip() does (int() itself
    # refuses some of what strip() drops, such as "\x1f").
    stripped = text.strip()
    plain = re.fullmatch(r"[+-]?[0-9]+", stripped) is not None
    if plain and 1 <= int(stripped) <= 10_000:
        assert parse(text) == int(stripped)
    else:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse(text)
        assert "(expected a whole number >= 1 and <= 10000)" in str(info.value)
        assert len(str(info.value)) < 300


@given(_NUMBER_TEXT, st.sampled_from(["--traffic", "--aht", "--target", "--agents", "--awt"]))
def test_any_text_for_an_erlang_option_ends_in_a_result_or_one_line(text: str, option: str) -> None:
    argv = ["erlang", "--traffic", "10", "--agents", "13", "--json"]
    if option in argv:
        argv[argv.index(option) + 1] = text
    else:
        argv = ["erlang", "--traffic", "10", option, text, "--awt", "20"]
    if option == "--awt":
        argv = ["erlang", "--traffic", "10", "--target", "0.8", "--awt", text]
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    lines = err.getvalue().splitlines()
    if code == 0:
        assert lines == []
        assert out.getvalue()
    else:
        assert code == 2
        assert len(lines) == 1, err.getvalue()
        assert lines[0].startswith("valueroute erlang: error: ")
        assert len(lines[0]) < 600
