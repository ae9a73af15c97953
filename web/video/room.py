"""`/video/{room_id}`: the call page of a room for staff. The console takes the person's own
join token (`POST /api/video/rooms/{id}/tokens`) with their access token and puts only that
short-lived join token into the page; the page's script calls the video API with it. What
needs the person's access token (recording, closing the room) goes through the POST routes
here, with the page's CSRF token."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from services.common.errors import ProblemError
from web.deps import SignedInDep, SignedInFormDep
from web.templating import render_page
from web.video.deps import VideoApiDep

router = APIRouter(include_in_schema=False)
RoomId = Annotated[uuid.UUID, Path()]
# The console's routes and the video API's call for each.
ACTIONS = {
    "recording/start": ("POST", "recording"),
    "recording/stop": ("DELETE", "recording"),
    "close": ("POST", "close"),
}


@router.get("/video/{room_id}")
async def video_page(
    request: Request, room_id: RoomId, signed_in: SignedInDep, api: VideoApiDep
) -> Response:
    """Another organisation's room is the API's 404 (the not-found page); a closed room its
    410, said on the page."""
    try:
        joining = await api.join_token(signed_in.access_token, room_id)
    except ProblemError as exc:
        if exc.status != 410:
            raise
        return render_page(request, "video/closed.html", status=410)
    view = await api.room_view(joining.token, room_id)
    config = {
        "room_id": str(room_id),
        "token": joining.token,
        "ice_servers": joining.ice_servers,
        "identity": joining.identity,
        "admits": "admit" in joining.grants,
        "records": "record" in joining.grants,
    }
    context = {"room": view, "room_id": room_id, "config": config,
               "hosting": "admit" in joining.grants}  # fmt: skip
    return render_page(request, "video/room.html", context)


async def _act(request: Request, room_id: uuid.UUID, signed_in: SignedInFormDep,
               api: VideoApiDep, action: str) -> Response:  # fmt: skip
    """The page's script asks by `fetch` (a JSON answer keeps the call going); a plain form
    (no script) is sent back to the page, or shown the refusal."""
    method, path = ACTIONS[action]
    by_script = request.headers.get("sec-fetch-mode", "navigate") != "navigate"
    token = signed_in.access_token
    refusal = await api.room_action(token, room_id, method, path, returned=by_script)
    if not by_script:
        return RedirectResponse(f"/video/{room_id}", status_code=303)
    if refusal is not None:
        return JSONResponse({"detail": refusal.detail}, status_code=refusal.status)
    return JSONResponse({"done": action})


@router.post("/video/{room_id}/recording/start")
async def start_recording(
    request: Request, room_id: RoomId, signed_in: SignedInFormDep, api: VideoApiDep
) -> Response:
    return await _act(request, room_id, signed_in, api, "recording/start")


@router.post("/video/{room_id}/recording/stop")
async def stop_recording(
    request: Request, room_id: RoomId, signed_in: SignedInFormDep, api: VideoApiDep
) -> Response:
    return await _act(request, room_id, signed_in, api, "recording/stop")


@router.post("/video/{room_id}/close")
async def close_room(
    request: Request, room_id: RoomId, signed_in: SignedInFormDep, api: VideoApiDep
) -> Response:
    return await _act(request, room_id, signed_in, api, "close")
