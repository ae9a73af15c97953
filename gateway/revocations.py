"""The revocation list every service polls, at `/.well-known/revocations`.

Users, API clients and sign-ins revoked within the last access-token lifetime.

Access tokens are verified by each service on its own, so a deactivation would otherwise only
take effect when the token expires (15 minutes). Services fetch this list with a conditional GET
every `revocations_refresh_seconds` (2 s by default; `services/common/auth.py`) and refuse a
listed subject's tokens issued up to its revocation. An entry only has to outlive the tokens it
stops, so the list stays as short as the revocations of one token lifetime.
"""

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Revocation
from gateway.settings import GatewaySettings
from services.common.auth import revocation_key
from services.common.db import Database, utcnow

router = APIRouter(tags=["auth"])
# Beyond the token lifetime: twice the verifiers' clock leeway, so no listed token outlives
# its entry.
MARGIN_SECONDS = 60


def _window(settings: GatewaySettings) -> timedelta:
    return timedelta(seconds=settings.access_token_seconds + MARGIN_SECONDS)


async def revoke(
    session: AsyncSession,
    settings: GatewaySettings,
    subject: uuid.UUID,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Refuses `subject`'s access tokens issued until now (a user or API client id, or a
    refresh-token family, the tokens' `sid`), in the caller's transaction."""
    now = now or utcnow()
    await session.execute(delete(Revocation).where(Revocation.revoked_at < now - _window(settings)))
    session.add(Revocation(subject=str(subject), reason=reason, revoked_at=now))
    await session.flush()


async def published(database: Database, settings: GatewaySettings) -> dict[str, Any]:
    """The list as services receive it; each entry is a subject's digest and a Unix time."""
    since = utcnow() - _window(settings)
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(Revocation.subject, Revocation.revoked_at).where(Revocation.revoked_at > since)
        )
        latest: dict[str, float] = {}
        for subject, revoked_at in rows:
            latest[subject] = max(latest.get(subject, 0.0), revoked_at.timestamp())
    revoked = [{"key": revocation_key(s), "before": at} for s, at in sorted(latest.items())]
    return {"revoked": revoked, "window_seconds": int(_window(settings).total_seconds())}


@router.get(
    "/.well-known/revocations",
    summary="Subjects whose access tokens are revoked (polled by the services)",
    responses={
        200: {"description": "The deny-list; `ETag` for conditional requests."},
        304: {"description": "Unchanged since the `If-None-Match` ETag."},
    },
)
async def revocations(request: Request) -> Response:
    """Each entry refuses the access tokens whose `sub` or `sid` has the SHA-256 digest `key`
    (its first 32 hex digits) and whose `iat` is at or before `before`."""
    settings: GatewaySettings = request.app.state.settings
    document = await published(request.app.state.database, settings)
    body = json.dumps(document, separators=(",", ":")).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
