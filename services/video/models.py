"""Persistence of the video service."""

from sqlalchemy.orm import DeclarativeBase

from services.common.db import new_metadata
from services.common.tables import define_kernel_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)
