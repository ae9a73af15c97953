"""What every app refuses before routing a request: ambiguous paths, too many headers, a body
too large for its route, and a body that stops arriving."""

import asyncio
import re

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import (
    BadRequest,
    PayloadTooLarge,
    ProblemError,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    problem_response,
)
from services.common.settings import ServiceSettings

# Bodies that stream to storage under the files service's own limit (`TELEMED_FILES_MAX_FILE_
# SIZE`), at the same public paths in the gateway and in the files service: a whole file, tus
# creation (which may carry the first bytes) and tus PATCH. Every other body is JSON or a form.
UPLOADS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/api/files/files")),
    ("POST", re.compile(r"/api/files/uploads")),
    ("PATCH", re.compile(r"/api/files/uploads/[^/]+")),
)
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c)", re.IGNORECASE)
# Left in the path after the server decoded it once: a separator or dot encoded twice.
_ENCODED_TWICE = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def ambiguous_path(scope: Scope) -> str | None:
    """Why the path could mean one thing to the gateway and another behind it (a dot segment
    that a URL library would resolve, a slash hidden from routing by encoding), or None."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path: str = scope["path"]  # decoded once, as routing reads it
    if _ENCODED_SEPARATOR.search(raw) or "\\" in path:
        return "an encoded slash or a backslash"
    if any(segment in {".", ".."} for segment in path.split("/")):
        return "a dot segment"
    if _ENCODED_TWICE.search(path):
        return "a doubly encoded dot or slash"
    if _CONTROL.search(path):
        return "a control character"
    return None


def is_upload(scope: Scope) -> bool:
    return any(
        scope["method"] == method and pattern.fullmatch(scope["path"])
        for method, pattern in UPLOADS
    )


class _Body:
    """The request body as the app reads it: counted against the route's limit, each read
    waited for at most `timeout`. The first refusal is kept: it is the request's answer."""

    def __init__(self, receive: Receive, limit: int | None, timeout: float) -> None:
        self.receive, self.limit, self.timeout = receive, limit, timeout
        self.received = 0
        self.complete = False
        self.refused: ProblemError | None = None

    async def __call__(self) -> Message:
        if self.refused is not None:
            raise self.refused
        if self.complete:  # waiting for a disconnect after the body is not a slow body
            return await self.receive()
        try:
            async with asyncio.timeout(self.timeout):
                message = await self.receive()
        except TimeoutError:
            self.refused = RequestTimeout(
                f"The request body stopped arriving for {self.timeout:g} s."
            )
            raise self.refused from None
        if message["type"] != "http.request":
            self.complete = True
            return message
        self.received += len(message.get("body", b""))
        self.complete = not message.get("more_body", False)
        if self.limit is not None and self.received > self.limit:
            self.refused = too_large(self.limit)
            raise self.refused
        return message


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body exceeds this route's limit of {limit} bytes.")


class RequestLimits:
    """Refuses, as problems and before any route, token check or body parsing runs: ambiguous
    paths (400), more than `max_header_count` headers (431), a declared `Content-Length` over
    the route's limit (413); then counts the body as it streams (413 past the limit) and bounds
    each wait for more of it (408). Uploads stream under the files service's own limit."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        headers = Headers(scope=scope)
        upload = is_upload(scope)
        limit = None if upload else settings.max_body_size
        refusal = self._refusal(scope, headers, limit)
        if refusal is not None:
            await _answer(scope, receive, send, refusal)
            return
        timeout = settings.upload_read_timeout if upload else settings.body_read_timeout
        body = _Body(receive, limit, timeout)
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        started = False

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if body.refused is not None and not started:
                # What the app makes of the failed read (FastAPI: a 400, the proxy: a 502)
                # is not the answer; the refusal is, sent below.
                return
            if message["type"] == "http.response.start":
                started = True
                if has_body and not body.complete:
                    # Answered before its body was read: the rest never will be, so the
                    # connection ends with the answer, not when a trickling client stops.
                    message["headers"] = _closing(message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, body, send_unless_refused)
        except Exception:
            if body.refused is None or started:
                raise
        if body.refused is not None and not started:
            await _answer(scope, receive, send, body.refused)

    def _refusal(self, scope: Scope, headers: Headers, limit: int | None) -> ProblemError | None:
        reason = ambiguous_path(scope)
        if reason is not None:
            return BadRequest(f"The request path holds {reason}.")
        if len(scope["headers"]) > self.settings.max_header_count:
            return RequestHeaderFieldsTooLarge(
                f"More than {self.settings.max_header_count} header fields."
            )
        declared = headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            return too_large(limit)
        return None


def _closing(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"connection"]
    return [*kept, (b"connection", b"close")]


async def _answer(scope: Scope, receive: Receive, send: Send, error: ProblemError) -> None:
    # The body is left unread, so the connection cannot carry another request.
    headers = {**error.headers, "Connection": "close"}
    response = problem_response(
        Request(scope), error.status, slug=error.slug, detail=error.detail, headers=headers
    )
    await response(scope, receive, send)
