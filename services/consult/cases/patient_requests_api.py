"""HTTP routes of patients' own requests under `/api/consult`, besides the cases' own routes.

Filing one (refused without an in-person visit), a patient's list, the worsening signs they
may report, and answering a request with a remote follow-up visit."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.cases import patient_requests
from services.consult.cases.deps import AttachFileDep, GrantsDep
from services.consult.cases.episodes import link_grant
from services.consult.cases.patient_requests import Eligibility, VisitOnRecord
from services.consult.cases.schemas import (
    CaseOut,
    CaseSummary,
    FollowUpCreate,
    PatientRequestCreate,
    WorseningSigns,
    case_out,
)
from services.consult.deps import PREFIX, OrganizationsDep, PeopleDep, SettingsDep
from services.consult.scopes import WRITE_SCOPE
from services.scheduling.client import SchedulingClient

router = APIRouter(prefix=PREFIX, tags=["patient requests"])


def _check_eligibility(request: Request) -> patient_requests.CheckEligibility:
    """Asks the scheduling service as the caller, so its rule of who may see whose visits
    applies: a patient asks of their own, a coordinator of their organisation's patients."""
    scheduling: SchedulingClient = request.app.state.scheduling
    token = bearer_token(request)

    async def check(
        patient_id: uuid.UUID, specialty: str, episode_id: uuid.UUID | None
    ) -> Eligibility:
        answer = await scheduling.eligibility(
            patient_id, token, specialty=specialty, episode_id=episode_id
        )
        visit = VisitOnRecord.model_validate(answer.model_dump()) if answer.eligible else None
        return Eligibility(
            visit=visit, reason=answer.reason, detail=answer.detail, book_url=answer.book_url
        )

    return check


def _book_follow_up(
    request: Request, principal: CurrentPrincipal, grants: GrantsDep
) -> patient_requests.BookFollowUp:
    """Books as the calling specialist, so the scheduling service's rules decide, with
    consult's grant to link the visit to the request; a retry of the same booking is answered
    with the first one."""
    scheduling: SchedulingClient = request.app.state.scheduling
    token = bearer_token(request)

    async def book(
        episode_id: uuid.UUID, case_id: uuid.UUID, practitioner_id: uuid.UUID, start: datetime
    ) -> uuid.UUID:
        appointment = await scheduling.book_remote_follow_up(
            token,
            practitioner_id=practitioner_id,
            episode_id=episode_id,
            start=start,
            consult_case_id=case_id,
            grant=link_grant(grants, principal, case_id),
            idempotency_key=f"consult-follow-up:{case_id}:{start.astimezone(UTC).isoformat()}",
        )
        return appointment.id

    return book


CheckEligibilityDep = Annotated[patient_requests.CheckEligibility, Depends(_check_eligibility)]
BookFollowUpDep = Annotated[patient_requests.BookFollowUp, Depends(_book_follow_up)]


@router.post(
    "/patient-requests",
    status_code=201,
    response_model=CaseOut,
    summary="Ask the specialist who saw you in person (a coordinator may ask for a patient)",
    description=(
        "Needs a fulfilled in-person visit in the specialty, asked of the scheduling service; "
        "without one the answer is a 409 whose `reason` is `no_visit`, `visit_not_fulfilled` "
        "or `other_specialty` and whose `book_url` finds an in-person visit to book. The "
        "request goes to the visit's specialist, or to their organisation's specialty queue "
        "while they are on leave. It is planned; a sign from `GET /worsening-signs` makes it "
        "urgent and flagged. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def create_request(
    body: PatientRequestCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    check_eligibility: CheckEligibilityDep,
    attach_file: AttachFileDep,
    people: PeopleDep,
) -> JSONResponse:
    async def create() -> CaseOut:
        case = await patient_requests.create_request(
            uow, principal, body, organizations, settings, check_eligibility, attach_file, people
        )
        return case_out(case)

    return await idempotent(
        request, uow.session, principal, body, create, headers=location(PREFIX + "/cases/{id}")
    )


@router.get(
    "/patient-requests",
    response_model=list[CaseSummary],
    summary="The calling patient's own requests, newest first",
    description="Each is read in full, with its answer, under `/cases/{case_id}`.",
    responses=problem_responses(401, 403),
)
async def list_own_requests(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> list[CaseSummary]:
    return await patient_requests.list_own_requests(uow, principal)


@router.get(
    "/worsening-signs",
    response_model=WorseningSigns,
    summary="The worsening signs a patient may report, each making a request urgent",
    description="The codes (`chest_pain`, `fainting`, ...) a patient app offers as choices "
    "with `POST /patient-requests`; the deployment configures them. Public: no token, and "
    "nothing about any patient.",
)
async def worsening_signs(settings: SettingsDep) -> WorseningSigns:
    return WorseningSigns(signs=sorted(settings.worsening_signs))


@router.post(
    "/cases/{case_id}/follow-up",
    response_model=CaseOut,
    summary="Answer a patient's request with a remote follow-up, booked in one step",
    description=(
        "The assigned specialist, with the request in progress, books a remote visit on their "
        "own schedule in the request's care episode; the request is concluded and points at "
        "the appointment. The scheduling service's refusals (slot taken, not the episode's "
        "specialist) are 409 or 422 and change nothing. Send `Idempotency-Key` to retry."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def book_follow_up(
    case_id: uuid.UUID,
    body: FollowUpCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    book: BookFollowUpDep,
) -> JSONResponse:
    async def create() -> CaseOut:
        case = await patient_requests.book_follow_up(uow, principal, case_id, body.start, book)
        return case_out(case)

    return await idempotent(request, uow.session, principal, body, create, status_code=200)
