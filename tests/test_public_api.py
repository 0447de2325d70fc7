from __future__ import annotations

import importlib

import valueroute


def test_all_is_sorted_and_unique() -> None:
    names = list(valueroute.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_every_public_name_imports() -> None:
    module = importlib.import_module("valueroute")
    for name in valueroute.__all__:
        assert getattr(module, name) is not None, name


def test_star_import_exports_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from valueroute import *", namespace)
    exported = {name for name in namespace if name != "__builtins__"}
    assert exported == set(valueroute.__all__)
