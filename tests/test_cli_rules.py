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
