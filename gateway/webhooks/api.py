"""HTTP routes of webhooks under `/api/webhooks`: subscriptions and the delivery log."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from gateway.settings import GatewaySettings
from gateway.webhooks import service
from gateway.webhooks.models import DeliveryStatus
from gateway.webhooks.schemas import (
    EVENT_TYPES,
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import ShownOnce, idempotent, location
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep

PREFIX = "/api/webhooks"
SUBSCRIPTION = "/subscriptions/{subscription_id}"
router = APIRouter(prefix=PREFIX, tags=["webhooks"])
SECRET = ShownOnce(
    frozenset({"secret"}),
    f"Rotate it: POST {PREFIX}{SUBSCRIPTION}/rotate-secret.",
)
WHO = (
    "For administrators (every subscription) and API clients with the `webhooks:manage` scope "
    "(their own; they receive only events of their organisation)."
)


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]


def _wake_dispatcher(request: Request) -> None:
    dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionWithSecret,
    summary="Subscribe a URL to events (the signing secret is shown once)",
    description=f"{WHO} Event types: {', '.join(f'`{t}`' for t in EVENT_TYPES)}. Deliveries "
    "are signed with the returned `secret` per Standard Webhooks (`webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`: docs/webhooks.md). Send `Idempotency-Key` "
    "to retry safely; the secret is not kept, so a retry after the first answer is a 410 "
    "naming the subscription in `created`.",
    responses=problem_responses(401, 403, 410, 422),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def create_subscription(
    request: Request,
    body: SubscriptionCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Any:
    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        lambda: service.create_subscription(uow, principal, body, settings),
        headers=location(PREFIX + "/subscriptions/{id}"),
        shown_once=SECRET,
    )


@router.get(
    "/subscriptions",
    response_model=list[Subscription],
    summary="List subscriptions",
    description=WHO,
    responses=problem_responses(401, 403),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def list_subscriptions(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> list[Subscription]:
    return await service.list_subscriptions(uow, principal)


@router.get(
    SUBSCRIPTION,
    response_model=Subscription,
    summary="One subscription",
    description=f"{WHO} Another organisation's subscription is a 404, as if it did not "
    "exist; the signing secret is never shown again.",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def get_subscription(
    subscription_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Subscription:
    return await service.get_subscription(uow, principal, subscription_id)


@router.patch(
    SUBSCRIPTION,
    response_model=Subscription,
    summary="Change a subscription's URL, event types or description, or pause it",
    description="`active: false` pauses deliveries: they wait, and fail when their retry "
    "window ends; `active: true` resumes them.",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    background: BackgroundTasks,
    request: Request,
) -> Subscription:
    updated = await service.update_subscription(uow, principal, subscription_id, body, settings)
    background.add_task(_wake_dispatcher, request)  # resumed deliveries go out at once
    return updated


@router.delete(
    SUBSCRIPTION,
    status_code=204,
    summary="Delete a subscription with its delivery log",
    description=f"{WHO} Pending deliveries are dropped with the log, and nothing more is "
    "sent to the URL. Another organisation's subscription is a 404. To stop for a while "
    "instead, PATCH `active: false`.",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def delete_subscription(
    subscription_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    await service.delete_subscription(uow, principal, subscription_id)
    return Response(status_code=204)


@router.post(
    SUBSCRIPTION + "/rotate-secret",
    response_model=SubscriptionWithSecret,
    summary="Issue a new signing secret (the old one keeps signing during a grace period)",
    description="During the grace period (`webhook_secret_grace`, a day by default) every "
    "delivery carries two `v1,` signatures, by the new and by the previous secret.",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def rotate_secret(
    subscription_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> SubscriptionWithSecret:
    return await service.rotate_secret(uow, principal, subscription_id, settings)


@router.get(
    "/deliveries",
    response_model=DeliveryPage,
    summary="The delivery log, newest first",
    description=f"{WHO} Pass `next_cursor` as `cursor` for older entries.",
    responses=problem_responses(400, 401, 403),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def list_deliveries(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    subscription_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DeliveryPage:
    filters = service.DeliveryFilter(
        subscription_id=subscription_id, status=status, event_type=event_type
    )
    return await service.list_deliveries(uow, principal, filters, limit=limit, cursor=cursor)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery with every attempt",
    description=f"{WHO} The delivery's state, the event it carries, and each attempt's time, "
    "HTTP status and error, to find out why a receiver missed an event. A delivery of "
    "another organisation's subscription is a 404.",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def get_delivery(
    delivery_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> DeliveryDetail:
    return await service.get_delivery(uow, principal, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=Delivery,
    summary="Send a delivery's event again, as a new delivery due now",
    description=f"{WHO} For a receiver that lost or failed an event: the same event (same "
    "`webhook-id`, so a receiver that keeps ids ignores a duplicate) goes out as a new "
    "delivery with its own retry window; the original stays in the log. A paused "
    "subscription is a 409, another organisation's delivery a 404.",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=client_scopes(service.MANAGE_SCOPE),
)
async def replay_delivery(
    delivery_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    background: BackgroundTasks,
    request: Request,
) -> Delivery:
    replay = await service.replay_delivery(uow, principal, delivery_id, settings)
    background.add_task(_wake_dispatcher, request)  # after the commit, so it finds the replay
    return replay
