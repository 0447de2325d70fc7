"""Takeover time and standby lag: a leader and a standby as processes on one PostgreSQL journal.

Each round lets the leader work under load, then SIGKILLs it; the time from
the kill to the first command acknowledged by the new leader is the
takeover time (a new process replaces the killed one as the next standby).
After every round the journal is checked as the chaos test checks it:
acknowledged commands present exactly once, no term acknowledged by two
processes, the new leader's digest equal to a fresh replay. Then the
standby's lag under the same load: an extra follower in this process
samples how many records it is behind the journal before each catch-up.
Target: takeover at most 5 s, median and maximum, over at least 20 rounds.

Without ``--url`` a throwaway cluster is started in a temporary folder
(see tests/postgres_support.py, whose node processes this benchmark runs).

    python benchmarks/bench_failover.py [--rounds 20] [--lease 2.0] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _timing import results_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_support import Chaos, Cluster, find_binaries, node_engine
from valueroute.standby import Standby

TARGET_SECONDS = 5.0


def lag(url: str, seconds: float) -> dict[str, Any]:
    """Records the follower is behind the journal at each poll, over ``seconds`` of load."""
    follower = Standby(url, node_engine, name="lag-probe", lead=False)
    behind: list[int] = []
    applied_before = follower.position
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            behind.append(follower.store.last_position() - follower.position)
            follower.poll(timeout=0.05)
        rate = (follower.position - applied_before) / (time.monotonic() - start)
    finally:
        follower.close()
    behind.sort()
    worst = behind[-1] if behind else 0
    return {
        "samples": len(behind),
        "records_behind_median": statistics.median(behind) if behind else 0,
        "records_behind_max": worst,
        "leader_records_per_second": rate,
        "seconds_behind_max": worst / rate if rate else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--lag-seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    options = parser.parse_args()
    binaries = find_binaries()
    if binaries is None:
        sys.exit("no PostgreSQL server binaries found (initdb, pg_ctl): install the server")
    cluster = Cluster(binaries)
    cluster.start()
    chaos: Chaos | None = None
    try:
        url = cluster.new_database()
        chaos = Chaos(cluster, url, lease=options.lease, nodes=2)
        lost = duplicated = 0
        for _ in range(options.rounds):
            chaos.run_round("kill")
            outcome = chaos.check()
            lost += outcome["lost"]
            duplicated += outcome["duplicated"]
        rounds = chaos.rounds
        chaos.close()
        # Full load for the lag: a leader that never pauses between batches.
        chaos = Chaos(cluster, cluster.new_database(), lease=options.lease, nodes=1, pause=0.0)
        chaos.leader()
        behind = lag(chaos.url, options.lag_seconds)
    finally:
        if chaos is not None:
            chaos.close()
        cluster.stop()
    takeovers = sorted(r.takeover_s for r in rounds)
    summary = {
        "rounds": len(takeovers),
        "lost": lost,
        "duplicated": duplicated,
        "takeover_s_median": statistics.median(takeovers),
        "takeover_s_max": takeovers[-1],
        "lease_s": options.lease,
        "standby_lag": behind,
    }
    if options.json:
        print(json.dumps(summary))
    else:
        print(f"rounds {summary['rounds']}: lost {lost}, duplicated {duplicated}")
        print(
            f"takeover (SIGKILL -> first command acknowledged by the new leader): "
            f"median {summary['takeover_s_median']:.3f} s, max {summary['takeover_s_max']:.3f} s"
        )
        print(
            f"standby lag under load ({behind['leader_records_per_second']:,.0f} records/s): "
            f"median {behind['records_behind_median']} records, max "
            f"{behind['records_behind_max']} records ({behind['seconds_behind_max'] * 1000:.0f} ms)"
        )
        met = summary["takeover_s_max"] <= TARGET_SECONDS
        print(f"takeover target <= {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'}")
    (results_dir() / "bench_failover.json").write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), **summary},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
