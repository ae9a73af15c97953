"""The authorization endpoint's rules: which requests are answered on a page and which go back
to the client, consent, and the one-time codes.

Authlib's `AuthorizationServer` and grants call their storage hooks (`query_client`,
`save_authorization_code`, ...) synchronously, while every query here is async SQLAlchemy in
the request's unit of work; so the protocol runs in these few functions, and Authlib supplies
the pieces that need no storage: PKCE's S256 transform and the code challenge's grammar.
"""

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN
from sqlalchemy import delete, select

from gateway.models import User
from gateway.oauth.browser import SignIn, password_stamp
from gateway.oauth.clients import RESOURCE, active_client
from gateway.oauth.enums import ALL_SCOPES
from gateway.oauth.models import AuthorizationCode, OAuthClient, OAuthConsent
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.db import utcnow
from services.common.uow import UnitOfWork

MAX_STATE = 1000
MAX_NONCE = 255


class PageError(Exception):
    """A request that must not go back to the client (its client or redirect URI is not
    registered): the person sees a page instead (RFC 6749 4.1.2.1)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # a key of the pages' texts


class RedirectError(Exception):
    """An error answered to the client at its registered redirect URI."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(description)
        self.error, self.description = error, description
        self.redirect_uri, self.state = redirect_uri, state


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompt: set[str] = field(default_factory=set)


def issuer(settings: GatewaySettings) -> str:
    """The OpenID issuer: the gateway's public URL, as discovery and ID tokens name it."""
    return settings.public_url.rstrip("/")


def with_params(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` added to its query, keeping what it already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def validate(uow: UnitOfWork, params: Mapping[str, str]) -> AuthorizationRequest:
    """The client and redirect URI first: until both are known good, nothing may redirect."""
    client = await active_client(uow, params.get("client_id"))
    if client is None:
        raise PageError("unknown_client")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        raise PageError("unregistered_redirect_uri")
    state, nonce = params.get("state"), params.get("nonce")

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri, state[:MAX_STATE] if state else None)

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    scopes = sorted(set(params.get("scope", "").split()))
    if not scopes:
        raise fail("invalid_scope", "Name the scopes asked for (openid, ...).")
    refused = [scope for scope in scopes if scope not in ALL_SCOPES or scope not in client.scopes]
    if refused:
        raise fail("invalid_scope", f"This client may not ask for {refused[0]!r}.")
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None and method is None and client.secret_hash is not None:
        pass  # a confidential client proves itself with its secret; PKCE is its choice
    elif method != "S256":
        raise fail(
            "invalid_request", "PKCE with code_challenge_method=S256 is required; plain is not."
        )
    elif challenge is None or not CODE_CHALLENGE_PATTERN.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be 43-128 URL-safe characters.")
    if (state and len(state) > MAX_STATE) or (nonce and len(nonce) > MAX_NONCE):
        raise fail("invalid_request", "state or nonce is too long.")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        prompt=set(params.get("prompt", "").split()),
    )


async def signed_in_user(uow: UnitOfWork, session: SignIn | None) -> User | None:
    """The browser's user, while they are active and have the password they signed in with."""
    if session is None:
        return None
    user = await uow.session.get(User, session.user_id)
    if user is None or not user.is_active:
        return None
    return user if password_stamp(user.password_hash) == session.password else None


async def needs_consent(uow: UnitOfWork, ask: AuthorizationRequest, user: User) -> bool:
    if ask.client.first_party:
        return False
    consent = await uow.session.scalar(
        select(OAuthConsent).where(
            OAuthConsent.user_id == user.id, OAuthConsent.client_id == ask.client.id
        )
    )
    return consent is None or not set(ask.scopes) <= set(consent.scopes)


async def remember_consent(uow: UnitOfWork, ask: AuthorizationRequest, user: User) -> None:
    consent = await uow.session.scalar(
        select(OAuthConsent).where(
            OAuthConsent.user_id == user.id, OAuthConsent.client_id == ask.client.id
        )
    )
    if consent is None:
        uow.session.add(OAuthConsent(user_id=user.id, client_id=ask.client.id, scopes=ask.scopes))
    else:
        consent.scopes = sorted(set(consent.scopes) | set(ask.scopes))
    await uow.session.flush()
    uow.audit.record("oauth.consent", RESOURCE, ask.client.id, detail=" ".join(ask.scopes))


def refused_consent(uow: UnitOfWork, ask: AuthorizationRequest) -> RedirectError:
    uow.audit.record("oauth.consent", RESOURCE, ask.client.id, Outcome.DENIED)
    return RedirectError(
        "access_denied", "The person did not allow the request.", ask.redirect_uri, ask.state
    )


async def issue_code(
    uow: UnitOfWork,
    settings: GatewaySettings,
    ask: AuthorizationRequest,
    user: User,
    auth_time: int,
) -> str:
    """A one-time code for the client, stored as its digest; returns the redirect to it."""
    now = utcnow()
    # Codes are kept for their sign-in's lifetime (models.AuthorizationCode); older ones go.
    await uow.session.execute(
        delete(AuthorizationCode).where(
            AuthorizationCode.expires_at < now - timedelta(seconds=settings.refresh_token_seconds)
        )
    )
    code = secrets.token_urlsafe(32)
    uow.session.add(
        AuthorizationCode(
            code_hash=code_digest(code),
            client_id=ask.client.id,
            user_id=user.id,
            redirect_uri=ask.redirect_uri,
            scopes=ask.scopes,
            nonce=ask.nonce,
            code_challenge=ask.code_challenge,
            auth_time=datetime.fromtimestamp(auth_time, UTC),
            expires_at=now + timedelta(seconds=settings.authorization_code_seconds),
        )
    )
    await uow.session.flush()
    uow.audit.record("oauth.authorize", RESOURCE, ask.client.id, detail=f"user={user.id}")
    return with_params(
        ask.redirect_uri, {"code": code, "state": ask.state, "iss": issuer(settings)}
    )


def error_redirect(settings: GatewaySettings, error: RedirectError) -> str:
    return with_params(
        error.redirect_uri,
        {
            "error": error.error,
            "error_description": error.description,
            "state": error.state,
            "iss": issuer(settings),
        },
    )
