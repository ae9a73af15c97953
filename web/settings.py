"""Settings of the web console (env prefix `TELEMED_WEB_`): where the gateway is, for the
browser and for the server's own calls, the console's OAuth client, and its sessions."""

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings

LOOPBACK_NAMES = frozenset({"localhost"})


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TELEMED_WEB_")

    service_name: str = "web"
    # `gateway_url` (inherited) is where this process calls the gateway (token endpoint, API);
    # `public_url` is the gateway as browsers see it: sign-in redirects go there, and the
    # console's own pages are under it too (the gateway routes them here).
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway's address as browsers see it (the console is served under it).",
    )
    oauth_client_id: str = "telemed-console"
    oauth_client_secret: SecretStr = Field(
        default=SecretStr(""),
        description="The console's client secret; empty: read from `client_secret_path`, "
        "which `telemed seed` writes when it registers the console.",
    )
    client_secret_path: Path | None = None
    # Fernet key the tokens in the session store are encrypted with (web/crypto.py).
    session_key_path: Path | None = None
    # A signed-in session ends this long after sign-in, whatever the tokens' lifetimes; a
    # session still signing in (the browser at the gateway's page) is forgotten sooner.
    session_hours: float = Field(default=12.0, gt=0)
    sign_in_minutes: float = Field(default=15.0, gt=0)
    # The access token is renewed when it has less than this left, before a page calls the API.
    refresh_margin_seconds: float = Field(default=60.0, ge=0)
    session_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often an open case list asks whether it changed (web/cases/lists.py).
    queue_refresh_seconds: float = Field(default=15.0, ge=1)

    def resolved_client_secret_path(self) -> Path:
        return self.client_secret_path or self.var_dir / "web" / "oauth_client_secret"

    def resolved_session_key_path(self) -> Path:
        return self.session_key_path or self.var_dir / "web" / "session.key"

    def client_secret(self) -> str:
        """The configured secret, else the file's; empty when the console is not registered."""
        if secret := self.oauth_client_secret.get_secret_value():
            return secret
        path = self.resolved_client_secret_path()
        return path.read_text().strip() if path.is_file() else ""

    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    def redirect_uri(self) -> str:
        return self.public_base() + "/auth/callback"

    def signed_out_uri(self) -> str:
        """Where the gateway's sign-out returns the browser (RP-Initiated Logout)."""
        return self.public_base() + "/auth/signed-out"

    def secure_cookies(self) -> bool:
        """Cookies are `Secure` unless the console is reached over plain HTTP on this machine
        (`make run`): a browser drops a Secure cookie set over http, so local runs need it off,
        and anywhere else plain HTTP would be a mistake the browser should refuse."""
        parts = urlsplit(self.public_url)
        if parts.scheme != "http":
            return True
        host = parts.hostname or ""
        if host in LOOPBACK_NAMES:
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True
