"""The benchmark's plots and HTML report: written with matplotlib, rendered by headless Chromium."""

from __future__ import annotations

import base64
import html.parser
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from valueroute.bench import SCENARIO_DIR, BenchReport, load_bench_scenario, run_bench
from valueroute.bench._report import kpi_figure, report_html, shown_kpis, wait_cdf

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
# Without chromium the rendering tests skip on a developer's machine, never in CI.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report() -> BenchReport:
    """Two scenarios: one whose callers abandon, one where nobody can (and no due times)."""
    edd = load_bench_scenario(SCENARIO_DIR / "edd_deadlines.toml")
    first = run_bench([edd], policies=["fifo", "edd", "strict_priority"], fast=True)
    second = run_bench(["identical_agents"], fast=True, replications=3)
    return BenchReport(first.scenarios + second.scenarios, seed=first.seed, mode="fast")


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _headers(page: str) -> list[list[str]]:
    """The header cells of each table of the page."""
    tables = re.findall(r"<table>(.*?)</table>", page, flags=re.S)
    return [re.findall(r"<th>(.*?)</th>", table) for table in tables]


def test_plots_are_written_with_matplotlib(report: BenchReport, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = report.write(tmp_path)
    pngs = [p for p in paths if p.suffix == ".png"]
    assert {p.name for p in pngs} == {
        "edd_deadlines_kpis.png",
        "edd_deadlines_waits.png",
        "identical_agents_kpis.png",
        "identical_agents_waits.png",
    }
    for png in pngs:
        assert png.read_bytes()[:8] == PNG
        assert png.stat().st_size > 10_000
    page = (tmp_path / "report.html").read_text()
    assert "earliest due date loses the fewest tasks" in page


def test_the_html_report_embeds_its_charts_and_references_no_other_file(
    report: BenchReport, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    paths = report.write(tmp_path)
    page = (tmp_path / "report.html").read_text()
    tags = _tags(page)
    for tag, attrs in tags:
        for name in ("src", "href", "data", "srcset", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("data:"), (tag, name, value[:80])
    assert "url(" not in page
    assert "@import" not in page
    images = [attrs for tag, attrs in tags if tag == "img"]
    # Every chart written is in the page, byte for byte.
    charts = {p.stem: p.read_bytes() for p in paths if p.suffix == ".png"}
    embedded = {}
    for attrs in images:
        source = attrs["src"]
        assert source is not None
        assert source.startswith("data:image/png;base64,")
        embedded[attrs["alt"]] = base64.b64decode(source.split(",", 1)[1], validate=True)
    assert embedded == charts


def test_shares_are_percentages_in_table_page_and_chart(report: BenchReport) -> None:
    pytest.importorskip("matplotlib")
    result = report.scenarios[0]
    levels = {label: result.mean(label, "service_level") for label in result.labels}
    assert all(0.0 < level < 1.0 for level in levels.values())
    table = report.table()
    page = report_html(report, {})
    for label, level in levels.items():
        figures = result.summary[label]["all"]["service_level"]
        cell = f"{100 * level:.1f}±{100 * figures['half_width']:.1f}"
        assert cell in table
        assert f"<td>{cell}" in page
    assert "SL %" in _headers(page)[0]
    figure = kpi_figure(result)
    try:
        panel = next(a for a in figure.axes if a.get_title().startswith("SL %"))
        heights = [bar.get_height() for bar in panel.patches]
        assert heights == pytest.approx([100 * levels[label] for label in result.labels])
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)


def test_undefined_kpis_are_left_out_of_tables_page_and_charts(report: BenchReport) -> None:
    pytest.importorskip("matplotlib")
    with_patience, without = report.scenarios
    assert not without.abandons
    assert all(without.mean(label, "abandonment_rate") == 0.0 for label in without.labels)
    assert all(math.isnan(without.mean(label, "value_sla_attainment")) for label in without.labels)
    assert "abandonment_rate" in shown_kpis(with_patience)
    assert "value_sla_attainment" in shown_kpis(with_patience)
    assert "abandonment_rate" not in shown_kpis(without)
    assert "value_sla_attainment" not in shown_kpis(without)
    assert "service_level" in shown_kpis(without)

    headers = _headers(report_html(report, {}))
    assert "aband. %" in headers[0]
    assert "value SLA %" in headers[0]
    assert "aband. %" not in headers[1]
    assert "value SLA %" not in headers[1]
    assert len(headers[1]) == 1 + len(shown_kpis(without))
    terminal = report.table().split("\n\n")[1]
    header = terminal.splitlines()[2]
    assert "aband." not in header
    assert "value SLA" not in header
    assert "not shown: aband. (no customer can abandon)" in terminal
    assert "value SLA (undefined for every variant)" in terminal

    for result in report.scenarios:
        figure = kpi_figure(result)
        try:
            titles = [a.get_title().split(" (")[0] for a in figure.axes if a.get_visible()]
        finally:
            import matplotlib.pyplot as plt

            plt.close(figure)
        expected = {
            "service_level": "SL %",
            "asa": "ASA s",
            "p90_wait": "p90 s",
            "abandonment_rate": "aband. %",
            "value_lost": "value lost",
            "value_sla_attainment": "value SLA %",
            "holding_cost_per_hour": "hold/h",
            "occupancy": "occ. %",
            "load_fairness": "Jain",
        }
        assert titles == [expected[kpi] for kpi in shown_kpis(result)]


def test_wait_distribution_is_a_cdf(report: BenchReport) -> None:
    xs, ys = wait_cdf(report.scenarios[0].waits["fifo"])
    assert xs == sorted(xs)
    assert ys == sorted(ys)
    assert ys[-1] == pytest.approx(1.0)
    answered = sum(report.scenarios[0].samples["fifo"]["all"]["answered"])
    waits = report.scenarios[0].waits["fifo"]
    assert waits["zeros"] + sum(waits["bins"].values()) == answered


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    if CHROMIUM is None:
        pytest.fail("chromium is needed to render the report (CI is set)")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *arguments,
    ]
    return subprocess.run(command, check=True, capture_output=True, timeout=120)


@needs_chromium
def test_html_report_renders_in_headless_chromium(report: BenchReport, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.image
    import numpy as np

    folder = tmp_path / "out"
    report.write(folder)
    # Alone in its folder: the charts must come from the page itself.
    page = tmp_path / "report.html"
    page.write_text((folder / "report.html").read_text())
    shutil.rmtree(folder)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1400,1800", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes()[:8] == PNG
    pixels = matplotlib.image.imread(shot)[:, :, :3]
    # A blank page is one colour; text, tables and charts are many.
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    assert float(pixels.std()) > 0.05


@needs_chromium
def test_every_chart_of_the_report_loads_in_headless_chromium(
    report: BenchReport, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    folder = tmp_path / "out"
    report.write(folder)
    text = (folder / "report.html").read_text()
    shutil.rmtree(folder)
    # After loading, the page writes each image's decoded size into a marker element.
    probe = textwrap.dedent(
        """
        <pre id='probe'></pre><script>
        window.addEventListener('load', () => {
          document.getElementById('probe').textContent = 'sizes:' + Array.from(
            document.images, i => i.complete ? i.naturalWidth + 'x' + i.naturalHeight : 'none'
          ).join(',');
        });
        </script>"""
    )
    page = tmp_path / "report.html"
    page.write_text(text.replace("</body>", probe + "</body>"))
    done = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    found = re.search(r"sizes:([^<]*)", done.stdout.decode("utf-8", "replace"))
    assert found is not None, done.stdout[-2000:]
    sizes = found.group(1).split(",")
    assert len(sizes) == 2 * len(report.scenarios)
    for size in sizes:
        width, height = (int(n) for n in size.split("x"))
        assert width > 300, sizes
        assert height > 200, sizes


# ---------------------------------------------------------------- pandas


def test_to_pandas_is_a_tidy_frame_of_the_summary(report: BenchReport) -> None:
    pandas = pytest.importorskip("pandas")
    frame = report.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == [
        "scenario",
        "variant",
        "task_type",
        "kpi",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    expected = 0
    for result in report.scenarios:
        for label in result.labels:
            for task_type, kpis in result.summary[label].items():
                expected += len(kpis)
                for kpi in ("service_level", "asa"):
                    row = frame[
                        (frame.scenario == result.name)
                        & (frame.variant == label)
                        & (frame.task_type == task_type)
                        & (frame.kpi == kpi)
                    ]
                    assert len(row) == 1
                    figures = kpis[kpi]
                    assert row["mean"].iloc[0] == pytest.approx(figures["mean"], nan_ok=True)
                    assert row["ci_low"].iloc[0] == pytest.approx(figures["ci_low"], nan_ok=True)
                    assert row["ci_high"].iloc[0] == pytest.approx(figures["ci_high"], nan_ok=True)
                    values = result.samples[label][task_type][kpi]
                    assert row["n"].iloc[0] == sum(not math.isnan(v) for v in values)
    assert len(frame) == expected
    assert frame["n"].dtype.kind == "i"
    # Tidy: one row per (scenario, variant, type, KPI).
    assert not frame.duplicated(["scenario", "variant", "task_type", "kpi"]).any()


def test_to_pandas_without_pandas_names_the_extra(report: BenchReport, tmp_path: Path) -> None:
    dump = tmp_path / "report.json"
    dump.write_text(report.to_json())
    script = textwrap.dedent(
        """
        import sys

        class BlockPandas:
            def find_spec(self, name, path=None, target=None):
                if name == "pandas" or name.startswith("pandas."):
                    raise ImportError("pandas is blocked")
                return None

        sys.meta_path.insert(0, BlockPandas())
        from valueroute.bench import BenchReport
        from valueroute.errors import ValueRouteError

        report = BenchReport([], seed=0, mode="fast")
        try:
            report.to_pandas()
        except ValueRouteError as exc:
            print(type(exc).__name__, exc)
        else:
            print("no error")
        assert "pandas" not in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("InvalidInputError "), done.stdout
    assert "valueroute[pandas]" in done.stdout
    assert done.stdout.split(" ")[1].startswith("pandas")
