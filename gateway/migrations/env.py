"""Alembic environment of the gateway database: the directory's and the webhooks' tables."""

from gateway.tables import METADATA
from services.common.migrations import run_env

run_env(METADATA)
