"""Settings of the scheduling service (env prefix `TELEMED_SCHEDULING_`)."""

import json
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.fhir_terms import FhirSettings
from services.common.grants import default_consult_key_path
from services.common.settings import ServiceSettings


class SchedulingSettings(ServiceSettings, FhirSettings):
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
    video_client_id: str = Field(
        default="",
        description="The gateway API client (scope `video:rooms`) scheduling acts as when it "
        "sets up and closes video rooms; without one, remote visits' rooms stay pending.",
    )
    video_client_secret: SecretStr = SecretStr("")
    video_client_file: Path | None = Field(
        default=None,
        description="Where `telemed seed --demo` leaves that client's credentials (JSON), read "
        "when the two settings above are empty; default `<var_dir>/scheduling/video_client.json`.",
    )
    join_link_before: timedelta = Field(
        default=timedelta(minutes=15),
        description="How long before a video visit begins its patient's join link is issued.",
    )
    consult_grant_keys: list[Path] = Field(
        default_factory=list,
        description="PEM files of the consult service's grant keys (its current one and any "
        "retired), public or private, that its `case.link` grants are checked with; default "
        "`consult/grant_signing_key.pem` under `var_dir`, where consult keeps its own.",
    )

    def resolved_consult_grant_keys(self) -> list[Path]:
        return self.consult_grant_keys or [default_consult_key_path(self.var_dir)]

    def resolved_video_client_file(self) -> Path:
        return self.video_client_file or self.var_dir / "scheduling" / "video_client.json"

    def video_client_credentials(self) -> tuple[str, SecretStr] | None:
        """The settings' client, else the file's (looked at on every call, so a client
        registered while the service runs is taken up), else None."""
        if self.video_client_id:
            return self.video_client_id, self.video_client_secret
        try:
            stored = json.loads(self.resolved_video_client_file().read_text())
            return str(stored["client_id"]), SecretStr(str(stored["client_secret"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
