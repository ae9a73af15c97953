"""The cases' policies: deadlines by urgency per region, and the signs that make a patient's
request urgent."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


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


class CasesSettings(BaseModel):
    """The cases' share of the consult settings (`TELEMED_CONSULT_` variables)."""

    default_deadline_policy: DeadlinePolicy = DeadlinePolicy()
    deadline_policies: dict[str, DeadlinePolicy] = Field(
        default_factory=dict, description="Per region code; regions not listed use the default."
    )
    deadline_warning_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="How long before a case's deadline `case.deadline_soon` is announced "
        "(once per case) to the specialist who has it, or to the specialty's specialists.",
    )
    deadline_warning_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the deadline job looks for such cases."
    )
    worsening_signs: frozenset[str] = Field(
        default=DEFAULT_WORSENING_SIGNS,
        description="Signs a patient may report with a request; any of them makes the request "
        "urgent and flags it.",
    )

    def deadline_policy(self, region: str) -> DeadlinePolicy:
        return self.deadline_policies.get(region, self.default_deadline_policy)
