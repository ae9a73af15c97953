"""HTTP routes of patient monitoring under `/api/consult/monitoring`: programmes, enrolments,
check-ins, the day's due list, urgent tasks and discharge."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.uow import UnitOfWorkDep
from services.consult.deps import PREFIX, NowDep, OrganizationsDep, PeopleDep, SettingsDep
from services.consult.monitoring import service as monitoring
from services.consult.monitoring import tasks as monitoring_tasks
from services.consult.monitoring.enums import EnrolmentStatus, TaskStatus
from services.consult.monitoring.schemas import (
    CheckInCreate,
    CheckInOut,
    DischargeRequest,
    DueList,
    EnrolmentCreate,
    EnrolmentOut,
    ProgrammeOut,
    TaskComplete,
    TaskOut,
)

MONITORING = PREFIX + "/monitoring"
router = APIRouter(prefix=MONITORING, tags=["monitoring"])
ENROLMENT = "/enrolments/{enrolment_id}"


@router.get(
    "/programmes",
    response_model=list[ProgrammeOut],
    summary="The monitoring programmes: check-in interval, symptoms asked, escalating thresholds",
    description=(
        "As the deployment configures them (`TELEMED_CONSULT_MONITORING_PROGRAMMES`), each by "
        "the `key` an enrolment names: the symptoms a check-in may report and the rules that "
        "call a home visit or an ambulance. Changes nothing and holds no patient data."
    ),
)
async def list_programmes(settings: SettingsDep) -> list[ProgrammeOut]:
    programmes = settings.monitoring_programmes.items()
    return [ProgrammeOut(key=key, **programme.model_dump()) for key, programme in programmes]


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentOut,
    summary="Put a patient under monitoring by your organisation",
    description=(
        "For coordinators and doctors (district medics, specialists) of the organisation, "
        "which becomes responsible. A `patient_id` must be a patient of that organisation "
        "and an `operator_id` one of its coordinators, else a 422 naming the field. One "
        "active enrolment per patient, programme and organisation (else 409). Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 409, 422, 502),
)
async def enrol(
    body: EnrolmentCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    people: PeopleDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> EnrolmentOut:
        enrolment = await monitoring.enrol(uow, principal, body, settings, people, now)
        return monitoring.enrolment_out(enrolment, now)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location(MONITORING + "/enrolments/{id}"),
    )


@router.get(
    "/enrolments",
    response_model=list[EnrolmentOut],
    summary="Your organisation's monitored patients, or a patient's own monitoring",
    description=(
        "For coordinators and doctors, their organisation's enrolments; for a patient, their "
        "own; the soonest due first, at most 200, optionally of one `status`. 403 for other "
        "roles. The listing is audited."
    ),
    responses=problem_responses(401, 403),
)
async def list_enrolments(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
    status: EnrolmentStatus | None = None,
) -> list[EnrolmentOut]:
    found = await monitoring.list_enrolments(uow, principal, status)
    return [monitoring.enrolment_out(enrolment, now) for enrolment in found]


@router.get(
    ENROLMENT,
    response_model=EnrolmentOut,
    summary="One monitored patient; `overdue` when the check-in is past due",
    description=(
        "For the responsible organisation's coordinators and doctors, and the patient "
        "enrolled; 404 for an enrolment not visible to you. The read is audited."
    ),
    responses=problem_responses(401, 404),
)
async def get_enrolment(
    enrolment_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, now: NowDep
) -> EnrolmentOut:
    enrolment = await monitoring.get_enrolment(uow, principal, enrolment_id)
    return monitoring.enrolment_out(enrolment, now)


@router.post(
    ENROLMENT + "/check-ins",
    status_code=201,
    response_model=CheckInOut,
    summary="Record a check-in (the operator, or the patient); a worsening creates a task",
    description=(
        "Symptoms are those the programme asks; vital signs in the units their names say, "
        "within plausible ranges (else 422). When a threshold is crossed the answer names the "
        "`escalation` and the urgent `task_id` of the responsible organisation. Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 404, 409, 422, 502),
)
async def check_in(
    enrolment_id: uuid.UUID,
    body: CheckInCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    organizations: OrganizationsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> CheckInOut:
        entry = await monitoring.check_in(
            uow, principal, enrolment_id, body, settings, organizations, now
        )
        return CheckInOut.model_validate(entry)

    return await idempotent(request, uow.session, principal, body, create)


@router.get(
    ENROLMENT + "/check-ins",
    response_model=list[CheckInOut],
    summary="A monitored patient's check-ins, newest first",
    description=(
        "At most 200, each with what its thresholds arranged (`escalation`, `task_id`). For "
        "whoever sees the enrolment; 404 otherwise. The read is audited."
    ),
    responses=problem_responses(401, 404),
)
async def list_check_ins(
    enrolment_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[CheckInOut]:
    found = await monitoring.list_check_ins(uow, principal, enrolment_id)
    return [CheckInOut.model_validate(entry) for entry in found]


@router.post(
    ENROLMENT + "/discharge",
    response_model=EnrolmentOut,
    summary="Discharge from monitoring, with the reason",
    description=(
        "For the responsible organisation's coordinators and doctors (403 for the patient): "
        "the enrolment becomes `discharged` and leaves the due lists. 409 when it is "
        "discharged already."
    ),
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def discharge(
    enrolment_id: uuid.UUID,
    body: DischargeRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> EnrolmentOut:
    enrolment = await monitoring.discharge(uow, principal, enrolment_id, body, now)
    return monitoring.enrolment_out(enrolment, now)


@router.get(
    "/due",
    response_model=DueList,
    summary="Today's due check-ins in each patient's time zone, the missed ones first",
    description=(
        "The calling list of the caller's organisation (coordinators and doctors; 403 for "
        "others): active enrolments due by the end of today in the patient's zone, or the "
        "organisation's. `operator_id` keeps one operator's calls. Changes nothing."
    ),
    responses=problem_responses(401, 403, 502),
)
async def due_today(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    now: NowDep,
    operator_id: Annotated[uuid.UUID | None, Query(description="One operator's calls")] = None,
) -> DueList:
    return await monitoring_tasks.due_today(uow, principal, organizations, operator_id, now)


@router.get(
    "/tasks",
    response_model=list[TaskOut],
    summary="Your organisation's home visits and ambulance calls to arrange",
    description=(
        "Tasks that worsening check-ins created for the caller's organisation, oldest first, "
        "at most 200, optionally of one `status`. For coordinators and doctors; 403 for "
        "others."
    ),
    responses=problem_responses(401, 403),
)
async def list_tasks(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, status: TaskStatus | None = None
) -> list[TaskOut]:
    return await monitoring_tasks.list_tasks(uow, principal, status)


@router.post(
    "/tasks/{task_id}/complete",
    response_model=TaskOut,
    summary="Record what was done about a task",
    description=(
        "For the responsible organisation's coordinators and doctors: an `open` task becomes "
        "`done` with `outcome`. 404 for a task not visible to you; 409 when it is done "
        "already."
    ),
    responses=problem_responses(401, 404, 409, 422),
)
async def complete_task(
    task_id: uuid.UUID,
    body: TaskComplete,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> TaskOut:
    return await monitoring_tasks.complete_task(uow, principal, task_id, body.outcome, now)
