"""Sign-in's share of the gateway settings (`TELEMED_GATEWAY_` variables): the browser's
sign-in, authorization codes, the ID-token key, and federation with an external provider."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class SignInSettings(BaseModel):
    # The browser's sign-in at the gateway lasts this long; an authorization code must be
    # exchanged within `authorization_code_seconds`.
    signin_session_hours: float = Field(default=12.0, gt=0)
    authorization_code_seconds: int = Field(default=60, gt=0)
    # The RSA key ID tokens are signed with (gateway/oauth/idtokens.py); default
    # `<var_dir>/gateway/id_token_rsa_key.pem`, created on first start.
    id_token_key_path: Path | None = None

    # Federation with an external OpenID provider (gateway/oauth/federation.py): off while
    # `oidc_federation_issuer` is empty. People are matched by `oidc_federation_claim` (the
    # provider's claim holding a telemed username or email) to an active user; with
    # `oidc_federation_link_on_first_match` their first such sign-in links the provider's
    # subject to that user for good, otherwise only subjects already linked sign in.
    oidc_federation_issuer: str = ""
    oidc_federation_name: str = Field(default="OpenID", description="Shown on the button.")
    oidc_federation_client_id: str = ""
    oidc_federation_client_secret: SecretStr = SecretStr("")
    oidc_federation_scopes: str = "openid profile email"
    oidc_federation_claim: Literal["preferred_username", "email"] = "preferred_username"
    oidc_federation_link_on_first_match: bool = True
    oidc_federation_timeout: float = Field(default=10.0, gt=0)
