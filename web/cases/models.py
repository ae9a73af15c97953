"""Persistence of the case screens: when each person last opened each case, in what state."""

import uuid
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UTCDateTime
from web.models import Base


class CaseView(Base):
    """A person's last look at a case. The queue API gives no time of a case's last activity,
    so the lists mark a case whose status moved on since this look, and the case page the
    messages and conclusions newer than it."""

    __tablename__ = "case_views"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32))
