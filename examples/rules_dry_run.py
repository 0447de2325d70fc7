"""Dry-run a rule set: classify sample claims, then show the dispatch order and why.

Run from anywhere:

    python examples/rules_dry_run.py

The rules (examples/rules/claims.toml) classify claims by subject and amount,
raise priority by customer tier and waiting time, and start a priority ramp
for work close to its due time. The policy is an iWD-style ramp: priority
plus any ramp a rule started.
"""

from __future__ import annotations

from pathlib import Path

from valueroute.models import TaskSpec
from valueroute.rules import dry_run, load_rules
from valueroute.scoring import PriorityRamp

HERE = Path(__file__).resolve().parent


def main() -> None:
    rules = load_rules(HERE / "rules" / "claims.toml")
    specs = [
        TaskSpec.model_validate_json(line)
        for line in (HERE / "rules" / "tasks.jsonl").read_text().splitlines()
        if line.strip()
    ]
    now = 5400.0  # an hour and a half after the first claim arrived
    rows = dry_run(rules, PriorityRamp(), specs, now=now)
    print(f"Rule set {rules.name!r} version {rules.version}, order at t={now:g} s")
    for row in rows:
        task = row.task
        print(
            f"{row.rank}. {task.id:<6} {task.type:<13} priority {task.priority:>2}  "
            f"score {row.score:>5g}  rules: {', '.join(row.explanation.rules)}"
        )
    top = rows[0].explanation
    print()
    print(f"Why {top.task_id} is first:")
    for term in top.terms:
        print(f"  {term.name:<10} {term.contribution:+g}")
    print(f"  {'= score':<10} {top.score:g}")


if __name__ == "__main__":
    main()
