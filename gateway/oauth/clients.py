"""OAuth clients: registered by administrators (or `telemed admin create-oauth-client`), found
and authenticated when they ask for codes and tokens."""

import secrets
import uuid

from fastapi import Request
from sqlalchemy import select, update

from gateway import revocations, signin
from gateway.auth import SecretHasher, basic_credentials, secret_hasher
from gateway.models import RefreshToken
from gateway.oauth import schemas
from gateway.oauth.models import AuthorizationCode, OAuthClient
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.db import utcnow
from services.common.errors import BadRequest, ProblemError, Unauthorized
from services.common.uow import UnitOfWork

RESOURCE = "oauth_client"


class InvalidClient(ProblemError):
    """RFC 6749 5.2 `invalid_client`: the client is unknown or its secret is wrong."""

    status, slug = 401, "invalid-client"

    def __init__(self, detail: str = "The client is unknown or its credentials are wrong.") -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Basic realm="telemed"'}, error="invalid_client"
        )


def view(client: OAuthClient) -> schemas.OAuthClient:
    return schemas.OAuthClient(
        id=client.id,
        client_id=client.client_id,
        name=client.name,
        redirect_uris=client.redirect_uris,
        post_logout_redirect_uris=client.post_logout_redirect_uris,
        confidential=client.secret_hash is not None,
        first_party=client.first_party,
        scopes=client.scopes,
        is_active=client.is_active,
    )


async def register(
    uow: UnitOfWork,
    hasher: SecretHasher,
    body: schemas.OAuthClientCreate,
    *,
    client_id: str | None = None,
) -> schemas.OAuthClientCreated:
    """A new client; a confidential one gets a secret, returned here and never again."""
    secret = secrets.token_urlsafe(32) if body.confidential else None
    client = OAuthClient(
        client_id=client_id or f"tmo_{uuid.uuid4().hex[:16]}",
        name=body.name,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        secret_hash=await hasher.hash(secret) if secret else None,
        first_party=body.first_party,
        scopes=body.scopes,
    )
    uow.session.add(client)
    await uow.session.flush()
    uow.audit.record("oauth_client.create", RESOURCE, client.id, detail=client.client_id)
    return schemas.OAuthClientCreated(**view(client).model_dump(), client_secret=secret)


async def active_client(uow: UnitOfWork, client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    client = await uow.session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id[:64])
    )
    return client if client is not None and client.is_active else None


def presented_credentials(
    request: Request, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None]:
    """`client_secret_basic` or `client_secret_post` (RFC 6749 2.3.1); both at once is refused.
    Basic is decoded as for API clients (gateway/auth.py), form-urlencoding included."""
    try:
        basic = basic_credentials(request)
    except Unauthorized as exc:
        raise InvalidClient(exc.detail) from exc
    if basic is None:
        return client_id, client_secret
    if client_secret:
        raise BadRequest("Send the client's credentials one way only.", error="invalid_request")
    return basic


async def authenticate(
    uow: UnitOfWork, request: Request, client_id: str | None, client_secret: str | None
) -> OAuthClient:
    """The client making a token, revocation or introspection request: a public client names
    itself; a confidential one proves its secret, throttled like API clients' secrets (and
    checked outside any transaction, as in gateway/auth.py)."""
    client = await active_client(uow, client_id)
    if client is None or client_id is None:
        raise InvalidClient()
    if client.secret_hash is None:
        if client_secret:
            raise InvalidClient("A public client has no secret.")
        return client
    if not client_secret:
        raise InvalidClient("This client must authenticate with its secret.")
    settings: GatewaySettings = request.app.state.settings
    account = signin.client_account(client_id)
    address = request.client.host if request.client else "unknown"
    await signin.admit(uow.session, settings, account, address, utcnow())
    await uow.session.commit()
    if not await secret_hasher(request).verify(client.secret_hash, client_secret):
        uow.audit.record("auth.oauth_client", RESOURCE, client.id, Outcome.DENIED)
        raise InvalidClient()
    await signin.succeeded(uow.session, account, address)
    return client


async def end_sign_ins(
    uow: UnitOfWork, settings: GatewaySettings, families: list[uuid.UUID], reason: str
) -> None:
    """Every token of these sign-ins stops: refresh tokens at once, access tokens everywhere
    within seconds (the revocation list)."""
    now = utcnow()
    for family in families:
        await uow.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        await revocations.revoke(uow.session, settings, family, reason, now)


async def client_families(uow: UnitOfWork, client: OAuthClient) -> list[uuid.UUID]:
    """The sign-ins this client started (within the refresh tokens' lifetime)."""
    rows = await uow.session.scalars(
        select(AuthorizationCode.family_id).where(
            AuthorizationCode.client_id == client.id, AuthorizationCode.family_id.is_not(None)
        )
    )
    return [family for family in rows if family is not None]


async def family_client(uow: UnitOfWork, family: uuid.UUID | None) -> OAuthClient | None:
    """The client whose code started this sign-in; None for a password sign-in."""
    if family is None:
        return None
    return await uow.session.scalar(
        select(OAuthClient)
        .join(AuthorizationCode, AuthorizationCode.client_id == OAuthClient.id)
        .where(AuthorizationCode.family_id == family)
    )
