"""A griffe extension for the reference pages: docstring examples as code.

Docstrings hold doctests (``>>>`` lines and their output) as plain text,
which Markdown would render as prose (and read ``[5.0, 5.0]`` as a link).
This wraps each run of doctest lines in a ``pycon`` fence before
mkdocstrings renders it, and shows Sphinx cross-reference roles
(``:class:`Engine```) as code, which Markdown would print as written.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj|const):`~?([^`]+)`")


def fenced(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    in_example = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(">>>") and not in_example:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_example = True
        elif in_example and not stripped:
            out.append(f"{indent}```")
            in_example = False
        out.append(line)
    if in_example:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence doctest examples in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        text = ROLE.sub(r"`\1`", obj.docstring.value)
        obj.docstring.value = fenced(text) if ">>>" in text else text
