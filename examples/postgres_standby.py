"""A leader and a hot standby on one PostgreSQL journal: kill the leader, the standby takes over.

The leader runs as a child process that routes tasks; this process runs a
:class:`valueroute.standby.Standby` that follows the journal and serves its
engine read-only. The example kills the leader with SIGKILL and times how
long the standby takes to lead and acknowledge its first command.

    python examples/postgres_standby.py [postgresql://...]

Needs ``pip install "valueroute[postgres]"``. Without a URL (or
``VALUEROUTE_POSTGRES_URL``) it starts a throwaway PostgreSQL server in a
temporary folder, which needs the server binaries (``initdb``, ``pg_ctl``;
Debian's ``postgresql`` package) and, as root, the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import JournalStateError
from valueroute.pgstore import PostgresStore
from valueroute.standby import Standby


def make_engine(clock: Callable[[], float]) -> Engine:
    """Every process builds the same engine."""
    return Engine(clock=clock, offer_timeout=60.0)


def lead(url: str) -> None:
    """The leader: register agents, then route a task every few milliseconds until killed."""
    node = Standby(url, make_engine, name="leader", lease_seconds=5.0)
    while not node.poll(timeout=0.2):
        pass
    durable = node.durable
    for agent in ("ann", "bob"):
        if agent not in durable.engine.agents:
            durable.add_agent(AgentSpec(id=agent, capacity={"voice": 1}), ready=True)
    number = 0
    while True:
        number += 1
        task = durable.submit(TaskSpec(id=f"call-{number}", value=number % 5))
        if task.state.value == "offered":
            durable.accept(task.id)
            durable.complete(task.id, wrap_up=0.0)
        node.poll()
        time.sleep(0.005)


def follow_and_take_over(url: str) -> None:
    leader = subprocess.Popen([sys.executable, __file__, "--lead", url])
    # Let the child take the lead first (the schema is created by whoever opens first).
    deadline = time.monotonic() + 30
    while True:
        assert leader.poll() is None, "the leader stopped"
        assert time.monotonic() < deadline, "the leader did not start"
        try:
            watcher = PostgresStore(url, lead=False)
        except JournalStateError:
            time.sleep(0.1)
            continue
        term = watcher.lease().term
        watcher.close()
        if term >= 1:
            break
        time.sleep(0.1)
    standby = Standby(url, make_engine, name="standby", lease_seconds=5.0)
    try:
        while standby.position < 200:
            assert time.monotonic() < deadline, "the leader did not start"
            standby.poll(timeout=0.2)
        print(f"standby follows at position {standby.position}, leading: {standby.is_leader}")
        print(f"  its engine, read-only: agents {[a.id for a in standby.engine.agents]}")
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        killed = time.monotonic()
        while not standby.poll(timeout=0.05):
            assert time.monotonic() - killed < 30, "the standby did not take over"
        probe = standby.durable.submit(TaskSpec(id="probe", value=9))
        standby.durable.flush()
        taken = time.monotonic() - killed
        print(f"leader killed; standby leads term {standby.term} after {taken:.3f} s")
        print(f"  first command acknowledged: {probe.id} is {probe.state.value}")
        print(f"  journal position {standby.position}, digest {standby.engine.digest()[:16]}")
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()
        standby.close()


@contextmanager
def throwaway_server() -> Iterator[str | None]:
    """A PostgreSQL server in a temporary folder, or None if no server binaries are found."""
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        folders.append(Path(found).resolve().parent)
    binaries = next((f for f in folders if (f / "pg_ctl").exists()), None)
    if binaries is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="vr-example-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = root / "data"

    def run(*command: str) -> None:
        subprocess.run(
            [*prefix, str(binaries / command[0]), *command[1:]], check=True, capture_output=True
        )

    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        options = f"-k {root} -p {port} -c listen_addresses=''"
        run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
        yield f"postgresql://postgres@/postgres?host={root}&port={port}"
    finally:
        if (data / "postmaster.pid").exists():
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--lead":
        lead(sys.argv[2])
        return
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VALUEROUTE_POSTGRES_URL")
    if url:
        follow_and_take_over(url)
        return
    with throwaway_server() as started:
        if started is None:
            print(
                "No PostgreSQL URL given and no server binaries found: pass a URL "
                "(python examples/postgres_standby.py postgresql://...) or install PostgreSQL."
            )
            return
        follow_and_take_over(started)


if __name__ == "__main__":
    main()
