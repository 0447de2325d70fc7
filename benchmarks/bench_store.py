"""Durable commands/s on the PostgreSQL store against the SQLite store, in the same run.

Workload (as bench_journal.py): 50 agents; one cycle is submit -> (offer)
-> accept -> complete, three journaled commands. The same cycles run on a
:class:`~valueroute.journal.DurableEngine` over SQLite and over PostgreSQL,
with group commit (``sync="group"``, 256 records or 5 ms per commit) and
with a commit per command (``every``, fewer cycles). Then recovery: a
journal holding ``--open-tasks`` queued tasks is snapshotted, a tail of
``--tail`` more commands is written, and the time to open it again
(snapshot + replay of the tail) is measured for both stores.
Target: >= 10,000 commands/s with group commit on PostgreSQL.

Without ``--url`` the benchmark starts a throwaway PostgreSQL cluster in a
temporary folder (the server binaries must be installed; see
tests/postgres_support.py), so the figures include a local server on the
same machine, reached over a Unix socket.

    python benchmarks/bench_store.py [--cycles 20000] [--every-cycles 500]
        [--open-tasks 100000] [--tail 10000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import results_dir
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import DurableEngine

AGENTS = 50
TARGET = 10_000


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None, closed_memory=1000)


def cycles(durable: DurableEngine, count: int, clock: list[float]) -> int:
    """Run ``count`` cycles; returns commands issued."""
    commands = 0
    for number in range(AGENTS):
        durable.add_agent(AgentSpec(id=f"a{number}"), ready=True)
        commands += 1
    for number in range(count):
        clock[0] += 0.01
        task = durable.submit(TaskSpec(id=f"t{number}", value=number % 11))
        durable.accept(task.id)
        durable.complete(task.id, wrap_up=0.0)
        commands += 3
    return commands


def throughput(store: str, target: str | Path, sync: str, count: int) -> dict[str, Any]:
    clock = [0.0]
    durable = DurableEngine.open(target, make_engine, sync=sync, clock=lambda: clock[0])
    start = time.perf_counter()
    commands = cycles(durable, count, clock)
    durable.flush()
    elapsed = time.perf_counter() - start
    durable.close()
    return {
        "store": store,
        "sync": sync,
        "commands": commands,
        "seconds": elapsed,
        "per_second": commands / elapsed,
    }


def recovery(store: str, target: str | Path, open_tasks: int, tail: int) -> dict[str, Any]:
    """Seconds to open a journal of ``open_tasks`` queued tasks: snapshot plus ``tail`` records."""
    clock = [0.0]
    durable = DurableEngine.open(target, make_engine, sync="group", clock=lambda: clock[0])
    for number in range(open_tasks):
        clock[0] += 0.001
        durable.submit(TaskSpec(id=f"q{number}", value=number % 97))
    start = time.perf_counter()
    durable.snapshot()
    snapshot_seconds = time.perf_counter() - start
    for number in range(tail):
        clock[0] += 0.001
        durable.submit(TaskSpec(id=f"r{number}", value=number % 89))
    durable.close()
    start = time.perf_counter()
    reopened = DurableEngine.open(target, make_engine, clock=lambda: clock[0])
    seconds = time.perf_counter() - start
    report = reopened.report
    open_now = len(reopened.engine._tasks)
    reopened.close()
    assert (report.snapshot, report.replayed) == (open_tasks, tail), str(report)
    return {
        "store": store,
        "open_tasks": open_now,
        "tail": tail,
        "snapshot_write_seconds": snapshot_seconds,
        "recovery_seconds": seconds,
    }


def throwaway_cluster() -> Any:
    """A PostgreSQL cluster in a temporary folder, from the tests' harness."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres_support import Cluster, find_binaries

    binaries = find_binaries()
    if binaries is None:
        sys.exit(
            "no PostgreSQL server binaries found (initdb, pg_ctl): install the server or "
            "pass --url postgresql://..."
        )
    cluster = Cluster(binaries)
    cluster.start()
    return cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--every-cycles", type=int, default=500)
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--tail", type=int, default=10_000)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    options = parser.parse_args()
    cluster = None if options.url else throwaway_cluster()

    def database() -> str:
        if options.url:
            import psycopg

            with psycopg.connect(options.url, autocommit=True) as conn:
                conn.execute(
                    "DROP TABLE IF EXISTS valueroute_records, valueroute_snapshots, "
                    "valueroute_quarantine, valueroute_lease, valueroute_schema"
                )
            return str(options.url)
        assert cluster is not None
        return str(cluster.new_database())

    rows: list[dict[str, Any]] = []
    recoveries: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for sync, count in (("group", options.cycles), ("every", options.every_cycles)):
                rows.append(throughput("sqlite", Path(folder) / f"{sync}.journal", sync, count))
                rows.append(throughput("postgresql", database(), sync, count))
            recoveries.append(
                recovery("sqlite", Path(folder) / "big.journal", options.open_tasks, options.tail)
            )
            recoveries.append(recovery("postgresql", database(), options.open_tasks, options.tail))
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"{'store':<12}{'sync':<7}{'commands':>10}{'seconds':>10}{'commands/s':>14}")
    for row in rows:
        print(
            f"{row['store']:<12}{row['sync']:<7}{row['commands']:>10}"
            f"{row['seconds']:>10.3f}{row['per_second']:>14,.0f}"
        )
    sqlite_group = next(r for r in rows if r["store"] == "sqlite" and r["sync"] == "group")
    postgres_group = next(r for r in rows if r["store"] == "postgresql" and r["sync"] == "group")
    ratio = postgres_group["per_second"] / sqlite_group["per_second"]
    print(f"group commit, PostgreSQL / SQLite: {ratio:.2f}")
    for done in recoveries:
        print(
            f"recovery, {done['store']}: snapshot + {done['tail']:,} records, "
            f"{done['open_tasks']:,} open tasks after: {done['recovery_seconds']:.2f} s "
            f"(snapshot written in {done['snapshot_write_seconds']:.2f} s)"
        )
    verdict = "met" if postgres_group["per_second"] >= TARGET else "MISSED"
    print(f"PostgreSQL group commit target >= {TARGET:,} commands/s: {verdict}")
    (results_dir() / "bench_store.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "rows": rows,
                "postgres_over_sqlite_group": ratio,
                "recovery": recoveries,
                "target_met": postgres_group["per_second"] >= TARGET,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
