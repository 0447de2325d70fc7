"""Running the app under uvicorn: bind, announce, and shut down cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any

import uvicorn

from valueroute.serve._app import build_app
from valueroute.serve._service import EngineService
from valueroute.serve._settings import ServeSettings

__all__ = ["run"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the service first when a signal asks it to stop."""

    def __init__(
        self, config: uvicorn.Config, service: EngineService, announce: Callable[[str], None]
    ) -> None:
        super().__init__(config)
        self._service = service
        self._announce = announce
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            # Before the app's lifespan, which would log a journal that cannot
            # be opened as a traceback: run() raises it as the error it is.
            await self._service.start()
        except Exception:  # noqa: BLE001 - kept in start_error, raised by run()
            self.should_exit = True
            return
        await super().startup(sockets)
        if self.started and not self.should_exit and sockets:
            host, port = sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            self._announce(f"http://{shown}:{port}")

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in a signal handler: hand the work to the loop, never do it here.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._service.begin_shutdown)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises a caught SIGTERM after shutting down, which would
        # end the process with the signal's status; a clean stop exits 0.
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    # The protocol from getaddrinfo (IPPROTO_TCP) matters: asyncio sets
    # TCP_NODELAY only on sockets that say TCP, and without it each keep-alive
    # response waits about 40 ms for the client's delayed ACK.
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _print_address(address: str) -> None:
    print(f"valueroute serve: listening on {address}", flush=True)


def run(
    settings: ServeSettings,
    *,
    announce: Callable[[str], None] = _print_address,
    log_level: str = "warning",
    **uvicorn_options: Any,
) -> int:
    """Serve until SIGTERM or SIGINT, then drain, snapshot and return 0.

    ``announce(address)`` is called once the journal is recovered and the
    socket listens (by default it prints ``valueroute serve: listening on
    http://HOST:PORT``; with port 0 the port the system chose). Extra keyword
    arguments go to :class:`uvicorn.Config`. A journal that cannot be opened
    raises its error; a port in use raises :class:`OSError`.
    """
    app = build_app(settings)
    service: EngineService = app.state.service
    sock = _bind(settings.host, settings.port)
    options: dict[str, Any] = {
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        "server_header": False,
        # Headers beyond the app's own limit are refused while still arriving.
        "h11_max_incomplete_event_size": settings.limits.max_header_bytes + 4096,
    }
    options.update(uvicorn_options)
    config = uvicorn.Config(app, **options)
    server = _Server(config, service, announce)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
    if service.start_error is not None:
        raise service.start_error
    if not server.started:
        print("valueroute serve: the server did not start", file=sys.stderr)
        return 1
    return 0
