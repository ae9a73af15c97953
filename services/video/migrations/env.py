"""Alembic environment of the video service: its models plus the kernel's tables."""

from services.common.migrations import run_env
from services.video.tables import METADATA

run_env(METADATA)
