"""Settings of the files service (env prefix `TELEMED_FILES_`)."""

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class FilesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_FILES_")

    service_name: str = "files"
