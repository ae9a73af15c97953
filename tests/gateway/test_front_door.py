"""The gateway as the internet meets it, over raw sockets: paths that would resolve elsewhere
behind it, bodies too large or cut short, too many or too large headers, trailing slashes, the
API's headers, and crashed services' closed connections."""

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from services.common.errors import install_problem_handlers
from telemed.launcher import SERVER_OPTIONS
from telemed.registry import GATEWAY
from tests.conftest import Stack, service_settings
from tests.servers import serve

SERVICES = ("consult", "files", "video", "scheduling")
MIB = 2**20


@dataclass
class Answer:
    status: int | None  # None: the connection closed with no answer
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        (value,) = self.headers[name]
        return value


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return Answer(None)
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:-2]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers.get("content-length", ["0"])[0])
    return Answer(int(lines[0][9:12]), headers, await reader.readexactly(length))


async def raw_http(base: str, head: str, parts: Iterable[bytes] = ()) -> Answer:
    """Sends `head` (the request line and headers, as is: no client normalises the path) and
    `parts` of a body while reading the answer; stops sending once it comes."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))

    async def pump() -> None:
        writer.write(head.encode("latin-1") + b"\r\n")
        for part in parts:
            writer.write(part)
            await writer.drain()

    sending = asyncio.ensure_future(pump())
    try:
        async with asyncio.timeout(10):
            return await _read_answer(reader)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        writer.close()


def get(target: str, *headers: str) -> str:
    return "\r\n".join([f"GET {target} HTTP/1.1", "Host: telemed", *headers, ""])


@dataclass
class Seen:
    path: str
    raw_path: bytes
    query: bytes
    size: int


class Recorder:
    """Stands in for every service: answers any path, and notes what reached it."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.app = Starlette(
            routes=[Route("/{rest:path}", self.note, methods=["GET", "POST", "PATCH", "PUT"])]
        )

    async def note(self, request: Request) -> JSONResponse:
        size = sum([len(chunk) async for chunk in request.stream()])
        scope = request.scope
        self.seen.append(Seen(scope["path"], scope["raw_path"], scope["query_string"], size))
        return JSONResponse({"size": size})


@contextlib.asynccontextmanager
async def front_door(
    urls: dict[str, str], tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[str, Recorder]]:
    """The gateway on a real socket, every service a `Recorder`."""
    recorder = Recorder()
    async with serve(recorder.app) as upstream:
        services = dict.fromkeys(SERVICES, upstream)
        gateway = create_app(
            service_settings(GATEWAY, urls, tmp_path, services=services, **settings)
        )
        async with serve(gateway) as base:
            yield base, recorder


def assert_problem(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    assert answer.header("content-type") == "application/problem+json"


# Ways to climb out of a service's prefix to its own `/metrics`, `/openapi.json`, `/docs`.
CLIMBS = ["..%2f..%2f", "../../", "../", "%2e%2e/%2E%2E/", "x/..%5c..%5c", ".%2e/.%2e/",
          "x/%252e%252e/%252e%252e/"]  # fmt: skip


def traversals() -> list[str]:
    targets = []
    for leaf in ("metrics", "openapi.json", "docs"):
        targets += [f"/api/{service}/{climb}{leaf}" for service in SERVICES for climb in CLIMBS]
        targets += [
            f"/api/video/rooms/x/..%2f..%2f..%2f..%2f{leaf}",
            f"/api/video/rooms/x/../../../../{leaf}",
            f"/join/..%2f..%2f{leaf}",
        ]
    return targets


async def test_dot_segments_and_encoded_slashes_never_reach_a_service(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with front_door(clean_databases, tmp_path) as (gateway, recorder):
        for target in traversals():
            assert_problem(await raw_http(gateway, get(target)), 400)
    assert recorder.seen == []


async def test_a_service_gets_exactly_the_path_the_gateway_routed(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    target = "/api/consult/a%20b/c%3Fd/%C3%A9;v=1/~x?q=%2F%3F&r=%E2%82%AC&s=a+b"
    async with front_door(clean_databases, tmp_path) as (gateway, recorder):
        assert (await raw_http(gateway, get(target))).status == 200
    (seen,) = recorder.seen
    assert seen.path == "/api/consult/a b/c?d/é;v=1/~x"  # as the gateway decoded and routed it
    assert seen.raw_path == b"/api/consult/a%20b/c%3Fd/%C3%A9;v=1/~x"
    assert seen.query == b"q=%2F%3F&r=%E2%82%AC&s=a+b"


def post(target: str, *headers: str) -> str:
    return "\r\n".join([f"POST {target} HTTP/1.1", "Host: telemed", *headers, ""])


def chunked(size: int, piece: int = 64 * 1024) -> Iterable[bytes]:
    for _ in range(size // piece):
        yield b"%x\r\n%b\r\n" % (piece, b"x" * piece)
    yield b"0\r\n\r\n"


async def test_bodies_over_the_limit_are_refused_before_they_reach_a_service(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with front_door(clean_databases, tmp_path) as (gateway, recorder):
        started = time.monotonic()
        declared = post("/api/consult/cases", "Content-Type: application/json",
                        f"Content-Length: {400 * 10**6}")  # fmt: skip
        assert_problem(await raw_http(gateway, declared), 413)  # before one byte of it is sent
        assert time.monotonic() - started < 2
        assert recorder.seen == []
        streamed = post("/api/directory/users", "Transfer-Encoding: chunked")
        assert_problem(await raw_http(gateway, streamed, chunked(8 * MIB)), 413)
        proxied = post("/api/consult/cases", "Transfer-Encoding: chunked")
        assert_problem(await raw_http(gateway, proxied, chunked(8 * MIB)), 413)
        assert all(seen.size <= MIB for seen in recorder.seen)
        # Uploads stream on to the files service, which applies its own limit.
        recorder.seen.clear()
        upload = post("/api/files/files", f"Content-Length: {3 * MIB}")
        assert (await raw_http(gateway, upload, [b"x" * MIB] * 3)).status == 200
        resumed = "\r\n".join(["PATCH /api/files/uploads/u1 HTTP/1.1", "Host: telemed",
                               "Transfer-Encoding: chunked", ""])  # fmt: skip
        assert (await raw_http(gateway, resumed, chunked(3 * MIB))).status == 200
    assert [seen.size for seen in recorder.seen] == [3 * MIB, 3 * MIB]


async def test_a_body_cut_short_is_a_408_within_the_read_timeout(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with front_door(clean_databases, tmp_path, body_read_timeout=0.5) as (gateway, _):
        started = time.monotonic()
        short = post("/api/consult/cases", "Content-Type: application/json", "Content-Length: 100")
        assert_problem(await raw_http(gateway, short, [b'{"question": "']), 408)
        assert time.monotonic() - started < 3


async def test_an_answer_before_the_body_is_read_ends_the_connection(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    """A route that never reads its body answers at once; a client trickling the rest must not
    keep the connection (each byte would put off the server's keep-alive time-out)."""
    async with front_door(clean_databases, tmp_path) as (gateway, _):
        host, port = gateway.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            head = "\r\n".join(["GET /health HTTP/1.1", "Host: telemed", "Content-Length: 100", ""])
            writer.write(head.encode() + b"\r\nx")
            answer = await asyncio.wait_for(_read_answer(reader), 5)
            assert answer.status == 200
            assert answer.header("connection") == "close"
            started = time.monotonic()
            with contextlib.suppress(ConnectionError):
                while not reader.at_eof() and time.monotonic() - started < 8:
                    writer.write(b"x")  # one byte now and then, the rest never
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reader.read(1), 0.5)
            assert reader.at_eof(), "the connection is still open"
            assert time.monotonic() - started < 2
        finally:
            writer.close()


async def test_header_limits_hold_and_a_huge_header_does_not_stall_others(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with front_door(clean_databases, tmp_path) as (gateway, _):
        many = [f"X-Header-{index}: {index}" for index in range(101)]
        assert_problem(await raw_http(gateway, get("/health", *many)), 431)
        assert (await raw_http(gateway, get("/health", *many[:90]))).status == 200

        async def health_latencies(until: asyncio.Task[Answer]) -> list[float]:
            latencies = []
            async with httpx.AsyncClient(base_url=gateway) as client:
                while not until.done():
                    started = time.monotonic()
                    assert (await client.get("/health")).status_code == 200
                    latencies.append(time.monotonic() - started)
            return latencies

        huge = "\r\n".join(["GET /health HTTP/1.1", "Host: telemed", "X-Filler: "])
        filler = [b"a" * MIB] * 16 + [b"\r\n\r\n"]
        started = time.monotonic()
        hostile = asyncio.create_task(raw_http(gateway, huge.removesuffix("\r\n"), filler))
        latencies = await health_latencies(hostile)
        # The parser refused it once the head passed its bound, without buffering the rest.
        assert (await hostile).status in {400, 431, None}
        assert time.monotonic() - started < 2
        assert max(latencies) < 0.5


async def test_a_trailing_slash_gets_no_redirect_to_an_internal_address(stack: Stack) -> None:
    organization = await stack.organization()
    medic = await stack.actor("district_medic", organization)
    for path in ("/api/consult/cases/", "/api/directory/organizations/"):
        response = await stack.client.get(path, headers=medic.headers)
        assert response.status_code == 404, response.text
        assert "location" not in response.headers


async def test_api_json_is_not_stored_nor_sniffed_and_every_service_limits_bodies(
    stack: Stack,
) -> None:
    organization = await stack.organization()
    medic = await stack.actor("district_medic", organization)
    listed = await stack.client.get("/api/consult/cases", headers=medic.headers)
    refused = await stack.client.get("/api/consult/cases")
    for response in (listed, refused):
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    for name, app in stack.apps.items():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url=f"http://{name}"
        ) as direct:
            response = await direct.post(f"/api/{name}/anything", content=b"{" * (2 * MIB))
        assert response.status_code == 413, name


class ClosesLate:
    """Holds its server's event loop a little after a 500 went out, as uvicorn does while it
    logs the traceback before it closes the connection: meanwhile the gateway may send the
    next request on that connection, which the service will never read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except RuntimeError:
            time.sleep(0.05)  # noqa: ASYNC251 - blocking on purpose, as formatting a traceback is
            raise


@contextlib.asynccontextmanager
async def serve_apart(app: ASGIApp) -> AsyncIterator[str]:
    """`app` under uvicorn (as `telemed run` starts it) in a thread of its own, so that its
    event loop is apart from the gateway's, as between processes."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, **SERVER_OPTIONS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join)


def crashing_service(kernel: bool) -> ASGIApp:
    """A service whose one route crashes: built as the services are (`kernel`), or bare."""

    async def crash(request: Request) -> JSONResponse:
        raise RuntimeError("a bug")

    async def ok(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    routes = [Route("/api/echo/crash", crash), Route("/api/echo/ok", ok, methods=["GET", "POST"])]
    if not kernel:
        return ClosesLate(Starlette(routes=routes))
    app = FastAPI()
    install_problem_handlers(app)
    app.router.routes.extend(routes)
    return ClosesLate(app)


async def _rounds(gateway: str, with_bodies: bool) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=gateway) as client:
        for _ in range(10):
            statuses.append((await client.get("/api/echo/crash")).status_code)
            if with_bodies:
                statuses.append((await client.post("/api/echo/ok", json={"a": 1})).status_code)
            statuses.append((await client.post("/api/echo/ok")).status_code)
            statuses.append((await client.get("/api/echo/ok")).status_code)
    return statuses


async def test_requests_after_a_service_crashed_are_not_502s(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    bad_gateways, crashes = {}, {}
    for kernel in (True, False):
        async with serve_apart(crashing_service(kernel)) as echo:
            settings = service_settings(GATEWAY, clean_databases, tmp_path, services={"echo": echo})
            async with serve(create_app(settings)) as gateway:
                # A crash closes the service's connection: the kernel's 500 says so, so nothing
                # more is sent on it; a bare service does not, and the gateway resends what it
                # can (a request whose body has not started) on a new connection.
                statuses = await _rounds(gateway, with_bodies=kernel)
        name = "kernel" if kernel else "bare"
        bad_gateways[name], crashes[name] = statuses.count(502), statuses.count(500)
    assert bad_gateways == {"kernel": 0, "bare": 0}
    assert crashes == {"kernel": 10, "bare": 10}
