"""Gateway settings (env prefix `TELEMED_GATEWAY_`)."""

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_settings import SettingsConfigDict

from gateway import cors
from gateway.accounts.settings import AccountsSettings
from gateway.notify.settings import NotifySettings
from gateway.oauth.settings import SignInSettings
from services.common.fhir_terms import FhirSettings
from services.common.settings import ServiceSettings


def default_services() -> dict[str, str | list[str]]:
    return {
        "consult": "http://127.0.0.1:8001",
        "files": "http://127.0.0.1:8002",
        "video": "http://127.0.0.1:8003",
        "scheduling": "http://127.0.0.1:8004",
        "web": "http://127.0.0.1:8005",  # the console: pages, not API (gateway/console.py)
    }


class GatewaySettings(
    ServiceSettings, NotifySettings, AccountsSettings, SignInSettings, FhirSettings
):
    model_config = SettingsConfigDict(
        env_prefix="TELEMED_GATEWAY_", env_file=".env", extra="ignore"
    )

    service_name: str = "gateway"
    # The gateway's address as people reach it: the base of every link in a message (email,
    # SMS) and of pages sent out of the API.
    public_url: str = "http://127.0.0.1:8000"
    # Who runs this deployment, as the API document's `contact` names them.
    api_contact_name: str = "telemed"
    api_contact_email: str | None = None
    # The public OAuth client that /docs' "Authorize" signs in as (docs/api.md: registering it
    # with the redirect URI <public_url>/docs/oauth2-redirect).
    api_docs_client_id: str = "telemed-api-docs"
    # One base URL per service, or a list of its instances: `{"consult": ["http://a:8001",
    # "http://b:8001"]}` spreads requests round-robin (gateway/balancer.py).
    services: dict[str, str | list[str]] = Field(default_factory=default_services)
    cors_origins: list[Annotated[str, AfterValidator(cors.origin)]] = Field(
        default_factory=list,
        description="Origins whose web pages may call the API from a browser "
        '(`["https://mis.example.org"]`, gateway/cors.py); none by default.',
    )
    signing_key_path: Path | None = None
    # The HMAC key of patients' personal visit links (gateway/visits/links.py): every replica
    # needs the same file, and replacing it breaks every link sent so far.
    visit_link_key_path: Path | None = None
    published_public_keys: list[Path] = Field(
        default_factory=list,
        description="PEM files of other keys the JWKS lists but the gateway never signs with: "
        "the next key before a rotation and the previous one after it, so no token fails.",
    )
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 14 * 24 * 3600
    # Sign-in throttling (gateway/signin.py): failures per account from one address, per
    # address over all accounts (higher: a district hospital's staff often share one NAT
    # address), and per account from everywhere, after which attempts are spaced out.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 30
    login_account_delay_after: int = 10
    login_account_delay_cap: float = 30.0
    login_window_seconds: int = 15 * 60
    proxy_connect_timeout: float = 2.0
    proxy_read_timeout: float = 30.0
    proxy_max_connections: int = 512
    # An idle pooled connection is not reused after this long: shorter than the services'
    # keep-alive (uvicorn's `--timeout-keep-alive`, 5 s in telemed/launcher.py), so the proxy
    # never sends a request on a connection the service is closing.
    proxy_keepalive_seconds: float = Field(default=3.0, gt=0)
    # How long an instance that refused a connection is left out of the rotation.
    proxy_rest_seconds: float = 5.0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024

    # Webhooks (gateway/webhooks/): the relay pulls these services' outboxes.
    event_sources: list[str] = Field(default_factory=lambda: ["consult", "scheduling", "video"])
    webhook_relay_interval: float = 1.0
    # With no subscription at all the outboxes are only drained this often (their events go
    # nowhere anyway), so an idle gateway does not poll every service every second.
    webhook_relay_idle_interval: float = 60.0
    webhook_relay_batch: int = 100
    webhook_poll_interval: float = 1.0
    webhook_delivery_timeout: float = 10.0
    webhook_concurrency: int = 16
    webhook_backoff_base: float = 10.0
    webhook_backoff_cap: float = 3600.0
    webhook_backoff_jitter: float = 0.2
    webhook_retry_window: float = 24 * 3600.0
    webhook_secret_grace: float = 24 * 3600.0
    webhook_legacy_signature: bool = Field(
        default=True,
        description="Also sign deliveries with the old `Telemed-Signature` header, beside the "
        "Standard Webhooks ones, until receivers have moved (docs/webhooks.md: it goes away "
        "with this setting in telemed 0.3.0, not before 2027-06-30).",
    )
    webhook_log_retention_days: int = 30
    webhook_allow_private_targets: bool = Field(
        default=True,
        description="True lets subscriptions post to http:// and to loopback or private "
        "addresses, for one-machine use. Set it false in production: URLs must then be "
        "https and must not resolve to loopback, private or link-local addresses.",
    )

    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.var_dir / "gateway" / "jwt_signing_key.pem"

    def resolved_visit_link_key_path(self) -> Path:
        return self.visit_link_key_path or self.var_dir / "gateway" / "visit_link.key"
