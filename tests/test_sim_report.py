"""Simulation reports (HTML with inline SVG charts), plots with confidence bands, pandas frames."""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import textwrap
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from valueroute.errors import InvalidInputError
from valueroute.scenarios import load_scenario as load_named_scenario
from valueroute.sim import (
    InlineExecutor,
    ReplicationResult,
    Scenario,
    SimulationResult,
    compare,
    report,
    simulate,
)
from valueroute.sim.metrics import INTERVAL_KPIS, interval_band, interval_series
from valueroute.sim.report import report_html, write_report


@pytest.fixture(scope="module")
def demo() -> SimulationResult:
    return simulate(load_named_scenario("demo"), replications=3, executor=InlineExecutor())


def _reference_band(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % Student t interval by scipy (an independent reference)."""
    finite = [v for v in values if not math.isnan(v)]
    n = len(finite)
    mean = sum(finite) / n
    if n < 2:
        return mean, math.nan, math.nan
    s = statistics.stdev(finite)
    half = float(stats.t.ppf(0.975, n - 1)) * s / math.sqrt(n)
    return mean, mean - half, mean + half


def test_plot_draws_the_replication_mean_with_a_confidence_band(
    demo: SimulationResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    saved: list[Figure] = []
    original = Figure.savefig

    def keep(self: Figure, *args: Any, **kwargs: Any) -> Any:
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    path = demo.plot(tmp_path / "day.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = saved
    top = figure.axes[0]
    types = [t for t in demo.replications[0].kpis if t != "all"]
    lines = {line.get_label(): line for line in top.get_lines()}
    assert set(types) <= set(lines)
    for task_type in types:
        per_rep = [
            [row["service_level"] for row in r.intervals if row["type"] == task_type]
            for r in demo.replications
        ]
        expected = [_reference_band(list(column))[0] * 100 for column in zip(*per_rep, strict=True)]
        drawn = [float(y) for y in lines[task_type].get_ydata()]
        assert drawn == pytest.approx(expected, nan_ok=True)
    bands = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(types)
    assert "3 replications" in top.get_title()


PANDAS_BLOCKED = textwrap.dedent(
    """
    import sys

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name == "pandas" or name.startswith("pandas."):
                raise ImportError("pandas is blocked")
            return None

    sys.meta_path.insert(0, Refuse())
    from valueroute.errors import ValueRouteError
    from valueroute.erlang import staff_intervals
    from valueroute.sim import InlineExecutor, compare, simulate
    from valueroute.scenarios import load_scenario as load_named_scenario

    scenario = load_named_scenario("demo")
    """
)


def _run_without_pandas(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-c", PANDAS_BLOCKED + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    "call",
    [
        "simulate(scenario, replications=1).to_pandas()",
        "simulate(scenario, replications=1).to_pandas('intervals')",
        "compare(scenario, policies=['fifo', 'edd'], replications=1,"
        " executor=InlineExecutor()).to_pandas()",
        "staff_intervals([100, 120], interval=1800, aht=240, service_level=0.8, awt=20)"
        ".to_pandas()",
    ],
)
def test_to_pandas_without_pandas_names_the_extra(call: str) -> None:
    done = _run_without_pandas(
        f"""
        try:
            {call}
        except ValueRouteError as exc:
            print(type(exc).__name__, exc)
        else:
            print("no error")
        """
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip()
    assert out.startswith("InvalidInputError to_pandas: pandas is not installed"), out
    assert "valueroute[pandas]" in out


# ---------------------------------------------------------------- per-interval bands


def _replication(index: int, rows: list[tuple[int, int, int, float]]) -> ReplicationResult:
    """A replication of one type 'calls' with (answered, abandoned, within, asa) per interval."""
    intervals = [
        {
            "interval_start": 1800.0 * j,
            "type": "calls",
            "offered": answered + abandoned,
            "answered": answered,
            "abandoned": abandoned,
            "answered_within": within,
            "service_level": within / (answered + abandoned) if answered + abandoned else math.nan,
            "asa": asa if answered else math.nan,
        }
        for j, (answered, abandoned, within, asa) in enumerate(rows)
    ]
    backlog = [{"time": 1800.0 * j, "calls": answered} for j, (answered, *_) in enumerate(rows)]
    kpis = {"calls": {"abandoned": float(sum(r[1] for r in rows))}}
    kpis["all"] = dict(kpis["calls"])
    return ReplicationResult(index, index, "fifo", kpis, intervals, {}, backlog)


_interval = st.tuples(
    st.integers(0, 30), st.integers(0, 5), st.integers(0, 30), st.floats(0.0, 600.0)
).map(lambda t: (t[0], t[1], min(t[2], t[0]), t[3]))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.lists(st.lists(_interval, min_size=k, max_size=k), min_size=1, max_size=6)
    )
)
def test_interval_bands_are_the_student_t_interval_of_the_replications(
    runs: list[list[tuple[int, int, int, float]]],
) -> None:
    replications = [_replication(i, rows) for i, rows in enumerate(runs)]
    for kpi in INTERVAL_KPIS:
        band = interval_band(replications, kpi, "calls")
        assert len(band) == len(runs[0])
        for j, point in enumerate(band):
            values = []
            for rows in runs:
                answered, abandoned, within, asa = rows[j]
                closed = answered + abandoned
                values.append(
                    {
                        "service_level": within / closed if closed else math.nan,
                        "asa": asa if answered else math.nan,
                        "abandonment_rate": abandoned / closed if closed else math.nan,
                        "waiting": float(answered),
                    }[kpi]
                )
            finite = [v for v in values if not math.isnan(v)]
            assert point["time"] == 1800.0 * j
            assert point["n"] == len(finite)
            if not finite:
                assert math.isnan(point["mean"])
                assert math.isnan(point["half_width"])
                continue
            mean, low, high = _reference_band(finite)
            assert point["mean"] == pytest.approx(mean, rel=1e-9, abs=1e-9)
            if len(finite) < 2:
                assert math.isnan(point["half_width"])
            else:
                assert point["ci_low"] == pytest.approx(low, rel=1e-6, abs=1e-6)
                assert point["ci_high"] == pytest.approx(high, rel=1e-6, abs=1e-6)


def test_interval_series_of_all_types_adds_counts_before_dividing(demo: SimulationResult) -> None:
    run = demo.replications[1]
    for kpi in ("service_level", "asa", "abandonment_rate"):
        for time, value in interval_series(run, kpi, "all"):
            rows = [row for row in run.intervals if row["interval_start"] == time]
            answered = sum(row["answered"] for row in rows)
            closed = answered + sum(row["abandoned"] for row in rows)
            expected = {
                "service_level": sum(row["answered_within"] for row in rows) / closed
                if closed
                else math.nan,
                "asa": sum(row["asa"] * row["answered"] for row in rows if row["answered"])
                / answered
                if answered
                else math.nan,
                "abandonment_rate": sum(row["abandoned"] for row in rows) / closed
                if closed
                else math.nan,
            }[kpi]
            assert value == pytest.approx(expected, nan_ok=True)
    waiting = interval_series(run, "waiting", "all")
    assert [v for _, v in waiting] == [
        sum(v for k, v in row.items() if k != "time") for row in run.backlog
    ]


@pytest.mark.parametrize(
    ("kpi", "task_type", "field"),
    [
        ("occupancy", "all", "kpi"),
        (["x"] * 10_000, "all", "kpi"),
        ("asa", "no_such_type", "task_type"),
        ("asa", 7, "task_type"),
    ],
)
def test_interval_series_refuses_an_unknown_figure_or_type(
    demo: SimulationResult, kpi: Any, task_type: Any, field: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}: got ") as info:
        interval_series(demo.replications[0], kpi, task_type)
    assert len(str(info.value)) < 400


# ---------------------------------------------------------------- the HTML report


class _Dom(HTMLParser):
    """Elements (tag, attributes, ancestors' tags) and the text under each <pre> and table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], tuple[str, ...]]] = []
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes, tuple(t for t, _ in self.stack)))
        if tag not in ("meta", "line", "rect", "circle", "br", "path"):
            self.stack.append((tag, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(t for t, _ in self.stack)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        for tag, attributes in self.stack:
            key = attributes.get("class", tag)
            if tag in ("pre", "table", "th", "h1", "figcaption", "p"):
                self.texts.setdefault(f"{tag}.{key}", []).append(data)

    def charts(self) -> dict[str, list[dict[str, str]]]:
        """data-kpi of each svg.chart -> its paths (class, data-series, d)."""
        found: dict[str, list[dict[str, str]]] = {}
        current = None
        for tag, attributes, _ in self.elements:
            if tag == "svg" and attributes.get("class") == "chart":
                current = attributes["data-kpi"]
                assert current not in found, f"two charts of {current}"
                found[current] = []
            elif tag in ("path", "circle") and current is not None:
                found[current].append({"tag": tag, **attributes})
        return found


def _dom(text: str) -> _Dom:
    parser = _Dom()
    parser.feed(text)
    parser.close()
    return parser


def _path_points(d: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(y))
        for x, y in (p.split(",") for p in d.replace("M", "").replace(" Z", "").split(" L"))
    ]


def test_simulation_report_has_a_chart_per_kpi_the_kpi_table_and_the_scenario(
    demo: SimulationResult, tmp_path: Path
) -> None:
    path = demo.to_html(tmp_path / "day.html")
    assert path == tmp_path / "day.html"
    text = path.read_text(encoding="utf-8")
    dom = _dom(text)
    charts = dom.charts()
    # The demo's voice types have patience: every chart is defined.
    assert list(charts) == ["service_level", "asa", "abandonment_rate", "waiting"]
    types = [t for t in demo.summary if t != "all"]
    for kpi, paths in charts.items():
        means = {p["data-series"] for p in paths if p.get("class") == "mean"}
        bands = {p["data-series"] for p in paths if p.get("class") == "band"}
        expected = types if kpi != "abandonment_rate" else ["voice_sales", "voice_support"]
        assert means == set(expected), kpi
        assert bands == set(expected), kpi
    # The service-level line is the replication mean, in percent.
    (line,) = [
        p
        for p in charts["service_level"]
        if p.get("class") == "mean" and p["data-series"] == "voice_support"
    ]
    band = interval_band(demo.replications, "service_level", "voice_support")
    plot_h = report._HEIGHT - report._TOP - report._BOTTOM
    drawn = [100 * (1 - (y - report._TOP) / plot_h) for _, y in _path_points(line["d"])]
    assert drawn == pytest.approx([100 * p["mean"] for p in band], abs=0.1)
    # KPI table with CI columns; service level in percent.
    headers = [t.strip() for t in dom.texts.get("th.th", [])]
    for column in ("mean", "95 % CI low", "95 % CI high", "n"):
        assert column in headers
    table = " ".join(dom.texts["table.kpis"])
    assert "service_level (%)" in table
    assert f"{100 * demo.summary['all']['service_level']['mean']:.1f}" in table
    assert f"{100 * demo.summary['all']['service_level']['ci_low']:.1f}" in table
    # The scenario echoed, as data.
    echoed = json.loads("".join(dom.texts["pre.scenario"]))
    assert demo.source is not None
    assert echoed == json.loads(json.dumps(demo.source.model_dump(mode="json")))
    # Self-contained: nothing to fetch.
    for tag, attributes, _ in dom.elements:
        assert tag not in ("script", "link", "img", "iframe", "object"), tag
        assert "src" not in attributes, (tag, attributes)
        assert "href" not in attributes, (tag, attributes)


def test_comparison_report_draws_every_policy_and_the_paired_differences(tmp_path: Path) -> None:
    comparison = compare(
        load_named_scenario("demo"),
        policies=["fifo", "edd"],
        replications=2,
        executor=InlineExecutor(),
    )
    text = comparison.to_html(tmp_path / "cmp.html").read_text(encoding="utf-8")
    dom = _dom(text)
    charts = dom.charts()
    assert list(charts) == ["service_level", "asa", "abandonment_rate", "waiting"]
    for paths in charts.values():
        assert {p["data-series"] for p in paths if p.get("class") == "mean"} == {"fifo", "edd"}
        assert {p["data-series"] for p in paths if p.get("class") == "band"} == {"fifo", "edd"}
    differences = " ".join(dom.texts["table.differences"])
    assert "edd − fifo" in differences
    delta = comparison.differences["edd"]["all"]["service_level"]
    assert f"{100 * delta['mean']:.1f}" in differences
    routing = "".join(dom.texts["pre.scenario routing"])
    assert '"policy": "edd"' in routing


TINY: dict[str, Any] = {
    "name": "<script>alert('name')</script> & co",
    "horizon_seconds": 7200,
    "interval_minutes": 30,
    "task_types": [
        {
            "name": '<img src=x onerror="alert(1)">',
            "handle": {"kind": "exponential", "mean_seconds": 240},
        }
    ],
    "arrivals": [
        {"kind": "poisson", "task_type": '<img src=x onerror="alert(1)">', "rate_per_hour": 40}
    ],
    "agent_groups": [{"name": "a&b", "count": 3}],
}


def test_a_scenario_without_patience_has_no_abandonment_chart_and_names_are_escaped(
    tmp_path: Path,
) -> None:
    result = simulate(Scenario.model_validate(TINY), replications=2, executor=InlineExecutor())
    text = report_html(result)
    dom = _dom(text)
    assert list(dom.charts()) == ["service_level", "asa", "waiting"]
    assert "<script" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt; &amp; co" in text
    assert "".join(dom.texts["h1.h1"]).endswith("<script>alert('name')</script> & co")
    assert 'data-series="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"' in text


def test_a_figure_undefined_everywhere_has_no_chart_and_one_replication_no_band() -> None:
    # Nobody answered or abandoned in any interval: service level, ASA and
    # abandonment are undefined; the backlog is still there.
    nothing = [(0, 0, 0, 0.0)] * 4
    result = SimulationResult("empty", "fifo", 0, [_replication(0, nothing)])
    dom = _dom(report_html(result))
    charts = dom.charts()
    assert list(charts) == ["waiting"]
    drawn = [p["class"] for p in charts["waiting"] if p.get("class") in ("mean", "band", "point")]
    assert drawn == ["mean"]  # no band with one replication
    assert "One replication" in " ".join(dom.texts["p.note"])
    assert "does not carry its scenario" in " ".join(dom.texts["p.note"])


@pytest.mark.parametrize(
    ("result", "path", "field"),
    [
        ("not a result", "r.html", "result"),
        (None, "r.html", "result"),
        ("demo", 5, "path"),
        ("demo", b"r.html", "path"),
        ("demo", ["r.html"] * 10_000, "path"),
        ("demo", "missing-folder/r.html", "path"),
        ("demo", "r\x00.html", "path"),
        ("demo", "r" * 100_000 + ".html", "path"),
    ],
)
def test_write_report_refuses_bad_input_and_writes_nothing(
    demo: SimulationResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    result: Any,
    path: Any,
    field: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match=f"^{field}: ") as info:
        write_report(demo if result == "demo" else result, path)
    assert len(str(info.value)) < 400
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- rendered by Chromium

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and under CI the report must be rendered")
        pytest.skip("chromium is not installed (CI installs it; apt-get install chromium)")
    return CHROMIUM


def _chromium_command(profile: Path) -> list[str]:
    return [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def _png_rows(path: Path) -> tuple[int, int, int, list[bytes]]:
    """Width, height, bytes per pixel and the unfiltered rows of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = depth = colour = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    assert depth == 8
    assert colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind_byte == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind_byte == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind_byte == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 0xFF
        elif kind_byte == 4:
            for i in range(stride):
                a = line[i - step] if i >= step else 0
                b = previous[i]
                c = previous[i - step] if i >= step else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, step, rows


def test_the_report_renders_in_headless_chromium_with_its_charts(
    demo: SimulationResult, tmp_path: Path
) -> None:
    page = demo.to_html(tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    command = _chromium_command(tmp_path / "profile")
    subprocess.run(
        [*command, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.is_file()
    width, height, step, rows = _png_rows(shot)
    assert (width, height) == (1200, 2000)
    # Not blank: grey levels vary, and the charts' colours are on the page.
    greys = [sum(row[i : i + 3]) / 3 for row in rows[::8] for i in range(0, len(row), 8 * step)]
    mean = sum(greys) / len(greys)
    variance = sum((g - mean) ** 2 for g in greys) / len(greys)
    assert variance > 100.0
    colours = {row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 4 * step)}
    # The first series' blue (#1f77b4), as a line or blended into its band.
    assert any(abs(c[0] - 0x1F) + abs(c[1] - 0x77) + abs(c[2] - 0xB4) < 24 for c in colours)
    # The DOM after rendering holds every chart with its band and mean line.
    done = subprocess.run(
        [*_chromium_command(tmp_path / "profile2"), "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    charts = _dom(done.stdout).charts()
    assert list(charts) == ["service_level", "asa", "abandonment_rate", "waiting"]
    for paths in charts.values():
        assert any(p.get("class") == "band" for p in paths)
        assert any(p.get("class") == "mean" for p in paths)


# ---------------------------------------------------------------- pandas frames


def test_simulation_frames_hold_every_figure_once(demo: SimulationResult) -> None:
    pytest.importorskip("pandas")
    summary = demo.to_pandas()
    assert (
        summary.loc[("all", "service_level"), "mean"]
        == demo.summary["all"]["service_level"]["mean"]
    )

    long = demo.to_pandas("replications")
    assert list(long.columns) == ["variant", "replication", "seed", "type", "kpi", "value"]
    assert len(long) == len(demo.replications) * len(demo.summary) * len(demo.summary["all"])
    for r in demo.replications:
        for task_type, kpis in r.kpis.items():
            for kpi, value in kpis.items():
                cell = long[
                    (long["replication"] == r.replication)
                    & (long["type"] == task_type)
                    & (long["kpi"] == kpi)
                ]["value"]
                assert cell.tolist() == pytest.approx([value], nan_ok=True)
    # The summary is the replications' mean.
    means = long.groupby(["type", "kpi"])["value"].mean()
    assert means[("voice_sales", "asa")] == pytest.approx(
        demo.summary["voice_sales"]["asa"]["mean"]
    )
    assert set(long["variant"]) == {demo.policy}

    intervals = demo.to_pandas("intervals")
    assert len(intervals) == sum(len(r.intervals) for r in demo.replications)
    assert list(intervals.columns[:4]) == ["variant", "replication", "interval_start", "type"]
    backlog = demo.to_pandas("backlog")
    types = [t for t in demo.summary if t != "all"]
    assert len(backlog) == sum(len(r.backlog) for r in demo.replications) * len(types)
    first = demo.replications[0].backlog[-1]
    row = backlog[(backlog["replication"] == 0) & (backlog["time"] == first["time"])]
    assert dict(zip(row["type"], row["waiting"], strict=True)) == {t: first[t] for t in types}
    groups = demo.to_pandas("groups")
    occupancy = groups[(groups["figure"] == "occupancy") & (groups["group"] == "generalists")]
    assert occupancy["value"].mean() == pytest.approx(
        demo.groups["generalists"]["occupancy"]["mean"]
    )


def test_comparison_frames_stack_the_policies(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    comparison = compare(
        load_named_scenario("demo"),
        policies=["fifo", {"policy": "aging_priority", "seconds_per_point": 30}],
        replications=2,
        executor=InlineExecutor(),
    )
    summary = comparison.to_pandas()
    for label, result in comparison.results.items():
        assert summary.loc[(label, "all", "asa"), "mean"] == result.summary["all"]["asa"]["mean"]
    long = comparison.to_pandas("replications")
    assert set(long["variant"]) == {"fifo", "aging_priority"}
    # Paired differences from the long frame equal the comparison's own.
    wide = long[(long["type"] == "all") & (long["kpi"] == "service_level")].pivot(
        index="replication", columns="variant", values="value"
    )
    paired = (wide["aging_priority"] - wide["fifo"]).mean()
    differences = comparison.to_pandas("differences")
    assert list(differences.columns) == [
        "variant",
        "type",
        "kpi",
        "mean",
        "half_width",
        "ci_low",
        "ci_high",
    ]
    cell = differences[
        (differences["variant"] == "aging_priority")
        & (differences["type"] == "all")
        & (differences["kpi"] == "service_level")
    ]["mean"]
    assert cell.tolist() == pytest.approx([paired])
    intervals = comparison.to_pandas("intervals")
    assert len(intervals) == sum(
        len(r.intervals) for result in comparison.results.values() for r in result.replications
    )


@pytest.mark.parametrize("table", ["differences", "kpis", "", ["x"] * 10_000, None])
def test_to_pandas_refuses_an_unknown_table(demo: SimulationResult, table: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^table: got ") as info:
        demo.to_pandas(table)
    assert len(str(info.value)) < 400


def test_staffing_table_frame_matches_its_rows() -> None:
    pytest.importorskip("pandas")
    from valueroute.erlang import staff_intervals

    table = staff_intervals(
        [80, 120, 150],
        interval=1800,
        aht=240,
        labels=["08:00", "08:30", "09:00"],
        service_level=0.8,
        awt=20,
        patience=180,
    )
    frame = table.to_pandas()
    assert list(frame.index) == ["08:00", "08:30", "09:00"]
    assert frame.index.name == "interval"
    for row in table.rows():
        label = row.pop("interval")
        assert frame.loc[label].to_dict() == pytest.approx(row)
    erlang_c = staff_intervals([80], interval=1800, aht=240, service_level=0.8, awt=20)
    assert "p_abandon" not in erlang_c.to_pandas().columns


@pytest.mark.parametrize(
    ("value", "kpi", "shown"),
    [
        (-0.0004, "service_level", "0.0"),
        (-0.002, "service_level", "-0.2"),
        (0.8312, "service_level", "83.1"),
        (-0.004, "asa", "0.00"),
        (-1.5, "asa", "-1.50"),
        (-2000.0, "offered", "-2,000"),
        (math.nan, "asa", "–"),
    ],
)
def test_report_numbers_are_percent_for_shares_and_unsigned_at_zero(
    value: float, kpi: str, shown: str
) -> None:
    assert report._number(value, kpi) == shown


def test_interval_bands_refuse_replications_of_different_days() -> None:
    four = _replication(0, [(1, 0, 1, 5.0)] * 4)
    three = _replication(1, [(1, 0, 1, 5.0)] * 3)
    for kpi in INTERVAL_KPIS:
        with pytest.raises(InvalidInputError, match=r"^replications: replication 1 has 3 "):
            interval_band([four, three], kpi, "calls")
