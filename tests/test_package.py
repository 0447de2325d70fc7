"""The installed distribution: one version, the licence shipped, the package as users get it."""

from __future__ import annotations

import importlib.metadata
import os
import tomllib
from pathlib import Path

import pytest

import valueroute

ROOT = Path(__file__).resolve().parents[1]


def test_version_has_one_source() -> None:
    assert valueroute.__version__ == importlib.metadata.version("valueroute")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]


def test_licence_text_ships_with_the_distribution() -> None:
    files = importlib.metadata.files("valueroute") or []
    licences = [f for f in files if f.name == "LICENSE"]
    assert licences, "no LICENSE in the installed distribution"
    text = licences[0].read_text()
    assert "Apache License" in text
    assert "Version 2.0" in text


def test_changelog_names_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{valueroute.__version__}]" in changelog


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI installs the package, not the source tree")
def test_ci_tests_the_installed_package_not_the_source_tree() -> None:
    package_dir = Path(valueroute.__file__).resolve().parent
    assert package_dir != (ROOT / "src" / "valueroute").resolve(), (
        f"valueroute imported from the source tree ({package_dir}), not from an installed wheel"
    )
