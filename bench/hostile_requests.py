"""What hostile requests cost the real processes: a huge anonymous body, a huge header, many
headers, a body cut short, a dot-segment path.

Starts the real processes with `telemed.launcher.Launcher` (SQLite, a scratch `var/`), then, all
anonymous and through the gateway's port over raw sockets:

- a 400 MB JSON body to `POST /api/consult/cases`, once with `Content-Length` and once chunked:
  the answer, how long it took, how much was sent, and the resident memory (RSS before, peak
  during, RSS after) of the gateway and consult;
- a 48 MiB header on `GET /health` while another client polls `/health` on its own keep-alive
  connection: the poller's latency before and during, and what the hostile request got;
- 1,000 headers; a body that stops short of its `Content-Length` (how long the connection is
  held, capped at 45 s); `/api/consult/..%2f..%2fmetrics`.

    .venv/bin/python bench/hostile_requests.py [--body-mb 400] [--header-mib 48]
"""

import argparse
import asyncio
import contextlib
import itertools
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import support
from bench.support import Stack
from telemed.registry import GATEWAY

HOST = "127.0.0.1"
MIB = 1024 * 1024
SLOW_BODY_CAP = 45.0
T = TypeVar("T")


@dataclass
class Outcome:
    status: int | None  # None: the connection closed with no answer (or none within the cap)
    seconds: float
    sent: int = 0


async def _status(reader: asyncio.StreamReader) -> int | None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
        line = await reader.readuntil(b"\r\n")
        return int(line[9:12])
    return None


async def _send_then_read(port: int, head: bytes, pieces: Iterable[bytes] = ()) -> Outcome:
    """Sends `head`, then `pieces`, while reading the answer; stops sending as soon as an
    answer (or a closed connection) comes, as a real client would."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(HOST, port)
    sent = 0

    async def pump() -> None:
        nonlocal sent
        writer.write(head)
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            sent += len(piece)

    answer = asyncio.ensure_future(_status(reader))
    sending = asyncio.ensure_future(pump())
    try:
        await asyncio.wait({answer, sending}, return_when=asyncio.FIRST_COMPLETED)
        if sending.done() and sending.exception() is None:
            await asyncio.wait({answer}, timeout=120)
        status = answer.result() if answer.done() else None
        return Outcome(status, time.monotonic() - started, sent)
    finally:
        for task in (answer, sending):
            task.cancel()
        await asyncio.gather(answer, sending, return_exceptions=True)
        writer.close()


async def huge_body(port: int, size: int, *, chunked: bool) -> Outcome:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST /api/consult/cases HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()
    # One JSON string: what a parser would have to hold whole.
    opening, closing = b'{"question": "', b'"}'
    middle = size - len(opening) - len(closing)
    pieces = [opening, *[b"x" * MIB] * (middle // MIB), b"x" * (middle % MIB), closing]
    if not chunked:
        return await _send_then_read(port, head, pieces)
    framed = (b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces)  # made as sent
    return await _send_then_read(port, head, itertools.chain(framed, [b"0\r\n\r\n"]))


async def huge_header(port: int, size: int) -> Outcome:
    head = f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Filler: ".encode()
    return await _send_then_read(port, head, [b"a" * MIB] * (size // MIB) + [b"\r\n\r\n"])


async def many_headers(port: int, count: int) -> Outcome:
    lines = "".join(f"X-Header-{index}: {index}\r\n" for index in range(count))
    head = f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\n{lines}\r\n".encode()
    return await _send_then_read(port, head)


async def short_body(port: int) -> Outcome:
    head = (
        f"POST /api/consult/cases HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(head + b'{"question": "')
        try:
            status = await asyncio.wait_for(_status(reader), SLOW_BODY_CAP)
        except TimeoutError:
            status = None
        return Outcome(status, time.monotonic() - started)
    finally:
        writer.close()


async def raw_get(port: int, target: str) -> Outcome:
    head = f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    return await _send_then_read(port, head)


async def poll_health(port: int, until: asyncio.Event, latencies: list[float]) -> None:
    connection = support.HttpConnection(HOST, port, timeout=60)
    request = support.get_request(HOST, port, "/health", {})
    try:
        while not until.is_set():
            started = time.monotonic()
            await connection.request(request)
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.005)
    finally:
        await connection.close()


async def health_under(port: int, hostile: Awaitable[T]) -> tuple[T, list[float]]:
    """The poller's latencies while `hostile` runs (and half a second after)."""
    done, latencies = asyncio.Event(), list[float]()
    poller = asyncio.ensure_future(poll_health(port, done, latencies))
    try:
        outcome = await hostile
        await asyncio.sleep(0.5)
    finally:
        done.set()
        await poller
    return outcome, latencies


def memory_line(stack: Stack, name: str, before: dict[str, int]) -> str:
    after = support.process_memory_kib(stack.pid(name))
    return (
        f"{name:>8}: RSS {before['VmRSS'] / 1024:6.0f} MiB before, peak "
        f"{after['VmHWM'] / 1024:6.0f} MiB, {after['VmRSS'] / 1024:6.0f} MiB after"
    )


def outcome_line(what: str, outcome: Outcome) -> str:
    status = outcome.status if outcome.status is not None else "no answer (closed)"
    sent = f", {outcome.sent / MIB:.1f} MiB sent" if outcome.sent else ""
    return f"{what}: {status} after {outcome.seconds:.2f} s{sent}"


def latency_line(what: str, latencies: list[float]) -> str:
    figures = support.summarize(latencies)
    return (
        f"{what}: {figures.count} requests, p50 {figures.p50:.1f} ms, p99 {figures.p99:.1f} ms, "
        f"max {figures.max:.1f} ms"
    )


async def measure(stack: Stack, body_mb: int, header_mib: int) -> None:
    port = stack.port(GATEWAY.name)
    for chunked in (False, True):
        before = {}
        for name in ("gateway", "consult"):
            support.reset_peak_memory(stack.pid(name))
            before[name] = support.process_memory_kib(stack.pid(name))
        outcome = await huge_body(port, body_mb * 1000 * 1000, chunked=chunked)
        framing = "chunked" if chunked else "Content-Length"
        print(outcome_line(f"{body_mb} MB anonymous POST /api/consult/cases ({framing})", outcome))
        for name in ("gateway", "consult"):
            print("  " + memory_line(stack, name, before[name]))

    _, quiet = await health_under(port, asyncio.sleep(2))
    print(latency_line("/health alone (2 s)", quiet))
    outcome, loaded = await health_under(port, huge_header(port, header_mib * MIB))
    print(outcome_line(f"{header_mib} MiB header on GET /health", outcome))
    print(latency_line("/health meanwhile", loaded))

    print(outcome_line("1,000 headers on GET /health", await many_headers(port, 1000)))
    print(outcome_line("body stopping short of its Content-Length", await short_body(port)))
    traversal = await raw_get(port, "/api/consult/..%2f..%2fmetrics")
    print(outcome_line("GET /api/consult/..%2f..%2fmetrics", traversal))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--body-mb", type=int, default=400, help="body size in MB (default 400)")
    parser.add_argument("--header-mib", type=int, default=48, help="header size (default 48)")
    args = parser.parse_args(argv)
    print(support.machine_report()[0])
    with support.scratch_stack() as stack:
        asyncio.run(measure(stack, args.body_mb, args.header_mib))


if __name__ == "__main__":
    main()
