"""Persistence of the video service: rooms and the people who joined them."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, new_metadata, string_enum
from services.common.outbox import Outbox
from services.common.tables import define_kernel_tables
from services.video.enums import ParticipantRole, ParticipantState, RoomKind, RoomStatus


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata, "video")


class Room(IdMixin, TimestampMixin, Base):
    __tablename__ = "rooms"

    kind: Mapped[RoomKind] = mapped_column(string_enum(RoomKind))
    status: Mapped[RoomStatus] = mapped_column(string_enum(RoomStatus), index=True)
    title: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    host_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    # The patient the room was booked for, who may take their own join token.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Loaded with the room, not lazily: every answer about a room names its invitees, and who
    # may see it depends on them.
    invitees: Mapped[list["RoomInvitee"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def invitee_ids(self) -> list[uuid.UUID]:
        return sorted(invitee.user_id for invitee in self.invitees)


class RoomInvitee(Base):
    """A member of staff the host invited (a case's requesting medic, a consilium's members),
    who may see the room and take their own join token."""

    __tablename__ = "room_invitees"

    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed for the rooms a person is invited to (`GET /api/video/rooms`).
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)


class Participant(IdMixin, TimestampMixin, Base):
    """One identity in one room; joining again reuses the row, so a removal sticks."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("room_id", "identity"),)

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[ParticipantRole] = mapped_column(string_enum(ParticipantRole))
    state: Mapped[ParticipantState] = mapped_column(string_enum(ParticipantState))
    consented: Mapped[bool] = mapped_column(default=False)
    audio_only: Mapped[bool] = mapped_column(default=False)
