"""Typed client other services use to read appointments, episodes, free slots and a patient's
eligibility for remote follow-ups, to book a remote follow-up and to open an episode linked to
a case, as the caller."""

import uuid
from datetime import datetime
from typing import Any

import httpx

from services.common.client import ServiceClient
from services.common.grants import GRANT_HEADER
from services.scheduling.case_links import CASE_LINK, GRANT_AUDIENCE
from services.scheduling.enums import VisitType
from services.scheduling.schemas import (
    AppointmentCreate,
    AppointmentOut,
    AppointmentPage,
    Availability,
    Eligibility,
    EpisodeCreate,
    EpisodeOut,
)

# Re-exported for consult, which signs the `case.link` grants and sends the episodes.
__all__ = ["CASE_LINK", "GRANT_AUDIENCE", "EpisodeCreate", "EpisodeOut", "SchedulingClient"]


def _headers(grant: str | None, idempotency_key: str | None) -> dict[str, str]:
    headers = {GRANT_HEADER: grant} if grant else {}
    return headers | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})


class SchedulingClient(ServiceClient):
    """Calls the scheduling service through the gateway with the caller's own token, so its
    access rules (and its audit of every read) apply to the caller."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, "/api/scheduling", "scheduling service")

    async def _get(self, path: str, bearer: str, params: dict[str, str] | None = None) -> Any:
        return await self.call("GET", path, bearer, ok=(200,), params=params)

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

    async def eligibility(
        self,
        patient_id: uuid.UUID,
        bearer: str,
        *,
        specialty: str,
        episode_id: uuid.UUID | None = None,
    ) -> Eligibility:
        """Whether the patient may be followed up remotely in `specialty`, and if not, why."""
        params = {"specialty": specialty} | ({"episode": str(episode_id)} if episode_id else {})
        body = await self._get(f"/patients/{patient_id}/eligibility", bearer, params)
        return Eligibility.model_validate(body)

    async def book_remote_follow_up(
        self,
        bearer: str,
        *,
        practitioner_id: uuid.UUID,
        episode_id: uuid.UUID,
        start: datetime,
        consult_case_id: uuid.UUID | None = None,
        grant: str | None = None,
        idempotency_key: str | None = None,
    ) -> AppointmentOut:
        """Books a remote visit in the episode; the caller must be one who books in it (its
        specialist, on their own schedule). A case other than the episode's own needs the
        consult grant for it. A refusal comes back as the service worded it."""
        booking = AppointmentCreate(
            practitioner_id=practitioner_id,
            visit_type=VisitType.REMOTE,
            start=start,
            episode_id=episode_id,
            consult_case_id=consult_case_id,
        )
        body = await self.call(
            "POST",
            "/appointments",
            bearer,
            ok=(201,),
            headers=_headers(grant, idempotency_key),
            json=booking.model_dump(mode="json", exclude_none=True),
        )
        return AppointmentOut.model_validate(body)

    async def create_episode(
        self,
        data: EpisodeCreate,
        bearer: str,
        grant: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> EpisodeOut:
        """Opens a care episode as the caller; its `consult_case_id` needs the consult grant
        (purpose `case.link`) naming that case and the caller."""
        body = await self.call(
            "POST",
            "/episodes",
            bearer,
            ok=(201,),
            headers=_headers(grant, idempotency_key),
            json=data.model_dump(mode="json", exclude_none=True),
        )
        return EpisodeOut.model_validate(body)
