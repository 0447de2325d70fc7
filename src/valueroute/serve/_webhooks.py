"""Webhooks: POST every event, in order, to a configured URL, signed, retried until accepted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import math
import os
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.events import EventKind

if TYPE_CHECKING:
    from valueroute.serve._service import EngineService, StoredEvent

__all__ = ["Webhook", "sign"]

_MIN_SECRET = 16
_KINDS = frozenset(kind.value for kind in EventKind)


def _refuse(name: str, value: object, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{name}: got {bounded_repr(value)} (expected {expected})", [(name, value, expected)]
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of
    ``timestamp + "." + body`` under ``secret``. A receiver recomputes it and
    compares with :func:`hmac.compare_digest` (and refuses old timestamps)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where and how events are delivered.

    ``url``: ``http://`` or ``https://``; ``secret``: at least 16 characters,
    signs each delivery (``X-Valueroute-Signature``, see :func:`sign`);
    ``state_file``: where the last delivered sequence number is kept, so a
    restart resumes after it (delivery is at least once: a batch sent but not
    yet recorded is sent again); ``kinds``: the event kinds to send (default
    all; the others are skipped, not sent); ``batch``: events per POST;
    ``timeout``: seconds per attempt; ``max_backoff``: the longest wait
    between attempts (the wait doubles from 0.25 s after each failure).
    """

    url: str
    secret: str
    state_file: Path
    kinds: frozenset[str] | None = None
    batch: int = 100
    timeout: float = 10.0
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise _refuse("webhooks.url", self.url, "an http:// or https:// URL")
        if not isinstance(self.secret, str) or len(self.secret) < _MIN_SECRET:
            length = len(self.secret) if isinstance(self.secret, str) else "not text"
            raise _refuse(
                "webhooks.secret",
                f"<a secret of length {length}>",
                f"text of at least {_MIN_SECRET} characters",
            )
        if not isinstance(self.state_file, Path):
            raise _refuse("webhooks.state_file", self.state_file, "a file path")
        if self.kinds is not None:
            unknown = sorted(set(self.kinds) - _KINDS)
            if unknown:
                raise _refuse("webhooks.kinds", unknown[0], "event kinds such as task_submitted")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise _refuse("webhooks.batch", self.batch, "an integer >= 1")
        for name in ("timeout", "max_backoff"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value > 0)
            ):
                raise _refuse(f"webhooks.{name}", value, "finite seconds > 0")

    @classmethod
    def from_table(cls, table: dict[str, Any], *, journal: Path | str) -> Webhook:
        """A webhook from a configuration file's ``[webhooks]`` table.

        ``state_file`` defaults to the journal's path plus ``.webhook`` (a
        PostgreSQL journal needs it given).
        """
        allowed = {"url", "secret", "state_file", "kinds", "batch", "timeout", "max_backoff"}
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise _refuse("webhooks", unknown[0], f"only {sorted(allowed)}")
        options = dict(table)
        state = options.pop("state_file", None)
        if state is None:
            if not isinstance(journal, Path):
                raise _refuse("webhooks.state_file", None, "a file path (the journal is a URL)")
            state = journal.with_name(journal.name + ".webhook")
        kinds = options.pop("kinds", None)
        if kinds is not None and (
            not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds)
        ):
            raise _refuse("webhooks.kinds", kinds, "a list of event kinds")
        return cls(
            state_file=Path(state),
            kinds=None if kinds is None else frozenset(kinds),
            **options,
        )

    def delivered(self) -> int | None:
        """The last sequence number delivered, or ``None`` before the first delivery."""
        try:
            text = self.state_file.read_text().strip()
        except FileNotFoundError:
            return None
        if not text.isdigit():
            raise _refuse("webhooks.state_file", text, "the last delivered sequence number")
        return int(text)

    def record(self, seq: int) -> None:
        """Keep ``seq`` as delivered (written aside, fsynced, then renamed into place)."""
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        with temporary.open("w") as file:
            file.write(f"{seq}\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.state_file)


async def _post(webhook: Webhook, body: bytes, headers: dict[str, str]) -> int:
    """One POST; returns the status code. Network failures raise OSError or TimeoutError."""
    parts = urlsplit(webhook.url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        lines = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        fields = status_line.split()
        if len(fields) < 2 or not fields[1].isdigit():
            raise OSError(f"not an HTTP response: {status_line[:80]!r}")
        return int(fields[1])
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _selected(events: Iterable[StoredEvent], kinds: frozenset[str] | None) -> list[StoredEvent]:
    return [event for event in events if kinds is None or event[1] in kinds]


async def deliver(service: EngineService, webhook: Webhook) -> None:
    """Deliver events to ``webhook`` until the service stops: in order, batched, retried."""
    delivered = webhook.delivered()
    if delivered is None:
        delivered = service.oldest_buffered - 1
    backoff = 0.25
    while not service.stopping:
        news = service.news
        if delivered + 1 < service.oldest_buffered:
            older = await service.backfill(delivered, service.oldest_buffered)
            pending = older if older is not None else []
            if older is None:
                delivered = service.oldest_buffered - 1
        else:
            pending = service.events_after(delivered)
        pending = pending[: webhook.batch]
        if not pending:
            await news.wait()
            continue
        chosen = _selected(pending, webhook.kinds)
        if chosen:
            body = b'{"events":[' + b",".join(text.encode() for _, _, text in chosen) + b"]}"
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Valueroute-Timestamp": timestamp,
                "X-Valueroute-Signature": sign(webhook.secret, timestamp, body),
                "X-Valueroute-Last-Seq": str(chosen[-1][0]),
            }
            try:
                status = await asyncio.wait_for(
                    _post(webhook, body, headers), timeout=webhook.timeout
                )
            except (OSError, TimeoutError):
                status = 0
            if not 200 <= status < 300:
                service.webhook_failures += 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, webhook.max_backoff)
                continue
        backoff = 0.25
        delivered = pending[-1][0]
        await asyncio.to_thread(webhook.record, delivered)
        service.webhook_delivered = delivered
