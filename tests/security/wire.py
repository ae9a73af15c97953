"""Requests as raw bytes over a socket, as an attacker or a broken client sends them (no client
library normalises the path, fixes the framing or refuses a huge header), and the memory the
serving process holds meanwhile."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field

MIB = 2**20


@dataclass
class Answer:
    status: int | None  # None: the connection closed, or nothing came in time
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sent: int = 0  # bytes of the request written before the answer came
    seconds: float = 0.0  # from the first byte sent to the answer (or the close)
    error: str = ""  # why there is no answer: what reading it raised

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


# What the big refusals cost, for the run's summary: the answer and the peak growth in MiB.
FIGURES: dict[str, tuple[Answer, float]] = {}


def request_head(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: telemed", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def chunked(parts: Iterable[bytes]) -> Iterator[bytes]:
    """`parts` framed as a chunked body, ended properly."""
    for part in parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as error:
        return Answer(None, error=repr(error)[:200])
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    body = b""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(int(lines[0].split()[1]), headers, body)


async def exchange(base: str, parts: Iterable[bytes], wait: float = 10.0) -> Answer:
    """Writes `parts` (the whole request, head included) to `base` while reading the answer;
    stops writing once the answer comes or the server closes the connection; waits at most
    `wait` seconds for the answer."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    sent = 0

    async def pump() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError):
            for part in parts:
                writer.write(part)
                await writer.drain()
                sent += len(part)

    started = time.monotonic()
    sending = asyncio.ensure_future(pump())
    try:
        async with asyncio.timeout(wait):
            answer = await _read_answer(reader)
    except TimeoutError:
        answer = Answer(None, error="no answer in time")
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    answer.sent, answer.seconds = sent, time.monotonic() - started
    return answer


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process (`VmRSS`), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextlib.asynccontextmanager
async def peak_rss_growth(pid: int | str = "self") -> AsyncIterator[list[float]]:
    """Samples the process's resident memory every 20 ms while the block runs; yields a list
    that holds, afterwards, the largest growth over the start, in MiB. Here the services run
    under uvicorn inside the test process (`tests/conftest.py` `running_stack`), so the test
    process is the serving one."""
    baseline = rss_mib(pid)
    peak = [0.0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mib(pid) - baseline)
            await asyncio.sleep(0.02)

    sampler = asyncio.ensure_future(sample())
    try:
        yield peak
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        peak[0] = max(peak[0], rss_mib(pid) - baseline)
