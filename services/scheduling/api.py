"""HTTP routes of the scheduling service under `/api/scheduling`: appointments and episodes
here, schedules and availability in `schedule_api`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.common.auth import bearer_token
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.times import Instant
from services.common.uow import UnitOfWorkDep
from services.scheduling import appointments, episodes, listing, rooms, schedule_api
from services.scheduling.dependencies import (
    PREFIX,
    ActingPrincipal,
    CaseLinkDep,
    NowDep,
    PeopleDep,
    RoomsDep,
    SettingsDep,
    ZonesDep,
)
from services.scheduling.enums import AppointmentAction, AppointmentStatus, EpisodeStatus
from services.scheduling.schemas import (
    AppointmentCreate,
    AppointmentOut,
    AppointmentPage,
    CancelRequest,
    EpisodeCreate,
    EpisodeOut,
    JoinLink,
    RescheduleRequest,
    SeriesOut,
    SeriesRequest,
)
from services.scheduling.timeplan import aware_in
from services.scheduling.views import appointment_out, episode_out

router = APIRouter(prefix=PREFIX)
router.include_router(schedule_api.router)
READ_ERRORS = problem_responses(401, 403, 404)
ACTION_ERRORS = problem_responses(401, 403, 404, 409)
BOOKING_ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 502)


# --- appointments ---------------------------------------------------------------------------


@router.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentOut,
    tags=["appointments"],
    summary="Book a slot, or hold it (`hold: true`) until it is confirmed",
    description=(
        "Conflict-free: a slot that overlaps another booking (buffers included) is a 409 "
        "naming the booked span. A `consult_case_id` other than the episode's own needs the "
        "consult service's grant (`Telemed-Grant`), else 403. A `patient_id` outside an "
        "episode must be a patient of the caller's organisation, else a 422 naming it. Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=BOOKING_ERRORS,
)
async def book(
    body: AppointmentCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    zones: ZonesDep,
    people: PeopleDep,
    link_case: CaseLinkDep,
    settings: SettingsDep,
    video_rooms: RoomsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> AppointmentOut:
        appointment = await appointments.book(
            uow, principal, body, zones, people, link_case, settings, video_rooms, now
        )
        return appointment_out(appointment, settings.join_link_before)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location(PREFIX + "/appointments/{id}"),
    )


@router.get(
    "/appointments",
    response_model=AppointmentPage,
    tags=["appointments"],
    summary="Appointments the caller may see, by start time, keyset-paginated",
    description="Patients see their own, specialists their schedule, coordinators and medics "
    "those of their organisation. Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(400, 401, 422),
)
async def list_appointments(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    now: NowDep,
    status: Annotated[list[AppointmentStatus] | None, Query(description="Any of these")] = None,
    practitioner: uuid.UUID | None = None,
    patient: uuid.UUID | None = None,
    episode: uuid.UUID | None = None,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AppointmentPage:
    filters = listing.AppointmentFilter(
        statuses=status or (),
        practitioner_id=practitioner,
        patient_id=patient,
        episode_id=episode,
        starts_from=aware_in(from_, "UTC") if from_ else None,
        starts_before=aware_in(to, "UTC") if to else None,
    )
    page, next_cursor = await listing.list_appointments(
        uow, principal, filters, now, limit=limit, cursor=cursor
    )
    items = [appointment_out(item, settings.join_link_before) for item in page]
    return AppointmentPage(items=items, next_cursor=next_cursor)


@router.get(
    "/appointments/{appointment_id}",
    response_model=AppointmentOut,
    tags=["appointments"],
    summary="Read an appointment",
    description="Visible to its patient, the specialist whose schedule it is, and the "
    "coordinators, registrars and district medics of the organisation holding it or acting "
    "for the patient's; to anyone else it is a 404. A hold found lapsed is cancelled as it is "
    "read. Every read is audited.",
    responses=READ_ERRORS,
)
async def get_appointment(
    appointment_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    now: NowDep,
) -> AppointmentOut:
    found = await appointments.get_appointment(uow, principal, appointment_id, now)
    return appointment_out(found, settings.join_link_before)


def _action_route(action: AppointmentAction, summary: str, description: str) -> None:
    path = "/appointments/{appointment_id}/" + action.value.replace("_", "-")

    async def endpoint(
        appointment_id: uuid.UUID,
        uow: UnitOfWorkDep,
        principal: ActingPrincipal,
        settings: SettingsDep,
        video_rooms: RoomsDep,
        now: NowDep,
    ) -> AppointmentOut:
        found = await appointments.act(uow, principal, appointment_id, action, video_rooms, now)
        return appointment_out(found, settings.join_link_before)

    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=AppointmentOut,
        tags=["appointment lifecycle"],
        summary=summary,
        description=description,
        responses=ACTION_ERRORS,
        name=f"appointment_{action.value}",
    )


# Who may take each step is `access.may_act`; which status it starts from, the transition
# table in `service.py`. A step from any other status is a 409 naming `current_status`, and an
# appointment the caller may not see a 404.
for _action, _summary, _description in (
    (
        AppointmentAction.CONFIRM,
        "Confirm a held slot: `proposed` becomes `booked`",
        "For the patient, the staff of the patient's organisation and the specialist (a "
        "room's coordinators). A remote visit's video room is requested and "
        "`appointment.booked` is announced. A hold that lapsed is a 409 saying when; book the "
        "slot again.",
    ),
    (
        AppointmentAction.CHECK_IN,
        "Check the patient in ahead of the visit",
        "From `booked`, for the patient, the staff of the patient's organisation and the "
        "specialist (a room's coordinators).",
    ),
    (
        AppointmentAction.ARRIVE,
        "The patient has arrived (or joined the video call)",
        "From `booked` or `checked_in`, for the specialist whose schedule it is (a room's "
        "coordinators); others are refused with 403.",
    ),
    (
        AppointmentAction.FULFIL,
        "The visit took place (only once it has begun)",
        "From `arrived`, for the specialist (a room's coordinators). Before the start it is a "
        "409 giving the start. Fulfilling an episode's in-person first visit opens it to "
        "remote follow-ups; a remote visit's video room is released.",
    ),
    (
        AppointmentAction.NO_SHOW,
        "The patient did not come (only once the visit has begun)",
        "From `booked` or `checked_in`, for the specialist (a room's coordinators); before the "
        "start it is a 409 giving the start. Any video room is released.",
    ),
    (
        AppointmentAction.ENTER_IN_ERROR,
        "The appointment was entered by mistake",
        "From any status but itself, as FHIR allows, for the specialist (a room's "
        "coordinators). The slot and any video room are released, and a visit that was "
        "booked is announced as `appointment.cancelled`.",
    ),
):
    _action_route(_action, _summary, _description)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    tags=["appointment lifecycle"],
    summary="Cancel; the slot and any video room are released",
    description="From `proposed`, `booked` or `checked_in`, for the patient, the staff of the "
    "patient's organisation and the specialist (a room's coordinators); the body and its "
    "`reason` are optional. A visit that was booked is announced as `appointment.cancelled`; "
    "one already over or called off is a 409 naming `current_status`.",
    responses=ACTION_ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {"reason": "Patient admitted to Kemerovo Regional Clinical Hospital"}
                }
            }
        }
    },
)
async def cancel(
    appointment_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    video_rooms: RoomsDep,
    now: NowDep,
    body: CancelRequest | None = None,
) -> AppointmentOut:
    reason = body.reason if body else None
    found = await appointments.act(
        uow, principal, appointment_id, AppointmentAction.CANCEL, video_rooms, now, reason=reason
    )
    return appointment_out(found, settings.join_link_before)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    status_code=201,
    response_model=AppointmentOut,
    tags=["appointment lifecycle"],
    summary="Move a visit: a new appointment replaces this one, which is cancelled",
    description="The new appointment's `replaces_id` and the old one's `replaced_by_id` link "
    "them. If the new slot cannot be had nothing changes. Send `Idempotency-Key` to retry.",
    responses=BOOKING_ERRORS,
)
async def reschedule(
    appointment_id: uuid.UUID,
    body: RescheduleRequest,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    video_rooms: RoomsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> AppointmentOut:
        new = await appointments.reschedule(
            uow, principal, appointment_id, body, settings, video_rooms, now
        )
        return appointment_out(new, settings.join_link_before)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location(PREFIX + "/appointments/{id}"),
    )


@router.post(
    "/appointments/{appointment_id}/join-link",
    response_model=JoinLink,
    tags=["appointment lifecycle"],
    summary="The patient's join link of a remote visit, from shortly before it begins",
    description="For the patient, and for those who may see the visit (to pass it on). The "
    "link holds a short-lived token and is made anew on every call; earlier than "
    "`join_link_before` ahead of the start it is a 409 saying when (`opens_at`); for a visit "
    "called off a 409 naming `current_status`; once the visit has ended (its end has passed, "
    "or it is fulfilled or a no-show) a 410 naming `ended_at`.",
    responses=problem_responses(401, 404, 409, 410, 502, 503),
)
async def join_link(
    appointment_id: uuid.UUID,
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    video_rooms: RoomsDep,
    now: NowDep,
) -> JoinLink:
    response.headers["Cache-Control"] = "no-store"  # the token admits its holder
    return await rooms.join_link(
        uow,
        principal,
        appointment_id,
        video_rooms,
        bearer_token(request),
        settings.join_link_before,
        now,
    )


# --- episodes -------------------------------------------------------------------------------


@router.post(
    "/episodes",
    status_code=201,
    response_model=EpisodeOut,
    tags=["episodes"],
    summary="Open a care episode for a patient of the caller's organisation",
    description="Its first visit is in person; remote follow-ups follow once that is "
    "fulfilled. An episode is linked to a consultation case through the consult service "
    "(`POST /api/consult/cases/{case_id}/episodes`): a `consult_case_id` sent here needs "
    "consult's grant for it (`Telemed-Grant`), else 403. The patient must be one of the "
    "caller's organisation, else a 422 naming `patient_id`. Send `Idempotency-Key` to retry "
    "safely.",
    responses=problem_responses(400, 401, 403, 422, 502),
)
async def create_episode(
    body: EpisodeCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    zones: ZonesDep,
    people: PeopleDep,
    link_case: CaseLinkDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> EpisodeOut:
        episode = await episodes.create_episode(uow, principal, body, zones, people, link_case, now)
        return episode_out(episode, [], settings.join_link_before)

    return await idempotent(
        request, uow.session, principal, body, create, headers=location(PREFIX + "/episodes/{id}")
    )


@router.get(
    "/episodes",
    response_model=list[EpisodeOut],
    tags=["episodes"],
    summary="The caller's visible episodes, newest first, with their appointments",
    description="Patients see their own, specialists those they lead, and the coordinators, "
    "registrars and district medics those of the patients of the organisations they act "
    "for; `patient` and `status` narrow the list. Every episode and appointment listed is "
    "audited as read.",
    responses=problem_responses(401, 422),
)
async def list_episodes(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    patient: uuid.UUID | None = None,
    status: EpisodeStatus | None = None,
) -> list[EpisodeOut]:
    found = await episodes.list_episodes(uow, principal, patient_id=patient, status=status)
    return [episode_out(episode, items, settings.join_link_before) for episode, items in found]


@router.get(
    "/episodes/{episode_id}",
    response_model=EpisodeOut,
    tags=["episodes"],
    summary="An episode with its appointments and whether remote follow-ups may be booked",
    description="Visible as in the list: its patient, its specialist, and the staff acting "
    "for the patient's organisation; to anyone else it is a 404. `first_visit_fulfilled` "
    "says whether remote follow-ups may be booked.",
    responses=READ_ERRORS,
)
async def get_episode(
    episode_id: uuid.UUID, uow: UnitOfWorkDep, principal: ActingPrincipal, settings: SettingsDep
) -> EpisodeOut:
    episode, items = await episodes.get_episode(uow, principal, episode_id)
    return episode_out(episode, items, settings.join_link_before)


@router.post(
    "/episodes/{episode_id}/close",
    response_model=EpisodeOut,
    tags=["episodes"],
    summary="Close an episode: nothing more is booked in it",
    description="For the episode's specialist and the staff of the patient's organisation "
    "(others who see it: 403). Appointments already booked stay as they are. An episode "
    "already closed is a 409.",
    responses=ACTION_ERRORS,
)
async def close_episode(
    episode_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    now: NowDep,
) -> EpisodeOut:
    episode, items = await episodes.close_episode(uow, principal, episode_id, now)
    return episode_out(episode, items, settings.join_link_before)


@router.post(
    "/episodes/{episode_id}/follow-ups",
    response_model=SeriesOut,
    tags=["episodes"],
    summary="Plan a series of follow-ups (e.g. every 14 days, 6 times), each booked on its own",
    description=(
        "Each visit is at the same local time of the specialist's zone. The answer lists "
        "every visit as `booked`, `conflict` (the slot is taken) or `unavailable` (outside "
        "hours, notice or horizon). Remote follow-ups need the fulfilled in-person first "
        "visit (else 409). Send `Idempotency-Key` to retry safely."
    ),
    responses=BOOKING_ERRORS,
)
async def plan_follow_ups(
    episode_id: uuid.UUID,
    body: SeriesRequest,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    video_rooms: RoomsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> SeriesOut:
        return await episodes.plan_series(
            uow, principal, episode_id, body, settings, video_rooms, now
        )

    return await idempotent(request, uow.session, principal, body, create, status_code=200)
