"""The service under load over loopback, against a bare endpoint of the same framework.

Workload: 64 concurrent clients, each with its own agent (a skill only it
has, so the pushed offer of its task goes to it). One cycle is submit ->
(pushed offer) accept -> complete: three commands over HTTP with bearer
tokens, each answered only once durable in the SQLite journal (group
commit). The baseline, measured in the same run: a bare Starlette endpoint
on the same uvicorn that parses the same JSON bodies and returns 200. Each
server and the load generator run in their own processes; the load
generator is a small keep-alive HTTP/1.1 client on asyncio (one connection
per client), so the measurement is the server's, not a client library's.

Targets (issue 17): >= 5,000 commands/s, p99 <= 25 ms, and >= 50 % of the
bare endpoint's requests/s.

Also reported: the server's CPU time per command (user + system time of the
server process, all its threads, over the commands it committed during the
load, warm-up included; Linux only), which moves far less than the rates
when other work shares the machine, and the load average at the end.

And where the service's CPU goes (Linux only), in the same run: the CPU per
request of uvicorn alone (a raw ASGI app that reads the body and answers
``{}``) and of the bare endpoint, and the service's command work alone, in
this process without HTTP (each body validated into its command's argument
model, run through a durable engine configured as the service's, committed
in batches of the size the service's group commit reached). What remains of
the service's CPU per command is its HTTP handling (authentication, limits,
routing, reading and rendering JSON, waiting for the commit); the report
gives the most that handling could cost for the ratio target to be met.

    python benchmarks/bench_serve.py [--seconds 5] [--clients 64] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _timing import results_dir

TOKEN = "bench-host-token-1"
TOKEN_FILE = f'[tokens]\n"{TOKEN}" = "admin"\n'
CONFIG = "[engine]\noffer_timeout = 3600\n[limits]\nmax_in_flight = 4096\n"


# ---------------------------------------------------------------------- load generator


class _Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read the whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def call(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


async def _client(
    url: str,
    index: int,
    mode: str,
    stop_at: float,
    latencies: list[float],
    errors: list[str],
    prefix: str = "c",
) -> int:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = _Connection(*await asyncio.open_connection(host, int(port)))
    done = 0
    number = 0
    clock = time.perf_counter
    while clock() < stop_at:
        task = f"{prefix}{index}-{number}"
        number += 1
        steps = (
            ("POST", "/v1/tasks", {"id": task, "skills": {f"s{index}": 1}}),
            ("POST", f"/v1/offers/{task}/accept", {"agent": f"a{index}"}),
            ("POST", f"/v1/tasks/{task}/complete", {}),
        )
        for method, path, body in steps:
            if mode == "bare":
                path = "/bare"
            start = clock()
            status, answer = await connection.call(method, path, json.dumps(body).encode())
            latencies.append(clock() - start)
            if not 200 <= status < 300:
                errors.append(f"{status} {path} {answer[:200]!r}")
                return done
            done += 1
    connection.writer.close()
    return done


async def _load(url: str, mode: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    warmup_until = time.perf_counter() + 0.5
    warmup = await asyncio.gather(
        *(_client(url, i, mode, warmup_until, [], errors, "w") for i in range(clients))
    )
    start = time.perf_counter()
    counts = await asyncio.gather(
        *(_client(url, i, mode, start + seconds, latencies, errors) for i in range(clients))
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "mode": mode,
        "clients": clients,
        "seconds": elapsed,
        "requests": sum(counts),
        "warmup_requests": sum(warmup),
        "requests_per_second": sum(counts) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        "errors": errors[:5],
    }


# ---------------------------------------------------------------------- servers


def _bare_server() -> None:
    """A bare Starlette endpoint on uvicorn: parse the JSON body, return 200."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def bare(request: Request) -> Response:
        json.loads(await request.body())
        return Response(b"{}", media_type="application/json")

    _serve_on_loopback(Starlette(routes=[Route("/bare", bare, methods=["POST"])]))


def _serve_on_loopback(app: Any) -> None:
    """Serve ``app`` on uvicorn on a free loopback port, printing its address."""
    import uvicorn

    # IPPROTO_TCP as uvicorn's own binding has it: asyncio sets TCP_NODELAY only on
    # sockets whose protocol says TCP (a plain socket.socket() says 0, and every
    # keep-alive response then waits 40 ms for a delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    # The parser and loop `valueroute serve` picks: httptools and uvloop when installed.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, server_header=False, loop="auto"
    )
    server = uvicorn.Server(config)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(server.serve(sockets=[sock]))


def _null_server() -> None:
    """uvicorn alone: a raw ASGI app that reads the body and answers ``{}``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        headers = [(b"content-length", b"2"), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    _serve_on_loopback(app)


def _request_cpu(arguments: list[str], folder: Path, clients: int, seconds: float) -> float | None:
    """CPU microseconds per request of a server answering the load (warm-up included)."""
    server, url = _start(arguments, folder)
    try:
        before = _cpu_seconds(server.pid)
        result = _run_load(url, "bare", clients, seconds)
        after = _cpu_seconds(server.pid)
    finally:
        _stop(server)
    requests = result["requests"] + result["warmup_requests"]
    if before is None or after is None or requests <= 0:
        return None
    return 1e6 * (after - before) / requests


def _command_work(folder: Path, clients: int, seconds: float, batch: int) -> float:
    """CPU microseconds per command of the service's command work without HTTP: the
    bodies validated into each command's arguments, run through a durable engine
    opened as the service opens it, committed ``batch`` commands at a time."""
    from valueroute.commands import COMMANDS
    from valueroute.journal import DurableEngine
    from valueroute.serve import ServeSettings, load_config

    journal = folder / "command-work.sqlite"
    settings = ServeSettings(journal=journal, **load_config(folder / "config.toml"))
    durable = DurableEngine.open(
        journal, settings.build_engine, sync="group", group_size=1 << 40, group_seconds=1e12
    )

    def run(name: str, path: dict[str, Any], body: dict[str, Any]) -> None:
        command = COMMANDS[name]
        values: dict[str, Any] = dict(path)
        if command.body is None:
            values.update(body)
        else:
            model = command.body_model
            values[command.body] = body if model is None else model.model_validate(body)
        command.invoke(durable, command.arguments.model_validate(values))

    for index in range(clients):
        run("add_agent", {"ready": True}, {"id": f"a{index}", "skills": {f"s{index}": 1}})
    durable.flush()
    done = waiting = 0
    stop_at = time.perf_counter() + seconds
    start = time.process_time()
    number = 0
    while time.perf_counter() < stop_at:
        for index in range(clients):
            task = f"c{index}-{number}"
            for name, path, body in (
                ("submit", {}, {"id": task, "skills": {f"s{index}": 1}}),
                ("accept", {"task": task}, {"agent": f"a{index}"}),
                ("complete", {"task": task}, {}),
            ):
                run(name, path, json.loads(json.dumps(body)))
                done += 1
                waiting += 1
                if waiting == batch:
                    pending = durable.detach_pending()
                    assert pending is not None
                    durable.commit_detached(pending)
                    waiting = 0
        number += 1
    durable.flush()
    spent = time.process_time() - start
    durable.close()
    return 1e6 * spent / done


def _stack() -> dict[str, str | None]:
    """The HTTP parser and event loop the servers use, and their versions."""
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "uvicorn": version("uvicorn"),
        "httptools": version("httptools"),
        "uvloop": version("uvloop"),
        "parser": "httptools" if version("httptools") else "h11",
        "loop": "uvloop" if version("uvloop") else "asyncio",
    }


def _start(arguments: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, line.split("listening on ", 1)[1].strip()


def _stop(process: subprocess.Popen[str]) -> int:
    os.kill(process.pid, signal.SIGTERM)
    code = process.wait(timeout=60)
    if process.stdout is not None:
        process.stdout.close()
    return code


def _run_load(url: str, mode: str, clients: int, seconds: float) -> dict[str, Any]:
    """The load generator in its own process."""
    done = subprocess.run(
        [
            *(sys.executable, __file__, "--load", url, "--mode", mode),
            *("--clients", str(clients), "--seconds", str(seconds)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (all threads), from /proc; ``None``
    where there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _add_agents(url: str, clients: int) -> None:
    async def add() -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = _Connection(*await asyncio.open_connection(host, int(port)))
        for index in range(clients):
            body = json.dumps({"id": f"a{index}", "skills": {f"s{index}": 1}}).encode()
            status, answer = await connection.call("POST", "/v1/agents?ready=true", body)
            if status != 201:
                raise RuntimeError(f"adding agent a{index}: {status} {answer!r}")
        connection.writer.close()

    asyncio.run(add())


def _readyz(url: str) -> dict[str, Any]:
    async def ask() -> dict[str, Any]:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = _Connection(*await asyncio.open_connection(host, int(port)))
        _status, answer = await connection.call("GET", "/readyz", b"")
        connection.writer.close()
        found: dict[str, Any] = json.loads(answer)
        return found

    return asyncio.run(ask())


def _parts(folder: Path, clients: int, seconds: float, batch: int) -> dict[str, float | None]:
    """Where the CPU of a command goes: uvicorn alone, the bare endpoint, the command work."""
    return {
        "uvicorn_alone_us_per_request": _request_cpu(
            [sys.executable, __file__, "--null-server"], folder, clients, seconds
        ),
        "bare_endpoint_us_per_request": _request_cpu(
            [sys.executable, __file__, "--bare-server"], folder, clients, seconds
        ),
        "command_work_us_per_command": _command_work(folder, clients, seconds, batch),
        "commit_batch": batch,
    }


def _print_parts(parts: dict[str, float | None]) -> None:
    uvicorn_alone = parts["uvicorn_alone_us_per_request"]
    bare = parts["bare_endpoint_us_per_request"]
    work = parts["command_work_us_per_command"]
    service = parts["service_us_per_command"]
    if uvicorn_alone is None or bare is None or work is None or service is None:
        return
    handling = service - uvicorn_alone - work
    # Both servers use one core: the ratio of rates is about bare CPU / service CPU.
    budget = 2 * bare - uvicorn_alone - work
    print(
        f"CPU per request/command: uvicorn alone {uvicorn_alone:.0f} us, bare endpoint "
        f"{bare:.0f} us, service {service:.0f} us = uvicorn {uvicorn_alone:.0f} + command work "
        f"{work:.0f} (in-process, commits of {parts['commit_batch']:.0f}) + HTTP handling "
        f"{handling:.0f}; a ratio of 0.5 leaves the HTTP handling {budget:.0f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="serve", help=argparse.SUPPRESS)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--null-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        _bare_server()
        return
    if args.null_server:
        _null_server()
        return
    if args.load:
        print(json.dumps(asyncio.run(_load(args.load, args.mode, args.clients, args.seconds))))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "tokens.toml").write_text(TOKEN_FILE)
        (folder / "config.toml").write_text(CONFIG)
        baselines: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        stopped = 0
        # Alternating rounds on a shared machine; each mode keeps its best round.
        for number in range(args.rounds):
            bare, bare_url = _start([sys.executable, __file__, "--bare-server"], folder)
            try:
                baselines.append(_run_load(bare_url, "bare", args.clients, args.seconds))
            finally:
                _stop(bare)
            service, url = _start(
                [
                    *(sys.executable, "-m", "valueroute.cli.serve", "--port", "0"),
                    *("--journal", f"journal-{number}.sqlite", "--tokens", "tokens.toml"),
                    *("--config", "config.toml"),
                ],
                folder,
            )
            try:
                _add_agents(url, args.clients)
                before, cpu_before = _readyz(url), _cpu_seconds(service.pid)
                runs.append(_run_load(url, "serve", args.clients, args.seconds))
                cpu_after = _cpu_seconds(service.pid)
                runs[-1]["readyz"] = ready = _readyz(url)
                commands = ready["committed_commands"] - before["committed_commands"]
                runs[-1]["server_cpu_us_per_command"] = (
                    None
                    if cpu_before is None or cpu_after is None or commands <= 0
                    else 1e6 * (cpu_after - cpu_before) / commands
                )
            finally:
                stopped = max(stopped, _stop(service))
        baseline = max(baselines, key=lambda r: r["requests_per_second"])
        served = max(runs, key=lambda r: r["requests_per_second"])
        journal_bytes = (folder / "journal-0.sqlite").stat().st_size
        ready = served["readyz"]
        group = ready["committed_commands"] / max(ready["commits"], 1)
        parts = _parts(folder, args.clients, args.seconds, max(1, round(group)))
        parts["service_us_per_command"] = served["server_cpu_us_per_command"]

    ratio = served["requests_per_second"] / baseline["requests_per_second"]
    result = {
        "benchmark": "serve",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "stack": _stack(),
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "service": served,
        "service_rounds": [r["requests_per_second"] for r in runs],
        "bare_rounds": [r["requests_per_second"] for r in baselines],
        "bare_endpoint": baseline,
        "ratio_to_bare": ratio,
        "journal_bytes": journal_bytes,
        "commands_per_commit": group,
        "server_cpu_us_per_command": [r["server_cpu_us_per_command"] for r in runs],
        "cpu_parts_us": parts,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "clean_stop": stopped == 0,
        "targets": {
            "commands_per_second": 5000,
            "p99_ms": 25,
            "ratio_to_bare": 0.5,
        },
    }
    out = results_dir() / "bench_serve.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"service: {served['requests_per_second']:,.0f} commands/s, "
        f"p50 {served['p50_ms']:.1f} ms, p99 {served['p99_ms']:.1f} ms "
        f"({args.clients} clients, durable, group commit)"
    )
    print(
        f"bare endpoint: {baseline['requests_per_second']:,.0f} requests/s, "
        f"p99 {baseline['p99_ms']:.1f} ms"
    )
    print(f"ratio to bare: {ratio:.2f} (target >= 0.50); clean stop: {stopped == 0}")
    print(f"group commit: {group:.1f} commands per commit (one fsync each)")
    cpu = [value for value in result["server_cpu_us_per_command"] if value is not None]
    if cpu:
        shown = ", ".join(f"{value:.0f}" for value in cpu)
        print(f"server CPU per command: {shown} us (per round)")
    _print_parts(parts)
    stack = result["stack"]
    print(f"HTTP parser {stack['parser']}, event loop {stack['loop']}")
    if served["errors"] or baseline["errors"]:
        raise SystemExit(f"errors: {served['errors'] or baseline['errors']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
