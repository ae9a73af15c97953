"""Settings of the consult service (env prefix `TELEMED_CONSULT_`), including deadline policies."""

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


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

    def resolved_signing_key_path(self) -> Path:
        """The configured key file, or `consult/conclusion_signing_key.pem` under `var_dir`."""
        return self.signing_key_path or self.var_dir / "consult" / "conclusion_signing_key.pem"

    def deadline_policy(self, region: str) -> DeadlinePolicy:
        return self.deadline_policies.get(region, self.default_deadline_policy)
