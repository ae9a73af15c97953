"""Real servers on loopback for tests: uvicorn on a free port, a server that never answers,
and an S3-compatible object store."""

import asyncio
import contextlib
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from telemed.launcher import SERVER_OPTIONS


def free_port() -> int:
    """A port for a process of its own to bind later: out of the ephemeral range, where a server
    of another test worker binding port 0 once took the port between the probe and the bind, so
    the test spoke to that worker's files service (which refused its token as of an unknown key)."""
    return free_port_run(1)


# Below the kernel's ephemeral range (32768 up on Linux): a port handed out by `free_port` and
# its neighbours can be taken meanwhile by any client's outgoing connection, which is how a
# `telemed run` under test once lost a port between the probe and its bind.
FIXED_PORTS = range(20000, 32000)


def free_port_run(count: int) -> int:
    """A base port with `count` free ports from it, as `telemed run --base-port` needs, out of
    the ephemeral range; each is probed by binding it."""
    while True:
        base = random.randrange(FIXED_PORTS.start, FIXED_PORTS.stop - count)
        probes = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp, *, lifespan: Literal["on", "off"] = "on", port: int = 0
) -> AsyncIterator[str]:
    """Runs `app` under uvicorn on 127.0.0.1 in this event loop, with the server options
    `telemed run` uses; yields its base URL.

    `lifespan="off"` serves an app whose lifespan already runs (the in-process gateway);
    `port` one the app must know before it is served (`free_port`), as its public address."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan=lifespan, **SERVER_OPTIONS
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and reads, but never answers: a hung service."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """An S3-compatible server (moto) in its own process on loopback; yields `host:port`.

    The MinIO server binary cannot be installed here; moto speaks the same S3 API to the real
    `minio` SDK over real HTTP."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the S3 test server did not start") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
