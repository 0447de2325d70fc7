"""Requirement expressions over agent attributes against a hand-written lambda, same run.

Scenario: 10,000 agents with the attributes a contact centre gives them
(language, region, trainee flag, years of service, a set of languages, team),
drawn from a seeded generator; some agents lack some attributes. The
requirement is the guide's example joined into one expression::

    language == "fr" and region in ["EU", "UK"] and not trainee and years >= 2
    or "spanish" in languages and matches(team, "^support-")

Measured:

- *new group*: what a pool pays when a task with a requirement no one has
  used before arrives: compile the text and evaluate it over every agent.
  Target: under 50 ms for 10,000 agents.
- *evaluation*: the compiled expression over every agent (through
  ``Expression.predicate``, and through the ``Expression`` call), against
  the baseline: a hand-written Python lambda of the same condition, checked
  to give the same answer for every agent.
- *compile*: compiling the text alone, and again while it is in use (a lookup).
- *distinct texts*: the worst case for patterns: ``matches(team, "^support-")``
  over agents whose team texts are all different, so that no answer is
  remembered and every agent costs one RE2 search. Baseline: the same search
  with Python's ``re`` (backtracking, so not safe for patterns from users).

Writes JSON to benchmarks/results/bench_expressions.json.

    python benchmarks/bench_expressions.py [--agents 10000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from _timing import best_seconds, results_dir
from valueroute.expressions import compile_expression

REQUIREMENT = (
    'language == "fr" and region in ["EU", "UK"] and not trainee and years >= 2 '
    'or "spanish" in languages and matches(team, "^support-")'
)
TARGET_MS = 50.0
LANGUAGES = ["fr", "en", "de", "spanish", "it", "nl"]
REGIONS = ["EU", "UK", "US", "APAC"]
TEAMS = ["support-billing", "support-tech", "sales", "retention", "backoffice"]
_SUPPORT = re.compile("^support-")


def hand_written(attributes: Mapping[str, Any]) -> bool:
    """The requirement as one would write it by hand for data known to be well typed."""
    get = attributes.get
    return (
        get("language") == "fr"
        and get("region") in ("EU", "UK")
        and get("trainee") is not True
        and (years := get("years")) is not None
        and years >= 2
    ) or (
        "spanish" in get("languages", ())
        and (team := get("team")) is not None
        and _SUPPORT.search(team) is not None
    )


def make_agents(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    agents = []
    for _ in range(count):
        attributes: dict[str, Any] = {
            "language": LANGUAGES[int(rng.integers(len(LANGUAGES)))],
            "region": REGIONS[int(rng.integers(len(REGIONS)))],
            "trainee": bool(rng.random() < 0.2),
            "years": int(rng.integers(0, 15)),
            "languages": sorted(
                {LANGUAGES[int(i)] for i in rng.integers(len(LANGUAGES), size=int(rng.integers(4)))}
            ),
            "team": TEAMS[int(rng.integers(len(TEAMS)))],
        }
        for name in list(attributes):
            if rng.random() < 0.05:  # some agents lack some attributes
                del attributes[name]
        agents.append(attributes)
    return agents


def evaluate_all(test: Callable[[Mapping[str, Any]], bool], agents: list[dict[str, Any]]) -> int:
    return sum(1 for attributes in agents if test(attributes))


def new_group(agents: list[dict[str, Any]]) -> int:
    # Nothing else holds the expression, so each call compiles it anew.
    expression = compile_expression(REQUIREMENT)
    return evaluate_all(expression.predicate, agents)


PATTERN_REQUIREMENT = 'matches(team, "^support-")'


def distinct_teams(count: int) -> list[dict[str, Any]]:
    return [{"team": f"{'support' if i % 2 else 'sales'}-{i}"} for i in range(count)]


def pattern_group(agents: list[dict[str, Any]]) -> int:
    return evaluate_all(compile_expression(PATTERN_REQUIREMENT).predicate, agents)


def python_re(attributes: Mapping[str, Any]) -> bool:
    team = attributes.get("team")
    return team is not None and _SUPPORT.search(team) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    agents = make_agents(args.agents, np.random.default_rng(20261202))

    expression = compile_expression(REQUIREMENT)
    mismatches = [a for a in agents if expression(a) is not hand_written(a)]
    if mismatches:
        raise SystemExit(f"compiled and hand-written disagree on {mismatches[0]!r}")
    eligible = evaluate_all(hand_written, agents)
    del expression
    gc.collect()

    new_group_s = best_seconds(lambda: new_group(agents), args.repeats)
    compile_s = best_seconds(lambda: compile_expression(REQUIREMENT), args.repeats)
    expression = compile_expression(REQUIREMENT)
    lookup_s = best_seconds(lambda: compile_expression(REQUIREMENT), args.repeats)
    predicate_s = best_seconds(lambda: evaluate_all(expression.predicate, agents), args.repeats)
    call_s = best_seconds(lambda: evaluate_all(expression, agents), args.repeats)
    baseline_s = best_seconds(lambda: evaluate_all(hand_written, agents), args.repeats)

    teams = distinct_teams(args.agents)
    if pattern_group(teams) != evaluate_all(python_re, teams):
        raise SystemExit("compiled pattern and Python's re disagree")
    distinct_s = best_seconds(lambda: pattern_group(teams), args.repeats)
    distinct_re_s = best_seconds(lambda: evaluate_all(python_re, teams), args.repeats)

    result = {
        "agents": args.agents,
        "eligible": eligible,
        "new_group_ms": new_group_s * 1e3,
        "compile_ms": compile_s * 1e3,
        "compile_in_use_ms": lookup_s * 1e3,
        "predicate_ms": predicate_s * 1e3,
        "call_ms": call_s * 1e3,
        "hand_written_ms": baseline_s * 1e3,
        "predicate_vs_hand_written": predicate_s / baseline_s,
        "call_vs_hand_written": call_s / baseline_s,
        "target_new_group_ms": TARGET_MS * args.agents / 10_000,
        "distinct_texts_new_group_ms": distinct_s * 1e3,
        "distinct_texts_python_re_ms": distinct_re_s * 1e3,
        "distinct_texts_vs_python_re": distinct_s / distinct_re_s,
    }
    print(f"{args.agents:,} agents ({eligible:,} eligible), best of {args.repeats}, one core")
    print(f"requirement: {REQUIREMENT}")
    print(f"{'new group (compile + evaluate all)':<38} {result['new_group_ms']:>8.2f} ms")
    print(f"{'compile only':<38} {result['compile_ms']:>8.3f} ms")
    print(f"{'compile, same text still in use':<38} {result['compile_in_use_ms']:>8.4f} ms")
    print(
        f"{'evaluate all, Expression.predicate':<38} {result['predicate_ms']:>8.2f} ms "
        f"({result['predicate_vs_hand_written']:.2f}x hand-written)"
    )
    print(
        f"{'evaluate all, Expression call':<38} {result['call_ms']:>8.2f} ms "
        f"({result['call_vs_hand_written']:.2f}x hand-written)"
    )
    print(f"{'evaluate all, hand-written lambda':<38} {result['hand_written_ms']:>8.2f} ms")
    print(
        f"{'new group, pattern, all texts distinct':<38} "
        f"{result['distinct_texts_new_group_ms']:>8.2f} ms "
        f"({result['distinct_texts_vs_python_re']:.2f}x Python re, "
        f"{result['distinct_texts_python_re_ms']:.2f} ms)"
    )
    met = result["new_group_ms"] < result["target_new_group_ms"]
    print(
        f"target: a new group over {args.agents:,} agents under "
        f"{result['target_new_group_ms']:.1f} ms: {'met' if met else 'MISSED'}"
    )
    payload = {
        "benchmark": "bench_expressions",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeats": args.repeats,
        "requirement": REQUIREMENT,
        "results": [result],
    }
    (results_dir() / "bench_expressions.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
