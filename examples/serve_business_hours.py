"""Business calendars through the service: due times and escalation in working hours.

Run: python examples/serve_business_hours.py

Starts `valueroute serve` on a free loopback port with an office calendar
(`[calendars.office]`: weekdays 08:00-18:00 in Berlin) as the default
calendar, a rule file that makes claims due in 8 business hours, and a
claims workflow whose first step (experts only) lasts 2 business hours.
It submits a claim and an e-mail over HTTP and prints when each is due,
counted in the office's open hours (a claim arriving on Friday evening is
not due on Saturday), checked against the same calendar built in Python.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from valueroute.calendar import calendar_from

CONFIG = """
[calendars.office]
timezone = "Europe/Berlin"
holidays = ["2026-12-25", "2026-12-26"]

[calendars.office.hours]
mon = [["08:00", "18:00"]]
tue = [["08:00", "18:00"]]
wed = [["08:00", "18:00"]]
thu = [["08:00", "18:00"]]
fri = [["08:00", "18:00"]]

[engine]
calendar = "office"        # tasks that name no calendar count its working time

[[engine.workflows]]
name = "claims"
types = ["claim"]
clock = "working"          # step timeouts in the task's working time
steps = [{ skills = { claims = 3 }, timeout = 7200 }, { skills = { claims = 1 } }]
"""

RULES = """
name = "due dates"
[[classification.rules]]
name = "claims are due in a working day"
when = { field = "type", op = "==", value = "claim" }
then = { due_in = "8 business hours" }
"""

BERLIN = ZoneInfo("Europe/Berlin")


def start(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the service on port 0 (no tokens: loopback only); return it and its URL."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "valueroute.cli.serve", "--port", "0"),
            *("--journal", "journal.sqlite", "--config", "config.toml"),
            *("--rules", "rules.toml"),
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


def shown(t: float) -> str:
    return dt.datetime.fromtimestamp(t, BERLIN).strftime("%a %d %b %H:%M")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "config.toml").write_text(CONFIG)
        (folder / "rules.toml").write_text(RULES)
        process, url = start(folder)
        print(f"service at {url}")
        try:
            with httpx.Client(base_url=url) as host:
                host.post("/v1/tasks", json={"id": "claim-1", "type": "claim"}).raise_for_status()
                mail = {"id": "mail-1", "type": "email", "due_in": 4 * 3600}
                host.post("/v1/tasks", json=mail).raise_for_status()
                claim = host.get("/v1/tasks/claim-1").json()
                email = host.get("/v1/tasks/mail-1").json()
        finally:
            print(f"SIGTERM -> exit code {stop(process)}")
    office = calendar_from(tomllib.loads(CONFIG)["calendars"]["office"], name="office")
    for task, hours in ((claim, 8), (email, 4)):
        print(
            f"{task['id']} submitted {shown(task['created'])}, due {shown(task['due'])} "
            f"({hours} business hours; calendar {task['explanation']['calendar']!r})"
        )
        assert task["due"] == office.add(task["created"], hours * 3600)
    step = claim["explanation"]
    print(f"claim-1 is in step {step['workflow_step']} of workflow {step['workflow']!r}")


if __name__ == "__main__":
    main()
