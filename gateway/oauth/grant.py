"""The token endpoint's `authorization_code` grant (RFC 6749 4.1.3 with PKCE, RFC 7636) and
what a sign-in started by an OAuth client keeps when its refresh token is used."""

import uuid
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, update

from gateway import auth
from gateway.accounts import sessions
from gateway.models import RefreshToken, User
from gateway.oauth import clients
from gateway.oauth.enums import Scope
from gateway.oauth.idtokens import ALGORITHM, IdTokenSigner
from gateway.oauth.models import AuthorizationCode, OAuthClient
from gateway.oauth.service import code_digest
from gateway.schemas import TokenResponse
from services.common.audit import Outcome
from services.common.db import utcnow
from services.common.errors import BadRequest
from services.common.uow import UnitOfWork

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _refuse(
    uow: UnitOfWork, request: Request, code: AuthorizationCode | None, why: str
) -> JSONResponse:
    """`invalid_grant`, answered (not raised) so the code stays spent and the denial is kept."""
    uow.audit.record(
        "auth.code", "user", code.user_id if code else None, Outcome.DENIED, detail=why
    )
    return auth._invalid_grant(request, "The authorization code is invalid, used or expired.")


async def _spend(uow: UnitOfWork, code: AuthorizationCode) -> bool:
    """Marks the code used, before anything else is checked: a code is tried once, whatever
    the outcome, and exactly one of two concurrent exchanges wins."""
    spent = await uow.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(AuthorizationCode.id)
        .execution_options(synchronize_session=False)
    )
    return spent.scalar_one_or_none() is not None


def id_token(
    request: Request,
    client: OAuthClient,
    code: AuthorizationCode,
    user: User,
    access: str,
    *,
    nonce: bool,
) -> str:
    """The ID token of the sign-in `code` started; `sid` names that sign-in (the refresh-token
    family, as the access tokens' `sid` does), so the client can tell which of its sessions
    a logout or a revocation concerns. On refresh (`nonce=False`) there is no nonce: OpenID
    Connect Core 12.2 asks none, and the client checks it only at sign-in."""
    signer: IdTokenSigner = request.app.state.id_token_signer
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "sid": str(code.family_id),
        "auth_time": int(code.auth_time.timestamp()),
        "name": user.full_name,
        "preferred_username": user.username,
        "at_hash": create_half_hash(access, ALGORITHM).decode(),
    }
    if nonce and code.nonce:
        claims["nonce"] = code.nonce
    if Scope.EMAIL in code.scopes and user.email:
        claims["email"] = user.email
    return signer.sign(claims, audience=client.client_id)


async def authorization_code_grant(
    uow: UnitOfWork,
    request: Request,
    *,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
    client_id: str | None,
    client_secret: str | None,
) -> JSONResponse:
    client_id, client_secret = clients.presented_credentials(request, client_id, client_secret)
    client = await clients.authenticate(uow, request, client_id, client_secret)
    if not code:
        raise BadRequest("code is required.", error="invalid_request")
    stored = await uow.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == code_digest(code))
    )
    if stored is None or stored.client_id != client.id:
        return _refuse(uow, request, None, f"unknown code client={client.client_id}")
    if stored.used_at is not None:
        # A code used twice was seen by someone else: what the first use issued ends too.
        if stored.family_id is not None:
            settings = request.app.state.settings
            await clients.end_sign_ins(uow, settings, [stored.family_id], "oauth.code_reuse")
        return _refuse(uow, request, stored, "code reused")
    if not await _spend(uow, stored):
        return _refuse(uow, request, stored, "code reused")
    if stored.expires_at <= utcnow():
        return _refuse(uow, request, stored, "code expired")
    if redirect_uri != stored.redirect_uri:
        return _refuse(uow, request, stored, "redirect_uri differs")
    if stored.code_challenge is not None and not (
        code_verifier and compare_s256_code_challenge(code_verifier, stored.code_challenge)
    ):
        return _refuse(uow, request, stored, "PKCE verifier does not match")
    user = await uow.session.get(User, stored.user_id)
    if user is None or not user.is_active:
        return _refuse(uow, request, stored, "user inactive")
    principal = await auth.principal_for_user(uow, user)
    principal = principal.model_copy(update={"scopes": frozenset(stored.scopes)})
    family = await sessions.started(uow, user, request, client_name=client.name)
    stored.family_id = family
    await uow.session.flush()
    tokens = await auth._issue(uow, request, principal, family=family)
    if Scope.OFFLINE_ACCESS not in stored.scopes:
        # Without offline_access the client gets no refresh token; the family still names
        # the sign-in (`sid`), so it can be revoked and introspected as the client's.
        await uow.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family)
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        tokens.refresh_token = None
    body = tokens.model_dump(exclude_none=True)
    if Scope.OPENID in stored.scopes:
        body["id_token"] = id_token(request, client, stored, user, tokens.access_token, nonce=True)
    uow.audit.record(
        "auth.code", "user", user.id, principal=principal, detail=f"client={client.client_id}"
    )
    return JSONResponse(body, headers=NO_STORE)


@dataclass(frozen=True)
class ClientSignIn:
    """A sign-in an OAuth client started: the client and the code that started it."""

    client: OAuthClient
    code: AuthorizationCode

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.code.scopes)

    def answer(self, request: Request, user: User, tokens: TokenResponse) -> JSONResponse:
        """The refresh's answer; with `openid`, a new ID token too (OpenID Connect Core 12.2):
        the same `sub`, `aud`, `sid` and `auth_time` as at sign-in, and no nonce."""
        body = tokens.model_dump()
        if Scope.OPENID in self.code.scopes:
            body["id_token"] = id_token(
                request, self.client, self.code, user, tokens.access_token, nonce=False
            )
        return JSONResponse(body, headers=NO_STORE)


async def refresh_client(
    uow: UnitOfWork, request: Request, family: uuid.UUID
) -> ClientSignIn | None:
    """Before a refresh token rotates: a sign-in an OAuth client started may be refreshed only
    by that client (a confidential one with its secret, RFC 6749 6), and keeps its scopes;
    None for a password sign-in, which stays as it is."""
    code = await uow.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.family_id == family)
    )
    client = await uow.session.get(OAuthClient, code.client_id) if code else None
    if code is None or client is None:
        return None
    form = await request.form()  # parsed once already for the endpoint's fields
    client_id, client_secret = clients.presented_credentials(
        request, _text(form.get("client_id")), _text(form.get("client_secret"))
    )
    if client_id != client.client_id:
        raise clients.InvalidClient("This refresh token belongs to another client.")
    await clients.authenticate(uow, request, client_id, client_secret)
    return ClientSignIn(client, code)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
