"""The kernel's limits and headers on an app built as every service's is: ambiguous paths,
header count, body size by route, slow bodies, no slash redirects, the API's response headers,
and the request id of an unhandled error."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import MetaData
from starlette.types import Message

from services.common.app import create_service_app
from services.common.errors import Unauthorized
from services.common.observability import JsonFormatter
from services.common.settings import ServiceSettings
from services.common.tables import define_kernel_tables

LIMIT = 4096
TIMEOUT = 0.3
KERNEL_TABLES = define_kernel_tables(MetaData())


class Thing(BaseModel):
    text: str


class Calls:
    def __init__(self) -> None:
        self.token_checks = 0


def kernel_app(tmp_path: Path, calls: Calls) -> FastAPI:
    router = APIRouter()

    def principal() -> None:
        calls.token_checks += 1
        raise Unauthorized("No bearer token.")

    @router.post("/api/things", dependencies=[Depends(principal)])
    async def create(thing: Thing) -> dict[str, str]:
        return {"text": thing.text}

    @router.post("/api/things/open")
    async def create_open(thing: Thing) -> dict[str, int]:
        return {"length": len(thing.text)}

    @router.post("/api/files/files")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": sum([len(chunk) async for chunk in request.stream()])}

    @router.get("/api/things/cached")
    async def cached() -> Response:
        return Response(
            "{}", media_type="application/json", headers={"Cache-Control": "max-age=60"}
        )

    @router.get("/api/things/crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    settings = ServiceSettings(
        service_name="things",
        var_dir=tmp_path,
        json_logs=False,
        max_body_size=LIMIT,
        body_read_timeout=TIMEOUT,
        upload_read_timeout=TIMEOUT,
    )
    return create_service_app(
        settings, title="t", description="t", routers=[router], kernel_tables=KERNEL_TABLES
    )


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def client(tmp_path: Path, calls: Calls) -> AsyncIterator[httpx.AsyncClient]:
    app = kernel_app(tmp_path, calls)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://things") as client:
        yield client
    await app.state.database.dispose()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


class Exchange:
    """One request straight through the ASGI interface, its body given in parts (None: the
    client goes quiet), counting how much of it the app asked for."""

    def __init__(self, app: FastAPI, parts: list[bytes | None]) -> None:
        self.app, self.parts = app, parts
        self.reads = 0
        self.messages: list[Message] = []

    async def receive(self) -> Message:
        if self.reads >= len(self.parts):
            await asyncio.Event().wait()  # after the body only a disconnect could come
        part = self.parts[self.reads]
        self.reads += 1
        if part is None:
            await asyncio.Event().wait()
        return {"type": "http.request", "body": part, "more_body": self.reads < len(self.parts)}

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    async def run(self, method: str, raw_path: str, headers: dict[str, str]) -> int:
        # The server decodes the path once and keeps it raw too, as uvicorn does.
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": unquote(raw_path), "raw_path": raw_path.encode(),
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
            "server": ("things", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }  # fmt: skip
        await asyncio.wait_for(self.app(scope, self.receive, self.send), 5)
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        status: int = start["status"]
        return status


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read_or_the_token_checked(
    tmp_path: Path, calls: Calls
) -> None:
    exchange = Exchange(kernel_app(tmp_path, calls), [b"{" * 100])
    headers = {"content-type": "application/json", "content-length": str(400 * 10**6)}
    assert await exchange.run("POST", "/api/things", headers) == 413
    assert exchange.reads == 0
    assert calls.token_checks == 0
    body = json.loads(b"".join(m.get("body", b"") for m in exchange.messages[1:]))
    assert body["type"].endswith("/payload-too-large")


async def test_a_streamed_body_is_refused_as_it_passes_the_limit(
    tmp_path: Path, calls: Calls
) -> None:
    chunk = b"x" * 1024
    exchange = Exchange(kernel_app(tmp_path, calls), [b'{"text": "', *[chunk] * 100, b'"}'])
    assert await exchange.run("POST", "/api/things", {"content-type": "application/json"}) == 413
    assert exchange.reads <= LIMIT // len(chunk) + 2
    assert calls.token_checks == 0


async def test_uploads_to_the_files_routes_stream_past_the_json_limit(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/files/files", content=b"x" * (LIMIT * 10))
    assert response.status_code == 200, response.text
    assert response.json() == {"size": LIMIT * 10}
    small = await client.post("/api/things/open", json={"text": "y" * 100})
    assert small.json() == {"length": 100}


async def test_a_body_that_stops_arriving_is_a_408_after_the_read_timeout(
    tmp_path: Path, calls: Calls
) -> None:
    exchange = Exchange(kernel_app(tmp_path, calls), [b'{"text": ', None])
    headers = {"content-type": "application/json", "content-length": "100"}
    started = asyncio.get_running_loop().time()
    assert await exchange.run("POST", "/api/things/open", headers) == 408
    assert asyncio.get_running_loop().time() - started < TIMEOUT + 1
    start = exchange.messages[0]
    assert (b"connection", b"close") in start["headers"]


async def test_more_than_a_hundred_headers_are_a_431(client: httpx.AsyncClient) -> None:
    many = {f"x-header-{index}": "1" for index in range(101)}
    assert_problem(await client.get("/health", headers=many), 431)
    assert (await client.get("/health", headers=dict(list(many.items())[:90]))).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/api/things/../health", "/api/things/%2e%2e/health", "/api/things/a%2fb", "/api/x%5c..",
     "/api/things/%252e%252e/x", "/api/things/./cached", "/api/things/a%00b"],
)  # fmt: skip
async def test_ambiguous_paths_are_a_400_before_routing(
    tmp_path: Path, calls: Calls, path: str
) -> None:
    exchange = Exchange(kernel_app(tmp_path, calls), [b""])
    assert await exchange.run("GET", path, {}) == 400
    body = json.loads(exchange.messages[1]["body"])
    assert body["type"].endswith("/bad-request")


async def test_a_trailing_slash_is_not_redirected(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/things/cached/")
    assert_problem(response, 404)
    assert "location" not in response.headers


async def test_json_answers_are_not_stored_and_not_sniffed(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health"), await client.post("/api/things", json={})):
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    own = await client.get("/api/things/cached")
    assert own.headers.get_list("cache-control") == ["max-age=60"]
    metrics = await client.get("/metrics")
    assert "cache-control" not in metrics.headers
    assert metrics.headers["x-content-type-options"] == "nosniff"


class Lines(logging.Handler):
    """Formats each record as it is written, as the process's JSON log handler does."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def error_lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("telemed.errors")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_an_unhandled_error_is_logged_and_answered_with_its_request_id(
    client: httpx.AsyncClient, error_lines: Lines
) -> None:
    response = await client.get("/api/things/crash", headers={"X-Request-ID": "crash-1"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "crash-1"
    assert response.headers["x-request-id"] == "crash-1"
    assert response.headers["connection"] == "close"  # the server drops it after a crash
    (line,) = [line for line in error_lines.lines if line["message"] == "unhandled error"]
    assert line["request_id"] == "crash-1"
    assert "RuntimeError: a bug" in line["exception"]
