"""Preferences and opt-out: a person's own choices, honoured by every later message but account
messages; the unsubscribe link in every other email, which works without signing in."""

import re
import uuid
from typing import Any, get_args

from gateway.notify.enums import OPTIONAL_CATEGORIES, Category, Template
from gateway.notify.schemas import OptOut
from gateway.notify.signing import UnsubscribeSigner
from tests.conftest import Stack
from tests.consult.conftest import _api_client
from tests.notify.conftest import (
    CASE,
    NOTIFY,
    RESET,
    VISIT,
    Mailbox,
    Smsc,
    audited,
    detail,
    messages,
    person,
    settled,
    tell,
)


async def test_people_choose_their_own_and_administrators_read_anyones(
    stack_notify: Stack,
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    patient = await person(stack, email="anna@example.org")
    hospital = await stack.organization()
    coordinator = await person(stack, "coordinator", organization=hospital)

    own = await stack.client.get(f"{NOTIFY}/preferences", headers=patient.actor.headers)
    assert own.json() == {
        "user_id": str(patient.id), "email": True, "sms": True, "opted_out": []
    }  # fmt: skip
    changed = await stack.client.put(
        f"{NOTIFY}/preferences",
        json={"email": True, "sms": False, "opted_out": ["visits", "visits"]},
        headers=patient.actor.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "user_id": str(patient.id), "email": True, "sms": False, "opted_out": ["visits"]
    }  # fmt: skip

    refused = await stack.client.put(
        f"{NOTIFY}/preferences", json={"opted_out": ["account"]}, headers=patient.actor.headers
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"

    by_admin = await stack.client.get(
        f"{NOTIFY}/preferences", params={"user_id": str(patient.id)}, headers=stack.admin.headers
    )
    assert by_admin.json()["opted_out"] == ["visits"]
    for user_id in (patient.id, uuid.uuid4()):
        hidden = await stack.client.get(
            f"{NOTIFY}/preferences",
            params={"user_id": str(user_id)},
            headers=coordinator.actor.headers,
        )
        assert hidden.status_code == 404
        assert hidden.headers["content-type"] == "application/problem+json"
    assert [outcome for outcome, *_ in await audited(stack, "notify_preferences.read")] == [
        "success", "success", "denied", "denied"
    ]  # fmt: skip
    assert await audited(stack, "notify_preferences.update") == [
        ("success", str(patient.id), str(patient.id))
    ]


async def test_an_opt_out_skips_its_category_and_account_messages_still_go(
    stack_notify: Stack, mailbox: Mailbox, smsc: Smsc
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    patient = await person(stack, email="anna@example.org", phone="+79131234567")
    await stack.client.put(
        f"{NOTIFY}/preferences",
        json={"email": True, "sms": False, "opted_out": ["visits"]},
        headers=patient.actor.headers,
    )
    await tell(stack, patient.id, Template.VISIT_INVITATION, VISIT)
    await tell(stack, patient.id, Template.CASE_NEW_URGENT, CASE | {
        "urgency": "urgent", "deadline": "2026-12-08T10:00:00Z", "timezone": "Asia/Omsk"
    })  # fmt: skip
    await tell(stack, patient.id, Template.ACCOUNT_PASSWORD_RESET, RESET)

    items = await settled(stack, 3)
    by_template = {item["template"]: item for item in items}
    visit = await detail(stack, stack.admin, by_template["visit.invitation"]["id"])
    assert visit["status"] == "skipped"
    assert visit["undeliverable"] == "email: opted out of visits; sms: sms switched off"
    skipped = {
        (d["channel"], d["status"], d["last_error"], d["attempts"]) for d in visit["deliveries"]
    }
    assert skipped == {
        ("email", "skipped", "opted out of visits", 0),
        ("sms", "skipped", "sms switched off", 0),
    }  # fmt: skip
    case = await detail(stack, stack.admin, by_template["case.new_urgent"]["id"])
    assert {(d["channel"], d["status"]) for d in case["deliveries"]} == {
        ("email", "sent"), ("sms", "skipped")
    }  # fmt: skip
    reset = await detail(stack, stack.admin, by_template["account.password_reset"]["id"])
    assert {(d["channel"], d["status"]) for d in reset["deliveries"]} == {
        ("email", "sent"), ("sms", "sent")
    }  # fmt: skip
    assert sorted(m["X-Telemed-Template"] for m in mailbox.messages) == [
        "account.password_reset", "case.new_urgent"
    ]  # fmt: skip
    (sms,) = smsc.received
    assert RESET["link"] in sms["mes"]


def _unsubscribe_link(letter: Any) -> str:
    body = letter.get_content()
    (link,) = re.findall(r"https://telemed\.example\.org(/notify/unsubscribe\?token=\S+)", body)
    assert letter["List-Unsubscribe"].strip() == f"<https://telemed.example.org{link}>"
    return str(link)


async def test_the_unsubscribe_link_asks_then_opts_out_without_signing_in(
    stack_notify: Stack, mailbox: Mailbox
) -> None:
    stack = stack_notify
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await person(
        stack, "district_medic", email="medic@example.org", language="en", organization=hospital
    )
    await tell(stack, medic.id, Template.CASE_INFO_REQUESTED, CASE)
    await settled(stack, 1)
    link = _unsubscribe_link(mailbox.messages[0])

    asked = await stack.client.get(link)  # what a mail scanner opening links would do
    assert asked.status_code == 200
    assert asked.headers["content-type"].startswith("text/html")
    assert "Stop receiving messages about consultations?" in asked.text
    assert "frame-ancestors 'none'" in asked.headers["content-security-policy"]
    preferences = await stack.client.get(f"{NOTIFY}/preferences", headers=medic.actor.headers)
    assert preferences.json()["opted_out"] == []

    done = await stack.client.post(link, data={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert done.status_code == 200
    assert "You will no longer receive messages about consultations." in done.text
    preferences = await stack.client.get(f"{NOTIFY}/preferences", headers=medic.actor.headers)
    assert preferences.json()["opted_out"] == ["cases"]

    await tell(stack, medic.id, Template.CASE_CONCLUSION_READY, CASE)
    newest, _ = await settled(stack, 2)
    assert newest["status"] == "skipped"
    assert len(mailbox.messages) == 1
    assert await audited(stack, "notify_preferences.unsubscribe") == [
        ("success", None, str(medic.id))
    ]

    token = link.split("token=")[1]
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", ""):
        page = await stack.client.post(f"/notify/unsubscribe?token={forged}")
        assert page.status_code == 404
        assert "Ссылка недействительна" in page.text
    denied = await audited(stack, "notify_preferences.unsubscribe")
    assert [outcome for outcome, *_ in denied] == ["success", "denied", "denied", "denied"]


def test_an_unsubscribe_token_names_one_person_and_an_optional_category() -> None:
    signer = UnsubscribeSigner(b"k" * 32)
    person_id = uuid.uuid4()
    token = signer.token(person_id, Category.VISITS)
    assert signer.verify(token) == (person_id, Category.VISITS)
    assert UnsubscribeSigner(b"x" * 32).verify(token) is None  # another gateway's key
    # Account messages cannot be opted out of, even with a token signed for them.
    assert signer.verify(signer.token(person_id, Category.ACCOUNT)) is None
    assert signer.verify("é.é") is None
    assert signer.url("https://t.example/", person_id, Category.CASES).startswith(
        "https://t.example/notify/unsubscribe?token="
    )


async def test_an_api_client_has_no_preferences_and_no_messages(stack_notify: Stack) -> None:
    stack = stack_notify
    client = await _api_client(stack, await stack.organization(), [])
    mine = await stack.client.get(f"{NOTIFY}/preferences", headers=client.headers)
    assert mine.status_code == 404
    changed = await stack.client.put(
        f"{NOTIFY}/preferences", json={"email": False}, headers=client.headers
    )
    assert changed.status_code == 404
    assert await messages(stack, client) == []


def test_what_can_be_opted_out_of_is_every_category_but_account() -> None:
    assert set(get_args(OptOut)) == {category.value for category in OPTIONAL_CATEGORIES}
    assert set(Category) - set(OPTIONAL_CATEGORIES) == {Category.ACCOUNT}
