"""Persistence of the statistics' roll-up: each finished day's cohort figures, and each
finished month's, per region, organisation and specialty, so that a year's figures read tens
of thousands of rows, not millions. Each is of a time zone's days: the deployment's, and each
zone whose organisations' own figures were asked for, side by side."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UTCDateTime, string_enum
from services.consult.db import Base


class Span(StrEnum):
    DAY = "day"
    MONTH = "month"  # the sum of a month's days, once all of them are final


class StatsDay(Base):
    """A day of a time zone whose cohorts are rolled up. Until it is final its figures are
    rolled up again on every run; final once nothing of it is open any more, or
    `stats_final_after_days` after it."""

    __tablename__ = "stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsMonth(Base):
    """A month whose days are all final, summed into figures of its own."""

    __tablename__ = "stats_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    timezone: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsFigure(Base):
    """One count of a day's (or a month's) cohorts in a region, organisation and specialty, or
    one bucket of a duration histogram (`bucket` set: how many durations, the shortest and
    the longest)."""

    __tablename__ = "stats_figures"
    # A period's figures are read by zone and day range (and region); a day is rewritten by
    # zone and day.
    __table_args__ = (Index("ix_stats_figures_day", "timezone", "day", "region"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    span: Mapped[Span] = mapped_column(string_enum(Span))
    timezone: Mapped[str] = mapped_column(String(64))  # whose days
    day: Mapped[date] = mapped_column(Date)  # a month's first day for a month's figure
    region: Mapped[str] = mapped_column(String(8))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    specialty: Mapped[str] = mapped_column(String(64))  # "" for appeals and callbacks
    metric: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[int | None] = mapped_column(Integer, nullable=True)
    count: Mapped[int] = mapped_column(Integer)
    low_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    high_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
