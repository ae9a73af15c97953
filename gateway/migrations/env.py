"""Alembic environment of the gateway database."""

from gateway.models import Base
from services.common.migrations import run_env

run_env(Base.metadata)
