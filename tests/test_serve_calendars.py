"""Business calendars through the service: configured in `[calendars.<name>]`, used by
tasks, rules (at start and set over HTTP), workflows and queues, kept across a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from serve_support import start_server
from valueroute.calendar import calendar_from
from valueroute.errors import InvalidInputError
from valueroute.models import TaskSpec
from valueroute.serve import ServeSettings, load_config

OFFICE = {
    "timezone": "UTC",
    "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}

CONFIG = """
[calendars.office]
timezone = "UTC"

[calendars.office.hours]
mon = [["09:00", "17:00"]]
tue = [["09:00", "17:00"]]
wed = [["09:00", "17:00"]]
thu = [["09:00", "17:00"]]
fri = [["09:00", "17:00"]]

[engine]
calendar = "office"         # tasks that name no calendar count working time in it

[[engine.queues]]
name = "inbox"
max_wait = 14400
clock = "working"

[[engine.workflows]]
name = "claims"
types = ["claim"]
clock = "working"
steps = [{ timeout = 7200 }, { priority = 5 }]
"""

RULES = """
name = "claims"
[[classification.rules]]
name = "claims are due in a working day"
when = { field = "type", op = "==", value = "claim" }
then = { calendar = "office", due_in = "8 business hours" }
"""


def _explained(document: dict[str, Any], name: str) -> Any:
    if name in document:
        return document[name]
    return document["explanation"][name]


def test_calendars_configured_in_the_service_serve_tasks_rules_workflows_and_queues(
    tmp_path: Path,
) -> None:
    office = calendar_from(OFFICE, name="office")
    (tmp_path / "rules.toml").write_text(RULES)
    extra = ["--rules", str(tmp_path / "rules.toml")]
    server = start_server(tmp_path, tokens=False, config=CONFIG, extra=extra)
    try:
        with server.client() as client:
            posted = client.post("/v1/tasks", json={"id": "m1", "due_in": 3600, "queue": "inbox"})
            assert posted.status_code == 201, posted.text
            mail = client.get("/v1/tasks/m1").json()
            assert client.post("/v1/tasks", json={"id": "c1", "type": "claim"}).is_success
            claim = client.get("/v1/tasks/c1").json()
            # The same rules set over HTTP: compiled with the service's calendars.
            put = client.put("/v1/rules", json={"text": RULES})
            assert put.is_success, put.text
            assert client.post("/v1/tasks", json={"id": "c2", "type": "claim"}).is_success
            second = client.get("/v1/tasks/c2").json()
    finally:
        server.kill()
    assert _explained(mail, "calendar") == "office"
    assert mail["due"] == office.add(mail["created"], 3600)
    assert claim["due"] == office.add(claim["created"], 8 * 3600)
    assert second["due"] == office.add(second["created"], 8 * 3600)
    assert _explained(claim, "workflow") == "claims"
    assert _explained(claim, "step_since") == claim["created"]

    again = start_server(tmp_path, tokens=False, config=CONFIG, extra=extra)
    try:
        with again.client() as client:
            for before in (mail, claim, second):
                after = client.get(f"/v1/tasks/{before['id']}").json()
                assert after["due"] == before["due"]
                assert _explained(after, "calendar") == "office"
    finally:
        assert again.terminate() == 0, again.stderr()


def test_config_calendars_reach_the_engine_and_its_rules(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    (tmp_path / "rules.toml").write_text(RULES)
    settings = ServeSettings(
        journal=tmp_path / "j.sqlite", rules=tmp_path / "rules.toml", **load_config(path)
    )
    monday = 1796601600.0  # Monday 7 December 2026, 00:00 UTC
    engine = settings.build_engine(lambda: monday)
    assert list(engine.calendars) == ["office"]
    assert engine.default_calendar == "office"
    # The rules name the engine's own calendar object: a claim is due after a working day.
    assert engine.submit(TaskSpec(id="c", type="claim")).due == monday + 17 * 3600


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("calendars = 3\n", "calendars"),
        ("[calendars.office]\nhours = '24/7'\n", "calendar 'office': timezone"),
        ("[calendars.office]\ntimezone = 'Mars/Olympus'\nhours = '24/7'\n", "timezone"),
        ("[calendars.office]\nname = 'other'\ntimezone = 'UTC'\nhours = '24/7'\n", "name"),
        ("[calendars.office]\ntimezone = 'UTC'\nhours = '24/7'\nopen = true\n", "calendar"),
    ],
)
def test_a_wrong_calendar_in_the_config_is_refused_naming_it(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=named):
        load_config(path)
    # The command refuses it in one line before binding.
    done = subprocess.run(
        [sys.executable, "-m", "valueroute.cli.serve", "--port", "0", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert named.split(":")[0] in done.stderr, done.stderr


def test_an_unknown_default_calendar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[engine]\ncalendar = "office"\n')
    settings = ServeSettings(journal=tmp_path / "j.sqlite", **load_config(path))
    with pytest.raises(InvalidInputError, match="calendar"):
        settings.build_engine(lambda: 0.0)
