"""Browser sessions: a random cookie whose digest finds the row, the tokens sealed in it, the
CSRF secret of its forms, and the access token renewed on the server before it runs out.

Each step is a short transaction of its own, never one around a call to the gateway, except
the renewal: it holds the session's row locked while it spends the refresh token, because the
gateway treats a refresh token used twice as stolen and ends the whole sign-in. Two requests
of one browser (or two replicas) renewing at once would do exactly that; with the lock the
second finds the new tokens instead.
"""

import hashlib
import logging
import secrets
import uuid
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select

from services.common.db import Database, utcnow
from services.common.keys import same_secret
from web.crypto import TokenBox
from web.gateway_api import Me, Organization, Tokens
from web.models import BrowserSession
from web.oidc import AuthorizationRequest, Provider
from web.settings import WebSettings

logger = logging.getLogger("telemed.web.sessions")
COOKIE = "telemed_console"
# With `Secure`, the `__Host-` prefix makes the browser refuse the cookie unless it is also
# host-only with `Path=/`: no sibling host or other path can plant or shadow it.
SECURE_COOKIE = "__Host-" + COOKIE


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionExpired(Exception):
    """The gateway refused to renew the session's tokens: it has been ended here too."""


class SessionStore:
    def __init__(self, database: Database, settings: WebSettings, box: TokenBox) -> None:
        self.database = database
        self.settings = settings
        self.box = box
        self.secure = settings.secure_cookies()
        self.cookie = SECURE_COOKIE if self.secure else COOKIE

    # The cookie ----------------------------------------------------------------------------

    def set_cookie(self, response: Response, token: str) -> None:
        """A browser-session cookie (no expiry of its own: closing the browser ends it on a
        shared hospital computer); the row's `expires_at` bounds it on the server."""
        response.set_cookie(
            self.cookie, token, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    # Rows --------------------------------------------------------------------------------

    async def load(self, request: Request) -> BrowserSession | None:
        token = request.cookies.get(self.cookie)
        if not token:
            return None
        async with self.database.sessionmaker() as session:
            row = await session.scalar(
                select(BrowserSession).where(BrowserSession.token_hash == digest(token))
            )
        if row is None or row.expires_at <= utcnow():
            return None
        return row

    async def begin_sign_in(
        self,
        row: BrowserSession | None,
        language: str,
        authorization: AuthorizationRequest,
        return_to: str,
    ) -> tuple[BrowserSession, str]:
        """Keeps the authorization request in a new session (a signed-in one is replaced:
        signing in again is signing in as whoever the gateway says). Returns the row and the
        cookie's new value."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        fresh = BrowserSession(
            token_hash=digest(token),
            expires_at=now + timedelta(minutes=self.settings.sign_in_minutes),
            created_at=now,
            language=language,
            csrf_secret=secrets.token_urlsafe(32),
            oauth_state=authorization.state,
            oauth_nonce=authorization.nonce,
            code_verifier=authorization.code_verifier,
            return_to=return_to,
        )
        async with self.database.sessionmaker() as session:
            if row is not None:
                await session.execute(delete(BrowserSession).where(BrowserSession.id == row.id))
            session.add(fresh)
            await session.commit()
        return fresh, token

    async def complete_sign_in(
        self,
        row: BrowserSession,
        tokens: Tokens,
        me: Me,
        organization: Organization | None,
    ) -> str:
        """The person is signed in: their tokens sealed in the row, under a new cookie value
        and a new CSRF secret, so nothing known before sign-in works after it (session
        fixation). Returns the cookie's value."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        async with self.database.sessionmaker() as session:
            stored = await session.get(BrowserSession, row.id, with_for_update=True)
            if stored is None:
                raise SessionExpired()
            stored.token_hash = digest(token)
            stored.csrf_secret = secrets.token_urlsafe(32)
            stored.oauth_state = stored.oauth_nonce = stored.code_verifier = None
            stored.expires_at = now + timedelta(hours=self.settings.session_hours)
            stored.user_id = me.id
            self._keep_tokens(stored, tokens, now)
            self._keep_person(stored, me, organization)
            if me.language:
                stored.language = me.language
            await session.commit()
        return token

    def _keep_tokens(self, row: BrowserSession, tokens: Tokens, now: datetime) -> None:
        row.access_token = self.box.seal(tokens.access_token)
        if tokens.refresh_token:  # a refresh may answer without a new one: the old one stays
            row.refresh_token = self.box.seal(tokens.refresh_token)
        if tokens.id_token:  # the newest, so it is recent when the gateway is shown it back
            row.id_token = self.box.seal(tokens.id_token)
        row.access_expires_at = now + timedelta(seconds=tokens.expires_in)

    @staticmethod
    def _keep_person(row: BrowserSession, me: Me, organization: Organization | None) -> None:
        row.full_name, row.role = me.full_name, me.role
        row.organization_name = organization.name if organization else None
        row.timezone = organization.timezone if organization else None

    async def update_person(
        self, row: BrowserSession, me: Me, organization: Organization | None
    ) -> None:
        async with self.database.sessionmaker() as session:
            stored = await session.get(BrowserSession, row.id)
            if stored is not None:
                self._keep_person(stored, me, organization)
                if me.language:
                    stored.language = me.language
                await session.commit()

    async def set_language(self, row: BrowserSession, language: str) -> None:
        async with self.database.sessionmaker() as session:
            stored = await session.get(BrowserSession, row.id)
            if stored is not None:
                stored.language = language
                await session.commit()

    async def end(self, row: BrowserSession) -> None:
        async with self.database.sessionmaker() as session:
            await session.execute(delete(BrowserSession).where(BrowserSession.id == row.id))
            await session.commit()

    async def prune(self) -> int:
        """Deletes the sessions past their end; returns how many."""
        async with self.database.sessionmaker() as session:
            result = await session.execute(
                delete(BrowserSession)
                .where(BrowserSession.expires_at <= utcnow())
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult

    # Tokens ------------------------------------------------------------------------------

    def refresh_token(self, row: BrowserSession) -> str | None:
        return self.box.open(row.refresh_token) if row.refresh_token else None

    def id_token(self, row: BrowserSession) -> str | None:
        return self.box.open(row.id_token) if row.id_token else None

    async def access_token(self, row: BrowserSession, provider: Provider) -> str:
        """The session's access token, renewed first if it runs out within the margin.
        Raises `SessionExpired` (the row deleted) when the gateway refuses to renew it or the
        stored tokens cannot be read."""
        margin = timedelta(seconds=self.settings.refresh_margin_seconds)
        if row.access_token and row.access_expires_at and row.access_expires_at - margin > utcnow():
            token = self.box.open(row.access_token)
            if token is not None:
                return token
        return await self._renew(row.id, provider, margin)

    async def _renew(self, row_id: uuid.UUID, provider: Provider, margin: timedelta) -> str:
        async with self.database.sessionmaker() as session:
            stored = await session.get(BrowserSession, row_id, with_for_update=True)
            if stored is None or stored.user_id is None:
                raise SessionExpired()
            now = utcnow()
            fresh = stored.access_expires_at and stored.access_expires_at - margin > now
            if fresh and stored.access_token:  # another request renewed it meanwhile
                token = self.box.open(stored.access_token)
                if token is not None:
                    return token
            refresh = self.refresh_token(stored)
            tokens = None
            if refresh is not None:
                tokens = await provider.api.refresh(
                    await provider.discovery(), provider.credentials(), refresh
                )
            if tokens is None:
                await session.delete(stored)
                await session.commit()
                logger.info("a session ended: the gateway refused to renew its tokens")
                raise SessionExpired()
            self._keep_tokens(stored, tokens, now)
            await session.commit()
            return tokens.access_token

    def csrf_valid(self, row: BrowserSession, token: str | None) -> bool:
        return bool(token) and same_secret(row.csrf_secret, token or "")
