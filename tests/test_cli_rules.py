"""``valueroute rules check`` and ``valueroute rules dry-run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valueroute.cli import main
from valueroute.models import TaskSpec
from valueroute.rules import dry_run, load_rules
from valueroute.scoring import AgingPriority

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "rules"
RULES = str(EXAMPLES / "claims.toml")
TASKS = str(EXAMPLES / "tasks.jsonl")


def test_check_lists_the_rules_of_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", RULES]) == 0
    out = capsys.readouterr().out
    assert "rule set 'claims' version 2026.11 is valid" in out
    assert "customer tier (decision table, 3 rows)" in out


def test_check_reports_the_rule_and_field_of_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n[[prioritisation.rules]]\nname = "greedy"\n'
        'when = { field = "attributes.subject", op = "matches", value = "(a+)\\\\1" }\n'
        "then = { priority = 1 }\n"
    )
    assert main(["rules", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "greedy" in err
    assert "attributes.subject" in err


def test_dry_run_json_matches_the_library_order(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "rules",
            "dry-run",
            RULES,
            TASKS,
            "--policy",
            "aging_priority",
            "--param",
            "seconds_per_point=600",
            "--at",
            "5400",
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    specs = [TaskSpec.model_validate_json(line) for line in Path(TASKS).read_text().splitlines()]
    rows = dry_run(load_rules(RULES), AgingPriority(600), specs, now=5400.0)
    assert [item["task_id"] for item in document["order"]] == [row.task.id for row in rows]
    assert document["at"] == 5400.0
    first = document["order"][0]
    assert sum(term["contribution"] for term in first["terms"]) == pytest.approx(first["score"])


def test_dry_run_table_names_each_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "dry-run", RULES, TASKS]) == 0
    out = capsys.readouterr().out
    for spec_id in ("c-101", "c-106", "q-201"):
        assert spec_id in out


def test_dry_run_reports_a_bad_task_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "ok"}\n{"id": "bad", "value": -5}\n')
    assert main(["rules", "dry-run", RULES, str(tasks)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "value" in err


def test_dry_run_reports_an_unknown_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "dry-run", RULES, TASKS, "--policy", "lottery"]) == 2
    assert "lottery" in capsys.readouterr().err


CALENDAR_RULES = """
name = "office claims"
[[classification.rules]]
name = "claims due in a working day"
when = { field = "type", op = "==", value = "claim" }
then = { calendar = "office", due_in = "8 business hours" }
"""
OFFICE = """
timezone = "UTC"
[hours]
mon = [["09:00", "17:00"]]
tue = [["09:00", "17:00"]]
wed = [["09:00", "17:00"]]
thu = [["09:00", "17:00"]]
fri = [["09:00", "17:00"]]
"""


def test_rules_naming_a_calendar_load_with_the_calendar_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from valueroute.calendar import load_calendar

    rules = tmp_path / "office_rules.toml"
    rules.write_text(CALENDAR_RULES)
    calendar = tmp_path / "office.toml"  # named by its file name
    calendar.write_text(OFFICE)
    assert main(["rules", "check", str(rules)]) == 2
    assert "unknown calendar 'office'" in capsys.readouterr().err
    assert main(["rules", "check", str(rules), "--calendar", str(calendar)]) == 0
    assert "is valid" in capsys.readouterr().out

    friday_1630 = 1797006600.0  # Friday 11 December 2026, 16:30 UTC
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        json.dumps({"id": "c1", "type": "claim", "created": friday_1630})
        + "\n"
        + json.dumps({"id": "m1", "type": "mail", "created": friday_1630})
        + "\n"
    )
    code = main(["rules", "dry-run", str(rules), str(tasks), "--calendar", str(calendar), "--json"])
    assert code == 0
    order = {row["task_id"]: row for row in json.loads(capsys.readouterr().out)["order"]}
    office = load_calendar(calendar)
    assert order["c1"]["due"] == office.add(friday_1630, 8 * 3600)
    # Half an hour on Friday, seven and a half from Monday 09:00.
    assert order["c1"]["due"] == 1797265800.0  # Monday 14 December, 16:30 UTC
    assert order["m1"]["due"] is None

    twice = tmp_path / "again.toml"
    twice.write_text('name = "office"\n' + OFFICE)
    code = main(
        ["rules", "check", str(rules), "--calendar", str(calendar), "--calendar", str(twice)]
    )
    assert code == 2
    assert "two calendars named 'office'" in capsys.readouterr().err
