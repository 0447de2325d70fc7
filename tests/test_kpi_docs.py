"""The KPI guide's Python blocks run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "kpis.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_the_kpi_guide_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"docs/kpis.md#block{number}", "exec"), namespace)
