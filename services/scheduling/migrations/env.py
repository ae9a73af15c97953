"""Alembic environment of the scheduling service: its models plus the kernel's tables."""

from services.common.migrations import run_env
from services.scheduling.tables import METADATA

run_env(METADATA)
