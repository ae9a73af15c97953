"""The chat channels consult speaks, and how an attempt to send a message there ended."""

from enum import StrEnum


class ChatChannel(StrEnum):
    TELEGRAM = "telegram"


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the chat's server is busy or unreachable: try again later
    REFUSED = "refused"  # for good: the bot was blocked, the chat is gone
    # The channel refuses the bot itself (its token wrong or revoked, or it is not configured):
    # no fault of the message, so it waits, retried, until an administrator sets the token.
    BOT_REFUSED = "bot_refused"
