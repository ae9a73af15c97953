"""The video rooms of video visits: asked for when a visit is booked (and again by the job while
the video service could not give one), closed when the visit will not take place, and the
patient's join link shortly before it begins.

Scheduling sets rooms up and closes them as itself, with its own API client's token: it has
authorised the booking, and those who book or cancel (a district medic of another
organisation than the host's, the patient, the job) may not manage the host's room. The
patient takes their own join token with their own token; the video service checks the room
was booked for them.
"""

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.common.audit import AuditTables, Outcome
from services.common.auth import Principal, Role
from services.common.credentials import ServiceToken
from services.common.db import Database
from services.common.errors import Conflict, Gone, ProblemError, ServiceUnavailable
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.scheduling.enums import (
    LINKED_VISIT,
    VIDEO_VISITS,
    AppointmentStatus,
    RoomState,
    VisitType,
)
from services.scheduling.models import Appointment
from services.scheduling.schemas import JoinLink
from services.scheduling.service import RESOURCE as APPOINTMENT_RESOURCE
from services.scheduling.service import audit, load_appointment
from services.scheduling.views import utc_text
from services.video.client import RoomKind, VideoClient

logger = logging.getLogger("telemed.scheduling.rooms")
S = AppointmentStatus
KINDS = {
    VisitType.REMOTE: RoomKind.FOLLOW_UP,
    VisitType.DOCTOR_TO_DOCTOR: RoomKind.D2D,
    VisitType.CONSILIUM: RoomKind.CONSILIUM,
}
TITLES = {
    VisitType.REMOTE: "Remote follow-up",
    VisitType.DOCTOR_TO_DOCTOR: "Doctor-to-doctor consultation",
    VisitType.CONSILIUM: "Consilium",
}
# The statuses in which the patient may still join, and those of a visit that took place.
JOINABLE_STATUSES = frozenset({S.BOOKED, S.CHECKED_IN, S.ARRIVED})
OVER_STATUSES = frozenset({S.FULFILLED, S.NOSHOW})
# The name in the patient's token: anyone holding the link can read it, so no name of theirs.
PATIENT_NAME = "Patient"


class VideoRooms:
    """The video service as scheduling uses it."""

    def __init__(self, video: VideoClient, credential: ServiceToken) -> None:
        self._video = video
        self._credential = credential

    @property
    def configured(self) -> bool:
        """Whether scheduling has a credential to set rooms up with."""
        return self._credential.available

    async def _service_token(self) -> str:
        return await self._credential.get()

    async def create(self, appointment: Appointment) -> uuid.UUID:
        """The appointment's room; asking again for the same appointment gets the same room.
        A room's own schedule has no practitioner: whoever booked the visit hosts it."""
        room = await self._video.create_room(
            await self._service_token(),
            kind=KINDS[appointment.visit_type],
            title=TITLES[appointment.visit_type],
            starts_at=appointment.starts_at,
            host_id=appointment.practitioner_id or appointment.booked_by,
            appointment_id=appointment.id,
            case_id=appointment.consult_case_id,
            organization_id=appointment.organization_id,
            patient_id=appointment.patient_id if appointment.visit_type is LINKED_VISIT else None,
        )
        return room.id

    async def close(self, room_id: uuid.UUID) -> None:
        await self._video.release_room(room_id, await self._service_token())

    async def patient_link(
        self, room_id: uuid.UUID, patient_id: uuid.UUID, caller: Principal, bearer: str
    ) -> JoinLink:
        """Asked for as the patient themselves; for staff scheduling lets see the visit, as
        scheduling."""
        token = bearer if caller.role is Role.PATIENT else await self._service_token()
        link = await self._video.patient_join_link(room_id, patient_id, PATIENT_NAME, token)
        return JoinLink(join_url=link.join_url, expires_at=link.expires_at, room_id=room_id)


def _record_room(
    uow: UnitOfWork, appointment: Appointment, room_id: uuid.UUID, now: datetime
) -> None:
    appointment.room_id = str(room_id)
    appointment.room_state = RoomState.READY
    appointment.room_updated_at = now
    audit(uow, "room.request", appointment.id, detail=f"room {room_id}")


async def request_room(
    uow: UnitOfWork, appointment: Appointment, rooms: VideoRooms, now: datetime
) -> None:
    """A booked video visit asks for its room. If the video service cannot give one now, the
    visit is booked all the same and its room stays pending until the job asks again."""
    if appointment.visit_type not in VIDEO_VISITS:
        return
    appointment.room_state = RoomState.PENDING
    appointment.room_updated_at = now
    if not rooms.configured:
        return
    try:
        room_id = await rooms.create(appointment)
    except ProblemError as error:
        logger.warning("no video room for appointment %s yet: %s", appointment.id, error.detail)
        audit(uow, "room.request", appointment.id, Outcome.FAILED, error.detail)
        return
    _record_room(uow, appointment, room_id, now)


def live_room(appointment: Appointment) -> uuid.UUID | None:
    """The room the video service gave this visit, unless it was given back."""
    if appointment.room_state is RoomState.READY and appointment.room_id is not None:
        return uuid.UUID(appointment.room_id)
    return None


async def release_room(
    uow: UnitOfWork, appointment: Appointment, room_id: uuid.UUID, rooms: VideoRooms
) -> None:
    """Closes the room of a visit that will not take place (or is over) in the video service;
    a failure is recorded, never in the way of what called the visit off."""
    try:
        await rooms.close(room_id)
    except ProblemError as error:
        logger.warning("video room %s was not closed: %s", room_id, error.detail)
        audit(uow, "room.release", appointment.id, Outcome.FAILED, error.detail)
        return
    audit(uow, "room.release", appointment.id, detail=f"room {room_id}")


async def fill_pending_rooms(
    database: Database, audit_tables: AuditTables, rooms: VideoRooms, batch: int, now: datetime
) -> int:
    """The job's part: asks again for the rooms of visits still ahead whose room is pending,
    holding no database lock while the video service answers. The first failure ends the run,
    so a video service that does not answer costs one time-out; the next run tries again."""
    if not rooms.configured:
        return 0
    async with standalone_unit_of_work(database, audit_tables) as uow:
        query = (
            select(Appointment)
            .where(Appointment.room_state == RoomState.PENDING, Appointment.ends_at > now)
            .order_by(Appointment.starts_at, Appointment.id)
            .limit(batch)
        )
        pending = (await uow.session.scalars(query)).all()
    filled = 0
    for appointment in pending:
        try:
            room_id = await rooms.create(appointment)
        except ProblemError as error:
            logger.warning("video rooms are still pending: %s", error.detail)
            break
        async with standalone_unit_of_work(database, audit_tables) as uow:
            recorded = await uow.session.scalar(
                update(Appointment)
                .where(
                    Appointment.id == appointment.id, Appointment.room_state == RoomState.PENDING
                )
                .values(room_id=str(room_id), room_state=RoomState.READY, room_updated_at=now)
                .returning(Appointment.id)
            )
            if recorded is not None:
                audit(uow, "room.request", appointment.id, detail=f"room {room_id}")
                filled += 1
        if recorded is None:  # the visit was called off meanwhile: its new room goes back
            async with standalone_unit_of_work(database, audit_tables) as uow:
                await release_room(uow, appointment, room_id, rooms)
    return filled


async def _room_now(
    uow: UnitOfWork, appointment: Appointment, rooms: VideoRooms, now: datetime
) -> uuid.UUID:
    """The visit's room, asked for again if it is still pending."""
    if appointment.room_id is not None:
        return uuid.UUID(appointment.room_id)
    try:
        room_id = await rooms.create(appointment)
    except ProblemError as error:
        raise ServiceUnavailable(
            "The visit's video room is not ready yet; try again shortly.",
            headers={"Retry-After": "30"},
        ) from error
    _record_room(uow, appointment, room_id, now)
    return room_id


async def join_link(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    rooms: VideoRooms,
    bearer: str,
    opens_before: timedelta,
    now: datetime,
) -> JoinLink:
    """The patient's join link of a remote visit, from shortly before it begins, for the
    patient and for those who may see the visit. A room still pending is asked for again."""
    action = "room.join_link"
    appointment = await load_appointment(uow, principal, appointment_id, action, now)
    try:
        if appointment.visit_type is not LINKED_VISIT or appointment.patient_id is None:
            raise Conflict(
                "Only a remote follow-up has a patient's join link; doctors join their "
                "consultations in the video service.",
                visit_type=appointment.visit_type.value,
            )
        # Over, not called off: a 410, so a patient's old link can say the visit has ended.
        joinable = appointment.status in JOINABLE_STATUSES
        if appointment.status in OVER_STATUSES or (joinable and now >= appointment.ends_at):
            raise Gone(
                f"The visit ended at {utc_text(appointment.ends_at)}; it has no join link.",
                ended_at=utc_text(appointment.ends_at),
                current_status=appointment.status.value,
            )
        if not joinable:
            raise Conflict(
                f"The visit is {appointment.status.value}; it has no join link.",
                current_status=appointment.status.value,
            )
        opens_at = appointment.starts_at - opens_before
        if now < opens_at:
            minutes = int(opens_before.total_seconds() // 60)
            raise Conflict(
                f"The join link is issued from {utc_text(opens_at)}, {minutes} minutes before "
                "the visit begins.",
                opens_at=utc_text(opens_at),
            )
        room_id = await _room_now(uow, appointment, rooms, now)
        link = await rooms.patient_link(room_id, appointment.patient_id, principal, bearer)
    except ProblemError as error:
        uow.audit.refuse(action, APPOINTMENT_RESOURCE, appointment.id, error)
    audit(uow, action, appointment.id)
    return link
