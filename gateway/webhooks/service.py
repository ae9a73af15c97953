"""Webhook rules: who manages which subscriptions, where they may point, deliveries, replays.

Every management action on subscriptions and the delivery log is audited.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, true, tuple_

from gateway.settings import GatewaySettings
from gateway.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from gateway.webhooks.schemas import (
    Attempt,
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from gateway.webhooks.signing import new_secret
from gateway.webhooks.targets import target_problem
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.outbox import EventResource
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork

MANAGE_SCOPE = "webhooks:manage"
SUBSCRIPTION = "webhook_subscription"
DELIVERY = "webhook_delivery"


def _require_manager(uow: UnitOfWork, principal: Principal, action: str, resource: str) -> None:
    if principal.role == Role.ADMIN:
        return
    if principal.role == Role.API_CLIENT and principal.has_scope(MANAGE_SCOPE):
        return
    uow.audit.record(action, resource, None, Outcome.DENIED)
    raise Forbidden(
        f"Webhooks are managed by administrators and by API clients with the {MANAGE_SCOPE} scope."
    )


def _owned_by(principal: Principal) -> ColumnElement[bool]:
    """Administrators see every subscription; an API client sees its own."""
    if principal.role == Role.ADMIN:
        return true()
    return WebhookSubscription.owner_id == principal.subject


async def _check_target(url: str, settings: GatewaySettings) -> None:
    problem = await target_problem(url, settings.webhook_allow_private_targets)
    if problem:
        raise Unprocessable(problem)


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The current secret, then the previous one while its rotation grace period lasts."""
    signing = [subscription.secret]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until and until > now:
        signing.append(subscription.previous_secret)
    return signing


def _view(subscription: WebhookSubscription) -> Subscription:
    return Subscription.model_validate(subscription)


def _with_secret(subscription: WebhookSubscription) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(**_view(subscription).model_dump(), secret=subscription.secret)


async def create_subscription(
    uow: UnitOfWork, principal: Principal, body: SubscriptionCreate, settings: GatewaySettings
) -> SubscriptionWithSecret:
    _require_manager(uow, principal, "webhook_subscription.create", SUBSCRIPTION)
    url = str(body.url)
    await _check_target(url, settings)
    subscription = WebhookSubscription(
        owner_id=principal.subject,
        organization_id=None if principal.role == Role.ADMIN else principal.organization_id,
        url=url,
        event_types=body.event_types,
        description=body.description,
        active=True,
        secret=new_secret(),
    )
    uow.session.add(subscription)
    await uow.session.flush()
    uow.audit.record("webhook_subscription.create", SUBSCRIPTION, subscription.id, detail=url)
    return _with_secret(subscription)


async def list_subscriptions(uow: UnitOfWork, principal: Principal) -> list[Subscription]:
    _require_manager(uow, principal, "webhook_subscription.list", SUBSCRIPTION)
    rows = await uow.session.scalars(
        select(WebhookSubscription)
        .where(_owned_by(principal))
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    subscriptions = [_view(row) for row in rows]
    uow.audit.record(
        "webhook_subscription.list", SUBSCRIPTION, None, detail=f"returned={len(subscriptions)}"
    )
    return subscriptions


async def _subscription(
    uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID, action: str
) -> WebhookSubscription:
    """The caller's subscription; someone else's is a 404, as if it did not exist."""
    _require_manager(uow, principal, action, SUBSCRIPTION)
    subscription = await uow.session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id, _owned_by(principal)
        )
    )
    if subscription is None:
        uow.audit.record(action, SUBSCRIPTION, subscription_id, Outcome.DENIED)
        raise NotFound(f"No webhook subscription {subscription_id}.")
    uow.audit.record(action, SUBSCRIPTION, subscription_id)
    return subscription


async def get_subscription(
    uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID
) -> Subscription:
    subscription = await _subscription(uow, principal, subscription_id, "webhook_subscription.read")
    return _view(subscription)


async def update_subscription(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    settings: GatewaySettings,
) -> Subscription:
    subscription = await _subscription(
        uow, principal, subscription_id, "webhook_subscription.update"
    )
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        changes["url"] = str(body.url)
        await _check_target(changes["url"], settings)
    for field, value in changes.items():
        setattr(subscription, field, value)
    await uow.session.flush()
    return _view(subscription)


async def delete_subscription(
    uow: UnitOfWork, principal: Principal, subscription_id: uuid.UUID
) -> None:
    """Deletes the subscription with its delivery log; pending deliveries are dropped."""
    subscription = await _subscription(
        uow, principal, subscription_id, "webhook_subscription.delete"
    )
    await uow.session.delete(subscription)
    await uow.session.flush()


async def rotate_secret(
    uow: UnitOfWork,
    principal: Principal,
    subscription_id: uuid.UUID,
    settings: GatewaySettings,
) -> SubscriptionWithSecret:
    """A new secret; deliveries carry signatures by both for `webhook_secret_grace` seconds,
    so the receiver can switch without refusing any. A second rotation within the grace
    period ends the first one's."""
    subscription = await _subscription(
        uow, principal, subscription_id, "webhook_subscription.rotate_secret"
    )
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = utcnow() + timedelta(seconds=settings.webhook_secret_grace)
    subscription.secret = new_secret()
    await uow.session.flush()
    return _with_secret(subscription)


def delivery_view(delivery: WebhookDelivery) -> Delivery:
    return Delivery(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        resource=EventResource(type=delivery.resource_type, id=delivery.resource_id),
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        replay_of=delivery.replay_of,
    )


@dataclass(frozen=True)
class DeliveryFilter:
    subscription_id: uuid.UUID | None = None
    status: DeliveryStatus | None = None
    event_type: str | None = None


async def list_deliveries(
    uow: UnitOfWork,
    principal: Principal,
    filters: DeliveryFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> DeliveryPage:
    """The caller's deliveries, newest first, keyset-paginated by (created_at, id)."""
    after = decode_cursor(cursor) if cursor else None
    _require_manager(uow, principal, "webhook_delivery.list", DELIVERY)
    query = (
        select(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(_owned_by(principal))
    )
    if filters.subscription_id:
        query = query.where(WebhookDelivery.subscription_id == filters.subscription_id)
    if filters.status:
        query = query.where(WebhookDelivery.status == filters.status)
    if filters.event_type:
        query = query.where(WebhookDelivery.event_type == filters.event_type)
    if after is not None:
        query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < after)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    rows = list((await uow.session.scalars(query.limit(limit + 1))).all())
    page = rows[:limit]
    uow.audit.record("webhook_delivery.list", DELIVERY, None, detail=f"returned={len(page)}")
    more = len(rows) > limit
    return DeliveryPage(
        items=[delivery_view(row) for row in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


async def _delivery(
    uow: UnitOfWork, principal: Principal, delivery_id: uuid.UUID, action: str
) -> tuple[WebhookDelivery, WebhookSubscription]:
    _require_manager(uow, principal, action, DELIVERY)
    row = (
        await uow.session.execute(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.id == delivery_id, _owned_by(principal))
        )
    ).one_or_none()
    if row is None:
        uow.audit.record(action, DELIVERY, delivery_id, Outcome.DENIED)
        raise NotFound(f"No webhook delivery {delivery_id}.")
    uow.audit.record(action, DELIVERY, delivery_id)
    delivery, subscription = row
    return delivery, subscription


async def get_delivery(
    uow: UnitOfWork, principal: Principal, delivery_id: uuid.UUID
) -> DeliveryDetail:
    delivery, _ = await _delivery(uow, principal, delivery_id, "webhook_delivery.read")
    attempts = await uow.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.at, WebhookAttempt.id)
    )
    return DeliveryDetail(
        **delivery_view(delivery).model_dump(),
        attempt_log=[Attempt.model_validate(attempt) for attempt in attempts],
    )


async def replay_delivery(
    uow: UnitOfWork, principal: Principal, delivery_id: uuid.UUID, settings: GatewaySettings
) -> Delivery:
    """A new delivery of the same event, due now, with its own retry window. Replays are not
    held back behind earlier deliveries of the resource: the event is old news by design."""
    original, subscription = await _delivery(uow, principal, delivery_id, "webhook_delivery.replay")
    if not subscription.active:
        raise Conflict("The subscription is paused; activate it before replaying.")
    now = utcnow()
    replay = WebhookDelivery(
        subscription_id=original.subscription_id,
        event_id=original.event_id,
        event_seq=original.event_seq,
        event_type=original.event_type,
        resource_type=original.resource_type,
        resource_id=original.resource_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        give_up_at=now + timedelta(seconds=settings.webhook_retry_window),
        created_at=now,
        is_replay=True,
        replay_of=original.id,
    )
    uow.session.add(replay)
    await uow.session.flush()
    uow.audit.record(
        "webhook_delivery.create", DELIVERY, replay.id, detail=f"replay_of={delivery_id}"
    )
    return delivery_view(replay)
