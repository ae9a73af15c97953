"""Persistence of the chat channels: which territory each bot's chats speak for, the chats a bot
has heard from, which appeal a chat's conversation is, and the updates already taken in."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.consult.chats.enums import ChatChannel
from services.consult.db import Base

# The chat id a bot's binding has for every chat that has no binding of its own.
EVERY_CHAT = "*"


class ChatBinding(IdMixin, TimestampMixin, Base):
    """A bot's chat (or all of its chats, `*`) speaks for a territory of a region: its
    messages become appeals routed by that territory."""

    __tablename__ = "chat_bindings"
    __table_args__ = (UniqueConstraint("bot", "chat_id", name="uq_chat_bindings_bot_chat_id"),)

    channel: Mapped[ChatChannel] = mapped_column(string_enum(ChatChannel))
    bot: Mapped[str] = mapped_column(String(64))  # the bot's name in the settings (`chat_bots`)
    chat_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(8))
    territory_code: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[uuid.UUID] = mapped_column(Uuid)


class Chat(Base):
    """A chat a bot has heard from. A message of the chat is taken in with its row locked, so
    two of its messages delivered at once are taken in one after the other: the second finds
    the appeal the first opened instead of opening another."""

    __tablename__ = "chats"

    bot: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatConversation(Base):
    """The chat an appeal came from, where its thread's replies go."""

    __tablename__ = "chat_conversations"
    __table_args__ = (
        # A chat's latest appeal: a new message joins it while it is open.
        Index("ix_chat_conversations_chat", "bot", "chat_id", "started_at"),
    )

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"), primary_key=True)
    channel: Mapped[ChatChannel] = mapped_column(string_enum(ChatChannel))
    bot: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatUpdate(Base):
    """An update a bot's server delivered, taken in once: a redelivery finds it and adds
    nothing. Forgotten after the retention (`redelivery.py`)."""

    __tablename__ = "chat_updates"
    __table_args__ = (
        # The pruning job: updates taken in before the retention.
        Index("ix_chat_updates_received_at", "received_at"),
    )

    bot: Mapped[str] = mapped_column(String(64), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id"), nullable=True)
