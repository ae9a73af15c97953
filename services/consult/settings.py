"""Settings of the consult service (env prefix `TELEMED_CONSULT_`), including deadline policies."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings
from services.consult.enums import AppealCategory, AppealChannel, RedirectTopic
from services.consult.thresholds import Key, Programme, default_programmes


class DeadlinePolicy(BaseModel):
    """How long a region gives specialists to answer, by urgency (Order 193n ranges)."""

    model_config = ConfigDict(frozen=True)

    emergency: timedelta = Field(default=timedelta(hours=2), gt=timedelta(0))
    urgent: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    planned_days: int = Field(default=7, ge=1, le=90)


# Signs of a worsening that a written answer within the planned deadline would not wait for.
DEFAULT_WORSENING_SIGNS = frozenset(
    {
        "chest_pain",
        "shortness_of_breath",
        "fainting",
        "bleeding",
        "high_fever",
        "severe_headache",
        "sudden_weakness_or_numbness",
        "confusion",
        "vision_loss",
        "severe_abdominal_pain",
        "leg_swelling",
        "palpitations",
    }
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


# What the patient is told at once when they ask what the channel does not handle.
DEFAULT_REDIRECT_ANSWERS = {
    RedirectTopic.DIAGNOSIS_OR_TREATMENT: (
        "A diagnosis, treatment or a prescription cannot be given by the hotline or in a chat: "
        "please book a visit to your doctor at your polyclinic. If you feel worse, call 103 "
        "(ambulance) or 112."
    ),
    RedirectTopic.MEDICINE_AVAILABILITY: (
        "Whether a pharmacy has a medicine in stock is not known to the hotline: please ask the "
        "pharmacy, or your doctor about a replacement."
    ),
    RedirectTopic.EMERGENCY_CARE: (
        "For emergency care or emergency hospitalisation call 103 (ambulance) or 112 now."
    ),
}


class ConsultSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_CONSULT_")

    service_name: str = "consult"
    signing_key_path: Path | None = None
    retired_signing_keys: list[Path] = Field(
        default_factory=list,
        description="PEM files of earlier conclusion keys: what they signed still verifies.",
    )
    default_deadline_policy: DeadlinePolicy = DeadlinePolicy()
    deadline_policies: dict[str, DeadlinePolicy] = Field(
        default_factory=dict, description="Per region code; regions not listed use the default."
    )
    worsening_signs: frozenset[str] = Field(
        default=DEFAULT_WORSENING_SIGNS,
        description="Signs a patient may report with a request; any of them makes the request "
        "urgent and flags it.",
    )
    monitoring_programmes: dict[Key, Programme] = Field(
        default_factory=default_programmes,
        description="Monitoring programmes by key, each with its check-in interval, the "
        "symptoms asked and the thresholds that escalate; replaces the defaults as a whole.",
    )
    appeal_deadlines: AppealDeadlinePolicy = AppealDeadlinePolicy()
    appeal_redirect_answers: dict[RedirectTopic, str] = Field(
        default_factory=lambda: dict(DEFAULT_REDIRECT_ANSWERS),
        description="The templated answer to an appeal on a topic the channels do not handle.",
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
    stats_timezone: ZoneInfo = Field(
        default=ZoneInfo("UTC"),
        description="Whose calendar days the figures count in: a period's days and each day's "
        "cohorts. A region's portal sets the region's zone.",
    )
    stats_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often days are rolled up and the gauges refreshed."
    )
    stats_final_after_days: int = Field(
        default=14,
        ge=1,
        le=90,
        description="Days after which a day's figures are final although some of its cases or "
        "appeals are still open (they stay counted as late); until then each run rolls it up "
        "again.",
    )
    stats_window_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="The days up to today that the figures cover when no period is asked "
        "for, and that the Prometheus gauges always cover.",
    )

    def resolved_signing_key_path(self) -> Path:
        """The configured key file, or `consult/conclusion_signing_key.pem` under `var_dir`."""
        return self.signing_key_path or self.var_dir / "consult" / "conclusion_signing_key.pem"

    def deadline_policy(self, region: str) -> DeadlinePolicy:
        return self.deadline_policies.get(region, self.default_deadline_policy)
