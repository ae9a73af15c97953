"""The bedside tablet's page, `GET /bedside`, and its script, `GET /bedside/bedside.js`: the
browser side of a bed's standing camera, opened once with the link the coordinator issues.

Both are static: the ward, the bed and the device credential travel in the link's fragment,
which the browser never sends, and the page keeps them in its own storage. So the page checks
nothing here (the credential is checked by every call the script makes) and any instance can
serve it. The headers are the join page's, with a policy that lets only the page's own style
and its one script file run.
"""

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.video import joinpage

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent.parent / "static"
PAGE = (STATIC / "bedside.html").read_text(encoding="utf-8")
SCRIPT = (STATIC / "bedside.js").read_bytes()
# As the join page's client: revalidated on every load (a 304 costs no body), so a reloaded
# tablet never runs an old script against a new server.
SCRIPT_ETAG = f'"{hashlib.sha256(SCRIPT).hexdigest()[:16]}"'
HEADERS = joinpage.HEADERS | {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",  # /bedside/bedside.js alone; the page has no inline script
            f"style-src {joinpage.inline_sources(PAGE, 'style')}",
            "connect-src 'self'",  # signalling and the bed's events
            "media-src 'self' blob: mediastream:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    ),
}


@router.get("/bedside")
async def bedside_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=HEADERS)


@router.get("/bedside/bedside.js")
async def bedside_script(request: Request) -> Response:
    headers = {
        "Cache-Control": "no-cache",
        "ETag": SCRIPT_ETAG,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == SCRIPT_ETAG:
        return Response(status_code=304, headers=headers)
    return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=headers)
