"""Append-only, hash-chained audit trail: who did what to which resource, with what outcome.

Every record carries the hash of the one before it in its chain, so editing, deleting or
reordering any record breaks that chain from there on, and `verify_chain` names the first
broken record. The trail is striped over a few chains, each with a head row: an append locks
one head for the rest of its transaction, and on PostgreSQL it takes any head nobody else
holds (`SKIP LOCKED`), so concurrent requests neither fork a chain nor queue behind one lock.
SQLite serialises writers anyway (`BEGIN IMMEDIATE`).
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NoReturn

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.context import current_request_id
from services.common.db import UTCDateTime, utcnow
from services.common.errors import Forbidden, NotFound, ProblemError

GENESIS_HASH = "0" * 64
CHAINS = 8


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditTables:
    records: Table
    head: Table


def define_audit_tables(metadata: MetaData) -> AuditTables:
    records = Table(
        "audit_records",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("chain", Integer, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Column("actor_id", String(64), nullable=True),
        Column("actor_role", String(32), nullable=True),
        Column("action", String(64), nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("resource_id", String(64), nullable=True),
        Column("outcome", String(16), nullable=False),
        Column("request_id", String(128), nullable=True),
        Column("detail", Text, nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        UniqueConstraint("chain", "seq", name="uq_audit_records_chain_seq"),
    )
    head = Table(
        "audit_chain_head",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("last_hash", String(64), nullable=False),
    )
    return AuditTables(records=records, head=head)


@dataclass(frozen=True)
class AuditEntry:
    action: str
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    actor_id: str | None
    actor_role: str | None
    request_id: str | None
    detail: str | None
    at: datetime = field(default_factory=utcnow)


def record_hash(prev_hash: str, chain: int, seq: int, entry: dict[str, Any]) -> str:
    canonical = json.dumps(
        {**entry, "chain": chain, "seq": seq, "prev_hash": prev_hash},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": row["at"].isoformat(),
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "action": row["action"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "outcome": row["outcome"],
        "request_id": row["request_id"],
        "detail": row["detail"],
    }


class AuditTrail:
    """Collects a request's audit entries; the unit of work writes them with its transaction."""

    def __init__(self, tables: AuditTables, request_state: Any = None) -> None:
        self.tables = tables
        self._request_state = request_state
        self.pending: list[AuditEntry] = []

    @property
    def principal(self) -> Principal | None:
        return getattr(self._request_state, "principal", None)

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: uuid.UUID | str | None,
        outcome: Outcome = Outcome.SUCCESS,
        *,
        principal: Principal | None = None,
        detail: str | None = None,
    ) -> None:
        actor = principal or self.principal
        self.pending.append(
            AuditEntry(
                action=action,
                resource_type=resource_type,
                resource_id=str(resource_id) if resource_id is not None else None,
                outcome=outcome,
                actor_id=str(actor.subject) if actor else None,
                actor_role=actor.role.value if actor else None,
                request_id=current_request_id(),
                detail=detail,
            )
        )

    def refuse(
        self,
        action: str,
        resource_type: str,
        resource_id: uuid.UUID | str | None,
        error: ProblemError,
    ) -> NoReturn:
        """Records a refused request, then raises its problem: denials are on record too.

        A 404 or 403 is a denial (someone asked for what they may not have); any other problem
        is a failure of a permitted request.
        """
        denied = isinstance(error, NotFound | Forbidden)
        outcome = Outcome.DENIED if denied else Outcome.FAILED
        self.record(action, resource_type, resource_id, outcome, detail=error.detail)
        raise error

    async def write(self, session: AsyncSession) -> None:
        """Appends the pending entries to one chain inside the session's transaction."""
        if not self.pending:
            return
        chain, last_seq, prev_hash = await _lock_a_chain(session, self.tables.head)
        rows = []
        for seq, entry in enumerate(self.pending, start=last_seq + 1):
            row = {
                "at": entry.at,
                "actor_id": entry.actor_id,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "resource_type": entry.resource_type,
                "resource_id": entry.resource_id,
                "outcome": entry.outcome.value,
                "request_id": entry.request_id,
                "detail": entry.detail,
            }
            digest = record_hash(prev_hash, chain, seq, _hashed_fields(row))
            rows.append({**row, "chain": chain, "seq": seq, "prev_hash": prev_hash, "hash": digest})
            prev_hash = digest
        await session.execute(insert(self.tables.records), rows)
        head = self.tables.head
        await session.execute(
            update(head)
            .where(head.c.id == chain)
            .values(seq=last_seq + len(rows), last_hash=prev_hash)
        )
        self.pending.clear()


async def _lock_a_chain(session: AsyncSession, head: Table) -> tuple[int, int, str]:
    """Locks a chain head until commit: a free one if there is one, else waits for any."""
    pick = select(head.c.id, head.c.seq, head.c.last_hash).order_by(func.random()).limit(1)
    row = (await session.execute(pick.with_for_update(skip_locked=True))).one_or_none()
    if row is None:
        row = (await session.execute(pick.with_for_update())).one()
    return row.id, row.seq, row.last_hash


@dataclass(frozen=True)
class ChainReport:
    records: int
    broken_chain: int | None = None
    first_broken_seq: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.reason is None


async def verify_chain(session: AsyncSession, tables: AuditTables) -> ChainReport:
    """Recomputes every hash of every chain; reports the first record that does not fit."""
    records, heads = tables.records, tables.head
    count = 0
    head_rows = (await session.execute(select(heads).order_by(heads.c.id))).all()
    for head in head_rows:
        prev_hash, expected_seq = GENESIS_HASH, 1
        result = await session.stream(
            select(records).where(records.c.chain == head.id).order_by(records.c.seq)
        )
        async for row in result.mappings():
            count += 1
            seq = row["seq"]
            if seq != expected_seq:
                return ChainReport(count, head.id, seq, f"record {expected_seq} is missing")
            if row["prev_hash"] != prev_hash:
                return ChainReport(count, head.id, seq, "previous-hash link is broken")
            if record_hash(prev_hash, head.id, seq, _hashed_fields(dict(row))) != row["hash"]:
                return ChainReport(count, head.id, seq, "record content does not match its hash")
            prev_hash, expected_seq = row["hash"], seq + 1
        if head.seq != expected_seq - 1 or head.last_hash != prev_hash:
            return ChainReport(
                count, head.id, expected_seq, "records after this point were removed"
            )
    strays = await session.scalar(
        select(func.count()).where(records.c.chain.not_in([head.id for head in head_rows]))
    )
    if strays:
        return ChainReport(count + strays, None, None, f"{strays} records belong to no chain")
    return ChainReport(count)
