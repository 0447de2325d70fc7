"""A durable engine: journal every command, crash, recover, and export the day's events.

Also: a -wal file damaged after a crash, and the committed commands it lost, reported.

Runs in a temporary folder; prints what recovery found at each step.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.events import Event
from valueroute.journal import DurableEngine, export_events, import_events


def make_engine(clock: Callable[[], float]) -> Engine:
    """The same configuration at every open: the journal stores commands, not settings."""
    return Engine(clock=clock, offer_timeout=30.0, wrap_up=10.0)


def main() -> None:
    now = [1_700_000_000.0]
    folder = Path(tempfile.mkdtemp())
    path = folder / "routing.journal"
    events: list[Event] = []

    with DurableEngine.open(path, make_engine, sync="group", clock=lambda: now[0]) as durable:
        durable.subscribe(events.append)
        durable.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
        for number in range(5):
            now[0] += 1.0
            durable.submit(TaskSpec(id=f"t{number}", skills={"billing": 2}, value=10 * number))
        now[0] += 5.0
        durable.accept("t0")
        durable.set_policy("aging_priority", seconds_per_point=30)
        print(f"acknowledged up to position {durable.flush()}")
        durable.snapshot()
        now[0] += 20.0
        durable.complete("t0")
        digest = durable.digest()
        print(f"t0 is {durable.get('t0').state.value}; next offer goes to ann after wrap-up")

    # Restart: the latest snapshot plus the records after it.
    with DurableEngine.open(path, make_engine, clock=lambda: now[0]) as recovered:
        print("recovery:", recovered.report)
        print("same state as before the restart:", recovered.digest() == digest)

    # Damage the last record, as a torn write would: it is detected and set aside.
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE records SET arguments = '{' WHERE position = 9")
    with DurableEngine.open(path, make_engine, clock=lambda: now[0]) as repaired:
        print("after damage:", repaired.report)
        print("t0 is back to", repaired.get("t0").state.value)

    # A crash, then damage to the -wal file: SQLite silently ends the log at the
    # damaged frame; the mark beside the journal says what was committed.
    live = folder / "live.journal"
    crashed = folder / "crashed"
    crashed.mkdir()
    durable = DurableEngine.open(live, make_engine, sync="every", clock=lambda: now[0])
    for number in range(30):
        durable.submit(TaskSpec(id=f"late-{number}", value=number))
    for suffix in ("", "-wal", ".mark"):  # the files as a killed process leaves them
        shutil.copy(f"{live}{suffix}", crashed / f"live.journal{suffix}")
    durable.close()
    wal = crashed / "live.journal-wal"
    data = bytearray(wal.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    wal.write_bytes(bytes(data))
    with DurableEngine.open(crashed / "live.journal", make_engine, clock=lambda: now[0]) as found:
        report = found.report
        print(
            f"after a damaged -wal: clean={report.clean}, "
            f"lost {report.lost} from position {report.lost_from}"
        )

    day = folder / "events.jsonl"
    written = export_events(events, day)
    print(f"{written} events exported; first: {import_events(day)[0].to_json()}")


if __name__ == "__main__":
    main()
