"""Persistence of sign-in: OAuth clients, remembered consents, authorization codes and the
identities of people at a federated provider."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import Base
from services.common.db import IdMixin, TimestampMixin, UTCDateTime


class OAuthClient(IdMixin, TimestampMixin, Base):
    """An application people sign in to with the authorization code flow."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # Compared exactly, never by prefix: a partial match lets a code leak to another path.
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    # None for a public client (a browser or mobile app, which cannot keep a secret): PKCE
    # alone binds its codes.
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    # Telemed's own applications: no consent page.
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class OAuthConsent(IdMixin, TimestampMixin, Base):
    """The scopes a person allowed a third-party client; asked again only for more."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)


class AuthorizationCode(IdMixin, Base):
    """A one-time code, stored as its SHA-256 digest. Once exchanged it names the sign-in it
    started (`family_id`, the refresh-token family), so the sign-in is known as the client's
    (revocation, introspection, refresh) and a second use of the code can end it; kept for the
    refresh tokens' lifetime, then pruned."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    # Serves the pruning of codes past the refresh tokens' lifetime.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Serves finding a sign-in's client when its tokens are refreshed, revoked or introspected.
    family_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)


class FederatedIdentity(IdMixin, TimestampMixin, Base):
    """A person at an external OpenID provider (issuer and subject) who is a directory user."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
