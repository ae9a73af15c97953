"""Routes administering people's accounts, and a person's own profile (`PATCH /me`)."""

import uuid

from fastapi import APIRouter

from gateway.accounts.deps import SettingsDep
from gateway.accounts.schemas import (
    Account,
    LinkSent,
    ProfileUpdate,
    SignInView,
    Unlocked,
    UserUpdate,
)
from gateway.directory import users
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])


@router.patch(
    "/me",
    response_model=Account,
    summary="Change your own name, contacts or language",
    responses=problem_responses(401, 404),
)
async def update_me(
    body: ProfileUpdate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Account:
    """Email addresses are kept normalised (the domain in lower case, in ASCII form); phone
    numbers in E.164 (`+79131234567`, a leading 8 taken as +7). `null` clears a contact."""
    user = await users.update_profile(uow, principal, body)
    return await users.account_view(uow, user)


@router.get(
    "/users/{user_id}/account",
    response_model=Account,
    summary="A user's account: contacts, language, password status (administrators)",
    responses=problem_responses(401, 403, 404),
)
async def get_account(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Account:
    """Administrators only (403 otherwise): what `GET /users/{id}` shows, with the person's
    email, phone, language, whether they have a password and when it last changed. 404 for an
    unknown user."""
    user = await users.administered(uow, principal, user_id, "user.read")
    uow.audit.record("user.read", users.RESOURCE, user.id, detail="account")
    return await users.account_view(uow, user)


@router.patch(
    "/users/{user_id}",
    response_model=Account,
    summary="Change a user (administrators)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Account:
    """Within the rules of creating a user: a specialist has a specialty, staff an
    organisation (422 otherwise, and for an unknown `organization_id`). You cannot change your
    own role (403), nor take the role of the only active administrator (409). Changing the
    role, organisation or specialty ends the person's sign-ins: their tokens would say
    otherwise."""
    user = await users.update_user(uow, settings, principal, user_id, body)
    return await users.account_view(uow, user)


@router.post(
    "/users/{user_id}/reactivate",
    response_model=Account,
    summary="Reactivate a deactivated user (administrators)",
    responses=problem_responses(401, 403, 404, 409),
)
async def reactivate_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Account:
    """409 for a user who is active. Their earlier sign-ins stay ended."""
    user = await users.administered(uow, principal, user_id, "user.reactivate")
    return await users.account_view(uow, await users.reactivate(uow, user))


@router.post(
    "/users/{user_id}/unlock",
    response_model=Unlocked,
    summary="Forget a user's failed sign-ins (administrators)",
    responses=problem_responses(401, 403, 404),
)
async def unlock_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Unlocked:
    """The sign-in throttle (429 with `Retry-After`) no longer holds the person back, from any
    address."""
    user = await users.administered(uow, principal, user_id, "user.unlock")
    return Unlocked(failures_cleared=await users.unlock(uow, user))


@router.post(
    "/users/{user_id}/password-reset",
    status_code=202,
    response_model=LinkSent,
    summary="Send a user a password reset link (administrators)",
    responses=problem_responses(401, 403, 404, 409),
)
async def reset_password(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> LinkSent:
    """The link goes to the person's email and phone on record, never in this response; it
    works once, for `password_reset_hours` (1 h by default), and replaces any earlier link.
    409 if the person is deactivated or has no contact to send it to."""
    user = await users.administered(uow, principal, user_id, "user.password_reset")
    return await users.send_reset(uow, settings, user)


@router.post(
    "/users/{user_id}/invite",
    status_code=202,
    response_model=LinkSent,
    summary="Invite a person without a password to choose one",
    responses=problem_responses(401, 403, 404, 409),
)
async def invite_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> LinkSent:
    """For a person on record who has never had a password (a patient registered by a
    registry). Administrators invite anyone; coordinators and registrars the people of the
    organisations they act for. The link (valid `invitation_hours`, 72 h by default) goes to
    the person's contacts. 409 if they have a password already (send a reset), are
    deactivated, or have no contact."""
    return await users.invite(uow, settings, principal, user_id)


@router.get(
    "/users/{user_id}/sessions",
    response_model=list[SignInView],
    summary="A user's active sign-ins (administrators)",
    responses=problem_responses(401, 403, 404),
)
async def user_sessions(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> list[SignInView]:
    """Deactivating the user ends them all."""
    rows = await users.user_sign_ins(uow, settings, principal, user_id)
    return [SignInView.model_validate(row) for row in rows]
