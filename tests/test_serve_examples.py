"""The service's shell client example and the guide's route table, against the real service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from serve_support import TOKENS, start_server
from valueroute.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
CLIENT = str(ROOT / "examples" / "serve_client.sh")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_shell_client_runs_a_whole_lifecycle(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        done = subprocess.run(
            ["sh", CLIENT, server.url, TOKENS["admin"], TOKENS["host"], TOKENS["agent"]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 7
        assert lines[2].endswith("(201)")
        assert '"state":"completed"' in lines[-1]
        with server.client("host") as host:
            assert host.get("/v1/tasks/sh-1").json()["state"] == "completed"
    finally:
        assert server.terminate() == 0, server.stderr()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_shell_client_stops_at_the_first_refusal(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        done = subprocess.run(
            ["sh", CLIENT, server.url, TOKENS["host"], TOKENS["host"], TOKENS["agent"]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 22, done.stdout + done.stderr
        assert '"status":403' in done.stdout
    finally:
        assert server.terminate() == 0, server.stderr()


def test_the_service_guide_lists_every_route() -> None:
    guide = (ROOT / "docs" / "service.md").read_text()
    for command in COMMANDS.values():
        method, path = command.route
        assert f"`{method} {path}`" in guide, command.name
