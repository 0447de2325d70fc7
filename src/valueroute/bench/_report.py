"""Presenting benchmark results: the report object, terminal tables, plots and the HTML page.

Depends on :mod:`valueroute.bench._model` only (the runner depends on it, not
the other way round); matplotlib is imported only when plotting.
"""

from __future__ import annotations

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
    "BenchReport",
    "check_plotting",
    "plot_scenario",
    "report_html",
    "scenario_table",
    "wait_cdf",
    "write_outputs",
]


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

    def table(self) -> str:
        """The terminal table: KPI means ± half-widths, ranks, relation verdicts."""
        return "\n\n".join(scenario_table(s) for s in self.scenarios)

    def write(self, directory: str | Path, *, plots: bool = True) -> list[Path]:
        """Write ``bench.json``, ``bench.csv``, ``report.html`` and (matplotlib) PNG plots.

        With ``plots`` and no matplotlib (the ``plot`` extra), raises
        :class:`InvalidInputError` before writing anything.
        """
        return write_outputs(self, Path(directory), plots=plots)


_SHOWN: tuple[tuple[str, str, str], ...] = (
    ("service_level", "SL", "{:.1%}"),
    ("asa", "ASA s", "{:.1f}"),
    ("p90_wait", "p90 s", "{:.1f}"),
    ("abandonment_rate", "aband.", "{:.1%}"),
    ("value_lost", "value lost", "{:.0f}"),
    ("value_sla_attainment", "value SLA", "{:.1%}"),
    ("holding_cost_per_hour", "hold/h", "{:.1f}"),
    ("occupancy", "occ.", "{:.1%}"),
    ("load_fairness", "Jain", "{:.3f}"),
)


def _fmt(value: float, pattern: str, *, signed: bool = False) -> str:
    if math.isnan(value):
        return "-"
    return (pattern.replace("{:", "{:+") if signed else pattern).format(value)


def _with_half(figures: Mapping[str, float], pattern: str, *, signed: bool = False) -> str:
    text = _fmt(figures["mean"], pattern, signed=signed)
    half = figures["half_width"]
    if not math.isnan(half) and not math.isnan(figures["mean"]):
        text += "±" + _fmt(half, pattern).rstrip("%")
    return text


def scenario_table(result: ScenarioResult) -> str:
    lines = [
        f"== {result.title} ({result.mode}: {result.replications} replications, seed "
        f"{result.seed}, scenario {result.scenario_hash[:12]}) ==",
        f"means ± 95% half-widths; Δ = paired difference against the baseline {result.baseline!r}",
    ]
    width = max(12, *(len(label) + 2 for label in result.labels))
    header = f"{'variant':<{width}}" + "".join(f"{title:>17}" for _, title, _ in _SHOWN)
    lines.append(header)
    for label in result.labels:
        row = result.summary[label]["all"]
        lines.append(
            f"{label:<{width}}"
            + "".join(f"{_with_half(row[kpi], pattern):>17}" for kpi, _, pattern in _SHOWN)
        )
    for label, table in result.differences.items():
        row = table["all"]
        lines.append(
            f"{'Δ ' + label:<{width}}"
            + "".join(
                f"{_with_half(row[kpi], pattern, signed=True):>17}" for kpi, _, pattern in _SHOWN
            )
        )
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


def plot_scenario(result: ScenarioResult, directory: str | Path) -> list[Path]:
    """KPI bars with 95 % intervals per variant, and wait distributions, as PNG files."""
    plt = _pyplot()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    slug = _slug(result.name)
    labels = result.labels
    figure, axes = plt.subplots(3, 3, figsize=(13, 9))
    positions = list(range(len(labels)))
    for axis, (kpi, title, _) in zip(axes.ravel(), _SHOWN, strict=True):
        means = [result.summary[label]["all"][kpi]["mean"] for label in labels]
        halves = [result.summary[label]["all"][kpi]["half_width"] for label in labels]
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
    figure.suptitle(
        f"{result.title}: means with 95% intervals ({result.replications} replications)"
    )
    figure.tight_layout()
    bars = folder / f"{slug}_kpis.png"
    figure.savefig(bars, dpi=90)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for label in labels:
        xs, ys = wait_cdf(result.waits[label])
        if xs:
            axis.step(xs, ys, where="post", label=label)
    axis.set_xscale("log")
    axis.set_xlim(left=0.1)
    axis.set_xlabel("wait of answered tasks, seconds (log scale)")
    axis.set_ylabel("share answered within")
    axis.set_title(f"{result.title}: wait distribution, all replications")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    cdf = folder / f"{slug}_waits.png"
    figure.savefig(cdf, dpi=90)
    plt.close(figure)
    return [bars, cdf]


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def report_html(report: BenchReport, images: Mapping[str, Sequence[Path]]) -> str:
    """A self-contained HTML page (images referenced by file name) for a bench report."""
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
        "numbers). Relations: "
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
        parts.append("</ul><table><tr><th>variant</th>")
        parts.extend(f"<th>{_html_escape(title)}</th>" for _, title, _ in _SHOWN)
        parts.append("</tr>")
        for label in result.labels:
            parts.append(f"<tr><td>{_html_escape(label)}</td>")
            for kpi, _, pattern in _SHOWN:
                cell = _with_half(result.summary[label]["all"][kpi], pattern)
                diff = result.differences.get(label, {}).get("all", {}).get(kpi)
                if diff is not None:
                    cell += f"<br><small>Δ {_with_half(diff, pattern, signed=True)}</small>"
                parts.append(f"<td>{cell}</td>")
            parts.append("</tr>")
        parts.append("</table>")
        for image in images.get(result.name, ()):
            parts.append(f"<img src='{_html_escape(image.name)}' alt='{_html_escape(image.stem)}'>")
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
