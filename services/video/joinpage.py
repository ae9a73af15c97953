"""The patient's join page, `GET /join/{token}`: one static HTML file with the room's details,
and `GET /join/call.js`, the browser's call client it shares with the console's video page.

The token is checked here so an expired link or a closed room says so at once, in plain words,
instead of failing later inside the call. The client is served here, by the service whose
signalling it speaks, so it always matches the server it talks to; the gateway already routes
`/join/...` here, and both pages load it from their own origin.
"""

import base64
import hashlib
import json
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.common.errors import ProblemError
from services.common.uow import UnitOfWorkDep
from services.video import service
from services.video.deps import live
from services.video.enums import RoomStatus
from services.video.ice import ice_servers

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
PAGE = (STATIC / "join.html").read_text(encoding="utf-8")
CLIENT = (STATIC / "call.js").read_bytes()
# Browsers keep the client but ask each time whether it changed (a 304 costs a round trip and
# no body), so a deployment never pairs a new server with an old client.
CLIENT_ETAG = f'"{hashlib.sha256(CLIENT).hexdigest()[:16]}"'


def inline_sources(page: str, element: str) -> str:
    """CSP sources allowing exactly the page's inline `<element>`s without attributes, by their
    SHA-256: the page's one script and one style are fixed text (the room's details travel in
    a JSON block that never runs), so nothing injected into the page could run as script."""
    bodies = re.findall(rf"<{element}>(.*?)</{element}>", page, flags=re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(body.encode()).digest()) for body in bodies)
    return " ".join(f"'sha256-{digest.decode()}'" for digest in digests)


HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            f"script-src {inline_sources(PAGE, 'script')} 'self'",  # + /join/call.js
            f"style-src {inline_sources(PAGE, 'style')}",
            "connect-src 'self'",  # signalling and the room's events
            "media-src 'self' blob: mediastream:",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            # A page that asks for the camera and microphone is never shown inside another.
            "frame-ancestors 'none'",
        ]
    ),
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(), "
    "geolocation=(), payment=(), usb=()",
}
# The room's details are JSON inside a <script type="application/json">: with `<`, `>` and `&`
# escaped, no value can end that element or start another.
_UNSAFE_IN_SCRIPT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _page(config: dict[str, object], status: int) -> HTMLResponse:
    data = json.dumps(config).translate(_UNSAFE_IN_SCRIPT)
    return HTMLResponse(PAGE.replace("__CONFIG__", data), status_code=status, headers=HEADERS)


@router.get("/join/call.js")
async def call_client(request: Request) -> Response:
    """Routed before `/join/{token}`: a join token is a JWT, never this name."""
    headers = {
        "Cache-Control": "no-cache",
        "ETag": CLIENT_ETAG,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == CLIENT_ETAG:
        return Response(status_code=304, headers=headers)
    return Response(CLIENT, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/join/{token}")
async def join_page(token: str, request: Request, uow: UnitOfWorkDep) -> HTMLResponse:
    runtime = live(request)
    try:
        claims = runtime.tokens.verify(token)
        room = await service.get_room(uow, claims.room_id)
    except ProblemError as exc:
        reason = exc.extensions.get("reason", "invalid")
        return _page({"problem": reason}, 410 if reason == "expired" else 404)
    if room.status is RoomStatus.CLOSED:
        return _page({"problem": "closed"}, 410)
    return _page(
        {
            "room_id": str(room.id),
            "title": room.title,
            "name": claims.name,
            "ice_servers": [
                s.model_dump(exclude_none=True)
                for s in ice_servers(runtime.settings, claims.identity)
            ],
        },
        200,
    )
