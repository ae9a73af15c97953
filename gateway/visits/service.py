"""Opening a patient's personal visit link, and sending a visit's invitation again.

Opening: the gateway checks the link's HMAC, mints a one-minute access token for the patient it
names (who may have no password), and asks scheduling for that patient's join link with it, as
the patient would; then it redirects to the video join page. Before the call opens, after the
visit or when it was cancelled, a small page says so; a link of a moved visit follows the move.
No database transaction is held while scheduling and video answer (on SQLite it would hold the
gateway's one write lock, which the proxy's own token checks may need meanwhile).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from gateway.auth import principal_for_user
from gateway.models import User
from gateway.notify.enums import Template
from gateway.notify.outbox import enqueue
from gateway.notify.producers.visits import PATIENT_VISITS, Visit, visit_params
from gateway.tokens import TokenIssuer
from gateway.visits.links import VisitLinks
from gateway.visits.pages import Page, PageKind, language, render
from gateway.visits.scheduling import Answer, Scheduling
from gateway.visits.schemas import AppointmentView, InvitationQueued
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.errors import BadGateway, Conflict, NotFound, ProblemError, Unauthorized
from services.common.uow import UnitOfWork

RESOURCE = "appointment"
OPEN = "visit_link.open"
RESEND = "visit.invitation_resend"
TOKEN_SECONDS = 60  # the patient's token serves the few calls of one opening, and is not kept
MAX_MOVES = 10  # a visit moved more often than this is not followed further
CALLED_OFF = frozenset({"cancelled", "entered_in_error"})
INVITED = frozenset({"booked", "checked_in", "arrived"})
Followed = tuple[uuid.UUID, str | Page]  # the appointment reached, and its join URL or a page


def _view(answer: Answer) -> AppointmentView:
    try:
        return AppointmentView.model_validate(answer.body)
    except ValidationError as exc:
        raise BadGateway("The scheduling service answered with no appointment.") from exc


async def _page_for(
    scheduling: Scheduling, appointment_id: uuid.UUID, refused: Answer, bearer: str
) -> uuid.UUID | Page:
    """The page a refused join link shows, or the appointment a move leads to."""
    found = await scheduling.appointment(appointment_id, bearer)
    if found.status == 404:
        return Page(PageKind.NOT_FOUND)
    if found.status != 200:
        raise BadGateway(f"The scheduling service answered {found.status}.")
    visit = _view(found)
    zone = visit.patient_local.timezone
    if refused.status == 410:
        return Page(PageKind.ENDED, visit.start, timezone=zone)
    if "opens_at" in refused.body:
        opens_at = datetime.fromisoformat(str(refused.body["opens_at"]).replace("Z", "+00:00"))
        return Page(PageKind.NOT_YET, visit.start, opens_at, zone)
    if visit.status in CALLED_OFF:
        return visit.replaced_by_id or Page(PageKind.CANCELLED, visit.start, timezone=zone)
    return Page(PageKind.NO_VIDEO)


async def _follow(scheduling: Scheduling, appointment_id: uuid.UUID, bearer: str) -> Followed:
    for _ in range(MAX_MOVES):
        answer = await scheduling.join_link(appointment_id, bearer)
        if answer.status == 200 and isinstance(answer.body.get("join_url"), str):
            return appointment_id, answer.body["join_url"]
        if answer.status == 404:
            return appointment_id, Page(PageKind.NOT_FOUND)
        if answer.status not in (409, 410):
            raise BadGateway(f"The scheduling service answered {answer.status}.")
        outcome = await _page_for(scheduling, appointment_id, answer, bearer)
        if isinstance(outcome, Page):
            return appointment_id, outcome
        appointment_id = outcome
    return appointment_id, Page(PageKind.CANCELLED)


async def _patient(uow: UnitOfWork, patient_id: uuid.UUID) -> User | None:
    user = await uow.session.get(User, patient_id)
    active = user is not None and user.is_active and user.role == Role.PATIENT.value
    return user if active else None


async def open_link(uow: UnitOfWork, request: Request, token: str) -> Response:
    links: VisitLinks = request.app.state.visit_links
    link = links.read(token)
    patient = await _patient(uow, link.patient_id) if link else None
    if link is None or patient is None:
        detail = "an altered or unknown link" if link is None else "no active patient"
        uow.audit.record(
            OPEN, RESOURCE, link.appointment_id if link else None, Outcome.DENIED, detail=detail
        )
        return render(Page(PageKind.NOT_FOUND), language(None, request))
    lang = language(patient.language, request)
    principal = await principal_for_user(uow, patient)
    await uow.session.commit()  # let go of the database while scheduling and video answer
    issuer: TokenIssuer = request.app.state.token_issuer
    bearer = issuer.issue(principal, lifetime_seconds=TOKEN_SECONDS)
    try:
        reached, outcome = await _follow(Scheduling.of(request), link.appointment_id, bearer)
    except ProblemError as error:
        _record_open(uow, principal, link.appointment_id, Outcome.FAILED, error.detail)
        return render(Page(PageKind.UNAVAILABLE), lang)
    moved = (
        f" (the link's {link.appointment_id} moved here)" if reached != link.appointment_id else ""
    )
    if isinstance(outcome, str):
        _record_open(uow, principal, reached, Outcome.SUCCESS, f"joined{moved}")
        response = RedirectResponse(outcome, status_code=303)
        response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        return response
    # Not found by scheduling: the visit is not the patient's the link names.
    seen = Outcome.DENIED if outcome.kind is PageKind.NOT_FOUND else Outcome.SUCCESS
    _record_open(uow, principal, reached, seen, f"page {outcome.kind.value}{moved}")
    page: HTMLResponse = render(outcome, lang)
    return page


def _record_open(
    uow: UnitOfWork, patient: Principal, appointment_id: uuid.UUID, outcome: Outcome, detail: str
) -> None:
    uow.audit.record(OPEN, RESOURCE, appointment_id, outcome, principal=patient, detail=detail)


async def visible_appointment(
    uow: UnitOfWork, request: Request, appointment_id: uuid.UUID, bearer: str
) -> AppointmentView:
    """The appointment if scheduling shows it to the caller (the bearer is theirs); else the
    same 404 scheduling gives for one that does not exist, on the audit trail."""
    try:
        answer = await Scheduling.of(request).appointment(appointment_id, bearer)
        if answer.status in (403, 404):
            raise NotFound("No appointment with this id is visible to you.")
        if answer.status == 401:
            raise Unauthorized(str(answer.body.get("detail") or "The access token was refused."))
        if answer.status != 200:
            raise BadGateway(f"The scheduling service answered {answer.status}.")
        return _view(answer)
    except ProblemError as error:
        uow.audit.refuse(RESEND, RESOURCE, appointment_id, error)


@dataclass(frozen=True)
class Resend:
    """An invitation to send again, once scheduling has shown the caller the visit."""

    visit: AppointmentView
    links: VisitLinks

    async def __call__(self, uow: UnitOfWork) -> InvitationQueued:
        visit = self.visit
        try:
            patient = await _invitee(uow, visit)
        except ProblemError as error:
            uow.audit.refuse(RESEND, RESOURCE, visit.id, error)
        shown = Visit(
            appointment_id=visit.id,
            kind=visit.visit_type,
            start=visit.start,
            organization_id=visit.organization_id,
            practitioner_id=visit.practitioner_id,
            timezone=visit.patient_local.timezone,
        )
        params = await visit_params(uow.session, self.links, shown, patient)
        # A new key each time: a resend is a new message, not the booking's one seen again.
        key = f"resend:{visit.id}:{uuid.uuid4()}"
        template = Template.VISIT_INVITATION
        await enqueue(
            uow.session, recipient_id=patient.id, template=template, params=params, key=key
        )
        uow.audit.record(RESEND, RESOURCE, visit.id, detail=f"to patient {patient.id}")
        return InvitationQueued(appointment_id=visit.id, recipient_id=patient.id, template=template)


async def _invitee(uow: UnitOfWork, visit: AppointmentView) -> User:
    if visit.visit_type not in PATIENT_VISITS or visit.patient_id is None:
        raise Conflict(
            "Only a patient's visit (in person or remote) has an invitation.",
            visit_type=visit.visit_type,
        )
    if visit.status not in INVITED:
        raise Conflict(
            f"The visit is {visit.status}; there is nothing to invite to.",
            current_status=visit.status,
        )
    patient = await _patient(uow, visit.patient_id)
    if patient is None:
        raise Conflict("The patient's account is not active; nobody can be invited.")
    return patient
