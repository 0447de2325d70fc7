"""Shared fixtures and the hypothesis profiles.

Tests marked ``slow`` run only with ``--run-slow``.
``CI=true`` selects the ``ci`` profile: more examples, no deadline (CI
machines are shared and timing-noisy), derandomised so a failure reproduces.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (longer kill, soak and full-suite runs)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` are skipped, saying how to run them, unless ``--run-slow``
    is given: the default run (CI's) does the rounds the guides promise, a slow run
    does more."""
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="marked slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_inherited_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without ``COLUMNS`` (pytest-xdist's workers inherit the
    runner's width): command output is checked at the width a test sets, else at
    the default of a run without a terminal."""
    monkeypatch.delenv("COLUMNS", raising=False)


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)


@pytest.fixture
def shared_data() -> Path:
    """The full public data files, beside the checkout (CI always has them)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
