"""Build a built-in policy or strategy from a name and keyword parameters.

Configuration files and the command line name built-ins and give them
parameters; a parameter the built-in does not take, or one it needs and did
not get, is told in the configuration's own words (with the closest valid
name for a misspelling), never as Python's ``__init__() missing 1 required
positional argument``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from valueroute.errors import InvalidInputError, bounded_repr

_T = TypeVar("_T")


def parameters_of(factory: Callable[..., Any]) -> tuple[list[str], list[str]]:
    """The keyword parameters ``factory`` takes: ``(all, required)``, in signature order."""
    signature = inspect.signature(factory)
    names: list[str] = []
    required: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        names.append(parameter.name)
        if parameter.default is parameter.empty:
            required.append(parameter.name)
    return names, required


def build(what: str, factory: Callable[..., _T], params: Mapping[str, Any]) -> _T:
    """``factory(**params)``, refusing unknown and missing parameters by name first.

    ``what`` names the built-in in messages (``"policy 'aging_priority'"``).
    """
    names, required = parameters_of(factory)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values())
    listed = ", ".join(names) if names else "no parameters"
    if not takes_any:
        for key in params:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidInputError(
                    f"{what} has no parameter {bounded_repr(key)}{hint} (expected one of: "
                    f"{listed})",
                    [(str(key)[:80], params[key], f"one of: {listed}")],
                )
    missing = [name for name in required if name not in params]
    if missing:
        raise InvalidInputError(
            f"{what} needs {', '.join(repr(m) for m in missing)} (its parameters: {listed})",
            [(m, None, "a value (required)") for m in missing],
        )
    return factory(**params)
