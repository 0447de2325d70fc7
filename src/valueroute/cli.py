"""The ``valueroute`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``;
this module only assembles them, so a command's imports are paid only by the
modules that define it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from valueroute import __version__
from valueroute.errors import ValueRouteError

__all__ = ["main"]

_COMMANDS: tuple[str, ...] = (
    "valueroute._cli_demo",
    "valueroute._cli_rules",
    "valueroute._cli_erlang",
    "valueroute._cli_sim",
    "valueroute._cli_bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valueroute",
        description="Value-based workload distribution: routing, simulation, staffing.",
    )
    parser.add_argument("--version", action="version", version=f"valueroute {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ValueRouteError as exc:
        print(f"valueroute {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
