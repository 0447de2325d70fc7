"""Recovery of a million open tasks: snapshot plus a tail of records, on SQLite and PostgreSQL.

A contact centre of ``--agents`` agents (five skill profiles, all ready) and
``--open-tasks`` open tasks (five requirement sets, values and priorities
spread, one in ten with a due time, one in twenty with attributes; each agent
holds one, offered or assigned, the rest queued) is built through a
:class:`~valueroute.journal.DurableEngine` on SQLite, compacted to one
snapshot, and a tail of ``--tail`` more records is written (eight in ten
submissions, one in ten acceptances, one in ten completions). The same
snapshot and tail are copied into a PostgreSQL journal as written (records
and checksums unchanged). Then, ``--runs`` times for each store:

* ``snapshot only``: opening a journal that holds the snapshot alone;
* ``recovery``: opening the journal, snapshot plus tail (the issue's target:
  at most 10 s with a million open tasks and 100,000 records);
* the tail's replay is their difference.

Baseline, in the same run: building the same engine from scratch through the
same commands in memory (no journal). Every recovered engine is checked
against that engine's digest once per store.

Without ``--url`` the benchmark starts a throwaway PostgreSQL cluster in a
temporary folder (server binaries needed, as for the tests), reached over a
Unix socket; as root the server runs as the ``postgres`` user.

    python benchmarks/bench_recovery.py [--open-tasks 1000000] [--agents 1000]
        [--tail 100000] [--runs 3] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _timing import results_dir
from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import DurableEngine, SQLiteStore

TARGET_SECONDS = 10.0
PROFILES = 5


def make_engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, offer_timeout=None, closed_memory=1000)


# ---------------------------------------------------------------------- workload


def agent(number: int) -> AgentSpec:
    return AgentSpec(id=f"a{number}", skills={f"s{number % PROFILES}": 2})


def task(number: int, prefix: str) -> TaskSpec:
    fields: dict[str, Any] = {
        "id": f"{prefix}{number}",
        "value": float(number % 97),
        "priority": number % 3,
        "skills": {f"s{number % PROFILES}": 1},
    }
    if number % 10 == 0:
        fields["due"] = 86_400.0 + number % 3_600
    if number % 20 == 0:
        fields["attributes"] = {"segment": "gold", "amount": number % 1_000}
    return TaskSpec(**fields)


def commands(open_tasks: int, agents: int, tail: int) -> Iterator[tuple[str, Any]]:
    """The workload: ``("build", command)`` items, then ``("tail", command)`` items.

    A command is ``(method name, argument)``; ``"accept"`` and ``"complete"``
    take the task from the engine they run on (the oldest offered or
    assigned task), so the same stream drives every engine the same way.
    """
    for number in range(agents):
        yield "build", ("add_agent", agent(number))
    for number in range(open_tasks):
        yield "build", ("submit", task(number, "q"))
        if number % 2 == 0 and number < 2 * agents:
            yield "build", ("accept", None)
    for number in range(tail):
        kind = number % 10
        if kind == 8:
            yield "tail", ("accept", None)
        elif kind == 9:
            yield "tail", ("complete", None)
        else:
            yield "tail", ("submit", task(number, "r"))


def oldest(engine: Engine, *, offered: bool) -> str | None:
    """The first task (in the engine's order) held in that state: offered, else assigned."""
    wanted = "offered" if offered else "assigned"
    for task_id in engine._holder:
        if engine._tasks[task_id].state.value == wanted:
            return task_id
    return None


def run_command(target: Engine | DurableEngine, engine: Engine, command: tuple[str, Any]) -> None:
    name, argument = command
    if name == "add_agent":
        target.add_agent(argument, ready=True)
    elif name == "submit":
        target.submit(argument)
    elif name == "accept":
        task_id = oldest(engine, offered=True)
        if task_id is not None:
            target.accept(task_id)
    else:
        task_id = oldest(engine, offered=False)
        if task_id is not None:
            target.complete(task_id, wrap_up=0.0)


# ---------------------------------------------------------------------- PostgreSQL


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder (as tests/postgres_support.py)."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="vr-bench-pg-"))
        self.data = self.root / "data"
        self.as_root = os.geteuid() == 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.numbers = itertools.count(1)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def run(self, *args: str) -> None:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=300, check=False, cwd=self.root
        )
        if done.returncode:
            sys.exit(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-k {self.root} -p {self.port} -c listen_addresses='' -c shared_buffers=128MB "
            "-c fsync=on"
        )
        log = str(self.root / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"recovery{next(self.numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)


def find_binaries() -> Path | None:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    on_path = shutil.which("initdb")
    return None if on_path is None else Path(on_path).resolve().parent


def empty_database(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS valueroute_records, valueroute_snapshots, "
            "valueroute_quarantine, valueroute_lease, valueroute_schema"
        )
    return url


def copy_journal(source: Path, url: str, *, with_tail: bool) -> None:
    """Copy the snapshot (and the records after it) of a SQLite journal into PostgreSQL."""
    from valueroute.pgstore import PostgresStore

    reading = SQLiteStore(source)
    writing = PostgresStore(url)
    try:
        stored = next(reading.snapshots())
        writing.write_snapshot(stored)
        if with_tail:
            batch = []
            for record in reading.read(after=stored.position):
                batch.append(record)
                if len(batch) == 10_000:
                    writing.append(batch)
                    batch = []
            writing.append(batch)
    finally:
        reading.close()
        writing.close()


def snapshot_only(source: Path, target: Path) -> None:
    """A SQLite journal holding only the snapshot of ``source``."""
    reading = SQLiteStore(source)
    writing = SQLiteStore(target)
    try:
        writing.write_snapshot(next(reading.snapshots()))
    finally:
        reading.close()
        writing.close()


# ---------------------------------------------------------------------- measuring


def compact(durable: DurableEngine) -> tuple[float, int]:
    """Snapshot (timed), then drop the records before it; returns seconds and position."""
    start = time.perf_counter()
    position = durable.snapshot()
    seconds = time.perf_counter() - start
    durable.store.truncate(through=position)
    return seconds, position


def build_journal(
    path: Path, open_tasks: int, agents: int, tail: int
) -> tuple[float, float, int, int]:
    """Write the journal; returns build seconds, snapshot seconds, snapshot position, records."""
    clock = [0.0]
    durable = DurableEngine.open(path, make_engine, sync="none", clock=lambda: clock[0])
    stream = commands(open_tasks, agents, tail)
    start = time.perf_counter()
    written = 0
    for phase, command in stream:
        if phase == "tail" and written == 0:
            built = time.perf_counter() - start
            snapshot_seconds, position = compact(durable)
        clock[0] += 0.001
        run_command(durable, durable.engine, command)
        written += phase == "tail"
    if written == 0:
        built = time.perf_counter() - start
        snapshot_seconds, position = compact(durable)
    records = durable.position - position
    durable.close()
    return built, snapshot_seconds, position, records


def reference(open_tasks: int, agents: int, tail: int) -> tuple[float, str, float]:
    """Seconds to build the same engine in memory through the same commands, its digest, clock."""
    clock = [0.0]
    engine = make_engine(lambda: clock[0])
    start = time.perf_counter()
    for _, command in commands(open_tasks, agents, tail):
        clock[0] += 0.001
        run_command(engine, engine, command)
    seconds = time.perf_counter() - start
    digest = engine.digest()
    return seconds, digest, clock[0]


def recover(
    target: str | Path, expected: tuple[int, int], clock: float, digest: str | None
) -> tuple[float, int]:
    """Seconds to open the journal; checks what was restored and replayed (and the digest)."""
    gc.collect()
    start = time.perf_counter()
    durable = DurableEngine.open(target, make_engine, clock=lambda: clock)
    seconds = time.perf_counter() - start
    report = durable.report
    assert (report.snapshot, report.replayed) == expected, str(report)
    open_now = len(durable.engine._tasks)
    if digest is not None:
        assert durable.digest() == digest, "recovered engine differs from the reference"
    durable.close()
    del durable
    return seconds, open_now


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open-tasks", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--tail", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    options = parser.parse_args()
    cluster = None
    if not options.url:
        binaries = find_binaries()
        if binaries is None:
            sys.exit("no PostgreSQL server binaries found: install them or pass --url")
        cluster = Cluster(binaries)
        cluster.start()

    baseline, digest, clock = reference(options.open_tasks, options.agents, options.tail)
    print(
        f"baseline: {options.open_tasks:,} tasks built in memory through commands, "
        f"with the tail: {baseline:.2f} s"
    )
    results: dict[str, Any] = {}
    at_target_size = options.open_tasks >= 1_000_000 and options.tail >= 100_000
    try:
        with tempfile.TemporaryDirectory() as folder:
            full = Path(folder) / "full.journal"
            alone = Path(folder) / "snapshot.journal"
            built, written, position, records = build_journal(
                full, options.open_tasks, options.agents, options.tail
            )
            print(
                f"journal: built in {built:.2f} s, snapshot at {position:,} written in "
                f"{written:.2f} s, {records:,} records after it"
            )
            snapshot_only(full, alone)
            if options.url:
                full_url = empty_database(options.url)
                alone_url = None
            else:
                assert cluster is not None
                full_url, alone_url = cluster.new_database(), cluster.new_database()
            copy_journal(full, full_url, with_tail=True)
            if alone_url is not None:
                copy_journal(full, alone_url, with_tail=False)
            targets: dict[str, tuple[str | Path, str | Path | None]] = {
                "sqlite": (full, alone),
                "postgresql": (full_url, alone_url),
            }
            for store, (with_tail, without) in targets.items():
                whole, only, open_now = [], [], 0
                for run in range(options.runs):
                    seconds, open_now = recover(
                        with_tail, (position, records), clock, digest if run == 0 else None
                    )
                    whole.append(seconds)
                    if without is not None:
                        only.append(recover(without, (position, 0), clock, None)[0])
                row: dict[str, Any] = {
                    "open_tasks": open_now,
                    "tail_records": records,
                    "recovery_seconds": summary(whole),
                    "recovery_over_baseline": min(whole) / baseline,
                    # The target, for its size only, met by the median run.
                    "target_met": (
                        statistics.median(whole) <= TARGET_SECONDS if at_target_size else None
                    ),
                }
                if only:
                    row["snapshot_only_seconds"] = summary(only)
                    tails = [w - o for w, o in zip(whole, only, strict=True)]
                    row["tail_replay_seconds"] = summary(tails)
                    row["tail_records_per_second"] = records / max(statistics.median(tails), 1e-9)
                results[store] = row
    finally:
        if cluster is not None:
            cluster.stop()

    for store, row in results.items():
        whole = row["recovery_seconds"]
        line = (
            f"{store:<11} recovery {whole['min']:.2f} s min, {whole['median']:.2f} s median "
            f"({row['recovery_over_baseline']:.2f} x the baseline)"
        )
        if "snapshot_only_seconds" in row:
            line += (
                f"; snapshot alone {row['snapshot_only_seconds']['median']:.2f} s, "
                f"tail {row['tail_replay_seconds']['median']:.2f} s "
                f"({row['tail_records_per_second']:,.0f} records/s)"
            )
        if row["target_met"] is not None:
            verdict = "met" if row["target_met"] else "MISSED"
            line += f"; target <= {TARGET_SECONDS:g} s: {verdict}"
        print(line)
    (results_dir() / "bench_recovery.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "open_tasks": options.open_tasks,
                "agents": options.agents,
                "tail": options.tail,
                "runs": options.runs,
                "baseline_build_seconds": baseline,
                "journal_build_seconds": built,
                "snapshot_write_seconds": written,
                "stores": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
