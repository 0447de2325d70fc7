"""Named queues through the service: what `GET /v1/queues` shows a supervisor.

Run: python examples/serve_queues.py

Starts `valueroute serve` on a free loopback port with two named queues
(billing, which needs a billing skill, and general), submits three billing
tasks with nobody to serve them, then logs an agent on, lets it handle one
task, and prints the queue view after each step: the waiting count, the
oldest wait, the expected wait ("Infinity" while no logged-on agent serves
the queue, null before any handle time is known) and the agents serving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKENS = """
[tokens]
"example-admin-token" = "admin"
"example-host-token" = "host"
"example-sup-token" = "supervisor"
"example-ann-token" = { role = "agent", agent = "ann" }
"""

CONFIG = """
[[engine.queues]]
name = "billing"
skills = { billing = 2 }

[[engine.queues]]
name = "general"
"""


def start(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the service on port 0; return the process and the URL it announced."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "valueroute.cli.serve", "--port", "0"),
            *("--journal", "journal.sqlite", "--tokens", "tokens.toml"),
            *("--config", "config.toml"),
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise SystemExit(f"the service did not start: {line!r}")
    return process, line.split("listening on ", 1)[1].strip()


def stop(process: subprocess.Popen[str]) -> int:
    os.kill(process.pid, signal.SIGTERM)
    code = process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()
    return code


def show(title: str, supervisor: httpx.Client) -> None:
    response = supervisor.get("/v1/queues")
    response.raise_for_status()
    print(title)
    for name, queue in sorted(response.json()["queues"].items()):
        oldest = queue["oldest_wait"]
        expected = queue["expected_wait"]
        if isinstance(expected, float):
            expected = f"{expected:.2f} s"
        print(
            f"  {name:<8} waiting {queue['waiting']}"
            f"  oldest {'-' if oldest is None else f'{oldest:.2f} s'}"
            f"  expected {'unknown' if expected is None else expected}"
            f"  agents {queue['agents']} ({queue['available']} available)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "tokens.toml").write_text(TOKENS)
        (folder / "config.toml").write_text(CONFIG)
        process, url = start(folder)
        print(f"service at {url}")

        def client(token: str) -> httpx.Client:
            return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})

        admin, host = client("example-admin-token"), client("example-host-token")
        supervisor, ann = client("example-sup-token"), client("example-ann-token")
        try:
            for task in ("b1", "b2", "b3"):
                spec = {"id": task, "queue": "billing", "skills": {"billing": 1}}
                host.post("/v1/tasks", json=spec).raise_for_status()
            show("three billing tasks, no agent:", supervisor)
            admin.post("/v1/agents", json={"id": "ann", "skills": {"billing": 2}})
            ann.put("/v1/agents/ann/state", json={"state": "not_ready"}).raise_for_status()
            show("ann logged on, not ready (no handle time known yet):", supervisor)
            ann.put("/v1/agents/ann/state", json={"state": "ready"}).raise_for_status()
            offer = ann.get("/v1/agents/ann/offers").json()["offers"][0]["task"]
            ann.post(f"/v1/offers/{offer}/accept").raise_for_status()
            time.sleep(0.2)  # a short call
            ann.post(f"/v1/tasks/{offer}/complete").raise_for_status()
            show(f"ann handled {offer} and was offered the next:", supervisor)
        finally:
            for each in (admin, host, supervisor, ann):
                each.close()
            print(f"SIGTERM -> exit code {stop(process)}")


if __name__ == "__main__":
    main()
