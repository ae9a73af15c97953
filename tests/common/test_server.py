"""The HTTP protocol every process serves with (services/common/server.py), under uvicorn with
the launcher's options: a refused body's connection closes lingering, so that a client still
sending reads its answer, within bounds; a request the parser refuses is a problem document."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from services.common.server import LINGER_BYTES, LINGER_SECONDS
from tests.security.wire import MIB, chunked, request_head
from tests.servers import serve

PROBLEM = "application/problem+json"
LIMIT = MIB


async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads a body up to `LIMIT`, then answers 413 and closes, as `RequestLimits` does."""
    assert scope["type"] == "http"
    received, more = 0, True
    while more and received <= LIMIT:
        message = await receive()
        received += len(message.get("body", b""))
        more = message.get("more_body", False)
    status, body = (413, b'{"status": 413}') if more else (200, b'{"status": 200}')
    headers = [(b"content-type", PROBLEM.encode() if more else b"application/json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    if more:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def base() -> AsyncIterator[str]:
    async with serve(refusing, lifespan="off") as url:
        yield url


async def _connect(base: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def _write_all_then_read(base: str, parts: Iterable[bytes]) -> tuple[bytes, float]:
    """As a client that writes its whole request before it reads: everything the server sent
    until it closed, and the seconds from the last byte written to the close."""
    reader, writer = await _connect(base)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
        written = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), LINGER_SECONDS + 5)
        return answer, time.monotonic() - written
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _body(size_mib: int) -> Iterable[bytes]:
    return [b"x" * MIB] * size_mib


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_client_that_writes_a_refused_body_before_reading_gets_the_answer(
    base: str, framing: str
) -> None:
    size_mib = 20
    if framing == "length":
        parts = [request_head("POST", "/", f"Content-Length: {size_mib * MIB}"), *_body(size_mib)]
    else:
        parts = [request_head("POST", "/", "Transfer-Encoding: chunked"), *chunked(_body(size_mib))]
    answer, closed_after = await _write_all_then_read(base, parts)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert answer.endswith(b'{"status": 413}')
    # The server follows the body's framing and closes at its end, without waiting it out.
    assert closed_after < LINGER_SECONDS / 2, closed_after


async def test_a_client_streaming_a_refused_body_gets_the_answer(base: str) -> None:
    # httpx writes the whole body before it reads, so this holds up to about `LINGER_BYTES`.
    async def body() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * MIB

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.post("/", content=body())
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_a_client_that_goes_on_sending_is_cut_off_at_the_byte_bound(base: str) -> None:
    _, writer = await _connect(base)
    sent, cut_off = 0, False
    started = time.monotonic()
    try:
        for part in [request_head("POST", "/", "Transfer-Encoding: chunked"),
                     *chunked(_body(400))]:  # fmt: skip
            writer.write(part)
            await writer.drain()
            sent += len(part)
    except ConnectionError:
        cut_off = True
    finally:
        writer.close()
    assert cut_off
    # What the kernels buffer on loopback comes on top of the bound.
    assert sent < LIMIT + LINGER_BYTES + 16 * MIB, sent / MIB
    # Cut off after the linger, not held open: the margin is a loaded machine's scheduling.
    assert time.monotonic() - started < LINGER_SECONDS + 3


async def test_a_client_that_trickles_is_cut_off_at_the_time_bound(base: str) -> None:
    reader, writer = await _connect(base)
    writer.write(request_head("POST", "/", f"Content-Length: {100 * MIB}") + b"x" * 2 * MIB)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    answered = time.monotonic()
    assert head.startswith(b"HTTP/1.1 413 ")
    assert await asyncio.wait_for(reader.read(), 1) == b'{"status": 413}'  # and the server's FIN

    async def trickle() -> None:  # until a write fails: the server closed
        with contextlib.suppress(ConnectionError):
            while True:
                writer.write(b"x" * 1024)
                await writer.drain()
                await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(trickle(), LINGER_SECONDS + 3)
    finally:
        writer.close()
    held = time.monotonic() - answered
    assert LINGER_SECONDS - 0.5 < held < LINGER_SECONDS + 1, held


async def test_a_request_that_ends_is_served_and_the_connection_kept(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(3):
            response = await client.post("/", content=b"x" * 1000)
            assert response.status_code == 200
            assert response.headers.get("connection") != "close"


def _problem(answer: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost telemed\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: telemed\r\nX-Big: " + b"a" * 2 * MIB + b"\r\n\r\n", 431),
    ],
    ids=["request line", "header line", "head too large"],
)
async def test_a_request_the_parser_refuses_is_a_problem(
    base: str, request_bytes: bytes, status: int
) -> None:
    answer, _ = await _write_all_then_read(base, [request_bytes])
    got, headers, problem = _problem(answer)
    assert got == status
    assert headers["content-type"] == PROBLEM
    assert headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    assert problem["status"] == status
    assert str(problem["type"]).startswith("https://telemed.example/problems/")
