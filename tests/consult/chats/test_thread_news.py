"""Polling an appeal's thread for what is new (`GET /appeals/{id}/messages/news`): only the
messages after the reader's last, the sending of those it has without their texts, the appeal's
status; audited only when it brings messages, so a page left open writes no record per poll,
while every read of the person's words and every refusal stays on record."""

import uuid
from typing import Any

from sqlalchemy import func, select

from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor
from tests.consult.chats.conftest import CONSULT, Chat

QUESTION = "Здравствуйте! Можно ли перенести приём у кардиолога на следующую неделю?"
MORE = "Запись была на четверг, 10:30."
REPLY = "Перенесли на вторник, 11:00, кабинет 214."
POLLS = 30  # five minutes of a page asking every 10 s


async def audited(chat: Chat, appeal_id: str, action: str, outcome: str = "success") -> int:
    records = KERNEL_TABLES.audit.records
    query = select(func.count()).where(
        records.c.action == action,
        records.c.resource_id == appeal_id,
        records.c.outcome == outcome,
    )
    async with chat.stack.apps["consult"].state.database.sessionmaker() as session:
        count: int = await session.scalar(query) or 0
    return count


async def news(chat: Chat, appeal_id: str, after: int, actor: Actor | None = None) -> Any:
    response = await chat.client.get(
        f"{CONSULT}/appeals/{appeal_id}/messages/news",
        params={"after": after},
        headers=(actor or chat.operator).headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_polls_that_find_nothing_new_write_no_audit_record(chat: Chat) -> None:
    appeal_id = (await chat.delivered(120, QUESTION))["appeal_id"]
    await chat.thread(appeal_id)  # the page's own read: audited
    assert await audited(chat, appeal_id, "appeal.thread.read") == 1
    for _ in range(POLLS):
        assert await news(chat, appeal_id, 0) == {
            "status": "routed",
            "messages": [],
            "deliveries": [],
        }
    assert await audited(chat, appeal_id, "appeal.thread.read") == 1
    assert await audited(chat, appeal_id, "appeal.read") == 0  # the appeal is not read again

    await chat.delivered(121, MORE)
    found = await news(chat, appeal_id, 0)
    assert [each["text"] for each in found["messages"]] == [MORE]
    assert await audited(chat, appeal_id, "appeal.thread.read") == 2  # the person's words
    after = found["messages"][-1]["id"]
    for _ in range(POLLS):
        assert (await news(chat, appeal_id, after))["messages"] == []
    assert await audited(chat, appeal_id, "appeal.thread.read") == 2

    posted = await chat.client.post(
        f"{CONSULT}/appeals/{appeal_id}/messages", json={"text": REPLY},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    with_reply = await news(chat, appeal_id, after)
    assert [each["text"] for each in with_reply["messages"]] == [REPLY]
    after = with_reply["messages"][-1]["id"]
    quiet = await news(chat, appeal_id, after)
    assert quiet["messages"] == []
    # The reply's sending, by its id, without its text: the page has it.
    assert [each["message_id"] for each in quiet["deliveries"]] == [after]
    assert "text" not in quiet["deliveries"][0]
    assert await audited(chat, appeal_id, "appeal.thread.read") == 3


async def test_a_poll_is_refused_and_audited_as_any_read(chat: Chat) -> None:
    appeal_id = (await chat.delivered(130, QUESTION))["appeal_id"]
    url = f"{CONSULT}/appeals/{appeal_id}/messages/news"
    far = await chat.client.get(url, params={"after": 0}, headers=chat.far_operator.headers)
    assert far.status_code == 404
    assert await audited(chat, appeal_id, "appeal.thread.read", "denied") == 1
    nobody = f"{CONSULT}/appeals/{uuid.uuid4()}/messages/news"
    missing = await chat.client.get(nobody, params={"after": 0}, headers=chat.operator.headers)
    assert missing.status_code == 404
    for bad in ("-1", "9223372036854775808", "soon"):
        refused = await chat.client.get(url, params={"after": bad}, headers=chat.operator.headers)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"
    unsigned = await chat.client.get(url, params={"after": 0})
    assert unsigned.status_code == 401
    closed = await chat.client.post(
        f"{CONSULT}/appeals/{appeal_id}/close", json={"reason": "A duplicate."},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert (await news(chat, appeal_id, 0))["status"] == "closed"
