"""Self-contained HTML reports of simulation runs and policy comparisons.

:func:`write_report` turns a :class:`~valueroute.sim.run.SimulationResult`
or a :class:`~valueroute.sim.run.ComparisonResult` into one HTML file that
needs nothing else (no scripts, style sheets, images or network): the KPIs
with their 95 % confidence intervals, per-interval line charts drawn as
inline SVG (the mean over replications with its Student t confidence band)
and the scenario that ran. No plotting library is needed.

Charts: service level, ASA and abandonment per arrival interval and the
waiting tasks at every interval boundary (the figures of
:data:`~valueroute.sim.metrics.INTERVAL_KPIS`). A simulation draws one line
per task type; a comparison one line per policy, over all types. A chart
whose figure is undefined everywhere is left out, and so is the abandonment
chart when no task type of the scenario has a patience (nobody can abandon).
Bands are drawn within the figure's possible range (0–100 %, no negative
times or counts); the tables give the intervals unclipped.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valueroute._version import __version__
from valueroute.errors import InvalidInputError
from valueroute.sim.metrics import KPI_NAMES, ReplicationResult, interval_band
from valueroute.sim.run import ComparisonResult, SimulationResult
from valueroute.sim.scenario import Scenario, _shown

__all__ = ["CHART_KPIS", "report_html", "write_report"]

CHART_KPIS: tuple[tuple[str, str, str], ...] = (
    ("service_level", "Service level per interval", "%"),
    ("asa", "Average speed of answer per interval", "s"),
    ("abandonment_rate", "Abandonment per interval", "%"),
    ("waiting", "Waiting tasks at interval boundaries", "tasks"),
)
"""(figure, title, unit) of each chart, in report order."""

_PERCENT = frozenset(
    {"service_level", "p_wait", "abandonment_rate", "value_sla_attainment", "occupancy"}
)
_HEADLINE = (
    "offered",
    "service_level",
    "asa",
    "p90_wait",
    "abandonment_rate",
    "aht",
    "value_sla_attainment",
)
_SECONDS = frozenset({"asa", "mean_wait", "p50_wait", "p90_wait", "p99_wait", "aht"})
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")

# Chart geometry (SVG user units).
_WIDTH, _HEIGHT = 760, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 180, 16, 44

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
figure { margin: 1em 0; } figcaption { font-weight: 600; margin-bottom: 0.3em; }
svg.chart { background: #fff; border: 1px solid #ddd; max-width: 100%; height: auto; }
pre.scenario { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
p.note { color: #555; font-size: 0.9em; }
"""


def write_report(result: SimulationResult | ComparisonResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as a self-contained HTML report to ``path``; returns the path.

    O(replications × intervals × types) time; the file is a few hundred
    kilobytes for a day of half-hour intervals.
    """
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise InvalidInputError(
            f"path: got {type(path).__name__} {_shown(path)} (expected a file path)",
            [("path", path, "a file path")],
        )
    text = report_html(result)
    out = Path(path)
    try:
        out.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL or unencodable character
        reason = exc.strerror if isinstance(exc, OSError) else None
        raise InvalidInputError(
            f"path: cannot write {_shown(str(out))} ({reason or str(exc)[:80]}; "
            "expected a writable file path)",
            [("path", str(out)[:160], "a writable file path")],
        ) from None
    return out


def report_html(result: SimulationResult | ComparisonResult) -> str:
    """The HTML text of :func:`write_report`."""
    if isinstance(result, SimulationResult):
        return _simulation_html(result)
    if isinstance(result, ComparisonResult):
        return _comparison_html(result)
    raise InvalidInputError(
        f"result: got {type(result).__name__} (expected a SimulationResult or ComparisonResult)",
        [("result", result, "a SimulationResult or ComparisonResult")],
    )


# ---------------------------------------------------------------- pages


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f'\n<p class="note">Written by valueroute {_esc(__version__)}.</p>\n</body>\n</html>\n'
    )


def _simulation_html(result: SimulationResult) -> str:
    runs = result.replications
    count = len(runs)
    body = [
        f"<h1>Simulation report: {_esc(result.scenario)}</h1>",
        '<p class="meta">'
        f"policy <b>{_esc(result.policy)}</b>, seed {result.seed}, "
        f"{count} replication{'s' if count != 1 else ''}; means with two-sided 95 % "
        "Student t confidence intervals over replications.</p>",
    ]
    body += _one_replication_note(count)
    body.append('<h2 id="kpis">KPIs</h2>')
    body.append(_kpi_table([(None, result)], _HEADLINE))
    body += _calendar_notes(result.source)
    types = [t for t in (runs[0].kpis if runs else {}) if t != "all"]
    series = [(task_type, runs, task_type) for task_type in types]
    body.append('<h2 id="charts">Per interval</h2>')
    body.append(
        '<p class="note">Lines: mean over replications per interval, by task type; '
        "bands: its 95 % confidence interval.</p>"
    )
    abandoning = {t for t in types if _can_abandon(result.source, [result], t)}
    body += _charts(series, abandoning)
    if result.groups:
        body.append('<h2 id="groups">Agent groups</h2>')
        body.append(_group_table([(None, result)]))
    body.append(_all_kpis(_kpi_table([(None, result)], KPI_NAMES)))
    body += _scenario_echo(result.source, [])
    return _page(f"valueroute simulation report: {result.scenario}", body)


def _comparison_html(comparison: ComparisonResult) -> str:
    results = list(comparison.results.items())
    first = results[0][1]
    count = len(first.replications)
    body = [
        f"<h1>Policy comparison: {_esc(first.scenario)}</h1>",
        '<p class="meta">'
        f"policies {', '.join('<b>' + _esc(label) + '</b>' for label, _ in results)} "
        f"(baseline <b>{_esc(comparison.baseline)}</b>), seed {first.seed}, "
        f"{count} replication{'s' if count != 1 else ''} each on the same customers; "
        "means with two-sided 95 % Student t confidence intervals over replications.</p>",
    ]
    body += _one_replication_note(count)
    labelled: list[tuple[str | None, SimulationResult]] = [
        (label, result) for label, result in results
    ]
    body.append('<h2 id="kpis">KPIs</h2>')
    body.append(_kpi_table(labelled, _HEADLINE))
    body += _calendar_notes(first.source)
    body.append(f'<h2 id="differences">Paired differences against {_esc(comparison.baseline)}</h2>')
    body.append(_difference_table(comparison, _HEADLINE))
    series = [(label, result.replications, "all") for label, result in results]
    body.append('<h2 id="charts">Per interval</h2>')
    body.append(
        '<p class="note">Lines: mean over replications per interval of all task types, '
        "by policy; bands: its 95 % confidence interval.</p>"
    )
    can = _can_abandon(first.source, [r for _, r in results], "all")
    body += _charts(series, {label for label, _ in results} if can else set())
    if first.groups:
        body.append('<h2 id="groups">Agent groups</h2>')
        body.append(_group_table(labelled))
    body.append(
        _all_kpis(_kpi_table(labelled, KPI_NAMES) + _difference_table(comparison, KPI_NAMES))
    )
    routing = [
        (label, result.source.routing.model_dump(mode="json"))
        for label, result in results
        if result.source is not None
    ]
    body += _scenario_echo(first.source, routing)
    return _page(f"valueroute policy comparison: {first.scenario}", body)


def _calendar_notes(source: Scenario | None) -> list[str]:
    """Notes on task types whose service level counts working time or that refuse while closed."""
    if source is None:
        return []
    notes = []
    working = [t.name for t in source.task_types if t.sla_clock == "working"]
    if working:
        notes.append(
            '<p class="note">Service level in working time (answered within T working '
            "seconds of the type's calendar): "
            + ", ".join(_esc(name) for name in working)
            + ".</p>"
        )
    refusing = [t.name for t in source.task_types if t.closed == "refuse"]
    if refusing:
        notes.append(
            '<p class="note">Tasks arriving while their calendar is closed are refused '
            "(refused_closed, not offered): " + ", ".join(_esc(name) for name in refusing) + ".</p>"
        )
    return notes


def _one_replication_note(count: int) -> list[str]:
    if count >= 2:
        return []
    return [
        '<p class="note">One replication: no confidence intervals or bands '
        "(they need two or more).</p>"
    ]


def _can_abandon(
    source: Scenario | None, results: Sequence[SimulationResult], task_type: str
) -> bool:
    """Whether tasks of ``task_type`` (or any, for ``"all"``) can abandon.

    From the scenario's patience distributions; without the scenario, from
    whether any abandoned.
    """
    if source is not None:
        return any(
            t.patience is not None for t in source.task_types if task_type in ("all", t.name)
        )
    return any(
        r.kpis.get(task_type, {}).get("abandoned", 0.0) > 0
        for result in results
        for r in result.replications
    )


def _scenario_echo(source: Scenario | None, routing: list[tuple[str, Any]]) -> list[str]:
    parts = ['<h2 id="scenario">Scenario</h2>']
    if source is None:
        parts.append('<p class="note">This result does not carry its scenario.</p>')
        return parts
    if routing:
        parts.append(
            '<p class="note">The scenario as run under the baseline; '
            "the routing of each policy follows.</p>"
        )
    text = json.dumps(source.model_dump(mode="json"), indent=2, ensure_ascii=False)
    parts.append(f'<pre class="scenario">{_esc(text)}</pre>')
    for label, settings in routing:
        parts.append(f"<h3>Routing of {_esc(label)}</h3>")
        shown = json.dumps(settings, indent=2, ensure_ascii=False)
        parts.append(f'<pre class="scenario routing">{_esc(shown)}</pre>')
    return parts


# ---------------------------------------------------------------- tables


def _kpi_label(kpi: str) -> str:
    if kpi in _PERCENT:
        return f"{kpi} (%)"
    if kpi in _SECONDS:
        return f"{kpi} (s)"
    return kpi


def _number(value: float, kpi: str) -> str:
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if kpi in _PERCENT:
        text = f"{100 * value:.1f}"
    elif abs(value) >= 1000 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:.2f}"
    # A value that rounds to zero is shown without a sign.
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _head(variant: bool, first: str) -> str:
    cells = (['<th class="name">variant</th>'] if variant else []) + [
        f'<th class="name">{first}</th>',
        '<th class="name">KPI</th>',
        "<th>mean</th>",
        "<th>95 % CI low</th>",
        "<th>95 % CI high</th>",
        "<th>± half-width</th>",
        "<th>n</th>",
    ]
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


def _row(label: str | None, key: str, kpi: str, figures: dict[str, float]) -> str:
    cells = [f'<td class="name">{_esc(label)}</td>'] if label is not None else []
    cells += [
        f'<td class="name">{_esc(key)}</td>',
        f'<td class="name">{_esc(_kpi_label(kpi))}</td>',
        f'<td class="mean">{_number(figures["mean"], kpi)}</td>',
        f'<td class="ci-low">{_number(figures["ci_low"], kpi)}</td>',
        f'<td class="ci-high">{_number(figures["ci_high"], kpi)}</td>',
        f'<td class="half">{_number(figures["half_width"], kpi)}</td>',
    ]
    if "n" in figures:
        cells.append(f'<td class="n">{figures["n"]:.0f}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _ordered_types(summary: dict[str, Any]) -> list[str]:
    return (["all"] if "all" in summary else []) + [t for t in summary if t != "all"]


def _all_kpis(tables: str) -> str:
    return (
        '<details id="all-kpis"><summary>Every KPI (definitions in the simulation guide)'
        f"</summary>{tables}</details>"
    )


def _kpi_table(results: list[tuple[str | None, SimulationResult]], shown: Sequence[str]) -> str:
    variant = results[0][0] is not None
    rows = []
    for label, result in results:
        for task_type in _ordered_types(result.summary):
            kpis = result.summary[task_type]
            for kpi in (k for k in shown if k in kpis):
                if not math.isnan(kpis[kpi]["mean"]):
                    rows.append(_row(label, task_type, kpi, kpis[kpi]))
    return (
        '<table class="kpis">'
        + _head(variant, "type")
        + "<tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _group_table(results: list[tuple[str | None, SimulationResult]]) -> str:
    variant = results[0][0] is not None
    rows = []
    for label, result in results:
        for group, figures in result.groups.items():
            for figure in ("occupancy", "staffed_hours"):
                if figure in figures and not math.isnan(figures[figure]["mean"]):
                    rows.append(_row(label, group, figure, figures[figure]))
    return (
        '<table class="groups">'
        + _head(variant, "group")
        + "<tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _difference_table(comparison: ComparisonResult, shown: Sequence[str]) -> str:
    rows = []
    for label, types in comparison.differences.items():
        for task_type in _ordered_types(types):
            kpis = types[task_type]
            for kpi in (k for k in shown if k in kpis):
                if not math.isnan(kpis[kpi]["mean"]):
                    rows.append(_row(f"{label} − {comparison.baseline}", task_type, kpi, kpis[kpi]))
    head = _head(True, "type").replace("<th>n</th>", "")
    return '<table class="differences">' + head + "<tbody>" + "".join(rows) + "</tbody></table>"


# ---------------------------------------------------------------- charts


def _charts(
    series: Sequence[tuple[str, Sequence[ReplicationResult], str]], abandoning: set[str]
) -> list[str]:
    """One figure per chart KPI; the abandonment chart shows only series that can abandon."""
    parts = []
    for kpi, title, unit in CHART_KPIS:
        bands = [
            (name, interval_band(runs, kpi, task_type))
            for name, runs, task_type in series
            if kpi != "abandonment_rate" or name in abandoning
        ]
        bands = [(name, band) for name, band in bands if band]
        if not any(not math.isnan(point["mean"]) for _, band in bands for point in band):
            continue  # undefined in every interval
        parts.append(
            f'<figure class="panel" id="chart-{kpi}">'
            f"<figcaption>{_esc(title)} ({unit})</figcaption>"
            + _svg_chart(kpi, title, unit, bands)
            + "</figure>"
        )
    return parts


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


def _svg_chart(
    kpi: str, title: str, unit: str, bands: list[tuple[str, list[dict[str, float]]]]
) -> str:
    scale = 100.0 if unit == "%" else 1.0
    times = [point["time"] / 3600.0 for _, band in bands for point in band]
    x0, x1 = min(times), max(times)
    if x1 <= x0:
        x1 = x0 + 1.0
    if unit == "%":
        y0, y1 = 0.0, 100.0
        ystep = 20.0
    else:
        tops = [
            scale * value
            for _, band in bands
            for point in band
            for value in (point["mean"], point["ci_high"])
            if math.isfinite(value)
        ]
        top = max(tops) if tops else 1.0
        top = top if top > 0 else 1.0
        ystep = _nice_step(top)
        y0, y1 = 0.0, ystep * math.ceil(top / ystep)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def sx(hours: float) -> float:
        return _LEFT + (hours - x0) / (x1 - x0) * plot_w

    def sy(value: float) -> float:
        clipped = min(max(value, y0), y1)
        return _TOP + (1.0 - (clipped - y0) / (y1 - y0)) * plot_h

    out = [
        f'<svg class="chart" data-kpi="{_esc(kpi)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" role="img" '
        f'aria-label="{_esc(title)}">'
    ]
    # Grid and axes.
    steps = round((y1 - y0) / ystep)
    for i in range(steps + 1):
        value = y0 + i * ystep
        y = sy(value)
        out.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + plot_w}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
        out.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{value:g}</text>"
        )
    xstep = _nice_step(x1 - x0, 8)
    first_tick = math.ceil(x0 / xstep - 1e-9) * xstep
    tick = first_tick
    while tick <= x1 + 1e-9:
        x = sx(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{_TOP + plot_h}" x2="{x:.1f}" y2="{_TOP + plot_h + 4}" '
            'stroke="#444"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{_TOP + plot_h + 17}" font-size="11" '
            f'text-anchor="middle">{tick:g}</text>'
        )
        tick += xstep
    out.append(
        f'<path class="axes" d="M{_LEFT},{_TOP} V{_TOP + plot_h} H{_LEFT + plot_w}" '
        'fill="none" stroke="#444"/>'
    )
    out.append(
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 8}" font-size="12" '
        'text-anchor="middle">hours from the start</text>'
    )
    out.append(
        f'<text x="14" y="{_TOP + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {_TOP + plot_h / 2:.1f})">{_esc(unit)}</text>'
    )
    # Bands first, lines over them.
    lines = []
    for index, (name, band) in enumerate(bands):
        colour = _COLOURS[index % len(_COLOURS)]
        label = _esc(name)
        for run in _runs(band, lambda p: math.isfinite(p["half_width"])):
            upper = [(sx(p["time"] / 3600), sy(scale * p["ci_high"])) for p in run]
            lower = [(sx(p["time"] / 3600), sy(scale * p["ci_low"])) for p in reversed(run)]
            out.append(
                f'<path class="band" data-series="{label}" d="{_path(upper + lower)} Z" '
                f'fill="{colour}" fill-opacity="0.18" stroke="none"/>'
            )
        for run in _runs(band, lambda p: math.isfinite(p["mean"])):
            points = [(sx(p["time"] / 3600), sy(scale * p["mean"])) for p in run]
            if len(points) == 1:
                x, y = points[0]
                lines.append(
                    f'<circle class="point" data-series="{label}" cx="{x:.1f}" cy="{y:.1f}" '
                    f'r="2.5" fill="{colour}"/>'
                )
            else:
                lines.append(
                    f'<path class="mean" data-series="{label}" d="{_path(points)}" '
                    f'fill="none" stroke="{colour}" stroke-width="2"/>'
                )
    out += lines
    # Legend.
    for index, (name, _) in enumerate(bands):
        colour = _COLOURS[index % len(_COLOURS)]
        y = _TOP + 8 + 18 * index
        x = _LEFT + plot_w + 14
        out.append(
            f'<rect x="{x}" y="{y - 6}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{x + 20}" y="{y}" font-size="12">{_esc(_clip(name))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _runs(band: list[dict[str, float]], keep: Any) -> list[list[dict[str, float]]]:
    """Maximal runs of consecutive points that ``keep`` accepts."""
    runs: list[list[dict[str, float]]] = []
    current: list[dict[str, float]] = []
    for point in band:
        if keep(point):
            current.append(point)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)
