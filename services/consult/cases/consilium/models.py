"""Persistence of consilia: who was invited, the signed opinions and the chair's signed protocol."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import IdMixin, UTCDateTime, string_enum
from services.consult.cases.enums import ConsiliumStatus, InvitationStatus
from services.consult.db import Base


class Consilium(IdMixin, Base):
    """Specialists deciding one case together; the case's assigned specialist chairs."""

    __tablename__ = "consilia"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    chair_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the chair's: it hosts the room
    status: Mapped[ConsiliumStatus] = mapped_column(string_enum(ConsiliumStatus))
    agenda: Mapped[str] = mapped_column(Text)
    convened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    room_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsiliumInvitation(IdMixin, Base):
    """An invitation to one specialist by name, or to any specialist of a specialty in an
    organisation; whoever of them accepts first becomes its invitee."""

    __tablename__ = "consilium_invitations"
    __table_args__ = (
        # A specialist's invitations: addressed to them, or to their organisation's specialty.
        Index("ix_consilium_invitations_invitee", "invitee_id", "status"),
        Index("ix_consilium_invitations_pool", "organization_id", "specialty", "status"),
    )

    consilium_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consilia.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    invitee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    specialty: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[InvitationStatus] = mapped_column(string_enum(InvitationStatus))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why declined or closed


class SignedColumns:
    """A document signed with the service's conclusion key, stored as it was signed."""

    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))


class ConsiliumOpinion(IdMixin, SignedColumns, Base):
    """One invited specialist's signed opinion; one per invitation."""

    __tablename__ = "consilium_opinions"

    consilium_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consilia.id"), index=True)
    invitation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consilium_invitations.id"), unique=True
    )
    specialty: Mapped[str] = mapped_column(String(64))


class ConsiliumProtocol(IdMixin, SignedColumns, Base):
    """The chair's final decision, signed, citing each opinion by id and digest."""

    __tablename__ = "consilium_protocols"

    consilium_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consilia.id"), unique=True)
