"""The appeals' policies: deadlines by category and channel, callbacks, the built-in answers
(Russian and English) to topics the channels do not handle, the territory map's seed, the
escalation job and the PBX lines."""

import uuid
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from services.consult.appeals.enums import (
    AnswerLanguage,
    AppealCategory,
    AppealChannel,
    RedirectTopic,
)

# Working time (of the receiving organisation's hours) to answer an appeal, by category. A
# question is answered the same working day, a refused or paid-for service the next, a
# complaint that needs the clinic's explanation in two; a missing bed cannot wait.
DEFAULT_APPEAL_DEADLINES = {
    AppealCategory.QUESTION: timedelta(hours=4),
    AppealCategory.APPOINTMENT_HELP: timedelta(hours=8),
    AppealCategory.REFUSAL_OF_FREE_CARE: timedelta(hours=12),
    AppealCategory.PAID_SERVICE_IMPOSITION: timedelta(hours=12),
    AppealCategory.WAITING_TIME: timedelta(hours=24),
    AppealCategory.COMPLAINT: timedelta(hours=24),
    AppealCategory.HOSPITAL_BED: timedelta(hours=2),
    AppealCategory.OTHER: timedelta(hours=24),
}
# A written question (web form, an MIS) is answered within one working day, not four hours.
DEFAULT_CHANNEL_DEADLINES = {
    AppealChannel.WEB: {AppealCategory.QUESTION: timedelta(hours=12)},
    AppealChannel.API: {AppealCategory.QUESTION: timedelta(hours=12)},
}


class AppealDeadlinePolicy(BaseModel):
    """Working time to answer an appeal: by category, overridden per channel."""

    model_config = ConfigDict(frozen=True)

    by_category: dict[AppealCategory, timedelta] = Field(
        default_factory=lambda: dict(DEFAULT_APPEAL_DEADLINES)
    )
    by_channel: dict[AppealChannel, dict[AppealCategory, timedelta]] = Field(
        default_factory=lambda: {
            channel: dict(overrides) for channel, overrides in DEFAULT_CHANNEL_DEADLINES.items()
        }
    )

    def working_time(self, channel: AppealChannel, category: AppealCategory) -> timedelta:
        overrides = self.by_channel.get(channel, {})
        if category in overrides:
            return overrides[category]
        return self.by_category.get(category, DEFAULT_APPEAL_DEADLINES[category])


class CallbackPolicy(BaseModel):
    """When the patient is called back and how often we try."""

    model_config = ConfigDict(frozen=True)

    due_within: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    retry_after: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    max_attempts: int = Field(default=3, ge=1, le=20)


class TelephonyPolicy(BaseModel):
    """Which hotline each PBX line is, and where consult may fetch call recordings from
    (`TELEMED_CONSULT_TELEPHONY` as JSON; docs/telephony.md)."""

    model_config = ConfigDict(frozen=True)

    lines: dict[str, uuid.UUID] = Field(
        default_factory=dict,
        description="A PBX line or queue name to the hotline organisation that answers it; a "
        "line not named here is the reporting telephony client's own organisation's.",
    )
    recording_sources: list[HttpUrl] = Field(
        default_factory=list,
        description="URL prefixes consult fetches `recording_url`s from (the PBX's recording "
        "server); none by default, so a client cannot make consult fetch anything else.",
    )
    recording_max_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    recording_fetch_seconds: float = Field(default=120.0, gt=0)


# What the person is told at once when they ask what the channels do not handle, in each
# language an appeal is answered in; an organisation words its own (`answers.py`).
DEFAULT_REDIRECT_ANSWERS: dict[AnswerLanguage, dict[RedirectTopic, str]] = {
    AnswerLanguage.RU: {
        RedirectTopic.DIAGNOSIS_OR_TREATMENT: (
            "Поставить диагноз, назначить лечение или выписать рецепт по телефону или в чате "
            "нельзя: пожалуйста, запишитесь на приём к своему врачу в поликлинике. Если вам "
            "стало хуже, звоните 103 (скорая помощь) или 112."
        ),
        RedirectTopic.MEDICINE_AVAILABILITY: (
            "Горячая линия не знает, есть ли лекарство в аптеках. Спросите в аптеке или по "
            "региональной справочной линии о наличии лекарств; если лекарства нет, ваш лечащий "
            "врач подскажет, чем его можно заменить."
        ),
        RedirectTopic.EMERGENCY_CARE: (
            "За экстренной помощью или для экстренной госпитализации звоните прямо сейчас "
            "103 (скорая помощь) или 112."
        ),
    },
    AnswerLanguage.EN: {
        RedirectTopic.DIAGNOSIS_OR_TREATMENT: (
            "A diagnosis, treatment or a prescription cannot be given by the hotline or in a "
            "chat: please book a visit to your doctor at your polyclinic. If you feel worse, "
            "call 103 (ambulance) or 112."
        ),
        RedirectTopic.MEDICINE_AVAILABILITY: (
            "Whether a pharmacy has a medicine in stock is not known to the hotline: please ask "
            "the pharmacy or the regional drug-availability information line, or your doctor "
            "about a replacement."
        ),
        RedirectTopic.EMERGENCY_CARE: (
            "For emergency care or emergency hospitalisation call 103 (ambulance) or 112 now."
        ),
    },
}


class AppealsSettings(BaseModel):
    """The appeals' share of the consult settings (`TELEMED_CONSULT_` variables)."""

    appeal_deadlines: AppealDeadlinePolicy = AppealDeadlinePolicy()
    appeal_redirect_answers: dict[AnswerLanguage, dict[RedirectTopic, str]] = Field(
        default_factory=lambda: {
            language: dict(answers) for language, answers in DEFAULT_REDIRECT_ANSWERS.items()
        },
        description="The templated answer to an appeal on a topic the channels do not handle, "
        "per language, where an organisation has not worded its own: "
        '`{"ru": {"medicine_availability": "..."}, "en": {...}}`. The earlier shape, by topic '
        "alone, is still read as the English answers.",
    )
    appeal_territories_file: Path | None = Field(
        default=None,
        description="A JSON list of {region, code, name, organization_id} merged into the "
        "territory map at start-up; the map is edited through the API as well.",
    )
    appeal_escalation_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often overdue appeals are looked for."
    )
    callbacks: CallbackPolicy = CallbackPolicy()
    telephony: TelephonyPolicy = TelephonyPolicy()

    @field_validator("appeal_redirect_answers", mode="before")
    @classmethod
    def _by_topic_alone(cls, value: object) -> object:
        """A deployment configured before answers had languages names topics at the top: its
        answers were the English ones (the Russian stay the built-in)."""
        topics = {topic.value for topic in RedirectTopic}
        if isinstance(value, dict) and value and set(value) <= topics:
            return {AnswerLanguage.EN.value: value}
        return value
