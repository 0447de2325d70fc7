"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, pg_ctl on a socket.

Import the fixtures into a test module (``from postgres_support import
postgres_cluster, postgres_url``): conftest.py is not where they live, so
each module that needs a server names them. One cluster serves the whole
session (started on first use, stopped when the session ends); each test
gets a database of its own from :func:`postgres_url`.

The server binaries are found on PATH or under ``/usr/lib/postgresql/*/bin``
(Debian's layout). Without them, tests are skipped with the reason, except
under CI (``CI`` set), where they fail: CI installs the server. ``initdb``
refuses to run as root, so as root the cluster runs as the ``postgres``
user (``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.journal import DurableEngine, JournalStateError
from valueroute.task import TaskState

__all__ = [
    "Chaos",
    "Cluster",
    "NodeProcess",
    "RoundResult",
    "find_binaries",
    "node_engine",
    "node_main",
    "postgres_cluster",
    "postgres_url",
]


def find_binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates: list[Path] = []
    for version in sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    ):
        candidates.append(version)
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One PostgreSQL cluster in a temporary folder, reached over a Unix socket there."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="vr-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = _free_port()
        self.log = self.root / "server.log"
        self.as_root = os.geteuid() == 0
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.running = False
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )

    def start(self) -> None:
        """initdb (once) and start the server; raises RuntimeError with the log if it fails."""
        if not self.data.exists():
            done = self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
            )
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
        done = self._pg_ctl_waiting("start")
        if done.returncode:
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{self.tail()}")
        self.running = True

    def _pg_ctl_waiting(self, *action: str) -> subprocess.CompletedProcess[str]:
        """``pg_ctl`` starting the server with this cluster's options, waiting until it
        accepts connections."""
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        # Start-up or crash recovery on a loaded machine can outlast pg_ctl's 60 s default.
        return self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "300",
            *action,
            timeout=360.0,
        )

    def restart_immediate(self) -> None:
        """``pg_ctl restart -m immediate``: the server dies without a checkpoint and comes back."""
        done = self._pg_ctl_waiting("-m", "immediate", "restart")
        if done.returncode:
            raise RuntimeError(f"pg_ctl restart failed: {done.stdout}{done.stderr}\n{self.tail()}")

    def stop(self) -> None:
        """Stop the server (immediate: the cluster is thrown away) and delete the folder."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def tail(self) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return self.log.read_text()[-3000:]
        except OSError:
            return ""

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for ``database`` over the cluster's socket."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        with self._lock:
            name = f"t{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)


_SHARED: list[Cluster] = []


def _shared_cluster() -> Cluster:
    if _SHARED:
        return _SHARED[0]
    binaries = find_binaries()
    if binaries is None:
        reason = (
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under "
            "/usr/lib/postgresql/*/bin: install Debian's postgresql package to run these tests"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run them)")
        pytest.skip(reason)
    cluster = Cluster(binaries)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    _SHARED.append(cluster)
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's throwaway cluster (one, however many modules import this fixture)."""
    cluster = _shared_cluster()
    yield cluster
    # Each importing module has its own copy of this fixture; the first to
    # finish at session end stops the shared server, the others find it gone.
    with contextlib.suppress(IndexError):
        _SHARED.pop().stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A URL to an empty database of this test's own."""
    return postgres_cluster.new_database()


# ---------------------------------------------------------------------- chaos: nodes as processes
#
# A node is a real process running a Standby under load (``python
# postgres_support.py node URL NAME LEASE``). It prints, flushed:
#   LEAD term position digest     on taking the lead (digest after position)
#   ACK term position command task once the command is committed
# so every ACK line names a command that must be in the journal, under that
# term, whatever happens to the process afterwards.

NODE_AGENTS = ["a0", "a1", "a2"]


def node_engine(clock: Callable[[], float]) -> Engine:
    """The engine every node builds (same configuration in every process)."""
    return Engine(clock=clock, offer_timeout=None, closed_memory=100_000)


def node_main(url: str, name: str, lease: float, pause: float = 0.01) -> None:
    """Run one node until killed: follow, lead when possible, and load the engine while leading."""
    from valueroute.standby import Standby

    out = sys.stdout
    waiting: list[tuple[int, str]] = []

    def on_durable(position: int) -> None:
        while waiting and waiting[0][0] <= position:
            out.write(waiting.pop(0)[1])
        out.flush()

    def on_lead(term: int) -> None:
        out.write(f"LEAD {term} {node.position} {node.engine.digest()}\n")
        out.flush()

    node = Standby(
        url,
        node_engine,
        name=name,
        lease_seconds=lease,
        sync="group",
        group_size=16,
        group_seconds=0.002,
        on_durable=on_durable,
        on_lead=on_lead,
        on_follow=lambda reason: waiting.clear(),
    )
    out.write(f"OPEN {node.position}\n")
    out.flush()
    number = 0
    while True:
        if not node.poll(timeout=0.05):
            continue
        durable = node.durable
        term = node.term

        def done(
            command: str, task: str, durable: DurableEngine = durable, term: int | None = term
        ) -> None:
            waiting.append((durable.position, f"ACK {term} {durable.position} {command} {task}\n"))
            if durable.durable_position >= durable.position:
                on_durable(durable.durable_position)

        try:
            for agent in NODE_AGENTS:
                if agent not in durable.engine.agents:
                    durable.add_agent(AgentSpec(id=agent, capacity={"voice": 1}), ready=True)
                    done("add_agent", agent)
            for _ in range(20):
                number += 1
                task = f"{name}-{number}"
                durable.submit(TaskSpec(id=task, value=number % 7, priority=number % 3))
                done("submit", task)
                for agent in NODE_AGENTS:
                    for held in durable.engine.tasks_of(agent):
                        if held.state is TaskState.offered:
                            durable.accept(held.id)
                            done("accept", held.id)
                        elif held.state is TaskState.assigned:
                            durable.complete(held.id, wrap_up=0.0)
                            done("complete", held.id)
            durable.flush()
            # Load, not a flood (unless pause is 0): the journal stays small enough
            # to replay after each round.
            time.sleep(pause)
        except JournalStateError:
            # Fenced or cut off: nothing waiting was acknowledged; poll follows.
            waiting.clear()


@dataclass
class NodeProcess:
    """A node process and the lines it printed, each with the monotonic time it was read."""

    name: str
    process: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    stopped: bool = False
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.strip()))

    def acks(self) -> list[tuple[float, int, int, str, str]]:
        """``(read at, term, position, command, task)`` of every ACK line."""
        found = []
        for at, line in list(self.lines):
            words = line.split()
            if len(words) == 5 and words[0] == "ACK":
                found.append((at, int(words[1]), int(words[2]), words[3], words[4]))
        return found

    def leads(self) -> list[tuple[int, int, str]]:
        """``(term, position, digest)`` of every LEAD line."""
        return [
            (int(w[1]), int(w[2]), w[3])
            for _, line in list(self.lines)
            if len(w := line.split()) == 4 and w[0] == "LEAD"
        ]


@dataclass
class RoundResult:
    """One chaos round: what was done, the term before and after, and the takeover time."""

    kind: str
    term_before: int
    term_after: int
    takeover_s: float


class Chaos:
    """Nodes under load on one journal, and the faults: kill, pause past the lease, restart."""

    def __init__(
        self, cluster: Cluster, url: str, *, lease: float = 1.0, nodes: int = 2, pause: float = 0.01
    ) -> None:
        self.cluster = cluster
        self.url = url
        self.lease = lease
        self.pause = pause
        self.nodes: list[NodeProcess] = []
        self.numbers = itertools.count(1)
        self.rounds: list[RoundResult] = []
        # What the nodes print on stderr, for the message of a failing test.
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close)
        # A fresh replay of the journal, advanced to each new leader's position in turn.
        self._clock = [0.0]
        self._replica = node_engine(lambda: self._clock[0])
        self._applied = 0
        for _ in range(nodes):
            self.start_node()

    def start_node(self) -> NodeProcess:
        name = f"n{next(self.numbers)}"
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "node",
                self.url,
                name,
                str(self.lease),
                str(self.pause),
            ],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        node = NodeProcess(name, process)
        node.reader = threading.Thread(target=node.read, daemon=True)
        node.reader.start()
        self.nodes.append(node)
        return node

    def live(self) -> list[NodeProcess]:
        return [n for n in self.nodes if n.process.poll() is None]

    def all_acks(self) -> list[tuple[str, float, int, int, str, str]]:
        return [(n.name, *ack) for n in self.nodes for ack in n.acks()]

    def top_term(self) -> int:
        return max((ack[2] for ack in self.all_acks()), default=0)

    def leader(self, *, after_term: int = 0, timeout: float = 30.0) -> tuple[NodeProcess, int]:
        """The node that acknowledged a command in the highest term above ``after_term``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            best: tuple[int, NodeProcess] | None = None
            for node in self.live():
                if node.stopped:
                    continue
                for ack in node.acks():
                    if ack[1] > after_term and (best is None or ack[1] > best[0]):
                        best = (ack[1], node)
            if best is not None:
                return best[1], best[0]
            time.sleep(0.02)
        raise AssertionError(
            f"no node acknowledged a command in a term after {after_term} within {timeout} s; "
            f"stderr: {self.stderr()}"
        )

    def first_ack_after(self, term: int, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            times = [a[1] for a in self.all_acks() if a[2] > term]
            if times:
                return min(times)
            time.sleep(0.005)
        raise AssertionError(
            f"no command acknowledged in a term after {term} within {timeout} s; {self.describe()}"
        )

    def wait_for_acks(self, node: NodeProcess, term: int, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for a in node.acks() if a[1] == term) < count:
            assert time.monotonic() < deadline, f"{node.name} stopped acknowledging in term {term}"
            time.sleep(0.01)

    def run_round(self, kind: str) -> RoundResult:
        """Let the leader work, do the fault, wait for commands acknowledged in a newer term."""
        leader, term = self.leader(after_term=self.top_term() - 1)
        self.wait_for_acks(leader, term, 30)
        # Standbys started in the last round have opened and caught up: a takeover
        # is timed from a standby that was following, not one still starting.
        deadline = time.monotonic() + 30
        while not all(any(line.startswith("OPEN") for _, line in n.lines) for n in self.live()):
            assert time.monotonic() < deadline, f"a standby did not open; {self.describe()}"
            time.sleep(0.01)
        time.sleep(0.2)
        started = time.monotonic()
        if kind == "kill":
            leader.process.kill()
            leader.process.wait()
            self.start_node()
        elif kind == "pause":
            leader.process.send_signal(signal.SIGSTOP)
            leader.stopped = True
        elif kind == "restart":
            self.cluster.restart_immediate()
        else:
            raise ValueError(kind)
        first = self.first_ack_after(term)
        if kind == "pause":
            # Resumed past its lease: it must find itself fenced, never acknowledge in term.
            time.sleep(0.2)
            leader.process.send_signal(signal.SIGCONT)
            leader.stopped = False
        new_leader, new_term = self.leader(after_term=term)
        # Routing continues: the new leader offers tasks and agents take them.
        deadline = time.monotonic() + 30
        while not any(a[1] == new_term and a[3] == "accept" for a in new_leader.acks()):
            assert time.monotonic() < deadline, "routing did not continue after the takeover"
            time.sleep(0.01)
        result = RoundResult(kind, term, new_term, first - started)
        self.rounds.append(result)
        return result

    def journal(self) -> list[tuple[int, str, str, int]]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT position, command, arguments, term FROM valueroute_records "
                "ORDER BY position"
            ).fetchall()
        return [(int(p), str(c), str(a), int(t)) for p, c, a, t in rows]

    def check(self) -> dict[str, int]:
        """Every invariant over everything printed so far; returns ``{"lost", "duplicated"}``.

        Raises AssertionError naming the first violation of: a term acknowledged
        by two processes, a LEAD digest that differs from a fresh replay.
        """
        import json

        acks = self.all_acks()  # before the journal is read: each was committed before
        records = self.journal()
        assert [r[0] for r in records] == list(range(1, len(records) + 1)), "journal has a gap"
        by_position = {r[0]: r for r in records}
        lost = 0
        for _name, _, term, position, command, task in acks:
            record = by_position.get(position)
            if record is None or record[1] != command or record[3] != term:
                lost += 1
                continue
            arguments = json.loads(record[2])
            names = {arguments.get("task"), arguments.get("agent")}
            if "spec" in arguments:
                names.add(arguments["spec"]["id"])
            if task not in names:
                lost += 1
        submitted = [json.loads(r[2])["spec"]["id"] for r in records if r[1] == "submit"]
        duplicated = len(submitted) - len(set(submitted))
        owners: dict[int, set[str]] = {}
        for name, _, term, *_rest in acks:
            owners.setdefault(term, set()).add(name)
        shared = {term: names for term, names in owners.items() if len(names) > 1}
        assert not shared, f"terms acknowledged by more than one process: {shared}"
        self._check_digests(records)
        return {"lost": lost, "duplicated": duplicated}

    def _check_digests(self, records: list[tuple[int, str, str, int]]) -> None:
        from valueroute.journal import Record, replay

        leads = sorted({lead for node in self.nodes for lead in node.leads()})
        engine = self._replica
        times = self._times()
        for term, position, digest in leads:
            if position <= self._applied:
                continue
            batch = [
                Record(p, times[p], c, a, 0) for p, c, a, _ in records[self._applied : position]
            ]
            replay(engine, batch, clock=self._clock)
            self._applied = position
            assert engine.digest() == digest, (
                f"term {term}: the new leader's digest at position {position} differs from a "
                "fresh replay of the journal"
            )

    def _times(self) -> dict[int, float]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute("SELECT position, time FROM valueroute_records").fetchall()
        return {int(p): float(t) for p, t in rows}

    def describe(self) -> str:
        """Each node's state and last lines, and the nodes' stderr, for failure messages."""
        parts = []
        for node in self.nodes:
            status = node.process.poll()
            last = [line for _, line in node.lines[-3:]]
            leads = node.leads()[-2:]
            parts.append(f"{node.name} exit={status} stopped={node.stopped} leads={leads} {last}")
        return "; ".join(parts) + f"; stderr: {self.stderr()}"

    def stderr(self) -> str:
        """The end of what the nodes printed on stderr."""
        self.errors.flush()
        self.errors.seek(0)
        return self.errors.read()[-3000:]

    def close(self) -> None:
        self.errors.close()
        for node in self.nodes:
            if node.process.poll() is None:
                if node.stopped:
                    node.process.send_signal(signal.SIGCONT)
                node.process.kill()
                node.process.wait()
            if node.reader is not None:
                node.reader.join(timeout=5)
            if node.process.stdout is not None:
                node.process.stdout.close()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "node":
        node_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("usage: python postgres_support.py node URL NAME LEASE_SECONDS PAUSE_SECONDS")
