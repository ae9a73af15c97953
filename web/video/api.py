"""The scheduling and video API as the video screens call it, through the gateway with the
person's own token; the join tokens it gets are the only tokens a page receives."""

import uuid
from datetime import datetime
from typing import Any

from web.cases.api import CasesApi, Refusal
from web.video.schemas import AppointmentPage, JoinToken, Room, RoomView

SCHEDULING = "/api/scheduling"
VIDEO = "/api/video"
# The refusals of recording and closing a call page says beside its buttons: not the host's
# to do, no consent yet, closed meanwhile, the files service did not take the recording.
ACTION_REFUSALS = (403, 409, 410, 502)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class VideoApi(CasesApi):
    """Calls under `/api/scheduling` and `/api/video` (and the case screens' own)."""

    async def appointments(
        self, bearer: str, practitioner: uuid.UUID, starts_from: datetime, before: datetime
    ) -> AppointmentPage:
        params = {"practitioner": str(practitioner), "from": _iso(starts_from),
                  "to": _iso(before), "limit": 100}  # fmt: skip
        response = await self.request("GET", f"{SCHEDULING}/appointments", bearer, params=params)
        return self._parse(response, AppointmentPage)

    async def rooms(self, bearer: str, case_id: uuid.UUID | None = None) -> list[Room]:
        """Rooms not closed that the person hosts, is invited to or is booked into."""
        params = {"case_id": str(case_id)} if case_id else {}
        response = await self.request("GET", f"{VIDEO}/rooms", bearer, params=params)
        return self._parse_list(response, Room)

    async def room_view(self, bearer: str, room_id: uuid.UUID) -> RoomView | None:
        """The room with its participants, for its managers (with an access token) and its
        participants (with a join token); None where the API refuses the caller."""
        response = await self.request("GET", f"{VIDEO}/rooms/{room_id}", bearer, ok=(200, 403, 404))
        return self._parse(response, RoomView) if response.status_code == 200 else None

    async def join_token(self, bearer: str, room_id: uuid.UUID) -> JoinToken:
        """The person's own join token (the host's has every grant); a room they may not see
        is the API's 404, a closed one its 410."""
        response = await self.request(
            "POST", f"{VIDEO}/rooms/{room_id}/tokens", bearer, ok=(201,), json={}
        )
        return self._parse(response, JoinToken)

    async def create_room(self, bearer: str, body: dict[str, Any]) -> Room | Refusal:
        return await self._submit("POST", f"{VIDEO}/rooms", bearer, Room, json=body)

    async def room_action(
        self, bearer: str, room_id: uuid.UUID, method: str, action: str, *, returned: bool
    ) -> Refusal | None:
        """`recording` (POST starts, DELETE stops) or `close`. A refusal is `returned` for the
        page to show, or else raised as the kernel's problem (the console's error page)."""
        ok = (200, 201, *ACTION_REFUSALS) if returned else (200, 201)
        response = await self.request(method, f"{VIDEO}/rooms/{room_id}/{action}", bearer, ok=ok)
        return Refusal.of(response) if response.status_code >= 400 else None
