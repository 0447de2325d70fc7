"""Chaos: a leader and standbys as real processes under load, killed, paused and cut off.

Rounds cycle through three faults: SIGKILL the leader (a new process
replaces it), SIGSTOP the leader past its lease and SIGCONT it once a
standby has taken over (it must find itself fenced), and ``pg_ctl restart
-m immediate`` of the server itself. After every round:

* every command a process acknowledged is in the journal, at the position
  and under the term it acknowledged, and no task was submitted twice;
* no two processes acknowledged commands in the same term;
* each new leader's ``digest()`` at takeover equals a fresh replay of the
  journal up to that position;
* routing continues: the new leader offers tasks and agents accept them.

CI runs 21 rounds (seven of each fault); the ``slow`` soak (``--run-slow``)
runs 60.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres_support import Chaos, Cluster, postgres_cluster, postgres_url  # noqa: F401

KINDS = ["kill", "pause", "restart"]


@pytest.fixture
def chaos(postgres_cluster: Cluster, postgres_url: str) -> Iterator[Chaos]:  # noqa: F811
    group = Chaos(postgres_cluster, postgres_url, lease=1.0, nodes=2)
    try:
        yield group
    finally:
        group.close()


def run_rounds(chaos: Chaos, count: int) -> None:
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        result = chaos.run_round(kind)
        assert result.term_after > result.term_before, result
        outcome = chaos.check()
        assert outcome == {"lost": 0, "duplicated": 0}, (number, kind, outcome)
    kills = [r.takeover_s for r in chaos.rounds if r.kind == "kill"]
    # From SIGKILL to the first command acknowledged by the new leader.
    assert max(kills) <= 5.0, kills


def test_twenty_one_rounds_of_kill_pause_and_restart_lose_and_duplicate_nothing(
    chaos: Chaos,
) -> None:
    run_rounds(chaos, 21)


@pytest.mark.slow
def test_sixty_rounds_of_kill_pause_and_restart_lose_and_duplicate_nothing(chaos: Chaos) -> None:
    run_rounds(chaos, 60)
