"""Gateway settings (env prefix `TELEMED_GATEWAY_`)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


def default_services() -> dict[str, str]:
    return {
        "consult": "http://127.0.0.1:8001",
        "files": "http://127.0.0.1:8002",
        "video": "http://127.0.0.1:8003",
        "scheduling": "http://127.0.0.1:8004",
    }


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="TELEMED_GATEWAY_", env_file=".env", extra="ignore"
    )

    service_name: str = "gateway"
    services: dict[str, str] = Field(default_factory=default_services)
    signing_key_path: Path | None = None
    published_public_keys: list[Path] = Field(
        default_factory=list,
        description="PEM files of other keys the JWKS lists but the gateway never signs with: "
        "the next key before a rotation and the previous one after it, so no token fails.",
    )
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 14 * 24 * 3600
    login_max_failures: int = 5
    # Higher per address: a district hospital's staff often share one NAT address.
    login_max_failures_per_address: int = 30
    login_window_seconds: int = 15 * 60
    proxy_connect_timeout: float = 2.0
    proxy_read_timeout: float = 30.0
    proxy_max_connections: int = 512
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024

    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.var_dir / "gateway" / "jwt_signing_key.pem"
