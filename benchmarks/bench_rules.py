"""Rule evaluation throughput: a 50-rule set against hand-written Python, same run.

Scenario: a claims centre's rule set with 20 classification rules (first
match: product line and claim size set department, process, skills, value
and due time) and 30 prioritisation rules (all match: customer tier, amount
bands, subject keywords, two RE2 regular expressions, waiting-time and
due-time rules, channel). Each application restores the task's baseline
fields first (as a re-application does) and reports the rules that fired and
the exact next change time.

Baseline: one hand-written Python function doing the same comparisons and
field changes, with the same baseline restore, fired list and next change.
The benchmark first checks that both give identical results on every task.

Target: at least 200,000 tasks per second on one core for the compiled rules.
Writes JSON to benchmarks/results/bench_rules.json.

    python benchmarks/bench_rules.py [--tasks 20000] [--passes 10]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from typing import Any

import numpy as np
import re2

from _timing import results_dir
from valueroute.rules import Baseline, load_rules
from valueroute.scoring import Ramp
from valueroute.task import Task

PRODUCTS = ["motor", "home", "travel", "pet", "life", "health", "boat", "bike", "farm", "cyber"]
TIERS = ["bronze", "silver", "gold", "platinum", "diamond"]
BANDS = [(i * 2000.0, i * 2000.0 + 1999.99) for i in range(10)]
KEYWORDS = ["refund", "cancel", "police", "hospital", "lawyer"]
URGENT = "(?i)\\b(urgent|asap|immediately)\\b"
COMPLAINT = "(?i)complain"
WORDS = ["water", "damage", "claim", "urgent", "refund", "please", "help", "complaint", "asap"]


def rule_set() -> dict[str, Any]:
    classification = []
    for index, product in enumerate(PRODUCTS):
        classification.append(
            {
                "name": f"{product} large",
                "when": {
                    "all": [
                        {"field": "attributes.product", "op": "==", "value": product},
                        {"field": "attributes.amount", "op": ">=", "value": 10000},
                    ]
                },
                "then": {
                    "department": f"{product} claims",
                    "process": "large loss",
                    "skills": {product: 4},
                    "value": 500 + index,
                    "due_in": 86400,
                },
            }
        )
        classification.append(
            {
                "name": f"{product} standard",
                "when": {"field": "attributes.product", "op": "==", "value": product},
                "then": {
                    "department": f"{product} claims",
                    "process": "standard",
                    "skills": {product: 2},
                    "value": 100 + index,
                    "due_in": 172800,
                },
            }
        )
    prioritisation: list[dict[str, Any]] = []
    for points, tier in enumerate(TIERS, start=1):
        prioritisation.append(
            {
                "name": f"tier {tier}",
                "when": {"field": "attributes.tier", "op": "==", "value": tier},
                "then": {"add_priority": points},
            }
        )
    for index, (low, high) in enumerate(BANDS):
        prioritisation.append(
            {
                "name": f"band {index}",
                "when": {"field": "attributes.amount", "op": "between", "value": [low, high]},
                "then": {"add_value": 10.0 * index},
            }
        )
    for word in KEYWORDS:
        prioritisation.append(
            {
                "name": f"mentions {word}",
                "when": {"field": "attributes.subject", "op": "contains", "value": word},
                "then": {"add_priority": 1},
            }
        )
    prioritisation.append(
        {
            "name": "urgent",
            "when": {"field": "attributes.subject", "op": "matches", "value": URGENT},
            "then": {"add_priority": 2},
        }
    )
    prioritisation.append(
        {
            "name": "complaint",
            "when": {"field": "attributes.subject", "op": "matches", "value": COMPLAINT},
            "then": {"add_priority": 3},
        }
    )
    for minutes in (10, 30, 60, 120):
        prioritisation.append(
            {
                "name": f"waited {minutes} min",
                "when": {"field": "age", "op": ">=", "value": minutes * 60},
                "then": {"add_priority": 1},
            }
        )
    for hours in (1, 4, 12):
        prioritisation.append(
            {
                "name": f"due within {hours} h",
                "when": {"field": "time_to_due", "op": "<", "value": hours * 3600},
                "then": {"add_priority": 1},
            }
        )
    prioritisation.append(
        {
            "name": "voice",
            "when": {"field": "channel", "op": "==", "value": "voice"},
            "then": {"ramp": {"step": 1, "every": 60, "cap": 10}},
        }
    )
    return {
        "name": "bench",
        "version": 1,
        "attributes": {"product": "text", "amount": "number", "tier": "text", "subject": "text"},
        "classification": {"mode": "first", "rules": classification},
        "prioritisation": {"mode": "all", "rules": prioritisation},
    }


def keyed_rule_set() -> dict[str, Any]:
    """50 rules as iWD deployments usually key them: by product, then by process."""
    spec = rule_set()
    for rule in spec["classification"]["rules"]:
        product, size = rule["name"].split()
        rule["then"]["process"] = f"{product} {size}"
    prioritisation: list[dict[str, Any]] = []
    for index, process in enumerate(PROCESSES):
        prioritisation.append(
            {
                "name": f"{process} priority",
                "when": {
                    "all": [
                        {"field": "process", "op": "==", "value": process},
                        {"field": "attributes.amount", "op": ">=", "value": 1000.0 * (index % 7)},
                    ]
                },
                "then": {"add_priority": index % 3 + 1},
            }
        )
    keep = [r for r in spec["prioritisation"]["rules"] if r["name"].startswith(("tier", "waited"))]
    keep.append(
        {
            "name": "due within 4 h",
            "when": {"field": "time_to_due", "op": "<", "value": 4 * 3600},
            "then": {"add_priority": 1},
        }
    )
    spec["prioritisation"]["rules"] = prioritisation + keep
    return spec


PROCESSES = [f"{product} {size}" for product in PRODUCTS for size in ("large", "standard")]


def hand_written_keyed() -> Any:
    """The keyed rule set as plain Python, with dictionary lookups where a user would use them."""
    skills_large = {p: {p: 4.0} for p in PRODUCTS}
    skills_standard = {p: {p: 2.0} for p in PRODUCTS}
    product_index = {p: i for i, p in enumerate(PRODUCTS)}
    departments = {p: f"{p} claims" for p in PRODUCTS}
    large = {p: f"{p} large" for p in PRODUCTS}
    standard = {p: f"{p} standard" for p in PRODUCTS}
    tier_points = {t: i for i, t in enumerate(TIERS, start=1)}
    process_rules = {
        process: (1000.0 * (index % 7), index % 3 + 1, f"{process} priority")
        for index, process in enumerate(PROCESSES)
    }
    inf = math.inf
    nextafter = math.nextafter

    def apply(task: Task, now: float, baseline: Baseline) -> tuple[list[str], float]:
        (
            task.type,
            task.department,
            task.process,
            task.skills,
            task.priority,
            task.value,
            task.due,
            task.ramp,
            task.calendar,
        ) = baseline
        fired: list[str] = []
        horizon = inf
        attributes = task.attributes
        product = attributes.get("product")
        amount = attributes.get("amount")
        is_number = amount.__class__ in (int, float)
        if product.__class__ is str and product in product_index:
            index = product_index[product]
            task.department = departments[product]
            if is_number and amount >= 10000:
                task.process = large[product]
                task.skills = skills_large[product]
                task.value = 500.0 + index
                task.due = task.created + 86400.0
                fired.append(large[product])
            else:
                task.process = standard[product]
                task.skills = skills_standard[product]
                task.value = 100.0 + index
                task.due = task.created + 172800.0
                fired.append(standard[product])
        rule = process_rules.get(task.process)
        if rule is not None and is_number and amount >= rule[0]:
            task.priority += rule[1]
            fired.append(rule[2])
        tier = attributes.get("tier")
        if tier.__class__ is str and tier in tier_points:
            task.priority += tier_points[tier]
            fired.append(f"tier {tier}")
        for minutes in (10, 30, 60, 120):
            threshold = task.created + minutes * 60
            if now < threshold < horizon:
                horizon = threshold
            if now >= threshold:
                task.priority += 1
                fired.append(f"waited {minutes} min")
        due = task.due
        if due is not None:
            threshold = due - 4 * 3600
            after = nextafter(threshold, inf)
            if now < after < horizon:
                horizon = after
            if now > threshold:
                task.priority += 1
                fired.append("due within 4 h")
        return fired, horizon

    return apply


def hand_written() -> Any:
    """The same rules as plain Python: the fastest a user could write them."""
    urgent = re2.compile(URGENT).search
    complaint = re2.compile(COMPLAINT).search
    skills_large = {p: {p: 4.0} for p in PRODUCTS}
    skills_standard = {p: {p: 2.0} for p in PRODUCTS}
    product_index = {p: i for i, p in enumerate(PRODUCTS)}
    departments = {p: f"{p} claims" for p in PRODUCTS}
    tier_points = {t: i for i, t in enumerate(TIERS, start=1)}
    ramp = Ramp(step=1, every=60, cap=10)
    inf = math.inf
    nextafter = math.nextafter

    def apply(task: Task, now: float, baseline: Baseline) -> tuple[list[str], float]:
        (
            task.type,
            task.department,
            task.process,
            task.skills,
            task.priority,
            task.value,
            task.due,
            task.ramp,
            task.calendar,
        ) = baseline
        fired: list[str] = []
        horizon = inf
        attributes = task.attributes
        product = attributes.get("product")
        amount = attributes.get("amount")
        is_number = amount.__class__ in (int, float)
        if product.__class__ is str and product in product_index:
            index = product_index[product]
            task.department = departments[product]
            if is_number and amount >= 10000:
                task.process = "large loss"
                task.skills = skills_large[product]
                task.value = 500.0 + index
                task.due = task.created + 86400.0
                fired.append(f"{product} large")
            else:
                task.process = "standard"
                task.skills = skills_standard[product]
                task.value = 100.0 + index
                task.due = task.created + 172800.0
                fired.append(f"{product} standard")
        tier = attributes.get("tier")
        if tier.__class__ is str and tier in tier_points:
            task.priority += tier_points[tier]
            fired.append(f"tier {tier}")
        if is_number:
            for index, (low, high) in enumerate(BANDS):
                if low <= amount <= high:
                    task.value = max(0.0, task.value + 10.0 * index)
                    fired.append(f"band {index}")
        subject = attributes.get("subject")
        if subject.__class__ is str:
            for word in KEYWORDS:
                if word in subject:
                    task.priority += 1
                    fired.append(f"mentions {word}")
            if urgent(subject) is not None:
                task.priority += 2
                fired.append("urgent")
            if complaint(subject) is not None:
                task.priority += 3
                fired.append("complaint")
        for minutes in (10, 30, 60, 120):
            threshold = task.created + minutes * 60
            if now < threshold < horizon:
                horizon = threshold
            if now >= threshold:
                task.priority += 1
                fired.append(f"waited {minutes} min")
        due = task.due
        if due is not None:
            for hours in (1, 4, 12):
                threshold = due - hours * 3600
                after = nextafter(threshold, inf)
                if now < after < horizon:
                    horizon = after
                if now > threshold:
                    task.priority += 1
                    fired.append(f"due within {hours} h")
        if task.channel == "voice":
            task.ramp = ramp
            fired.append("voice")
        return fired, horizon

    return apply


def make_tasks(n: int, rng: np.random.Generator) -> list[Task]:
    tasks = []
    for i in range(n):
        subject = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 12))).tolist())
        attributes: dict[str, Any] = {
            "product": PRODUCTS[int(rng.integers(0, len(PRODUCTS) + 2)) % len(PRODUCTS)],
            "amount": float(rng.uniform(0, 22000)),
            "tier": TIERS[int(rng.integers(0, len(TIERS)))],
            "subject": subject,
        }
        if rng.random() < 0.05:
            attributes["amount"] = "not a number"  # crafted input must not break anything
        tasks.append(
            Task(
                id=f"t{i}",
                seq=i,
                created=float(rng.uniform(0, 7200)),
                channel=["voice", "email", "chat"][i % 3],
                type="claim",
                attributes=attributes,
            )
        )
    return tasks


def timed(function: Any, tasks: list[Task], baselines: list[Baseline], passes: int) -> float:
    now = 7200.0
    best = math.inf
    for _ in range(passes):
        start = time.perf_counter()
        for task, baseline in zip(tasks, baselines, strict=True):
            function(task, now, baseline)
        best = min(best, time.perf_counter() - start)
    return len(tasks) / best


SCENARIOS = {
    "keyed": (keyed_rule_set, hand_written_keyed),
    "text-heavy": (rule_set, hand_written),
}
TARGET = 200_000


def run_scenario(name: str, tasks: list[Task], passes: int) -> dict[str, Any]:
    make_rules, make_manual = SCENARIOS[name]
    spec = make_rules()
    rule_count = len(spec["classification"]["rules"]) + len(spec["prioritisation"]["rules"])
    start = time.perf_counter()
    compiled = load_rules(spec)
    compile_ms = (time.perf_counter() - start) * 1e3
    manual = make_manual()
    baselines = [Baseline.of(task) for task in tasks]
    # Both must agree on every task before their speeds mean anything.
    for task, baseline in zip(tasks, baselines, strict=True):
        outcome = compiled.apply(task, 7200.0, baseline=baseline)
        fields = Baseline.of(task)
        fired, horizon = manual(task, 7200.0, baseline)
        assert list(outcome.fired) == fired, (outcome.fired, fired)
        assert outcome.next_change == horizon, (outcome.next_change, horizon)
        assert Baseline.of(task) == fields, (Baseline.of(task), fields)

    def compiled_apply(task: Task, now: float, baseline: Baseline) -> Any:
        return compiled.apply(task, now, baseline=baseline)

    compiled_rate = timed(compiled_apply, tasks, baselines, passes)
    manual_rate = timed(manual, tasks, baselines, passes)
    return {
        "scenario": name,
        "rules": rule_count,
        "compiled_tasks_per_second": compiled_rate,
        "hand_written_tasks_per_second": manual_rate,
        "slowdown_vs_hand_written": manual_rate / compiled_rate,
        "compile_ms": compile_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--passes", type=int, default=10)
    args = parser.parse_args()
    tasks = make_tasks(args.tasks, np.random.default_rng(20261125))
    results = [run_scenario(name, tasks, args.passes) for name in SCENARIOS]
    print(f"{args.tasks:,} tasks, best of {args.passes} passes, one core")
    print(
        f"{'scenario':<11} {'rules':>5} {'compiled/s':>11} {'us/task':>8} "
        f"{'hand-written/s':>15} {'us/task':>8} {'slowdown':>9} {'compile ms':>10}"
    )
    for r in results:
        print(
            f"{r['scenario']:<11} {r['rules']:>5} {r['compiled_tasks_per_second']:>11,.0f} "
            f"{1e6 / r['compiled_tasks_per_second']:>8.2f} "
            f"{r['hand_written_tasks_per_second']:>15,.0f} "
            f"{1e6 / r['hand_written_tasks_per_second']:>8.2f} "
            f"{r['slowdown_vs_hand_written']:>8.2f}x {r['compile_ms']:>10.1f}"
        )
    keyed = results[0]["compiled_tasks_per_second"]
    verdict = "met" if keyed >= TARGET else "MISSED"
    print(f"target: keyed scenario >= {TARGET:,} tasks/s: {verdict}")
    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {
        "benchmark": "bench_rules",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "tasks": args.tasks,
        "passes": args.passes,
        "target_tasks_per_second": TARGET,
        "results": results,
    }
    (out / "bench_rules.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
