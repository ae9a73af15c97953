"""What every channel is to the delivery worker: `send(outgoing)`, the provider's id of what
it accepted, or a `SendError` saying whether trying again may help."""

import uuid
from dataclasses import dataclass
from typing import Protocol

from gateway.notify.templates import Rendered


@dataclass(frozen=True)
class Outgoing:
    delivery_id: uuid.UUID  # stable across attempts: the email's Message-ID is made of it
    address: str
    recipient_name: str
    rendered: Rendered


class SendError(Exception):
    """`retry`: a passing failure (the server down, busy, out of credit); otherwise this
    message will never be accepted as it is (a refused address, a forbidden text)."""

    def __init__(self, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry


class Sender(Protocol):
    async def send(self, outgoing: Outgoing) -> str: ...
