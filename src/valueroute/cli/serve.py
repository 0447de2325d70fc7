"""``valueroute serve``: run the engine as a durable HTTP service.

Also runnable as ``python -m valueroute.cli.serve`` with the same options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valueroute.cli import integer, number, shown
from valueroute.errors import InvalidInputError, ValueRouteError

__all__ = ["main", "register", "run_serve"]


def _journal(text: str) -> Path | str:
    """A journal file path, or a PostgreSQL URL as given."""
    if text.startswith(("postgresql://", "postgres://")):
        return text
    return Path(text)


def _store(text: str) -> str:
    """A PostgreSQL URL shared by a leader and its standbys."""
    if not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError(
            f"got {shown(text)} (expected a postgresql:// URL of the journal's database)"
        )
    return text


def _add_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--journal",
        type=_journal,
        default=None,
        help="the SQLite journal file, created if missing, or a postgresql:// URL this "
        "process alone writes; recovered on start (default: valueroute-journal.sqlite)",
    )
    where.add_argument(
        "--store",
        type=_store,
        default=None,
        help="a postgresql:// URL shared by several processes: the one holding the lease "
        "leads and takes commands, the others follow as standbys and take over when it "
        "is gone (default: none, one process on --journal)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=number(low=0.05, high=3600, unit=" of seconds"),
        default=5.0,
        help="with --store: how long a silent leader keeps the lead; a paused leader is "
        "replaced after this (default: 5)",
    )
    parser.add_argument(
        "--name",
        default=None,
        help="with --store: this process as the lease names it (default: host:pid)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1, loopback only; any other address "
        "needs --tokens)",
    )
    parser.add_argument(
        "--port",
        type=integer(low=0, high=65535),
        default=8080,
        help="port to bind, 0 for any free one (default: 8080)",
    )
    parser.add_argument(
        "--tokens",
        type=Path,
        default=None,
        help="TOML token file: [tokens] 'token' = 'role' or { role = 'agent', agent = 'id' } "
        "(default: none, every request acts as admin: loopback only)",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="rule file (.toml, .json, .yaml) the engine starts with (default: none)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML configuration: [engine] options, [policy] name and params, [limits], "
        "[webhooks] (default: the engine's defaults, no webhook)",
    )
    parser.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        default="warning",
        help="uvicorn's log level (default: warning); tokens are never logged",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the ``valueroute`` command line."""
    parser = subparsers.add_parser(
        "serve",
        help="run the engine as a durable HTTP service",
        description="Serve the engine over HTTP with a durable journal, bearer tokens, an "
        "event stream and a supervisor page. Stops cleanly on SIGTERM.",
    )
    _add_options(parser)
    parser.set_defaults(run=run_serve)


def _settings(args: argparse.Namespace) -> Any:
    try:
        from valueroute.serve import ServeSettings, load_config, load_tokens
    except ImportError as exc:
        raise InvalidInputError(
            f'serve: the serve extra is not installed (pip install "valueroute[serve]"): {exc}'
        ) from None
    standby = args.store is not None
    if args.journal is None:
        args.journal = args.store if standby else Path("valueroute-journal.sqlite")
    journal = args.journal
    if isinstance(journal, Path) and (
        (journal.exists() and not journal.is_file()) or not journal.parent.is_dir()
    ):
        # Found before binding: the journal is opened only once the server starts.
        raise InvalidInputError(
            f"--journal: got {str(journal)!r} (expected a journal file, or a new file's "
            "name in an existing folder, or a postgresql:// URL)",
            [("--journal", str(journal), "a journal file path or a postgresql:// URL")],
        )
    options: dict[str, Any] = {}
    if args.config is not None:
        options.update(load_config(args.config, journal=args.journal))
    if args.rules is not None:
        if not args.rules.is_file():
            raise InvalidInputError(
                f"--rules: got {str(args.rules)!r} (expected a readable rule file)",
                [("--rules", str(args.rules), "a readable rule file")],
            )
        options["rules"] = args.rules
    tokens = None if args.tokens is None else load_tokens(args.tokens)
    settings = ServeSettings(
        journal=args.journal,
        host=args.host,
        port=args.port,
        tokens=tokens,
        standby=standby,
        lease_seconds=args.lease_seconds,
        node_name=args.name,
        **options,
    )
    # Built once now so a wrong option or rule file is refused before binding.
    settings.build_engine(lambda: 0.0)
    return settings


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; returns 0 after a clean stop."""
    settings = _settings(args)
    from valueroute.serve import run

    try:
        return run(settings, log_level=args.log_level)
    except OSError as exc:
        raise InvalidInputError(
            f"--host/--port: cannot listen on {settings.host}:{settings.port} ({exc.strerror})",
            [("--port", settings.port, "a free port")],
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m valueroute.cli.serve``: the ``serve`` subcommand on its own.

    Same options and exit codes as ``valueroute serve``: 0 after a clean
    stop, 2 with one line on stderr when an option or file is refused.
    """
    parser = argparse.ArgumentParser(prog="valueroute serve")
    _add_options(parser)
    args = parser.parse_args(argv)
    try:
        return run_serve(args)
    except ValueRouteError as exc:
        print(f"valueroute serve: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
