"""Running scenarios: replications, confidence intervals, policy comparisons, exports.

:func:`simulate` runs a scenario's replications, in parallel through any
:class:`concurrent.futures.Executor` (a local process pool by default when
there is more than one replication; dask.distributed's or Ray's executors
work the same way), and returns a :class:`SimulationResult`: every
replication's statistics and their means with Student t confidence
intervals.

:func:`compare` runs one scenario under several policies with the same seed,
so replication *r* of every policy sees the same customers (common random
numbers), and reports each policy's KPIs and its paired differences against
the first policy, the baseline.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valueroute._jsonio import csv_cell, json_ready
from valueroute.errors import InvalidInputError
from valueroute.sim.metrics import (
    KPI_NAMES,
    ReplicationResult,
    interval_band,
    mean_ci,
    summarise,
)
from valueroute.sim.scenario import Scenario, _shown
from valueroute.sim.world import run_replication

__all__ = [
    "ComparisonResult",
    "InlineExecutor",
    "SimulationResult",
    "compare",
    "simulate",
]

Progress = Callable[[float], None]


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling thread (serial replications)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; a future holding its result or exception."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


@dataclass
class SimulationResult:
    """Every replication of one scenario under one policy, and their summary.

    ``summary[type][kpi]`` has ``mean``, ``half_width``, ``ci_low``,
    ``ci_high`` and ``n`` (the replications where the KPI was defined), for
    each task type and ``"all"``; ``groups`` the same per agent group.
    ``source`` is the scenario that ran (echoed by :meth:`to_html`; ``None``
    when the result was built without it).
    """

    scenario: str
    policy: str
    seed: int
    replications: list[ReplicationResult]
    summary: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    groups: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    source: Scenario | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = summarise([r.kpis for r in self.replications])
        if not self.groups:
            self.groups = summarise([r.groups for r in self.replications])

    def mean(self, kpi: str, task_type: str = "all") -> float:
        """The replication mean of one KPI.

        ``kpi`` is one of :data:`KPI_NAMES`, ``task_type`` ``"all"`` or a task
        type of the scenario; anything else raises
        :class:`~valueroute.errors.InvalidInputError` naming it.
        """
        figures = self.summary.get(task_type) if isinstance(task_type, str) else None
        if figures is None:
            raise InvalidInputError(
                f"task_type: got {_shown(task_type)} (expected 'all' or a task type of the "
                f"run: {_shown(list(self.summary))})",
                [("task_type", task_type, "a task type of the run or 'all'")],
            )
        if not isinstance(kpi, str) or kpi not in figures:
            raise InvalidInputError(
                f"kpi: got {_shown(kpi)} (expected one of: {', '.join(figures)})",
                [("kpi", kpi, "a KPI name")],
            )
        return figures[kpi]["mean"]

    def to_dict(self, *, replications: bool = True) -> dict[str, Any]:
        """A JSON-ready dict: scenario, policy, seed, summary, groups (and each replication)."""
        data: dict[str, Any] = {
            "scenario": self.scenario,
            "policy": self.policy,
            "seed": self.seed,
            "replication_count": len(self.replications),
            "summary": self.summary,
            "groups": self.groups,
        }
        if replications:
            data["replications"] = [r.to_dict() for r in self.replications]
        ready: dict[str, Any] = json_ready(data)
        return ready

    def to_json(self, *, replications: bool = True, indent: int | None = 2) -> str:
        """JSON text (NaN written as null).

        ``indent`` is ``None`` (one line) or an integer from 0 to 100, as for
        :func:`json.dumps`.
        """
        return json.dumps(self.to_dict(replications=replications), indent=_indent(indent))

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per (type, KPI): mean and confidence interval."""
        rows = []
        for task_type, kpis in self.summary.items():
            for kpi, figures in kpis.items():
                rows.append({"type": task_type, "kpi": kpi, **figures})
        return rows

    def interval_rows(self) -> list[dict[str, Any]]:
        """Per-interval rows of every replication (with a ``replication`` column)."""
        return [
            {"replication": r.replication, **row} for r in self.replications for row in r.intervals
        ]

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write ``summary.csv``, ``intervals.csv``, ``groups.csv`` and ``backlog.csv``.

        ``directory`` is a path (``str`` or :class:`os.PathLike`), created if
        missing; one that is not a path or cannot be written raises
        :class:`~valueroute.errors.InvalidInputError` naming ``directory``.
        """
        folder = _output_path(directory, "directory")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            raise _unwritable("directory", folder, exc) from None
        group_rows = [
            {"group": g, "figure": k, **v}
            for g, figures in self.groups.items()
            for k, v in figures.items()
        ]
        backlog_rows = [
            {"replication": r.replication, **row} for r in self.replications for row in r.backlog
        ]
        written = []
        for name, rows in (
            ("summary.csv", self.summary_rows()),
            ("intervals.csv", self.interval_rows()),
            ("groups.csv", group_rows),
            ("backlog.csv", backlog_rows),
        ):
            path = folder / name
            try:
                path.write_text(_csv_text(rows), encoding="utf-8")
            except (OSError, ValueError) as exc:
                raise _unwritable("directory", path, exc) from None
            written.append(path)
        return written

    def to_pandas(self, table: str = "summary") -> Any:
        """One of the result's tables as a pandas DataFrame; needs pandas (the pandas extra).

        ``table``:

        - ``"summary"`` (default): one row per (type, KPI), indexed by
          ``(type, kpi)``, columns ``mean``, ``half_width``, ``ci_low``,
          ``ci_high``, ``n``;
        - ``"replications"``: long, one row per (replication, type, KPI):
          ``variant``, ``replication``, ``seed``, ``type``, ``kpi``, ``value``;
        - ``"intervals"``: one row per (replication, interval, type):
          ``variant``, ``replication`` and the columns of ``intervals``;
        - ``"groups"``: long, one row per (replication, agent group, figure):
          ``variant``, ``replication``, ``group``, ``figure``, ``value``;
        - ``"backlog"``: long, one row per (replication, sample time, type):
          ``variant``, ``replication``, ``time``, ``type``, ``waiting``.

        ``variant`` is the policy label, so frames of several results concatenate.
        """
        _check_table(table, ("summary", *_LONG_COLUMNS))
        pd = _pandas()
        if table == "summary":
            return pd.DataFrame(self.summary_rows(), columns=_SUMMARY_COLUMNS).set_index(
                ["type", "kpi"]
            )
        rows = _long_rows(self, table)
        return pd.DataFrame(rows, columns=_columns(rows, _LONG_COLUMNS[table]))

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write a self-contained HTML report (see :func:`valueroute.sim.report.write_report`)."""
        from valueroute.sim.report import write_report

        return write_report(self, path)

    def plot(self, path: str | Path) -> Path:
        """Service level and backlog per interval as a PNG; needs matplotlib (the plot extra).

        Each task type's line is the mean over replications, with its 95 %
        Student t confidence band (mean ± t × s / √n per interval; no band
        with one replication). Service level is in percent.

        ``path`` is a file path (``str`` or :class:`os.PathLike`); its suffix
        picks the format (``.png``, ``.svg``, ``.pdf``... as matplotlib writes
        them), and a path without one is written as PNG at exactly that path.
        A path that is not one, an unknown suffix or a file that cannot be
        written raises :class:`~valueroute.errors.InvalidInputError` naming
        ``path``.
        """
        out = _output_path(path, "path")
        try:
            import matplotlib  # type: ignore[import-not-found, unused-ignore]

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "plot: matplotlib is not installed (expected `pip install valueroute[plot]`)"
            ) from None
        types = [t for t in self.replications[0].kpis if t != "all"]
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
        for axes, kpi, scale in ((top, "service_level", 100.0), (bottom, "waiting", 1.0)):
            for task_type in types:
                band = interval_band(self.replications, kpi, task_type)
                hours = [point["time"] / 3600 for point in band]
                line = axes.plot(hours, [point["mean"] * scale for point in band], label=task_type)
                if len(self.replications) > 1:
                    low = 0.0
                    high = 100.0 if scale == 100.0 else math.inf
                    axes.fill_between(
                        hours,
                        [min(max(p["ci_low"] * scale, low), high) for p in band],
                        [min(max(p["ci_high"] * scale, low), high) for p in band],
                        color=line[0].get_color(),
                        alpha=0.2,
                        linewidth=0,
                    )
        top.set_ylabel("service level (%)")
        bottom.set_ylabel("waiting tasks")
        bottom.set_xlabel("hours")
        top.legend()
        count = len(self.replications)
        top.set_title(
            f"{self.scenario} ({self.policy}, mean of {count} replication"
            f"{'s' if count != 1 else ''}" + (", 95 % CI)" if count > 1 else ")")
        )
        try:
            figure.savefig(out, dpi=100, format=out.suffix[1:].lower() or "png")
        except (OSError, ValueError) as exc:  # ValueError: a NUL character, an unknown format
            raise _unwritable("path", out, exc) from None
        finally:
            plt.close(figure)
        return out


def _output_path(value: object, name: str) -> Path:
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike):
        raise InvalidInputError(
            f"{name}: got {type(value).__name__} {_shown(value)} (expected a file path)",
            [(name, value, "a file path")],
        )
    return Path(value)


def _unwritable(name: str, path: Path, exc: OSError | ValueError) -> InvalidInputError:
    reason = exc.strerror if isinstance(exc, OSError) else None
    return InvalidInputError(
        f"{name}: cannot write {_shown(str(path))} ({reason or str(exc)[:120]}; "
        "expected a writable path)",
        [(name, str(path)[:160], "a writable path")],
    )


def _indent(indent: object) -> int | None:
    if indent is None:
        return None
    if isinstance(indent, bool) or not isinstance(indent, int) or not 0 <= indent <= 100:
        raise InvalidInputError(
            f"indent: got {_shown(indent)} (expected None or an integer from 0 to 100)",
            [("indent", indent, "None or an integer from 0 to 100")],
        )
    return indent


def _check_runner(executor: object, progress: object) -> None:
    if executor is not None and not isinstance(executor, Executor):
        raise InvalidInputError(
            f"executor: got {type(executor).__name__} {_shown(executor)} (expected None or a "
            "concurrent.futures.Executor)",
            [("executor", executor, "None or a concurrent.futures.Executor")],
        )
    if progress is not None and not callable(progress):
        raise InvalidInputError(
            f"progress: got {type(progress).__name__} {_shown(progress)} (expected None or a "
            "callable(fraction))",
            [("progress", progress, "None or a callable")],
        )


_SUMMARY_COLUMNS = ["type", "kpi", "mean", "half_width", "ci_low", "ci_high", "n"]
_LONG_COLUMNS: dict[str, list[str]] = {
    "replications": ["variant", "replication", "seed", "type", "kpi", "value"],
    "intervals": ["variant", "replication", "interval_start", "type"],
    "groups": ["variant", "replication", "group", "figure", "value"],
    "backlog": ["variant", "replication", "time", "type", "waiting"],
}


def _pandas() -> Any:
    try:
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        raise InvalidInputError(
            "to_pandas: pandas is not installed (expected `pip install valueroute[pandas]`)"
        ) from None
    return pd


def _columns(rows: Sequence[Mapping[str, Any]], first: list[str]) -> list[str]:
    columns = list(first)
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def _long_rows(result: SimulationResult, table: str) -> list[dict[str, Any]]:
    label = result.policy
    if table == "replications":
        return [
            {
                "variant": label,
                "replication": r.replication,
                "seed": r.seed,
                "type": task_type,
                "kpi": kpi,
                "value": value,
            }
            for r in result.replications
            for task_type, kpis in r.kpis.items()
            for kpi, value in kpis.items()
        ]
    if table == "intervals":
        return [
            {"variant": label, "replication": r.replication, **row}
            for r in result.replications
            for row in r.intervals
        ]
    if table == "groups":
        return [
            {
                "variant": label,
                "replication": r.replication,
                "group": group,
                "figure": figure,
                "value": value,
            }
            for r in result.replications
            for group, figures in r.groups.items()
            for figure, value in figures.items()
        ]
    if table == "backlog":
        return [
            {
                "variant": label,
                "replication": r.replication,
                "time": row["time"],
                "type": task_type,
                "waiting": waiting,
            }
            for r in result.replications
            for row in r.backlog
            for task_type, waiting in row.items()
            if task_type != "time"
        ]
    raise AssertionError(table)  # _check_table let an unknown table through


def _check_table(table: object, allowed: Sequence[str]) -> None:
    if not isinstance(table, str) or table not in allowed:
        raise InvalidInputError(
            f"table: got {_shown(table)} (expected one of {', '.join(allowed)})",
            [("table", table, "a table name")],
        )


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        columns = list(rows[0])
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


MAX_REPLICATIONS = 10_000
"""Most replications one run takes, as in a scenario file (``replications``)."""


def _check_count(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPLICATIONS:
        raise InvalidInputError(
            f"{name}: got {_shown(value)} (expected an integer from 1 to {MAX_REPLICATIONS:,})",
            [(name, value, f"an integer from 1 to {MAX_REPLICATIONS:,}")],
        )


def _check_scenario(scenario: object) -> None:
    if not isinstance(scenario, Scenario):
        raise InvalidInputError(
            f"scenario: got {type(scenario).__name__} (expected a Scenario; see load_scenario)",
            [("scenario", scenario, "a Scenario")],
        )


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(
            f"seed: got {_shown(seed)} (expected an integer >= 0)",
            [("seed", seed, "an integer >= 0")],
        )
    return seed


def _check_kpis(kpis: object) -> list[str]:
    if isinstance(kpis, str | bytes) or not isinstance(kpis, Iterable):
        raise InvalidInputError(
            f"kpis: got {_shown(kpis)} (expected a list of KPI names)",
            [("kpis", kpis, "a list of KPI names")],
        )
    wanted = list(kpis)
    for kpi in wanted:
        if not isinstance(kpi, str) or kpi not in KPI_NAMES:
            raise InvalidInputError(
                f"kpis: got {_shown(kpi)} (expected KPI names from: {', '.join(KPI_NAMES)})",
                [("kpis", kpi, "a KPI name")],
            )
    return wanted


def _run_all(
    scenario: Scenario,
    jobs: Sequence[tuple[Scenario, int]],
    *,
    seed: int,
    executor: Executor | None,
    allow_code: bool,
    progress: Progress | None,
) -> list[ReplicationResult]:
    scenario.check_code(allow_code=allow_code)
    if executor is None and len(jobs) == 1:
        only, index = jobs[0]
        return [run_replication(only, index, seed=seed, allow_code=allow_code, progress=progress)]
    own = executor is None
    pool: Executor = (
        ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1))
        if executor is None
        else executor
    )
    try:
        futures = {
            pool.submit(run_replication, job, index, seed=seed, allow_code=allow_code): position
            for position, (job, index) in enumerate(jobs)
        }
        results: list[ReplicationResult | None] = [None] * len(jobs)
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done / len(jobs))
    finally:
        if own:
            pool.shutdown()
    return [r for r in results if r is not None]


def simulate(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    allow_code: bool = False,
    progress: Progress | None = None,
) -> SimulationResult:
    """Run a scenario's replications and summarise them.

    ``replications`` (an integer from 1 to 10,000, as in a scenario) and
    ``seed`` (an integer >= 0) default to the scenario's. Anything else, and an
    ``executor`` or ``progress`` of the wrong kind, raises
    :class:`~valueroute.errors.InvalidInputError` naming it. ``executor``:
    any :class:`concurrent.futures.Executor`; ``None`` runs a single
    replication in this process and several in a local process pool.
    ``progress(fraction)`` is called as the run advances. References to code
    in the scenario load only with ``allow_code=True``.

    Cost: each replication is O(events × log(open tasks)) time and
    O(open tasks + agents + types × intervals) memory.
    """
    _check_scenario(scenario)
    _check_count("replications", replications)
    count = scenario.replications if replications is None else replications
    base_seed = _check_seed(scenario.seed if seed is None else seed)
    _check_runner(executor, progress)
    results = _run_all(
        scenario,
        [(scenario, r) for r in range(count)],
        seed=base_seed,
        executor=executor,
        allow_code=allow_code,
        progress=progress,
    )
    policy = results[0].policy if results else scenario.routing.policy
    return SimulationResult(scenario.name, policy, base_seed, results, source=scenario)


@dataclass
class ComparisonResult:
    """Per-policy results and paired differences against the baseline (the first policy).

    ``differences[policy][type][kpi]`` holds the mean of (policy − baseline)
    over replications with its confidence interval; each replication pairs
    runs that saw the same customers.
    """

    baseline: str
    results: dict[str, SimulationResult]
    differences: dict[str, dict[str, dict[str, dict[str, float]]]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the baseline, each policy's result, the differences."""
        ready: dict[str, Any] = json_ready(
            {
                "baseline": self.baseline,
                "policies": {
                    name: result.to_dict(replications=False)
                    for name, result in self.results.items()
                },
                "differences": self.differences,
            }
        )
        return ready

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text (NaN written as null); ``indent`` as in :meth:`SimulationResult.to_json`."""
        return json.dumps(self.to_dict(), indent=_indent(indent))

    def to_pandas(self, table: str = "summary") -> Any:
        """One table over every policy as a pandas DataFrame; needs pandas (the pandas extra).

        ``table`` is one of :meth:`SimulationResult.to_pandas`'s, with every
        policy's rows stacked and told apart by ``variant`` (the policy
        label; the summary is indexed by ``(variant, type, kpi)``), or
        ``"differences"``: one row per (variant, type, KPI) of the paired
        differences against the baseline, columns ``variant``, ``type``,
        ``kpi``, ``mean``, ``half_width``, ``ci_low``, ``ci_high``.
        """
        _check_table(table, ("summary", *_LONG_COLUMNS, "differences"))
        pd = _pandas()
        if table == "summary":
            rows = [
                {"variant": label, **row}
                for label, result in self.results.items()
                for row in result.summary_rows()
            ]
            return pd.DataFrame(rows, columns=["variant", *_SUMMARY_COLUMNS]).set_index(
                ["variant", "type", "kpi"]
            )
        if table == "differences":
            rows = [
                {"variant": label, "type": task_type, "kpi": kpi, **figures}
                for label, types in self.differences.items()
                for task_type, kpis in types.items()
                for kpi, figures in kpis.items()
            ]
            columns = ["variant", "type", "kpi", "mean", "half_width", "ci_low", "ci_high"]
            return pd.DataFrame(rows, columns=columns)
        rows = [row for result in self.results.values() for row in _long_rows(result, table)]
        return pd.DataFrame(rows, columns=_columns(rows, _LONG_COLUMNS[table]))

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write a self-contained HTML report (see :func:`valueroute.sim.report.write_report`)."""
        from valueroute.sim.report import write_report

        return write_report(self, path)


def _policy_setting(policy: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(policy, str):
        return policy, {}
    if isinstance(policy, Mapping) and isinstance(policy.get("policy"), str):
        params = dict(policy)
        return str(params.pop("policy")), params
    raise InvalidInputError(
        f"policies: got {_shown(policy)} (expected a policy name or a mapping with 'policy' "
        "and its parameters)",
        [("policies", policy, "a policy name or {'policy': name, ...}")],
    )


def compare(
    scenario: Scenario,
    *,
    policies: Sequence[str | Mapping[str, Any]],
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    allow_code: bool = False,
    progress: Progress | None = None,
    kpis: Iterable[str] = KPI_NAMES,
) -> ComparisonResult:
    """Run the scenario under each policy on the same customers and compare.

    ``policies`` are names (``"fifo"``) or mappings
    ``{"policy": "aging_priority", "seconds_per_point": 30}``; the first is
    the baseline. Every policy is validated before anything runs. Labels are
    the policy names, suffixed ``#2``, ``#3``... when a name repeats.

    ``policies`` is a list (or tuple) of at least two; ``replications`` and
    ``seed`` as in :func:`simulate`; ``kpis`` names the KPIs whose paired
    differences are computed, each one of :data:`KPI_NAMES`. Anything else
    raises :class:`~valueroute.errors.InvalidInputError` naming the argument,
    before any replication runs.
    """
    _check_scenario(scenario)
    if (
        isinstance(policies, str | bytes | Mapping)
        or not isinstance(policies, Sequence)
        or len(policies) < 2
    ):
        raise InvalidInputError(
            f"policies: got {_shown(policies)} (expected a list of two or more policies)",
            [("policies", policies, "a list of two or more policies")],
        )
    _check_count("replications", replications)
    count = scenario.replications if replications is None else replications
    base_seed = _check_seed(scenario.seed if seed is None else seed)
    wanted = _check_kpis(kpis)
    _check_runner(executor, progress)
    variants: list[tuple[str, Scenario]] = []
    for policy in policies:
        name, params = _policy_setting(policy)
        label = name
        taken = {existing for existing, _ in variants}
        suffix = 2
        while label in taken:
            label = f"{name}#{suffix}"
            suffix += 1
        variants.append((label, scenario.with_routing(policy=name, policy_params=params)))
    for _, variant in variants:
        variant.check_code(allow_code=allow_code)
    jobs = [(variant, r) for _, variant in variants for r in range(count)]
    flat = _run_all(
        scenario,
        jobs,
        seed=base_seed,
        executor=executor,
        allow_code=allow_code,
        progress=progress,
    )
    results: dict[str, SimulationResult] = {}
    for position, (label, variant) in enumerate(variants):
        runs = flat[position * count : (position + 1) * count]
        results[label] = SimulationResult(variant.name, label, base_seed, runs, source=variant)
    baseline = variants[0][0]
    differences: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    base_runs = results[baseline].replications
    for label, result in results.items():
        if label == baseline:
            continue
        table: dict[str, dict[str, dict[str, float]]] = {}
        for task_type in base_runs[0].kpis:
            table[task_type] = {}
            for kpi in wanted:
                paired = [
                    run.kpis[task_type][kpi] - base.kpis[task_type][kpi]
                    for run, base in zip(result.replications, base_runs, strict=True)
                ]
                mean, half = mean_ci(paired)
                table[task_type][kpi] = {
                    "mean": mean,
                    "half_width": half,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                }
        differences[label] = table
    return ComparisonResult(baseline, results, differences)
