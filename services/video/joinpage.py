"""The patient's join page, `GET /join/{token}`: one static HTML file with the room's details.

The token is checked here so an expired link or a closed room says so at once, in plain words,
instead of failing later inside the call.
"""

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.common.errors import ProblemError
from services.common.uow import UnitOfWorkDep
from services.video import service
from services.video.deps import live
from services.video.enums import RoomStatus
from services.video.ice import ice_servers

router = APIRouter(include_in_schema=False)
PAGE = (Path(__file__).parent / "static" / "join.html").read_text(encoding="utf-8")
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; media-src 'self' blob: mediastream:; img-src 'self' data:",
}


def _page(config: dict[str, object], status: int) -> HTMLResponse:
    # `</` is escaped so no value can close the script element it is embedded in.
    data = json.dumps(config).replace("</", "<\\/")
    return HTMLResponse(PAGE.replace("__CONFIG__", data), status_code=status, headers=HEADERS)


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
