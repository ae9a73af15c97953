"""Patients' appeals to hotlines and medical chats: filing and routing by territory, the
transition table, who may do what, and the history of each step.

The organisation the territory map names is the one whose working hours set the deadline and
whose head hears of it when it is overdue; the region's operators (coordinators) handle it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, ProblemError, Unprocessable
from services.common.people import NamedPerson, PersonLookup, acts_for, require_person
from services.common.uow import UnitOfWork
from services.consult.appeals import answers, resolutions, thread
from services.consult.appeals.access import RESOURCE as APPEAL_RESOURCE
from services.consult.appeals.access import (
    add_event,
    audit,
    can_see,
    is_operator,
    load_appeal,
)
from services.consult.appeals.callbacks import cancel_callbacks, owe_phone_answer, phone_for_answer
from services.consult.appeals.enums import (
    AnswerLanguage,
    AppealAction,
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    MessageKind,
    RedirectTopic,
)
from services.consult.appeals.events import appeal_resolved
from services.consult.appeals.models import Appeal, AppealEvent, Resolution
from services.consult.appeals.routing import (
    deadline,
    organization_of_region,
    responsible_organization,
)
from services.consult.appeals.schemas import AppealCreate, ResolveRequest
from services.consult.appeals.settings import AppealsSettings
from services.consult.knowledge import service as knowledge
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope

A, S, E = AppealAction, AppealStatus, AppealEventKind

TRANSITIONS: dict[tuple[AppealStatus, AppealAction], AppealStatus] = {
    (S.NEW, A.ROUTE): S.ROUTED,
    (S.NEW, A.REDIRECT): S.REDIRECTED,
    (S.NEW, A.CLOSE): S.CLOSED,
    (S.ROUTED, A.TAKE): S.IN_PROGRESS,
    (S.ROUTED, A.REASSIGN): S.ROUTED,
    (S.ROUTED, A.RESOLVE): S.RESOLVED,
    (S.ROUTED, A.REDIRECT): S.REDIRECTED,
    (S.ROUTED, A.CLOSE): S.CLOSED,
    (S.IN_PROGRESS, A.REASSIGN): S.ROUTED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.REDIRECT): S.REDIRECTED,
    (S.IN_PROGRESS, A.CLOSE): S.CLOSED,
}
# The channels each kind of filer uses: a patient writes from the app or a chat, an operator
# takes calls and chats, a registry or call centre takes calls, an MIS passes on what reached it.
FILER_CHANNELS = {
    Role.PATIENT: frozenset({AppealChannel.CHAT, AppealChannel.WEB}),
    Role.COORDINATOR: frozenset({AppealChannel.PHONE, AppealChannel.CHAT, AppealChannel.WEB}),
    Role.REGISTRAR: frozenset({AppealChannel.PHONE}),
    Role.API_CLIENT: frozenset({AppealChannel.API}),
}
# Staff who file for callers also in the regions of the organisations theirs serves (a call
# centre's), whose callers they answer.
ON_BEHALF = frozenset({Role.COORDINATOR, Role.REGISTRAR})


def next_status(current: AppealStatus, action: AppealAction) -> AppealStatus:
    """The status `action` leads to from `current`, or a 409 naming the current status."""
    if (current, action) not in TRANSITIONS:
        raise Conflict(
            f"Cannot {action.value} an appeal that is {current.value}.",
            current_status=current.value,
        )
    return TRANSITIONS[(current, action)]


def authorise(principal: Principal, appeal: Appeal, action: AppealAction) -> None:
    """Operators of the region do everything; a patient may only withdraw their own."""
    if is_operator(principal, appeal.region):
        return
    if action is A.CLOSE and principal.role is Role.PATIENT and can_see(principal, appeal):
        return
    raise Forbidden("Only the region's hotline operators (coordinators) handle appeals.")


async def _region(
    principal: Principal, data: AppealCreate, organizations: OrganizationLookup
) -> str:
    """Where staff or an MIS file: their own region, or, for staff of an organisation that
    serves others (`principal.serves`), the region of one it serves."""
    if principal.region is not None and data.region in {None, principal.region}:
        return principal.region
    if data.region is not None and principal.role in ON_BEHALF:
        for organization_id in sorted(principal.serves):
            if (await organizations(organization_id)).region == data.region:
                return data.region
    raise Forbidden(
        "Operators and API clients file appeals in their own region only, or in the regions "
        "of the organisations theirs serves."
    )


async def _filing(
    principal: Principal,
    data: AppealCreate,
    organizations: OrganizationLookup,
    people: PersonLookup,
) -> tuple[str, uuid.UUID | None]:
    """The appeal's region and patient, as the filer may give them. A patient named by anyone
    else must be one the directory shows them and they may file for: of an organisation they
    act for, or, for a region's operator, of the appeal's region (else a 422 naming it)."""
    channels = FILER_CHANNELS.get(principal.role)
    if channels is None:
        raise Forbidden(
            "Appeals are filed by patients, hotline operators, registrars and API clients."
        )
    if data.channel not in channels:
        allowed = ", ".join(sorted(channels))
        raise Unprocessable(f"A {principal.role.value} files appeals by {allowed}.")
    if data.channel is AppealChannel.PHONE and data.contact.phone is None:
        raise Unprocessable("A phone appeal needs the caller's number (`contact.phone`).")
    if principal.role is Role.PATIENT:
        if data.patient_id not in {None, principal.subject}:
            raise Forbidden("A patient files appeals for themselves only.")
        if data.region is None:
            raise Unprocessable("Name your region (`region`) so the appeal reaches its hotline.")
        return data.region, principal.subject
    region = await _region(principal, data, organizations)
    if data.patient_id is not None:

        def fits(person: NamedPerson) -> bool:
            operator = principal.role is Role.COORDINATOR and person.region == region
            return person.role is Role.PATIENT and (operator or acts_for(principal, person))

        await require_person(
            people,
            data.patient_id,
            field="patient_id",
            fits=fits,
            refusal=f"No patient {data.patient_id} you may file an appeal for.",
        )
    return region, data.patient_id


async def _route(
    uow: UnitOfWork,
    principal: Principal | None,
    appeal: Appeal,
    organization_id: uuid.UUID,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
    note: str,
) -> None:
    appeal.clock_starts_at, appeal.due_at = await deadline(
        organizations,
        organization_id,
        appeal.received_at,
        appeal.channel,
        appeal.category,
        settings,
    )
    appeal.organization_id = organization_id
    appeal.status = S.ROUTED
    add_event(
        uow, appeal.id, E.ROUTED, now, principal, to_organization_id=organization_id, note=note
    )


async def _redirect(
    uow: UnitOfWork,
    principal: Principal | None,
    appeal: Appeal,
    topic: RedirectTopic,
    settings: AppealsSettings,
    now: datetime,
) -> None:
    """Answered with where to go, in the responsible organisation's words and the person's
    language; the answer joins the thread, and so reaches the chat the appeal came by."""
    appeal.status = S.REDIRECTED
    appeal.redirect_topic = topic
    appeal.answer = await answers.answer_for(
        uow, appeal.organization_id, topic, appeal.language, settings
    )
    appeal.closed_at = now
    thread.post(uow, appeal, MessageKind.ANSWER, appeal.answer, now)
    add_event(uow, appeal.id, E.REDIRECTED, now, principal, note=topic.value)


# The filer of an appeal a chat's message opened (`created_by` is the chat's binding): nobody
# signed in, so no role of a person; the chat's messenger is the appeal's `reply_channel`.
CHAT_FILER = "chat_binding"


@dataclass(frozen=True)
class Filing:
    """An appeal as its filer's rules have settled it: who files it, where and about what."""

    region: str
    channel: AppealChannel
    category: AppealCategory
    territory: str
    contact_name: str
    text: str
    language: AnswerLanguage
    created_by: uuid.UUID
    created_by_role: str
    principal: Principal | None  # the history's actor; None: nobody signed in (a chat)
    patient_id: uuid.UUID | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    topic: RedirectTopic | None = None
    reply_channel: str | None = None  # the chat the thread's replies go back to


async def file_appeal(
    uow: UnitOfWork,
    filing: Filing,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> Appeal:
    """Every appeal's one way in, once its filer may file it. Answered at once when its topic
    is not the channels' to handle; otherwise routed to the organisation responsible for the
    territory, or left `new` for an operator to route when the map names none (due at once:
    nobody answers it until it is routed). The directory's failure is refused (a chat's
    server delivers the message again later)."""
    action = "appeal.create"
    appeal = Appeal(
        id=uuid.uuid4(),
        region=filing.region,
        channel=filing.channel,
        category=filing.category,
        status=S.NEW,
        patient_id=filing.patient_id,
        contact_name=filing.contact_name,
        contact_phone=filing.contact_phone,
        contact_email=filing.contact_email,
        territory_code=filing.territory,
        text=filing.text,
        language=filing.language,
        reply_channel=filing.reply_channel,
        created_by=filing.created_by,
        created_by_role=filing.created_by_role,
        received_at=now,
        due_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(appeal)
    by = filing.channel.value
    if filing.reply_channel is not None:
        by = f"{filing.reply_channel} {by}"
    add_event(uow, appeal.id, E.RECEIVED, now, filing.principal, note=f"by {by}")
    organization_id = await responsible_organization(uow, filing.region, filing.territory)
    if filing.topic is not None:
        appeal.organization_id = organization_id
        await _redirect(uow, filing.principal, appeal, filing.topic, settings, now)
    elif organization_id is not None:
        note = f"territory {filing.territory}"
        try:
            await _route(uow, None, appeal, organization_id, organizations, settings, now, note)
        except ProblemError as error:  # the directory is down, or lost the organisation
            uow.audit.refuse(action, APPEAL_RESOURCE, None, error)
    await uow.session.flush()
    audit(uow, action, appeal.id, detail=f"{appeal.category.value}, {appeal.status.value}")
    return appeal


async def create_appeal(
    uow: UnitOfWork,
    principal: Principal,
    data: AppealCreate,
    organizations: OrganizationLookup,
    people: PersonLookup,
    settings: AppealsSettings,
    now: datetime,
    language: AnswerLanguage = AnswerLanguage.EN,
) -> Appeal:
    """An appeal filed by a signed-in caller, as their role may (`file_appeal` files it). Staff
    of a call centre file for the callers of the organisations it serves, in their regions."""
    try:
        require_scope(principal, write=True)
        region, patient_id = await _filing(principal, data, organizations, people)
    except ProblemError as error:
        uow.audit.refuse("appeal.create", APPEAL_RESOURCE, None, error)
    filing = Filing(
        region=region,
        channel=data.channel,
        category=data.category,
        territory=data.territory,
        contact_name=data.contact.name,
        text=data.text,
        language=data.language or language,
        created_by=principal.subject,
        created_by_role=principal.role.value,
        principal=principal,
        patient_id=patient_id,
        contact_phone=data.contact.phone,
        contact_email=data.contact.email,
        topic=data.topic,
    )
    return await file_appeal(uow, filing, organizations, settings, now)


async def _act(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, action: AppealAction
) -> tuple[Appeal, AppealStatus]:
    audit_action = f"appeal.{action.value}"
    appeal = await load_appeal(uow, principal, appeal_id, audit_action, write=True)
    try:
        authorise(principal, appeal, action)
        return appeal, next_status(appeal.status, action)
    except ProblemError as error:
        uow.audit.refuse(audit_action, APPEAL_RESOURCE, appeal.id, error)


async def _finish(uow: UnitOfWork, appeal: Appeal, action: AppealAction, now: datetime) -> Appeal:
    appeal.updated_at = now
    await uow.session.flush()
    audit(uow, f"appeal.{action.value}", appeal.id)
    return appeal


async def route_appeal(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    organization_id: uuid.UUID,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> Appeal:
    """Routes by hand an appeal whose territory the map does not know; its deadline counts
    from when it came, in the chosen organisation's hours."""
    appeal, _ = await _act(uow, principal, appeal_id, A.ROUTE)
    try:
        await organization_of_region(organizations, organization_id, appeal.region)
    except ProblemError as error:
        uow.audit.refuse("appeal.route", APPEAL_RESOURCE, appeal.id, error)
    await _route(uow, principal, appeal, organization_id, organizations, settings, now, "by hand")
    return await _finish(uow, appeal, A.ROUTE, now)


async def take_appeal(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, now: datetime
) -> Appeal:
    appeal, status = await _act(uow, principal, appeal_id, A.TAKE)
    appeal.status = status
    appeal.assignee_id = principal.subject
    add_event(uow, appeal.id, E.TAKEN, now, principal)
    return await _finish(uow, appeal, A.TAKE, now)


async def reassign_appeal(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    organization_id: uuid.UUID,
    reason: str,
    organizations: OrganizationLookup,
    now: datetime,
) -> Appeal:
    """To another organisation of the region, kept in the history. The deadline stays: the
    patient's wait does not start again because the first address was wrong. An escalation
    is cleared, so the new organisation's head hears of it if it is still overdue."""
    appeal, status = await _act(uow, principal, appeal_id, A.REASSIGN)
    try:
        if organization_id == appeal.organization_id:
            raise Conflict("The appeal is already with this organisation.")
        await organization_of_region(organizations, organization_id, appeal.region)
    except ProblemError as error:
        uow.audit.refuse("appeal.reassign", APPEAL_RESOURCE, appeal.id, error)
    previous = appeal.organization_id
    appeal.status = status
    appeal.organization_id = organization_id
    appeal.assignee_id = None
    appeal.escalated_at = None
    add_event(
        uow,
        appeal.id,
        E.REASSIGNED,
        now,
        principal,
        from_organization_id=previous,
        to_organization_id=organization_id,
        note=reason,
    )
    return await _finish(uow, appeal, A.REASSIGN, now)


async def resolve_appeal(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    data: ResolveRequest,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> tuple[Appeal, Resolution]:
    """Records what was done, by whom and with what result (`resolutions`), what the patient
    is told, and whether it took one contact. A caller who is no longer on the line is owed a
    call to hear it: a phone-answer callback is scheduled (see `ResolveRequest.answer_by_phone`)."""
    appeal, status = await _act(uow, principal, appeal_id, A.RESOLVE)
    appeal.first_contact_resolution = data.first_contact_resolution
    try:
        resolutions.check_said(appeal, data)
        done_by = await resolutions.done_by_organization(appeal, data, organizations)
        phone = phone_for_answer(appeal, data.answer_by_phone)
        if data.article_id is not None:
            await knowledge.citable(uow, data.article_id, appeal.region)
    except ProblemError as error:
        uow.audit.refuse("appeal.resolve", APPEAL_RESOURCE, appeal.id, error)
    appeal.status = status
    appeal.article_id = data.article_id
    appeal.answer = data.answer
    appeal.resolved_at = appeal.closed_at = now
    resolution = resolutions.record(uow, principal, appeal, data, done_by, now)
    thread.post(uow, appeal, MessageKind.ANSWER, data.answer, now, author_id=principal.subject)
    await cancel_callbacks(uow, appeal, now)
    first = "at first contact" if data.first_contact_resolution else "after follow-up"
    add_event(uow, appeal.id, E.RESOLVED, now, principal, note=first)
    if phone is not None:
        await owe_phone_answer(uow, principal, appeal, phone, organizations, settings, now)
    await appeal_resolved(uow, appeal, resolution)
    return await _finish(uow, appeal, A.RESOLVE, now), resolution


async def redirect_appeal(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    topic: RedirectTopic,
    settings: AppealsSettings,
    now: datetime,
) -> Appeal:
    """An operator finds the appeal is on a topic the channels do not handle."""
    appeal, _ = await _act(uow, principal, appeal_id, A.REDIRECT)
    await _redirect(uow, principal, appeal, topic, settings, now)
    await cancel_callbacks(uow, appeal, now)
    return await _finish(uow, appeal, A.REDIRECT, now)


async def close_appeal(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, reason: str, now: datetime
) -> Appeal:
    """Closed without an answer: a duplicate, withdrawn by the patient, never reachable."""
    appeal, status = await _act(uow, principal, appeal_id, A.CLOSE)
    appeal.status = status
    appeal.close_reason = reason
    appeal.closed_at = now
    await cancel_callbacks(uow, appeal, now)
    add_event(uow, appeal.id, E.CLOSED, now, principal, note=reason)
    return await _finish(uow, appeal, A.CLOSE, now)


async def read_appeal(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID
) -> tuple[Appeal, Resolution | None]:
    """The appeal, and its resolution once resolved."""
    appeal = await load_appeal(uow, principal, appeal_id, "appeal.read")
    resolution = None
    if appeal.status is S.RESOLVED:
        resolution = await resolutions.resolution_of(uow, appeal)
    audit(uow, "appeal.read", appeal.id)
    return appeal, resolution


async def history(uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID) -> list[AppealEvent]:
    """Routing, reassignments, escalations and callbacks: the operators' record, not the
    patient's (who reads the appeal and its answer)."""
    action = "appeal.history"
    appeal = await load_appeal(uow, principal, appeal_id, action)
    if not is_operator(principal, appeal.region):
        uow.audit.refuse(
            action,
            APPEAL_RESOURCE,
            appeal.id,
            Forbidden("An appeal's history is for its operators."),
        )
    query = select(AppealEvent).where(AppealEvent.appeal_id == appeal.id).order_by(AppealEvent.id)
    events = list((await uow.session.scalars(query)).all())
    audit(uow, action, appeal.id)
    return events
