"""Requirement expressions over agent attributes: eligibility per requirement, kept current.

A small team carries attributes (languages, region, years of service, team,
a trainee flag); tasks carry requirement expressions. The script compiles
each requirement once, caches which agents meet it (as an agent pool caches
eligibility per requirement group), and when an agent's attributes change
re-evaluates only the requirements that read a changed attribute. It ends
with the error a malformed requirement gets.

    python examples/attribute_expressions.py
"""

from __future__ import annotations

from valueroute.errors import InvalidInputError
from valueroute.expressions import Expression, check_agent_attributes, compile_expression

AGENTS = {
    "ann": {"language": "fr", "languages": ["fr", "en"], "region": "EU", "years": 4},
    "bob": {"language": "en", "languages": {"en", "spanish"}, "region": "UK", "trainee": True},
    "cem": {"language": "fr", "region": "US", "years": 1, "team": "support-billing"},
    "dia": {"languages": ("spanish",), "region": "EU", "years": 7, "team": "support-tech"},
}
REQUIREMENTS = [
    'language == "fr" and region in ["EU", "UK"] and not trainee',
    "years >= 2 or certified_level3",
    '"spanish" in languages',
    'matches(team, "^support-")',
    "language=='fr' and region in ['UK','EU'] and not trainee",  # the first, spelt otherwise
]


def main() -> None:
    roster = {name: check_agent_attributes(attrs) for name, attrs in AGENTS.items()}
    for name, attrs in roster.items():
        print(f"{name}: {attrs}")

    eligible: dict[Expression, set[str]] = {}
    for text in REQUIREMENTS:
        requirement = compile_expression(text)
        if requirement in eligible:
            print(f"\n{text!r}\n  is {requirement.source!r}, already cached")
            continue
        eligible[requirement] = {name for name, attrs in roster.items() if requirement(attrs)}
        print(f"\n{text!r}\n  canonical: {requirement.source}")
        print(f"  reads: {sorted(requirement.names)}")
        print(f"  eligible: {sorted(eligible[requirement])}")

    print("\nbob finishes training and earns level 3:")
    changed = {"trainee": False, "certified_level3": True}
    roster["bob"] = check_agent_attributes({**roster["bob"], **changed})
    for requirement, members in eligible.items():
        if requirement.names.isdisjoint(changed):
            print(f"  {requirement.source}: unchanged, not re-evaluated")
            continue
        members.discard("bob")
        if requirement(roster["bob"]):
            members.add("bob")
        print(f"  {requirement.source}: re-evaluated, eligible {sorted(members)}")

    print("\na malformed requirement is refused when it is loaded:")
    try:
        compile_expression('language == "fr" and region in ["EU", 5]', field="TaskSpec.requires")
    except InvalidInputError as error:
        print(f"  {error}")


if __name__ == "__main__":
    main()
