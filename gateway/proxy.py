"""Reverse proxy `/api/<service>/...` → an instance of that service (`gateway/balancer.py`),
streaming bodies in both directions.

The hot path of the whole system, so it uses aiohttp: on this machine it costs about a
quarter of the CPU per proxied request that the same proxy built on httpx did (0.8 ms against
3.0 ms with one client, 0.9 ms against 4.3 ms with 32; `bench/gateway_overhead.py`).

What is forwarded is the path the gateway routed, percent-encoded again and handed to aiohttp
as encoded, so yarl resolves no dot segment of it (the kernel has refused any before routing,
`services/common/limits.py`). A pooled connection the service has just closed fails before any
of the response arrives; aiohttp resends an idempotent request once itself, and any request
whose body has not started is resent once more here, on a connection of its own.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from urllib.parse import quote, quote_from_bytes

import aiohttp
from multidict import CIMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from yarl import URL

from gateway.balancer import Balancer, Instances, Urls
from gateway.settings import GatewaySettings
from services.common.context import current_request_id
from services.common.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from services.common.observability import REQUEST_ID_HEADER
from services.common.tracing import TRACE_HEADERS, forward_trace_headers

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
# What the gateway writes itself on a request it forwards.
REPLACED = frozenset(
    {"x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", *TRACE_HEADERS}
)
# As the server hands them over (lowercase bytes): matched without decoding every name.
NOT_FORWARDED = frozenset(name.encode() for name in HOP_BY_HOP | REPLACED)
# Not passed on from a service's answer: hop-by-hop fields, ours, and the two the gateway's
# own server writes on every answer, which the service's server wrote too.
NOT_RELAYED = NOT_FORWARDED | {b"date", b"server"}
EVENT_STREAM = b"text/event-stream"
# What a path segment (RFC 3986 `pchar`) and a query may hold as is; the rest is encoded.
PATH_SAFE = "/!$&'()*+,;=:@-._~"
QUERY_SAFE = PATH_SAFE + "?%"
DEFAULT_PORTS = {"http": 80, "https": 443}
_NETLOC_END = re.compile("[/?#]")  # where a URL's authority ends, as `urlsplit` reads it


class Unreachable(ServiceUnavailable):
    """No connection to the instance could be made, so nothing of the request was sent."""


class ClientBody:
    """The client's body as aiohttp pulls it to send on; once it has started, it cannot be
    sent again."""

    def __init__(self, request: Request) -> None:
        self._stream = request.stream()
        self.started = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        self.started = True
        return await self._stream.__anext__()


class Upstreams:
    """One pooled aiohttp session per published service, opened in the app's lifespan, and
    the balancer that picks one of the service's instances for each request."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.urls = Instances(settings.services)
        self.balancer = Balancer(settings.proxy_rest_seconds)
        self._settings = settings
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._resend: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        settings = self._settings
        for name in self.urls:
            self._sessions[name] = self._session(
                aiohttp.TCPConnector(
                    limit=settings.proxy_max_connections,
                    keepalive_timeout=settings.proxy_keepalive_seconds,
                )
            )
        # A request resent after a closed connection gets a new connection, used once.
        self._resend = self._session(aiohttp.TCPConnector(force_close=True))

    def _session(self, connector: aiohttp.TCPConnector) -> aiohttp.ClientSession:
        settings = self._settings
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=settings.proxy_connect_timeout,
                sock_read=settings.proxy_read_timeout,
            ),
            auto_decompress=False,  # bodies pass through as the service encoded them
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            # Shared by every client: a jar would keep one person's cookies (the console's
            # session) from a service named by host name and send them with everyone's.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        for session in [*self._sessions.values(), *filter(None, [self._resend])]:
            await session.close()
        self._sessions.clear()
        self._resend = None

    async def request(
        self, service: str, method: str, path: str, *, room: str | None = None, **kwargs: Any
    ) -> Any:
        """Sends one request to an instance of `service` (a room's calls to the room's own);
        an instance that cannot be connected to rests and the next one takes the request."""
        urls = self.urls[service]
        url = self.balancer.choose(service, urls, room)
        tried: Urls = ()
        while True:
            try:
                return await self.send(service, url, method, path, **kwargs)
            except Unreachable:
                self.balancer.rest(url)
                tried += (url,)
                following = self.balancer.fallback(service, urls, room, tried)
                if following is None:
                    raise
                url = following

    async def send(self, service: str, url: str, method: str, path: str, **kwargs: Any) -> Any:
        """Sends one request to the instance at `url`, `path` percent-encoded with its query;
        failures and time-outs become problems."""
        target = URL(url + path, encoded=True)
        try:
            try:
                return await self._sessions[service].request(
                    method, target, allow_redirects=False, **kwargs
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                body = kwargs.get("data")
                resendable = not isinstance(body, ClientBody) or not body.started
                if isinstance(exc, aiohttp.ClientConnectorError) or not resendable:
                    raise
                assert self._resend is not None
                return await self._resend.request(method, target, allow_redirects=False, **kwargs)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise Unreachable(f"The {service} service is not reachable.") from exc
        except aiohttp.ServerTimeoutError as exc:
            raise GatewayTimeout(f"The {service} service did not answer in time.") from exc
        except TimeoutError as exc:
            raise ServiceUnavailable(f"The {service} service is not reachable.") from exc
        except aiohttp.ClientError as exc:
            raise BadGateway(f"The {service} service gave an invalid answer.") from exc

    async def get_json(
        self, service: str, path: str, seconds: float, *, instance: str | None = None
    ) -> Any:
        """A small JSON read from any instance of `service`, or from the one at `instance`."""
        timeout = aiohttp.ClientTimeout(total=seconds)
        if instance is None:
            response = await self.request(service, "GET", path, timeout=timeout)
        else:
            response = await self.send(service, instance, "GET", path, timeout=timeout)
        async with response:
            response.raise_for_status()
            return await response.json()


class UpstreamResponse(Response):
    """Streams the service's response as it arrives, then frees the pooled connection.

    Leaner than `StreamingResponse`, which starts a task group per response to watch for
    client disconnects; here a gone client simply makes `send` fail and the stream stop. Only
    an event stream, which never ends on its own, is watched for the client going away, so
    the service's stream and the pooled connection are not held for a listener who left."""

    def __init__(self, upstream: aiohttp.ClientResponse) -> None:
        self.upstream = upstream
        self.status_code = upstream.status
        self.background = None
        self.raw_headers = []
        self.endless = False
        for name, value in upstream.raw_headers:
            lowered = name.lower()
            if lowered in NOT_RELAYED:
                continue
            if lowered == b"content-type":
                self.endless = value.partition(b";")[0].strip().lower() == EVENT_STREAM
            self.raw_headers.append((name, value))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code,
                 "headers": self.raw_headers}
            )  # fmt: skip
            content = self.upstream.content
            if content.is_eof():
                # The whole body came with the head (most JSON answers): one message.
                await send({"type": "http.response.body", "body": content.read_nowait()})
                return
            if self.endless:
                await _until_disconnect(self._relay(send), receive)
            else:
                await self._relay(send)
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.upstream.release()

    async def _relay(self, send: Send) -> None:
        content = self.upstream.content
        while chunk := await content.readany():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _until_disconnect(relay: Coroutine[Any, Any, None], receive: Receive) -> None:
    async def client_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = {asyncio.ensure_future(relay), asyncio.ensure_future(client_gone())}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()


def _forwarded_host(scope: Scope, host: bytes | None) -> str:
    """The host the client asked for, for links a service writes (FHIR's `fullUrl`): its
    `Host` up to any path, or the address it reached (the port only when not the scheme's)."""
    if host is not None:
        return _NETLOC_END.split(host.decode("latin-1"), 1)[0]
    server = scope.get("server")
    if server is None:
        return ""
    name, port = server
    return name if port == DEFAULT_PORTS.get(scope.get("scheme", "http")) else f"{name}:{port}"


def forward_headers(scope: Scope) -> tuple[CIMultiDict[str], bool]:
    """The headers the service gets (the client's, less hop-by-hop ones and those the gateway
    writes itself, plus the request id, trace context and `X-Forwarded-*`), and whether the
    request has a body; one pass over the raw headers."""
    kept: list[tuple[str, str]] = []
    host: bytes | None = None
    has_body = False
    for name, value in scope["headers"]:
        if name in NOT_FORWARDED:
            if name == b"host":
                host = host or value
            elif name == b"transfer-encoding":
                has_body = True
            continue
        if name == b"content-length" and value != b"0":
            has_body = True
        kept.append((name.decode("latin-1"), value.decode("latin-1")))
    kept.append((REQUEST_ID_HEADER, current_request_id() or ""))
    kept += forward_trace_headers(scope)
    if client := scope.get("client"):
        kept.append(("x-forwarded-for", client[0]))
    kept.append(("x-forwarded-proto", scope.get("scheme", "http")))
    kept.append(("x-forwarded-host", _forwarded_host(scope, host)))
    return CIMultiDict(kept), has_body


async def forward(
    request: Request, service: str, path: str, *, room: str | None = None
) -> Response:
    """Sends the request on to `path` (decoded, as routing reads it) of an instance of
    `service` (the room's own, for a room) and streams the answer back; the FHIR views
    (`gateway/fhir.py`) forward to other paths."""
    scope = request.scope
    upstreams: Upstreams = scope["app"].state.upstreams
    target = quote(path, safe=PATH_SAFE)
    if query := scope["query_string"]:  # as the client encoded it, but valid on the wire
        target += "?" + quote_from_bytes(query, safe=QUERY_SAFE)
    headers, has_body = forward_headers(scope)
    upstream = await upstreams.request(
        service,
        scope["method"],
        target,
        room=room,
        headers=headers,
        data=ClientBody(request) if has_body else None,
    )
    return UpstreamResponse(upstream)
