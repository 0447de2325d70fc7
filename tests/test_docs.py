"""The Python examples in the guides run as written (docs cannot drift from the code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/tasklist.md", "docs/engine.md", "docs/models.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text()
        for number, code in enumerate(BLOCK.findall(text), start=1):
            found.append((page, number, code))
    return found


@pytest.mark.parametrize(("page", "number", "code"), _blocks(), ids=lambda v: str(v)[:40])
def test_python_blocks_run(
    page: str, number: int, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(compile(code, f"{page}#block{number}", "exec"), {"__name__": "__docs__"})
