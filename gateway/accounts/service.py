"""The account rules a person meets themselves: changing their password, asking for and using
a password link, signing out and ending their sign-ins.

Argon2 runs between two short transactions, never inside one (see gateway/auth.py): the
unit of work is committed before a password is verified or hashed.
"""

import hashlib
import uuid

from sqlalchemy import func, or_, select, update

from gateway import signin
from gateway.accounts import links, sessions
from gateway.accounts.enums import LinkPurpose
from gateway.accounts.models import PasswordLink, SignIn
from gateway.accounts.passwords import Passwords
from gateway.accounts.schemas import PasswordChange
from gateway.models import RefreshToken, User
from gateway.notify.planning import open_channels, reachable
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import BadRequest, Forbidden, NotFound, Unprocessable
from services.common.uow import UnitOfWork

RESOURCE = "user"
# One address asking for links to every account an email names: a household or a shared
# mailbox has a few, never this many.
MAX_ACCOUNTS_PER_EMAIL = 10


async def own_user(uow: UnitOfWork, principal: Principal, action: str) -> User:
    """The caller's user row; API clients have none (404)."""
    user = await uow.session.get(User, principal.subject)
    if user is None:
        uow.audit.refuse(action, RESOURCE, None, NotFound("API clients have no user account."))
    return user


async def change_password(
    uow: UnitOfWork,
    settings: GatewaySettings,
    passwords: Passwords,
    principal: Principal,
    body: PasswordChange,
    address: str,
) -> None:
    """The caller's own password: the current one must be right (a wrong one counts as a failed
    sign-in), the new one must meet the rules; the caller's other sign-ins end."""
    action = "account.password_change"
    user = await own_user(uow, principal, action)
    if body.new_password == body.current_password:
        uow.audit.refuse(
            action, RESOURCE, user.id, Unprocessable("The new password is the current one.")
        )
    # Checked before the attempt is counted: a weak choice is not a wrong guess.
    await passwords.rules.check(
        body.new_password, username=user.username, full_name=user.full_name, email=user.email
    )
    await signin.admit(uow.session, settings, user.username, address, utcnow())
    await uow.session.commit()
    if not await passwords.hasher.verify(user.password_hash, body.current_password):
        uow.audit.refuse(action, RESOURCE, user.id, Forbidden("The current password is wrong."))
    new_hash = await passwords.hasher.hash(body.new_password)
    await signin.succeeded(uow.session, user.username, address)
    await _set_password(uow, user, new_hash)
    ended = await sessions.end_all(
        uow, settings, user.id, "password.change", keep=principal.session_id
    )
    uow.audit.record(action, RESOURCE, user.id, detail=f"other_sign_ins_ended={ended}")


async def _set_password(uow: UnitOfWork, user: User, password_hash: str) -> None:
    await uow.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(password_hash=password_hash, password_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def request_link(uow: UnitOfWork, settings: GatewaySettings, who: str, address: str) -> None:
    """Someone asks for a reset link for a username or an email address. The answer is the
    same whether or not it names anyone (nobody learns who has an account here); the link goes
    only to the contacts on record. Throttled per address and per name (`signin`)."""
    action = "account.password_reset_request"
    who = who.strip().lower()
    await signin.admit(uow.session, settings, *signin.link_request(who, address), utcnow())
    named = User.username == who
    if "@" in who:
        named = or_(named, func.lower(User.email) == who)
    found = (
        await uow.session.scalars(
            select(User).where(named).order_by(User.username).limit(MAX_ACCOUNTS_PER_EMAIL)
        )
    ).all()
    if not found:
        uow.audit.record(action, RESOURCE, None, Outcome.DENIED, detail="no such account")
    for user in found:
        if user.is_active and reachable(user, open_channels(settings)):
            await links.send(uow, settings, user, LinkPurpose.RESET, action)
        else:
            uow.audit.record(action, RESOURCE, user.id, Outcome.DENIED, detail="unreachable")


async def complete(
    uow: UnitOfWork,
    settings: GatewaySettings,
    passwords: Passwords,
    token: str,
    new_password: str,
) -> User:
    """Sets the password a link was sent for: the link is used up, every sign-in of the person
    ends, and their failed sign-ins are forgotten (an account slowed down by strangers is
    free again)."""
    action = "account.password_set"
    try:
        link, user = await links.redeemable(uow, token)
    except links.InvalidLink as refused:
        uow.audit.refuse(action, RESOURCE, None, refused)
    await passwords.rules.check(
        new_password, username=user.username, full_name=user.full_name, email=user.email
    )
    await uow.session.commit()
    new_hash = await passwords.hasher.hash(new_password)
    # Used up by a conditional write, so of two uses at once exactly one sets the password.
    now = utcnow()
    used = await uow.session.scalar(
        update(PasswordLink)
        .where(
            PasswordLink.id == link.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordLink.id)
        .execution_options(synchronize_session=False)
    )
    if used is None:
        used_up = links.InvalidLink.of(user, "This link has been used or has expired.", "used")
        uow.audit.refuse(action, RESOURCE, user.id, used_up)
    await _set_password(uow, user, new_hash)
    ended = await sessions.end_all(uow, settings, user.id, "password.reset")
    await signin.cleared(uow.session, user.username)
    detail = f"{link.purpose.value}; sign_ins_ended={ended}"
    uow.audit.record(action, RESOURCE, user.id, detail=detail)
    return user


async def sign_out(
    uow: UnitOfWork, settings: GatewaySettings, principal: Principal, refresh_token: str | None
) -> None:
    """Ends the caller's sign-in, and the one `refresh_token` belongs to if it is theirs."""
    action = "auth.sign_out"
    families = {principal.session_id} if principal.session_id else set()
    if refresh_token:
        family = await uow.session.scalar(
            select(RefreshToken.family_id).where(
                RefreshToken.token_hash == hashlib.sha256(refresh_token.encode()).hexdigest(),
                RefreshToken.user_id == principal.subject,
            )
        )
        if family is not None:
            families.add(family)
    if not families:
        uow.audit.refuse(
            action,
            RESOURCE,
            principal.subject,
            BadRequest(
                "This token belongs to no sign-in: an API client's tokens end when they expire "
                "or when the client is revoked."
            ),
        )
    await sessions.end(uow, settings, families, "sign_out")
    uow.audit.record(action, RESOURCE, principal.subject, detail=f"sign_ins={len(families)}")


async def own_sign_ins(
    uow: UnitOfWork, settings: GatewaySettings, principal: Principal
) -> list[tuple[SignIn, bool]]:
    """The caller's sign-ins that can still be used, each marked whether it is this one."""
    user = await own_user(uow, principal, "auth.sessions")
    rows = await sessions.active(uow, settings, user.id)
    uow.audit.record("auth.sessions", RESOURCE, user.id, detail=f"returned={len(rows)}")
    return [(row, row.id == principal.session_id) for row in rows]


async def end_own_sign_in(
    uow: UnitOfWork, settings: GatewaySettings, principal: Principal, sign_in_id: uuid.UUID
) -> None:
    action = "auth.session_end"
    sign_in = await uow.session.get(SignIn, sign_in_id)
    if sign_in is None or sign_in.user_id != principal.subject or sign_in.ended_at is not None:
        uow.audit.refuse(
            action, "sign_in", sign_in_id, NotFound(f"No sign-in {sign_in_id} of yours.")
        )
    await sessions.end(uow, settings, [sign_in.id], "sign_out")
    uow.audit.record(action, "sign_in", sign_in.id)
