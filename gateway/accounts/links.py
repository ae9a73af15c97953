"""One-time password links: a reset and an invitation to sign in are the same mechanism.

The token is 256 random bits sent to the person (email, SMS) and never shown by the API; only
its SHA-256 is stored, so the table cannot be used to set anyone's password. Issuing a link
voids the person's earlier ones.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from gateway.accounts.enums import LinkPurpose
from gateway.accounts.models import PasswordLink
from gateway.accounts.schemas import LinkSent
from gateway.models import User
from gateway.notify.enums import Template
from gateway.notify.outbox import enqueue
from gateway.notify.planning import open_channels, reachable
from gateway.settings import GatewaySettings
from services.common.db import utcnow
from services.common.errors import BadRequest, Conflict
from services.common.uow import UnitOfWork

PAGE = "/account/password"
TEMPLATES = {
    LinkPurpose.RESET: Template.ACCOUNT_PASSWORD_RESET,
    LinkPurpose.INVITATION: Template.ACCOUNT_INVITATION,
}


class InvalidLink(BadRequest):
    """An unknown, used or expired link, or a deactivated person's: `reason` says which.
    `language`: the person's, when the link names someone (for the page, not the problem)."""

    slug = "invalid-password-link"
    language: str | None = None

    @classmethod
    def of(cls, user: User, detail: str, reason: str) -> "InvalidLink":
        refused = cls(detail, reason=reason)
        refused.language = user.language
        return refused


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_hours(settings: GatewaySettings, purpose: LinkPurpose) -> int:
    if purpose is LinkPurpose.INVITATION:
        return settings.invitation_hours
    return settings.password_reset_hours


async def send(
    uow: UnitOfWork,
    settings: GatewaySettings,
    user: User,
    purpose: LinkPurpose,
    action: str,
    *,
    organization_name: str | None = None,
) -> LinkSent:
    """Issues a link for `user` and queues the message that carries it (in this transaction);
    409 if the person is deactivated or has nowhere a message can reach them."""
    if not user.is_active:
        uow.audit.refuse(
            action,
            "user",
            user.id,
            Conflict(f"{user.username} is deactivated; reactivate them first."),
        )
    channels = reachable(user, open_channels(settings))
    if not channels:
        uow.audit.refuse(
            action,
            "user",
            user.id,
            Conflict(
                f"{user.username} has no email address or phone number a message can reach, "
                "so there is nowhere to send the link: add one first."
            ),
        )
    now, hours = utcnow(), valid_hours(settings, purpose)
    await uow.session.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    link = PasswordLink(
        token_hash=digest(token),
        user_id=user.id,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    uow.session.add(link)
    await uow.session.flush()
    template = TEMPLATES[purpose]
    params: dict[str, object] = {
        "link": f"{settings.public_url.rstrip('/')}{PAGE}?token={token}",
        "valid_hours": hours,
    }
    if purpose is LinkPurpose.INVITATION:
        params["organization_name"] = organization_name
    await enqueue(
        uow.session,
        recipient_id=user.id,
        template=template,
        params=params,
        key=f"{template.value}:{link.id}",
    )
    uow.audit.record(action, "user", user.id, detail=f"channels={','.join(channels)}")
    return LinkSent(channels=channels, expires_at=link.expires_at)


async def redeemable(uow: UnitOfWork, token: str) -> tuple[PasswordLink, User]:
    """The link and its person, if the link can still set a password; else 400 saying why."""
    found = (
        await uow.session.execute(
            select(PasswordLink, User)
            .join(User, User.id == PasswordLink.user_id)
            .where(PasswordLink.token_hash == digest(token))
        )
    ).one_or_none()
    if found is None:
        raise InvalidLink(
            "This link is not valid: it may have been replaced by a newer one.", reason="unknown"
        )
    link, user = found
    if link.used_at is not None:
        raise InvalidLink.of(user, "This link has been used already.", "used")
    if link.expires_at <= utcnow():
        raise InvalidLink.of(user, "This link has expired; ask for a new one.", "expired")
    if not user.is_active:
        raise InvalidLink.of(user, "This account is deactivated.", "inactive")
    return link, user
