"""`/wards/overview?ward=…`: the duty intensivist's grid of one or several wards. The console
asks the video service for the person's watch token of each ward with their access token and
puts only those short-lived tokens, with the ICE servers, into the page's data attributes;
`static/js/wards.js` watches each ward over one peer connection with them (the tiles, the bed
opened full-size, talking to the bedside, the alarms).

Recording the bed opened full-size needs the person's access token, so the page's script asks
the POST routes here (with the page's CSRF token), which answer JSON: the service's refusal
(its 409 saying why) is said in the panel, a stopped recording names its file."""

import json
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from services.common.errors import BadRequest
from web.cases.api import Refusal
from web.deps import SignedInDep, SignedInFormDep
from web.templating import render_page
from web.wards.api import WardsApiDep
from web.wards.listing import require_screen
from web.wards.schemas import Ward

router = APIRouter(include_in_schema=False)
WardId = Annotated[uuid.UUID, Path()]
BedId = Annotated[uuid.UUID, Path()]
# A duty doctor's screen holds a few wards at most; each is a peer connection and a stream.
MAX_WARDS = 6


@dataclass(frozen=True)
class Watched:
    ward: Ward
    token: str
    ice_servers: str  # JSON, for the page's script


@router.get("/wards/overview")
async def overview(
    request: Request,
    signed_in: SignedInDep,
    api: WardsApiDep,
    ward: Annotated[list[uuid.UUID] | None, Query()] = None,
) -> Response:
    """A ward the person may not see is the API's 404 (the not-found page), one they may see
    but not watch its 403."""
    require_screen(signed_in)
    chosen = list(dict.fromkeys(ward or []))
    if not chosen:
        return RedirectResponse("/wards", status_code=303)
    if len(chosen) > MAX_WARDS:
        raise BadRequest(f"Choose at most {MAX_WARDS} wards for one overview.")
    token = signed_in.access_token
    watched = []
    for ward_id in chosen:
        found = await api.ward(token, ward_id)
        watch = await api.watch_token(token, ward_id)
        watched.append(Watched(found, watch.token, json.dumps(watch.ice_servers)))
    return render_page(request, "wards/overview.html", {"watched": watched})


def _refused(refusal: Refusal) -> Response:
    return JSONResponse({"detail": refusal.detail}, status_code=refusal.status)


@router.post("/wards/{ward_id}/beds/{bed_id}/recording/start")
async def start_recording(
    ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    require_screen(signed_in)
    result = await api.start_recording(signed_in.access_token, ward_id, bed_id)
    if isinstance(result, Refusal):
        return _refused(result)
    return JSONResponse({"recording": True})


@router.post("/wards/{ward_id}/beds/{bed_id}/recording/stop")
async def stop_recording(
    ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    """`file_id`: where the recording went, the person's own file in the files service (the
    console has no page of a file outside a case, so the page names its id)."""
    require_screen(signed_in)
    result = await api.stop_recording(signed_in.access_token, ward_id, bed_id)
    if isinstance(result, Refusal):
        return _refused(result)
    file_id = str(result.file_id) if result.file_id else None
    return JSONResponse({"recording": False, "file_id": file_id, "frames": result.frames})
