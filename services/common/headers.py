"""Headers every answer carries unless its route set its own: JSON (patient data, problems) is
never stored by a cache, and no browser reads a body as another type than the one declared."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RawHeaders = list[tuple[bytes, bytes]]


def with_api_headers(headers: RawHeaders) -> RawHeaders:
    present = {name.lower() for name, _ in headers}
    added = []
    if b"x-content-type-options" not in present:
        added.append((b"x-content-type-options", b"nosniff"))
    if b"cache-control" not in present and _is_json(headers):
        added.append((b"cache-control", b"no-store"))
    return [*headers, *added]


def _is_json(headers: RawHeaders) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class ApiHeaders:
    """Adds the headers to each response; one the gateway relays already has them, once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_api_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)
