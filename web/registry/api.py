"""The directory's patient register and the scheduling API as the registry and schedule screens
call them, through the gateway with the person's own token: every rule, refusal and audit
record is the services' own."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from web.cases.api import DIRECTORY, FORM_REFUSALS, CasesApi, Refusal, idempotency
from web.registry.schemas import (
    ActingOrganization,
    Appointment,
    AppointmentPage,
    Availability,
    Duplicate,
    Episode,
    Invitation,
    Patient,
    PatientPage,
    Schedule,
    ScheduleException,
    Series,
)

SCHEDULING = "/api/scheduling"
NOTIFY = "/api/notify"
# The most slots one week view asks for: a week of 5-minute steps of one specialist is 2,016.
MAX_SLOTS = 1000
MAX_PAGES = 10  # a calendar week of one specialist fits in a few pages of 200


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Duplicates:
    """The register's 409: a policy number or a namesake born the same day on record (its
    `reason`, `policy_number` or `namesake`), with those of them the caller may see."""

    refusal: Refusal
    reason: str | None = None
    items: list[Duplicate] = field(default_factory=list)


class RegistryApi(CasesApi):
    # The patient register ------------------------------------------------------------------

    async def acting_organizations(self, bearer: str) -> list[ActingOrganization]:
        response = await self.request("GET", f"{DIRECTORY}/me/organizations", bearer)
        return self._parse_list(response, ActingOrganization)

    async def find(
        self, bearer: str, *, name: str, birth_date: str, policy_number: str
    ) -> list[Patient] | Refusal:
        """The register's patients the caller acts for; a malformed date or number is the
        API's 422, said beside the field."""
        params = {"q": name, "birth_date": birth_date, "policy_number": policy_number}
        response = await self.request(
            "GET",
            f"{DIRECTORY}/patients",
            bearer,
            ok=(200, 422),
            params={name: value for name, value in params.items() if value} | {"limit": 20},
        )
        if response.status_code != 200:
            return Refusal.of(response)
        return self._parse(response, PatientPage).items

    async def register(
        self, bearer: str, body: Mapping[str, Any], key: str | None
    ) -> Patient | Duplicates | Refusal:
        response = await self.request(
            "POST", f"{DIRECTORY}/patients", bearer, ok=(201, *FORM_REFUSALS),
            headers=idempotency(key), json=body,
        )  # fmt: skip
        if response.status_code == 201:
            return self._parse(response, Patient)
        refusal = Refusal.of(response)
        if response.status_code != 409:
            return refusal
        body = response.json()
        found = body.get("duplicates") or []
        items = [Duplicate.model_validate(item) for item in found]
        return Duplicates(refusal, body.get("reason"), items)

    async def patient(self, bearer: str, patient_id: uuid.UUID) -> Patient:
        """Another organisation's patient is the API's 404, the console's "not found" page."""
        response = await self.request("GET", f"{DIRECTORY}/patients/{patient_id}", bearer)
        return self._parse(response, Patient)

    # Free slots and appointments -----------------------------------------------------------

    async def availability(self, bearer: str, params: Mapping[str, str]) -> Availability | Refusal:
        response = await self.request(
            "GET",
            f"{SCHEDULING}/availability",
            bearer,
            ok=(200, 422),
            params={**params, "limit": str(MAX_SLOTS)},
        )
        if response.status_code != 200:
            return Refusal.of(response)
        return self._parse(response, Availability)

    async def appointments(
        self, bearer: str, *, practitioner: uuid.UUID, starts_from: datetime, before: datetime
    ) -> list[Appointment]:
        """A practitioner's visits starting in [from, before), every page, earliest first."""
        params = {
            "practitioner": str(practitioner),
            "from": instant(starts_from),
            "to": instant(before),
            "limit": "200",
        }
        found: list[Appointment] = []
        for _ in range(MAX_PAGES):
            response = await self.request(
                "GET", f"{SCHEDULING}/appointments", bearer, params=params
            )
            page = self._parse(response, AppointmentPage)
            found += page.items
            if not page.next_cursor:
                break
            params["cursor"] = page.next_cursor
        return found

    async def appointment(self, bearer: str, appointment_id: uuid.UUID) -> Appointment:
        response = await self.request("GET", f"{SCHEDULING}/appointments/{appointment_id}", bearer)
        return self._parse(response, Appointment)

    async def book(
        self, bearer: str, body: Mapping[str, Any], key: str | None
    ) -> Appointment | Refusal:
        path = f"{SCHEDULING}/appointments"
        return await self._submit("POST", path, bearer, Appointment, idempotency_key=key, json=body)

    async def step(
        self, bearer: str, appointment_id: uuid.UUID, action: str, body: Mapping[str, Any] | None
    ) -> Appointment | Refusal:
        """`check-in`, `arrive`, `fulfil`, `no-show` or `cancel`, as the API names them."""
        path = f"{SCHEDULING}/appointments/{appointment_id}/{action}"
        return await self._submit("POST", path, bearer, Appointment, json=body)

    async def reschedule(
        self, bearer: str, appointment_id: uuid.UUID, body: Mapping[str, Any], key: str | None
    ) -> Appointment | Refusal:
        path = f"{SCHEDULING}/appointments/{appointment_id}/reschedule"
        return await self._submit("POST", path, bearer, Appointment, idempotency_key=key, json=body)

    async def resend_invitation(
        self, bearer: str, appointment_id: uuid.UUID, key: str | None
    ) -> Invitation | Refusal:
        path = f"{NOTIFY}/visits/{appointment_id}/invitation"
        return await self._submit("POST", path, bearer, Invitation, idempotency_key=key, json={})

    # Episodes ------------------------------------------------------------------------------

    async def episodes(self, bearer: str, patient_id: uuid.UUID) -> list[Episode]:
        response = await self.request(
            "GET", f"{SCHEDULING}/episodes", bearer, params={"patient": str(patient_id)}
        )
        return self._parse_list(response, Episode)

    async def episode(self, bearer: str, episode_id: uuid.UUID) -> Episode:
        response = await self.request("GET", f"{SCHEDULING}/episodes/{episode_id}", bearer)
        return self._parse(response, Episode)

    async def follow_ups(
        self, bearer: str, episode_id: uuid.UUID, body: Mapping[str, Any], key: str | None
    ) -> Series | Refusal:
        path = f"{SCHEDULING}/episodes/{episode_id}/follow-ups"
        return await self._submit("POST", path, bearer, Series, idempotency_key=key, json=body)

    # Schedules -----------------------------------------------------------------------------

    async def schedules(self, bearer: str, specialty: str) -> list[Schedule]:
        response = await self.request(
            "GET", f"{SCHEDULING}/schedules", bearer, params={"specialty": specialty}
        )
        return self._parse_list(response, Schedule)

    async def save_schedule(
        self, bearer: str, schedule_id: uuid.UUID | None, body: Mapping[str, Any]
    ) -> Schedule | Refusal:
        """Creates the caller's schedule, or replaces the one with `schedule_id`."""
        if schedule_id is None:
            method, path = "POST", f"{SCHEDULING}/schedules"
        else:
            method, path = "PUT", f"{SCHEDULING}/schedules/{schedule_id}"
        return await self._submit(method, path, bearer, Schedule, json=body)

    async def exceptions(self, bearer: str, schedule_id: uuid.UUID) -> list[ScheduleException]:
        path = f"{SCHEDULING}/schedules/{schedule_id}/exceptions"
        return self._parse_list(await self.request("GET", path, bearer), ScheduleException)

    async def add_exception(
        self, bearer: str, schedule_id: uuid.UUID, body: Mapping[str, Any]
    ) -> ScheduleException | Refusal:
        path = f"{SCHEDULING}/schedules/{schedule_id}/exceptions"
        return await self._submit("POST", path, bearer, ScheduleException, json=body)

    async def remove_exception(
        self, bearer: str, schedule_id: uuid.UUID, exception_id: uuid.UUID
    ) -> None:
        path = f"{SCHEDULING}/schedules/{schedule_id}/exceptions/{exception_id}"
        await self.request("DELETE", path, bearer, ok=(204,))


def _api(request: Request) -> RegistryApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return RegistryApi(request.app.state.gateway_client)


RegistryApiDep = Annotated[RegistryApi, Depends(_api)]


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
