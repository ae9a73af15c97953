"""Sign-ins: each refresh-token family as its person sees it (where from, which browser, when
last used), started, renewed and ended; a sign-in from somewhere new is announced to them.

Ending a sign-in deletes its refresh tokens (so a client presenting one later is simply
refused, not taken for a thief reusing a rotated token) and puts the family on the revocation
list, which refuses its access tokens everywhere within seconds.
"""

import uuid
from collections.abc import Collection
from datetime import timedelta

from fastapi import Request
from sqlalchemy import delete, exists, select, update

from gateway import revocations
from gateway.accounts.models import SignIn
from gateway.models import Organization, RefreshToken, User
from gateway.notify.enums import Template
from gateway.notify.outbox import enqueue
from gateway.settings import GatewaySettings
from services.common.db import utcnow
from services.common.uow import UnitOfWork


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


async def started(
    uow: UnitOfWork, user: User, request: Request, client_name: str | None = None
) -> uuid.UUID:
    """Records a new sign-in of `user` and returns its family id, for the tokens to name.

    When the person has signed in before, but not from this address with this browser within
    `new_sign_in_days`, they are told (`account.new_sign_in`): a stranger holding their
    password shows up there. A first sign-in is not news to the one who just chose the
    password, so it is not announced. `client_name`: the application signed in to, for the
    authorization code flow.
    """
    settings: GatewaySettings = request.app.state.settings
    now, family = utcnow(), uuid.uuid4()
    address = client_address(request)
    agent = request.headers.get("user-agent", "")[:255]
    own, window = SignIn.user_id == user.id, timedelta(days=settings.new_sign_in_days)
    seen_here = exists().where(
        own, SignIn.address == address, SignIn.user_agent == agent, SignIn.created_at > now - window
    )
    signed_in_before, familiar = (
        await uow.session.execute(select(exists().where(own), seen_here))
    ).one()
    uow.session.add(
        SignIn(
            id=family,
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            address=address,
            user_agent=agent,
            client_name=client_name,
        )
    )
    # Sign-ins past both the comparison window and the refresh tokens' life matter to nothing
    # any more: pruned here, so each person keeps only their recent ones.
    stale = now - max(window, timedelta(seconds=settings.refresh_token_seconds))
    await uow.session.execute(
        delete(SignIn)
        .where(own, SignIn.last_used_at < stale)
        .execution_options(synchronize_session=False)
    )
    await uow.session.flush()
    if signed_in_before and not familiar:
        timezone = None
        if user.organization_id:
            timezone = await uow.session.scalar(
                select(Organization.timezone).where(Organization.id == user.organization_id)
            )
        await enqueue(
            uow.session,
            recipient_id=user.id,
            template=Template.ACCOUNT_NEW_SIGN_IN,
            params={
                "at": now.isoformat(timespec="seconds"),
                "timezone": timezone or "UTC",
                "address": address,
                "client": client_name or agent or "unknown",
            },
            key=f"{Template.ACCOUNT_NEW_SIGN_IN.value}:{family}",
        )
    return family


async def renewed(uow: UnitOfWork, family: uuid.UUID) -> None:
    """The sign-in's refresh token was used: it is still in use, and may go on as long again."""
    await uow.session.execute(
        update(SignIn)
        .where(SignIn.id == family)
        .values(last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def end(
    uow: UnitOfWork,
    settings: GatewaySettings,
    families: Collection[uuid.UUID],
    reason: str,
    *,
    listed: bool = True,
) -> None:
    """Ends these sign-ins: no refresh, and their access tokens refused everywhere (`listed`
    False: the person is on the revocation list already, which refuses them all)."""
    if not families:
        return
    now = utcnow()
    await uow.session.execute(
        delete(RefreshToken)
        .where(RefreshToken.family_id.in_(families))
        .execution_options(synchronize_session=False)
    )
    await uow.session.execute(
        update(SignIn)
        .where(SignIn.id.in_(families), SignIn.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    for family in families if listed else ():
        await revocations.revoke(uow.session, settings, family, reason, now)


async def end_all(
    uow: UnitOfWork,
    settings: GatewaySettings,
    user_id: uuid.UUID,
    reason: str,
    *,
    keep: uuid.UUID | None = None,
    listed: bool = True,
) -> int:
    """Ends every sign-in of the person that can still be used, but `keep` (the caller's own,
    when they change their password); how many it ended. Families are ended one by one, not
    by revoking the person: a token issued later in the same second (the resolution of
    `iat`) would be refused too, and the person signs in again at once."""
    now = utcnow()
    live_tokens = select(RefreshToken.family_id).where(
        RefreshToken.user_id == user_id,
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > now,
    )
    open_sign_ins = select(SignIn.id).where(SignIn.user_id == user_id, SignIn.ended_at.is_(None))
    families = set((await uow.session.scalars(live_tokens)).all())
    families |= set((await uow.session.scalars(open_sign_ins)).all())
    if keep is not None:
        families.discard(keep)
    await end(uow, settings, families, reason, listed=listed)
    return len(families)


async def active(uow: UnitOfWork, settings: GatewaySettings, user_id: uuid.UUID) -> list[SignIn]:
    """The person's sign-ins that can still be used, the latest used first."""
    since = utcnow() - timedelta(seconds=settings.refresh_token_seconds)
    rows = await uow.session.scalars(
        select(SignIn)
        .where(SignIn.user_id == user_id, SignIn.ended_at.is_(None), SignIn.last_used_at > since)
        .order_by(SignIn.last_used_at.desc())
    )
    return list(rows.all())
