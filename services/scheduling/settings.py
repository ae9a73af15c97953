"""Settings of the scheduling service (env prefix `TELEMED_SCHEDULING_`)."""

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_SCHEDULING_")

    service_name: str = "scheduling"
