"""The web console behind the gateway: every path that is not the gateway's own goes to the
`web` service, so people open `https://<portal>/` and the gateway stays the only public door.

The console is the router's fallback (`Router.default`), not a catch-all route: Starlette
calls it only once no route matched, in full or by path alone (a 405 stays a 405), so no
route, whatever order the gateway's routers are added in, is ever shadowed by it. Paths under
the gateway's own prefixes never reach the console, even those no route serves: an unknown
`/api/...` or `/oauth/...` is the gateway's 404 problem, not a page.
"""

from collections.abc import Iterable

from fastapi import FastAPI, Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from gateway.proxy import forward
from services.common.errors import NotFound

CONSOLE = "web"
# The gateway's own (and its services') paths: the API, OAuth and OpenID Connect, the pages it
# serves itself (accounts, notification preferences, visits, the join page), operations.
OWN_PREFIXES = (
    "/api/",
    "/.well-known/",
    "/oauth/",
    "/account/",
    "/notify/",
    "/visit/",
    "/join/",
    "/ready/",
    "/docs/",
)
OWN_PATHS = frozenset(
    {
        *(prefix.rstrip("/") for prefix in OWN_PREFIXES),
        "/health",
        "/metrics",
        "/openapi.json",
    }
)


def api_services(services: Iterable[str]) -> list[str]:
    """The published services with an API under `/api/<name>/` and in the merged OpenAPI
    document: all but the console, which serves pages."""
    return [name for name in services if name != CONSOLE]


def is_own(path: str) -> bool:
    return path in OWN_PATHS or path.startswith(OWN_PREFIXES)


async def _console(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":  # the console has none; as Starlette answers them
        await WebSocketClose()(scope, receive, send)
        return
    request = Request(scope, receive)
    if is_own(scope["path"]) or CONSOLE not in request.app.state.upstreams.urls:
        raise NotFound("No such resource.")
    response = await forward(request, CONSOLE, scope["path"])
    await response(scope, receive, send)


def install_console(app: FastAPI) -> None:
    app.router.default = _console
