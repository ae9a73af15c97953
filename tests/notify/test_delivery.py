"""Delivery through the running gateway: messages made with `enqueue` reach a real SMTP server
and SMSC-speaking server on loopback, in the person's language, once each; failures are
retried with backoff until the give-up window, every attempt logged; replicas never send one
delivery twice."""

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.notify.courier import Courier
from gateway.notify.delivery import claim_due
from gateway.notify.enums import Template
from gateway.notify.models import Delivery
from gateway.notify.outbox import enqueue
from services.common.db import utcnow
from tests.conftest import Stack
from tests.notify.conftest import (
    CASE,
    RESET,
    VISIT,
    Mailbox,
    Smsc,
    detail,
    messages,
    notify_settings,
    notify_stack,
    person,
    settled,
    tell,
)
from tests.servers import free_port
from tests.webhooks.receiver import eventually


async def test_a_visit_invitation_reaches_the_patient_by_email_and_sms(
    stack_notify: Stack, mailbox: Mailbox, smsc: Smsc
) -> None:
    stack = stack_notify
    patient = await person(stack, email="anna@example.org", phone="+7 913 123-45-67")
    colleague = await person(stack, email="john@example.org", language="en")
    assert await tell(stack, patient.id, Template.VISIT_INVITATION, VISIT, key="visit-1")
    assert not await tell(stack, patient.id, Template.VISIT_INVITATION, VISIT, key="visit-1")
    await tell(stack, colleague.id, Template.ACCOUNT_PASSWORD_RESET, RESET)

    await settled(stack, 2)
    (letter,) = mailbox.to("anna@example.org")
    assert letter["Subject"] == "Видеоприём 8 декабря 2026, 14:30 (Asia/Novokuznetsk)"
    assert VISIT["join_link"] in letter.get_content()
    assert "/notify/unsubscribe?token=" in letter["List-Unsubscribe"]
    (sms,) = smsc.to("79131234567")
    assert sms["mes"] == f"Видеоприём 08.12 в 14:30 (UTC+7): {VISIT['join_link']}"
    (reset,) = mailbox.to("john@example.org")
    assert reset["Subject"] == "Reset your password"
    assert RESET["link"] in reset.get_content()
    assert reset["List-Unsubscribe"] is None

    assert stack.admin is not None
    (invitation,) = await messages(stack, stack.admin, template="visit.invitation")
    assert invitation["status"] == "sent"
    logged = await detail(stack, stack.admin, invitation["id"])
    by_channel = {delivery["channel"]: delivery for delivery in logged["deliveries"]}
    assert by_channel["email"]["address"] == "anna@example.org"
    assert by_channel["email"]["provider_message_id"] == letter["Message-ID"]
    assert letter["Message-ID"].startswith(f"<{by_channel['email']['id']}@")
    assert by_channel["sms"]["provider_message_id"] == "1001"
    for delivery in by_channel.values():
        assert delivery["status"] == "sent"
        assert delivery["attempts"] == 1
        assert [attempt["outcome"] for attempt in delivery["attempt_log"]] == ["sent"]
    assert logged["params"]["join_link"] == "[redacted]"  # a join link lets its holder in

    metrics = (await stack.client.get("/metrics")).text
    assert 'notify_sent_total{channel="email"} 2.0' in metrics
    assert 'notify_sent_total{channel="sms"} 1.0' in metrics


async def test_a_person_out_of_reach_makes_an_undeliverable_message(
    stack_notify: Stack, mailbox: Mailbox
) -> None:
    stack = stack_notify
    nobody = await person(stack)  # no email, no phone
    staff = await person(stack, phone="+79130000001", role="coordinator",
                         organization=await stack.organization())  # fmt: skip
    await tell(stack, nobody.id, Template.VISIT_CANCELLED, VISIT)
    await tell(stack, staff.id, Template.CASE_CONCLUSION_READY, CASE)  # no SMS form

    assert stack.admin is not None
    concluded, cancelled = await messages(stack, stack.admin, status="undeliverable")
    reasons = {item["template"]: item["undeliverable"] for item in (cancelled, concluded)}
    assert reasons == {
        "visit.cancelled": "no email address; no phone",
        "case.conclusion_ready": "no email address; case.conclusion_ready has no SMS form",
    }
    assert (await detail(stack, stack.admin, cancelled["id"]))["deliveries"] == []
    assert mailbox.messages == []


async def test_with_no_sms_provider_only_email_goes(
    clean_databases: dict[str, str], tmp_path: Path, mailbox: Mailbox
) -> None:
    async with notify_stack(clean_databases, tmp_path, **notify_settings(mailbox.port)) as stack:
        patient = await person(stack, phone="+79131234567")
        await tell(stack, patient.id, Template.VISIT_REMINDER_DAY, VISIT)
        assert stack.admin is not None
        (message,) = await messages(stack, stack.admin)
        assert message["status"] == "undeliverable"
        assert message["undeliverable"] == "no email address; no sms provider is configured"


async def test_a_mail_server_down_then_up_gets_every_message_once(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    """Nothing listens at first: the messages wait and are retried, each attempt logged; once
    the server is up, each arrives exactly once."""
    mailbox = Mailbox(port=free_port())
    async with notify_stack(clean_databases, tmp_path, **notify_settings(mailbox.port)) as stack:
        assert stack.admin is not None
        admin = stack.admin
        people = [await person(stack, email=f"p{n}@example.org") for n in range(5)]
        for someone in people:
            await tell(stack, someone.id, Template.VISIT_REMINDER_HOUR, VISIT)

        async def deliveries() -> list[dict[str, Any]]:
            items = await messages(stack, admin)
            return [(await detail(stack, admin, item["id"]))["deliveries"][0] for item in items]

        waiting = await eventually(
            deliveries, lambda ds: len(ds) == 5 and all(d["attempts"] >= 2 for d in ds)
        )
        for delivery in waiting:
            assert delivery["status"] in {"pending", "sending"}
            assert delivery["last_error"]
            assert {a["outcome"] for a in delivery["attempt_log"]} == {"retry"}
        assert all(item["status"] == "pending" for item in await messages(stack, admin))

        await mailbox.start()
        try:
            await settled(stack, 5)
            sent = await deliveries()
        finally:
            await mailbox.stop()
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in mailbox.messages) == sorted(
        someone.email for someone in people if someone.email
    )
    assert len({m["Message-ID"] for m in mailbox.messages}) == 5
    for delivery in sent:
        assert delivery["status"] == "sent"
        outcomes = [attempt["outcome"] for attempt in delivery["attempt_log"]]
        assert outcomes[-1] == "sent"
        assert set(outcomes[:-1]) == {"retry"}
        assert len(outcomes) == delivery["attempts"] >= 3
        # The next try waits longer each time (a lower bound: a busy machine only adds).
        times = [attempt["at"] for attempt in delivery["attempt_log"]]
        assert times == sorted(times)


async def test_smtp_refusals_and_sms_errors_fail_or_retry(
    stack_notify: Stack, mailbox: Mailbox, smsc: Smsc
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
    smsc.errors = [3, 503]  # out of credit, then busy: both pass; then it goes through
    patient = await person(stack, email="gone@example.org", phone="79131234567")
    await tell(stack, patient.id, Template.VISIT_CANCELLED, VISIT)

    (message,) = await settled(stack, 1)

    async def both_settled() -> dict[str, Any]:
        return await detail(stack, stack.admin, message["id"])  # type: ignore[arg-type]

    logged = await eventually(
        both_settled,
        lambda d: all(x["status"] in {"sent", "failed"} for x in d["deliveries"]),
    )
    by_channel = {delivery["channel"]: delivery for delivery in logged["deliveries"]}
    email, sms = by_channel["email"], by_channel["sms"]
    assert email["status"] == "failed"
    assert email["attempts"] == 1
    assert "550" in email["last_error"]
    assert [a["outcome"] for a in email["attempt_log"]] == ["failed"]
    assert sms["status"] == "sent"
    assert [a["outcome"] for a in sms["attempt_log"]] == ["retry", "retry", "sent"]
    assert "SMSC error 3" in sms["attempt_log"][0]["error"]
    assert logged["status"] == "sent"
    metrics = (await stack.client.get("/metrics")).text
    assert 'notify_failed_total{channel="email"} 1.0' in metrics
    assert 'notify_retried_total{channel="sms"} 2.0' in metrics


async def test_a_delivery_past_its_give_up_window_fails(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    # Long enough for a retry before giving up even when a loaded machine claims it late.
    settings = notify_settings(free_port(), notify_give_up_after=4.0)
    async with notify_stack(clean_databases, tmp_path, **settings) as stack:
        assert stack.admin is not None
        admin = stack.admin
        patient = await person(stack, email="anna@example.org")
        await tell(stack, patient.id, Template.VISIT_REMINDER_DAY, VISIT)
        (message,) = await settled(stack, 1, within=20)
        assert message["status"] == "failed"
        (delivery,) = (await detail(stack, admin, message["id"]))["deliveries"]
        assert delivery["status"] == "failed"
        assert delivery["next_attempt_at"] is None
        outcomes = [attempt["outcome"] for attempt in delivery["attempt_log"]]
        assert outcomes[-1] == "failed"
        assert set(outcomes[:-1]) == {"retry"}
        assert len(outcomes) >= 2
        assert "Connect" in delivery["last_error"] or "refused" in delivery["last_error"]


async def _pending(stack: Stack, count: int) -> None:
    people = [await person(stack, email=f"p{n}@example.org") for n in range(count)]
    gateway = stack.apps["gateway"]
    for someone in people:  # not woken: only the claims the test makes run
        async with gateway.state.database.sessionmaker.begin() as session:
            await enqueue(
                session,
                recipient_id=someone.id,
                template=Template.CASE_DEADLINE_SOON,
                params=CASE | {"deadline": "2026-12-08T10:00:00Z", "timezone": "Asia/Omsk"},
                key=uuid.uuid4().hex,
            )


def another_courier(stack: Stack) -> Courier:
    """A worker beside the gateway's own, as another replica's would be."""
    state = stack.apps["gateway"].state
    return Courier(
        state.database, state.settings, state.notify_senders, state.notify_signer,
        state.notify_metrics,
    )  # fmt: skip


async def test_two_workers_never_send_one_delivery_twice(quiet: Stack, mailbox: Mailbox) -> None:
    await _pending(quiet, 24)
    async with another_courier(quiet).running(), another_courier(quiet).running():
        await settled(quiet, 24)
    ids = [message["Message-ID"] for message in mailbox.messages]
    assert len(ids) == len(set(ids)) == 24


async def test_a_lease_is_exclusive_and_a_crash_mid_send_resends_with_the_same_id(
    quiet: Stack, mailbox: Mailbox
) -> None:
    gateway = quiet.apps["gateway"]
    database, settings = gateway.state.database, gateway.state.settings
    await _pending(quiet, 6)
    now = utcnow()
    batches = await asyncio.gather(*(claim_due(database, settings, 2, now) for _ in range(4)))
    claimed = [claim.delivery_id for batch in batches for claim in batch]
    assert len(claimed) == len(set(claimed)) == 6
    assert await claim_due(database, settings, 100, now) == []
    async with database.sessionmaker() as session:
        statuses = set(await session.scalars(select(Delivery.status)))
    assert statuses == {"sending"}

    # The worker that claimed them died: once its lease runs out they are due again, and
    # sent with the Message-ID their first attempt would have carried.
    lease = 2 * max(settings.smtp_timeout, settings.sms_timeout) + 5
    later = now + timedelta(seconds=lease + 1)
    again = await claim_due(database, settings, 100, later)
    assert sorted(c.delivery_id for c in again) == sorted(claimed)
    assert all(c.attempts == 0 for c in again)
    courier = another_courier(quiet)
    for claim in again:
        await courier.attempt(claim)
    assert sorted(m["Message-ID"].split("@")[0].strip("<") for m in mailbox.messages) == sorted(
        str(delivery_id) for delivery_id in claimed
    )


async def test_a_password_reset_asked_for_at_the_api_arrives_and_its_link_works(
    stack_notify: Stack, mailbox: Mailbox, smsc: Smsc
) -> None:
    """The whole way: the account API enqueues, the worker sends, the person follows the link."""
    stack = stack_notify
    someone = await person(stack, email="anna@example.org", phone="+79131234567", language="en")
    asked = await stack.client.post(
        "/api/auth/password-reset", json={"username_or_email": "anna@example.org"}
    )
    assert asked.status_code == 202, asked.text
    await settled(stack, 1)
    (letter,) = mailbox.to("anna@example.org")
    assert letter["Subject"] == "Reset your password"
    assert letter["X-Telemed-Template"] == "account.password_reset"
    (link,) = re.findall(r"https://telemed\.example\.org/\S*token=(\S+)", letter.get_content())
    (sms,) = smsc.to("79131234567")
    assert link in sms["mes"]
    chosen = await stack.client.post(
        "/api/auth/password-reset/complete",
        json={"token": link, "new_password": "a quite new passphrase for anna 7"},
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["username"] == someone.actor.username
