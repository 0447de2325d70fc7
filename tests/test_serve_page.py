"""The supervisor page in headless Chromium, driven over the DevTools protocol (pipe transport).

No browser-automation library: Chromium's ``--remote-debugging-pipe`` reads
DevTools commands as NUL-terminated JSON on file descriptor 3 and answers on 4.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serve_support import TOKENS, Server, start_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")


class DevTools:
    """A headless Chromium and one page, spoken to over the pipe transport."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_pipes() -> None:
            # Copied out of the way first: either end may itself be fd 3 or 4.
            reading, writing = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        assert CHROMIUM is not None
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # The DevTools pipe must be fds 3 and 4 of the browser.
            preexec_fn=wire_pipes,
            # 3 and 4 are kept open past the preexec step, which wired them.
            pass_fds=(3, 4, to_browser_read, from_browser_write),
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._next = 0
        self._buffer = b""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise AssertionError("Chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", self.session, url=url)

    def wait_for(self, expression: str, expected: Any, seconds: float = 20.0) -> Any:
        deadline = time.monotonic() + seconds
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value == expected:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{expression} is {value!r}, expected {expected!r}")

    def close(self) -> None:
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.process.kill()
        self.process.wait(timeout=20)


TASK_ROWS = "[...document.querySelectorAll('#tasks tr')].map(r => r.dataset.id)"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    tools = DevTools(tmp_path / "profile")
    yield tools
    tools.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "server")
    yield running
    assert running.terminate() == 0, running.stderr()


def test_the_page_shows_the_list_in_score_order_live_and_drops_assigned_tasks(
    browser: DevTools, server: Server
) -> None:
    with server.client("admin") as admin:
        assert admin.post("/v1/agents", json={"id": "ann"}).status_code == 201
    with server.client("host") as host:
        for task, priority in (("t-low", 1), ("t-high", 9)):
            assert host.post("/v1/tasks", json={"id": task, "priority": priority}).is_success

    browser.navigate(f"{server.url}/#token={TOKENS['supervisor']}")
    browser.wait_for(TASK_ROWS, ["t-high", "t-low"])
    browser.wait_for("document.getElementById('status').textContent", "live")

    with server.client("host") as host:
        assert host.post("/v1/tasks", json={"id": "t-mid", "priority": 5}).is_success
    browser.wait_for(TASK_ROWS, ["t-high", "t-mid", "t-low"])

    with server.client("agent") as ann:
        assert ann.put("/v1/agents/ann/state", json={"state": "ready"}).is_success
        assert ann.post("/v1/offers/t-high/accept").is_success
    browser.wait_for(TASK_ROWS, ["t-mid", "t-low"])
    agents = "[...document.querySelectorAll('#agents tr')].map(r => r.children[1].textContent)"
    browser.wait_for(agents, ["busy"])
    queue = "document.querySelector('#types tr[data-id=task]').children[1].textContent"
    browser.wait_for(queue, "2")

    with server.client("host") as host:
        assert host.post("/v1/tasks", json={"id": "c-1", "type": "chat-work"}).is_success
    browser.wait_for(TASK_ROWS, ["t-mid", "t-low", "c-1"])
    browser.evaluate(
        "(() => { const box = document.getElementById('f-type'); box.value = 'chat-work';"
        " box.dispatchEvent(new Event('input')); })()"
    )
    browser.wait_for(TASK_ROWS, ["c-1"])


def test_the_page_asks_for_a_token_when_it_has_none(browser: DevTools, server: Server) -> None:
    browser.navigate(f"{server.url}/")
    browser.wait_for("document.getElementById('login').hidden", False)
    browser.wait_for(TASK_ROWS, [])


QUEUE_CONFIG = """
[[engine.queues]]
name = "billing"
skills = { billing = 2 }
"""

QUEUE_CELLS = (
    "[...(document.querySelector('#queues tr[data-id=billing]') || {children: []}).children]"
    ".map(c => c.textContent)"
)


def test_the_page_shows_a_named_queue_live(browser: DevTools, tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", config=QUEUE_CONFIG)
    try:
        browser.navigate(f"{server.url}/#token={TOKENS['supervisor']}")
        browser.wait_for("document.getElementById('status').textContent", "live")
        # Queue, waiting, oldest wait, expected wait, agents serving, available.
        browser.wait_for(QUEUE_CELLS, ["billing", "0", "", "no agent", "0", "0"])
        with server.client("host") as host:
            for task in ("b1", "b2"):
                spec = {"id": task, "queue": "billing", "skills": {"billing": 1}}
                assert host.post("/v1/tasks", json=spec).status_code == 201
        browser.wait_for(f"{QUEUE_CELLS}.slice(1, 2)", ["2"])
        with server.client("admin") as admin:
            spec = {"id": "ann", "skills": {"billing": 2}}
            assert admin.post("/v1/agents?ready=true", json=spec).status_code == 201
        # ann is offered one of the two: one waits, and nothing is handled yet.
        browser.wait_for(f"{QUEUE_CELLS}.slice(1, 2)", ["1"])
        browser.wait_for(f"{QUEUE_CELLS}.slice(3)", ["", "1", "0"])
    finally:
        assert server.terminate() == 0, server.stderr()
