"""The Anonymous Bank example scripts fail with one line on stderr and exit code 2.

Each bad invocation runs the script in a real Python process, as a user runs
it: no traceback, a single line naming what was wrong, exit status 2, and no
output file left behind by a run refused before it started.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROFILE = EXAMPLES / "anonymous_bank_profile.py"
REPLAY = EXAMPLES / "anonymous_bank_replay.py"


def _run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def _assert_one_line_failure(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr)
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_profile_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = _run(PROFILE, "no_such_calls.csv.gz", cwd=tmp_path)
    _assert_one_line_failure(done, "no_such_calls.csv.gz", "existing file")
    assert done.stdout == ""


def test_replay_of_missing_data_is_one_line(tmp_path: Path) -> None:
    done = _run(REPLAY, "--data", "missing", cwd=tmp_path)
    _assert_one_line_failure(done, "'missing'", "existing file")
    assert done.stdout == ""


@pytest.mark.parametrize("count", ["0", "-3"])
def test_replay_with_too_few_replications_is_one_line(tmp_path: Path, count: str) -> None:
    done = _run(REPLAY, "--replications", count, cwd=tmp_path)
    _assert_one_line_failure(done, "--replications", count)
    assert done.stdout == ""


def test_replay_to_a_csv_in_a_missing_folder_refuses_before_the_run(tmp_path: Path) -> None:
    target = tmp_path / "no_such_folder" / "calls.csv"
    done = _run(REPLAY, "--replications", "2", "--calls-csv", str(target), cwd=tmp_path)
    _assert_one_line_failure(done, "--calls-csv", "calls.csv")
    assert done.stdout == ""  # refused before the replay ran and printed its table
    assert not target.parent.exists()


def test_replay_to_a_csv_that_is_a_folder_refuses_before_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "a_folder"
    folder.mkdir()
    done = _run(REPLAY, "--replications", "2", "--calls-csv", str(folder), cwd=tmp_path)
    _assert_one_line_failure(done, "--calls-csv", "a_folder")
    assert done.stdout == ""
    assert list(folder.iterdir()) == []
