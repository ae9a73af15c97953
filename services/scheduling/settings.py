"""Settings of the scheduling service (env prefix `TELEMED_SCHEDULING_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_SCHEDULING_")

    service_name: str = "scheduling"
    hold_minutes: int = Field(
        default=5, ge=1, le=24 * 60, description="How long a proposed slot is held for."
    )
    max_availability_days: int = Field(
        default=31, ge=1, le=366, description="The longest `from`..`to` one query may span."
    )
    max_series: int = Field(default=26, ge=1, le=104, description="Follow-ups planned at once.")
    reminder_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the reminder job runs."
    )
    reminder_batch: int = Field(default=100, ge=1, le=10_000)
    reminder_max_attempts: int = Field(default=5, ge=1, le=100)
    reminder_retry_seconds: float = Field(
        default=60.0, gt=0, description="Delay before a failed delivery is tried again."
    )
    reminder_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A claimed reminder not reported delivered by then is tried again.",
    )
    reminder_channel: str = Field(
        default="services.scheduling.reminders:LogChannel",
        description="`module:factory` of the delivery channel; the default writes to the log.",
    )
