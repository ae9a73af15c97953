"""Pydantic shapes of sign-in: OAuth clients as administrators register them, the discovery
document, userinfo and introspection answers."""

import ipaddress
import re
import uuid
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.oauth.enums import ALL_SCOPES, Scope

# A private-use scheme of a native app (RFC 8252 7.1): reverse domain name, so it has a dot.
PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+")


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str) -> str:
    """https anywhere, http only on loopback (RFC 8252 7.3), or an app's private-use scheme;
    absolute, without a fragment (RFC 6749 3.1.2), compared exactly when used."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ValueError(f"{uri!r} has a fragment")
    if parts.scheme == "https" and parts.netloc:
        return uri
    if parts.scheme == "http" and _loopback(parts.hostname):
        return uri
    if PRIVATE_SCHEME.fullmatch(parts.scheme) and (parts.path or parts.netloc):
        return uri
    raise ValueError(f"{uri!r} is not https, http on loopback, or an app's reverse-domain scheme")


class OAuthClientUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kuzbass regional MIS (web)",
                    "redirect_uris": ["https://mis.kuzbass.example/oauth/callback"],
                    "post_logout_redirect_uris": ["https://mis.kuzbass.example/signed-out"],
                    "scopes": ["email", "offline_access", "openid", "profile"],
                }
            ]
        }
    )

    name: str = Field(min_length=2, max_length=255, examples=["Regional patient app"])
    redirect_uris: list[str] = Field(
        min_length=1, max_length=10, examples=[["https://app.example.ru/auth/callback"]]
    )
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=10)
    first_party: bool = Field(
        default=False, description="Telemed's own application: people are not asked to consent."
    )
    scopes: list[str] = Field(
        default_factory=lambda: [Scope.OPENID.value, Scope.PROFILE.value],
        max_length=len(ALL_SCOPES),
        description=f"What the client may ask for: {', '.join(sorted(ALL_SCOPES))}.",
    )

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _uris(cls, value: list[str]) -> list[str]:
        return [check_redirect_uri(uri) for uri in value]

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ALL_SCOPES)
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a scope people's sign-in grants")
        return sorted(set(value))


class OAuthClientCreate(OAuthClientUpdate):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kuzbass regional MIS (web)",
                    "redirect_uris": ["https://mis.kuzbass.example/oauth/callback"],
                    "post_logout_redirect_uris": ["https://mis.kuzbass.example/signed-out"],
                    "scopes": ["openid", "profile", "offline_access"],
                    "confidential": True,
                }
            ]
        }
    )

    confidential: bool = Field(
        default=False,
        description="A server-side application that keeps a secret; otherwise a public client "
        "(browser or mobile app), which must use PKCE.",
    )


class OAuthClient(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    confidential: bool
    first_party: bool
    scopes: list[str]
    is_active: bool


class OAuthClientCreated(OAuthClient):
    client_secret: str | None = Field(
        description="A confidential client's secret, shown once; only its hash is stored."
    )


class Introspection(BaseModel):
    """RFC 7662: `active` alone for a token that is unknown, expired or revoked."""

    active: bool
    token_type: str | None = Field(default=None, examples=["access_token"])
    sub: str | None = None
    username: str | None = None
    client_id: str | None = None
    scope: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | None = None
    sid: str | None = None
    role: str | None = None


class UserInfo(BaseModel):
    sub: str
    name: str | None = None
    preferred_username: str | None = None
    email: str | None = None
    locale: str | None = None
