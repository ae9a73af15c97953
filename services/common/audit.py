"""Append-only, keyed hash-chained audit trail: who did what to what, with what outcome.

Every record carries the HMAC-SHA256, under the service's audit key, of its content and of the
record before it in its chain, so editing, deleting or reordering any record breaks that chain
from there on, and `verify_chain` names the first broken record. The key lives in a file apart
from the database (`ServiceSettings.audit_key_path`): someone who can rewrite the tables but
not read the key cannot recompute the chain after a change.

Records written before chains were keyed keep their plain SHA-256 links: each chain's head holds
the first keyed record's number (`keyed_from`) and a seal, an HMAC of that number and of the
last hash before it, made at the service's first start with the key (`seal_chains`). So the
boundary cannot be moved to pass keyed records off as plain ones, and nothing before it can be
rewritten either.

The trail is striped over a few chains, each with a head row: an append locks one head for the
rest of its transaction, and on PostgreSQL it takes any head nobody else holds (`SKIP LOCKED`),
so concurrent requests neither fork a chain nor queue behind one lock. SQLite serialises
writers anyway (`BEGIN IMMEDIATE`).
"""

import hashlib
import hmac
import json
import logging
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
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.context import current_request_id
from services.common.db import Database, UTCDateTime, utcnow
from services.common.errors import Forbidden, NotFound, ProblemError, UnknownReference

GENESIS_HASH = "0" * 64
CHAINS = 8
# Where a session finds its service's audit key (`Database(audit_key=...)` puts it there).
AUDIT_KEY_INFO = "audit_key"
logger = logging.getLogger(__name__)


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
        # The first record keyed with the audit key, and the key's seal over that number.
        Column("keyed_from", BigInteger, nullable=True),
        Column("seal", String(64), nullable=True),
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


def record_hash(
    prev_hash: str, chain: int, seq: int, entry: dict[str, Any], key: bytes | None = None
) -> str:
    """HMAC-SHA256 under `key`; plain SHA-256 only for records from before keying."""
    canonical = json.dumps(
        {**entry, "chain": chain, "seq": seq, "prev_hash": prev_hash},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()
    if key is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def epoch_seal(key: bytes, chain: int, keyed_from: int, tip: str) -> str:
    """Binds where keying starts and the last hash before it, so neither the boundary nor
    anything written before keying can change without the key."""
    message = f"telemed-audit-epoch:{chain}:{keyed_from}:{tip}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_audit_key(session: AsyncSession) -> bytes:
    key: bytes | None = session.info.get(AUDIT_KEY_INFO)
    if not key:
        raise RuntimeError("this session's Database was made without the service's audit key")
    return key


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

        A 404 or 403 is a denial (someone asked for what they may not have), and so is a 422
        for naming someone they may not (`UnknownReference`); any other problem is a failure
        of a permitted request.
        """
        denied = isinstance(error, NotFound | Forbidden | UnknownReference)
        outcome = Outcome.DENIED if denied else Outcome.FAILED
        self.record(action, resource_type, resource_id, outcome, detail=error.detail)
        raise error

    async def write(self, session: AsyncSession) -> None:
        """Appends the pending entries to one chain inside the session's transaction."""
        if not self.pending:
            return
        key = session_audit_key(session)
        chain, last_seq, prev_hash, keyed_from, seal = await _lock_a_chain(
            session, self.tables.head
        )
        if seal is None or last_seq == 0:
            # An empty chain (or one not keyed yet) starts its keyed epoch here.
            keyed_from, seal = last_seq + 1, epoch_seal(key, chain, last_seq + 1, prev_hash)
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
            digest = record_hash(prev_hash, chain, seq, _hashed_fields(row), key)
            rows.append({**row, "chain": chain, "seq": seq, "prev_hash": prev_hash, "hash": digest})
            prev_hash = digest
        await session.execute(insert(self.tables.records), rows)
        head = self.tables.head
        await session.execute(
            update(head)
            .where(head.c.id == chain)
            .values(seq=last_seq + len(rows), last_hash=prev_hash, keyed_from=keyed_from, seal=seal)
        )
        self.pending.clear()


async def _lock_a_chain(
    session: AsyncSession, head: Table
) -> tuple[int, int, str, int | None, str | None]:
    """Locks a chain head until commit: a free one if there is one, else waits for any."""
    pick = (
        select(head.c.id, head.c.seq, head.c.last_hash, head.c.keyed_from, head.c.seal)
        .order_by(func.random())
        .limit(1)
    )
    row = (await session.execute(pick.with_for_update(skip_locked=True))).one_or_none()
    if row is None:
        row = (await session.execute(pick.with_for_update())).one()
    return row.id, row.seq, row.last_hash, row.keyed_from, row.seal


async def seal_chains(session: AsyncSession, tables: AuditTables) -> int:
    """Starts the keyed epoch of every chain that has none, after its last record; run at
    start-up, so chains written before keying are sealed before anyone verifies them."""
    key = session_audit_key(session)
    head = tables.head
    unsealed = select(head.c.id, head.c.seq, head.c.last_hash).where(head.c.seal.is_(None))
    rows = (await session.execute(unsealed.with_for_update())).all()
    for row in rows:
        seal = epoch_seal(key, row.id, row.seq + 1, row.last_hash)
        await session.execute(
            update(head)
            .where(head.c.id == row.id, head.c.seal.is_(None))
            .values(keyed_from=row.seq + 1, seal=seal)
        )
    return len(rows)


async def seal_database(database: Database, tables: AuditTables) -> None:
    """`seal_chains` at a service's start; a database not reachable yet is left to the first
    write, which seals the chain it takes."""
    try:
        async with database.sessionmaker() as session:
            if sealed := await seal_chains(session, tables):
                logger.info("audit chains keyed from now on", extra={"chains": sealed})
            await session.commit()
    except (OSError, SQLAlchemyError):
        logger.warning("audit chains could not be sealed at start", exc_info=True)


@dataclass(frozen=True)
class ChainReport:
    records: int
    broken_chain: int | None = None
    first_broken_seq: int | None = None
    reason: str | None = None
    unkeyed: int = 0  # records from before the chains were keyed, linked by plain SHA-256

    @property
    def intact(self) -> bool:
        return self.reason is None


@dataclass
class _ChainCheck:
    """One chain's records, streamed in order, checked against its head."""

    head: Any
    key: bytes
    prev_hash: str = GENESIS_HASH
    expected_seq: int = 1
    records: int = 0
    unkeyed: int = 0
    tip: str | None = None  # the last hash before the keyed epoch

    def __post_init__(self) -> None:
        self.keyed_from: int | None = self.head.keyed_from if self.head.seq else None
        if self.keyed_from == 1:
            self.tip = GENESIS_HASH

    def unsealed(self) -> tuple[int, str] | None:
        if self.head.seq and (self.head.seal is None or self.keyed_from is None):
            return 1, "the chain is not sealed with the audit key"
        return None

    def record(self, row: Any) -> tuple[int, str] | None:
        self.records += 1
        seq = row["seq"]
        if seq != self.expected_seq:
            return seq, f"record {self.expected_seq} is missing"
        if row["prev_hash"] != self.prev_hash:
            return seq, "previous-hash link is broken"
        keyed = self.keyed_from is not None and seq >= self.keyed_from
        self.unkeyed += not keyed
        digest = record_hash(
            self.prev_hash,
            self.head.id,
            seq,
            _hashed_fields(dict(row)),
            self.key if keyed else None,
        )
        if digest != row["hash"]:
            return seq, "record content does not match its hash"
        self.prev_hash, self.expected_seq = row["hash"], seq + 1
        if self.keyed_from is not None and seq == self.keyed_from - 1:
            self.tip = self.prev_hash
        return None

    def end(self) -> tuple[int, str] | None:
        head = self.head
        if head.seq != self.expected_seq - 1 or head.last_hash != self.prev_hash:
            return self.expected_seq, "records after this point were removed"
        if self.keyed_from is not None and (
            self.tip is None
            or not hmac.compare_digest(
                head.seal, epoch_seal(self.key, head.id, self.keyed_from, self.tip)
            )
        ):
            return self.keyed_from, "the seal does not match the records before keying or the key"
        return None


async def verify_chain(
    session: AsyncSession, tables: AuditTables, key: bytes | None = None
) -> ChainReport:
    """Recomputes every hash of every chain under the service's audit key (by default the
    session's); reports the first record that does not fit."""
    key = key or session_audit_key(session)
    records, heads = tables.records, tables.head
    count = unkeyed = 0
    head_rows = (await session.execute(select(heads).order_by(heads.c.id))).all()
    for head in head_rows:
        check = _ChainCheck(head, key)
        problem = check.unsealed()
        if problem is None:
            result = await session.stream(
                select(records).where(records.c.chain == head.id).order_by(records.c.seq)
            )
            async for row in result.mappings():
                if problem := check.record(row):
                    break
            else:
                problem = check.end()
            await result.close()
        count, unkeyed = count + check.records, unkeyed + check.unkeyed
        if problem:
            return ChainReport(count, head.id, *problem)
    strays = await session.scalar(
        select(func.count()).where(records.c.chain.not_in([head.id for head in head_rows]))
    )
    if strays:
        return ChainReport(count + strays, None, None, f"{strays} records belong to no chain")
    return ChainReport(count, unkeyed=unkeyed)
