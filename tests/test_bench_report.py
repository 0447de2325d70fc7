"""The benchmark's plots and HTML report: written with matplotlib, rendered by headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from valueroute._bench_report import wait_cdf
from valueroute.bench import SCENARIO_DIR, BenchReport, load_bench_scenario, run_bench

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


@pytest.fixture(scope="module")
def report() -> BenchReport:
    bench = load_bench_scenario(SCENARIO_DIR / "edd_deadlines.toml")
    return run_bench([bench], policies=["fifo", "edd", "strict_priority"], fast=True)


def test_plots_are_written_with_matplotlib(report: BenchReport, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = report.write(tmp_path)
    pngs = [p for p in paths if p.suffix == ".png"]
    assert {p.name for p in pngs} == {"edd_deadlines_kpis.png", "edd_deadlines_waits.png"}
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000
    html = (tmp_path / "report.html").read_text()
    assert "edd_deadlines_kpis.png" in html
    assert "earliest due date loses the fewest tasks" in html


def test_wait_distribution_is_a_cdf(report: BenchReport) -> None:
    xs, ys = wait_cdf(report.scenarios[0].waits["fifo"])
    assert xs == sorted(xs)
    assert ys == sorted(ys)
    assert ys[-1] == pytest.approx(1.0)
    answered = sum(report.scenarios[0].samples["fifo"]["all"]["answered"])
    waits = report.scenarios[0].waits["fifo"]
    assert waits["zeros"] + sum(waits["bins"].values()) == answered


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_report_renders_in_headless_chromium(report: BenchReport, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report.write(tmp_path)
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
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
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
        f"--screenshot={shot}",
        (tmp_path / "report.html").as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert shot.is_file()
    # A blank page compresses to a few kilobytes; tables and plots do not.
    assert shot.stat().st_size > 50_000
