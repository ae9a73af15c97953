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
    # The gateway's deny-list of revoked subjects (services/common/auth.py): polled this often,
    # so a deactivated user or revoked client stops working everywhere within about this bound.
    revocations_url: str = ""
    revocations_refresh_seconds: float = Field(default=2.0, gt=0)
    # HMAC key of the audit chains (services/common/audit.py), kept apart from the database.
    audit_key_path: Path | None = None

    # The transactional outbox of services that emit events (services/common/outbox.py):
    # acknowledged events are kept this long, for looking into, then pruned.
    outbox_retention_days: float = Field(default=7.0, gt=0)
    outbox_prune_interval_seconds: float = Field(default=3600.0, gt=0)

    # `Idempotency-Key` rows (services/common/idempotency.py): a retry comes within minutes,
    # and the rows hold what the first response held, so they are kept a day, then pruned.
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    idempotency_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    # HMAC key of the requests' fingerprints, kept apart from the database; every replica of
    # a service must have the same one (deploy/k8s mounts it from the service's Secret).
    idempotency_key_path: Path | None = None

    http_connect_timeout: float = 2.0
    http_read_timeout: float = 10.0

    # Request limits, checked before routing (services/common/limits.py). 1 MiB holds the
    # largest JSON the API takes (a case's texts are at most 20,000 characters each, some
    # KiB even \u-escaped) many times over, and caps what an anonymous body costs to refuse.
    # Uploads to the files service stream under its own `max_file_size` instead.
    max_body_size: int = Field(default=1024 * 1024, gt=0)
    # Longest wait for the next part of a body (408 then); an upload's, on a weak rural link,
    # is longer. The services' should be at least the gateway's, which relays the client's.
    body_read_timeout: float = Field(default=10.0, gt=0)
    upload_read_timeout: float = Field(default=60.0, gt=0)
    # More header fields than this are refused (431); their total size is capped by the
    # server's parser (telemed/launcher.py), before they are buffered.
    max_header_count: int = Field(default=100, gt=0)

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

    def resolved_revocations_url(self) -> str:
        return self.revocations_url or f"{self.gateway_url.rstrip('/')}/.well-known/revocations"

    def resolved_audit_key_path(self) -> Path:
        return self.audit_key_path or self.var_dir / self.service_name / "audit.key"

    def resolved_idempotency_key_path(self) -> Path:
        return self.idempotency_key_path or self.var_dir / self.service_name / "idempotency.key"
