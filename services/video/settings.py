"""Settings of the video service (env prefix `TELEMED_VIDEO_`)."""

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class VideoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_VIDEO_")

    service_name: str = "video"
