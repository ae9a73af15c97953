"""`/wards/overview?ward=…`: the duty intensivist's grid of one or several wards. The console
asks the video service for the person's watch token of each ward with their access token and
puts only those short-lived tokens, with the ICE servers, into the page's data attributes;
`static/js/wards.js` watches each ward over one peer connection with them (the tiles, the bed
opened full-size, talking to the bedside, the alarms)."""

import json
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import BadRequest
from web.deps import SignedInDep
from web.templating import render_page
from web.wards.api import WardsApiDep
from web.wards.listing import require_screen
from web.wards.schemas import Ward

router = APIRouter(include_in_schema=False)
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
