"""`Idempotency-Key` for creating POSTs: a retry gets the first response, a reused key with
another body is a 422.

The key row is inserted before the work is done, inside the request's transaction: a
concurrent duplicate blocks on the unique index (PostgreSQL) or the write lock (SQLite) and
then finds the first request's stored response.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint, select
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.db import UTCDateTime, utcnow
from services.common.errors import BadRequest, Conflict, Unprocessable

MAX_KEY_LENGTH = 255


def define_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("owner", String(64), nullable=False),
        Column("key", String(MAX_KEY_LENGTH), nullable=False),
        Column("endpoint", String(255), nullable=False),
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
) -> JSONResponse:
    """Runs `create` once per (caller, Idempotency-Key); replays its response afterwards."""
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
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    body_sha256 = hashlib.sha256(canonical.encode()).hexdigest()
    owner = str(principal.subject)
    endpoint = f"{request.method} {request.url.path}"
    lookup = select(table).where(table.c.owner == owner, table.c.key == key)
    existing = (await session.execute(lookup)).mappings().one_or_none()
    if existing is None:
        try:
            async with session.begin_nested():
                await session.execute(
                    sql_insert(table).values(
                        owner=owner, key=key, endpoint=endpoint, body_sha256=body_sha256
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
        return respond(existing["status_code"], json.loads(existing["response_body"]), True)
    result = jsonable_encoder(await create())
    await session.execute(
        sql_update(table)
        .where(table.c.owner == owner, table.c.key == key)
        .values(status_code=status_code, response_body=json.dumps(result))
    )
    return respond(status_code, result, replayed=False)


def location(path: str) -> Callable[[Any], dict[str, str]]:
    """`headers=` for `idempotent`: the created resource's `Location`, filled in from its JSON
    (`location("/api/consult/cases/{id}")`)."""

    def headers(payload: Any) -> dict[str, str]:
        return {"Location": path.format(**payload)}

    return headers
