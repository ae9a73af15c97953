"""Home-visit calls: filed by an operator or a registry for the polyclinic the catchment names,
put on its list for the day in its zone, assigned to one of its doctors or nurses, then done
or cancelled with a reason.

The transition table is the lifecycle; an illegal step is a 409 naming the state. Every read
and change of a call (patient data) is audited, refusals too.
"""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.client import Organization
from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.people import NamedPerson, PersonLookup, acts_for, require_person
from services.common.uow import UnitOfWork
from services.consult.home_visits.access import (
    RESOURCE,
    load_visit,
    may_file,
    record,
    visible_polyclinic,
    works_there,
)
from services.consult.home_visits.catchment import serving
from services.consult.home_visits.enums import CancelReason, HomeVisitAction, HomeVisitStatus
from services.consult.home_visits.events import home_visit_requested
from services.consult.home_visits.models import HomeVisit
from services.consult.home_visits.schedule import local_today, slot
from services.consult.home_visits.schemas import (
    CancelRequest,
    HomeVisitCreate,
    HomeVisitOut,
    HomeVisitPreview,
    Window,
)
from services.consult.home_visits.settings import HomeVisitsSettings
from services.consult.ports import OrganizationLookup
from services.consult.values import Urgency

S, A = HomeVisitStatus, HomeVisitAction
TRANSITIONS = {
    (S.REQUESTED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,  # sent someone else
    (S.ASSIGNED, A.COMPLETE): S.DONE,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.ASSIGNED, A.CANCEL): S.CANCELLED,
}
MAX_LIST = 500  # a big polyclinic takes a hundred calls on a winter day
VISITORS = frozenset({Role.DISTRICT_MEDIC, Role.SPECIALIST})  # doctors, feldshers, nurses


def window_of(visit: HomeVisit) -> Window:
    zone = ZoneInfo(visit.timezone)
    return Window(
        visit_day=visit.visit_day,
        timezone=visit.timezone,
        window_starts_at=visit.window_starts_at,
        window_ends_at=visit.window_ends_at,
        window_opens=visit.window_starts_at.astimezone(zone).time(),
        window_closes=visit.window_ends_at.astimezone(zone).time(),
    )


def visit_out(visit: HomeVisit) -> HomeVisitOut:
    fields = {name: getattr(visit, name) for name in HomeVisitOut.model_fields if name != "window"}
    return HomeVisitOut.model_validate({**fields, "window": window_of(visit)})


def _next(uow: UnitOfWork, visit: HomeVisit, action: HomeVisitAction) -> HomeVisitStatus:
    target = TRANSITIONS.get((visit.status, action))
    if target is None:
        refusal = Conflict(
            f"Cannot {action.value} a home visit that is {visit.status.value}.",
            current_status=visit.status.value,
        )
        uow.audit.refuse(f"home_visit.{action.value}", RESOURCE, visit.id, refusal)
    return target


def _region(principal: Principal, region: str | None) -> str:
    chosen = region or principal.region
    if chosen is None:
        raise Unprocessable("Name the caller's `region`.")
    return chosen


async def preview(
    uow: UnitOfWork,
    principal: Principal,
    region: str | None,
    territory: str,
    settlement: str,
    street: str,
    organizations: OrganizationLookup,
    settings: HomeVisitsSettings,
    now: datetime,
) -> HomeVisitPreview:
    """What filing the call now would do, storing nothing: the polyclinic and the window."""
    line = await serving(uow, _region(principal, region), territory, settlement, street)
    if line is None:
        return HomeVisitPreview(
            organization_id=None, organization_name=None, catchment_id=None, window=None
        )
    organization = await organizations(line.organization_id)
    found = slot(organization, now, settings.visit_rule(organization.id))
    window = Window(
        visit_day=found.day,
        timezone=found.timezone,
        window_starts_at=found.window_starts_at,
        window_ends_at=found.window_ends_at,
        window_opens=found.window_starts_at.astimezone(ZoneInfo(found.timezone)).time(),
        window_closes=found.window_ends_at.astimezone(ZoneInfo(found.timezone)).time(),
    )
    return HomeVisitPreview(
        organization_id=organization.id,
        organization_name=organization.name,
        catchment_id=line.id,
        window=window,
    )


async def _check_patient(
    people: PersonLookup, principal: Principal, patient_id: uuid.UUID, region: str
) -> None:
    """A patient the filer acts for, or, for a region's operator, of the region (else 422)."""

    def fits(person: NamedPerson) -> bool:
        operator = principal.role is Role.COORDINATOR and person.region == region
        return person.role is Role.PATIENT and (operator or acts_for(principal, person))

    await require_person(
        people,
        patient_id,
        field="patient_id",
        fits=fits,
        refusal=f"No patient {patient_id} you may call a doctor for.",
    )


async def _polyclinic_for(
    uow: UnitOfWork,
    principal: Principal,
    data: HomeVisitCreate,
    organizations: OrganizationLookup,
    people: PersonLookup,
) -> tuple[str, Organization]:
    region = _region(principal, data.region)
    line = await serving(uow, region, data.territory, data.settlement, data.street)
    if line is None:
        raise Unprocessable(
            "No polyclinic serves this address: the region's catchment has no line for it.",
            territory=data.territory,
        )
    if not may_file(principal, line.organization_id, region):
        raise Forbidden(
            "Home visits are called by the region's operators and by registry or call-centre "
            "staff of the polyclinic or of a call centre serving it."
        )
    if data.patient_id is not None:
        await _check_patient(people, principal, data.patient_id, region)
    return region, await organizations(line.organization_id)


async def create(
    uow: UnitOfWork,
    principal: Principal,
    data: HomeVisitCreate,
    organizations: OrganizationLookup,
    people: PersonLookup,
    settings: HomeVisitsSettings,
    now: datetime,
) -> HomeVisit:
    action = "home_visit.create"
    try:
        region, polyclinic = await _polyclinic_for(uow, principal, data, organizations, people)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    found = slot(polyclinic, now, settings.visit_rule(polyclinic.id))
    visit = HomeVisit(
        id=uuid.uuid4(),
        organization_id=polyclinic.id,
        region=region,
        territory_code=data.territory,
        settlement=data.settlement,
        street=data.street,
        address=data.address,
        caller_name=data.caller_name,
        patient_name=data.patient_name or data.caller_name,
        phone=data.phone,
        reason=data.reason,
        urgency=data.urgency,
        patient_id=data.patient_id,
        appeal_id=data.appeal_id,
        status=S.REQUESTED,
        visit_day=found.day,
        timezone=found.timezone,
        window_starts_at=found.window_starts_at,
        window_ends_at=found.window_ends_at,
        received_at=now,
        created_by=principal.subject,
        created_by_role=principal.role.value,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(visit)
    await uow.session.flush()
    await home_visit_requested(uow, visit)
    record(uow, action, visit.id, f"{polyclinic.id} on {found.day.isoformat()}")
    return visit


async def polyclinic_list(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID | None,
    day: date | None,
    status: HomeVisitStatus | None,
    organizations: OrganizationLookup,
    now: datetime,
) -> tuple[uuid.UUID, date, list[HomeVisit]]:
    """A polyclinic's calls for a local day (its today by default), urgent ones first."""
    action = "home_visit.list"
    chosen = organization_id or principal.organization_id
    hidden = NotFound("No home-visit list of this organisation is visible to you.")
    if chosen is None:
        uow.audit.refuse(action, RESOURCE, None, Unprocessable("Name the `organization_id`."))
    polyclinic = await visible_polyclinic(uow, principal, chosen, organizations, action, hidden)
    on = day or local_today(polyclinic, now)
    query = select(HomeVisit).where(
        HomeVisit.organization_id == polyclinic.id, HomeVisit.visit_day == on
    )
    if status is not None:
        query = query.where(HomeVisit.status == status)
    # Urgent first in the query itself, so a day past the limit cuts planned calls, not urgent.
    ordered = query.order_by(HomeVisit.urgency != Urgency.URGENT, HomeVisit.received_at)
    found = list(await uow.session.scalars(ordered.limit(MAX_LIST)))
    record(uow, action, None, f"{polyclinic.id} on {on.isoformat()}: {len(found)} visits")
    return polyclinic.id, on, found


async def get(uow: UnitOfWork, principal: Principal, visit_id: uuid.UUID) -> HomeVisit:
    visit = await load_visit(uow, principal, visit_id, "home_visit.read")
    record(uow, "home_visit.read", visit.id, visit.status.value)
    return visit


async def _for_change(
    uow: UnitOfWork, principal: Principal, visit_id: uuid.UUID, action: HomeVisitAction
) -> HomeVisit:
    audit_action = f"home_visit.{action.value}"
    visit = await load_visit(uow, principal, visit_id, audit_action, write=True)
    if action is not A.CANCEL and not works_there(principal, visit):
        refusal = Forbidden("The polyclinic's own staff send its doctors and close its visits.")
        uow.audit.refuse(audit_action, RESOURCE, visit.id, refusal)
    return visit


async def assign(
    uow: UnitOfWork,
    principal: Principal,
    visit_id: uuid.UUID,
    assignee_id: uuid.UUID,
    people: PersonLookup,
    now: datetime,
) -> HomeVisit:
    visit = await _for_change(uow, principal, visit_id, A.ASSIGN)
    target = _next(uow, visit, A.ASSIGN)
    try:
        person = await require_person(
            people,
            assignee_id,
            field="assignee_id",
            fits=lambda person: (
                person.role in VISITORS and person.organization_id == visit.organization_id
            ),
            refusal=f"No doctor or nurse {assignee_id} of the visit's polyclinic.",
        )
    except ProblemError as error:
        uow.audit.refuse("home_visit.assign", RESOURCE, visit.id, error)
    visit.status, visit.assignee_id, visit.assignee_name = target, assignee_id, person.full_name
    visit.assigned_at, visit.updated_at = now, now
    await uow.session.flush()
    record(uow, "home_visit.assign", visit.id, f"to {assignee_id}")
    return visit


async def complete(
    uow: UnitOfWork, principal: Principal, visit_id: uuid.UUID, note: str, now: datetime
) -> HomeVisit:
    visit = await _for_change(uow, principal, visit_id, A.COMPLETE)
    visit.status = _next(uow, visit, A.COMPLETE)
    visit.done_at, visit.done_note, visit.closed_by, visit.updated_at = (
        now, note, principal.subject, now,
    )  # fmt: skip
    await uow.session.flush()
    record(uow, "home_visit.complete", visit.id, "done")
    return visit


async def cancel(
    uow: UnitOfWork, principal: Principal, visit_id: uuid.UUID, data: CancelRequest, now: datetime
) -> HomeVisit:
    """Whoever may see the call cancels it: the operator whose caller withdrew, or the
    polyclinic. "Other" needs the note saying what."""
    visit = await _for_change(uow, principal, visit_id, A.CANCEL)
    target = _next(uow, visit, A.CANCEL)
    if data.reason is CancelReason.OTHER and not data.note:
        refusal = Unprocessable("Say in `note` why the visit is cancelled.")
        uow.audit.refuse("home_visit.cancel", RESOURCE, visit.id, refusal)
    visit.status, visit.cancel_reason, visit.cancel_note = target, data.reason, data.note
    visit.cancelled_at, visit.closed_by, visit.updated_at = now, principal.subject, now
    await uow.session.flush()
    record(uow, "home_visit.cancel", visit.id, data.reason.value)
    return visit
