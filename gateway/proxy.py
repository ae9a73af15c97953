"""Reverse proxy `/api/<service>/...` → that service, streaming bodies in both directions."""

import httpx
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gateway.settings import GatewaySettings
from services.common.context import current_request_id
from services.common.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from services.common.http import new_client
from services.common.observability import REQUEST_ID_HEADER

# RFC 9110 §7.6.1 hop-by-hop fields, plus `host` which must name the upstream.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def upstream_clients(
    settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None
) -> dict[str, httpx.AsyncClient]:
    timeout = httpx.Timeout(
        settings.proxy_read_timeout, connect=settings.proxy_connect_timeout, pool=2.0
    )
    clients = {}
    for name, url in settings.services.items():
        client = new_client(
            url, settings, transport=transport, max_connections=settings.proxy_max_connections
        )
        client.timeout = timeout
        clients[name] = client
    return clients


def _forward_headers(request: Request) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in request.headers.raw
        if name.decode("latin-1").lower() not in HOP_BY_HOP
        and name.lower() not in {b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto"}
    ]
    headers.append((REQUEST_ID_HEADER.encode(), (current_request_id() or "").encode()))
    if request.client:
        headers.append((b"x-forwarded-for", request.client.host.encode()))
    headers.append((b"x-forwarded-proto", request.url.scheme.encode()))
    return headers


def _has_body(request: Request) -> bool:
    headers = request.headers
    return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"


def proxy_router(services: list[str]) -> APIRouter:
    """One route per published service, so the gateway's own `/api/auth` and `/api/directory`
    keep their 405s and an unknown `/api/<name>` is a plain 404."""
    router = APIRouter(include_in_schema=False)
    for service in services:
        router.add_api_route(f"/api/{service}/{{path:path}}", _proxy, methods=METHODS)
    return router


async def _proxy(request: Request) -> Response:
    service = request.url.path.split("/", 3)[2]
    client: httpx.AsyncClient = request.app.state.upstreams[service]
    upstream_request = client.build_request(
        request.method,
        httpx.URL(path=request.url.path, query=request.url.query.encode("latin-1")),
        headers=_forward_headers(request),
        content=request.stream() if _has_body(request) else None,
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ServiceUnavailable(f"The {service} service is not reachable.") from exc
    except httpx.TimeoutException as exc:
        raise GatewayTimeout(f"The {service} service did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise BadGateway(f"The {service} service gave an invalid answer.") from exc
    response_headers = [
        (name, value)
        for name, value in upstream.headers.raw
        if name.decode("latin-1").lower() not in HOP_BY_HOP | {"x-request-id"}
    ]
    response = StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    response.raw_headers = [*response_headers]
    return response
