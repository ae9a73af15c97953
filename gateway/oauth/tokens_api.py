"""Token revocation (RFC 7009) and introspection (RFC 7662) at `/api/auth/revoke` and
`/api/auth/introspect`.

A person's tokens belong to a sign-in (a refresh-token family, the access tokens' `sid`), and
revoking either kind of token ends that sign-in: the refresh tokens at once, the access tokens
everywhere within seconds (gateway/revocations.py); an access token cannot be revoked alone,
as the services verify it without asking the gateway.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select

from gateway import signin
from gateway.auth import _token_digest, secret_hasher
from gateway.models import ApiClient, RefreshToken, Revocation, User
from gateway.oauth import clients
from gateway.oauth.schemas import Introspection
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.auth import TokenVerifier
from services.common.db import utcnow
from services.common.errors import BadRequest, Unauthorized, problem_responses
from services.common.openapi import CLIENT_OR_PUBLIC_SECURITY, CLIENT_SECURITY, form_example
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["auth"])
TokenForm = Annotated[str, Form(max_length=4096, description="The token, as issued.")]
HintForm = Annotated[str | None, Form(examples=["refresh_token"])]
ClientIdForm = Annotated[str | None, Form(max_length=255)]
ClientSecretForm = Annotated[str | None, Form(max_length=255)]


async def _access_claims(uow: UnitOfWork, request: Request, token: str) -> dict[str, Any] | None:
    """The claims of a valid, unrevoked access token of this gateway; None otherwise. The
    revocations are read from the database, not from the verifier's copy of the list, which
    lags by up to `revocations_refresh_seconds`."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        await verifier.verify(token)
    except Unauthorized:
        return None
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    subjects = [str(claims["sub"]), *([str(claims["sid"])] if claims.get("sid") else [])]
    issued = datetime.fromtimestamp(float(claims["iat"]), UTC)
    revoked = await uow.session.scalar(
        select(Revocation.id)
        .where(Revocation.subject.in_(subjects), Revocation.revoked_at >= issued)
        .limit(1)
    )
    return None if revoked is not None else claims


async def _refresh_token(uow: UnitOfWork, token: str) -> RefreshToken | None:
    return await uow.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _token_digest(token))
    )


@router.post(
    "/api/auth/revoke",
    summary="Revoke a refresh or access token: its whole sign-in ends (RFC 7009)",
    response_class=Response,
    responses={
        200: {"description": "Revoked, or the token was not valid anyway"},
        **problem_responses(400, 401, 429),
    },
    openapi_extra=form_example(
        token="rt_7Hq2Lx9Vb4Nc1Ke6Tg3Ws8Pz5Ry0Ma",
        token_type_hint="refresh_token",
        client_id="kuzbass-mis-web",
    )
    | {"security": CLIENT_OR_PUBLIC_SECURITY},
)
async def revoke(
    request: Request,
    uow: UnitOfWorkDep,
    token: TokenForm,
    token_type_hint: HintForm = None,
    client_id: ClientIdForm = None,
    client_secret: ClientSecretForm = None,
) -> Response:
    """A token an OAuth client was issued is revoked only by that client (`client_id`, and its
    secret if it is confidential); a password sign-in's tokens by whoever holds them. An
    unknown, expired or already revoked token is a 200 too (RFC 7009 2.2). API clients' access
    tokens are not revoked one by one (400 `unsupported_token_type`): revoke the API client."""
    client_id, client_secret = clients.presented_credentials(request, client_id, client_secret)
    caller = None
    if client_id:
        caller = await clients.authenticate(uow, request, client_id, client_secret)
    family: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    if (stored := await _refresh_token(uow, token)) is not None:
        family, user_id = stored.family_id, stored.user_id
    elif (claims := await _access_claims(uow, request, token)) is not None:
        if not claims.get("sid"):
            raise BadRequest(
                "An API client's access token expires within minutes; revoke the API client "
                "to stop it at once.",
                error="unsupported_token_type",
            )
        family, user_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    if family is None:
        return Response(status_code=200)
    owner = await clients.family_client(uow, family)
    if owner is not None and caller is None:
        raise clients.InvalidClient("Name the client this token was issued to.")
    if owner is not None and caller is not None and owner.id != caller.id:
        uow.audit.record("auth.revoke", "user", user_id, Outcome.DENIED, detail="another client")
        return Response(status_code=200)  # says nothing about another client's tokens
    settings: GatewaySettings = request.app.state.settings
    await clients.end_sign_ins(uow, settings, [family], "auth.revoke")
    uow.audit.record("auth.revoke", "user", user_id, detail=f"family={family}")
    return Response(status_code=200)


async def _api_client(
    uow: UnitOfWork, request: Request, client_id: str, secret: str
) -> ApiClient | None:
    """An API client's secret, checked as for its client_credentials grant."""
    settings: GatewaySettings = request.app.state.settings
    account = signin.client_account(client_id)
    address = request.client.host if request.client else "unknown"
    await signin.admit(uow.session, settings, account, address, utcnow())
    client = await uow.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    await uow.session.commit()
    valid = await secret_hasher(request).verify(client.secret_hash if client else None, secret)
    if client is None or not valid or not client.is_active:
        return None
    await signin.succeeded(uow.session, account, address)
    return client


async def _introspector(
    uow: UnitOfWork, request: Request, client_id: str | None, client_secret: str | None
) -> str:
    """Who may introspect: an API client or a confidential OAuth client, by its secret."""
    client_id, client_secret = clients.presented_credentials(request, client_id, client_secret)
    if not client_id or not client_secret:
        raise clients.InvalidClient("Introspection needs a client's credentials.")
    oauth_client = await clients.active_client(uow, client_id)
    if oauth_client is not None and oauth_client.secret_hash is not None:
        await clients.authenticate(uow, request, client_id, client_secret)
        return client_id
    if await _api_client(uow, request, client_id, client_secret) is None:
        uow.audit.record("auth.introspect", "api_client", None, Outcome.DENIED)
        raise clients.InvalidClient()
    return client_id


@router.post(
    "/api/auth/introspect",
    response_model=Introspection,
    response_model_exclude_none=True,
    summary="Is this token active, and whose is it? (RFC 7662)",
    responses=problem_responses(400, 401, 429),
    openapi_extra=form_example(
        token="eyJhbGciOiJFZERTQSIsImtpZCI6ImF0LTIwMjUiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiI0ZjZhIn0.c2ln",
        token_type_hint="access_token",
    )
    | {"security": CLIENT_SECURITY},
)
async def introspect(
    request: Request,
    uow: UnitOfWorkDep,
    token: TokenForm,
    token_type_hint: HintForm = None,
    client_id: ClientIdForm = None,
    client_secret: ClientSecretForm = None,
) -> Introspection:
    """For API clients (HTTP Basic with their client credentials) and confidential OAuth
    clients. A token that is unknown, expired or revoked, or whose person or client was
    switched off, is `{"active": false}`."""
    caller = await _introspector(uow, request, client_id, client_secret)
    uow.audit.record("auth.introspect", "token", None, detail=f"by={caller}")
    if (claims := await _access_claims(uow, request, token)) is not None:
        family = uuid.UUID(claims["sid"]) if claims.get("sid") else None
        owner = await clients.family_client(uow, family)
        return Introspection(
            active=True,
            token_type="access_token",
            sub=claims["sub"],
            username=claims.get("preferred_username"),
            client_id=owner.client_id if owner else None,
            scope=claims.get("scope"),
            exp=claims["exp"],
            iat=claims["iat"],
            iss=claims["iss"],
            aud=claims["aud"],
            sid=claims.get("sid"),
            role=claims.get("role"),
        )
    stored = await _refresh_token(uow, token)
    if stored is None or stored.revoked_at is not None or stored.expires_at <= utcnow():
        return Introspection(active=False)
    user = await uow.session.get(User, stored.user_id)
    if user is None or not user.is_active:
        return Introspection(active=False)
    owner = await clients.family_client(uow, stored.family_id)
    return Introspection(
        active=True,
        token_type="refresh_token",
        sub=str(user.id),
        username=user.username,
        client_id=owner.client_id if owner else None,
        exp=int(stored.expires_at.timestamp()),
        sid=str(stored.family_id),
        role=user.role,
    )
