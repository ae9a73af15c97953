"""Accounts persistence: sign-ins (one per refresh-token family) and one-time password links."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.accounts.enums import LinkPurpose
from gateway.models import Base
from services.common.db import IdMixin, UTCDateTime, string_enum


class SignIn(Base):
    """A person's sign-in: its id is the refresh-token family every token of it shares, the
    `sid` of its access tokens, so ending it names exactly those tokens."""

    __tablename__ = "sign_ins"
    __table_args__ = (
        # Serves a person's sign-ins: the active ones listed, the recent ones compared with a
        # new sign-in's address and browser.
        Index("ix_sign_ins_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Moved on each refresh: with the refresh tokens' lifetime it says whether it can go on.
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255))
    # The application signed in to through the authorization code flow; None for the token
    # endpoint's password grant.
    client_name: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordLink(IdMixin, Base):
    """A one-time link that lets its holder choose the person's password. Only the token's
    SHA-256 is stored; a used link stays (`used_at`) so a second use is told it was used,
    until the person's next link replaces it."""

    __tablename__ = "password_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Serves voiding a person's older links when a new one is issued.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(string_enum(LinkPurpose))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
