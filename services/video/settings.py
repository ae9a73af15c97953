"""Settings of the video service (env prefix `TELEMED_VIDEO_`): tokens, ICE servers, liveness."""

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.common.rendezvous import owner
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

    ward_alarm_after: float = Field(
        default=10.0,
        ge=1.0,
        le=300.0,
        description="Seconds without a frame from an occupied bed's camera before its alarm.",
    )
    ward_grid_interval: float = Field(
        default=1.0,
        ge=0.2,
        le=10.0,
        description="Seconds between the overview tiles' pictures: each is a keyframe the "
        "bed's camera is asked for (an IP camera sends its own at its keyframe interval).",
    )
    ward_roster_seconds: float = Field(
        default=5.0, gt=0, description="How often the monitoring job rereads wards and beds."
    )
    instance_url: str | None = Field(
        default=None,
        description="This instance's URL exactly as the gateway lists it, where several video "
        "instances run: each ingests the cameras of, and raises the alarms of, the wards it "
        "owns (rendezvous hashing, as the gateway routes them).",
    )
    instance_urls: list[str] = Field(
        default_factory=list,
        description="Every video instance's URL as the gateway lists them; empty: this "
        "instance owns every ward.",
    )

    def owns(self, key: str) -> bool:
        if not self.instance_urls or self.instance_url is None:
            return True
        return owner(self.instance_urls, key) == self.instance_url

    def resolved_join_key_path(self) -> Path:
        return self.join_key_path or self.var_dir / "video" / "join_token_key.pem"

    def resolved_recording_dir(self) -> Path:
        return self.recording_dir or self.var_dir / "video" / "recordings"
