"""Settings base shared by every service: each service subclasses it with its own env prefix."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class ServiceSettings(BaseSettings):
    """What every service needs to run; defaults work on one machine with no set-up."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    service_name: str = "service"
    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    log_level: str = "INFO"
    json_logs: bool = True

    gateway_url: str = "http://127.0.0.1:8000"
    jwt_issuer: str = "telemed-gateway"
    jwt_audience: str = "telemed"
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["EdDSA", "ES256", "RS256"])
    jwks_url: str = ""
    jwks_cache_seconds: float = 300.0

    # The transactional outbox of services that emit events (services/common/outbox.py):
    # acknowledged events are kept this long, for looking into, then pruned.
    outbox_retention_days: float = Field(default=7.0, gt=0)
    outbox_prune_interval_seconds: float = Field(default=3600.0, gt=0)

    http_connect_timeout: float = 2.0
    http_read_timeout: float = 10.0

    # Tracing (services/common/tracing.py). With `none`, spans are not recorded but still get
    # ids, so `traceparent` propagates and log lines carry trace ids.
    otel_exporter: Literal["none", "otlp", "console"] = "none"
    # OTLP/HTTP traces URL; empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else localhost:4318.
    otel_endpoint: str = ""
    # Share of new traces recorded; a caller's sampling decision is always followed.
    otel_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file under `var/` named after the service."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.sqlite3')}"

    def resolved_jwks_url(self) -> str:
        return self.jwks_url or f"{self.gateway_url.rstrip('/')}/.well-known/jwks.json"
