"""Small helpers for the JSON and CSV exports of results."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["csv_cell", "json_ready"]


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: NaN (no data) becomes an empty cell."""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def json_ready(value: Any) -> Any:
    """Nested data with non-finite floats as ``null`` (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
