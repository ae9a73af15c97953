"""Alembic environment of the gateway database."""

import gateway.webhooks.models  # noqa: F401 - its tables join the gateway's metadata
from gateway.models import Base
from services.common.migrations import run_env

run_env(Base.metadata)
