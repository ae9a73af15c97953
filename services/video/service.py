"""Rules of rooms and participants: who may create, open and close rooms, who gets which join
token, the room state machine, the waiting room, consent. No HTTP and no media here."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, Gone, NotFound, ProblemError, Unprocessable
from services.common.people import PersonLookup, require_patient, require_person
from services.common.uow import UnitOfWork
from services.video.enums import (
    CAPACITY,
    ROOM_TRANSITIONS,
    Grant,
    ParticipantRole,
    ParticipantState,
    RoomStatus,
)
from services.video.models import Participant, Room, RoomInvitee
from services.video.schemas import RoomCreate, TokenRequest
from services.video.tokens import JoinClaims

RESOURCE = "video_room"
STAFF_ROLES = {Role.SPECIALIST, Role.DISTRICT_MEDIC, Role.COORDINATOR, Role.ADMIN}
MANAGER_ROLES = {Role.COORDINATOR, Role.ADMIN}
# A service credential (an API client with this scope, such as the scheduling service's) sets
# up and manages the rooms of appointments, for the host and organisation the booking names.
ROOM_SCHEDULER_SCOPE = "video:rooms"
DEFAULT_GRANTS = {
    ParticipantRole.HOST: frozenset(Grant),
    ParticipantRole.SPECIALIST: frozenset({Grant.PUBLISH, Grant.SUBSCRIBE}),
    ParticipantRole.PATIENT: frozenset({Grant.PUBLISH, Grant.SUBSCRIBE}),
    ParticipantRole.GUEST: frozenset({Grant.PUBLISH, Grant.SUBSCRIBE}),
}
PRESENT = (ParticipantState.WAITING, ParticipantState.ADMITTED)
# Whom staff may name as a room's host (`host_id`).
HOST_ROLES = frozenset({Role.SPECIALIST, Role.DISTRICT_MEDIC})


def audit(
    uow: UnitOfWork,
    action: str,
    room_id: uuid.UUID,
    *,
    by: str | None = None,
    detail: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    """Join-token callers have no gateway principal, so their identity goes in the detail."""
    text = "; ".join(part for part in (f"by={by}" if by else None, detail) if part)
    uow.audit.record(action, RESOURCE, room_id, outcome, detail=text or None)


async def get_room(uow: UnitOfWork, room_id: uuid.UUID) -> Room:
    """The room, for a caller whose join token for it was verified (else use `visible_room`)."""
    room = await uow.session.get(Room, room_id)
    if room is None:
        raise NotFound("No such room.")
    return room


async def visible_room(
    uow: UnitOfWork, principal: Principal, room_id: uuid.UUID, action: str
) -> Room:
    """The room if the caller may see it; otherwise the same 404 as for no room at all, on
    record as a denial, so an answer never tells whether a room exists. Call it only once the
    caller's token is verified: an anonymous caller learns nothing, and costs no query."""
    room = await uow.session.get(Room, room_id)
    if room is None or not may_see(principal, room):
        uow.audit.refuse(action, RESOURCE, room_id, NotFound("No such room."))
    return room


def require_staff(principal: Principal) -> uuid.UUID:
    if principal.role not in STAFF_ROLES or principal.organization_id is None:
        raise Forbidden("Only staff of an organisation manage video rooms.")
    return principal.organization_id


def is_room_scheduler(principal: Principal) -> bool:
    """The booking service acting as itself: whoever booked the visit, it has authorised them,
    and they are often a district medic of another organisation than the host's."""
    return principal.role is Role.API_CLIENT and principal.has_scope(ROOM_SCHEDULER_SCOPE)


def may_manage(principal: Principal, room: Room) -> bool:
    """The host, a coordinator or admin of the room's organisation, or, for an appointment's
    room, the room scheduler."""
    if principal.subject == room.host_id:
        return True
    if is_room_scheduler(principal):
        return room.appointment_id is not None
    return principal.role in MANAGER_ROLES and principal.organization_id == room.organization_id


def is_invitee(principal: Principal, room: Room) -> bool:
    return principal.role in STAFF_ROLES and principal.subject in room.invitee_ids


def may_see(principal: Principal, room: Room) -> bool:
    """Its managers, the patient booked into it and the members of staff invited to it; to
    anyone else a room does not exist."""
    if may_manage(principal, room) or is_invitee(principal, room):
        return True
    return principal.role is Role.PATIENT and principal.subject == room.patient_id


async def rooms_of(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID | None, limit: int
) -> list[Room]:
    """The rooms not closed yet that the caller hosts, is invited to or is booked into, soonest
    first; of one case if `case_id` is given."""
    me = principal.subject
    invited = select(RoomInvitee.room_id).where(RoomInvitee.user_id == me)
    query = (
        select(Room)
        .where(
            Room.status != RoomStatus.CLOSED,
            or_(Room.host_id == me, Room.patient_id == me, Room.id.in_(invited)),
        )
        .order_by(Room.starts_at, Room.id)
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(Room.case_id == case_id)
    return list(await uow.session.scalars(query))


def require_manager(uow: UnitOfWork, principal: Principal, room: Room, action: str) -> None:
    if not may_manage(principal, room):
        audit(uow, action, room.id, outcome=Outcome.DENIED)
        raise Forbidden("Only the room's host or its organisation's coordinators may do this.")


def _owner(principal: Principal, body: RoomCreate) -> uuid.UUID:
    """The organisation the room belongs to: the caller's, or the host's the scheduler names."""
    if is_room_scheduler(principal):
        if body.appointment_id is None or body.host_id is None or body.organization_id is None:
            raise Unprocessable(
                "A room scheduler names the appointment, its host and the host's organisation."
            )
        return body.organization_id
    organization_id = require_staff(principal)
    if body.organization_id not in (None, organization_id):
        raise Forbidden("Staff create rooms of their own organisation.")
    return organization_id


def require_patient_link(
    uow: UnitOfWork, principal: Principal, room: Room, patient_id: uuid.UUID
) -> None:
    """Managers issue any patient's link; a patient only their own, for the room they were
    booked into. To any other patient the room does not exist."""
    if principal.role is not Role.PATIENT:
        require_manager(uow, principal, room, "token.issue")
        return
    if principal.subject != room.patient_id:
        audit(uow, "token.issue", room.id, outcome=Outcome.DENIED)
        raise NotFound("No such room.")
    if patient_id != principal.subject:
        audit(uow, "token.issue", room.id, outcome=Outcome.DENIED)
        raise Forbidden("A patient gets only their own join link.")


async def _require_doctor(
    people: PersonLookup, principal: Principal, user_id: uuid.UUID, field: str
) -> None:
    """A host or invitee a member of staff names is a doctor of their own region: the room is
    their organisation's, and a regional centre's rooms are hosted by the region's doctors and
    joined by its district medics."""
    region = principal.region
    await require_person(
        people,
        user_id,
        field=field,
        fits=lambda person: (
            person.role in HOST_ROLES and (region is not None and person.region == region)
        ),
        refusal=f"No specialist or district medic {user_id} of your region.",
    )


async def _require_invitees(
    uow: UnitOfWork,
    principal: Principal,
    invitee_ids: list[uuid.UUID],
    people: PersonLookup,
    action: str,
    room_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """The invitees without repeats, each found a doctor of the caller's region; a refusal
    (a 422 naming `invitee_ids`) is on record."""
    wanted = list(dict.fromkeys(invitee_ids))
    for user_id in wanted:
        try:
            await _require_doctor(people, principal, user_id, "invitee_ids")
        except ProblemError as error:
            uow.audit.refuse(action, RESOURCE, room_id, error)
    return wanted


async def create_room(
    uow: UnitOfWork, principal: Principal, body: RoomCreate, people: PersonLookup
) -> tuple[Room, bool]:
    """The room and whether it is new: an appointment that already has a room the caller
    manages gets that one, so asking again after an answer was lost makes no second room.

    The people staff name are checked in the directory (a 422 naming `host_id` or
    `patient_id`); a room scheduler's come from a booking the scheduling service checked (its
    practitioner or booker, from their own token; its patient, when it was booked)."""
    organization_id = _owner(principal, body)
    host_id = body.host_id or principal.subject
    if host_id == principal.subject and principal.role is not Role.SPECIALIST:
        raise Forbidden("A room is hosted by a specialist; name one in `host_id`.")
    checks_people = not is_room_scheduler(principal)
    if checks_people and host_id != principal.subject:
        try:
            await _require_doctor(people, principal, host_id, "host_id")
        except ProblemError as error:
            uow.audit.refuse("room.create", RESOURCE, None, error)
    if body.appointment_id is not None:
        existing = await uow.session.scalar(
            select(Room).where(Room.appointment_id == body.appointment_id)
        )
        if existing is not None:
            if not may_manage(principal, existing):
                raise Conflict("This appointment already has a room.")
            return existing, False
    room = Room(
        id=uuid.uuid4(),
        kind=body.kind,
        status=RoomStatus.SCHEDULED,
        title=body.title,
        organization_id=organization_id,
        host_id=host_id,
        case_id=body.case_id,
        appointment_id=body.appointment_id,
        patient_id=body.patient_id,
        starts_at=body.starts_at,
    )
    # Naming the patient lets them take their own join token: it is issuing their link.
    if body.patient_id is not None and not may_manage(principal, room):
        raise Forbidden("Only the room's host, its coordinators or the scheduler name its patient.")
    if checks_people and body.patient_id is not None:
        try:
            await require_patient(people, principal, body.patient_id)
        except ProblemError as error:
            uow.audit.refuse("room.create", RESOURCE, None, error)
    if body.invitee_ids and not may_manage(principal, room):
        raise Forbidden("Only the room's host or its coordinators invite to it.")
    wanted = await _require_invitees(uow, principal, body.invitee_ids, people, "room.create", None)
    # Set even when empty: a new room's collection is then known, not loaded after the flush.
    room.invitees = [RoomInvitee(user_id=user_id) for user_id in wanted]
    uow.session.add(room)
    audit(uow, "room.create", room.id, detail=f"kind={room.kind.value}")
    return room, True


async def set_invitees(
    uow: UnitOfWork,
    principal: Principal,
    room: Room,
    invitee_ids: list[uuid.UUID],
    people: PersonLookup,
) -> None:
    """Replaces the room's invitees: those left out can no longer see it nor take a token
    (a token already issued runs out on its own), the new ones can."""
    action = "room.invitees"
    require_manager(uow, principal, room, action)
    require_joinable(room)
    wanted = await _require_invitees(uow, principal, invitee_ids, people, action, room.id)
    kept = [invitee for invitee in room.invitees if invitee.user_id in wanted]
    present = {invitee.user_id for invitee in kept}
    room.invitees = kept + [RoomInvitee(user_id=u) for u in wanted if u not in present]
    audit(uow, action, room.id, detail="invitees=" + ",".join(map(str, room.invitee_ids)))


def transition(room: Room, target: RoomStatus) -> None:
    if target not in ROOM_TRANSITIONS[room.status]:
        raise Conflict(
            f"The room is {room.status.value}; it cannot become {target.value}.",
            current_status=room.status.value,
        )
    room.status = target
    if target is RoomStatus.OPEN:
        room.opened_at = utcnow()
    elif target is RoomStatus.CLOSED:
        room.closed_at = utcnow()


def open_room(room: Room, open_before: timedelta, now: datetime | None = None) -> None:
    earliest = room.starts_at - open_before
    if (now or utcnow()) < earliest:
        raise Conflict(
            f"The room opens at {earliest.isoformat()}, {open_before} before the appointment.",
            opens_at=earliest.isoformat(),
        )
    transition(room, RoomStatus.OPEN)


def token_grant(
    principal: Principal, room: Room, body: TokenRequest
) -> tuple[str, ParticipantRole, frozenset[Grant]]:
    """Identity, role and grants of a token the caller asks for; managers issue them all, each
    of the room's invitees only their own."""
    if not may_manage(principal, room):
        return _invitees_own(principal, room, body)
    identity = body.identity or str(principal.subject)
    if identity == str(room.host_id):
        role = ParticipantRole.HOST
    elif body.role is ParticipantRole.HOST:
        raise Forbidden("Only the room's host joins as host.")
    else:
        role = body.role
    grants = frozenset(body.grants) if body.grants is not None else DEFAULT_GRANTS[role]
    return identity, role, grants


def _invitees_own(
    principal: Principal, room: Room, body: TokenRequest
) -> tuple[str, ParticipantRole, frozenset[Grant]]:
    """An invitee joins as themselves with a staff member's default grants: they wait in the
    waiting room until the host admits them, like everyone the host did not bring in."""
    own = str(principal.subject)
    if not is_invitee(principal, room):
        raise Forbidden("Only the room's host or its organisation's coordinators issue tokens.")
    if body.identity not in (None, own) or body.grants is not None:
        raise Forbidden("An invitee takes only their own token, with the default grants.")
    if body.role is ParticipantRole.HOST:
        raise Forbidden("Only the room's host joins as host.")
    return own, ParticipantRole.SPECIALIST, DEFAULT_GRANTS[ParticipantRole.SPECIALIST]


def require_joinable(room: Room) -> None:
    if room.status is RoomStatus.CLOSED:
        raise Gone("The room is closed.", reason="closed")


async def participants(uow: UnitOfWork, room_id: uuid.UUID) -> list[Participant]:
    rows = await uow.session.scalars(
        select(Participant).where(Participant.room_id == room_id).order_by(Participant.created_at)
    )
    return list(rows)


async def find_participant(
    uow: UnitOfWork, room_id: uuid.UUID, participant_id: uuid.UUID
) -> Participant:
    participant = await uow.session.get(Participant, participant_id)
    if participant is None or participant.room_id != room_id:
        raise NotFound("No such participant in this room.")
    return participant


async def join(
    uow: UnitOfWork, room: Room, claims: JoinClaims, open_before: timedelta
) -> Participant:
    """Records the join: the host (opening the room) and holders of `admit` go straight in,
    everyone else waits to be admitted. A removed identity stays out whatever its token says."""
    require_joinable(room)
    rows = await participants(uow, room.id)
    mine = next((p for p in rows if p.identity == claims.identity), None)
    if mine is not None and mine.state is ParticipantState.REMOVED:
        audit(uow, "participant.join", room.id, by=claims.identity, outcome=Outcome.DENIED)
        raise Forbidden("You were removed from this room.", reason="removed")
    present = [p for p in rows if p.state in PRESENT and p is not mine]
    if len(present) >= CAPACITY[room.kind]:
        raise Conflict(f"The room is full ({CAPACITY[room.kind]} participants).")
    host = claims.role is ParticipantRole.HOST
    if host and room.status is RoomStatus.SCHEDULED:
        open_room(room, open_before)
        audit(uow, "room.open", room.id, by=claims.identity)
    admitted = host or Grant.ADMIT in claims.grants
    state = ParticipantState.ADMITTED if admitted else ParticipantState.WAITING
    if mine is None:
        mine = Participant(
            id=uuid.uuid4(),
            room_id=room.id,
            identity=claims.identity,
            display_name=claims.name,
            role=claims.role,
            state=state,
            consented=False,
        )
        uow.session.add(mine)
    else:
        mine.state = state if mine.state is not ParticipantState.ADMITTED else mine.state
        mine.display_name = claims.name
    audit(uow, "participant.join", room.id, by=claims.identity, detail=f"state={mine.state}")
    await uow.session.flush()
    return mine


# Who may move a participant where: admit from waiting, back to waiting, remove from anywhere.
MOVES = {
    ParticipantState.ADMITTED: {ParticipantState.WAITING},
    ParticipantState.WAITING: {ParticipantState.ADMITTED},
    ParticipantState.REMOVED: {
        ParticipantState.WAITING,
        ParticipantState.ADMITTED,
        ParticipantState.LEFT,
    },
    ParticipantState.LEFT: {ParticipantState.WAITING, ParticipantState.ADMITTED},
}
ACTIONS = {
    ParticipantState.ADMITTED: "participant.admit",
    ParticipantState.WAITING: "participant.return_to_waiting",
    ParticipantState.REMOVED: "participant.remove",
    ParticipantState.LEFT: "participant.leave",
}


def move(
    uow: UnitOfWork, room: Room, participant: Participant, target: ParticipantState, by: str
) -> None:
    if target is not ParticipantState.LEFT:
        require_joinable(room)
    if participant.role is ParticipantRole.HOST and target in (
        ParticipantState.WAITING, ParticipantState.REMOVED,
    ):  # fmt: skip
        raise Conflict("The host cannot be sent to the waiting room or removed.")
    if participant.state not in MOVES[target]:
        raise Conflict(
            f"The participant is {participant.state.value}; they cannot become {target.value}.",
            current_state=participant.state.value,
        )
    participant.state = target
    audit(uow, ACTIONS[target], room.id, by=by, detail=f"participant={participant.identity}")


def close_room(uow: UnitOfWork, room: Room, rows: list[Participant]) -> None:
    transition(room, RoomStatus.CLOSED)
    for participant in rows:
        if participant.state in PRESENT:
            participant.state = ParticipantState.LEFT
    audit(uow, "room.close", room.id)


def require_consent(rows: list[Participant]) -> None:
    """Recording needs everyone present (waiting or admitted) to have said yes."""
    missing = [p.display_name for p in rows if p.state in PRESENT and not p.consented]
    if missing:
        raise Conflict("Not every participant has consented to recording.", without_consent=missing)
