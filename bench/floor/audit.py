"""The floor's audit append: one record on consult's striped, keyed hash chain, in one statement.

The same record `services.common.audit.AuditTrail.write` appends, in one round trip: a CTE locks
a free chain head (`SKIP LOCKED`, as consult does), the record's HMAC-SHA256 is computed in
PostgreSQL from the head's hash (built-in `sha256` over the key's inner and outer pads, RFC
2104), the record is inserted and the head moved on. Handing the pads to the database is a
shortcut a benchmark may take and a service should not (they are as good as the key); it moves
the HMAC's few microseconds from the app's process into PostgreSQL, whose CPU the benchmark
prints beside it. consult's own `verify_chain` checks these records like its own.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

HMAC_BLOCK = 64  # SHA-256's block size, which HMAC pads its key to
DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _hmac_sql(message: str) -> str:
    """HMAC-SHA256 of the SQL text expression `message`, hex, under the pads in $1 and $2."""
    inner = f"sha256($1::bytea || convert_to({message}, 'UTF8'))"
    return f"encode(sha256($2::bytea || {inner}), 'hex')"


# $3..$6: the canonical JSON of services/common/audit.py `record_hash` (keys sorted) cut where
# the chain, the previous hash and the sequence number go, which only the locked head knows.
_RECORD = (
    "$3::text || h.id::text || $4::text || h.last_hash || $5::text || (h.seq + 1)::text || $6::text"
)
_EPOCH = "'telemed-audit-epoch:' || h.id::text || ':' || (h.seq + 1)::text || ':' || h.last_hash"
_NEW_EPOCH = "h.seal IS NULL OR h.seq = 0"  # as `AuditTrail.write`: an empty or unsealed chain
APPEND_AUDIT = f"""
WITH h AS (
    SELECT id, seq, last_hash, keyed_from, seal FROM audit_chain_head
    ORDER BY random() LIMIT 1 FOR UPDATE {{skip}}
), entry AS (
    SELECT h.id AS chain, h.seq + 1 AS seq, h.last_hash AS prev_hash,
           {_hmac_sql(_RECORD)} AS hash,
           CASE WHEN {_NEW_EPOCH} THEN h.seq + 1 ELSE h.keyed_from END AS keyed_from,
           CASE WHEN {_NEW_EPOCH} THEN {_hmac_sql(_EPOCH)} ELSE h.seal END AS seal
    FROM h
), record AS (
    INSERT INTO audit_records (chain, seq, "at", actor_id, actor_role, action, resource_type,
                               resource_id, outcome, request_id, detail, prev_hash, hash)
    SELECT chain, seq, $7::timestamptz, $8::text, $9::text, $10::text, $11::text, $12::text,
           $13::text, $14::text, $15::text, prev_hash, hash
    FROM entry
)
UPDATE audit_chain_head AS head
SET seq = entry.seq, last_hash = entry.hash, keyed_from = entry.keyed_from, seal = entry.seal
FROM entry WHERE head.id = entry.chain
RETURNING head.id
"""
APPEND_TO_FREE_CHAIN = APPEND_AUDIT.format(skip="SKIP LOCKED")
APPEND_TO_ANY_CHAIN = APPEND_AUDIT.format(skip="")  # when every head is held: wait for one


def _canonical_parts(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """The canonical JSON of an audit record around its chain, previous hash and number."""
    head = ",".join(f'"{k}":{DUMPS(entry[k])}' for k in ("action", "actor_id", "actor_role", "at"))
    middle = ",".join(f'"{k}":{DUMPS(entry[k])}' for k in ("detail", "outcome"))
    tail = ",".join(
        f'"{k}":{DUMPS(entry[k])}' for k in ("request_id", "resource_id", "resource_type")
    )
    return "{" + head + ',"chain":', "," + middle + ',"prev_hash":"', '",' + tail + ',"seq":', "}"


class AuditChain:
    """Appends records to a service's audit chains under its key."""

    def __init__(self, key: bytes) -> None:
        key = key if len(key) <= HMAC_BLOCK else hashlib.sha256(key).digest()
        key = key.ljust(HMAC_BLOCK, b"\0")
        self.pads = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)

    async def append(
        self, connection: asyncpg.Connection, *, action: str, actor_id: str, actor_role: str,
        resource_type: str, resource_id: str, outcome: str, request_id: str, detail: str | None,
    ) -> None:  # fmt: skip
        """One record, in its own transaction (the connection is in none)."""
        at = datetime.now(UTC)
        entry = {
            "action": action, "actor_id": actor_id, "actor_role": actor_role,
            "at": at.isoformat(), "resource_type": resource_type, "resource_id": resource_id,
            "outcome": outcome, "request_id": request_id, "detail": detail,
        }  # fmt: skip
        values = (
            *self.pads, *_canonical_parts(entry), at, actor_id, actor_role, action,
            resource_type, resource_id, outcome, request_id, detail,
        )  # fmt: skip
        if await connection.fetchval(APPEND_TO_FREE_CHAIN, *values) is None:
            await connection.fetchval(APPEND_TO_ANY_CHAIN, *values)
