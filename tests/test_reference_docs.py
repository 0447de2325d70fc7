"""The reference documentation: a page per public module, a docstring for every public name,
and a site that builds with every link and anchor resolved."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import valueroute

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _public_modules() -> list[str]:
    """Every importable module of the package whose dotted path has no private part."""
    names = ["valueroute"]
    for info in pkgutil.walk_packages(valueroute.__path__, "valueroute."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


# The command line is documented by its --help pages and the guides, not as an API.
PUBLIC_MODULES = [
    m for m in _public_modules() if m != "valueroute" and not m.startswith("valueroute.cli")
]


def _documented_modules() -> set[str]:
    found = set()
    for page in REFERENCE.glob("*.md"):
        for line in page.read_text().splitlines():
            if line.startswith("::: "):
                found.add(line[4:].strip())
    return found


def test_every_public_module_has_a_reference_page() -> None:
    missing = sorted(set(PUBLIC_MODULES) - _documented_modules())
    assert missing == [], f"modules without a page under docs/reference: {missing}"


def test_every_top_level_name_is_in_the_reference_index() -> None:
    index = (REFERENCE / "index.md").read_text()
    missing = [name for name in valueroute.__all__ if f"`{name}`" not in index]
    assert missing == []


def _undocumented(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing = []
    if not module.__doc__:
        missing.append(module_name)
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if getattr(obj, "__module__", module_name) != module_name:
            continue  # documented where it is defined
        where = f"{module_name}.{name}"
        if inspect.isclass(obj):
            if not obj.__doc__:
                missing.append(where)
            for attribute, value in vars(obj).items():
                if attribute.startswith("_"):
                    continue
                function = value.fget if isinstance(value, property) else value
                function = getattr(function, "__func__", function)
                if inspect.isfunction(function) and not function.__doc__:
                    missing.append(f"{where}.{attribute}")
        elif inspect.isfunction(obj) and not obj.__doc__:
            missing.append(where)
    return missing


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    assert _undocumented(module_name) == []


@pytest.mark.gates
def test_the_documentation_site_builds_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for module in PUBLIC_MODULES:
        page = module.removeprefix("valueroute.")
        assert (tmp_path / "site" / "reference" / page / "index.html").exists(), module
