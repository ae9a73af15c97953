"""Webhook subscriptions: the list, subscribing a URL to events (the signing secret shown
once), one subscription with its delivery log, replaying a delivery, pausing and resuming,
and a new secret."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.admin.api import AdminApi, AdminApiDep
from web.admin.views import chosen, form_key, render
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
FIELDS = ("url", "description")
DELIVERIES_PAGE = 20
Cursor = Annotated[str | None, Query(max_length=512)]


def field_of(location: tuple[str | int, ...]) -> str | None:
    head = location[0] if location else None
    return str(head) if head in (*FIELDS, "event_types") else None


@router.get("/admin/webhooks")
async def subscription_list(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    subscriptions = await api.subscriptions(signed_in.access_token)
    return render(request, "admin/webhooks.html", {"subscriptions": subscriptions})


async def _form(
    request: Request, state: FormState, events: list[str], key: str | None, status: int = 200
) -> Response:
    context = {"form": state, "chosen_events": events, "form_key": key or uuid.uuid4().hex}
    return render(request, "admin/webhook_form.html", context, status=status)


@router.get("/admin/webhooks/new")
async def new_subscription(request: Request, signed_in: SignedInDep) -> Response:
    return await _form(request, FormState(), [], None)


@router.post("/admin/webhooks/new")
async def create_subscription(
    request: Request, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    """The answer is the page with the secret, as for an API client's: shown this once."""
    form = await request.form()
    values = form_values(form, FIELDS)
    events = chosen(form, "event_types")
    key = form_key(form)
    body = {"url": values["url"], "description": values["description"], "event_types": events}
    created = await api.create_subscription(signed_in.access_token, body, key)
    if isinstance(created, Refusal):
        return await _form(
            request, refused(created, values, field_of), events, key, status=created.status
        )
    return render(
        request,
        "admin/webhook_secret.html",
        {"subscription": created, "rotated": False},
        status=201,
    )


async def _page(
    request: Request,
    api: AdminApi,
    signed_in: SignedIn,
    subscription_id: uuid.UUID,
    cursor: str | None,
    refusal: Refusal | None = None,
) -> Response:
    token = signed_in.access_token
    subscription = await api.subscription(token, subscription_id)
    deliveries = await api.deliveries(token, subscription_id, cursor, DELIVERIES_PAGE)
    context = {
        "subscription": subscription,
        "deliveries": deliveries,
        "cursor": cursor,
        "saved": None if refusal else request.query_params.get("saved"),
        "refusal": refusal,
    }
    status = refusal.status if refusal else 200
    return render(request, "admin/webhook.html", context, status=status)


@router.get("/admin/webhooks/{subscription_id}")
async def subscription_page(
    request: Request,
    subscription_id: uuid.UUID,
    signed_in: SignedInDep,
    api: AdminApiDep,
    cursor: Cursor = None,
) -> Response:
    return await _page(request, api, signed_in, subscription_id, cursor)


@router.post("/admin/webhooks/{subscription_id}/deliveries/{delivery_id}/replay")
async def replay_delivery(
    request: Request,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: AdminApiDep,
) -> Response:
    """The event goes again as a new delivery, due now (the log's newest entry)."""
    replay = await api.replay(signed_in.access_token, delivery_id)
    if isinstance(replay, Refusal):
        return await _page(request, api, signed_in, subscription_id, None, replay)
    return RedirectResponse(f"/admin/webhooks/{subscription_id}?saved=replayed", status_code=303)


async def _set_active(
    request: Request, subscription_id: uuid.UUID, signed_in: SignedIn, api: AdminApi, active: bool
) -> Response:
    body = {"active": active}
    result = await api.update_subscription(signed_in.access_token, subscription_id, body)
    if isinstance(result, Refusal):
        return await _page(request, api, signed_in, subscription_id, None, result)
    saved = "resumed" if active else "paused"
    return RedirectResponse(f"/admin/webhooks/{subscription_id}?saved={saved}", status_code=303)


@router.post("/admin/webhooks/{subscription_id}/pause")
async def pause(
    request: Request, subscription_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    return await _set_active(request, subscription_id, signed_in, api, False)


@router.post("/admin/webhooks/{subscription_id}/resume")
async def resume(
    request: Request, subscription_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    return await _set_active(request, subscription_id, signed_in, api, True)


@router.post("/admin/webhooks/{subscription_id}/rotate-secret")
async def rotate_secret(
    request: Request, subscription_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    """A new secret, shown this once; the old one keeps signing for the API's grace period."""
    rotated = await api.rotate_secret(signed_in.access_token, subscription_id)
    if isinstance(rotated, Refusal):
        return await _page(request, api, signed_in, subscription_id, None, rotated)
    context = {"subscription": rotated, "rotated": True}
    return render(request, "admin/webhook_secret.html", context)
