"""Persistence of home visits: the catchment (which polyclinic serves an address) and the
calls, each on its polyclinic's list for a local day."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.consult.db import Base
from services.consult.home_visits.enums import CancelReason, HomeVisitStatus
from services.consult.values import Urgency


class Catchment(IdMixin, TimestampMixin, Base):
    """One line of a region's catchment: the polyclinic serving a territory, or only a
    settlement of it, or only a street of that settlement. Empty narrowing text means "any":
    the most specific line that matches an address wins."""

    __tablename__ = "home_visit_catchment"
    __table_args__ = (
        UniqueConstraint(
            "region", "territory_code", "settlement_key", "street_key",
            name="uq_home_visit_catchment_address",
        ),
    )  # fmt: skip

    region: Mapped[str] = mapped_column(String(8))
    territory_code: Mapped[str] = mapped_column(String(32))
    settlement: Mapped[str] = mapped_column(String(128))
    street: Mapped[str] = mapped_column(String(128))
    # The texts as they are matched (casefolded, yo as ye, spaces collapsed).
    settlement_key: Mapped[str] = mapped_column(String(128))
    street_key: Mapped[str] = mapped_column(String(128))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class HomeVisit(IdMixin, TimestampMixin, Base):
    __tablename__ = "home_visits"
    __table_args__ = (
        # A polyclinic's list for a day, and its figures over a range of days.
        Index("ix_home_visits_list", "organization_id", "visit_day", "status"),
        Index("ix_home_visits_assignee", "assignee_id", "visit_day"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    region: Mapped[str] = mapped_column(String(8))
    territory_code: Mapped[str] = mapped_column(String(32))
    settlement: Mapped[str] = mapped_column(String(128))
    street: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(255))  # house, flat, entrance, floor
    caller_name: Mapped[str] = mapped_column(String(255))
    patient_name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(string_enum(Urgency))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # The appeal the call came with, if any (appeals are another domain: an id, no key).
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[HomeVisitStatus] = mapped_column(string_enum(HomeVisitStatus))
    # The polyclinic's local day and the window told to the caller, in its zone then.
    visit_day: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    window_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by_role: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_reason: Mapped[CancelReason | None] = mapped_column(
        string_enum(CancelReason), nullable=True
    )
    cancel_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
