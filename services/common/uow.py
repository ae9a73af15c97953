"""The per-request unit of work: one session and one audit trail, committed once at the end.

Audit entries of a request that fails are still written, in their own transaction after the
rollback, so denials and failures are on record even though the work itself was undone.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import AuditTables, AuditTrail
from services.common.db import Database

logger = logging.getLogger(__name__)


@dataclass
class UnitOfWork:
    session: AsyncSession
    audit: AuditTrail
    # Calls to other services that must only happen once this work is stored (a file pinned to
    # a case in the files service): a rollback drops them, so nothing outside points at work
    # that never existed.
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def run_after_commit(self) -> None:
        """Runs each call once; a failure is logged, not raised: the work is stored, and the
        caller's next save repeats the call (they are idempotent)."""
        for call in self.after_commit:
            try:
                await call()
            except Exception:
                logger.exception("a call after commit failed")


@asynccontextmanager
async def request_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work as a context manager, for handlers that must decide when
    their transactions run (a long upload must not hold the database while bytes stream)."""
    database: Database = request.app.state.database
    tables: AuditTables = request.app.state.audit_tables
    audit = AuditTrail(tables, request.state)
    async with database.sessionmaker() as session:
        try:
            uow = UnitOfWork(session=session, audit=audit)
            yield uow
            await audit.write(session)
            await session.commit()
        except BaseException:
            await session.rollback()
            if audit.pending:
                async with database.sessionmaker() as audit_session:
                    await audit.write(audit_session)
                    await audit_session.commit()
            raise
        await uow.run_after_commit()


async def _unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with request_unit_of_work(request) as uow:
        yield uow


# scope="function": the commit runs before the response is sent, so a failed commit
# becomes an error response instead of a 2xx for work that was never stored.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(_unit_of_work, scope="function")]


@asynccontextmanager
async def standalone_unit_of_work(
    database: Database, tables: AuditTables
) -> AsyncIterator[UnitOfWork]:
    """A unit of work outside any request (command-line verbs, fixtures): commits on success."""
    async with database.sessionmaker() as session:
        audit = AuditTrail(tables)
        uow = UnitOfWork(session=session, audit=audit)
        yield uow
        await audit.write(session)
        await session.commit()
    await uow.run_after_commit()
