"""Administering people's accounts: changing a user (and one's own profile), reactivating,
unlocking, sending a password link (a reset, or an invitation to a person without a password)
and their sign-ins. The command line's `telemed admin` verbs call the same functions."""

import uuid

from sqlalchemy import select

from gateway import signin
from gateway.accounts import links, sessions
from gateway.accounts.enums import LinkPurpose
from gateway.accounts.models import SignIn
from gateway.accounts.schemas import Account, LinkSent, ProfileUpdate, UserUpdate
from gateway.directory.access import can_see_user, require_admin
from gateway.directory.service import find_or_refuse, keep_an_administrator, user_view
from gateway.directory.serving import acting
from gateway.models import Organization, User
from gateway.schemas import check_role_fits
from gateway.settings import GatewaySettings
from services.common.auth import Principal, Role
from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    UnknownReference,
    Unprocessable,
)
from services.common.uow import UnitOfWork

RESOURCE = "user"
# Who besides administrators may invite a person of an organisation they act for.
INVITERS = frozenset({Role.COORDINATOR, Role.REGISTRAR})


async def account_view(uow: UnitOfWork, user: User) -> Account:
    view = await user_view(uow, user)
    return Account(
        **view.model_dump(),
        email=user.email,
        phone=user.phone,
        language="en" if user.language == "en" else "ru",
        can_sign_in=user.password_hash is not None,
        password_changed_at=user.password_changed_at,
    )


async def find_user(uow: UnitOfWork, user_id: uuid.UUID, action: str) -> User:
    return await find_or_refuse(uow, User, user_id, action, RESOURCE, "user")


async def find_username(uow: UnitOfWork, username: str, action: str) -> User:
    user = await uow.session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        uow.audit.refuse(action, RESOURCE, None, NotFound(f"No user named {username!r}."))
    return user


async def administered(
    uow: UnitOfWork, principal: Principal, user_id: uuid.UUID, action: str
) -> User:
    """The user an administrator acts on; anyone else is refused (403)."""
    require_admin(uow, principal, action, RESOURCE)
    return await find_user(uow, user_id, action)


async def update_user(
    uow: UnitOfWork,
    settings: GatewaySettings,
    principal: Principal,
    user_id: uuid.UUID,
    body: UserUpdate,
) -> User:
    """Holds the result to the rules of creating a user. Role, organisation and specialty are
    in the person's tokens: changing one ends their sign-ins, so they sign in again and get
    tokens that say what they are now."""
    action = "user.update"
    user = await administered(uow, principal, user_id, action)
    changes = body.model_dump(exclude_unset=True)
    role = Role(changes.get("role") or user.role)
    organization_id = changes.get("organization_id", user.organization_id)
    specialty = changes.get("specialty", user.specialty)
    if user.id == principal.subject and role.value != user.role:
        uow.audit.refuse(
            action,
            RESOURCE,
            user.id,
            Forbidden("You cannot change your own role; another administrator can."),
        )
    try:
        check_role_fits(role, organization_id, specialty)
    except ValueError as exc:
        broken = Unprocessable(f"The user would break a rule: {exc}.")
        uow.audit.refuse(action, RESOURCE, user.id, broken)
    moved = organization_id is not None and organization_id != user.organization_id
    if moved and await uow.session.get(Organization, organization_id) is None:
        unknown = UnknownReference(f"organization_id: no organisation {organization_id}.")
        uow.audit.refuse(action, RESOURCE, user.id, unknown)
    if role != Role.ADMIN:
        await keep_an_administrator(uow, user, action)
    claims = (role.value, organization_id, specialty)
    claims_changed = claims != (user.role, user.organization_id, user.specialty)
    for field, value in changes.items():
        setattr(user, field, value.value if isinstance(value, Role) else value)
    await uow.session.flush()
    detail = f"fields={','.join(sorted(changes))}"
    if claims_changed:
        ended = await sessions.end_all(uow, settings, user.id, action)
        detail += f"; sign_ins_ended={ended}"
    uow.audit.record(action, RESOURCE, user.id, detail=detail)
    return user


async def update_profile(uow: UnitOfWork, principal: Principal, body: ProfileUpdate) -> User:
    """A person's own name, contacts and language."""
    user = await uow.session.get(User, principal.subject)
    if user is None:
        refused = NotFound("API clients have no user record.")
        uow.audit.refuse("user.update", RESOURCE, None, refused)
    return await apply_profile(uow, user, body)


async def apply_profile(uow: UnitOfWork, user: User, body: ProfileUpdate) -> User:
    """Name, contacts and language, which are not in tokens: no sign-in has to end."""
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(user, field, value)
    await uow.session.flush()
    detail = f"fields={','.join(sorted(changes))}"
    uow.audit.record("user.update", RESOURCE, user.id, detail=detail)
    return user


async def reactivate(uow: UnitOfWork, user: User) -> User:
    """Lets a deactivated person sign in again; their old sign-ins stay ended."""
    action = "user.reactivate"
    if user.is_active:
        uow.audit.refuse(action, RESOURCE, user.id, Conflict(f"{user.username} is active."))
    user.is_active = True
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, user.id)
    return user


async def unlock(uow: UnitOfWork, user: User) -> int:
    """Forgets the person's failed sign-ins from every address: no wait before the next."""
    cleared = await signin.cleared(uow.session, user.username)
    uow.audit.record("user.unlock", RESOURCE, user.id, detail=f"failures_cleared={cleared}")
    return cleared


async def send_reset(uow: UnitOfWork, settings: GatewaySettings, user: User) -> LinkSent:
    """A reset link to the person's own contacts; never to whoever asks for it."""
    return await links.send(uow, settings, user, LinkPurpose.RESET, "user.password_reset")


async def invite(
    uow: UnitOfWork, settings: GatewaySettings, principal: Principal, user_id: uuid.UUID
) -> LinkSent:
    """Asks a person on record who has no password yet (a patient a registry registered) to
    choose one. Administrators invite anyone; coordinators and registrars the people of the
    organisations they act for (their own, and those theirs serves)."""
    action = "user.invite"
    user = await uow.session.get(User, user_id)
    caller = await acting(uow.session, principal)
    organization = (
        await uow.session.get(Organization, user.organization_id)
        if user is not None and user.organization_id
        else None
    )
    region = organization.region if organization else None
    if user is None or not can_see_user(caller, user, region):
        uow.audit.refuse(action, RESOURCE, user_id, NotFound(f"No user {user_id}."))
    acts_for = user.organization_id is not None and user.organization_id in caller.acting_for
    if principal.role != Role.ADMIN and not (principal.role in INVITERS and acts_for):
        uow.audit.refuse(
            action,
            RESOURCE,
            user.id,
            Forbidden(
                "Administrators, and coordinators and registrars of the person's "
                "organisation, invite people."
            ),
        )
    if user.password_hash is not None:
        uow.audit.refuse(
            action,
            RESOURCE,
            user.id,
            Conflict(f"{user.username} has a password already: send a reset link instead."),
        )
    return await links.send(
        uow,
        settings,
        user,
        LinkPurpose.INVITATION,
        action,
        # The templates name who invites; someone of no organisation is invited by telemed.
        organization_name=organization.name if organization else "telemed",
    )


async def user_sign_ins(
    uow: UnitOfWork, settings: GatewaySettings, principal: Principal, user_id: uuid.UUID
) -> list[SignIn]:
    action = "user.sessions"
    user = await administered(uow, principal, user_id, action)
    rows = await sessions.active(uow, settings, user.id)
    uow.audit.record(action, RESOURCE, user.id, detail=f"returned={len(rows)}")
    return rows
