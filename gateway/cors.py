"""CORS for the configured origins (`cors_origins`): web pages of other sites calling the API,
tus uploads included (tus-js-client, Uppy).

The gateway answers a preflight from a configured origin itself (the services never see it),
and adds the allowing headers to every answer to such an origin, problems included, so a
page can read a 401 or a 429. An origin not configured gets no CORS header at all: its
preflight goes on as any `OPTIONS` request, and the browser keeps the answer from the page.
Credentials (cookies) are never allowed: API callers send bearer tokens.

Origins are compared as browsers serialise them (scheme and host lowercase, an IPv6 address
bracketed and compressed, the scheme's own port left out), whichever way the setting or the
request wrote one; the answer names the origin as the request sent it, which is what the
browser checks. The middleware wraps the whole app, Starlette's handler of unhandled errors
included, so a page sees the 500 of a bug as a problem, not as a network error.
"""

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What a client of the API sends beyond the safelisted headers: the bearer, JSON bodies,
# retries, versions (`If-Match`), ranges, and tus's own (the checksum and concatenation
# extensions, and tus-js-client's `X-HTTP-Method-Override` behind proxies that refuse PATCH).
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "If-Range",
    "Range",
    "Telemed-Grant",  # a case's grant, reading its files (services/common/grants.py)
    "X-Request-ID",
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Defer-Length",
    "Upload-Checksum",
    "Upload-Concat",
    "X-HTTP-Method-Override",
)
# What a page may read of an answer beyond the safelisted response headers.
EXPOSED_HEADERS = (
    "Location",
    "ETag",
    "Link",
    "Retry-After",
    "Content-Disposition",
    "Content-Range",
    "Accept-Ranges",
    "X-Request-ID",
    "Idempotent-Replayed",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Expires",
)
# Browsers cap it (Chromium at two hours); ten minutes spares most preflights of an upload.
MAX_AGE = 600


def origin(value: str) -> str:
    """An origin as browsers write it (`https://mis.example.org`, `http://[::1]:5173`, a port
    only when not the scheme's own), or a ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(value.strip())
        host, port = parts.hostname, parts.port
        if host and "[" in parts.netloc:  # `urlsplit` took the brackets off an IPv6 address
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
    except ValueError as exc:  # a bad port or bracketed address
        raise ValueError(f"{value!r} is not an origin: {exc}.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{value!r} is not an origin: list each as scheme://host[:port].")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin: no path, query or user belongs in one.")
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _normalised(value: str) -> str | None:
    try:
        return origin(value)
    except ValueError:  # `null`, or anything else no configured origin can be
        return None


class Cors:
    """ASGI middleware around the whole app (`install`), so every answer of the gateway
    passes through it."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = frozenset(origin(value) for value in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requested, preflight = "", False
        for name, value in scope["headers"]:
            if name == b"origin" and not requested:
                requested = value.decode("latin-1")
            elif name == b"access-control-request-method":
                preflight = scope["method"] == "OPTIONS"
        allowed = requested if self.allows(requested) else None
        if allowed is not None and preflight:
            await _preflight(allowed)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                response = MutableHeaders(scope=message)
                # Answers differ by origin, so a cache must not give one origin's to another.
                response.add_vary_header("Origin")
                if allowed is not None:
                    response["Access-Control-Allow-Origin"] = allowed
                    response["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def allows(self, requested: str) -> bool:
        """Whether the request's `Origin` is a configured one; as browsers send it, it is
        found as it is."""
        if not requested:
            return False
        return requested in self.origins or _normalised(requested) in self.origins


def install(app: FastAPI, origins: Sequence[str]) -> None:
    """Wraps the app's whole middleware stack, Starlette's outermost error middleware too,
    whenever it is built."""
    build = app.build_middleware_stack

    def build_with_cors() -> ASGIApp:
        return Cors(build(), origins)

    # FastAPI offers no hook outside its error middleware; the stack is still built lazily.
    app.build_middleware_stack = build_with_cors  # type: ignore[method-assign]


def _preflight(origin: str) -> Response:
    """The allowed methods and headers; the browser itself refuses a request outside them."""
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE),
            "Vary": "Origin",
        },
    )
