"""Alembic glue: each service's `migrations/env.py` calls `run_env`; `upgrade` applies them."""

import asyncio
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from services.common.audit import CHAINS, GENESIS_HASH
from services.common.db import Database, new_metadata
from services.common.outbox import define_outbox_table
from services.common.tables import define_kernel_tables


def sqlite_tables(connection: Connection, kinds: Collection[str]) -> frozenset[str]:
    """SQLite's tables of these kinds (`PRAGMA table_list`): "virtual" for full-text (FTS5)
    tables, "shadow" for the tables each keeps its index in. A migration's own SQL makes
    them; no model can declare them."""
    if connection.dialect.name != "sqlite":
        return frozenset()
    rows = connection.exec_driver_sql("PRAGMA main.table_list").all()
    return frozenset(row[1] for row in rows if row[0] == "main" and row[2] in kinds)


def modelled_names(connection: Connection) -> Callable[[str | None, str, Any], bool]:
    """Alembic's `include_name` leaving SQLite's full-text tables out of comparing the models
    with the database: everything else is compared, so a model missing from a registry still
    shows as a table to drop."""
    kept_by_sqlite = sqlite_tables(connection, ("virtual", "shadow"))

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return not (type_ == "table" and name in kept_by_sqlite)

    return include_name


def _run_sync(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=modelled_names(connection),
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


def key_audit_chains() -> None:
    """Gives each audit chain head its keyed epoch (services/common/audit.py): the records so
    far keep their plain SHA-256 links, and the service seals every chain at its next start,
    so from then on each record is an HMAC under the service's audit key."""
    # A database created since has them already: the first migration builds the kernel's
    # tables from their current definition.
    present = {
        column["name"] for column in sa.inspect(op.get_bind()).get_columns("audit_chain_head")
    }
    if "seal" not in present:
        with op.batch_alter_table("audit_chain_head") as batch:
            batch.add_column(sa.Column("keyed_from", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("seal", sa.String(length=64), nullable=True))
    protect_audit_records()


def unkey_audit_chains() -> None:
    with op.batch_alter_table("audit_chain_head") as batch:
        batch.drop_column("seal")
        batch.drop_column("keyed_from")


def protect_audit_records() -> None:
    """On PostgreSQL, takes UPDATE, DELETE and TRUNCATE on the audit records from every role
    but their owner, so the services' runtime role may only add and read them.

    Migrations run as the owner (deploy/postgres-init.sh), which keeps those rights: an
    owner can always grant itself anything back, so this only protects a service that runs as
    a role of its own, as the deployment sets up."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    holders = bind.execute(
        sa.text(
            "SELECT DISTINCT a.grantee::regrole::text FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid = 'audit_records'::regclass AND a.grantee NOT IN (0, c.relowner) "
            "AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')"
        )
    ).scalars()
    for role in ["PUBLIC", *holders]:  # regrole's text is already a quoted identifier
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM {role}")
