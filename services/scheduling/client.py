"""Typed client other services use to read appointments, episodes and free slots, as the caller."""

import uuid
from datetime import datetime
from typing import Any

import httpx

from services.common.errors import BadGateway, Forbidden, NotFound
from services.scheduling.enums import VisitType
from services.scheduling.schemas import AppointmentOut, AppointmentPage, Availability, EpisodeOut


class SchedulingClient:
    """Reads from the scheduling service through the gateway with the caller's own token, so
    its access rules (and its audit of every read) apply to the caller."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _get(self, path: str, bearer: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._client.get(
                f"/api/scheduling{path}",
                params=params,
                headers={"Authorization": f"Bearer {bearer}"},
            )
        except httpx.HTTPError as exc:
            raise BadGateway("The scheduling service could not be reached.") from exc
        if response.status_code == 404:
            raise NotFound("No such appointment or episode is visible to you.")
        if response.status_code == 403:
            raise Forbidden("The scheduling service refused this request.")
        if response.status_code != 200:
            raise BadGateway(f"The scheduling service answered {response.status_code}.")
        return response.json()

    async def get_appointment(self, appointment_id: uuid.UUID, bearer: str) -> AppointmentOut:
        return AppointmentOut.model_validate(
            await self._get(f"/appointments/{appointment_id}", bearer)
        )

    async def list_appointments(
        self, bearer: str, *, episode_id: uuid.UUID | None = None, limit: int = 50
    ) -> AppointmentPage:
        params = {"limit": str(limit)} | ({"episode": str(episode_id)} if episode_id else {})
        return AppointmentPage.model_validate(await self._get("/appointments", bearer, params))

    async def get_episode(self, episode_id: uuid.UUID, bearer: str) -> EpisodeOut:
        return EpisodeOut.model_validate(await self._get(f"/episodes/{episode_id}", bearer))

    async def availability(
        self,
        bearer: str,
        *,
        visit_type: VisitType,
        start: datetime,
        end: datetime,
        specialty: str | None = None,
        practitioner_id: uuid.UUID | None = None,
    ) -> Availability:
        params = {"visit_type": visit_type.value, "from": start.isoformat(), "to": end.isoformat()}
        if specialty:
            params["specialty"] = specialty
        if practitioner_id:
            params["practitioner"] = str(practitioner_id)
        return Availability.model_validate(await self._get("/availability", bearer, params))
