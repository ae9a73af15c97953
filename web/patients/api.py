"""The scheduling and consult API as the patient's screens call it, through the gateway with
the patient's own token: scheduling decides which visits are theirs and when a video visit may
be joined, consult whether they may ask and what they may read."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from web.cases.api import CONSULT, FORM_REFUSALS, CasesApi, Refusal, idempotency
from web.cases.schemas import CaseSummary
from web.patients.schemas import (
    Appointment,
    AppointmentPage,
    JoinLink,
    PatientRequest,
    WorseningSigns,
)

SCHEDULING = "/api/scheduling"


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class NotYet:
    """Scheduling's refusal of a join link: 409 (not open yet, or the visit was called off)
    or 410 (the visit is over), with `opens_at` when it names it."""

    status: int
    opens_at: datetime | None


@dataclass(frozen=True)
class NotEligible:
    """Consult's 409 to a request without a fulfilled in-person visit in the specialty:
    `no_visit`, `visit_not_fulfilled` or `other_specialty`."""

    reason: str


class PatientApi(CasesApi):
    async def appointments(
        self,
        bearer: str,
        *,
        starts_from: datetime,
        starts_before: datetime | None = None,
        statuses: tuple[str, ...] = (),
        limit: int = 50,
    ) -> list[Appointment]:
        """The patient's own visits starting in the span, earliest first (one page)."""
        params: list[tuple[str, str | int]] = [("from", instant(starts_from)), ("limit", limit)]
        if starts_before is not None:
            params.append(("to", instant(starts_before)))
        params += [("status", status) for status in statuses]
        response = await self.request("GET", f"{SCHEDULING}/appointments", bearer, params=params)
        return self._parse(response, AppointmentPage).items

    async def appointment(self, bearer: str, appointment_id: uuid.UUID) -> Appointment:
        path = f"{SCHEDULING}/appointments/{appointment_id}"
        return self._parse(await self.request("GET", path, bearer), Appointment)

    async def join_link(self, bearer: str, appointment_id: uuid.UUID) -> JoinLink | NotYet:
        """A new link into the video visit; any other visit of the patient's is a 404."""
        response = await self.request(
            "POST",
            f"{SCHEDULING}/appointments/{appointment_id}/join-link",
            bearer,
            ok=(200, 409, 410),
        )
        if response.status_code == 200:
            return self._parse(response, JoinLink)
        return NotYet(response.status_code, _opens_at(response))

    async def own_requests(self, bearer: str) -> list[CaseSummary]:
        """Newest first."""
        response = await self.request("GET", f"{CONSULT}/patient-requests", bearer)
        return self._parse_list(response, CaseSummary)

    async def own_request(self, bearer: str, case_id: uuid.UUID) -> PatientRequest:
        """Another patient's request, or a case that is not a request, is a 404."""
        response = await self.request("GET", f"{CONSULT}/cases/{case_id}", bearer)
        return self._parse(response, PatientRequest)

    async def worsening_signs(self, bearer: str) -> list[str]:
        response = await self.request("GET", f"{CONSULT}/worsening-signs", bearer)
        return self._parse(response, WorseningSigns).signs

    async def file_request(
        self, bearer: str, body: dict[str, Any], idempotency_key: str
    ) -> PatientRequest | NotEligible | Refusal:
        response = await self.request(
            "POST",
            f"{CONSULT}/patient-requests",
            bearer,
            ok=(201, *FORM_REFUSALS),
            headers=idempotency(idempotency_key),
            json=body,
        )
        if response.status_code == 409 and (reason := _field(response, "reason")):
            return NotEligible(reason)
        if response.status_code in FORM_REFUSALS:
            return Refusal.of(response)
        return self._parse(response, PatientRequest)


def _field(response: httpx.Response, name: str) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _opens_at(response: httpx.Response) -> datetime | None:
    text = _field(response, "opens_at")
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _api(request: Request) -> PatientApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return PatientApi(request.app.state.gateway_client)


PatientApiDep = Annotated[PatientApi, Depends(_api)]
