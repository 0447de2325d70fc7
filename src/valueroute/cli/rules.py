"""``valueroute rules``: check a rule file, or dry-run it on sample tasks."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from valueroute._documents import MAX_NESTING, json_too_deep
from valueroute.calendar import BusinessCalendar, load_calendar
from valueroute.cli import MAX_SECONDS, number, policy_option, shown
from valueroute.cli.output import csv_text, name_cell, table, terminal_width
from valueroute.errors import InvalidInputError
from valueroute.models import TaskSpec
from valueroute.rules import RuleSet, dry_run, load_rules, parse_rules
from valueroute.scoring import policy_by_name

__all__ = ["register", "run_check", "run_dry_run"]

_MAX_TASK_LINES = 100_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="check a rule file or dry-run it on sample tasks",
        description="Validate classification and prioritisation rules, or show the "
        "dispatch order they produce for a list of tasks.",
    )
    commands = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)

    check = commands.add_parser(
        "check",
        help="load and compile a rule file; report its rules or the first problem",
    )
    check.add_argument("rules", type=Path, help="rule file (.toml, .json, .yaml)")
    _calendar_option(check)
    check.set_defaults(run=run_check)

    dry = commands.add_parser(
        "dry-run",
        help="apply rules and a policy to tasks (JSON lines) and print the dispatch order",
    )
    dry.add_argument("rules", type=Path, help="rule file (.toml, .json, .yaml)")
    dry.add_argument("tasks", type=Path, help="tasks, one JSON TaskSpec per line")
    _calendar_option(dry)
    dry.add_argument(
        "--policy",
        default="ramp",
        type=policy_option,
        metavar="NAME[:KEY=VALUE,...]",
        help="scoring policy: a name, or a name with parameters such as "
        "aging_priority:seconds_per_point=30 (default: ramp, which is priority plus any "
        "rule-started ramp)",
    )
    dry.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a policy parameter, e.g. --param seconds_per_point=30 (repeatable; default: none, "
        "the policy's own defaults)",
    )
    dry.add_argument(
        "--at",
        type=number(low=-MAX_SECONDS, high=MAX_SECONDS, unit=" of seconds"),
        default=None,
        help="moment of the dispatch in seconds (default: the latest task creation time)",
    )
    shape = dry.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print one JSON document")
    shape.add_argument("--csv", action="store_true", help="print the dispatch order as CSV")
    dry.set_defaults(run=run_dry_run)


def _calendar_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calendar",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a business calendar file (.toml, .json, .yaml) the rules may name, by its name "
        "or else its file name without the suffix (repeatable; default: none)",
    )


def _rules_of(args: argparse.Namespace) -> Any:
    """The rule file compiled with the calendars given (``--calendar``)."""
    calendars: dict[str, BusinessCalendar] = {}
    for path in args.calendar:
        calendar = load_calendar(path)
        if calendar.name in calendars:
            raise InvalidInputError(
                f"--calendar: two calendars named {shown(calendar.name)} (expected one file "
                "per name)"
            )
        calendars[calendar.name] = calendar
    return load_rules(args.rules, calendars=calendars or None)


def _policy_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--param: got {shown(pair)} (expected KEY=JSON)")
        if json_too_deep(text, MAX_NESTING):
            raise InvalidInputError(
                f"--param {shown(key)}: got JSON nested too deeply to read (expected KEY=JSON "
                f"with a policy parameter's value, at most {MAX_NESTING} levels deep)"
            )
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text  # a bare word is a string
    return params


def _read_tasks(path: Path) -> list[TaskSpec]:
    name = shown(str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInputError(f"tasks file {name}: cannot be read ({reason})") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"tasks file {name}: cannot be read (not UTF-8 text, byte {exc.start}; expected "
            "UTF-8 JSON lines)"
        ) from None
    if len(lines) > _MAX_TASK_LINES:
        raise InvalidInputError(
            f"tasks file {name}: {len(lines)} lines (expected at most {_MAX_TASK_LINES})"
        )
    specs: list[TaskSpec] = []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            specs.append(TaskSpec.model_validate_json(line))
        except InvalidInputError as exc:
            raise InvalidInputError(f"tasks file {name}, line {line_number}: {exc}") from None
    return specs


def run_check(args: argparse.Namespace) -> int:
    path: Path = args.rules
    compiled = _rules_of(args)
    model: RuleSet = parse_rules(path.read_bytes(), format=_format(path))
    print(f"{path.name}: rule set {compiled.name!r} version {compiled.version} is valid")
    for stage_name in ("classification", "prioritisation"):
        stage = getattr(model, stage_name)
        print(f"  {stage_name} ({stage.mode} match): {len(stage.rules)} rules")
        for rule in stage.rules:
            kind = f"decision table, {len(rule.rows)} rows" if rule.rows is not None else "rule"
            print(f"    - {rule.name} ({kind})")
    return 0


def _format(path: Path) -> Any:
    return {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix.lower(), "toml")


def run_dry_run(args: argparse.Namespace) -> int:
    compiled = _rules_of(args)
    params = _policy_params(args.param)
    if isinstance(args.policy, dict):
        given = {key: value for key, value in args.policy.items() if key not in ("policy", "label")}
        twice = sorted(set(given) & set(params))
        if twice:
            raise InvalidInputError(
                f"--param {shown(twice[0])}: also given in --policy (expected each parameter once)"
            )
        name = args.policy["policy"]
        params = given | params
    else:
        name = args.policy
    policy = policy_by_name(name, **params)
    specs = _read_tasks(args.tasks)
    if args.at is None:
        now = max((spec.created for spec in specs if spec.created is not None), default=0.0)
    else:
        now = float(args.at)
    rows = dry_run(compiled, policy, specs, now=now)
    if args.json:
        document = {
            "rules": {"name": compiled.name, "version": compiled.version},
            "policy": repr(policy),
            "at": now,
            "order": [
                {
                    "rank": row.rank,
                    "type": row.task.type,
                    "department": row.task.department,
                    "process": row.task.process,
                    "skills": dict(row.task.skills),
                    "due": row.task.due,
                    **row.explanation.to_dict(),
                }
                for row in rows
            ],
        }
        print(json.dumps(document, indent=2, allow_nan=False))
        return 0
    if args.csv:
        header = ["rank", "task", "type", "department", "priority", "value", "due_in_seconds"]
        records = [
            [
                row.rank,
                row.task.id,
                row.task.type,
                row.task.department,
                row.task.priority,
                row.task.value,
                None if row.task.due is None else row.task.due - now,
                row.score,
                ";".join(row.explanation.rules),
            ]
            for row in rows
        ]
        print(csv_text([*header, "score", "rules"], records), end="")
        return 0
    print(
        textwrap.fill(
            f"Dispatch order at t={now:g} s: rules {name_cell(compiled.name)!r} "
            f"v{compiled.version}, {policy!r}",
            width=terminal_width(),
        )
    )
    cells = []
    for row in rows:
        task = row.task
        due_in = "-" if task.due is None else f"{task.due - now:.0f}"
        cells.append(
            [
                str(row.rank),
                task.id,
                task.type,
                task.department or "-",
                str(task.priority),
                f"{task.value:.2f}",
                due_in,
                f"{row.score:.3f}",
            ]
        )
    titles = ["#", "task", "type", "department", "priority", "value", "due in s", "score"]
    print(table(titles, cells, names=2, text=(2, 3)))
    print("\nrules that matched:")
    for row in rows:
        print(
            textwrap.fill(
                f"{row.rank}. {row.task.id}: {', '.join(row.explanation.rules) or '-'}",
                width=terminal_width(),
                initial_indent="  ",
                subsequent_indent="     ",
            )
        )
    return 0
