"""The Python examples in the guides run as written (docs cannot drift from the code).

A page's blocks run in order in one namespace, as a reader would type them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "README.md",
    "docs/tasklist.md",
    "docs/engine.md",
    "docs/models.md",
    "docs/simulation.md",
    "docs/simulation-inputs.md",
    "docs/staffing.md",
    "docs/scoring.md",
    "docs/rules.md",
    "docs/agents.md",
    "docs/durability.md",
    "docs/erlang.md",
    "docs/benchmarking.md",
    "docs/reference/schemas.md",
    "docs/calendars.md",
    "docs/expressions.md",
    "docs/kpis.md",
    "docs/forecasting.md",
    "docs/scheduling.md",
    "docs/queues.md",
    "docs/workflows.md",
    "docs/backtest.md",
    "docs/migrating.md",
]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Run where a reader would, with the repository's examples at hand, but
    # write whatever the examples write (journals, results) into a scratch folder.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, code in enumerate(BLOCK.findall((ROOT / page).read_text()), start=1):
        # dont_inherit: a guide's blocks run without this file's
        # ``from __future__ import annotations`` (pydantic models in a guide
        # must be complete as a reader's would be).
        exec(compile(code, f"{page}#block{number}", "exec", dont_inherit=True), namespace)
