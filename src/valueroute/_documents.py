"""One reader for the TOML, JSON and YAML documents users hand in.

Rule files, scenarios and bench scenarios are read alike; each caller turns
a :class:`DocumentError` into its own error type and wording.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any, Literal, TypeAlias

DocumentFormat: TypeAlias = Literal["toml", "json", "yaml"]

SUFFIXES: dict[str, DocumentFormat] = {
    ".toml": "toml",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
"""File suffix (lower case) -> format."""


class DocumentError(ValueError):
    """Why a text could not be read; ``field`` is ``"format"`` or ``"(file)"``."""

    def __init__(self, reason: str, *, field: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def parse_document(text: str | bytes, format: str) -> Any:
    """The data of ``text`` in ``format``; :class:`DocumentError` for anything unreadable.

    Bytes must be UTF-8. Malformed text, nesting too deep for the parser and
    a missing PyYAML all become a :class:`DocumentError`, never the parser's
    own exception.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"not UTF-8 text ({exc})", field="(file)") from None
    if format == "yaml":
        return _parse_yaml(text)
    try:
        if format == "toml":
            return tomllib.loads(text)
        if format == "json":
            return json.loads(text)
    except (ValueError, RecursionError) as exc:
        # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors.
        raise DocumentError(f"not valid {format} ({exc})", field="(file)") from None
    raise DocumentError(f"got {format!r} (expected 'toml', 'json' or 'yaml')", field="format")


def _parse_yaml(text: str) -> Any:
    try:
        import yaml  # type: ignore[import-untyped]  # stubs are a separate package
    except ImportError:
        raise DocumentError(
            "'yaml' needs PyYAML (install valueroute[yaml]), or use TOML or JSON",
            field="format",
        ) from None
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise DocumentError(f"not valid yaml ({exc})", field="(file)") from None
