"""Settings of the video service (env prefix `TELEMED_VIDEO_`): tokens, ICE servers, liveness."""

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class TurnServer(BaseModel):
    """A coturn server using the REST API shared secret (`use-auth-secret`)."""

    model_config = ConfigDict(frozen=True)

    urls: list[str]
    secret: str


class VideoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_VIDEO_")

    service_name: str = "video"
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where patients reach the gateway; join links are built on it.",
    )
    join_key_path: Path | None = None
    join_token_seconds: int = Field(default=4 * 3600, ge=60)
    open_before: timedelta = Field(default=timedelta(minutes=15))
    stun_urls: list[str] = Field(default_factory=list)
    turn_servers: list[TurnServer] = Field(default_factory=list)
    turn_credential_seconds: int = Field(default=12 * 3600, ge=60)
    heartbeat_timeout: float = Field(default=6.0, gt=0, le=10.0)
    connect_timeout: float = Field(default=20.0, gt=0)
    stats_interval: float = Field(default=2.0, gt=0)
    recording_dir: Path | None = None
    forward_encoded: bool = Field(
        default=True,
        description="Forward publishers' encoded frames to subscribers on the same codec instead "
        "of decoding and re-encoding them per subscriber (off: for comparison in the benchmark).",
    )

    def resolved_join_key_path(self) -> Path:
        return self.join_key_path or self.var_dir / "video" / "join_token_key.pem"

    def resolved_recording_dir(self) -> Path:
        return self.recording_dir or self.var_dir / "video" / "recordings"
