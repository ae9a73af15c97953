"""The delivery log: administrators read every message and resend; everyone else reads their
own and nothing of anyone else's; secrets in parameters never show."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.notify.enums import DeliveryStatus, Template
from gateway.notify.jobs import prune_log
from gateway.notify.models import Delivery, Message
from services.common.db import utcnow
from tests.conftest import Stack
from tests.notify.conftest import (
    NOTIFY,
    RESET,
    VISIT,
    Mailbox,
    Person,
    audited,
    detail,
    messages,
    person,
    settled,
    tell,
)
from tests.webhooks.receiver import eventually


@pytest.fixture
async def anna(stack_notify: Stack) -> Person:
    return await person(stack_notify, email="anna@example.org")


async def test_administrators_read_every_message_others_their_own(
    stack_notify: Stack, mailbox: Mailbox, anna: Person
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    admin = stack.admin
    boris = await person(stack, email="boris@example.org")
    await tell(stack, anna.id, Template.VISIT_INVITATION, VISIT)
    await tell(stack, anna.id, Template.ACCOUNT_PASSWORD_RESET, RESET)
    await tell(stack, boris.id, Template.VISIT_CANCELLED, VISIT)
    everything = await settled(stack, 3)
    assert [item["template"] for item in everything] == [
        "visit.cancelled", "account.password_reset", "visit.invitation"
    ]  # fmt: skip

    assert len(await messages(stack, admin, recipient_id=str(anna.id))) == 2
    assert len(await messages(stack, admin, template="visit.cancelled")) == 1
    assert len(await messages(stack, admin, status="sent")) == 3
    assert await messages(stack, admin, status="failed") == []
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    assert await messages(stack, admin, since=later) == []
    first = await stack.client.get(f"{NOTIFY}/messages", params={"limit": 2}, headers=admin.headers)
    assert len(first.json()["items"]) == 2
    rest = await stack.client.get(
        f"{NOTIFY}/messages",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=admin.headers,
    )
    assert [item["id"] for item in rest.json()["items"]] == [everything[2]["id"]]
    assert rest.json()["next_cursor"] is None

    own = await messages(stack, anna.actor)
    assert {item["recipient_id"] for item in own} == {str(anna.id)}
    assert len(own) == 2
    others = await stack.client.get(
        f"{NOTIFY}/messages", params={"recipient_id": str(boris.id)}, headers=anna.actor.headers
    )
    assert others.status_code == 403
    assert others.headers["content-type"] == "application/problem+json"
    borises = everything[0]["id"]
    hidden = await stack.client.get(f"{NOTIFY}/messages/{borises}", headers=anna.actor.headers)
    assert hidden.status_code == 404
    unknown = await stack.client.get(f"{NOTIFY}/messages/{uuid.uuid4()}", headers=admin.headers)
    assert unknown.status_code == 404

    mine = await detail(stack, anna.actor, everything[1]["id"])
    assert mine["params"] == {"link": "[redacted]", "valid_hours": 24}
    assert mine["deliveries"][0]["address"] == "anna@example.org"
    by_admin = await detail(stack, admin, borises)
    assert by_admin["params"]["organization_name"] == VISIT["organization_name"]
    assert by_admin["params"]["join_link"] == "[redacted]"
    reads = await audited(stack, "notify_message.read")
    assert ("denied", str(anna.id), borises) in reads
    assert ("success", str(admin.id), borises) in reads
    assert [outcome for outcome, *_ in await audited(stack, "notify_message.list")].count(
        "denied"
    ) == 1


async def test_an_administrator_resends_a_message_as_a_new_delivery(
    stack_notify: Stack, mailbox: Mailbox, anna: Person
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    admin = stack.admin
    await tell(stack, anna.id, Template.VISIT_INVITATION, VISIT)
    (message,) = await settled(stack, 1)
    path = f"{NOTIFY}/messages/{message['id']}/resend"

    refused = await stack.client.post(path, headers=anna.actor.headers)
    assert refused.status_code == 403
    no_phone = await stack.client.post(path, params={"channel": "sms"}, headers=admin.headers)
    assert no_phone.status_code == 409
    assert "no phone" in no_phone.json()["detail"]
    missing = await stack.client.post(
        f"{NOTIFY}/messages/{uuid.uuid4()}/resend", headers=admin.headers
    )
    assert missing.status_code == 404

    resent = await stack.client.post(path, headers=admin.headers)
    assert resent.status_code == 202, resent.text
    original, again = resent.json()["deliveries"]
    assert again["resent_by"] == str(admin.id)
    assert again["status"] == "pending"
    assert original["resent_by"] is None

    async def deliveries() -> list[dict[str, object]]:
        return list((await detail(stack, admin, message["id"]))["deliveries"])

    await eventually(deliveries, lambda ds: all(d["status"] == "sent" for d in ds))
    first, second = mailbox.to("anna@example.org")
    assert first["Subject"] == second["Subject"]
    assert first.get_content() == second.get_content()
    assert first["Message-ID"] != second["Message-ID"]  # a new delivery, not a retry
    assert second["Message-ID"].startswith(f"<{again['id']}@")
    assert [outcome for outcome, *_ in await audited(stack, "notify_message.resend")] == [
        "denied", "failed", "denied", "success"
    ]  # fmt: skip


async def test_the_log_forgets_old_settled_messages_only(quiet: Stack) -> None:
    # The courier is not woken: the deliveries stay as the test sets them.
    stack = quiet
    assert stack.admin is not None
    gateway = stack.apps["gateway"]
    database, settings = gateway.state.database, gateway.state.settings
    anna = await person(stack, email="anna@example.org")
    for _ in range(3):
        await tell(stack, anna.id, Template.VISIT_CANCELLED, VISIT, wake=False)
    old, old_pending, recent = await messages(stack, stack.admin)
    long_ago = utcnow() - timedelta(days=settings.notify_log_retention_days + 1)
    async with database.sessionmaker.begin() as session:
        aged = [uuid.UUID(old["id"]), uuid.UUID(old_pending["id"])]
        await session.execute(
            update(Message).where(Message.id.in_(aged)).values(created_at=long_ago)
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.message_id.in_([uuid.UUID(old["id"]), uuid.UUID(recent["id"])]))
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
        )
    assert await prune_log(database, settings, utcnow()) == 1
    kept = {item["id"] for item in await messages(stack, stack.admin)}
    assert kept == {old_pending["id"], recent["id"]}
    async with database.sessionmaker() as session:
        orphans = await session.scalars(
            select(Delivery.id).where(Delivery.message_id == uuid.UUID(old["id"]))
        )
        assert orphans.all() == []
