"""Typed client other services use: scheduling to create rooms and patients' join links,
consult to create a consilium's room and keep its invitees to the consilium's members."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from services.common.client import PASSED_ON, ServiceClient
from services.common.errors import Conflict
from services.video.enums import RoomKind
from services.video.schemas import MAX_INVITEES, JoinTokenOut, RoomOut

# What callers pass and get back, so they need import nothing else of this service.
__all__ = ["MAX_INVITEES", "JoinTokenOut", "RoomKind", "RoomOut", "VideoClient"]


class VideoClient(ServiceClient):
    """Calls `/api/video` through the gateway with the bearer token it is given (the caller's,
    or a service credential's), so the video service's rules decide; its refusals come back as
    the same problems, except that a closed room (410) is a 409, as scheduling's join link
    documents it."""

    problems = {**PASSED_ON, 410: Conflict}

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, "/api/video", "video service")

    async def _post(self, path: str, bearer: str, body: dict[str, Any] | None = None) -> Any:
        return await self.call("POST", path, bearer, json=body)

    async def create_room(
        self,
        bearer: str,
        *,
        kind: RoomKind,
        title: str,
        starts_at: datetime,
        host_id: uuid.UUID | None = None,
        appointment_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        invitee_ids: Sequence[uuid.UUID] = (),
    ) -> RoomOut:
        """The new room; for an appointment that already has one, that room."""
        ids = {
            "host_id": host_id,
            "appointment_id": appointment_id,
            "case_id": case_id,
            "organization_id": organization_id,
            "patient_id": patient_id,
        }
        body = {
            "kind": kind.value,
            "title": title,
            "starts_at": starts_at.isoformat(),
            **{name: str(value) if value else None for name, value in ids.items()},
            "invitee_ids": [str(user_id) for user_id in invitee_ids],
        }
        return RoomOut.model_validate(await self._post("/rooms", bearer, body))

    async def set_invitees(
        self, room_id: uuid.UUID, invitee_ids: Sequence[uuid.UUID], bearer: str
    ) -> RoomOut:
        """Replaces who, besides the host, may join the room (the host's or a coordinator's
        token)."""
        body = {"invitee_ids": [str(user_id) for user_id in invitee_ids]}
        return RoomOut.model_validate(
            await self.call("PUT", f"/rooms/{room_id}/invitees", bearer, json=body)
        )

    async def release_room(self, room_id: uuid.UUID, bearer: str) -> RoomOut:
        """Closes the room (a cancelled appointment): everyone in it is disconnected."""
        return RoomOut.model_validate(await self._post(f"/rooms/{room_id}/close", bearer))

    async def patient_join_link(
        self, room_id: uuid.UUID, patient_id: uuid.UUID, display_name: str, bearer: str
    ) -> JoinTokenOut:
        body = {"patient_id": str(patient_id), "display_name": display_name}
        return JoinTokenOut.model_validate(
            await self._post(f"/rooms/{room_id}/patient-link", bearer, body)
        )
