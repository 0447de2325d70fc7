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
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["Cluster", "find_binaries", "postgres_cluster", "postgres_url"]


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
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        if done.returncode:
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{self.tail()}")
        self.running = True

    def restart_immediate(self) -> None:
        """``pg_ctl restart -m immediate``: the server dies without a checkpoint and comes back."""
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-m",
            "immediate",
            "-w",
            "restart",
        )
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
