"""Webhook deliveries to a real receiver on loopback: signatures, retries with backoff, giving
up, order per resource, isolation from slow receivers, replicas, replays, and a real case."""

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.settings import GatewaySettings
from gateway.webhooks.delivery import Dispatcher, claim_due, fail_paused
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.relay import RELAY_PRINCIPAL, prune_log
from gateway.webhooks.signing import verify_signature
from services.common.db import utcnow
from telemed.samples import sample_case
from tests.conftest import Actor, Stack
from tests.servers import free_port
from tests.webhooks.receiver import (
    FAST_WEBHOOKS,
    HOOKS,
    Receiver,
    deliveries,
    event,
    eventually,
    manager,
    relay,
    settled,
    subscribe,
    webhook_stack,
)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver().running() as running:
        yield running


@pytest.fixture
async def hooks(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    async with webhook_stack(clean_databases, tmp_path) as stack:
        yield stack


@pytest.fixture
async def client(hooks: Stack) -> Actor:
    """An API client of a district hospital that manages its webhooks."""
    return await manager(hooks, await hooks.organization())


async def _detail(stack: Stack, actor: Actor, delivery_id: str) -> dict[str, Any]:
    response = await stack.client.get(f"{HOOKS}/deliveries/{delivery_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def test_a_delivery_is_the_event_signed_with_the_secret(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    subscription = await subscribe(hooks, client, receiver.url("mis"))
    secret = subscription["secret"]
    sent = event([client.organization_id])
    await relay(hooks, sent)

    (delivery,) = await settled(hooks, client, 1)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 1
    assert delivery["last_status_code"] == 204
    assert delivery["delivered_at"] is not None
    assert delivery["next_attempt_at"] is None
    assert delivery["replay_of"] is None
    assert delivery["resource"] == {"type": "case", "id": str(sent.resource.id)}
    (request,) = receiver.at("mis")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["telemed-event-id"] == str(sent.id)
    assert request.headers["telemed-event-type"] == "case.submitted"
    assert request.headers["telemed-delivery-id"] == delivery["id"]
    assert request.event == sent.model_dump(mode="json")

    header = request.headers["telemed-signature"]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 60
    assert header.count("v1=") == 1
    assert verify_signature(secret, header, request.body)
    assert not verify_signature(secret, header, request.body.replace(b"urgent", b"planned"))
    assert not verify_signature("whsec_another", header, request.body)
    assert not verify_signature(secret, header, request.body, now=timestamp + 301)

    # After a rotation, deliveries are signed by the new and, for a grace period, the old.
    rotated = await hooks.client.post(
        f"{HOOKS}/subscriptions/{subscription['id']}/rotate-secret", headers=client.headers
    )
    await relay(hooks, event([client.organization_id]))
    await settled(hooks, client, 2)
    header = receiver.at("mis")[-1].headers["telemed-signature"]
    assert header.count("v1=") == 2
    for either in (rotated.json()["secret"], secret):
        assert verify_signature(either, header, receiver.at("mis")[-1].body)


async def test_a_failing_receiver_is_retried_at_growing_intervals(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    await subscribe(hooks, client, receiver.url("flaky"))
    receiver.failures["flaky"] = 3
    await relay(hooks, event([client.organization_id]))

    (delivery,) = await settled(hooks, client, 1)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 4
    arrivals = [request.at for request in receiver.at("flaky")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Lower bounds only: a busy machine makes gaps longer, never shorter than the backoff.
    base, jitter = FAST_WEBHOOKS["webhook_backoff_base"], FAST_WEBHOOKS["webhook_backoff_jitter"]
    for failed, gap in enumerate(gaps, start=1):
        assert gap >= base * 2 ** (failed - 1) * (1 - jitter), gaps
    log = (await _detail(hooks, client, delivery["id"]))["attempt_log"]
    assert [attempt["status_code"] for attempt in log] == [500, 500, 500, 204]
    assert all(attempt["error"] is None and attempt["duration_ms"] >= 0 for attempt in log)


async def test_a_receiver_down_past_the_retry_window_ends_failed(
    hooks: Stack, client: Actor
) -> None:
    await subscribe(hooks, client, f"http://127.0.0.1:{free_port()}/nobody-listens")
    window = timedelta(seconds=FAST_WEBHOOKS["webhook_retry_window"])
    # The window counts from the event, so an event from almost a window ago has seconds left.
    await relay(
        hooks,
        event([client.organization_id], occurred_at=utcnow() - window + timedelta(seconds=1.5)),
    )

    (delivery,) = await settled(hooks, client, 1)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] >= 3
    assert delivery["next_attempt_at"] is None
    assert delivery["last_status_code"] is None
    assert "Connect" in delivery["last_error"]
    log = (await _detail(hooks, client, delivery["id"]))["attempt_log"]
    assert len(log) == delivery["attempts"]
    assert all(attempt["status_code"] is None and attempt["error"] for attempt in log)


async def test_a_resource_waits_for_its_earlier_delivery_and_blocks_no_other(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    await subscribe(hooks, client, receiver.url("ordered"))
    case_a, case_b = uuid.uuid4(), uuid.uuid4()
    first_a = event([client.organization_id], resource_id=case_a)
    second_a = event([client.organization_id], type="case.concluded", resource_id=case_a)
    only_b = event([client.organization_id], resource_id=case_b)
    receiver.failures[str(first_a.id)] = 3
    await relay(hooks, first_a, second_a, only_b)

    await settled(hooks, client, 3)
    order = [request.headers["telemed-event-id"] for request in receiver.at("ordered")]
    last_of_first = max(i for i, event_id in enumerate(order) if event_id == str(first_a.id))
    assert order.count(str(first_a.id)) == 4
    assert order.count(str(second_a.id)) == 1  # never tried before the first got through
    assert order.index(str(second_a.id)) > last_of_first
    assert order.index(str(only_b.id)) < last_of_first  # the other case did not wait


async def test_a_slow_receiver_delays_neither_others_nor_the_api(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    slow = await subscribe(hooks, client, receiver.url("slow"))
    await subscribe(hooks, client, receiver.url("fast"))
    receiver.slow.add("slow")
    await relay(hooks, event([client.organization_id]))

    async def fast_arrivals() -> list[Any]:
        return receiver.at("fast")

    await eventually(fast_arrivals, bool, within=5)
    held = receiver.at("slow")
    assert held, "the slow receiver was tried at once too"
    assert receiver.at("fast")[0].at - held[0].at < 0.5  # well inside the 1 s time-out
    started = time.perf_counter()
    response = await hooks.client.get(f"{HOOKS}/deliveries", headers=client.headers)
    latency = time.perf_counter() - started
    assert response.status_code == 200
    assert latency < 0.5, latency
    slow_one = next(d for d in response.json()["items"] if d["subscription_id"] == slow["id"])
    assert slow_one["status"] == "pending"
    assert slow_one["attempts"] == 0  # still in flight while the request was answered

    detail = await eventually(
        lambda: _detail(hooks, client, slow_one["id"]), lambda d: d["attempts"] >= 1
    )
    (attempt, *_) = detail["attempt_log"]
    assert attempt["error"] == "No answer within 1 s."
    assert 900 <= attempt["duration_ms"] < 3000


async def test_a_paused_subscription_holds_its_deliveries(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    gateway = hooks.apps["gateway"]
    subscription = await subscribe(hooks, client, receiver.url("paused"))
    path = f"{HOOKS}/subscriptions/{subscription['id']}"
    await hooks.client.patch(path, json={"active": False}, headers=client.headers)
    window = timedelta(seconds=FAST_WEBHOOKS["webhook_retry_window"])
    await relay(hooks, event([client.organization_id]), event([client.organization_id]))
    await relay(hooks, event([client.organization_id], occurred_at=utcnow() - window))

    await gateway.state.webhook_dispatcher.run_once()
    assert receiver.received == []
    await fail_paused(gateway.state.database, utcnow())
    statuses = sorted(d["status"] for d in await deliveries(hooks, client))
    assert statuses == ["failed", "pending", "pending"]  # only the one past its window gave up

    resumed = await hooks.client.patch(path, json={"active": True}, headers=client.headers)
    assert resumed.json()["active"] is True
    await settled(hooks, client, 3)
    assert len(receiver.at("paused")) == 2


async def test_replicas_never_send_one_delivery_twice(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    gateway = hooks.apps["gateway"]
    database, settings = gateway.state.database, gateway.state.settings
    await subscribe(hooks, client, receiver.url("replicas"))
    async with Dispatcher(database, settings).running(), Dispatcher(database, settings).running():
        await relay(hooks, *(event([client.organization_id]) for _ in range(20)))
        await settled(hooks, client, 20)
    sent = [request.headers["telemed-delivery-id"] for request in receiver.at("replicas")]
    assert len(sent) == len(set(sent)) == 20


async def test_leases_are_exclusive_and_expire(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    # The app's dispatcher looks once an hour here, unwoken, so these claims are the only ones.
    async with webhook_stack(clean_databases, tmp_path, webhook_poll_interval=3600) as stack:
        gateway = stack.apps["gateway"]
        database, settings = gateway.state.database, gateway.state.settings
        hospital = await stack.organization()
        client = await manager(stack, hospital)
        await subscribe(stack, client, "http://127.0.0.1:9/never-sent")
        await relay(stack, *(event([hospital["id"]]) for _ in range(12)), wake=False)

        now = utcnow()
        batches = await asyncio.gather(*(claim_due(database, settings, 5, now) for _ in range(4)))
        claimed = [claim.delivery_id for batch in batches for claim in batch]
        assert len(claimed) == len(set(claimed)) == 12
        assert await claim_due(database, settings, 100, now) == []
        expired = now + timedelta(seconds=2 * settings.webhook_delivery_timeout + 6)
        assert len(await claim_due(database, settings, 100, expired)) == 12


async def test_a_replay_is_a_new_delivery_of_the_same_event(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    await subscribe(hooks, client, receiver.url("replayed"))
    sent = event([client.organization_id])
    await relay(hooks, sent)
    (original,) = await settled(hooks, client, 1)

    response = await hooks.client.post(
        f"{HOOKS}/deliveries/{original['id']}/replay", headers=client.headers
    )
    assert response.status_code == 202, response.text
    replay = response.json()
    assert replay["status"] == "pending"
    assert replay["replay_of"] == original["id"]
    assert replay["event_id"] == str(sent.id)
    assert replay["id"] != original["id"]

    newest, _ = await settled(hooks, client, 2)
    assert newest["id"] == replay["id"]
    assert newest["status"] == "delivered"
    first, again = receiver.at("replayed")
    assert again.body == first.body
    assert again.headers["telemed-delivery-id"] == replay["id"]


async def _replayed_twice(stack: Stack, client: Actor, receiver: Receiver) -> dict[str, Any]:
    """A subscription whose one delivery has been replayed twice, all three delivered."""
    subscription = await subscribe(stack, client, receiver.url("twice"))
    await relay(stack, event([client.organization_id]))
    (original,) = await settled(stack, client, 1)
    for _ in range(2):
        response = await stack.client.post(
            f"{HOOKS}/deliveries/{original['id']}/replay", headers=client.headers
        )
        assert response.status_code == 202, response.text
    await settled(stack, client, 3)
    return subscription


async def test_a_subscription_whose_delivery_was_replayed_twice_can_be_deleted(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    subscription = await _replayed_twice(hooks, client, receiver)
    deleted = await hooks.client.delete(
        f"{HOOKS}/subscriptions/{subscription['id']}", headers=client.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert await deliveries(hooks, client) == []


async def test_replays_outlive_their_pruned_original_as_replays(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    """The log's pruning takes an old original and leaves its newer replays, still replays
    (they block no later delivery), with nothing left to point at."""
    await _replayed_twice(hooks, client, receiver)
    *replays, original = await deliveries(hooks, client)
    gateway = hooks.apps["gateway"]
    settings: GatewaySettings = gateway.state.settings
    long_ago = utcnow() - timedelta(days=settings.webhook_log_retention_days + 1)
    async with gateway.state.database.sessionmaker.begin() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == uuid.UUID(original["id"]))
            .values(created_at=long_ago)
        )
    await prune_log(gateway.state.database, settings, utcnow())

    kept = await deliveries(hooks, client)
    assert {item["id"] for item in kept} == {item["id"] for item in replays}
    assert [item["replay_of"] for item in kept] == [None, None]
    async with gateway.state.database.sessionmaker() as session:
        marks = await session.scalars(
            select(WebhookDelivery.is_replay).where(
                WebhookDelivery.id.in_([uuid.UUID(item["id"]) for item in kept])
            )
        )
        assert list(marks) == [True, True]


async def test_a_submitted_case_arrives_signed(hooks: Stack, receiver: Receiver) -> None:
    hospital = await hooks.organization(kind="district_hospital")
    centre = await hooks.organization(kind="regional_centre")
    medic = await hooks.actor("district_medic", hospital)
    await hooks.actor("specialist", centre, "cardiology")
    client = await manager(hooks, hospital)
    subscription = await subscribe(hooks, client, receiver.url("mis"), ["case.submitted"])

    case = await hooks.client.post(
        "/api/consult/cases",
        json=sample_case(centre["id"], submit=True),
        headers=medic.headers,
    )
    assert case.status_code == 201, case.text

    (delivery,) = await settled(hooks, client, 1)
    assert delivery["status"] == "delivered"
    (request,) = receiver.at("mis")
    assert verify_signature(
        subscription["secret"], request.headers["telemed-signature"], request.body
    )
    arrived = request.event
    assert arrived["type"] == "case.submitted"
    assert arrived["source"] == "consult"
    assert arrived["resource"] == {"type": "case", "id": case.json()["id"]}
    assert set(arrived["organization_ids"]) == {hospital["id"], centre["id"]}
    assert arrived["data"]["urgency"] == "urgent"
    assert b"Petrov" not in request.body
    # The relay acknowledged what it stored: the consult feed is empty again.
    token = hooks.apps["gateway"].state.token_issuer.issue(RELAY_PRINCIPAL)
    feed = await hooks.client.get(
        "/api/consult/internal/outbox", headers={"Authorization": f"Bearer {token}"}
    )
    assert feed.json() == {"events": []}


def test_a_signature_header_of_any_characters_is_just_not_valid() -> None:
    now = int(time.time())
    body = b'{"type": "case.submitted"}'
    for header in (f"t={now},v1=é", f"t={now},v1=\udcff", "t=²,v1=00", f"t={now},v1=",
                   "t=,v1=", "garbage"):  # fmt: skip
        assert not verify_signature("whsec_secret", header, body), header
