"""Running the app under uvicorn: bind, announce, and shut down cleanly on SIGTERM.

uvicorn parses HTTP with httptools and runs on uvloop when they are installed
(the ``serve`` extra brings them: together they roughly double the commands a
server takes per second), with its pure-Python h11 parser and asyncio's loop
otherwise. Either way a request head larger than the limits is refused while
still arriving.

Once the journal is recovered, the process's garbage collector is set for a
long-running service (see :func:`_collect_for_service`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import sys
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any

import uvicorn

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn's h11 parser serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.serve._app import build_app
from valueroute.serve._service import EngineService
from valueroute.serve._settings import ServeSettings

__all__ = ["run"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

FULL_COLLECTION_EVERY = 100
"""Second-generation collections between two full ones while serving (Python's default: 10)."""


@contextlib.contextmanager
def _collect_for_service() -> Generator[None, None, None]:
    """Keep the garbage collector's full collections away from the requests.

    A service's memory is long-lived by design: modules, the recovered
    engine, the event buffer, the closed tasks kept for idempotent
    resubmission. Python's collector scans every object of it in each full
    collection; under load (64 clients, 10,000 commands/s) that came twice
    a second, paused every request for 40-80 ms, and freed nothing (the
    service makes next to no reference cycles). So, once recovered: collect
    once, freeze what is there (the collector never scans it again; a frozen
    object is still freed when its last reference goes, only a cycle among
    frozen objects would stay), and run a full collection every
    :data:`FULL_COLLECTION_EVERY` second-generation collections instead of
    every 10. Undone on leaving, for a host that calls :func:`run` in a
    longer-lived process: the thresholds always; the freeze only when
    nothing was frozen before (Python can only unfreeze everything, which
    would also unfreeze what the host, or the interpreter itself as Python
    3.12 does, froze before: then what the service froze stays frozen).
    """
    thresholds = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1], FULL_COLLECTION_EVERY)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if frozen_before == 0:
            gc.unfreeze()


class _Server(uvicorn.Server):
    """uvicorn's server, telling the service first when a signal asks it to stop."""

    def __init__(
        self,
        config: uvicorn.Config,
        service: EngineService,
        announce: Callable[[str], None],
        collector: contextlib.ExitStack | None,
    ) -> None:
        super().__init__(config)
        self._service = service
        self._announce = announce
        self._collector = collector
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
        if self._collector is not None and self.started and not self.should_exit:
            self._collector.enter_context(_collect_for_service())
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


def _limited_httptools(head_limit: int) -> type[asyncio.Protocol] | None:
    """uvicorn's httptools protocol, refusing a request head over ``head_limit`` bytes.

    httptools keeps a head arriving in pieces in memory without bound (uvicorn
    bounds h11's with ``h11_max_incomplete_event_size``): the bytes fed while
    a head is incomplete are counted, and past the limit the connection is
    answered ``431`` and closed. ``None`` without httptools.
    """
    if HttpToolsProtocol is None:
        return None
    refusal = (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/problem+json\r\nconnection: close\r\n"
    )
    detail = (
        b'{"type":"urn:valueroute:problem:request-header-fields-too-large",'
        b'"title":"Request Header Fields Too Large","status":431,'
        b'"detail":"headers: more than %d bytes (expected at most %d)","errors":[]}'
        % (head_limit, head_limit)
    )
    refusal += b"content-length: %d\r\n\r\n" % len(detail) + detail

    class LimitedHttpTools(HttpToolsProtocol):
        _head_bytes = 0
        _in_head = True

        def on_message_begin(self) -> None:
            self._in_head = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._head_bytes = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            # What comes next on a kept-alive connection is the next head.
            self._in_head = True
            super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            waiting = self._in_head
            super().data_received(data)
            if waiting and self._in_head and not self.transport.is_closing():
                # The whole chunk went into a head not yet complete.
                self._head_bytes += len(data)
                if self._head_bytes > head_limit:
                    self.transport.write(refusal)
                    self.transport.close()

    return LimitedHttpTools


def _print_address(address: str) -> None:
    print(f"valueroute serve: listening on {address}", flush=True)


def run(
    settings: ServeSettings,
    *,
    announce: Callable[[str], None] = _print_address,
    log_level: str = "warning",
    tune_collector: bool = True,
    **uvicorn_options: Any,
) -> int:
    """Serve until SIGTERM or SIGINT, then drain, snapshot and return 0.

    ``announce(address)`` is called once the journal is recovered and the
    socket listens (by default it prints ``valueroute serve: listening on
    http://HOST:PORT``; with port 0 the port the system chose). Extra keyword
    arguments go to :class:`uvicorn.Config`. A journal that cannot be opened
    raises its error; a port in use raises :class:`OSError`.

    ``tune_collector``: once recovered, freeze what start-up made and run the
    garbage collector's full collections ten times less often while serving
    (see :data:`FULL_COLLECTION_EVERY`; both undone when ``run`` returns, the
    freeze only if nothing was frozen before).
    ``False`` leaves the process's collector as it is.
    """
    if not isinstance(tune_collector, bool):
        raise InvalidInputError(
            f"tune_collector: got {bounded_repr(tune_collector)} (expected True or False)",
            [("tune_collector", bounded_repr(tune_collector), "True or False")],
        )
    app = build_app(settings)
    service: EngineService = app.state.service
    sock = _bind(settings.host, settings.port)
    head_limit = settings.limits.max_header_bytes + 4096
    parser = _limited_httptools(head_limit)
    options: dict[str, Any] = {
        "http": "h11" if parser is None else parser,
        "loop": "auto",
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        "server_header": False,
        # The service reads neither the client's address nor the scheme (its
        # links are relative paths), so uvicorn's rewriting of both from
        # X-Forwarded-* headers would be work on every request for nothing.
        "proxy_headers": False,
        # Headers beyond the app's own limit are refused while still arriving.
        "h11_max_incomplete_event_size": head_limit,
    }
    options.update(uvicorn_options)
    config = uvicorn.Config(app, **options)
    collector = contextlib.ExitStack() if tune_collector else None
    server = _Server(config, service, announce, collector)
    try:
        # uvloop's loop when installed ("auto"), as uvicorn.run would choose.
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(server.serve(sockets=[sock]))
    finally:
        if collector is not None:
            collector.close()
        sock.close()
    if service.start_error is not None:
        raise service.start_error
    if not server.started:
        print("valueroute serve: the server did not start", file=sys.stderr)
        return 1
    return 0
