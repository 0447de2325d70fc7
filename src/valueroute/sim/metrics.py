"""What a simulated day reports, and confidence intervals over replications.

A replication's KPIs are counted by the event aggregator
(:class:`valueroute.kpi.KpiAggregator`) the world attaches to its engine:
the same code counts a live engine's KPIs, so the two cannot disagree.
Memory never grows with the number of simulated tasks: per task type and
interval a few counters and sums, and a fixed-bin histogram of waits
(:class:`WaitHistogram`, the aggregator's). Counting one event costs O(1).

Definitions (``docs/simulation.md`` and ``valueroute.kpi`` repeat them):

- *offered*: tasks that arrived (from the warm-up on), retries and forwarded
  tasks included; *answered*: tasks that reached an agent; *abandoned*: tasks
  whose customer gave up before that; *waiting at end*: still queued when the
  run ended. offered = answered + abandoned + waiting at end. *Retrials*,
  *forwarded* and *refused closed* are the only counts the world keeps
  itself: the engine never sees them.
- *service level* with target T (the type's ``sla_seconds``) under the
  scenario's ``service_level_definition``:
  ``offered`` (default): answered within T / (answered + abandoned);
  ``answered``: answered within T / answered;
  ``offered_excluding_short``: answered within T / (answered + abandoned −
  abandoned within ``short_abandon_seconds``).
- *ASA*: mean wait of answered tasks; *mean wait*: over answered and
  abandoned tasks (time in queue); p50/p90/p99: quantiles of answered waits.
  Waits under 1 ms share the histogram's first bin and read as at most 1.03 ms.
- *AHT*: mean handle time of tasks whose service ended in the run.
- *value-weighted SLA attainment*: value of tasks answered on time / value of
  answered and abandoned tasks, where on time means within the due time
  (``due_seconds``) or, without one, within T. *Value lost to lateness*: value
  of tasks answered late; *to abandonment*: value of abandoned tasks. A
  task's value is the one it carried in the engine when it was answered or
  abandoned: its type's value as changed by rules, not the type's value.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from valueroute.errors import InvalidInputError
from valueroute.errors import bounded_repr as _shown
from valueroute.kpi import WaitHistogram  # one histogram for live KPIs and the simulator

__all__ = [
    "INTERVAL_KPIS",
    "KPI_NAMES",
    "WaitHistogram",
    "interval_band",
    "interval_series",
    "mean_ci",
    "student_t_quantile",
]


def _real(value: object) -> float | None:
    """``value`` as a float if it is a real number a float holds (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        return None


def _probability(value: object, name: str) -> float:
    """A real number strictly between 0 and 1, or InvalidInputError naming ``name``."""
    number = _real(value)
    if number is None or not 0.0 < number < 1.0:
        raise InvalidInputError(
            f"{name}: got {_shown(value)} (expected a probability strictly inside 0..1)",
            [(name, value, "a probability strictly inside 0..1")],
        )
    return number


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


KPI_NAMES: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "waiting_at_end",
    "in_service_at_end",
    "completed",
    "retrials",
    "forwarded",
    "refused_closed",
    "service_level",
    "p_wait",
    "abandonment_rate",
    "asa",
    "mean_wait",
    "p50_wait",
    "p90_wait",
    "p99_wait",
    "aht",
    "mean_queue",
    "arrival_rate_per_hour",
    "value_sla_attainment",
    "value_lost_late",
    "value_lost_abandoned",
)
"""The per-type KPIs every result reports, in report order."""


# ---------------------------------------------------------------- confidence intervals


def _normal_quantile(p: float) -> float:
    # Acklam's rational approximation refined by one Halley step: |error| < 1e-12.
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p <= 1 - low:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    error = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    u = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


def _t_within(theta: float, df: int) -> float:
    """P(|T| <= √df·tan θ) for Student's t with integer ``df`` (A&S 26.7.3 and 26.7.4)."""
    cos2 = math.cos(theta) ** 2
    if df % 2:
        total, term = 0.0, math.cos(theta)
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= cos2 * (2 * k) / (2 * k + 1)
        return 2.0 / math.pi * (theta + math.sin(theta) * total) if df > 1 else 2 * theta / math.pi
    total, term = 0.0, 1.0
    for k in range(1, df // 2 + 1):
        total += term
        term *= cos2 * (2 * k - 1) / (2 * k)
    return math.sin(theta) * total


# Up to this many degrees of freedom the quantile is found by bisection on the
# closed-form distribution function; beyond it the Cornish-Fisher expansion's
# error (of order df**-5) is below a float's rounding.
_EXACT_DF = 200


@functools.lru_cache(maxsize=4096)
def _upper_t_quantile(p: float, df: int) -> float:
    if p == 0.5:
        return 0.0
    if df <= _EXACT_DF:
        wanted = 2.0 * p - 1.0
        low, high = 0.0, math.pi / 2
        for _ in range(64):
            middle = 0.5 * (low + high)
            if _t_within(middle, df) < wanted:
                low = middle
            else:
                high = middle
        return math.sqrt(df) * math.tan(0.5 * (low + high))
    z = _normal_quantile(p)
    if df > 10**76:
        # t is the normal distribution to far below a float's precision, and
        # df**4 would pass the largest float.
        return z
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def student_t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom, within 1e-10 relative.

    Up to 200 degrees of freedom: bisection on the closed-form distribution
    function (Abramowitz and Stegun 26.7.3-4), O(df) per step; beyond, the
    Cornish-Fisher expansion in 1/df (A&S 26.7.5), whose error there is
    below a float's rounding. Results are cached per ``(p, df)``.
    """
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise InvalidInputError(
            f"df: got {_shown(df)} (expected an integer >= 1)",
            [("df", df, "an integer >= 1")],
        )
    p = _probability(p, "p")
    if p < 0.5:
        return -_upper_t_quantile(1.0 - p, df)
    return _upper_t_quantile(p, df)


def mean_ci(values: Sequence[float], *, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student t confidence interval.

    ``values``: real numbers (ints, floats, numpy scalars; not bools), any
    iterable of them. ``confidence``: a real number strictly between 0 and 1.
    Anything else is refused with :class:`~valueroute.errors.InvalidInputError`
    naming ``values`` or ``confidence``.

    NaN values (a KPI undefined in a replication) are left out; the half-width
    is NaN with fewer than two values. O(n).
    """
    level = _probability(confidence, "confidence")
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInputError(
            f"values: got {_shown(values)} (expected a sequence of real numbers)",
            [("values", values, "a sequence of real numbers")],
        )
    finite: list[float] = []
    for position, value in enumerate(values):
        number = _real(value)
        if number is None:
            raise InvalidInputError(
                f"values[{position}]: got {_shown(value)} (expected a real number a float holds)",
                [(f"values[{position}]", value, "a real number")],
            )
        if not math.isnan(number):
            finite.append(number)
    n = len(finite)
    if n == 0:
        return math.nan, math.nan
    mean = math.fsum(finite) / n
    if n < 2:
        return mean, math.nan
    variance = math.fsum((v - mean) ** 2 for v in finite) / (n - 1)
    quantile = student_t_quantile(0.5 + level / 2, n - 1)
    return mean, quantile * math.sqrt(variance / n)


@dataclass
class ReplicationResult:
    """What one replication measured.

    ``kpis[type][kpi]`` for each task type and ``"all"``; ``intervals`` holds
    one row per (interval, type) with counts by arrival interval;
    ``groups[group]`` the agent-time figures of each agent group; ``backlog``
    the queued tasks per type at each interval boundary.
    """

    replication: int
    seed: int
    policy: str
    kpis: dict[str, dict[str, float]]
    intervals: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    backlog: list[dict[str, Any]] = field(default_factory=list)
    engine_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field (JSON-ready once NaN is handled)."""
        return {
            "replication": self.replication,
            "seed": self.seed,
            "policy": self.policy,
            "kpis": self.kpis,
            "intervals": self.intervals,
            "groups": self.groups,
            "backlog": self.backlog,
            "engine_counts": self.engine_counts,
            "events": self.events,
        }


def summarise(
    rows: Sequence[Mapping[str, Mapping[str, float]]], *, confidence: float = 0.95
) -> dict[str, dict[str, dict[str, float]]]:
    """Per key and KPI: ``{"mean", "ci_low", "ci_high", "half_width", "n"}`` over replications."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    keys = list(rows[0]) if rows else []
    for key in keys:
        summary[key] = {}
        for kpi in rows[0][key]:
            values = [row[key][kpi] for row in rows]
            mean, half = mean_ci(values, confidence=confidence)
            summary[key][kpi] = {
                "mean": mean,
                "half_width": half,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "n": float(sum(not math.isnan(v) for v in values)),
            }
    return summary


# ------------------------------------------------------------ per-interval bands

INTERVAL_KPIS: tuple[str, ...] = ("service_level", "asa", "abandonment_rate", "waiting")
"""Per-interval figures :func:`interval_series` computes, by arrival interval.

``service_level``: answered within the type's target / (answered +
abandoned); ``asa``: mean wait of answered tasks; ``abandonment_rate``:
abandoned / (answered + abandoned); ``waiting``: tasks queued at each
interval boundary (the backlog). Each is NaN where undefined (an interval
with no answered or abandoned task).
"""


def interval_series(
    replication: ReplicationResult, kpi: str, task_type: str = "all"
) -> list[tuple[float, float]]:
    """``(time, value)`` per interval of one replication, for one type or ``"all"``.

    For ``"all"`` the counts of every type are added before dividing, as the
    ``"all"`` KPIs are. Times are interval starts (backlog: sample times), in
    seconds. O(intervals × types).

    ``replication`` is a :class:`ReplicationResult`, ``kpi`` one of
    :data:`INTERVAL_KPIS`, ``task_type`` ``"all"`` or a task type of the run;
    anything else raises :class:`~valueroute.errors.InvalidInputError` naming it.
    """
    if not isinstance(replication, ReplicationResult):
        raise InvalidInputError(
            f"replication: got {type(replication).__name__} (expected a ReplicationResult)",
            [("replication", replication, "a ReplicationResult")],
        )
    if not isinstance(kpi, str) or kpi not in INTERVAL_KPIS:
        raise InvalidInputError(
            f"kpi: got {_shown(kpi)} (expected one of {', '.join(INTERVAL_KPIS)})",
            [("kpi", kpi, "a per-interval KPI")],
        )
    if not isinstance(task_type, str) or task_type not in replication.kpis:
        raise InvalidInputError(
            f"task_type: got {_shown(task_type)} (expected 'all' or a task type of the run: "
            f"{_shown(list(replication.kpis))})",
            [("task_type", task_type, "a task type of the run or 'all'")],
        )
    if kpi == "waiting":
        return [
            (
                float(row["time"]),
                float(
                    sum(v for k, v in row.items() if k != "time")
                    if task_type == "all"
                    else row[task_type]
                ),
            )
            for row in replication.backlog
        ]
    totals: dict[float, list[float]] = {}
    for row in replication.intervals:
        if task_type != "all" and row["type"] != task_type:
            continue
        sums = totals.setdefault(float(row["interval_start"]), [0.0, 0.0, 0.0, 0.0])
        answered = row["answered"]
        sums[0] += row["answered_within"]
        sums[1] += answered
        sums[2] += row["abandoned"]
        if answered:
            sums[3] += row["asa"] * answered
    series = []
    for start, (within, answered, abandoned, wait_sum) in totals.items():
        if kpi == "service_level":
            value = _ratio(within, answered + abandoned)
        elif kpi == "asa":
            value = _ratio(wait_sum, answered)
        else:
            value = _ratio(abandoned, answered + abandoned)
        series.append((start, value))
    return series


def interval_band(
    replications: Sequence[ReplicationResult],
    kpi: str,
    task_type: str = "all",
    *,
    confidence: float = 0.95,
) -> list[dict[str, float]]:
    """Per interval: the mean over replications with its Student t interval.

    One dict per interval with ``time``, ``mean``, ``half_width``,
    ``ci_low``, ``ci_high`` and ``n`` (replications where the figure was
    defined): mean ± t(1 − α/2, n − 1) × s / √n by :func:`mean_ci`. The
    half-width is NaN with fewer than two defined values. Replications must
    come from one scenario (same intervals). O(replications × intervals ×
    types).

    ``replications`` is a sequence of :class:`ReplicationResult`, ``confidence``
    a real number strictly between 0 and 1, ``kpi`` and ``task_type`` as in
    :func:`interval_series`; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming it.
    """
    _probability(confidence, "confidence")
    if isinstance(replications, str | bytes | Mapping) or not isinstance(replications, Sequence):
        raise InvalidInputError(
            f"replications: got {type(replications).__name__} (expected a sequence of "
            "ReplicationResult)",
            [("replications", replications, "a sequence of ReplicationResult")],
        )
    columns = [interval_series(r, kpi, task_type) for r in replications]
    if not columns:
        return []
    times = [time for time, _ in columns[0]]
    for replication, column in zip(replications, columns, strict=True):
        if [time for time, _ in column] != times:
            raise InvalidInputError(
                f"replications: replication {replication.replication} has {len(column)} "
                f"intervals where the first has {len(times)}, or other start times (expected "
                "replications of one scenario)",
                [("replications", replication.replication, "replications of one scenario")],
            )
    band = []
    for index, (time, _) in enumerate(columns[0]):
        values = [column[index][1] for column in columns]
        mean, half = mean_ci(values, confidence=confidence)
        band.append(
            {
                "time": time,
                "mean": mean,
                "half_width": half,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "n": float(sum(not math.isnan(v) for v in values)),
            }
        )
    return band
