"""Every template renders in both languages from its contract's parameters, names no other, and
its SMS form is short and holds nothing but those parameters and fixed text."""

import re
from typing import Any

import pytest
from jinja2 import meta

from gateway.notify.enums import Channel, Template
from gateway.notify.templates import (
    CONTRACT,
    ENV,
    EXTRAS,
    LANGUAGES,
    SMS_FORMS,
    TEMPLATES_DIR,
    RenderError,
    render,
)

# Links as the producers make them under a public URL of 27 characters: a password link
# (gateway/accounts/links.py), a patient's visit link (gateway/visits/links.py), a case.
PUBLIC_URL = "https://telemed.example.org"
# Realistic values of every parameter of the contract, at their longest plausible.
VALUES: dict[str, Any] = {
    "link": f"{PUBLIC_URL}/account/password?token=" + "P" * 43,
    "valid_hours": 24,
    "organization_name": "ГБУЗ «Новокузнецкая городская клиническая больница № 1»",
    "at": "2026-12-08T07:30:00Z",
    "timezone": "Asia/Novokuznetsk",
    "address": "203.0.113.7",
    "client": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
    "start": "2026-12-08T07:30:00Z",
    "old_start": "2026-12-07T03:00:00Z",
    "end": "2026-12-08T11:00:00Z",
    "visit_type": "remote",
    "practitioner_name": "Соколова Елена Викторовна",
    "join_link": f"{PUBLIC_URL}/visit/" + "V" * 64,
    "case_id": "0b9c1f1e-7d5e-4e0b-9a39-3b7c5b7f6c11",
    "case_link": f"{PUBLIC_URL}/cases/0b9c1f1e-7d5e-4e0b-9a39-3b7c5b7f6c11",
    "specialty": "cardiology",
    "urgency": "urgent",
    "deadline": "2026-12-08T10:00:00Z",
}
# Never a parameter; a producer that sent one anyway must not see it in a message.
CLINICAL = {"diagnosis": "I21.0 острый инфаркт миокарда", "complaint": "давящая боль в груди"}
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def params_of(template: Template, **changes: Any) -> dict[str, Any]:
    contract = CONTRACT[template]
    return {name: VALUES[name] for name in contract.required | contract.optional} | changes


def segments(text: str) -> int:
    """SMS parts: 160 GSM-7 characters alone or 153 each when split; with any other character
    (Cyrillic) the text goes as UCS-2: 70 alone, 67 each when split."""
    single, part = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


def forms(template: Template) -> list[dict[str, Any]]:
    """The parameter sets that take different branches of a template."""
    if "visit_type" in CONTRACT[template].required:
        return [params_of(template), params_of(template, visit_type="in_person", join_link=None)]
    return [params_of(template)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", list(Template))
def test_every_email_renders_in_both_languages(template: Template, language: str) -> None:
    greeting = {"ru": "Здравствуйте, Анна Иванова!", "en": "Hello Анна Иванова,"}[language]
    for params in forms(template):
        rendered = render(
            template,
            Channel.EMAIL,
            language,
            params | CLINICAL,
            recipient_name="Анна Иванова",
            unsubscribe_url="https://telemed.example.org/notify/unsubscribe?token=t",
        )
        assert rendered.language == language
        assert rendered.subject
        assert "\n" not in rendered.subject
        assert rendered.text.startswith(greeting)
        assert "unsubscribe?token=t" in rendered.text
        for name in ("link", "join_link", "case_link", "organization_name", "client"):
            if params.get(name):
                assert params[name] in rendered.text, name
        assert "None" not in rendered.text + rendered.subject
        for clinical in CLINICAL.values():
            assert clinical not in rendered.text + rendered.subject
        # Fixed text is in the person's language: Russian has Cyrillic beyond the parameters.
        fixed = rendered.subject + rendered.text
        for value in (*params.values(), "Анна Иванова"):
            fixed = fixed.replace(str(value), "")
        assert bool(re.search("[\u0400-\u04ff]", fixed)) == (language == "ru")


@pytest.mark.parametrize("template", list(Template))
def test_a_missing_parameter_is_an_error_at_render_time(template: Template) -> None:
    for name in CONTRACT[template].required:
        params = params_of(template)
        del params[name]
        for channel in (Channel.EMAIL, *([Channel.SMS] if template in SMS_FORMS else [])):
            with pytest.raises(RenderError, match=name):
                render(template, channel, "ru", params)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_template_names_only_its_contracts_parameters(language: str) -> None:
    """Read from the templates' source: no template can show anything a producer did not
    hand over under the contract (nor clinical text, which the contract never holds)."""
    for template, contract in CONTRACT.items():
        allowed = contract.required | contract.optional | {"lang"}
        for channel in ("email", "sms"):
            path = TEMPLATES_DIR / language / f"{template.value}.{channel}.txt"
            if channel == "sms" and template not in SMS_FORMS:
                assert not path.exists(), path
                continue
            named = meta.find_undeclared_variables(ENV.parse(path.read_text()))
            extras = EXTRAS if channel == "email" else frozenset()
            assert named <= allowed | extras, (path.name, named - allowed - extras)
            if channel == "sms":
                assert "recipient_name" not in named  # no names in a text anyone may see


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(SMS_FORMS))
def test_an_sms_is_two_segments_at_most(template: Template, language: str) -> None:
    for params in forms(template):
        text = render(template, Channel.SMS, language, params).text
        assert segments(text) <= 2, (len(text), text)


def _rendered_values(language: str) -> list[str]:
    """What the parameters of `VALUES` become in an SMS: the values, and the times and counts
    as the filters write them."""
    dates = {
        "ru": ["08.12 в 14:30", "07.12 в 10:00", "08.12 в 17:00", "14:30", "18:00", "24 часа"],
        "en": ["8 Dec at 14:30", "7 Dec at 10:00", "8 Dec at 17:00", "14:30", "18:00", "24 hours"],
    }[language]
    return [str(value) for value in VALUES.values()] + dates + ["UTC+7"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(SMS_FORMS))
def test_an_sms_holds_only_the_parameters_and_fixed_text(template: Template, language: str) -> None:
    source = (TEMPLATES_DIR / language / f"{template.value}.sms.txt").read_text()
    for params in forms(template):
        text = render(template, Channel.SMS, language, params | CLINICAL).text
        rest = text
        for value in sorted(_rendered_values(language), key=len, reverse=True):
            rest = rest.replace(value, " ")
        for word in re.findall(r"\w+", rest):
            assert word in source, (word, text)
        for clinical in CLINICAL.values():
            assert clinical not in text


def test_times_are_shown_in_the_messages_zone_in_each_language() -> None:
    params = params_of(Template.VISIT_INVITATION)
    ru = render(Template.VISIT_INVITATION, Channel.EMAIL, "ru", params)
    en = render(Template.VISIT_INVITATION, Channel.EMAIL, "en", params)
    assert "8 декабря 2026, 14:30 (Asia/Novokuznetsk)" in ru.text
    assert ru.subject == "Видеоприём 8 декабря 2026, 14:30 (Asia/Novokuznetsk)"
    assert "8 December 2026, 14:30 (Asia/Novokuznetsk)" in en.text
    moscow = render(
        Template.VISIT_CANCELLED, Channel.SMS, "ru", params_of(Template.VISIT_CANCELLED,
        timezone="Europe/Moscow"),
    ).text  # fmt: skip
    assert moscow.startswith("Приём 08.12 в 10:30 (UTC+3) отменён.")
    # A visit late in the evening UTC is the next morning in Kamchatka (UTC+12).
    kamchatka = render(
        Template.VISIT_REMINDER_HOUR, Channel.SMS, "en", params_of(Template.VISIT_REMINDER_HOUR,
        start="2026-12-31T21:15:00Z", timezone="Asia/Kamchatka"),
    ).text  # fmt: skip
    assert kamchatka.startswith("Video visit in an hour, at 09:15: https://")
    with pytest.raises(RenderError, match="time zone"):
        render(
            Template.VISIT_CANCELLED,
            Channel.EMAIL,
            "ru",
            params_of(Template.VISIT_CANCELLED, timezone="Mars/Olympus"),
        )


@pytest.mark.parametrize(
    ("hours", "ru", "en"),
    [(1, "1 час", "1 hour"), (2, "2 часа", "2 hours"), (5, "5 часов", "5 hours"),
     (11, "11 часов", "11 hours"), (21, "21 час", "21 hours"), (24, "24 часа", "24 hours"),
     (72, "72 часа", "72 hours")],
)  # fmt: skip
def test_durations_agree_with_their_number(hours: int, ru: str, en: str) -> None:
    params = params_of(Template.ACCOUNT_PASSWORD_RESET, valid_hours=hours)
    assert (
        f"ссылка на {ru}: "
        in render(Template.ACCOUNT_PASSWORD_RESET, Channel.SMS, "ru", params).text
    )
    assert (
        f"valid for {en}: "
        in render(Template.ACCOUNT_PASSWORD_RESET, Channel.SMS, "en", params).text
    )


def test_an_unknown_language_reads_russian_and_a_template_without_sms_has_none() -> None:
    params = params_of(Template.CASE_CONCLUSION_READY)
    assert render(Template.CASE_CONCLUSION_READY, Channel.EMAIL, "de", params).language == "ru"
    with pytest.raises(RenderError, match="no SMS form"):
        render(Template.CASE_CONCLUSION_READY, Channel.SMS, "ru", params)
