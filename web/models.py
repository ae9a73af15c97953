"""Persistence of the console: browser sessions, shared by every web replica."""

import uuid
from datetime import datetime

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import IdMixin, UTCDateTime, new_metadata, utcnow
from services.common.tables import define_kernel_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)


class BrowserSession(IdMixin, Base):
    """One browser's session: found by the digest of its cookie (the cookie's value is never
    stored), it holds the person's tokens encrypted (web/crypto.py) so that they never reach
    the browser. Before sign-in completes it holds the authorization request's state."""

    __tablename__ = "browser_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Pruning deletes the sessions past this; every lookup also checks it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str] = mapped_column(String(2))
    csrf_secret: Mapped[str] = mapped_column(String(64))

    # The authorization request under way (RFC 6749 state, OIDC nonce, RFC 7636 verifier) and
    # the page to return to; cleared when the callback has used them.
    oauth_state: Mapped[str | None] = mapped_column(String(64))
    oauth_nonce: Mapped[str | None] = mapped_column(String(64))
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    return_to: Mapped[str | None] = mapped_column(String(2048))

    # Set once signed in.
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    access_token: Mapped[str | None] = mapped_column(Text)  # Fernet token
    refresh_token: Mapped[str | None] = mapped_column(Text)  # Fernet token
    # The ID token of the sign-in (Fernet token), shown back to the gateway as `id_token_hint`
    # on signing out, so its sign-in ends without a confirmation page.
    id_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What every page's header shows, read from the directory at sign-in and kept up to date
    # by the account page, so a page view costs no directory call.
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(32))
    organization_name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(64))

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None
