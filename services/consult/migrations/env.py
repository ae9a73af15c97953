"""Alembic environment of the consult service: its models plus the kernel's tables."""

from services.common.migrations import run_env
from services.consult.models import Base

run_env(Base.metadata)
