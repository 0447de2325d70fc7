"""Every command the README and the guides show runs, as written, against the installed package.

Commands are the lines of shell code blocks that start with ``valueroute ``,
``python -m valueroute`` or ``python examples/``. Synopsis lines, which show
a command's grammar with UPPERCASE placeholders or ``[optional]`` parts, are
not commands and are skipped; install lines (``pip install``) are what CI itself runs. Each
command runs in a scratch folder holding the repository's examples, the
bundled demo scenario under the name the guides use for "your own file"
(``my_day.toml``), and the full Anonymous Bank file where a guide names it
(when the shared data is present). Under CI the package is a non-editable
install, so this checks what users get, not the source tree.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
SHELL_BLOCKS = {"", "bash", "sh", "shell", "console", "text"}
SYNOPSIS = re.compile(r"\b[A-Z][A-Z_]{2,}\b|\[--|\.\.\.|<[a-z]")


def _shell_lines(text: str) -> list[str]:
    """Lines of the fenced code blocks that hold shell commands."""
    lines: list[str] = []
    language: str | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            language = line[3:].strip() if language is None else None
        elif language in SHELL_BLOCKS:
            lines.append(line)
    return lines


def _commands() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in PAGES:
        for line in _shell_lines((ROOT / page).read_text()):
            command = line.split(" #", 1)[0].strip()
            if not command.startswith(("valueroute ", "python examples/", "python -m valueroute")):
                continue
            if SYNOPSIS.search(command):
                continue
            if (page, command) not in found:
                found.append((page, command))
    return found


COMMANDS = _commands()

# Commands that run for minutes: the full benchmark suite (its short runs,
# `valueroute bench --fast`, run with the page). They run in the slow tests
# (`python -m pytest --run-slow`).
SLOW_COMMANDS = [("docs/benchmarking.md", "valueroute bench")]


def test_the_guides_show_commands() -> None:
    assert len(COMMANDS) >= 10, COMMANDS


def test_the_slow_commands_are_shown_in_the_guides() -> None:
    assert set(SLOW_COMMANDS) <= set(COMMANDS), SLOW_COMMANDS


PAGES_WITH_COMMANDS = sorted({page for page, _ in COMMANDS})


@pytest.mark.parametrize("page", PAGES_WITH_COMMANDS)
def test_documented_commands_run(page: str, tmp_path: Path) -> None:
    """A page's commands run in order in one folder, as a reader would type them
    (a later command may read what an earlier one wrote)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    demo = ROOT / "src" / "valueroute" / "data" / "demo_scenario.toml"
    shutil.copy(demo, tmp_path / "my_day.toml")
    for command in [c for p, c in COMMANDS if p == page and (p, c) not in SLOW_COMMANDS]:
        _run(page, command, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("page", "command"), SLOW_COMMANDS)
def test_slow_documented_commands_run(page: str, command: str, tmp_path: Path) -> None:
    _run(page, command, tmp_path)


def _run(page: str, command: str, folder: Path) -> None:
    argv = shlex.split(command)
    if "path/to/anonymous_bank_1999_calls_clean.csv.gz" in argv:
        full = SHARED_DATA / "anonymous_bank_1999_calls_clean.csv.gz"
        if not full.exists():
            return  # the full file is not here: the excerpt's command ran instead
        (folder / "path" / "to").mkdir(parents=True, exist_ok=True)
        link = folder / "path" / "to" / full.name
        if not link.exists():
            link.symlink_to(full)
    if argv[0] == "valueroute":
        argv = [sys.executable, "-m", "valueroute", *argv[1:]]
    else:
        argv = [sys.executable, *argv[1:]]
    done = subprocess.run(
        argv,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, f"{page}: {command}\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{page}: {command} printed nothing"
