"""The webhook's guards: one chat's messages delivered at the same moment land in one appeal, an
unknown bot is answered as a wrong secret is, the redelivery guard forgets updates after its
retention, and a chat's appeal is filed on the appeals' one way in (history, deadline, audit)."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.consult.appeals.models import Appeal
from services.consult.chats.models import ChatBinding, ChatUpdate
from services.consult.db import KERNEL_TABLES
from tests.consult.chats.conftest import CONSULT, KHABAROVSK, SECRET_HEADER, WEBHOOK, Chat
from tests.consult.chats.telegram_server import SECRET, update

QUESTION = "Здравствуйте! Третью неделю не могу записаться к эндокринологу."
MORE = "Полис ОМС 2751 0000 0000 0000, прикреплена к поликлинике №3."


async def test_two_messages_of_one_chat_at_once_open_one_appeal(chat: Chat) -> None:
    first, second = await asyncio.gather(chat.delivered(80, QUESTION), chat.delivered(81, MORE))
    assert first["taken"]
    assert second["taken"]
    assert first["appeal_id"] == second["appeal_id"]
    queue = (await chat.client.get(f"{CONSULT}/appeals", headers=chat.operator.headers)).json()
    assert [item["id"] for item in queue["items"]] == [first["appeal_id"]]
    thread = await chat.thread(first["appeal_id"])
    assert sorted(each["text"] for each in thread) == sorted([QUESTION, MORE])
    # Other chats' messages at the same moment are other appeals.
    third, fourth = await asyncio.gather(
        chat.delivered(82, QUESTION, chat_id=5550002), chat.delivered(83, MORE, chat_id=5550003)
    )
    assert len({first["appeal_id"], third["appeal_id"], fourth["appeal_id"]}) == 3


def _problem(response: Any) -> tuple[int, str, dict[str, Any]]:
    """The answer less what differs per request (its path and request id)."""
    body = response.json()
    return (
        response.status_code,
        response.headers["content-type"],
        {key: value for key, value in body.items() if key not in {"instance", "request_id"}},
    )


@pytest.mark.parametrize("secret", [SECRET, "a-guess_at-the-secret"])
async def test_an_unknown_bot_is_answered_as_a_wrong_secret_is(chat: Chat, secret: str) -> None:
    """Nobody learns which bots exist: whatever secret comes for a bot that is not configured,
    the answer is the one a configured bot's wrong secret gets."""
    body = update(1, QUESTION)
    unknown = await chat.client.post(
        f"{CONSULT}/channels/telegram/nobody", json=body, headers={SECRET_HEADER: secret}
    )
    wrong = await chat.client.post(WEBHOOK, json=body, headers={SECRET_HEADER: "not-the-secret"})
    assert _problem(unknown) == _problem(wrong)
    assert unknown.status_code == 403
    missing = await chat.client.post(f"{CONSULT}/channels/telegram/nobody", json=body)
    assert _problem(missing) == _problem(await chat.client.post(WEBHOOK, json=body))
    assert missing.status_code == 401


async def test_updates_are_forgotten_after_the_retention(chat: Chat) -> None:
    database = chat.stack.apps["consult"].state.database

    async def remembered() -> list[int]:
        query = select(ChatUpdate.update_id).order_by(ChatUpdate.update_id)
        async with database.sessionmaker() as session:
            return list(await session.scalars(query))

    await chat.delivered(90, QUESTION)
    chat.clock.now += timedelta(days=1)
    await chat.delivered(91, MORE)
    assert await remembered() == [90, 91]
    # A week and a minute after the first: it is forgotten, the second (6 days old) is not.
    chat.clock.now += timedelta(days=6, minutes=1)
    async with asyncio.timeout(10):
        while (left := await remembered()) != [91]:
            assert left == [90, 91]  # one DELETE: never the other one, never both
            await asyncio.sleep(0.05)
    again = await chat.delivered(91, MORE)
    assert again["taken"] is False  # still remembered: its redelivery adds nothing


async def test_a_chats_appeal_is_filed_as_any_appeal_in_the_bindings_name(chat: Chat) -> None:
    """The appeals' one way in: the history a phone appeal has, the same deadline as a chat
    appeal an operator files by hand, `appeal.create` audited; the filer is the binding."""
    by_chat = await chat.delivered(95, QUESTION)
    by_hand = await chat.client.post(
        f"{CONSULT}/appeals",
        json={"channel": "chat", "category": "question", "territory": KHABAROVSK,
              "contact": {"name": "Ирина Ковалёва"}, "text": QUESTION},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert by_hand.status_code == 201, by_hand.text
    appeal_id = by_chat["appeal_id"]
    appeal = (
        await chat.client.get(f"{CONSULT}/appeals/{appeal_id}", headers=chat.operator.headers)
    ).json()
    assert (appeal["status"], appeal["channel"], appeal["reply_channel"]) == (
        "routed", "chat", "telegram",
    )  # fmt: skip
    assert appeal["due_at"] == by_hand.json()["due_at"]
    history = await chat.client.get(
        f"{CONSULT}/appeals/{appeal_id}/history", headers=chat.operator.headers
    )
    assert [(each["kind"], each["actor_id"], each["note"]) for each in history.json()] == [
        ("received", None, "by telegram chat"),
        ("routed", None, f"territory {KHABAROVSK}"),
    ]
    records = KERNEL_TABLES.audit.records
    database = chat.stack.apps["consult"].state.database
    async with database.sessionmaker() as session:
        created = (
            await session.execute(
                select(records.c.actor_id, records.c.outcome, records.c.detail).where(
                    records.c.action == "appeal.create", records.c.resource_id == appeal_id
                )
            )
        ).all()
        stored = await session.get(Appeal, uuid.UUID(appeal_id))
        binding = await session.scalar(select(ChatBinding))
    assert [tuple(row) for row in created] == [(None, "success", "question, routed")]
    assert stored is not None
    assert binding is not None
    assert (stored.created_by, stored.created_by_role) == (binding.id, "chat_binding")
