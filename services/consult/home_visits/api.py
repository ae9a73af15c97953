"""HTTP routes of home visits under `/api/consult`: the catchment, the preview read out to the
caller, the calls and their steps, a polyclinic's list for a day, and its figures."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import Unprocessable, problem_responses
from services.common.idempotency import idempotent, location
from services.common.times import Day
from services.common.uow import UnitOfWorkDep
from services.consult.deps import (
    PREFIX,
    ActingPrincipal,
    NowDep,
    OrganizationsDep,
    PeopleDep,
    SettingsDep,
)
from services.consult.home_visits import catchment
from services.consult.home_visits import service as home_visits
from services.consult.home_visits.enums import HomeVisitStatus
from services.consult.home_visits.figures import figures
from services.consult.home_visits.schemas import (
    AssignRequest,
    CancelRequest,
    CatchmentIn,
    CatchmentOut,
    CompleteRequest,
    HomeVisitCreate,
    HomeVisitFigures,
    HomeVisitList,
    HomeVisitOut,
    HomeVisitPreview,
    Place,
    Region,
    TerritoryCode,
)

router = APIRouter(prefix=PREFIX, tags=["home visits"])
VISITS = PREFIX + "/home-visits"
VISIT = "/home-visits/{visit_id}"


@router.get(
    "/home-visit-catchment",
    response_model=list[CatchmentOut],
    summary="A region's catchment: which polyclinic serves each territory, settlement, street",
    description="Holds no patient data: open to anyone signed in; `region` defaults to yours.",
    responses=problem_responses(401, 422),
)
async def list_catchment(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, region: Region | None = None
) -> list[CatchmentOut]:
    chosen = region or principal.region
    if chosen is None:
        raise Unprocessable("Name the `region` whose catchment to read.")
    return [CatchmentOut.model_validate(line) for line in await catchment.list_lines(uow, chosen)]


@router.post(
    "/home-visit-catchment",
    status_code=201,
    response_model=CatchmentOut,
    summary="Say which polyclinic serves a territory, settlement or street (administrators, "
    "the region's coordinators)",
    description="One line per address (else 409): delete a line to change its polyclinic. "
    "The polyclinic is one of the region's that sends doctors home (else 422).",
    responses=problem_responses(401, 403, 409, 422, 502),
)
async def add_catchment(
    body: CatchmentIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> CatchmentOut:
    line = await catchment.add_line(uow, principal, body, organizations)
    return CatchmentOut.model_validate(line)


@router.delete(
    "/home-visit-catchment/{line_id}",
    status_code=204,
    summary="Take a line off the catchment",
    description=(
        "Administrators and the region's coordinators (403 for others); calls filed from then "
        "on for those addresses go by the lines left, and visits already filed stay with "
        "their polyclinic. 404 for a line that does not exist."
    ),
    responses=problem_responses(401, 403, 404),
)
async def delete_catchment(
    line_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    await catchment.delete_line(uow, principal, line_id)
    return Response(status_code=204)


@router.get(
    "/home-visit-preview",
    response_model=HomeVisitPreview,
    summary="Before saving: which polyclinic serves the address, the day and the window",
    description="Stores nothing. The day is the polyclinic's, in its zone: today's before its "
    "cut-off on a working day, else its next working day's.",
    responses=problem_responses(401, 422, 502),
)
async def preview(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
    territory: Annotated[TerritoryCode, Query()],
    settlement: Annotated[Place, Query()] = "",
    street: Annotated[Place, Query()] = "",
    region: Region | None = None,
) -> HomeVisitPreview:
    return await home_visits.preview(
        uow, principal, region, territory, settlement, street, organizations, settings, now
    )


@router.post(
    "/home-visits",
    status_code=201,
    response_model=HomeVisitOut,
    summary="Call a doctor or nurse to a caller's home",
    description=(
        "For the region's operators (coordinators) and registry or call-centre staff acting "
        "for the polyclinic the catchment names. The answer carries the day and window to read "
        "out; a registered patient is also texted them. A `patient_id` must be a patient you "
        "may call for (else 422). Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 409, 422, 502),
)
async def create(
    body: HomeVisitCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    people: PeopleDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    async def make() -> HomeVisitOut:
        visit = await home_visits.create(uow, principal, body, organizations, people, settings, now)
        return home_visits.visit_out(visit)

    return await idempotent(
        request, uow.session, principal, body, make, headers=location(VISITS + "/{id}")
    )


@router.get(
    "/home-visits",
    response_model=HomeVisitList,
    summary="A polyclinic's home-visit list for a day of its own zone (today by default)",
    description="Yours by default; urgent calls first, then by when they came.",
    responses=problem_responses(401, 404, 422, 502),
)
async def list_day(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    now: NowDep,
    organization_id: uuid.UUID | None = None,
    day: Day | None = None,
    status: HomeVisitStatus | None = None,
) -> HomeVisitList:
    chosen, on, found = await home_visits.polyclinic_list(
        uow, principal, organization_id, day, status, organizations, now
    )
    items = [home_visits.visit_out(visit) for visit in found]
    return HomeVisitList(organization_id=chosen, visit_day=on, items=items)


@router.get(
    "/home-visit-figures",
    response_model=HomeVisitFigures,
    summary="A polyclinic's home visits per local day: calls, done, cancelled, time to done",
    description=(
        "Each local day of `from`..`to` (a bounded range, in order, else 422), days without "
        "calls as zeros, and the total. For those who see the polyclinic's list (its staff, "
        "the call centres serving it, the region's coordinators); 404 for others."
    ),
    responses=problem_responses(401, 404, 422, 502),
)
async def home_visit_figures(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    organization_id: uuid.UUID,
    first: Annotated[Day, Query(alias="from")],
    last: Annotated[Day, Query(alias="to")],
) -> HomeVisitFigures:
    return await figures(uow, principal, organization_id, first, last, organizations)


@router.get(
    VISIT,
    response_model=HomeVisitOut,
    summary="One home visit",
    description=(
        "With the day and window read out to the caller and who was sent. For the "
        "polyclinic's staff, the call centres serving it and the region's coordinators; 404 "
        "for others. The read is audited."
    ),
    responses=problem_responses(401, 404),
)
async def get_visit(
    visit_id: uuid.UUID, uow: UnitOfWorkDep, principal: ActingPrincipal
) -> HomeVisitOut:
    return home_visits.visit_out(await home_visits.get(uow, principal, visit_id))


@router.post(
    VISIT + "/assign",
    response_model=HomeVisitOut,
    summary="Send a doctor or nurse of the polyclinic (its own staff)",
    description=(
        "For the polyclinic's own staff (403 for a call centre or operator who sees the "
        "visit): `requested` or `assigned` becomes `assigned` to `assignee_id`, who must be "
        "a doctor or nurse of that polyclinic (else 422). 409 once done or cancelled."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
)
async def assign(
    visit_id: uuid.UUID,
    body: AssignRequest,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    people: PeopleDep,
    now: NowDep,
) -> HomeVisitOut:
    visit = await home_visits.assign(uow, principal, visit_id, body.assignee_id, people, now)
    return home_visits.visit_out(visit)


@router.post(
    VISIT + "/done",
    response_model=HomeVisitOut,
    summary="Record the visit made, with a note (the polyclinic's own staff)",
    description=(
        "An `assigned` visit becomes `done` with `note`; 409 from any other status, 403 for "
        "anyone but the polyclinic's staff."
    ),
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def done(
    visit_id: uuid.UUID,
    body: CompleteRequest,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    now: NowDep,
) -> HomeVisitOut:
    visit = await home_visits.complete(uow, principal, visit_id, body.note, now)
    return home_visits.visit_out(visit)


@router.post(
    VISIT + "/cancel",
    response_model=HomeVisitOut,
    summary="Call the visit off, with the reason (anyone who sees it)",
    description=(
        "The operator whose caller withdrew, or the polyclinic: a `requested` or `assigned` "
        "visit becomes `cancelled`, counted in the figures by `reason`; `other` needs a "
        "`note` (else 422). 409 once done or cancelled; 404 for a visit not visible to you."
    ),
    responses=problem_responses(401, 404, 409, 422),
)
async def cancel(
    visit_id: uuid.UUID,
    body: CancelRequest,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    now: NowDep,
) -> HomeVisitOut:
    return home_visits.visit_out(await home_visits.cancel(uow, principal, visit_id, body, now))
