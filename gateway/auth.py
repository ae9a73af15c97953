"""`POST /api/auth/token` (password, client_credentials, refresh_token grants) and the JWKS."""

import asyncio
import base64
import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, func, select, update

from gateway.models import ApiClient, LoginFailure, Organization, RefreshToken, User
from gateway.schemas import TokenResponse
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import (
    BadRequest,
    TooManyRequests,
    Unauthorized,
    problem_response,
    problem_responses,
)
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["auth"])


class SecretHasher:
    """Argon2id hashing off the event loop, with constant work for unknown accounts."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash = self._hasher.hash("a password nobody has")

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Does the same work whether or not the account exists, so timing reveals nothing."""

        def check() -> bool:
            try:
                valid = self._hasher.verify(stored_hash or self._dummy_hash, secret)
            except (VerificationError, InvalidHashError):
                return False
            return valid and stored_hash is not None

        return await asyncio.to_thread(check)


def secret_hasher(request: Request) -> SecretHasher:
    hasher: SecretHasher = request.app.state.secret_hasher
    return hasher


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def principal_for_user(uow: UnitOfWork, user: User) -> Principal:
    region = None
    if user.organization_id:
        region = await uow.session.scalar(
            select(Organization.region).where(Organization.id == user.organization_id)
        )
    return Principal(
        subject=user.id,
        username=user.username,
        role=Role(user.role),
        organization_id=user.organization_id,
        region=region,
        specialty=user.specialty,
    )


async def _check_rate_limit(
    uow: UnitOfWork, settings: GatewaySettings, username: str, address: str
) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    limits = (
        (LoginFailure.username, username, settings.login_max_failures),
        (LoginFailure.address, address, settings.login_max_failures_per_address),
    )
    for column, value, limit in limits:
        count, oldest = (
            await uow.session.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    column == value, LoginFailure.at > since
                )
            )
        ).one()
        if count >= limit:
            retry_after = max(1, int((oldest - since).total_seconds()) + 1)
            raise TooManyRequests(
                "Too many failed sign-ins; wait before trying again.",
                headers={"Retry-After": str(retry_after)},
            )


async def _issue(
    uow: UnitOfWork, request: Request, principal: Principal, *, with_refresh: bool
) -> TokenResponse:
    settings: GatewaySettings = request.app.state.settings
    issuer: TokenIssuer = request.app.state.token_issuer
    refresh = None
    if with_refresh:
        refresh = secrets.token_urlsafe(32)
        uow.session.add(
            RefreshToken(
                token_hash=_token_digest(refresh),
                user_id=principal.subject,
                expires_at=utcnow() + timedelta(seconds=settings.refresh_token_seconds),
            )
        )
        await uow.session.flush()
    return TokenResponse(
        access_token=issuer.issue(principal),
        expires_in=settings.access_token_seconds,
        refresh_token=refresh,
        scope=" ".join(sorted(principal.scopes)),
    )


def _invalid_grant(request: Request, detail: str) -> JSONResponse:
    return problem_response(
        request, 400, slug="invalid-grant", detail=detail, extensions={"error": "invalid_grant"}
    )


async def _password_grant(
    uow: UnitOfWork, request: Request, username: str, password: str
) -> TokenResponse | JSONResponse:
    settings: GatewaySettings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    username = username.strip().lower()
    await _check_rate_limit(uow, settings, username, address)
    user = await uow.session.scalar(select(User).where(User.username == username))
    valid = await secret_hasher(request).verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        # Recorded and answered without raising, so the unit of work keeps the failure row.
        uow.session.add(LoginFailure(username=username, address=address, at=utcnow()))
        uow.audit.record(
            "auth.login",
            "user",
            user.id if user else None,
            Outcome.DENIED,
            detail=f"username={username}",
        )
        return _invalid_grant(request, "The username or password is wrong.")
    await uow.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    principal = await principal_for_user(uow, user)
    uow.audit.record("auth.login", "user", user.id, principal=principal)
    return await _issue(uow, request, principal, with_refresh=True)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("Malformed Basic credentials.") from exc
    return client_id, secret


async def _client_credentials_grant(
    uow: UnitOfWork, request: Request, client_id: str | None, client_secret: str | None
) -> TokenResponse | JSONResponse:
    basic = _basic_credentials(request)
    if basic:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise BadRequest("client_id and client_secret are required.")
    client = await uow.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    valid = await secret_hasher(request).verify(
        client.secret_hash if client else None, client_secret
    )
    if client is None or not valid or not client.is_active:
        uow.audit.record("auth.client", "api_client", client.id if client else None, Outcome.DENIED)
        return _invalid_grant(request, "The client credentials are wrong.")
    region = await uow.session.scalar(
        select(Organization.region).where(Organization.id == client.organization_id)
    )
    principal = Principal(
        subject=client.id,
        username=client.client_id,
        role=Role.API_CLIENT,
        organization_id=client.organization_id,
        region=region,
        scopes=frozenset(client.scopes),
    )
    uow.audit.record("auth.client", "api_client", client.id, principal=principal)
    return await _issue(uow, request, principal, with_refresh=False)


async def _refresh_grant(
    uow: UnitOfWork, request: Request, refresh_token: str | None
) -> TokenResponse | JSONResponse:
    if not refresh_token:
        raise BadRequest("refresh_token is required.")
    now = utcnow()
    # Rotation: the conditional UPDATE lets exactly one concurrent use of a token win.
    revoked = await uow.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == _token_digest(refresh_token),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(revoked_at=now)
        .returning(RefreshToken.user_id)
    )
    user_id = revoked.scalar_one_or_none()
    user = await uow.session.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        return _invalid_grant(request, "The refresh token is invalid, used or expired.")
    principal = await principal_for_user(uow, user)
    uow.audit.record("auth.refresh", "user", user.id, principal=principal)
    return await _issue(uow, request, principal, with_refresh=True)


@router.post(
    "/api/auth/token",
    summary="Obtain an access token (OAuth 2.0 token endpoint)",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 429),
)
async def token(
    request: Request,
    uow: UnitOfWorkDep,
    grant_type: Annotated[str, Form(examples=["password"])],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> Any:
    """Password grant for users, `client_credentials` for API clients, `refresh_token` to renew.

    Access tokens live 15 minutes; refresh tokens rotate on every use.
    """
    if grant_type == "password":
        if not username or not password:
            raise BadRequest("username and password are required.")
        return await _password_grant(uow, request, username, password)
    if grant_type == "client_credentials":
        return await _client_credentials_grant(uow, request, client_id, client_secret)
    if grant_type == "refresh_token":
        return await _refresh_grant(uow, request, refresh_token)
    raise BadRequest(f"Unsupported grant_type {grant_type!r}.", error="unsupported_grant_type")


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> dict[str, Any]:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer.jwks()


def new_client_credentials() -> tuple[str, str]:
    return f"tmc_{uuid.uuid4().hex[:16]}", secrets.token_urlsafe(32)
