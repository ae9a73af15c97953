"""Gateway persistence: directory, refresh tokens, failed sign-ins, revocations."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, new_metadata
from services.common.tables import define_kernel_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


kernel_tables = define_kernel_tables(Base.metadata)


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(8), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    working_hours: Mapped[list[dict[str, object]]] = mapped_column(JSON)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    # None for a person who exists only as a record (a patient registered by a registry) until
    # they are invited to sign in and choose a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    specialty: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How messages reach the person (gateway/notify/), in the language they read.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="ru", server_default="ru")
    # When the person last chose a password (None: never, or before this was recorded).
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiClient(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    # Marked by an administrator: only a service client may hold `video:rooms` (scopes.py).
    is_service: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class RefreshToken(IdMixin, Base):
    """Opaque refresh tokens, stored as hashes; each use rotates the token. Every token that
    descends from one sign-in shares its `family_id`, the `sid` of its access tokens."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Serves the revocation of a whole family when one of its used tokens comes back.
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(IdMixin, Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    # A username, or `client:<client_id>` for an API client's failed client_credentials.
    username: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Revocation(IdMixin, Base):
    """A user, API client or sign-in (refresh-token family) whose access tokens issued up to
    `revoked_at` are refused everywhere; kept for one access-token lifetime (revocations.py)."""

    __tablename__ = "revocations"

    subject: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    # Serves the published list: the revocations of the last access-token lifetime.
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
