"""The proxy over real sockets: stopped and hung services, headers, bodies streamed both ways."""

import hashlib
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from gateway.app import create_app
from telemed.registry import GATEWAY
from tests.conftest import service_settings
from tests.servers import free_port, serve, silent_server

CHUNK = b"x" * 65536
BODY_MIB = 32


async def _digest_upload(request: Request) -> JSONResponse:
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
    return JSONResponse(
        {
            "size": size,
            "sha256": digest.hexdigest(),
            "authorization": request.headers.get("authorization"),
            "idempotency_key": request.headers.get("idempotency-key"),
            "request_id": request.headers.get("x-request-id"),
            "forwarded_host": request.headers.get("x-forwarded-host"),
            "query": str(request.query_params),
        },
        headers={"X-Upstream": "echo"},
    )


async def _cookie(request: Request) -> JSONResponse:
    """Signs whoever calls in, as the console does: the cookie is theirs alone."""
    response = JSONResponse({"cookie": request.headers.get("cookie")})
    response.set_cookie("session", request.query_params["as"])
    return response


async def _download(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(BODY_MIB * 16):
            yield CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


echo_app = Starlette(
    routes=[
        Route("/api/echo/upload", _digest_upload, methods=["POST"]),
        Route("/api/echo/download", _download),
        Route("/api/echo/cookie", _cookie),
    ]
)


async def _gateway(
    tmp_path: Path, urls: dict[str, str], max_body_size: int = 2**20, **services: str
) -> Starlette:
    settings = service_settings(
        GATEWAY, urls, tmp_path, services=services, proxy_read_timeout=0.5,
        proxy_connect_timeout=0.5, max_body_size=max_body_size,
    )  # fmt: skip
    return create_app(settings)


async def test_stopped_service_is_a_503_problem_quickly(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    app = await _gateway(tmp_path, clean_databases, consult=f"http://127.0.0.1:{free_port()}")
    async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:
        started = time.monotonic()
        response = await client.get("/api/consult/cases")
        assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "consult" in response.json()["detail"]


async def test_a_service_down_leaves_the_gateway_ready_and_shows_in_upstreams(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    app = await _gateway(tmp_path, clean_databases, consult=down)
    async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")
        upstreams = await client.get("/ready/upstreams")
    assert ready.status_code == 200  # one service's outage does not take the gateway out
    assert health.status_code == 200
    assert upstreams.status_code == 503
    assert upstreams.headers["content-type"] == "application/problem+json"
    assert upstreams.json()["services"] == {"consult": {down: "Unreachable"}}


async def test_hung_service_is_a_504_problem_within_the_timeout(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with silent_server() as hung:
        app = await _gateway(tmp_path, clean_databases, consult=hung)
        async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:
            started = time.monotonic()
            response = await client.get("/api/consult/cases")
            elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert 0.4 < elapsed < 3


async def test_bodies_stream_both_ways_without_being_held_in_memory(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with serve(echo_app) as echo:
        # The echo service's upload is not one of the files service's: its body may be this
        # large only because the test says so.
        app = await _gateway(tmp_path, clean_databases, BODY_MIB * 2**20, echo=echo)
        async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:

            async def upload() -> AsyncIterator[bytes]:
                for _ in range(BODY_MIB * 16):
                    yield CHUNK

            tracemalloc.start()
            response = await client.post(
                "/api/echo/upload?a=1&b=%20x",
                content=upload(),
                headers={"Authorization": "Bearer t", "Idempotency-Key": "k1",
                         "X-Request-ID": "stream-1", "X-Forwarded-Host": "evil.example"},
            )  # fmt: skip
            received = 0
            async with client.stream("GET", "/api/echo/download") as download:
                async for chunk in download.aiter_raw():
                    received += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    body = response.json()
    expected = hashlib.sha256(CHUNK * (BODY_MIB * 16)).hexdigest()
    assert body["size"] == BODY_MIB * 2**20
    assert body["sha256"] == expected
    assert body["authorization"] == "Bearer t"
    assert body["idempotency_key"] == "k1"
    assert body["request_id"] == "stream-1"
    assert body["forwarded_host"] == gateway.removeprefix("http://")  # the client's is replaced
    assert body["query"] == "a=1&b=+x"
    assert response.headers["x-upstream"] == "echo"
    assert response.headers["x-request-id"] == "stream-1"
    assert received == BODY_MIB * 2**20
    assert peak < 8 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"


async def test_a_proxied_answer_has_one_date_and_one_server(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    # Both servers are uvicorn on real sockets, which is what writes the two fields.
    async with serve(echo_app) as echo:
        async with httpx.AsyncClient(base_url=echo) as direct:
            upstream = await direct.post("/api/echo/upload", content=b"x")
        app = await _gateway(tmp_path, clean_databases, echo=echo)
        async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:
            proxied = await client.post("/api/echo/upload", content=b"x")
    assert len(upstream.headers.get_list("date")) == len(upstream.headers.get_list("server")) == 1
    assert proxied.status_code == 200
    assert proxied.headers["x-upstream"] == "echo"
    assert len(proxied.headers.get_list("date")) == 1
    assert proxied.headers.get_list("server") == ["uvicorn"]


async def test_a_cookie_a_service_sets_goes_only_to_the_client_it_answered(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with serve(echo_app) as echo:
        # By host name, as in a deployment (an address would keep a cookie jar from storing).
        by_name = echo.replace("127.0.0.1", "localhost")
        app = await _gateway(tmp_path, clean_databases, echo=by_name)
        async with serve(app) as gateway:
            async with httpx.AsyncClient(base_url=gateway) as alice:
                signed_in = await alice.get("/api/echo/cookie?as=alice")
                again = await alice.get("/api/echo/cookie?as=alice")
            async with httpx.AsyncClient(base_url=gateway) as bob:
                first = await bob.get("/api/echo/cookie?as=bob")
                second = await bob.get("/api/echo/cookie?as=bob")
    assert signed_in.headers["set-cookie"].startswith("session=alice")
    assert again.json()["cookie"] == "session=alice"
    assert first.json()["cookie"] is None
    assert second.json()["cookie"] == "session=bob"


async def test_a_method_a_proxied_path_does_not_take_is_a_405_problem_and_routes_label_metrics(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    async with serve(echo_app) as echo:
        app = await _gateway(tmp_path, clean_databases, echo=echo, video=echo)
        async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as client:
            join = await client.put("/join/t0ken")
            trace = await client.request("TRACE", "/api/echo/upload")
            await client.post("/api/echo/upload", content=b"x")
            metrics = (await client.get("/metrics")).text
    assert (join.status_code, trace.status_code) == (405, 405)
    assert join.headers["content-type"] == "application/problem+json"
    assert join.headers["allow"] == "GET, HEAD"
    assert "POST" in trace.headers["allow"]
    assert 'route="/api/echo/{path:path}",status="200"' in metrics
