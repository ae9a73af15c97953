"""`alembic check` for every database: autogenerate against each service's one model registry
(`tables.py`, which its migrations use too) proposes no change.

The check runs on the whole metadata, unfiltered, so a model missing from the registry shows as a
table to drop, and a model no migration creates shows as a table to add. Only SQLite's full-text
tables, which no model can declare, are left out (`services/common/migrations.py`).
"""

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from services.common.db import Database
from services.common.migrations import modelled_names
from telemed.registry import SERVICES


def _registry(package: str) -> MetaData:
    metadata: MetaData = importlib.import_module(f"{package}.tables").METADATA
    return metadata


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
async def test_autogenerate_proposes_no_change(service: Any, database_urls: dict[str, str]) -> None:
    metadata = _registry(service.package)
    database = Database(database_urls[service.name])

    def compare(connection: Connection) -> list[Any]:
        options = {"compare_type": True, "include_name": modelled_names(connection)}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))

    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(compare) == []
    finally:
        await database.dispose()


def test_the_consult_registry_holds_every_domains_tables() -> None:
    """The statistics tables were once missing from consult's migrations environment."""
    tables = set(_registry("services.consult").tables)
    assert {"cases", "appeals", "monitoring_enrolments", "consilia", "stats_days"} <= tables
