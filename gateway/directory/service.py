"""The directory's rules: organisations and users as stored, and the changes that must keep
it manageable."""

import uuid
from typing import TypeVar

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway import revocations, schemas
from gateway.accounts import sessions
from gateway.accounts.passwords import Passwords, WeakPassword
from gateway.directory.access import require_admin
from gateway.models import ApiClient, Organization, User
from gateway.settings import GatewaySettings
from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound
from services.common.uow import UnitOfWork

Deactivatable = TypeVar("Deactivatable", User, ApiClient)
Record = TypeVar("Record")


async def find_or_refuse(
    uow: UnitOfWork,
    model: type[Record],
    record_id: uuid.UUID,
    action: str,
    resource: str,
    name: str,
) -> Record:
    """The record, or a 404 on the audit trail ("No {name} {record_id}.")."""
    record = await uow.session.get(model, record_id)
    if record is None:
        uow.audit.refuse(action, resource, record_id, NotFound(f"No {name} {record_id}."))
    return record


async def find_organization(uow: UnitOfWork, organization_id: uuid.UUID) -> Organization:
    organization = await uow.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"No organisation {organization_id}.")
    return organization


async def user_view(uow: UnitOfWork, user: User) -> schemas.User:
    region = None
    if user.organization_id:
        region = (await find_organization(uow, user.organization_id)).region
    return schemas.User.model_validate(user).model_copy(update={"region": region})


async def keep_an_administrator(uow: UnitOfWork, user: User, action: str) -> None:
    """Refuses (409) to leave the directory without an active administrator: nobody could
    then manage it. The active administrators' rows are locked, so two of them switching
    each other off at once cannot both succeed."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    admins = select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    if set((await uow.session.scalars(admins.with_for_update())).all()) <= {user.id}:
        uow.audit.refuse(
            action,
            "user",
            user.id,
            Conflict(f"{user.username} is the only active administrator; appoint another first."),
        )


async def deactivate(
    uow: UnitOfWork,
    request: Request,
    principal: Principal,
    model: type[Deactivatable],
    record_id: uuid.UUID,
    action: str,
    resource: str,
) -> Deactivatable:
    """Switches an account off: its tokens stop being issued or renewed, and the ones it
    holds are refused everywhere within seconds (gateway/revocations.py). Administrators
    cannot switch themselves off (403): nobody would be left to switch them back on."""
    require_admin(uow, principal, action, resource)
    record = await uow.session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {resource.replace('_', ' ')} {record_id}.")
    settings = request.app.state.settings
    await switch_off(uow, settings, record, action, resource, by=principal.subject)
    return record


async def switch_off(
    uow: UnitOfWork,
    settings: GatewaySettings,
    record: User | ApiClient,
    action: str,
    resource: str,
    *,
    by: uuid.UUID | None,
) -> None:
    """Deactivates without asking who may (the API asks first; `telemed admin deactivate`
    is the operator's, `by` None), keeping an active administrator; a person's sign-ins end
    too."""
    if isinstance(record, User):
        await keep_an_administrator(uow, record, action)
    if record.id == by:
        yourself = Forbidden("You cannot deactivate yourself; another administrator can.")
        uow.audit.refuse(action, resource, record.id, yourself)
    record.is_active = False
    await uow.session.flush()
    await revocations.revoke(uow.session, settings, record.id, action)
    if isinstance(record, User):
        await sessions.end_all(uow, settings, record.id, action, listed=False)
    uow.audit.record(action, resource, record.id)


async def flush_unique(uow: UnitOfWork, what: str) -> None:
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists.") from exc


async def create_user(
    uow: UnitOfWork, passwords: Passwords, body: schemas.UserCreate
) -> schemas.User:
    """Shared by the API and `telemed admin create-user`; the password meets the rules
    (gateway/accounts/passwords.py) or the user is not created (422). Without one, the person
    cannot sign in until they choose one by an invitation."""
    if body.organization_id:
        await find_organization(uow, body.organization_id)
    password_hash = None
    if body.password is not None:
        try:
            password_hash = await passwords.hash_new(
                body.password, username=body.username, full_name=body.full_name, email=body.email
            )
        except WeakPassword as weak:
            uow.audit.refuse("user.create", "user", None, weak)
    user = User(
        username=body.username,
        password_hash=password_hash,
        password_changed_at=utcnow() if password_hash else None,
        full_name=body.full_name,
        role=body.role.value,
        organization_id=body.organization_id,
        specialty=body.specialty,
        email=body.email,
        phone=body.phone,
        language=body.language,
    )
    uow.session.add(user)
    await flush_unique(uow, f"A user named {body.username!r}")
    uow.audit.record("user.create", "user", user.id)
    return await user_view(uow, user)
