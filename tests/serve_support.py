"""Helpers for the service tests: a real ``valueroute serve`` process on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOKENS = {
    "admin": "admin-token-0001",
    "host": "host-token-0002",
    "supervisor": "supervisor-token-0003",
    "agent": "ann-token-0004",
    "agent_bob": "bob-token-0005",
}

TOKEN_FILE = f"""
[tokens]
"{TOKENS["admin"]}" = "admin"
"{TOKENS["host"]}" = "host"
"{TOKENS["supervisor"]}" = "supervisor"
"{TOKENS["agent"]}" = {{ role = "agent", agent = "ann" }}
"{TOKENS["agent_bob"]}" = {{ role = "agent", agent = "bob" }}
"""

START_SECONDS = 30.0


def auth(role: str) -> dict[str, str]:
    """The Authorization header of the test token of ``role``."""
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@dataclass
class Server:
    """One ``valueroute serve`` process; ``url`` once it listens."""

    process: subprocess.Popen[str]
    url: str
    journal: Path
    stderr_path: Path
    extra: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, role: str | None = None, **options: object) -> httpx.Client:
        headers = auth(role) if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0, **options)  # type: ignore[arg-type]

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._close_pipe()

    def _close_pipe(self) -> None:
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()

    def kill(self) -> None:
        """SIGKILL: no chance to flush or snapshot."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self._close_pipe()

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""


def start_server(
    folder: Path,
    *,
    journal: Path | None = None,
    tokens: bool = True,
    config: str | None = None,
    extra: list[str] | None = None,
    store: str | None = None,
) -> Server:
    """Start ``python -m valueroute.cli.serve`` on port 0 and wait until it announces its URL.

    ``store``: a PostgreSQL URL shared with other servers (``--store``, leader or
    standby) instead of a journal of its own.
    """
    folder.mkdir(parents=True, exist_ok=True)
    journal = journal or folder / "journal.sqlite"
    arguments = [sys.executable, "-m", "valueroute.cli.serve", "--port", "0"]
    if store is None:
        arguments += ["--journal", str(journal)]
    else:
        arguments += ["--store", store]
    if tokens:
        token_path = folder / "tokens.toml"
        token_path.write_text(TOKEN_FILE)
        arguments += ["--tokens", str(token_path)]
    if config is not None:
        config_path = folder / "config.toml"
        config_path.write_text(config)
        arguments += ["--config", str(config_path)]
    arguments += extra or []
    stderr_path = folder / f"stderr-{time.monotonic_ns()}.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            arguments, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=folder
        )
    assert process.stdout is not None
    deadline = time.monotonic() + START_SECONDS
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "listening on " in line or not line:
            break
    if "listening on " not in line:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()
        raise AssertionError(f"the server did not start: {stderr_path.read_text()[-3000:]}")
    url = line.split("listening on ", 1)[1].strip()
    return Server(process, url, journal, stderr_path, extra or [])


def sse_events(response: httpx.Response) -> Iterator[tuple[int | None, str | None, str]]:
    """``(id, event, data)`` of each message of a Server-Sent Events response."""
    ident: int | None = None
    kind: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield ident, kind, "\n".join(data)
            ident, kind, data = None, None, []
        elif line.startswith("id: "):
            ident = int(line[4:])
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
