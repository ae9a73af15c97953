"""Alembic environment of the files service: its models plus the kernel's tables."""

from services.common.migrations import run_env
from services.files.tables import METADATA

run_env(METADATA)
