"""The relay's consumer for people: each newly stored event becomes the messages it owes, in
the relay's own transaction, so they exist exactly when the event is stored (once per event
id: an event the relay sees again is not stored again, and message keys repeat anyway)."""

import logging
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.notify.producers import cases, home_visits, visits
from gateway.notify.producers.context import Links, Producing
from services.common.outbox import EventType, OutboxEvent

logger = logging.getLogger("telemed.notify")
Producer = Callable[[Producing], Awaitable[int]]
PRODUCERS: dict[str, Producer] = {
    EventType.APPOINTMENT_BOOKED: visits.booked,
    EventType.APPOINTMENT_CANCELLED: visits.cancelled,
    EventType.APPOINTMENT_REMINDER_DUE: visits.reminder_due,
    EventType.CASE_SUBMITTED: cases.submitted,
    EventType.CASE_CONCLUDED: cases.concluded,
    EventType.CASE_INFO_REQUESTED: cases.info_requested,
    EventType.CASE_DEADLINE_SOON: cases.deadline_soon,
    EventType.HOME_VISIT_REQUESTED: home_visits.requested,
}
# The services whose events can become messages: the relay reads them at its normal pace
# while anyone could be told, subscribers or not (`gateway/webhooks/relay.py`).
NOTIFY_SOURCES = frozenset({"consult", "scheduling"})


class MessageProducer:
    """Turns relayed events into messages (`gateway/notify/outbox.py`), which notify's
    delivery then sends."""

    def __init__(self, links: Links) -> None:
        self.links = links

    async def produce(self, session: AsyncSession, event: OutboxEvent) -> int:
        """Queues the event's messages in `session`; returns how many were new."""
        producer = PRODUCERS.get(event.type)
        if producer is None:
            return 0
        try:
            return await producer(Producing(session, event, self.links))
        except ValidationError as exc:
            # An event of an older or newer shape must not hold the relay (and every webhook
            # behind it) up: it is passed over, and said so.
            logger.warning("notify: no message from %s event %s: %s", event.type, event.id, exc)
            return 0
