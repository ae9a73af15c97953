"""The Telegram channel end to end, against a loopback Bot API that checks Telegram's request
format: the webhook's secret token, routing a chat by its territory, one appeal per update
however often it comes, the out-of-hours reply, replies reaching the chat (after a 429), the
redirect answer in the organisation's words and the person's language."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.consult.chats.conftest import BOT, CONSULT, KHABAROVSK, SECRET_HEADER, Chat
from tests.consult.chats.telegram_server import SECRET, TOKEN

QUESTION = "Здравствуйте! Есть ли в аптеках Хабаровска инсулин гларгин? Не могу найти."


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the loopback server's list, not an event
            await asyncio.sleep(0.02)


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("not-the-secret", 403)])
async def test_the_webhook_refuses_a_missing_or_wrong_secret(
    chat: Chat, secret: str | None, status: int
) -> None:
    response = await chat.deliver(1, QUESTION, secret=secret)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    queue = await chat.client.get(f"{CONSULT}/appeals", headers=chat.operator.headers)
    assert queue.json()["items"] == []


async def test_a_body_that_is_no_update_is_refused(chat: Chat) -> None:
    bad = await chat.client.post(
        f"{CONSULT}/channels/telegram/{BOT}",
        content=b"{not json",
        headers={SECRET_HEADER: SECRET},
    )
    assert bad.status_code == 422


async def test_a_chat_message_opens_an_appeal_routed_by_the_chats_territory(chat: Chat) -> None:
    answer = await chat.delivered(10, QUESTION)
    assert answer["taken"] is True
    appeal = (
        await chat.client.get(
            f"{CONSULT}/appeals/{answer['appeal_id']}", headers=chat.operator.headers
        )
    ).json()
    assert appeal["channel"] == "chat"
    assert appeal["status"] == "routed"
    assert appeal["territory_code"] == KHABAROVSK
    assert appeal["organization_id"] == chat.polyclinic["id"]
    assert appeal["contact"]["name"] == "Ирина Ковалёва"
    assert appeal["language"] == "ru"
    assert appeal["reply_channel"] == "telegram"
    assert appeal["text"] == QUESTION
    # Open on Monday morning: no automatic reply, the thread is the question alone.
    thread = await chat.thread(appeal["id"])
    assert [(each["kind"], each["direction"], each["text"]) for each in thread] == [
        ("person", "in", QUESTION)
    ]
    # Another region's operator does not see it.
    hidden = await chat.client.get(
        f"{CONSULT}/appeals/{appeal['id']}/messages", headers=chat.far_operator.headers
    )
    assert hidden.status_code == 404


async def test_a_redelivered_update_adds_nothing_and_a_next_message_joins_the_open_appeal(
    chat: Chat,
) -> None:
    first = await chat.delivered(20, QUESTION)
    again = await chat.delivered(20, QUESTION)
    assert again == {"taken": False, "appeal_id": None}
    follow_up = await chat.delivered(21, "Нужен для мамы, 72 года.")
    assert follow_up["appeal_id"] == first["appeal_id"]
    repeated = await chat.delivered(21, "Нужен для мамы, 72 года.")
    assert repeated["taken"] is False
    queue = (await chat.client.get(f"{CONSULT}/appeals", headers=chat.operator.headers)).json()
    assert [item["id"] for item in queue["items"]] == [first["appeal_id"]]
    thread = await chat.thread(first["appeal_id"])
    assert [each["text"] for each in thread] == [QUESTION, "Нужен для мамы, 72 года."]
    # Another chat of the same bot is another conversation.
    other = await chat.delivered(22, "Добрый день", chat_id=5550002)
    assert other["appeal_id"] != first["appeal_id"]


async def test_a_message_with_no_text_or_from_an_unbound_chat_is_acknowledged_and_dropped(
    chat: Chat,
) -> None:
    sticker = await chat.deliver(30, None)
    assert sticker.json()["taken"] is False
    removed = await chat.client.delete(
        f"{CONSULT}/chat-bindings/{BOT}/*", headers=chat.operator.headers
    )
    assert removed.status_code == 204
    assert (await chat.delivered(31, QUESTION))["taken"] is False


async def test_out_of_hours_a_message_is_told_when_it_will_be_answered_once(chat: Chat) -> None:
    chat.clock.now += timedelta(days=6, hours=12)  # Sunday 22:00 in Khabarovsk: closed
    first = await chat.delivered(40, QUESTION)
    await chat.delivered(41, "Очень нужно!")
    thread = await chat.thread(first["appeal_id"])
    assert [each["kind"] for each in thread] == ["person", "out_of_hours", "person"]
    reply = thread[1]
    assert "в понедельник, 27 октября, после 08:00 по местному времени" in reply["text"]
    assert reply["delivery"]["channel"] == "telegram"
    await until(lambda: len(chat.telegram.sent) == 1)
    assert chat.telegram.sent == [{"chat_id": 5550001, "text": reply["text"]}]
    assert chat.telegram.refused == []
    # An English speaker is told in English.
    english = await chat.delivered(42, "Hello", chat_id=5550003, language_code="en-GB")
    told = (await chat.thread(english["appeal_id"]))[1]["text"]
    assert "on Monday, 27 October, after 08:00 local time" in told


async def test_a_reply_reaches_the_chat_once_after_telegram_asks_to_wait(chat: Chat) -> None:
    appeal_id = (await chat.delivered(50, QUESTION))["appeal_id"]
    chat.telegram.throttle.append(30)
    text = "Наличие лекарства знает аптека: позвоните на региональную справочную линию."
    posted = await chat.client.post(
        f"{CONSULT}/appeals/{appeal_id}/messages",
        json={"text": text},
        headers=chat.operator.headers,
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["author_id"] == str(chat.operator.id)
    assert posted.json()["delivery"]["status"] == "pending"

    async def state() -> dict[str, object]:
        delivery: dict[str, object] = (await chat.thread(appeal_id))[-1]["delivery"]
        return delivery

    async with asyncio.timeout(10):
        while (await state())["attempts"] == 0:  # noqa: ASYNC110 - polled through the API
            await asyncio.sleep(0.05)
    throttled = await state()
    assert throttled["status"] == "pending"
    assert "retry after 30" in str(throttled["last_error"])
    assert chat.telegram.sent == []
    chat.clock.now += timedelta(seconds=29)  # not yet: Telegram said 30 s
    chat.wake()
    await asyncio.sleep(0.3)
    assert chat.telegram.sent == []
    chat.clock.now += timedelta(seconds=1)
    chat.wake()
    await until(lambda: len(chat.telegram.sent) == 1)
    assert chat.telegram.sent == [{"chat_id": 5550001, "text": text}]
    async with asyncio.timeout(10):  # Telegram has it; the courier settles it just after
        while (sent := await state())["status"] == "pending":  # noqa: ASYNC110 - the API
            await asyncio.sleep(0.05)
    assert sent["status"] == "sent"
    assert sent["attempts"] == 2
    chat.wake()
    await asyncio.sleep(0.3)
    assert len(chat.telegram.sent) == 1  # settled: never sent twice
    assert chat.telegram.refused == []


async def test_a_reply_is_for_the_regions_operators_and_an_open_appeal(chat: Chat) -> None:
    appeal_id = (await chat.delivered(60, QUESTION))["appeal_id"]
    url = f"{CONSULT}/appeals/{appeal_id}/messages"
    far = await chat.client.post(url, json={"text": "Hi"}, headers=chat.far_operator.headers)
    assert far.status_code == 404
    empty = await chat.client.post(url, json={"text": "  "}, headers=chat.operator.headers)
    assert empty.status_code == 422
    too_long = await chat.client.post(url, json={"text": "я" * 4001}, headers=chat.operator.headers)
    assert too_long.status_code == 422
    closed = await chat.client.post(
        f"{CONSULT}/appeals/{appeal_id}/close", json={"reason": "A duplicate."},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert closed.status_code == 200
    late = await chat.client.post(url, json={"text": "Hello"}, headers=chat.operator.headers)
    assert late.status_code == 409
    assert late.json()["current_status"] == "closed"


async def test_the_redirect_answer_is_the_organisations_in_the_persons_language(
    chat: Chat,
) -> None:
    """The Khabarovsk example: asked whether a drug is in stock, the chat is told where to go,
    in the polyclinic's own words once it has worded them."""
    built_in = await chat.delivered(70, QUESTION)
    redirected = await chat.client.post(
        f"{CONSULT}/appeals/{built_in['appeal_id']}/redirect",
        json={"topic": "medicine_availability"}, headers=chat.operator.headers,
    )  # fmt: skip
    assert redirected.status_code == 200, redirected.text
    assert "региональной справочной линии о наличии лекарств" in redirected.json()["answer"]
    await until(lambda: len(chat.telegram.sent) == 1)
    assert chat.telegram.sent[0] == {"chat_id": 5550001, "text": redirected.json()["answer"]}

    own = (
        "О наличии лекарств в аптеках Хабаровска спросите по телефону справочной службы "
        "8 (4212) 00-00-00 или в аптеке; о замене подскажет ваш участковый врач."
    )
    answers = f"{CONSULT}/organizations/{chat.polyclinic['id']}/redirect-answers"
    worded = await chat.client.put(
        f"{answers}/medicine_availability/ru", json={"text": own}, headers=chat.operator.headers
    )
    assert worded.status_code == 200, worded.text
    assert worded.json()["built_in"] is False
    listed = (await chat.client.get(answers, headers=chat.operator.headers)).json()
    assert len(listed) == 6
    assert {(each["topic"], each["language"]) for each in listed if not each["built_in"]} == {
        ("medicine_availability", "ru")
    }
    again = await chat.delivered(71, "А ещё про метформин", chat_id=5550004)
    second = await chat.client.post(
        f"{CONSULT}/appeals/{again['appeal_id']}/redirect",
        json={"topic": "medicine_availability"}, headers=chat.operator.headers,
    )  # fmt: skip
    assert second.json()["answer"] == own
    await until(lambda: len(chat.telegram.sent) == 2)
    assert chat.telegram.sent[1] == {"chat_id": 5550004, "text": own}
    assert chat.telegram.refused == []


async def test_redirect_answers_are_worded_by_the_organisations_coordinators_only(
    chat: Chat,
) -> None:
    answers = f"{CONSULT}/organizations/{chat.polyclinic['id']}/redirect-answers"
    text = {"text": "Спросите в аптеке или у лечащего врача о замене препарата, пожалуйста."}
    far = await chat.client.put(
        f"{answers}/medicine_availability/ru", json=text, headers=chat.far_operator.headers
    )
    assert far.status_code == 403
    formulaic = await chat.client.put(
        f"{answers}/medicine_availability/ru", json={"text": "Ваше обращение обработано."},
        headers=chat.operator.headers,
    )  # fmt: skip
    assert formulaic.status_code == 422
    unknown_language = await chat.client.put(
        f"{answers}/medicine_availability/de", json=text, headers=chat.operator.headers
    )
    assert unknown_language.status_code == 422
    assert chat.stack.admin is not None
    admin = await chat.client.put(
        f"{answers}/emergency_care/en",
        json={"text": "Call 103 or 112 at once: the chat cannot send an ambulance."},
        headers=chat.stack.admin.headers,
    )
    assert admin.status_code == 200, admin.text
    reset = await chat.client.delete(f"{answers}/emergency_care/en", headers=chat.operator.headers)
    assert reset.status_code == 204
    gone = await chat.client.delete(f"{answers}/emergency_care/en", headers=chat.operator.headers)
    assert gone.status_code == 404


async def test_bindings_need_a_configured_bot_and_the_regions_staff(chat: Chat) -> None:
    body = {"name": "Kuzbass chat", "region": "27", "territory": KHABAROVSK}
    unknown = await chat.client.put(
        f"{CONSULT}/chat-bindings/nobot/*", json=body, headers=chat.operator.headers
    )
    assert unknown.status_code == 422
    far = await chat.client.put(
        f"{CONSULT}/chat-bindings/{BOT}/-100200300", json=body, headers=chat.far_operator.headers
    )
    assert far.status_code == 403
    listed = await chat.client.get(f"{CONSULT}/chat-bindings", headers=chat.operator.headers)
    assert [(each["bot"], each["chat_id"]) for each in listed.json()] == [(BOT, "*")]


async def test_set_webhook_sends_the_secret_token(chat: Chat) -> None:
    assert chat.stack.admin is not None
    url = "https://telemed.example.ru/api/consult/channels/telegram/khabarovsk"
    response = await chat.client.post(
        f"{CONSULT}/chat-bots/{BOT}/webhook", json={"url": url}, headers=chat.stack.admin.headers
    )
    assert response.status_code == 204, response.text
    assert chat.telegram.webhooks == [
        {"url": url, "secret_token": SECRET, "allowed_updates": ["message"]}
    ]
    assert TOKEN not in response.text
    refused = await chat.client.post(
        f"{CONSULT}/chat-bots/{BOT}/webhook", json={"url": url}, headers=chat.operator.headers
    )
    assert refused.status_code == 403
