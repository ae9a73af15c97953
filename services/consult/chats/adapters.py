"""What consult needs of a chat channel: an update read as one message (inbound) and a text
sent to a chat (outbound). `telegram.py` is the one adapter so far."""

from dataclasses import dataclass
from typing import Protocol

from services.consult.chats.enums import SendOutcome


@dataclass(frozen=True)
class Inbound:
    """One message a person wrote in a chat, as the channel delivered it."""

    update_id: int  # the channel's number of the delivery: a redelivery repeats it
    chat_id: str
    message_id: str
    sender: str  # the person's name as the chat shows it
    text: str | None  # None: not text (a sticker, a photo), nothing to take in
    language: str | None  # the sender's BCP 47 language tag, when the channel knows it


@dataclass(frozen=True)
class Sent:
    """How sending one text ended: its id in the chat, or when to retry, or why not."""

    outcome: SendOutcome
    message_id: str | None = None
    retry_after: float | None = None  # seconds the channel asked us to wait
    error: str | None = None


class ChannelAdapter(Protocol):
    def parse(self, body: bytes) -> Inbound | None:
        """The update's message, None for an update that carries none (an edit, a member
        joining); a body that is no update of the channel's is a 422."""
        ...

    async def send(self, chat_id: str, text: str) -> Sent: ...
