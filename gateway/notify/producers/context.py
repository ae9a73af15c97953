"""What a producer works with: the event being relayed, the relay's session, and the links."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import User
from gateway.notify.enums import Template
from gateway.notify.outbox import enqueue
from gateway.visits.links import VisitLinks
from services.common.outbox import OutboxEvent


@dataclass(frozen=True)
class Links:
    """Where messages point people: the patient's visit links, and the console's pages."""

    visits: VisitLinks
    public_url: str

    def case(self, case_id: object) -> str:
        # The web console's case page (its URL shape is the contract with the console).
        return f"{self.public_url.rstrip('/')}/cases/{case_id}"


@dataclass(frozen=True)
class Producing:
    session: AsyncSession
    event: OutboxEvent
    links: Links

    async def tell(self, person: User, template: Template, params: Mapping[str, Any]) -> int:
        """Queues the message once per (event, person, template): a relayed event seen again
        adds nothing. Returns how many were new (0 or 1)."""
        key = f"{self.event.id}:{person.id}:{template.value}"
        new = await enqueue(
            self.session, recipient_id=person.id, template=template, params=params, key=key
        )
        return int(new)
