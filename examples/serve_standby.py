"""Two `valueroute serve --store` processes on one PostgreSQL journal: a leader and a standby.

Run: python examples/serve_standby.py [postgresql://...]

Starts two services on free loopback ports sharing one database. The first
leads (``/readyz`` answers 200), the second follows the journal with its own
engine: it shows the leader's tasks and refuses commands with ``503``. Then
the leader is killed with SIGKILL, and the standby takes over: ready within
moments, with every task the leader acknowledged.

Needs ``pip install "valueroute[serve,postgres]"``. Without a URL (or
``VALUEROUTE_POSTGRES_URL``) it starts a throwaway PostgreSQL server in a
temporary folder (see ``examples/postgres_standby.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from postgres_standby import throwaway_server


def start(url: str, name: str, folder: Path) -> tuple[subprocess.Popen[str], str]:
    """Start one service on port 0 on the shared store; return it and the URL it announced."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "valueroute.cli.serve", "--port", "0"),
            *("--store", url, "--name", name, "--lease-seconds", "2"),
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise SystemExit(f"the service {name} did not start: {line!r}")
    return process, line.split("listening on ", 1)[1].strip()


def readiness(address: str) -> tuple[int, dict[str, object]]:
    answer = httpx.get(f"{address}/readyz", timeout=5.0)
    return answer.status_code, answer.json()


def wait_ready(address: str, seconds: float) -> float:
    start = time.monotonic()
    while readiness(address)[0] != 200:
        if time.monotonic() - start > seconds:
            raise SystemExit(f"{address} did not become ready within {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - start


def show(url: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vr-serve-standby-"))
    first, first_address = start(url, "first", folder)
    wait_ready(first_address, 30)
    second, second_address = start(url, "second", folder)
    try:
        status, body = readiness(second_address)
        print(f"first: /readyz {readiness(first_address)[0]}, leads term {body['term']}")
        print(f"second: /readyz {status}, role {body['role']}")
        with httpx.Client(base_url=first_address, timeout=10.0) as leader:
            leader.post("/v1/agents?ready=true", json={"id": "ann"}).raise_for_status()
            for number in range(1, 4):
                leader.post("/v1/tasks", json={"id": f"call-{number}"}).raise_for_status()
        with httpx.Client(base_url=second_address, timeout=10.0) as standby:
            while standby.get("/v1/tasks/call-3").status_code != 200:
                time.sleep(0.02)
            print(f"second shows call-1: {standby.get('/v1/tasks/call-1').json()['state']}")
            refused = standby.post("/v1/tasks", json={"id": "call-4"})
            print(f"second refuses a command: {refused.status_code} ({refused.json()['role']})")
            first.kill()
            first.wait()
            took = wait_ready(second_address, 30)
            print(f"first killed: second leads after {took:.2f} s")
            states = [standby.get(f"/v1/tasks/call-{n}").json()["state"] for n in range(1, 4)]
            print(f"second holds every acknowledged task: {states}")
            accepted = standby.post("/v1/tasks", json={"id": "call-4"})
            print(f"second takes commands: {accepted.status_code}")
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VALUEROUTE_POSTGRES_URL")
    if url:
        show(url)
        return
    with throwaway_server() as started:
        if started is None:
            print(
                "No PostgreSQL URL given and no server binaries found: pass a URL "
                "(python examples/serve_standby.py postgresql://...) or install PostgreSQL."
            )
            return
        show(started)


if __name__ == "__main__":
    main()
