"""Alembic glue: each service's `migrations/env.py` calls `run_env`; `upgrade` applies them."""

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from services.common.audit import CHAINS, GENESIS_HASH
from services.common.db import Database, new_metadata
from services.common.outbox import define_outbox_table
from services.common.tables import define_kernel_tables


def _run_sync(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData) -> None:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run_sync, metadata)
            await connection.commit()
    finally:
        await database.dispose()


def run_env(metadata: MetaData) -> None:
    """Body of every service's alembic `env.py` (online mode only: we always have a database)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set for this migration run")
    asyncio.run(_run_async(url, metadata))


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Applies migrations; blocking (it runs its own event loop), so call it from a thread."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def create_kernel_tables() -> None:
    """Creates the audit chain and idempotency tables in a service's first migration."""
    metadata = new_metadata()
    tables = define_kernel_tables(metadata)
    metadata.create_all(op.get_bind())
    op.bulk_insert(
        tables.audit.head,
        [{"id": chain, "seq": 0, "last_hash": GENESIS_HASH} for chain in range(CHAINS)],
    )


def drop_kernel_tables() -> None:
    for name in ("idempotency_keys", "audit_records", "audit_chain_head"):
        op.drop_table(name)


def create_outbox_table() -> None:
    """Creates the transactional outbox of a service that emits events."""
    metadata = new_metadata()
    define_outbox_table(metadata)
    metadata.create_all(op.get_bind())


def drop_outbox_table() -> None:
    op.drop_table("outbox_events")
