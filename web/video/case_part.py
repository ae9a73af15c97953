"""The video part of the case page: the case's open rooms, each with a link to join, and whether
the reader may start a video consultation with the requesting medic (`case_room.py`)."""

from typing import Any

from fastapi import Request

from web.cases.schemas import Case
from web.models import BrowserSession
from web.video.api import VideoApi

# Where the case's specialist works on it, so a talk with the medic can help.
TALKING = ("accepted", "in_progress")


async def case_part(
    request: Request, session: BrowserSession, token: str, case: Case
) -> dict[str, Any]:
    """`video_rooms`: the case's rooms not closed that the reader hosts or is invited to;
    `can_start_video`: the reader is the case's specialist, at work on it, with no room yet."""
    rooms = await VideoApi(request.app.state.gateway_client).rooms(token, case.id)
    consultations = [room for room in rooms if room.kind == "d2d"]
    can_start = (
        session.role == "specialist"
        and case.assignee_id == session.user_id
        and case.status in TALKING
        and not consultations
    )
    return {"video_rooms": rooms, "can_start_video": can_start}
