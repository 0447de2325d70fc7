"""A solved roster: the shifts, the headcount per interval, cost and coverage."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Literal

from valueroute.errors import InvalidInputError
from valueroute.schedule._spec import (
    _DAY,
    _clock_text,
    _fail,
)


@dataclass(frozen=True)
class ScheduledBreak:
    """A break of a scheduled shift: from ``start_minutes`` (since midnight of day 0)."""

    start_minutes: int
    minutes: int
    paid: bool


@dataclass(frozen=True)
class ScheduledShift:
    """``count`` identical shifts: one template, one start, the same breaks.

    Times are minutes since midnight of day 0; ``day`` is the day the shift
    starts on. ``cost`` is the cost of one such shift.
    """

    template: str
    day: int
    start_minutes: int
    end_minutes: int
    count: int
    breaks: tuple[ScheduledBreak, ...]
    paid_hours: float
    cost: float

    def label(self) -> str:
        """Clock times from start to end, ``"07:00-15:00"`` (the day is :attr:`day`)."""
        start = _clock_text(self.start_minutes % _DAY)
        end = _clock_text(self.end_minutes % _DAY)
        return f"{start}-{end}"


@dataclass(frozen=True)
class Schedule:
    """A solved roster: the shifts and what they give per interval.

    ``requirement[t]`` is what was asked, ``minimum``/``maximum`` the bounds
    (``maximum`` is ``None`` where unbounded), ``headcount[t]`` the agents on
    duty and not on a break, ``shortage[t] = max(0, needed − headcount)``
    where needed is ``max(requirement, minimum)``. ``status`` is
    ``"optimal"`` (proven within ``mip_gap``) or ``"time_limit"`` (the best
    roster found when the time ran out, with ``gap`` its proven relative
    distance from the optimum). ``patterns`` lists, with ``days_off``, the
    days each group of agents works and how many agents do.
    """

    interval_minutes: int
    start_minutes: int
    labels: tuple[str, ...]
    requirement: tuple[int, ...]
    minimum: tuple[int, ...]
    maximum: tuple[int | None, ...]
    headcount: tuple[int, ...]
    shifts: tuple[ScheduledShift, ...]
    cost: float
    paid_hours: float
    status: Literal["optimal", "time_limit"]
    gap: float
    solve_seconds: float
    patterns: tuple[tuple[tuple[int, ...], int], ...] = ()

    @property
    def shortage(self) -> tuple[int, ...]:
        """Agents missing per interval against ``max(requirement, minimum)``."""
        return tuple(
            max(0, max(r, m) - h)
            for r, m, h in zip(self.requirement, self.minimum, self.headcount, strict=True)
        )

    @property
    def covered(self) -> bool:
        """Whether every interval has at least its requirement (and minimum) on duty."""
        return not any(self.shortage)

    @property
    def agents(self) -> int:
        """Shifts in the roster (on one day: agents; with ``days_off``: agent-days)."""
        return sum(s.count for s in self.shifts)

    @property
    def over_coverage_hours(self) -> float:
        """Agent-hours on duty beyond the requirement, the price of shift granularity."""
        extra = sum(max(0, h - r) for h, r in zip(self.headcount, self.requirement, strict=True))
        return extra * self.interval_minutes / 60.0

    def interval_rows(self) -> list[dict[str, Any]]:
        """One dict per interval: label, requirement, minimum, maximum, headcount, shortage."""
        shortage = self.shortage
        return [
            {
                "interval": label,
                "requirement": self.requirement[t],
                "minimum": self.minimum[t],
                "maximum": self.maximum[t],
                "headcount": self.headcount[t],
                "coverage": self.headcount[t] - self.requirement[t],
                "shortage": shortage[t],
            }
            for t, label in enumerate(self.labels)
        ]

    def shift_rows(self) -> list[dict[str, Any]]:
        """One dict per group of identical shifts, breaks as ``"HH:MM+minutes"`` text."""
        return [
            {
                "template": s.template,
                "day": s.day,
                "start": _clock_text(s.start_minutes % _DAY),
                "end": _clock_text(s.end_minutes % _DAY),
                "count": s.count,
                "breaks": " ".join(
                    f"{_clock_text(b.start_minutes % _DAY)}+{b.minutes}" + ("p" if b.paid else "")
                    for b in s.breaks
                ),
                "paid_hours": s.paid_hours,
                "cost": s.cost * s.count,
            }
            for s in self.shifts
        ]

    def totals(self) -> dict[str, Any]:
        """Cost, paid hours, shifts, status and coverage in one JSON-ready dict."""
        return {
            "cost": self.cost,
            "paid_hours": self.paid_hours,
            "shifts": self.agents,
            "status": self.status,
            "gap": self.gap,
            "covered": self.covered,
            "shortage_hours": sum(self.shortage) * self.interval_minutes / 60.0,
            "over_coverage_hours": self.over_coverage_hours,
            "solve_seconds": self.solve_seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        """Totals, shifts, intervals and days-off patterns as one JSON-ready dict."""
        return {
            "totals": self.totals(),
            "shifts": self.shift_rows(),
            "intervals": self.interval_rows(),
            "patterns": [{"days": list(days), "agents": n} for days, n in self.patterns],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self, table: Literal["intervals", "shifts"] = "intervals") -> str:
        """The interval or shift rows as CSV text with a header line."""
        rows = self._rows(table)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return buffer.getvalue()

    def to_pandas(self, table: Literal["intervals", "shifts"] = "intervals") -> Any:
        """The interval rows (indexed by ``interval``) or the shift rows as a DataFrame.

        Needs pandas (``pip install "valueroute[pandas]"``).
        """
        rows = self._rows(table)
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                'to_pandas: pandas is not installed (expected `pip install "valueroute[pandas]"`)'
            ) from None
        frame = pd.DataFrame(rows)
        return frame.set_index("interval") if table == "intervals" else frame

    def _rows(self, table: object) -> list[dict[str, Any]]:
        if table == "intervals":
            return self.interval_rows()
        if table == "shifts":
            return self.shift_rows() or [
                dict.fromkeys(
                    ("template", "day", "start", "end", "count", "breaks", "paid_hours", "cost")
                )
            ]
        raise _fail("table", table, "'intervals' or 'shifts'")
