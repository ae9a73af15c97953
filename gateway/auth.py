"""`POST /api/auth/token` (password, client_credentials, refresh_token grants) and the JWKS.

A secret is checked (argon2, 64 MiB and tens of milliseconds) between two short transactions,
never inside one: on SQLite a transaction holds the database's one write lock, so a hash
inside it made every other request wait (24 bad sign-ins held a read for 5-12 s).
"""

import asyncio
import base64
import hashlib
import os
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import unquote_plus

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select, update

from gateway import revocations, signin
from gateway.accounts import sessions
from gateway.models import ApiClient, Organization, RefreshToken, User
from gateway.schemas import TokenResponse
from gateway.scopes import issued
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import (
    BadRequest,
    Unauthorized,
    problem_response,
    problem_responses,
)
from services.common.openapi import FORM_MEDIA_TYPE
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["auth"])


class SecretHasher:
    """Argon2id hashing off the event loop, with constant work for unknown accounts.

    At most `parallel` hashes run at once (by default one fewer than the CPUs): each takes a
    core and `memory_kib`, so a flood of sign-ins queues here instead of taking every core
    from the event loop (24 at once held an unrelated read 3 s on two cores) or the memory.
    """

    def __init__(self, *, time_cost: int, memory_kib: int, parallel: int | None = None) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash = self._hasher.hash("a password nobody has")
        self._slots = asyncio.Semaphore(parallel or max(1, (os.cpu_count() or 2) - 1))

    async def hash(self, secret: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Does the same work whether or not the account exists, so timing reveals nothing."""

        def check() -> bool:
            try:
                valid = self._hasher.verify(stored_hash or self._dummy_hash, secret)
            except (VerificationError, InvalidHashError):
                return False
            return valid and stored_hash is not None

        async with self._slots:
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


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _end_transaction(uow: UnitOfWork) -> None:
    """Commits the attempt's count and lets go of the database before the secret is hashed;
    the rest of the request is the unit of work's own short transaction."""
    await uow.session.commit()


async def _issue(
    uow: UnitOfWork, request: Request, principal: Principal, *, family: uuid.UUID | None
) -> TokenResponse:
    """A person's tokens belong to a sign-in (`family`): its next refresh token, and access
    tokens naming it as `sid`, so a stolen family can be revoked as one."""
    settings: GatewaySettings = request.app.state.settings
    issuer: TokenIssuer = request.app.state.token_issuer
    refresh = None
    if family is not None:
        refresh = secrets.token_urlsafe(32)
        uow.session.add(
            RefreshToken(
                token_hash=_token_digest(refresh),
                user_id=principal.subject,
                family_id=family,
                expires_at=utcnow() + timedelta(seconds=settings.refresh_token_seconds),
            )
        )
        await uow.session.flush()
    return TokenResponse(
        access_token=issuer.issue(principal, session_id=family),
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
    address = _address(request)
    username = username.strip().lower()
    await signin.admit(uow.session, settings, username, address, utcnow())
    user = await uow.session.scalar(select(User).where(User.username == username))
    await _end_transaction(uow)
    valid = await secret_hasher(request).verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        # Answered without raising, so the unit of work records the denial.
        uow.audit.record(
            "auth.login",
            "user",
            user.id if user else None,
            Outcome.DENIED,
            detail=f"username={username}",
        )
        return _invalid_grant(request, "The username or password is wrong.")
    await signin.succeeded(uow.session, username, address)
    principal = await principal_for_user(uow, user)
    uow.audit.record("auth.login", "user", user.id, principal=principal)
    family = await sessions.started(uow, user, request)
    return await _issue(uow, request, principal, family=family)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """A client's id and secret in HTTP Basic. RFC 6749 2.3.1 has each form-urlencoded before
    they are joined and Base64-encoded, so each is decoded after the split (a `:` or `%` in a
    secret arrives as `%3A`, `%25`); ids and secrets made of unreserved characters, as telemed
    generates them, decode to themselves."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        return unquote_plus(client_id, errors="strict"), unquote_plus(secret, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("Malformed Basic credentials.") from exc


async def _client_credentials_grant(
    uow: UnitOfWork, request: Request, client_id: str | None, client_secret: str | None
) -> TokenResponse | JSONResponse:
    basic = basic_credentials(request)
    if basic:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise BadRequest("client_id and client_secret are required.")
    settings: GatewaySettings = request.app.state.settings
    account, address = signin.client_account(client_id), _address(request)
    await signin.admit(uow.session, settings, account, address, utcnow())
    client = await uow.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    await _end_transaction(uow)
    valid = await secret_hasher(request).verify(
        client.secret_hash if client else None, client_secret
    )
    if client is None or not valid or not client.is_active:
        uow.audit.record("auth.client", "api_client", client.id if client else None, Outcome.DENIED)
        return _invalid_grant(request, "The client credentials are wrong.")
    await signin.succeeded(uow.session, account, address)
    region = await uow.session.scalar(
        select(Organization.region).where(Organization.id == client.organization_id)
    )
    principal = Principal(
        subject=client.id,
        username=client.client_id,
        role=Role.API_CLIENT,
        organization_id=client.organization_id,
        region=region,
        scopes=issued(client.scopes, client.is_service),
    )
    uow.audit.record("auth.client", "api_client", client.id, principal=principal)
    return await _issue(uow, request, principal, family=None)


async def _revoke_family(uow: UnitOfWork, request: Request, stolen: RefreshToken) -> None:
    """A used refresh token came back: two parties hold the sign-in, and we cannot tell which
    is its owner, so every token of the family stops, its access tokens included."""
    settings: GatewaySettings = request.app.state.settings
    now = utcnow()
    ended = await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == stolen.family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if ended.rowcount:  # type: ignore[attr-defined]  # a CursorResult, as for any UPDATE
        await revocations.revoke(uow.session, settings, stolen.family_id, "refresh.reuse", now)
    uow.audit.record(
        "auth.refresh_reuse",
        "user",
        stolen.user_id,
        Outcome.DENIED,
        detail=f"family={stolen.family_id}",
    )


async def _refresh_grant(
    uow: UnitOfWork, request: Request, refresh_token: str | None
) -> TokenResponse | JSONResponse:
    if not refresh_token:
        raise BadRequest("refresh_token is required.")
    invalid = "The refresh token is invalid, used or expired."
    now = utcnow()
    stored = await uow.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _token_digest(refresh_token))
    )
    if stored is None or stored.expires_at <= now:
        return _invalid_grant(request, invalid)
    from gateway.oauth.grant import refresh_client  # which imports this module

    # A sign-in an OAuth client started: only that client refreshes it, and it keeps its scopes.
    client_sign_in = await refresh_client(uow, request, stored.family_id)
    # Rotation: the conditional UPDATE lets exactly one concurrent use of a token win; every
    # other use of it is a reuse.
    rotated = await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    if rotated.scalar_one_or_none() is None:
        await _revoke_family(uow, request, stored)
        return _invalid_grant(request, invalid)
    user = await uow.session.get(User, stored.user_id)
    if user is None or not user.is_active:
        return _invalid_grant(request, invalid)
    principal = await principal_for_user(uow, user)
    if client_sign_in is not None:
        principal = principal.model_copy(update={"scopes": client_sign_in.scopes})
    uow.audit.record("auth.refresh", "user", user.id, principal=principal)
    await sessions.renewed(uow, stored.family_id)
    tokens = await _issue(uow, request, principal, family=stored.family_id)
    return tokens if client_sign_in is None else client_sign_in.answer(request, user, tokens)


TOKEN_EXAMPLES = {
    "client_credentials": {
        "summary": "A regional MIS as an API client",
        "value": {
            "grant_type": "client_credentials",
            "client_id": "tmc_5f2b8c1d9e7a4b30",
            "client_secret": "q8Jk2vN4rT6yW1zX3bC5dF7gH9jL0mP2sR4uV6xA8cE",
        },
    },
    "authorization_code": {
        "summary": "A person's sign-in, the code exchanged with its PKCE verifier",
        "value": {
            "grant_type": "authorization_code",
            "client_id": "kuzbass-mis-web",
            "code": "Zq3kYc8pV1sN6mT0rW4xB7dF2hJ5lA9e",
            "redirect_uri": "https://mis.kuzbass.example/oauth/callback",
            "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        },
    },
    "refresh_token": {
        "summary": "Renewing: the refresh token rotates",
        "value": {
            "grant_type": "refresh_token",
            "refresh_token": "rt_7Hq2Lx9Vb4Nc1Ke6Tg3Ws8Pz5Ry0Ma",
        },
    },
}


@router.post(
    "/api/auth/token",
    summary="Obtain an access token (OAuth 2.0 token endpoint)",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 429),
    openapi_extra={"requestBody": {"content": {FORM_MEDIA_TYPE: {"examples": TOKEN_EXAMPLES}}}},
)
async def token(
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    grant_type: Annotated[str, Form(examples=["password"])],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form(max_length=512)] = None,
    redirect_uri: Annotated[str | None, Form(max_length=2000)] = None,
    code_verifier: Annotated[str | None, Form(max_length=128)] = None,
) -> Any:
    """`authorization_code` (with PKCE) for people signing in to an application through
    `/oauth/authorize`, `client_credentials` for API clients, `refresh_token` to renew; the
    answer to `authorization_code` with scope `openid` also holds an `id_token`.

    The `password` grant is legacy: OAuth 2.1 drops it, as it hands the person's password to
    the client. It is kept for the clients that already use it; new clients sign people in
    with the authorization code flow (docs/api.md).

    Access tokens live 15 minutes; refresh tokens rotate on every use, and a used one presented
    again ends its whole sign-in (every refresh token since, and their access tokens). Failed
    passwords and client secrets are throttled per account and address (429 with
    `Retry-After`): see docs/api.md.
    """
    # RFC 6749 5.1: an answer holding tokens is never cached.
    response.headers["Cache-Control"] = "no-store"
    answer = await _grant(
        uow, request, grant_type, username=username, password=password, client_id=client_id,
        client_secret=client_secret, refresh_token=refresh_token, code=code,
        redirect_uri=redirect_uri, code_verifier=code_verifier,
    )  # fmt: skip
    if isinstance(answer, Response):
        answer.headers["Cache-Control"] = "no-store"
    return answer


async def _grant(
    uow: UnitOfWork,
    request: Request,
    grant_type: str,
    *,
    username: str | None,
    password: str | None,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str | None,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> Any:
    if grant_type == "password":
        if not username or not password:
            raise BadRequest("username and password are required.")
        return await _password_grant(uow, request, username, password)
    if grant_type == "client_credentials":
        return await _client_credentials_grant(uow, request, client_id, client_secret)
    if grant_type == "refresh_token":
        return await _refresh_grant(uow, request, refresh_token)
    if grant_type == "authorization_code":
        from gateway.oauth.grant import authorization_code_grant  # which imports this module

        return await authorization_code_grant(
            uow, request, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier,
            client_id=client_id, client_secret=client_secret,
        )  # fmt: skip
    raise BadRequest(f"Unsupported grant_type {grant_type!r}.", error="unsupported_grant_type")


@router.get("/.well-known/jwks.json", summary="Public keys that verify access and ID tokens")
async def jwks(request: Request) -> dict[str, Any]:
    """The JSON Web Key Set of the keys access tokens (EdDSA) and ID tokens (RS256) are signed
    with; public, no token needed. A verifier picks the key by the token's `kid` and fetches
    the set again when it meets an unknown `kid`, as keys rotate."""
    issuer: TokenIssuer = request.app.state.token_issuer
    # The ID tokens' RSA key too (gateway/oauth/idtokens.py), which the services never use:
    # they take only access tokens' issuer and audience.
    return {"keys": [*issuer.jwks()["keys"], request.app.state.id_token_signer.jwk]}


def new_client_credentials() -> tuple[str, str]:
    return f"tmc_{uuid.uuid4().hex[:16]}", secrets.token_urlsafe(32)
