"""Alembic environment of the consult service: every domain's models plus the kernel's tables."""

from services.common.migrations import run_env
from services.consult.tables import METADATA

run_env(METADATA)
