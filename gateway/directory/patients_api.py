"""The directory's patient register over HTTP: registry and call-centre staff register, find
and edit patients of the organisations they act for."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gateway.directory import patients
from gateway.directory.schemas import Patient, PatientCreate, PatientPage, PatientUpdate
from gateway.directory.serving import acting
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["patients"])
MAX_PAGE = 100
MAX_OFFSET = 10_000


@router.post(
    "/patients",
    status_code=201,
    response_model=Patient,
    summary="Register a patient",
    description="By registrars, coordinators and administrators, for an organisation the "
    "caller acts for (their own by default, or one theirs serves; another is a 403). The "
    "patient gets a generated username and no password: they sign in once invited "
    "(`POST /api/directory/users/{id}/invite`). A registered OMS policy number is a 409, as is "
    "a patient of the same name (case, ё and spacing aside) and birth date unless "
    "`allow_namesake`; the problem's `reason` says which (`policy_number` or `namesake`, "
    "the only one `allow_namesake` gets past) and its `duplicates` lists those on record the "
    "caller may see. "
    "Send `Idempotency-Key` to retry safely.",
    responses=problem_responses(401, 403, 409, 422),
)
async def register_patient(
    request: Request, body: PatientCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Any:
    caller = await acting(uow.session, principal)

    async def create() -> Patient:
        return await patients.register(uow, caller, body, request.app.state.clock())

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location("/api/directory/patients/{id}"),
    )


@router.get(
    "/patients",
    response_model=PatientPage,
    summary="Find patients",
    description="Patients of the organisations the caller acts for, by any part of the name "
    "(case, ё and spacing aside; names that start with it first), birth date and policy "
    "number. For registrars, coordinators and administrators (who search everyone).",
    responses=problem_responses(401, 403),
)
async def find_patients(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    q: Annotated[str | None, Query(max_length=255, examples=["сидорова мар"])] = None,
    birth_date: Annotated[date | None, Query(ge=date(1900, 1, 1), le=date(2999, 12, 31))] = None,
    policy_number: Annotated[str | None, Query(pattern=r"^[0-9]{16}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PatientPage:
    return await patients.search(
        uow,
        await acting(uow.session, principal),
        q=q,
        birth_date=birth_date,
        policy_number=policy_number,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/patients/{patient_id}",
    response_model=Patient,
    summary="One registered patient",
    description="As `GET /api/directory/patients` shows them; any other is a 404.",
    responses=problem_responses(401, 403, 404),
)
async def get_patient(
    patient_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Patient:
    return await patients.read(uow, await acting(uow.session, principal), patient_id)


@router.patch(
    "/patients/{patient_id}",
    response_model=Patient,
    summary="Correct a patient's registration or contacts",
    description="The fields sent change; `null` clears the policy number, phone or e-mail. A "
    "policy number on another patient's record is a 409 naming them (if visible).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_patient(
    patient_id: uuid.UUID, body: PatientUpdate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Patient:
    return await patients.update(uow, await acting(uow.session, principal), patient_id, body)
