"""The ``valueroute`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``;
this module only assembles them, so a command's imports are paid only by the
modules that define it. It also holds what every subcommand shares: option
types that refuse bad numbers while the command line is read, the check of
an output folder before a long run, and the rule that every failure is one
line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import importlib
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from valueroute import __version__
from valueroute._documents import MAX_NESTING, json_too_deep
from valueroute.errors import InvalidInputError, ValueRouteError

__all__ = ["build_parser", "main"]

_COMMANDS: tuple[str, ...] = (
    "valueroute.cli.demo",
    "valueroute.cli.rules",
    "valueroute.cli.erlang",
    "valueroute.cli.sim",
    "valueroute.cli.bench",
    "valueroute.cli.forecast",
    "valueroute.cli.schedule",
    "valueroute.cli.serve",
    "valueroute.cli.backtest",
    "valueroute.cli.replay",
)

_SHOWN_CHARACTERS = 160

MAX_SECONDS = 1e12
"""The largest moment, in seconds either side of 0, a command takes (every datetime fits)."""
_LONG_QUOTED = re.compile(rf"'([^'\n]{{{_SHOWN_CHARACTERS}}})[^'\n]+'")


def shown(text: str) -> str:
    """``text`` quoted as in a message, cut to a bounded length."""
    if len(text) > _SHOWN_CHARACTERS:
        return repr(text[:_SHOWN_CHARACTERS] + "...")
    return repr(text)


class _UsageError(Exception):
    """A command line argparse could not read (raised instead of exiting)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors end up as one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self.prog, message)


def number(
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
) -> Callable[[str], float]:
    """An option type: a finite float within the bounds, refused with the value and the range.

    Parsing is an ``float()`` call and two comparisons: cheap enough for any option.
    """
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    expected = f"a finite number{unit}" + (" " + " and ".join(parts) if parts else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if (
            not math.isfinite(value)
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))
        ):
            raise argparse.ArgumentTypeError(f"got {shown(text)} (expected {expected})")
        return value

    parse.__name__ = "number"
    return parse


def integer(*, low: int = 0, high: int = 10**20 - 1) -> Callable[[str], int]:
    """An option type: a whole number within the bounds, refused with the value and the range.

    Only plain decimal digits (with an optional sign) are read, so the digit
    count is bounded before ``int()`` sees the text.
    """
    expected = f"a whole number >= {low} and <= {high}"
    longest = len(str(max(abs(low), abs(high))))

    def parse(text: str) -> int:
        stripped = text.strip()
        digits = stripped[1:] if stripped[:1] in "+-" else stripped
        if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > longest:
            raise argparse.ArgumentTypeError(f"got {shown(text)} (expected {expected})")
        value = int(stripped)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"got {shown(text)} (expected {expected})")
        return value

    parse.__name__ = "integer"
    return parse


def iso_day(text: str) -> dt.date:
    """An option type: an ISO calendar date, refused with the value and an example."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"got {shown(text)} (expected an ISO date such as 1999-10-01)"
        ) from None


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, braces and double quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for index, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def policy_option(text: str) -> str | dict[str, Any]:
    """A ``--policy`` value: ``NAME``, ``module:attribute`` or ``NAME:KEY=VALUE[,KEY=VALUE]``.

    A ``=`` after the first colon means parameters (no module path or
    attribute name holds one, so the forms cannot be confused). Each VALUE is
    read as JSON when it is JSON (``30``, ``true``, ``{"sales": 300}``) and
    as text otherwise. The name must be a built-in policy and every key one
    of its parameters; a wrong one is refused naming the closest match.
    Returns the text itself, or ``{"policy": NAME, "label": text, KEY: VALUE...}``.
    """
    name, colon, rest = text.partition(":")
    if not colon or "=" not in rest:
        return text
    from valueroute.scoring import POLICY_NAMES, policy_parameters

    if name not in POLICY_NAMES:
        raise argparse.ArgumentTypeError(
            f"got {shown(text)}: {shown(name)} is not a built-in policy"
            f"{_did_you_mean(name, POLICY_NAMES)} (expected NAME:KEY=VALUE[,KEY=VALUE] with NAME "
            f"one of {', '.join(sorted(POLICY_NAMES))}; parameters are for built-in policies)"
        )
    keys = list(policy_parameters(name))
    setting: dict[str, Any] = {"policy": name, "label": text[:_SHOWN_CHARACTERS]}
    for pair in _split_top_level(rest):
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}: {shown(pair)} is not KEY=VALUE (expected "
                "NAME:KEY=VALUE[,KEY=VALUE], e.g. aging_priority:seconds_per_point=30)"
            )
        if key not in keys:
            takes = ", ".join(keys) if keys else "no parameters"
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}: {name} has no parameter {shown(key)}"
                f"{_did_you_mean(key, keys)} (expected one of: {takes})"
            )
        if key in setting:
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}: {shown(key)} is given twice (expected each parameter once)"
            )
        if json_too_deep(value, MAX_NESTING):
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}: the value of {shown(key)} is nested too deeply to read "
                f"(expected a number, text or JSON at most {MAX_NESTING} levels deep)"
            )
        try:
            setting[key] = json.loads(value)
        except ValueError:
            setting[key] = value.strip()  # a bare word is text
    return setting


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def output_folder(text: str, option: str = "--out") -> Path:
    """Check, before a long run, that the folder ``text`` names can take its results.

    The folder, or the nearest folder above it that exists, must be a folder
    in which a file can be created (tried with a temporary file, removed at
    once); nothing else is created, so a command refused later leaves no
    trace. Raises :class:`InvalidInputError` naming the option, the path (cut
    short) and why it cannot be used.
    """
    folder = Path(text)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == folder else f" ({shown(str(existing))} is a file)"
        raise InvalidInputError(
            f"{option}: got {shown(text)}{where} (expected a folder to write into)",
            [(option, text[:_SHOWN_CHARACTERS], "a folder")],
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInputError(
            f"{option}: got {shown(text)} (cannot write there: {reason}; expected a folder "
            "that can be created and written)",
            [(option, text[:_SHOWN_CHARACTERS], "a writable folder")],
        ) from None
    return folder


def write_failure(option: str, path: Path, exc: OSError) -> InvalidInputError:
    """The error for an output that could not be written after all (disk full, removed)."""
    reason = exc.strerror or type(exc).__name__
    return InvalidInputError(
        f"{option}: could not write into {shown(str(path))} ({reason})",
        [(option, str(path)[:_SHOWN_CHARACTERS], "a writable folder")],
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="valueroute",
        description="Value-based workload distribution: routing, simulation, staffing.",
    )
    parser.add_argument("--version", action="version", version=f"valueroute {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def _one_line(prog: str, message: str) -> str:
    text = _LONG_QUOTED.sub(lambda match: f"'{match.group(1)}...'", message)
    text = "; ".join(part.strip() for part in text.splitlines() if part.strip())
    return f"{prog}: error: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    A failure (an option that cannot be read, a bad value, a file that
    cannot be read or written) prints one line on stderr and returns 2.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(_one_line(exc.prog, str(exc)), file=sys.stderr)
        return 2
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except ValueRouteError as exc:
        print(_one_line(f"valueroute {args.command}", str(exc)), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`valueroute ... | head`): say so once, and keep the
        # interpreter's final flush from failing again on the closed pipe.
        _discard_stdout()
        print(
            f"valueroute {args.command}: error: standard output was closed before all of "
            "the output was written (broken pipe)",
            file=sys.stderr,
        )
        return 2
    return code


def _discard_stdout() -> None:
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):
        return  # not a real file (captured output): nothing left to flush
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
