"""`TELEMED_CONSULT_APPEAL_REDIRECT_ANSWERS` in its shape by language then topic, and in the
earlier shape by topic alone (read as the English answers), as the environment gives it."""

import json

import pytest
from pydantic import ValidationError

from services.consult.appeals.answers import built_in
from services.consult.appeals.enums import AnswerLanguage, RedirectTopic
from services.consult.appeals.settings import DEFAULT_REDIRECT_ANSWERS
from services.consult.settings import ConsultSettings

VARIABLE = "TELEMED_CONSULT_APPEAL_REDIRECT_ANSWERS"
MEDICINE = RedirectTopic.MEDICINE_AVAILABILITY
OWN_RU = "Наличие лекарства подскажет краевая справочная о лекарствах: 8 (4212) 40-00-00."  # noqa: RUF001
OWN_EN = "The regional drug-availability line knows which pharmacy has it: 8 (4212) 40-00-00."


def test_answers_by_language_then_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, json.dumps({"ru": {"medicine_availability": OWN_RU}}))
    settings = ConsultSettings()
    assert built_in(settings, MEDICINE, AnswerLanguage.RU) == OWN_RU
    # What the deployment leaves out is the built-in answer.
    english = DEFAULT_REDIRECT_ANSWERS[AnswerLanguage.EN][MEDICINE]
    assert built_in(settings, MEDICINE, AnswerLanguage.EN) == english


def test_the_earlier_shape_by_topic_alone_is_read_as_the_english_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VARIABLE, json.dumps({"medicine_availability": OWN_EN}))
    settings = ConsultSettings()
    assert settings.appeal_redirect_answers == {AnswerLanguage.EN: {MEDICINE: OWN_EN}}
    assert built_in(settings, MEDICINE, AnswerLanguage.EN) == OWN_EN
    russian = DEFAULT_REDIRECT_ANSWERS[AnswerLanguage.RU][MEDICINE]
    assert built_in(settings, MEDICINE, AnswerLanguage.RU) == russian


@pytest.mark.parametrize(
    "value",
    [
        {"horoscopes": "Ask the stars."},  # neither a topic nor a language
        {"de": {"medicine_availability": "Fragen Sie die Apotheke."}},
        {"medicine_availability": "x", "ru": {"emergency_care": "103"}},  # the shapes mixed
    ],
)
def test_anything_else_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, value: dict[str, object]
) -> None:
    monkeypatch.setenv(VARIABLE, json.dumps(value))
    with pytest.raises(ValidationError):
        ConsultSettings()
