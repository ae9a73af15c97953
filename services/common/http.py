"""Outbound HTTP between services: pooled clients with explicit timeouts, the request id and
the trace context."""

import httpx

from services.common.context import current_request_id
from services.common.observability import REQUEST_ID_HEADER
from services.common.settings import ServiceSettings
from services.common.tracing import TracedTransport, Tracing


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
    tracing: Tracing | None = None,
) -> httpx.AsyncClient:
    """One pooled client per downstream service; connection failures are retried twice. With
    `tracing`, each call is a client span of the caller's trace and carries `traceparent`."""
    timeout = httpx.Timeout(
        settings.http_read_timeout, connect=settings.http_connect_timeout, pool=2.0
    )
    transport = transport or httpx.AsyncHTTPTransport(retries=2)
    if tracing is not None:
        transport = TracedTransport(transport, tracing)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        transport=transport,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        event_hooks={"request": [_propagate_request_id]},
    )
