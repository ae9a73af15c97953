"""The account API under `/api/auth`: a person's password, password links, signing out and
their sign-ins."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from gateway.accounts import service
from gateway.accounts.deps import PasswordsDep, SettingsDep
from gateway.accounts.schemas import (
    PasswordChange,
    PasswordResetComplete,
    PasswordResetRequest,
    PasswordSet,
    SignInView,
)
from gateway.accounts.sessions import client_address
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.openapi import form_example
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/password",
    status_code=204,
    summary="Change your own password",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def change_password(
    body: PasswordChange,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> Response:
    """A wrong current password is a 403 and counts as a failed sign-in (throttled: 429 with
    `Retry-After`). A new password the rules refuse is a 422 whose `reason` is `short`,
    `common`, `breached` or `weak`, with `suggestions`. Your other sign-ins end; this one goes
    on."""
    await service.change_password(
        uow, settings, passwords, principal, body, client_address(request)
    )
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    response_class=Response,
    summary="Ask for a password reset link",
    responses={202: {"description": "Taken; no body."}, **problem_responses(422, 429)},
)
async def request_password_reset(
    body: PasswordResetRequest, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> Response:
    """Always 202, whether or not the name or address belongs to anyone; a link (valid
    `password_reset_hours`, 1 h by default) goes to the email and phone on record. Requests
    are throttled per address and per name (429 with `Retry-After`)."""
    await service.request_link(uow, settings, body.username_or_email, client_address(request))
    return Response(status_code=202)


@router.post(
    "/password-reset/complete",
    response_model=PasswordSet,
    summary="Choose a password with a one-time link (reset or invitation)",
    responses=problem_responses(400, 422),
)
async def complete_password_reset(
    body: PasswordResetComplete,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> PasswordSet:
    """A used, expired or unknown link is a 400 (`reason`: `used`, `expired`, `unknown`,
    `inactive`); a password the rules refuse is a 422 and leaves the link usable. On success
    every sign-in of the person ends and their failed sign-ins are forgotten."""
    user = await service.complete(uow, settings, passwords, body.token, body.new_password)
    return PasswordSet(username=user.username)


@router.post(
    "/sign-out",
    status_code=204,
    summary="Sign out: end this sign-in",
    responses=problem_responses(400, 401),
    openapi_extra=form_example(refresh_token="rt_7Hq2Lx9Vb4Nc1Ke6Tg3Ws8Pz5Ry0Ma"),
)
async def sign_out(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
) -> Response:
    """Ends the sign-in of the access token sent (and the one of `refresh_token`, if it is
    yours): its refresh tokens stop working at once, its access tokens everywhere within
    seconds."""
    await service.sign_out(uow, settings, principal, refresh_token)
    return Response(status_code=204)


@router.get(
    "/sessions",
    response_model=list[SignInView],
    summary="Your sign-ins that are still active",
    responses=problem_responses(401, 404),
)
async def list_sessions(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> list[SignInView]:
    """Latest used first; `current` marks the one this request's token is of."""
    rows = await service.own_sign_ins(uow, settings, principal)
    return [
        SignInView.model_validate(row).model_copy(update={"current": current})
        for row, current in rows
    ]


@router.delete(
    "/sessions/{sign_in_id}",
    status_code=204,
    summary="End one of your sign-ins",
    responses=problem_responses(401, 404),
)
async def end_session(
    sign_in_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> Response:
    """Ends one sign-in from `GET /api/auth/sessions` (a phone left signed in, say): its refresh
    tokens stop working at once, its access tokens everywhere within seconds. Another person's
    sign-in, or one already ended, is a 404."""
    await service.end_own_sign_in(uow, settings, principal, sign_in_id)
    return Response(status_code=204)
