"""The engine as an HTTP service: start `valueroute serve`, drive a task's lifecycle, stop it.

Run: python examples/serve_lifecycle.py

Starts the service on a free loopback port with a journal and a token file
in a scratch folder, then, over HTTP with httpx: registers an agent, makes
it ready, submits two tasks (the better one is offered to the agent at
once), resubmits one (idempotent: 200), updates the other under If-Match,
accepts and completes the offer, reads the event stream from the start, and
stops the service with SIGTERM (it snapshots and exits 0). A second start on
the same journal recovers every acknowledged command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

TOKENS = """
[tokens]
"example-admin-token" = "admin"
"example-host-token" = "host"
"example-ann-token" = { role = "agent", agent = "ann" }
"""


def start(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the service on port 0; return the process and the URL it announced."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "valueroute.cli.serve", "--port", "0"),
            *("--journal", "journal.sqlite", "--tokens", "tokens.toml"),
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


def show(response: httpx.Response) -> dict[str, object]:
    body: dict[str, object] = response.json()
    brief = {k: body[k] for k in ("id", "state", "version", "agent", "offers") if k in body}
    request = response.request
    print(f"  {request.method} {request.url.path} -> {response.status_code}", brief)
    return body


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "tokens.toml").write_text(TOKENS)
        process, url = start(folder)
        print(f"service at {url}")
        admin = httpx.Client(base_url=url, headers={"Authorization": "Bearer example-admin-token"})
        host = httpx.Client(base_url=url, headers={"Authorization": "Bearer example-host-token"})
        ann = httpx.Client(base_url=url, headers={"Authorization": "Bearer example-ann-token"})
        try:
            show(admin.post("/v1/agents", json={"id": "ann", "skills": {"billing": 2}}))
            show(ann.put("/v1/agents/ann/state", json={"state": "ready"}))
            claim = {"id": "claim-1", "type": "claim", "priority": 5, "skills": {"billing": 1}}
            show(host.post("/v1/tasks", json=claim))
            show(host.post("/v1/tasks", json=claim))  # the same again: 200, nothing new
            show(host.post("/v1/tasks", json={"id": "claim-2", "skills": {"billing": 1}}))
            etag = host.get("/v1/tasks/claim-2").headers["etag"]
            show(host.patch("/v1/tasks/claim-2", json={"priority": 3}, headers={"If-Match": etag}))
            stale = host.patch(
                "/v1/tasks/claim-2", json={"priority": 4}, headers={"If-Match": etag}
            )
            print(f"  a stale If-Match -> {stale.status_code} {stale.json()['title']}")
            show(ann.get("/v1/agents/ann/offers"))
            show(ann.post("/v1/offers/claim-1/accept"))
            show(ann.post("/v1/tasks/claim-1/complete"))
            print("events so far:")
            with host.stream("GET", "/v1/events?after=0") as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        print(f"  {event['seq']:>2} {event['kind']:<18} {event['task'] or ''}")
                        if event["kind"] == "task_completed":
                            break
        finally:
            for client in (admin, host, ann):
                client.close()
            print(f"SIGTERM -> exit code {stop(process)}")
        process, url = start(folder)
        token = {"Authorization": "Bearer example-host-token"}
        with httpx.Client(base_url=url, headers=token) as again:
            print("after a restart:", again.get("/v1/tasks/claim-2").json()["state"], end=", ")
            print("open tasks:", again.get("/v1/stats").json()["open"])
        print(f"SIGTERM -> exit code {stop(process)}")


if __name__ == "__main__":
    main()
