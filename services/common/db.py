"""Async SQLAlchemy engine with SQLite and PostgreSQL set-up, and the declarative base helpers
(metadata naming, UTC timestamps, id and timestamp mixins). The unit of work is in `uow.py`."""

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, Uuid, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.errors import Unprocessable
from services.common.owner_only import private_file, tighten
from services.common.times import FIRST_YEAR, LAST_YEAR

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            # Past Python's years in UTC: the API's types (`times.py`) refuse such input first;
            # should one slip through, it is still the client's bad input, not a 500.
            raise Unprocessable(
                f"An instant is out of range: telemed takes the years {FIRST_YEAR} to {LAST_YEAR}."
            ) from None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def string_enum(enum: type[Any]) -> Enum:
    """An enum column stored as its values in a plain string: adding a value later needs no
    ALTER TYPE on PostgreSQL."""
    return Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; every transaction takes the write lock up front.

    Nearly every request writes (the audit trail records reads too), and a deferred SQLite
    transaction that reads first and writes later fails with SQLITE_BUSY under concurrency, so
    `BEGIN IMMEDIATE` serialises writers in the database instead of failing them.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _holds_nul(parameters: Any) -> bool:
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_holds_nul(value) for value in parameters.values())
    if isinstance(parameters, list | tuple):
        return any(_holds_nul(value) for value in parameters)
    return False


def _refuse_nul_characters(engine: AsyncEngine) -> None:
    """A text holding U+0000 is refused as bad input (422) before it reaches the database.

    PostgreSQL cannot store the character in text at all (the statement fails: a 500), and
    SQLite would keep it; nothing telemed makes itself holds one, so it came with a request
    (a body, a query parameter), and every route on either database answers it the same way.
    Checked here, where every value goes, rather than in each of hundreds of fields."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(
        _connection: Any,
        _cursor: Any,
        _statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if _holds_nul(parameters):
            raise Unprocessable(
                "A text in the request holds a NUL character (U+0000), which cannot be stored."
            )


def _private_sqlite_files(path: Path) -> None:
    """The database file is made 0600 (in 0700 folders) before SQLite opens it: SQLite would
    make it by the umask, 0644, and gives its `-wal` and `-shm` files the database's mode.
    Files an older version made are tightened."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + suffix))


class Database:
    """One engine and session factory per service process."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        audit_key: bytes | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        # Every session carries the service's audit key, so whatever writes or checks the
        # audit chains in it (services/common/audit.py) keys them the same way; and `info`,
        # what the service's own code that is handed only a session reads from it (the
        # gateway's open message channels): fixed for the process, so given here, once.
        self.audit_key = audit_key
        session_info = {**(info or {}), "audit_key": audit_key}
        kwargs: dict[str, Any] = {"echo": echo}
        if is_sqlite(url):
            path = make_url(url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                _private_sqlite_files(Path(path))
            # Every transaction takes the write lock at BEGIN, so a second connection adds no
            # concurrency, only waiting in SQLite's sleeping busy handler; one connection makes
            # requests queue fairly in the pool instead.
            kwargs |= {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}
        else:
            # No pre-ping: with asyncpg it costs three round trips per checkout. A connection
            # found dead is invalidated by SQLAlchemy and answered as a 503 (errors.py).
            kwargs |= {"pool_size": pool_size, "max_overflow": pool_size, "pool_recycle": 1800}
        self.engine = create_async_engine(url, **kwargs)
        _refuse_nul_characters(self.engine)
        if is_sqlite(url):
            _configure_sqlite(self.engine)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, info=session_info
        )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session
