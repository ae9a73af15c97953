"""`Idempotency-Key` for creating POSTs: a retry gets the first response, a reused key with
another body is a 422.

The key row is inserted before the work is done, inside the request's transaction: a
concurrent duplicate blocks on the unique index (PostgreSQL) or the write lock (SQLite) and
then finds the first request's stored response.

What the rows keep is not a copy of anything secret: the request is remembered by an HMAC of
its body under the service's own key (kept apart from the database; a plain hash of a body
holding a password could be guessed offline), and a response that shows a secret once (an API
client's, a webhook signing secret) is stored without it, a retry then being refused with 410
(`ShownOnce`). Rows are deleted after `idempotency_retention_hours` (`idempotency_pruning`):
they hold patient data, and a retry comes within minutes, not days.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.db import Database, UTCDateTime, utcnow
from services.common.errors import BadRequest, Conflict, Gone, Unprocessable
from services.common.jobs import periodic_job

MAX_KEY_LENGTH = 255
logger = logging.getLogger("telemed.idempotency")


@dataclass(frozen=True)
class ShownOnce:
    """Marks a creating response that shows a secret once: `fields` (top-level members of the
    response) are not stored, and a retry with the same key is refused with 410 and `then`,
    what to do instead (the created resource's other fields come along in `created`)."""

    fields: frozenset[str]
    then: str


class SecretShownOnce(Gone):
    slug = "secret-shown-once"


def request_fingerprint(key: bytes, body: BaseModel) -> str:
    """An HMAC-SHA256 of the body's canonical JSON under the service's idempotency key."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def define_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("owner", String(64), nullable=False),
        Column("key", String(MAX_KEY_LENGTH), nullable=False),
        Column("endpoint", String(255), nullable=False),
        # `request_fingerprint`: a keyed HMAC-SHA256 (the name is older than the key).
        Column("body_sha256", String(64), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("response_body", Text, nullable=True),
        Column("created_at", UTCDateTime, nullable=False, default=utcnow),
        UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),
    )


async def idempotent(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    body: BaseModel,
    create: Callable[[], Awaitable[BaseModel]],
    *,
    status_code: int = 201,
    headers: Callable[[Any], dict[str, str]] | None = None,
    shown_once: ShownOnce | None = None,
) -> JSONResponse:
    """Runs `create` once per (caller, Idempotency-Key); replays its response afterwards, or,
    for a response with a secret `shown_once`, refuses the retry (410)."""
    key = request.headers.get("idempotency-key")
    table: Table = request.app.state.idempotency_table

    def respond(status: int, payload: Any, replayed: bool) -> JSONResponse:
        extra = headers(payload) if headers else {}
        if replayed:
            extra["Idempotent-Replayed"] = "true"
        return JSONResponse(payload, status_code=status, headers=extra)

    if key is None:
        result = jsonable_encoder(await create())
        return respond(status_code, result, replayed=False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
    body_sha256 = request_fingerprint(request.app.state.idempotency_key, body)
    owner = str(principal.subject)
    endpoint = f"{request.method} {request.url.path}"
    lookup = select(table).where(table.c.owner == owner, table.c.key == key)
    existing = (await session.execute(lookup)).mappings().one_or_none()
    if existing is None:
        try:
            async with session.begin_nested():
                await session.execute(
                    sql_insert(table).values(
                        owner=owner,
                        key=key,
                        endpoint=endpoint,
                        body_sha256=body_sha256,
                        created_at=request.app.state.clock(),
                    )
                )
        except IntegrityError:
            existing = (await session.execute(lookup)).mappings().one_or_none()
    if existing is not None:
        if existing["endpoint"] != endpoint or existing["body_sha256"] != body_sha256:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request body."
            )
        if existing["status_code"] is None:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        stored = json.loads(existing["response_body"])
        if shown_once is not None:
            raise SecretShownOnce(
                "The first response to this request showed a secret, which is shown only "
                f"once and not kept. {shown_once.then}",
                headers=headers(stored) if headers else None,
                created=stored,
            )
        return respond(existing["status_code"], stored, True)
    result = jsonable_encoder(await create())
    kept = result
    if shown_once is not None and isinstance(result, dict):
        kept = {name: value for name, value in result.items() if name not in shown_once.fields}
    await session.execute(
        sql_update(table)
        .where(table.c.owner == owner, table.c.key == key)
        .values(status_code=status_code, response_body=json.dumps(kept))
    )
    return respond(status_code, result, replayed=False)


def location(path: str) -> Callable[[Any], dict[str, str]]:
    """`headers=` for `idempotent`: the created resource's `Location`, filled in from its JSON
    (`location("/api/consult/cases/{id}")`)."""

    def headers(payload: Any) -> dict[str, str]:
        return {"Location": path.format(**payload)}

    return headers


async def prune_idempotency_keys(database: Database, table: Table, before: datetime) -> int:
    """Deletes the keys made before `before`; returns how many."""
    async with database.sessionmaker() as session:
        result = await session.execute(sql_delete(table).where(table.c.created_at < before))
        await session.commit()
    pruned: int = result.rowcount  # type: ignore[attr-defined]
    return pruned


@asynccontextmanager
async def idempotency_pruning(
    app: FastAPI, *, retention: timedelta, interval: float
) -> AsyncIterator[None]:
    """For the app's lifetime: keys older than `retention` are deleted every `interval`
    seconds. The clock is read through `app.state` on every run, so tests can move time."""

    async def prune() -> None:
        before = app.state.clock() - retention
        pruned = await prune_idempotency_keys(
            app.state.database, app.state.idempotency_table, before
        )
        if pruned:
            logger.info("pruned %d idempotency keys", pruned)

    async with periodic_job(
        "idempotency-pruning", interval, prune, tracing=getattr(app.state, "tracing", None)
    ):
        yield
