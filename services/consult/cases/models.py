"""Persistence of consultation cases: the cases, their message threads and signed conclusions."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BindParameter,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    SQLColumnExpression,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    bindparam,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import (
    IdMixin,
    TimestampMixin,
    UTCDateTime,
    string_enum,
    utcnow,
)
from services.consult.cases.enums import (
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    ConsultationMode,
    MessageKind,
)
from services.consult.db import Base
from services.consult.values import Sex, Urgency

# In declaration order, never a set's: the SQL of `is_open` must be the same text in every process.
OPEN_STATUS_VALUES = tuple(status.value for status in CaseStatus if status in OPEN_STATUSES)


def is_open(status: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """`status IN ('submitted', 'accepted', ...)`, the values written into the SQL, not bound.

    It is the predicate of the partial `*_open` indexes, and a query uses such an index only if
    the planner proves the query's WHERE implies it: PostgreSQL cannot from bound parameters (a
    prepared statement's generic plan), SQLite only finds the same term written the same way.
    So the index and the queries that want it both say exactly this.
    """
    values: BindParameter[Any] = bindparam(
        "open_statuses", OPEN_STATUS_VALUES, expanding=True, literal_execute=True
    )
    return status.in_(values)


def _open_index(name: str, *columns: str) -> Index:
    """An index of the cases whose deadline still runs: small, however long the history grows."""
    predicate = is_open(column("status", String(32)))
    return Index(name, *columns, postgresql_where=predicate, sqlite_where=predicate)


class Case(IdMixin, TimestampMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The queues: a specialist's by organisation and specialty, a medic's by organisation,
        # a coordinator's by region; each ordered by (due_at, id) for keyset pagination.
        Index("ix_cases_target_queue", "target_organization_id", "specialty", "due_at", "id"),
        Index("ix_cases_requester_queue", "requesting_organization_id", "due_at", "id"),
        Index("ix_cases_region_queue", "region", "due_at", "id"),
        # A specialist's queue filtered to one status: without it a rare closed status
        # (declined, cancelled) walks the whole queue's history to fill or not fill a page.
        Index(
            "ix_cases_target_status_due", "target_organization_id", "specialty", "status", "due_at"
        ),
        # The queues' open cases alone, for open-status and overdue pages and the overdue
        # counts, which would otherwise walk past closed cases to reach the open ones.
        _open_index("ix_cases_target_open", "target_organization_id", "specialty", "due_at", "id"),
        _open_index("ix_cases_requester_open", "requesting_organization_id", "due_at", "id"),
        _open_index("ix_cases_region_open", "region", "due_at", "id"),
        # The deadline job's look at the open cases due within the next hour (deadlines.py).
        _open_index("ix_cases_open_due", "due_at"),
        Index("ix_cases_patient", "patient_id", "created_at"),
    )

    kind: Mapped[CaseKind] = mapped_column(string_enum(CaseKind), default=CaseKind.DOCTOR_TO_DOCTOR)
    status: Mapped[CaseStatus] = mapped_column(string_enum(CaseStatus))
    resume_status: Mapped[CaseStatus | None] = mapped_column(string_enum(CaseStatus), nullable=True)

    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    requesting_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    target_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    specialty: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(8))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    patient_reference: Mapped[str] = mapped_column(String(128))
    patient_full_name: Mapped[str] = mapped_column(String(255))
    patient_birth_date: Mapped[date] = mapped_column(Date)
    patient_sex: Mapped[Sex] = mapped_column(string_enum(Sex))
    patient_insurance_policy: Mapped[str] = mapped_column(String(32))

    urgency: Mapped[Urgency] = mapped_column(string_enum(Urgency))
    mode: Mapped[ConsultationMode] = mapped_column(string_enum(ConsultationMode))
    question: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    attachment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the files service said of each attachment when it was added (files do not change).
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    # A patient's own request: whose it is, in which care episode of the scheduling service,
    # the worsening signs reported (which flag it), and the follow-up visit that answered it.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    episode_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    worsening_signs: Mapped[list[str]] = mapped_column(JSON, default=list)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up_appointment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When `case.deadline_soon` was announced, so it is announced once; set without raising
    # `version`, since it changes nothing an editor sees.
    deadline_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Raised by every change; an edit sent with a stale `If-Match` is refused (two editors).
    # SQLAlchemy raises it on every UPDATE of the row and puts `AND version = <the version
    # read>` in the UPDATE, so of two writers who read one version only one can store.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    messages: Mapped[list["Message"]] = relationship(
        back_populates="case", lazy="raise", order_by="(Message.created_at, Message.id)"
    )
    conclusions: Mapped[list["Conclusion"]] = relationship(
        back_populates="case", lazy="raise", order_by="Conclusion.version"
    )


class Message(IdMixin, Base):
    __tablename__ = "case_messages"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[MessageKind] = mapped_column(string_enum(MessageKind), default=MessageKind.COMMENT)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="messages", lazy="raise")


class Conclusion(IdMixin, Base):
    """One immutable, signed version of a case's conclusion; amendments add versions."""

    __tablename__ = "conclusions"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_conclusions_case_version"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    amends_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amendment_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))
    # A `SignatureForm`: the rows before form 2 existed are form 1, and keep verifying as such.
    signature_form: Mapped[int] = mapped_column(Integer, server_default="1")

    case: Mapped[Case] = relationship(back_populates="conclusions", lazy="raise")
