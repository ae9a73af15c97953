"""Messages as people read them: each template's parameters (the producers' contract), and
its Jinja2 files per language and channel under `templates/<language>/`.

`<template>.email.txt` holds the blocks `subject` and `body` (inside `_email.txt`, which adds the
footer); `<template>.sms.txt`, where the template may go by SMS, the text of the SMS. Times
arrive as ISO 8601 UTC strings with an IANA `timezone` and are shown in that zone.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from gateway.notify.enums import Channel, Template

TEMPLATES_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

_VISIT = frozenset({"start", "timezone", "visit_type", "organization_name"})
_VISIT_OPTIONAL = frozenset({"practitioner_name", "join_link"})


@dataclass(frozen=True)
class Contract:
    """The parameters a template needs, and those it may get (absent or null)."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()


CONTRACT: dict[Template, Contract] = {
    Template.ACCOUNT_PASSWORD_RESET: Contract(frozenset({"link", "valid_hours"})),
    Template.ACCOUNT_INVITATION: Contract(frozenset({"link", "valid_hours", "organization_name"})),
    Template.ACCOUNT_NEW_SIGN_IN: Contract(frozenset({"at", "timezone", "address", "client"})),
    Template.VISIT_INVITATION: Contract(_VISIT, _VISIT_OPTIONAL),
    Template.VISIT_REMINDER_DAY: Contract(_VISIT, _VISIT_OPTIONAL),
    Template.VISIT_REMINDER_HOUR: Contract(_VISIT, _VISIT_OPTIONAL),
    Template.VISIT_CANCELLED: Contract(frozenset({"start", "timezone", "organization_name"})),
    Template.VISIT_RESCHEDULED: Contract(
        frozenset({"old_start", "start", "timezone", "organization_name"}),
        frozenset({"join_link"}),
    ),
    Template.VISIT_HOME: Contract(frozenset({"start", "end", "timezone", "organization_name"})),
    Template.CASE_CONCLUSION_READY: Contract(frozenset({"case_id", "case_link", "specialty"})),
    Template.CASE_INFO_REQUESTED: Contract(frozenset({"case_id", "case_link", "specialty"})),
    Template.CASE_NEW_URGENT: Contract(
        frozenset({"case_id", "case_link", "urgency", "specialty", "deadline", "timezone"})
    ),
    Template.CASE_DEADLINE_SOON: Contract(
        frozenset({"case_id", "case_link", "deadline", "timezone"})
    ),
}
# What may go by SMS: what a person must act on, or be told in time, away from their email.
SMS_FORMS = frozenset(
    {
        Template.ACCOUNT_PASSWORD_RESET,
        Template.ACCOUNT_INVITATION,
        Template.VISIT_INVITATION,
        Template.VISIT_REMINDER_DAY,
        Template.VISIT_REMINDER_HOUR,
        Template.VISIT_CANCELLED,
        Template.VISIT_RESCHEDULED,
        Template.VISIT_HOME,
        Template.CASE_NEW_URGENT,
        Template.CASE_DEADLINE_SOON,
    }
)
# Filled in by the sender, not the producer: the person's own name, the unsubscribe link.
EXTRAS = frozenset({"recipient_name", "unsubscribe_url"})

_MONTHS = {
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "en": "January February March April May June July August September October November December",
}


class RenderError(Exception):
    """The parameters do not fit the template: a producer's mistake, not a passing failure."""


@dataclass(frozen=True)
class Rendered:
    template: Template
    channel: Channel
    language: str
    subject: str | None  # email only
    text: str
    unsubscribe_url: str | None = None


def _instant(value: str, zone: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:  # the contract says UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RenderError(f"unknown time zone {zone!r}") from exc


def _offset(local: datetime) -> str:
    """`UTC+7`, `UTC+5:30`: short enough for an SMS, unambiguous anywhere."""
    offset = local.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset else 0
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@pass_context
def when(context: Context, value: str, zone: str) -> str:
    """`8 декабря 2026, 14:30 (Asia/Novokuznetsk)`, `8 December 2026, 14:30 (...)`."""
    local = _instant(value, zone)
    month = _MONTHS[context["lang"]].split()[local.month - 1]
    return f"{local.day} {month} {local.year}, {local:%H:%M} ({zone})"


@pass_context
def day_time(context: Context, value: str, zone: str) -> str:
    """`08.12 в 14:30`, `8 Dec at 14:30`: an SMS's date, with the zone said once elsewhere."""
    local = _instant(value, zone)
    if context["lang"] == "ru":
        return f"{local:%d.%m} в {local:%H:%M}"
    return f"{local.day} {_MONTHS['en'].split()[local.month - 1][:3]} at {local:%H:%M}"


def clock(value: str, zone: str) -> str:
    return f"{_instant(value, zone):%H:%M}"


def utc_offset(value: str, zone: str) -> str:
    return _offset(_instant(value, zone))


@pass_context
def hours(context: Context, count: int) -> str:
    """`24 часа`, `1 hour`: Russian has three plural forms."""
    if context["lang"] == "en":
        return f"{count} hour" + ("" if count == 1 else "s")
    if count % 10 == 1 and count % 100 != 11:
        return f"{count} час"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return f"{count} часа"
    return f"{count} часов"


def words(code: str) -> str:
    """A specialty's code as words: `family_medicine` is `family medicine`."""
    return code.replace("_", " ")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,  # a parameter a template names but nobody gave is an error
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        when=when, day_time=day_time, clock=clock, utc_offset=utc_offset, hours=hours, words=words
    )
    return env


ENV = environment()


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def _context(template: Template, params: Mapping[str, Any]) -> dict[str, Any]:
    contract = CONTRACT[template]
    missing = sorted(contract.required - params.keys())
    if missing:
        raise RenderError(f"{template.value} lacks the parameters {', '.join(missing)}")
    # Only the contract's parameters reach the template, whatever else a producer sent.
    allowed = contract.required | contract.optional
    return {name: params.get(name) for name in allowed}


def render(
    template: Template,
    channel: Channel,
    language: str,
    params: Mapping[str, Any],
    *,
    recipient_name: str = "",
    unsubscribe_url: str | None = None,
) -> Rendered:
    lang = language_of(language)
    values = _context(template, params) | {
        "lang": lang,
        "recipient_name": recipient_name,
        "unsubscribe_url": unsubscribe_url,
    }
    try:
        if channel is Channel.SMS:
            if template not in SMS_FORMS:
                raise RenderError(f"{template.value} has no SMS form")
            text = ENV.get_template(f"{lang}/{template.value}.sms.txt").render(values)
            return Rendered(template, channel, lang, None, " ".join(text.split()))
        email = ENV.get_template(f"{lang}/{template.value}.email.txt")
        subject = "".join(email.blocks["subject"](email.new_context(values)))
        body = email.render(values)
    except (TemplateError, ValueError, TypeError, KeyError) as exc:
        raise RenderError(f"{template.value} ({lang}, {channel.value}): {exc}") from exc
    return Rendered(
        template, channel, lang, " ".join(subject.split()), body.strip() + "\n", unsubscribe_url
    )
