"""Replies on their way to a chat while Telegram refuses the bot's token (revoked at @BotFather,
or one it cannot read): they wait, retried on the backoff and saying why, and reach the chat
once the token is one Telegram knows; a chat that refuses the bot for good fails them."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.consult.chats.conftest import CONSULT, Chat
from tests.consult.chats.telegram_server import TOKEN

QUESTION = "Здравствуйте! Подскажите, где сделать прививку от клещевого энцефалита?"
REPLY = "Прививку делают в прививочном кабинете вашей поликлиники, с 8 до 14, без записи."
# Past the courier's backoff after a first failure, its cap (10 min) and jitter (20 %) included.
PAST_THE_BACKOFF = timedelta(minutes=13)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the loopback server's list, not an event
            await asyncio.sleep(0.02)


async def reply(chat: Chat) -> tuple[str, Callable[[], Any]]:
    """A reply to a new chat appeal; reads its delivery through the API."""
    appeal_id = (await chat.delivered(100, QUESTION))["appeal_id"]
    posted = await chat.client.post(
        f"{CONSULT}/appeals/{appeal_id}/messages", json={"text": REPLY},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert posted.status_code == 201, posted.text

    async def delivery() -> dict[str, Any]:
        state: dict[str, Any] = (await chat.thread(appeal_id))[-1]["delivery"]
        return state

    return appeal_id, delivery


async def attempted(delivery: Callable[[], Any], attempts: int) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while (state := await delivery())["attempts"] < attempts:  # noqa: ASYNC110 - the API
            await asyncio.sleep(0.05)
    return dict(state)


@pytest.mark.parametrize("refusal", [(401, "Unauthorized"), (404, "Not Found")])
async def test_a_refused_bot_token_keeps_replies_pending_until_it_is_known(
    chat: Chat, refusal: tuple[int, str]
) -> None:
    chat.telegram.token = "7000000001:rotated-at-botfather"  # ours is no longer the bot's
    chat.telegram.token_refusal = refusal
    _, delivery = await reply(chat)
    waiting = await attempted(delivery, 1)
    assert waiting["status"] == "pending"
    assert f"Telegram refuses the bot's token ({refusal[1]})" in waiting["last_error"]
    assert "TELEMED_CONSULT_CHAT_BOTS" in waiting["last_error"]
    assert TOKEN not in waiting["last_error"]
    chat.clock.now += PAST_THE_BACKOFF
    chat.wake()
    still = await attempted(delivery, 2)  # tried again, and again refused: still waiting
    assert still["status"] == "pending"
    assert chat.telegram.sent == []

    chat.telegram.token = TOKEN  # the bot's token is the one telemed has again
    chat.clock.now += 2 * PAST_THE_BACKOFF
    chat.wake()
    await until(lambda: len(chat.telegram.sent) == 1)
    sent = await attempted(delivery, 3)
    assert (sent["status"], sent["last_error"]) == ("sent", None)
    assert chat.telegram.sent[0]["text"] == REPLY


async def test_a_refused_token_fails_the_reply_only_past_its_window(chat: Chat) -> None:
    chat.telegram.token = "7000000001:rotated-at-botfather"
    _, delivery = await reply(chat)
    await attempted(delivery, 1)
    chat.clock.now += timedelta(days=1)  # the reply's day is over: another conversation now
    chat.wake()
    failed = await attempted(delivery, 2)
    assert failed["status"] == "failed"
    assert "refuses the bot's token" in failed["last_error"]
