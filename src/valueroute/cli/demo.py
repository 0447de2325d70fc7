"""``valueroute demo``: submit a handful of tasks and show the dispatch order."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from valueroute.cli import MAX_SECONDS, number, shown
from valueroute.cli.output import csv_text, table
from valueroute.models import TaskSpec
from valueroute.scoring import AgingPriority
from valueroute.tasklist import TaskList

__all__ = ["register", "run"]

_DEMO_TASKS: tuple[dict[str, Any], ...] = (
    {"id": "call-1", "type": "sales", "channel": "voice", "priority": 2, "value": 80.0},
    {"id": "mail-1", "type": "claim", "channel": "email", "priority": 1, "value": 300.0},
    {"id": "call-2", "type": "support", "channel": "voice", "priority": 5, "value": 20.0},
    {"id": "chat-1", "type": "support", "channel": "chat", "priority": 3, "value": 15.0},
    {"id": "mail-2", "type": "claim", "channel": "email", "priority": 1, "value": 900.0},
    {"id": "case-1", "type": "complaint", "channel": "backoffice", "priority": 4, "value": 500.0},
    {"id": "call-3", "type": "sales", "channel": "voice", "priority": 2, "value": 120.0},
    {"id": "chat-2", "type": "support", "channel": "chat", "priority": 0, "value": 10.0},
)


_LAST_ARRIVAL = 60.0 * (len(_DEMO_TASKS) - 1)


def _moment(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and _LAST_ARRIVAL <= value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(
            f"got {shown(text)} (expected finite seconds >= {_LAST_ARRIVAL:g}, when the last "
            f"sample task arrives, and <= {MAX_SECONDS:g})"
        )
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="submit sample tasks and print the order they would be dispatched in",
        description=(
            "Submit sample tasks one minute apart and print the global dispatch order "
            "under 'priority plus waiting time' (one priority point = N seconds)."
        ),
    )
    parser.add_argument(
        "--seconds-per-point",
        type=number(low=0.0, low_open=True, unit=" of seconds"),
        default=120.0,
        help="waiting time one priority point is worth, in seconds (default: 120)",
    )
    parser.add_argument(
        "--at",
        type=_moment,
        default=600.0,
        help="moment of the dispatch, in seconds after the first arrival; at least "
        f"{_LAST_ARRIVAL:g}, when the last sample task arrives (default: 600)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--json", action="store_true", help="print the order as one JSON object instead of a table"
    )
    shape.add_argument("--csv", action="store_true", help="print the order as CSV")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = AgingPriority(seconds_per_point=args.seconds_per_point)
    tasks = TaskList(policy)
    for minute, fields in enumerate(_DEMO_TASKS):
        tasks.add(TaskSpec(**fields), now=60.0 * minute)
    now = float(args.at)
    order = [
        {
            "rank": rank,
            "task": task.id,
            "type": task.type,
            "channel": task.channel,
            "priority": task.priority,
            "age_seconds": task.age(now),
            "score": score,
        }
        for rank, (task, score) in enumerate(tasks.ranked(now), start=1)
    ]
    if args.json:
        print(json.dumps({"at": now, "policy": repr(policy), "order": order}, indent=2))
        return 0
    if args.csv:
        print(csv_text(list(order[0]), [list(row.values()) for row in order]), end="")
        return 0
    print(f"Dispatch order at t={now:g} s under {policy!r}:")
    rows = [
        [
            str(row["rank"]),
            str(row["task"]),
            str(row["type"]),
            str(row["channel"]),
            str(row["priority"]),
            f"{row['age_seconds']:.0f}",
            f"{row['score']:.3f}",
        ]
        for row in order
    ]
    titles = ["#", "task", "type", "channel", "priority", "age s", "score (points)"]
    print(table(titles, rows, names=4))
    return 0
