"""Outbound HTTP between services: pooled clients with explicit timeouts and the request id."""

import httpx

from services.common.context import current_request_id
from services.common.observability import REQUEST_ID_HEADER
from services.common.settings import ServiceSettings


async def _propagate_request_id(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id


def new_client(
    base_url: str,
    settings: ServiceSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    max_connections: int = 100,
) -> httpx.AsyncClient:
    """One pooled client per downstream service; connection failures are retried twice."""
    timeout = httpx.Timeout(
        settings.http_read_timeout, connect=settings.http_connect_timeout, pool=2.0
    )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        transport=transport or httpx.AsyncHTTPTransport(retries=2),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        event_hooks={"request": [_propagate_request_id]},
    )
