"""Standard Webhooks signatures on real deliveries, checked with the `standardwebhooks` library
and with the documentation's own hashlib example: new and earlier secrets, rotations, retries
and replays under one `webhook-id`, and the old header's transition setting."""

import base64
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.webhooks.models import WebhookSubscription
from gateway.webhooks.signing import (
    signing_key,
    verify_signature,
    verify_webhook,
    webhook_signature,
)
from tests.conftest import Actor, Stack
from tests.webhooks.receiver import (
    HOOKS,
    Received,
    Receiver,
    event,
    manager,
    relay,
    settled,
    subscribe,
    webhook_stack,
)

DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"


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
    return await manager(hooks, await hooks.organization())


def documented_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    """The plain-Python `verify` docs/webhooks.md gives receivers, run as written."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    (source,) = [block for block in blocks if "def verify(" in block]
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    verify: Callable[[str, dict[str, str], bytes], bool] = namespace["verify"]
    return verify


def library_verifies(secret: str | bytes, request: Received) -> bool:
    try:
        parsed = Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    assert parsed == request.event
    return True


async def _set_secret(stack: Stack, subscription_id: str, secret: str) -> None:
    """Stores `secret` as the subscription's, as a database from before this version holds it."""
    database = stack.apps["gateway"].state.database
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == uuid.UUID(subscription_id))
            .values(secret=secret)
        )


async def test_a_delivery_verifies_with_the_library_and_the_documented_code(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    subscription = await subscribe(hooks, client, receiver.url("mis"))
    secret = subscription["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    sent = event([client.organization_id])
    await relay(hooks, sent)
    await settled(hooks, client, 1)

    (request,) = receiver.at("mis")
    headers = request.headers
    assert headers["webhook-id"] == str(sent.id)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert library_verifies(secret, request)
    assert verify_webhook(secret, headers, request.body)
    assert documented_verify()(secret, headers, request.body)
    # During the transition the old header still comes, keyed as it always was.
    assert verify_signature(secret, headers["telemed-signature"], request.body)

    tampered = Received(request.endpoint, headers, request.body.replace(b"urgent", b"later"), 0)
    assert not library_verifies(secret, tampered)
    assert not verify_webhook(secret, headers, tampered.body)
    assert not documented_verify()(secret, headers, tampered.body)
    other = Received(request.endpoint, headers | {"webhook-id": "another"}, request.body, 0)
    assert not library_verifies(secret, other)
    assert not library_verifies("whsec_" + base64.b64encode(b"k" * 32).decode(), request)


async def test_retries_and_replays_of_an_event_carry_one_webhook_id(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    subscription = await subscribe(hooks, client, receiver.url("flaky"))
    receiver.failures["flaky"] = 2
    sent = event([client.organization_id])
    await relay(hooks, sent)
    (delivery,) = await settled(hooks, client, 1)
    replayed = await hooks.client.post(
        f"{HOOKS}/deliveries/{delivery['id']}/replay", headers=client.headers
    )
    assert replayed.status_code == 202, replayed.text
    await settled(hooks, client, 2)

    attempts = receiver.at("flaky")
    assert len(attempts) == 4  # two refused, the third delivered, then the replay
    assert {request.headers["webhook-id"] for request in attempts} == {str(sent.id)}
    assert len({request.headers["telemed-delivery-id"] for request in attempts}) == 2
    assert all(library_verifies(subscription["secret"], request) for request in attempts)


async def test_during_a_rotation_both_secrets_verify(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    subscription = await subscribe(hooks, client, receiver.url("rotating"))
    rotated = await hooks.client.post(
        f"{HOOKS}/subscriptions/{subscription['id']}/rotate-secret", headers=client.headers
    )
    assert rotated.status_code == 200, rotated.text
    await relay(hooks, event([client.organization_id]))
    await settled(hooks, client, 1)

    (request,) = receiver.at("rotating")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (rotated.json()["secret"], subscription["secret"]):
        assert library_verifies(secret, request)
        assert documented_verify()(secret, request.headers, request.body)


async def test_a_secret_of_the_earlier_form_keys_with_its_whole_text(
    hooks: Stack, client: Actor, receiver: Receiver
) -> None:
    """A subscription made before Standard Webhooks keeps its secret: the library verifies
    with the secret's bytes, the old header as before; a rotation brings the new form."""
    subscription = await subscribe(hooks, client, receiver.url("older"))
    earlier = "whsec_" + secrets.token_urlsafe(32)  # how secrets were made until now
    await _set_secret(hooks, subscription["id"], earlier)
    await relay(hooks, event([client.organization_id]))
    await settled(hooks, client, 1)

    (request,) = receiver.at("older")
    assert library_verifies(earlier.encode(), request)
    assert verify_webhook(earlier, request.headers, request.body)
    assert documented_verify()(earlier, request.headers, request.body)
    assert verify_signature(earlier, request.headers["telemed-signature"], request.body)

    rotated = await hooks.client.post(
        f"{HOOKS}/subscriptions/{subscription['id']}/rotate-secret", headers=client.headers
    )
    await relay(hooks, event([client.organization_id]))
    await settled(hooks, client, 2)
    during = receiver.at("older")[-1]
    assert library_verifies(rotated.json()["secret"], during)
    assert library_verifies(earlier.encode(), during)


async def test_with_the_old_header_retired_only_standard_headers_are_sent(
    clean_databases: dict[str, str], tmp_path: Path, receiver: Receiver
) -> None:
    async with webhook_stack(clean_databases, tmp_path, webhook_legacy_signature=False) as stack:
        client = await manager(stack, await stack.organization())
        subscription = await subscribe(stack, client, receiver.url("modern"))
        await relay(stack, event([client.organization_id]))
        await settled(stack, client, 1)
    (request,) = receiver.at("modern")
    assert "telemed-signature" not in request.headers
    assert library_verifies(subscription["secret"], request)


def test_the_key_is_the_decoded_secret_and_an_earlier_secret_its_text() -> None:
    key = secrets.token_bytes(24)
    assert signing_key("whsec_" + base64.b64encode(key).decode()) == key
    for text in (
        "whsec_" + secrets.token_urlsafe(32),  # the earlier form: 43 characters, unpadded
        "whsec_" + base64.b64encode(b"short").decode(),  # decodes, but to too few bytes
        "whsec_not base64!",
        "plain",
    ):
        assert signing_key(text) == text.encode(), text


def test_a_standard_signature_of_any_characters_is_just_not_valid() -> None:
    secret, body, now = "whsec_" + base64.b64encode(b"s" * 32).decode(), b'{"id": 1}', time.time()
    good = {"webhook-id": "e1", "webhook-timestamp": str(int(now))}
    good["webhook-signature"] = webhook_signature([secret], "e1", int(now), body)
    assert verify_webhook(secret, good, body)
    assert not verify_webhook(secret, good, body, now=now + 301)  # replayed later
    for changed in (
        {"webhook-signature": "v1,é"},
        {"webhook-signature": "v1,\udcff"},
        {"webhook-signature": ""},
        {"webhook-timestamp": "²"},
        {"webhook-timestamp": ""},
        {"webhook-id": ""},
    ):
        assert not verify_webhook(secret, good | changed, body), changed
