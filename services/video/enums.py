"""The video service's vocabularies: room kinds and states, participant roles, states, grants."""

from enum import StrEnum


class RoomKind(StrEnum):
    FOLLOW_UP = "follow_up"
    D2D = "d2d"
    CONSILIUM = "consilium"


class RoomStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ParticipantRole(StrEnum):
    HOST = "host"
    SPECIALIST = "specialist"
    PATIENT = "patient"
    GUEST = "guest"  # family or an interpreter


class ParticipantState(StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    LEFT = "left"
    REMOVED = "removed"


class Grant(StrEnum):
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    ADMIT = "admit"
    RECORD = "record"


# Room sizes from the issue: a follow-up is doctor + patient with family or an interpreter.
CAPACITY = {RoomKind.FOLLOW_UP: 4, RoomKind.D2D: 8, RoomKind.CONSILIUM: 8}
ROOM_TRANSITIONS = {
    RoomStatus.SCHEDULED: {RoomStatus.OPEN, RoomStatus.CLOSED},
    RoomStatus.OPEN: {RoomStatus.CLOSED},
    RoomStatus.CLOSED: set(),
}
