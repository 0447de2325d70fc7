"""Replay real days of the Anonymous Bank call centre and compare with what happened.

Every call that asked for an agent arrives at its recorded time with its
recorded priority and service time; the agents available in each half hour
are read off the moments callers waited (the calls in service then), or,
with ``--staffing seen``, are all those seen serving; callers who hung up
keep their recorded patience, served callers get one drawn beyond their
recorded wait. Prints, per hour of the data (entry to the voice menu), the
abandonment share of queued calls and the mean wait of served calls,
observed against simulated, then the overall line and each priority class;
``--calls-csv`` also writes every call's outcome, observed and in each
replication. Days need not be consecutive.

    python anonymous_bank_replay.py                       # the bundled excerpt (9-11 May 1999)
    python anonymous_bank_replay.py --data calls_clean.csv.gz --days 1999-07-04
    python anonymous_bank_replay.py --staffing seen       # the naive headcount, for contrast
    python anonymous_bank_replay.py --calls-csv calls.csv # per-call outcomes too
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from valueroute.datasets import load_anonymous_bank
from valueroute.errors import InvalidInputError, ValueRouteError
from valueroute.replay import build_replay, run_replay

_SHOWN = 120


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _check_output(path: Path) -> None:
    """Refuse a --calls-csv that cannot be written, before the replay runs."""
    folder = path.parent
    if path.is_dir():
        raise InvalidInputError(
            f"--calls-csv: got {_shown(str(path))} (expected a file path, not a folder)",
            [("--calls-csv", str(path)[:_SHOWN], "a writable file path")],
        )
    if not folder.is_dir():
        raise InvalidInputError(
            f"--calls-csv: got {_shown(str(path))} (expected a file in an existing folder; "
            f"{_shown(str(folder))} is not one)",
            [("--calls-csv", str(path)[:_SHOWN], "a file in an existing folder")],
        )


def main() -> int:
    try:
        _main()
    except ValueRouteError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the full cleaned call file (default: the bundled excerpt)")
    parser.add_argument("--days", nargs="+", help="ISO dates to replay (default: every day)")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--interval-minutes", type=int, default=30, choices=(15, 30, 60), help="headcount intervals"
    )
    parser.add_argument(
        "--staffing",
        default="available",
        choices=("available", "seen"),
        help="headcount estimate: agents serving while callers waited, or every agent seen",
    )
    parser.add_argument(
        "--calls-csv", type=Path, help="write every call's outcome (one row per replication)"
    )
    args = parser.parse_args()
    if args.replications < 1:
        raise InvalidInputError(
            f"--replications: got {args.replications} (expected an integer >= 1)",
            [("--replications", args.replications, "an integer >= 1")],
        )
    if args.calls_csv is not None:
        _check_output(args.calls_csv)
    calls = load_anonymous_bank(args.data, days=args.days)
    replay = build_replay(calls, interval_minutes=args.interval_minutes, staffing=args.staffing)
    comparison = run_replay(replay, replications=args.replications, seed=args.seed)
    print(
        f"Anonymous Bank, {', '.join(replay.days)}: {len(replay.arrivals)} calls replayed, "
        f"{comparison.replications} replications, staffing {replay.staffing!r}"
    )
    print("aband% = share of queued calls that hung up; wait = mean wait of served calls (s)")
    print(comparison.table())
    if args.calls_csv is not None:
        columns = comparison.calls.columns()
        try:
            with args.calls_csv.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(
                    zip(*(values.tolist() for values in columns.values()), strict=True)
                )
        except OSError as exc:
            raise InvalidInputError(
                f"--calls-csv: got {_shown(str(args.calls_csv))} (cannot be written: "
                f"{exc.strerror})",
                [("--calls-csv", str(args.calls_csv)[:_SHOWN], "a writable file path")],
            ) from None
        print(f"per-call outcomes: {args.calls_csv} ({len(columns['call_id'])} rows)")


if __name__ == "__main__":
    sys.exit(main())
