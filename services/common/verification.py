"""The audit trail's verification as an API route: `GET /api/<service>/audit/verification`, for
administrators, so the console shows each service's chain status without a shell beside the
service (`telemed audit verify` computes the same report)."""

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.common.audit import AuditTables, ChainReport, verify_chain
from services.common.auth import CurrentPrincipal, Role
from services.common.db import Database, utcnow
from services.common.errors import Forbidden, problem_responses
from services.common.uow import UnitOfWorkDep

ACTION = "audit.verify"
RESOURCE = "audit_trail"


class AuditVerification(BaseModel):
    """One service's audit trail, every record's hash recomputed under the service's key."""

    service: str = Field(examples=["consult"])
    intact: bool
    records: int = Field(description="Records checked (up to the first broken one).")
    unkeyed: int = Field(description="Records from before the chains were keyed.")
    broken_chain: int | None = Field(description="The chain of the first broken record.")
    first_broken_seq: int | None = Field(description="Its place in that chain, from 1.")
    reason: str | None = Field(examples=["record content does not match its hash"])
    verified_at: datetime


async def _verified(database: Database, tables: AuditTables) -> ChainReport:
    """In a session of its own, on one snapshot: on PostgreSQL each statement of a plain
    transaction sees the latest commits, so records appended between reading a chain's head
    and its records would look like a broken end."""
    async with database.sessionmaker() as session:
        if database.engine.dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return await verify_chain(session, tables)


def audit_router(service: str) -> APIRouter:
    """The route under `/api/<service>`; the whole trail is read, so it answers in time
    proportional to the trail's length."""
    router = APIRouter(prefix=f"/api/{service}/audit", tags=["audit"])

    @router.get(
        "/verification",
        response_model=AuditVerification,
        summary="Verify this service's audit chains (administrators)",
        operation_id=f"{service}_audit_verify",
        description="Recomputes every record's keyed hash and each chain's links; names the "
        "first record that does not fit. Records written before the chains were keyed are "
        "counted in `unkeyed`.",
        responses=problem_responses(401, 403),
    )
    async def verify(
        request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
    ) -> AuditVerification:
        if principal.role != Role.ADMIN:
            refused = Forbidden("Only administrators verify the audit trail.")
            uow.audit.refuse(ACTION, RESOURCE, None, refused)
        report = await _verified(request.app.state.database, request.app.state.audit_tables)
        outcome = (
            "intact"
            if report.intact
            else f"broken at {report.broken_chain}:{report.first_broken_seq}"
        )
        uow.audit.record(ACTION, RESOURCE, None, detail=f"{outcome}; records={report.records}")
        return AuditVerification(
            service=service,
            intact=report.intact,
            records=report.records,
            unkeyed=report.unkeyed,
            broken_chain=report.broken_chain,
            first_broken_seq=report.first_broken_seq,
            reason=report.reason,
            verified_at=utcnow(),
        )

    return router
