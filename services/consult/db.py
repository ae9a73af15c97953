"""The consult database's declarative base, with the kernel's audit and idempotency tables and
the outbox every domain records its events in."""

from sqlalchemy.orm import DeclarativeBase

from services.common.db import new_metadata
from services.common.outbox import Outbox
from services.common.tables import define_kernel_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata, "consult")
