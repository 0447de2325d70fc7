"""Presenting benchmark results: the report object, terminal tables, plots and the HTML page.

Depends on :mod:`valueroute.bench._model` only (the runner depends on it, not
the other way round); matplotlib is imported only when plotting.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from valueroute import __version__
from valueroute._jsonio import csv_cell
from valueroute.bench._model import CSV_COLUMNS, ScenarioResult, _direction
from valueroute.errors import InvalidInputError

__all__ = [
    "FRAME_COLUMNS",
    "BenchReport",
    "check_plotting",
    "kpi_figure",
    "plot_scenario",
    "report_html",
    "scenario_table",
    "shown_kpis",
    "wait_cdf",
    "wait_figure",
    "write_outputs",
]


FRAME_COLUMNS = ("scenario", "variant", "task_type", "kpi", "mean", "ci_low", "ci_high", "n")
"""The columns of :meth:`BenchReport.to_pandas`."""


@dataclass
class BenchReport:
    """Results of a bench run over one or more scenarios."""

    scenarios: list[ScenarioResult]
    seed: int
    mode: Literal["fast", "full"]
    version: str = __version__
    elapsed_seconds: float = 0.0

    @property
    def all_hold(self) -> bool:
        """Whether every tested relation held."""
        return all(o.holds for s in self.scenarios for o in s.relations if o.tested)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "seed": self.seed,
            "mode": self.mode,
            "elapsed_seconds": self.elapsed_seconds,
            "all_relations_hold": self.all_hold,
            "scenarios": [s.to_dict() for s in self.scenarios],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self, path: str | Path) -> Path:
        """Write one CSV row per (scenario, variant, type, KPI) with :data:`CSV_COLUMNS`."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for scenario in self.scenarios:
            for row in scenario.rows():
                writer.writerow({k: csv_cell(v) for k, v in row.items()})
        out.write_text(buffer.getvalue(), encoding="utf-8")
        return out

    def to_pandas(self) -> Any:
        """A tidy :class:`pandas.DataFrame` of the summary: one row per (scenario, variant,
        task type, KPI).

        Columns :data:`FRAME_COLUMNS`: ``scenario``, ``variant``, ``task_type``
        (``"all"`` for the whole centre), ``kpi``, ``mean``, ``ci_low`` and
        ``ci_high`` (the 95 % Student t interval over replications; NaN where
        undefined) and ``n`` (the replications in which the KPI was defined).
        Needs pandas (the ``pandas`` extra); without it raises
        :class:`InvalidInputError` naming the extra. O(rows).
        """
        try:
            import pandas  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "pandas: not installed (expected `pip install valueroute[pandas]` for "
                "BenchReport.to_pandas)",
                [("pandas", None, "the pandas extra installed")],
            ) from None
        columns: dict[str, list[Any]] = {name: [] for name in FRAME_COLUMNS}
        for scenario in self.scenarios:
            for label in scenario.labels:
                for task_type, kpis in scenario.summary[label].items():
                    for kpi, figures in kpis.items():
                        values = scenario.samples[label][task_type][kpi]
                        columns["scenario"].append(scenario.name)
                        columns["variant"].append(label)
                        columns["task_type"].append(task_type)
                        columns["kpi"].append(kpi)
                        columns["mean"].append(figures["mean"])
                        columns["ci_low"].append(figures["ci_low"])
                        columns["ci_high"].append(figures["ci_high"])
                        columns["n"].append(sum(not math.isnan(v) for v in values))
        frame = pandas.DataFrame(columns, columns=list(FRAME_COLUMNS))
        return frame.astype(
            {"mean": "float64", "ci_low": "float64", "ci_high": "float64", "n": "int64"}
        )

    def table(self) -> str:
        """The terminal table: KPI means ± half-widths, ranks, relation verdicts."""
        return "\n\n".join(scenario_table(s) for s in self.scenarios)

    def write(self, directory: str | Path, *, plots: bool = True) -> list[Path]:
        """Write ``bench.json``, ``bench.csv``, ``report.html`` and (matplotlib) PNG plots.

        With ``plots`` and no matplotlib (the ``plot`` extra), raises
        :class:`InvalidInputError` before writing anything.
        """
        return write_outputs(self, Path(directory), plots=plots)


_SHOWN: tuple[tuple[str, str, str, float], ...] = (
    ("service_level", "SL %", "{:.1f}", 100.0),
    ("asa", "ASA s", "{:.1f}", 1.0),
    ("p90_wait", "p90 s", "{:.1f}", 1.0),
    ("abandonment_rate", "aband. %", "{:.1f}", 100.0),
    ("value_lost", "value lost", "{:.0f}", 1.0),
    ("value_sla_attainment", "value SLA %", "{:.1f}", 100.0),
    ("holding_cost_per_hour", "hold/h", "{:.1f}", 1.0),
    ("occupancy", "occ. %", "{:.1f}", 100.0),
    ("load_fairness", "Jain", "{:.3f}", 1.0),
)
"""The KPIs a report shows: (KPI, title, number format, scale). Shares (service level,
abandonment, value SLA, occupancy) are shown as percentages everywhere: tables, charts."""


def shown_kpis(result: ScenarioResult) -> list[str]:
    """The KPIs of :data:`_SHOWN` that are defined for ``result``, in display order.

    Left out: ``abandonment_rate`` when no customer of the scenario can abandon
    (no task type has a patience and no arrivals come from a trace), and any
    KPI whose mean is undefined (NaN) for every variant, such as the value SLA
    of a scenario without due times. O(KPIs × variants).
    """
    kept = []
    for kpi, _, _, _ in _SHOWN:
        if kpi == "abandonment_rate" and not result.abandons:
            continue
        means = [result.summary[label]["all"][kpi]["mean"] for label in result.labels]
        if all(math.isnan(mean) for mean in means):
            continue
        kept.append(kpi)
    return kept


def _left_out(result: ScenarioResult) -> str:
    """A sentence naming the KPIs :func:`shown_kpis` leaves out, and why ('' for none)."""
    shown = set(shown_kpis(result))
    reasons = []
    for kpi, title, _, _ in _SHOWN:
        if kpi in shown:
            continue
        why = (
            "no customer can abandon"
            if kpi == "abandonment_rate" and not result.abandons
            else "undefined for every variant"
        )
        reasons.append(f"{title.removesuffix(' %')} ({why})")
    return "not shown: " + ", ".join(reasons) if reasons else ""


def _columns(result: ScenarioResult) -> list[tuple[str, str, str, float]]:
    shown = set(shown_kpis(result))
    return [entry for entry in _SHOWN if entry[0] in shown]


def _fmt(value: float, pattern: str, *, signed: bool = False) -> str:
    if math.isnan(value):
        return "-"
    return (pattern.replace("{:", "{:+") if signed else pattern).format(value)


def _with_half(
    figures: Mapping[str, float], pattern: str, scale: float, *, signed: bool = False
) -> str:
    mean = figures["mean"] * scale
    text = _fmt(mean, pattern, signed=signed)
    half = figures["half_width"] * scale
    if not math.isnan(half) and not math.isnan(mean):
        text += "±" + _fmt(half, pattern)
    return text


def scenario_table(result: ScenarioResult) -> str:
    """The terminal table of one scenario: defined KPIs, paired differences, ranks, relations."""
    lines = [
        f"== {result.title} ({result.mode}: {result.replications} replications, seed "
        f"{result.seed}, scenario {result.scenario_hash[:12]}) ==",
        f"means ± 95% half-widths; Δ = paired difference against the baseline {result.baseline!r}",
    ]
    columns = _columns(result)
    width = max(12, *(len(label) + 2 for label in result.labels))
    header = f"{'variant':<{width}}" + "".join(f"{title:>17}" for _, title, _, _ in columns)
    lines.append(header)
    for label in result.labels:
        row = result.summary[label]["all"]
        lines.append(
            f"{label:<{width}}"
            + "".join(
                f"{_with_half(row[kpi], pattern, scale):>17}" for kpi, _, pattern, scale in columns
            )
        )
    for label, table in result.differences.items():
        row = table["all"]
        lines.append(
            f"{'Δ ' + label:<{width}}"
            + "".join(
                f"{_with_half(row[kpi], pattern, scale, signed=True):>17}"
                for kpi, _, pattern, scale in columns
            )
        )
    left_out = _left_out(result)
    if left_out:
        lines.append(left_out)
    for kpi, ranks in result.ranking.items():
        places = []
        for rank in ranks:
            places.append(f"{rank.rank}. {rank.label}")
        lines.append(f"rank by {kpi}: " + ", ".join(places))
    for outcome in result.relations:
        mark = "PASS" if outcome.holds else "FAIL"
        if not outcome.tested:
            mark = "skip"
        lines.append(f"[{mark}] {outcome.relation.statement or outcome.relation.kind}: ")
        lines.append(f"       {outcome.detail}")
    return "\n".join(lines)


def _slug(name: str) -> str:
    text = "".join(c if c.isalnum() else "_" for c in name.lower())
    return "_".join(part for part in text.split("_") if part) or "scenario"


def _pyplot() -> Any:
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise InvalidInputError(
            "plots: matplotlib is not installed (expected `pip install valueroute[plot]`, "
            "or no plots)",
            [("plots", True, "matplotlib installed, or plots=False")],
        ) from None
    return plt


def check_plotting() -> None:
    """Raise :class:`InvalidInputError` when matplotlib cannot be imported (the ``plot`` extra)."""
    _pyplot()


def wait_cdf(waits: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """Points (seconds, P(wait <= seconds)) of the answered waits kept by a bench run. O(bins)."""
    bins = {int(k): int(v) for k, v in waits["bins"].items()}
    total = waits["zeros"] + sum(bins.values())
    if total == 0:
        return [], []
    low = float(waits["low_seconds"])
    per = float(waits["bins_per_decade"])
    xs, ys = [low], [waits["zeros"] / total]
    seen = waits["zeros"]
    for index in sorted(bins):
        seen += bins[index]
        xs.append(low * 10.0 ** ((index + 1) / per))
        ys.append(seen / total)
    return xs, ys


def kpi_figure(result: ScenarioResult) -> Any:
    """A matplotlib figure: one panel per defined KPI (:func:`shown_kpis`), bars per variant.

    Bars are the means with their 95 % intervals, in the units of the tables
    (shares in percent). ``None`` when no KPI is defined.
    """
    plt = _pyplot()
    columns = _columns(result)
    if not columns:
        return None
    labels = result.labels
    across = min(3, len(columns))
    down = math.ceil(len(columns) / across)
    figure, axes = plt.subplots(down, across, figsize=(4.4 * across, 3.0 * down), squeeze=False)
    positions = list(range(len(labels)))
    panels = list(axes.ravel())
    for axis, (kpi, title, _, scale) in zip(panels, columns, strict=False):
        means = [result.summary[label]["all"][kpi]["mean"] * scale for label in labels]
        halves = [result.summary[label]["all"][kpi]["half_width"] * scale for label in labels]
        colours = ["#4c72b0" if label != result.baseline else "#8c8c8c" for label in labels]
        axis.bar(
            positions,
            [0.0 if math.isnan(m) else m for m in means],
            yerr=[0.0 if math.isnan(h) else h for h in halves],
            color=colours,
            capsize=3,
        )
        axis.set_title(
            f"{title} ({_direction(kpi)} is better)" if _direction(kpi) != "none" else title,
            fontsize=9,
        )
        axis.set_xticks(positions)
        axis.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        axis.tick_params(axis="y", labelsize=7)
    for axis in panels[len(columns) :]:
        axis.set_visible(False)
    figure.suptitle(
        f"{result.title}: means with 95% intervals ({result.replications} replications)"
    )
    figure.tight_layout()
    return figure


def wait_figure(result: ScenarioResult) -> Any:
    """A matplotlib figure: the distribution of answered waits of each variant (log seconds)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for label in result.labels:
        xs, ys = wait_cdf(result.waits[label])
        if xs:
            axis.step(xs, [100.0 * y for y in ys], where="post", label=label)
    axis.set_xscale("log")
    axis.set_xlim(left=0.1)
    axis.set_ylim(0.0, 100.0)
    axis.set_xlabel("wait of answered tasks, seconds (log scale)")
    axis.set_ylabel("% answered within")
    axis.set_title(f"{result.title}: wait distribution, all replications")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def plot_scenario(result: ScenarioResult, directory: str | Path) -> list[Path]:
    """KPI bars with 95 % intervals per variant, and wait distributions, as PNG files.

    ``<slug>_kpis.png`` (:func:`kpi_figure`; not written when no KPI is
    defined) and ``<slug>_waits.png`` (:func:`wait_figure`).
    """
    plt = _pyplot()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    slug = _slug(result.name)
    written = []
    for name, figure in (("kpis", kpi_figure(result)), ("waits", wait_figure(result))):
        if figure is None:
            continue
        path = folder / f"{slug}_{name}.png"
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _embedded(image: Path) -> str:
    """An ``<img>`` holding the PNG file's bytes as a data URI: the page needs no other file."""
    data = base64.b64encode(image.read_bytes()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{_html_escape(image.stem)}'>"


def report_html(report: BenchReport, images: Mapping[str, Sequence[Path]]) -> str:
    """A self-contained HTML page for a bench report.

    ``images[scenario name]`` are PNG files (:func:`plot_scenario`); their
    bytes are embedded as data URIs, so the page references no other file
    and can be mailed or archived alone. Shares are in percent, as in the
    terminal table; KPIs undefined for a scenario are left out and named.
    """
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>valueroute policy benchmark</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:1400px}",
        "table{border-collapse:collapse;font-size:13px;margin:1em 0}",
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}",
        "th:first-child,td:first-child{text-align:left}",
        ".pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}",
        ".skip{color:#777}img{max-width:100%;border:1px solid #eee;margin:4px 0}",
        "</style></head><body>",
        "<h1>valueroute policy benchmark</h1>",
        f"<p>version {_html_escape(report.version)}, {report.mode} mode, "
        f"{len(report.scenarios)} scenario(s). Means with 95% Student t intervals over "
        "replications; Δ is the paired difference against the baseline (common random "
        "numbers); shares in percent. Relations: "
        + (
            "<span class='pass'>all hold</span>"
            if report.all_hold
            else "<span class='fail'>some fail</span>"
        )
        + "</p>",
    ]
    for result in report.scenarios:
        parts.append(f"<h2 id='{_slug(result.name)}'>{_html_escape(result.title)}</h2>")
        if result.description:
            parts.append(f"<p>{_html_escape(result.description)}</p>")
        parts.append(
            f"<p><small>scenario hash {result.scenario_hash}, seed {result.seed}, "
            f"{result.replications} replications, baseline "
            f"<b>{_html_escape(result.baseline)}</b></small></p>"
        )
        parts.append("<ul>")
        for outcome in result.relations:
            css = "skip" if not outcome.tested else ("pass" if outcome.holds else "fail")
            word = "not tested" if not outcome.tested else ("holds" if outcome.holds else "FAILS")
            source = (
                f" <i>({_html_escape(outcome.relation.source)})</i>"
                if outcome.relation.source
                else ""
            )
            parts.append(
                f"<li><span class='{css}'>{word}</span> "
                f"{_html_escape(outcome.relation.statement)}{source}: "
                f"{_html_escape(outcome.detail)}</li>"
            )
        columns = _columns(result)
        parts.append("</ul><table><tr><th>variant</th>")
        parts.extend(f"<th>{_html_escape(title)}</th>" for _, title, _, _ in columns)
        parts.append("</tr>")
        for label in result.labels:
            parts.append(f"<tr><td>{_html_escape(label)}</td>")
            for kpi, _, pattern, scale in columns:
                cell = _with_half(result.summary[label]["all"][kpi], pattern, scale)
                diff = result.differences.get(label, {}).get("all", {}).get(kpi)
                if diff is not None:
                    cell += f"<br><small>Δ {_with_half(diff, pattern, scale, signed=True)}</small>"
                parts.append(f"<td>{cell}</td>")
            parts.append("</tr>")
        parts.append("</table>")
        left_out = _left_out(result)
        if left_out:
            parts.append(f"<p class='skip'>{_html_escape(left_out)}</p>")
        parts.extend(_embedded(image) for image in images.get(result.name, ()))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_outputs(report: BenchReport, folder: Path, *, plots: bool) -> list[Path]:
    """Write the report's files; with ``plots``, matplotlib is checked before writing any."""
    if plots:
        check_plotting()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = folder / "bench.json"
    json_path.write_text(report.to_json(), encoding="utf-8")
    written.append(json_path)
    written.append(report.to_csv(folder / "bench.csv"))
    images: dict[str, list[Path]] = {}
    if plots:
        for result in report.scenarios:
            images[result.name] = plot_scenario(result, folder)
            written.extend(images[result.name])
    html = folder / "report.html"
    html.write_text(report_html(report, images), encoding="utf-8")
    written.append(html)
    return written
