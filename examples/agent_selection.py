"""Which agent gets the next billing call? Every built-in strategy on one small team.

Four agents become ready one after another; then a French billing call and a
plain billing call arrive. Each strategy picks an agent for each call; the
pool itself never changes while strategies are asked.

    python examples/agent_selection.py
"""

from __future__ import annotations

import numpy as np

from valueroute.agents import AgentPool, Presence, selection_by_name
from valueroute.models import AgentSpec
from valueroute.tasklist import TaskList

TEAM = [
    # id, skills, when the agent became ready (seconds)
    ("ann", {"billing": 2}, 30.0),
    ("bob", {"billing": 5, "french": 3}, 10.0),
    ("cat", {"billing": 4, "french": 4, "sales": 2}, 20.0),
    ("dan", {"billing": 3}, 40.0),
]


def main() -> None:
    pool = AgentPool()  # voice is exclusive: an agent on a call takes nothing else
    for agent_id, skills, _ in TEAM:
        pool.add(AgentSpec(id=agent_id, skills=skills, capacity={"voice": 1}), now=0.0)
    for agent_id, _, ready_at in sorted(TEAM, key=lambda member: member[2]):
        pool.set_presence(agent_id, Presence.ready, now=ready_at)

    tasks = TaskList()
    billing = tasks.group_for("voice", {"billing": 1})
    french_billing = tasks.group_for("voice", {"billing": 1, "french": 1})
    now = 60.0

    names = [
        "longest_idle",
        "most_proficient",
        "least_skilled",
        "least_occupied",
        "fewest_tasks",
        "least_talk_time",
        "top_down",
        "round_robin",
        "random",
    ]
    print(f"{'strategy':<16} {'billing':<8} french billing")
    for name in names:
        params = {"rng": np.random.default_rng(1)} if name == "random" else {}
        strategy = selection_by_name(name, **params)
        picks = []
        for group in (billing, french_billing):
            agent = pool.select(group, now=now, strategy=strategy)
            picks.append("-" if agent is None else agent.id)
        print(f"{name:<16} {picks[0]:<8} {picks[1]}")

    # Bob answers; the next billing call goes to whoever has waited longest now.
    bob = pool.get("bob")
    pool.take(bob, "voice", now=now)
    nxt = pool.select(billing, now=now)
    print(f"bob takes a call; longest idle for billing is now {nxt.id if nxt else '-'}")
    eligible = pool.eligible_groups(pool.get("cat"), tasks.groups)
    print(f"cat may serve {len(eligible)} of {len(tasks.groups)} groups: {eligible}")


if __name__ == "__main__":
    main()
