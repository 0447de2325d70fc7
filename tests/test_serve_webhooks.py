"""Webhooks: every event POSTed in order, signed, retried after failures, resumed after a kill."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from serve_support import start_server
from valueroute.errors import InvalidInputError
from valueroute.serve import Webhook, load_config

SECRET = "webhook-secret-0123456789"


class Receiver:
    """A plain HTTP server that records deliveries and fails the first ``failures`` of them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refused < receiver.failures:
                    receiver.refused += 1
                    self.send_response(500)
                else:
                    receiver.deliveries.append((dict(self.headers.items()), body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def seqs(self) -> list[int]:
        found: list[int] = []
        for _, body in list(self.deliveries):
            found += [event["seq"] for event in json.loads(body)["events"]]
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(failures=2)
    yield running
    running.close()


def _wait_for(condition: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_events_are_delivered_in_order_signed_and_resumed_after_a_kill(
    receiver: Receiver, tmp_path: Path
) -> None:
    config = f'[webhooks]\nurl = "{receiver.url}"\nsecret = "{SECRET}"\nbatch = 4\n'
    server = start_server(tmp_path, tokens=False, config=config)
    try:
        with server.client() as client:
            for i in range(5):
                assert client.post("/v1/tasks", json={"id": f"w{i}"}).is_success
        _wait_for(lambda: receiver.seqs()[-1:] == [10])
    finally:
        server.kill()
    assert receiver.refused == 2
    assert receiver.seqs() == list(range(1, 11))
    for headers, body in receiver.deliveries:
        timestamp = headers["X-Valueroute-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        assert headers["X-Valueroute-Signature"] == "sha256=" + expected.hexdigest()
        assert len(json.loads(body)["events"]) <= 4

    again = start_server(tmp_path, tokens=False, config=config)
    try:
        with again.client() as client:
            assert client.post("/v1/tasks", json={"id": "after"}).is_success
        _wait_for(lambda: receiver.seqs()[-1:] == [12])
    finally:
        assert again.terminate() == 0, again.stderr()
    seqs = receiver.seqs()
    # At least once, in order: after the restart delivery resumes after the last
    # batch recorded (a batch sent but not recorded may come again).
    assert sorted(set(seqs)) == list(range(1, 13))
    assert seqs[:10] == list(range(1, 11))
    assert seqs[-2:] == [11, 12]


def test_a_webhook_table_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    for text, named in (
        ('[webhooks]\nurl = "ftp://x"\nsecret = "' + SECRET + '"\n', "webhooks.url"),
        ('[webhooks]\nurl = "http://x/h"\nsecret = "short"\n', "webhooks.secret"),
        (
            '[webhooks]\nurl = "http://x/h"\nsecret = "' + SECRET + '"\nkinds = ["x"]\n',
            "webhooks.kinds",
        ),
        ('[webhooks]\nurl = "http://x/h"\nsecret = "' + SECRET + '"\nretries = 3\n', "webhooks"),
    ):
        path.write_text(text)
        with pytest.raises(InvalidInputError) as caught:
            load_config(path, journal=tmp_path / "j.sqlite")
        assert str(caught.value).startswith(named), str(caught.value)
        assert "short" not in str(caught.value)
    path.write_text('[webhooks]\nurl = "https://x.example/h"\nsecret = "' + SECRET + '"\n')
    webhook = load_config(path, journal=tmp_path / "j.sqlite")["webhook"]
    assert isinstance(webhook, Webhook)
    assert webhook.state_file == tmp_path / "j.sqlite.webhook"
    path.write_text('[webhooks]\nurl = "https://x.example/h"\nsecret = "' + SECRET + '"\n')
    with pytest.raises(InvalidInputError, match=r"webhooks\.state_file"):
        load_config(path, journal="postgresql://db/valueroute")
