"""The automatic reply to a message that comes while the responsible organisation is closed:
when it will be answered, as a wall-clock time in the organisation's zone, in the person's
language."""

from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.client import Organization
from services.consult.appeals.enums import AnswerLanguage

# "When" in Russian: the weekday with its preposition, as the accusative takes it.
RU_WEEKDAYS = (
    "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
    "в воскресенье",
)  # fmt: skip
RU_MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def language_of(tag: str | None) -> AnswerLanguage:
    """Russian for a Russian speaker and when the chat does not say (the chats are Russian
    regions'), English for anyone else."""
    if tag is None or tag.strip().lower().split("-")[0] == "ru":
        return AnswerLanguage.RU
    return AnswerLanguage.EN


def out_of_hours_reply(
    organization: Organization, opens_at: datetime, language: AnswerLanguage
) -> str:
    """Says the message is received and when the organisation opens, in its own zone."""
    local = opens_at.astimezone(ZoneInfo(organization.timezone))
    time = local.strftime("%H:%M")
    if language is AnswerLanguage.RU:
        day = f"{RU_WEEKDAYS[local.weekday()]}, {local.day} {RU_MONTHS[local.month - 1]}"
        return (
            f"Здравствуйте! Ваше сообщение получено. Сейчас чат не работает: операторы "
            f"ответят вам {day}, после {time} по местному времени. Если нужна экстренная "
            f"помощь, звоните 103 или 112."
        )
    day = f"{EN_WEEKDAYS[local.weekday()]}, {local.day} {EN_MONTHS[local.month - 1]}"
    return (
        f"Hello! Your message has been received. The chat is closed now: an operator will "
        f"answer you on {day}, after {time} local time. For emergency care call 103 or 112."
    )
