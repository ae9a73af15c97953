"""Alembic environment of the consult service: its models plus the kernel's tables."""

from services.common.migrations import run_env
from services.consult import (  # noqa: F401  (imported for the tables they declare on Base)
    appeal_models,
    consilium_models,
    monitoring_models,
)
from services.consult.models import Base

run_env(Base.metadata)
