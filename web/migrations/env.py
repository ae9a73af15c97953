"""Alembic environment of the web console: its sessions plus the kernel's tables."""

from services.common.migrations import run_env
from web.tables import METADATA

run_env(METADATA)
