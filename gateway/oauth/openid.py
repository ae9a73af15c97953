"""OpenID Connect's documents about the provider and the person: discovery and userinfo."""

from typing import Any

from fastapi import APIRouter, Request

from gateway.models import User
from gateway.oauth.enums import ALL_SCOPES, Scope
from gateway.oauth.pages import LANGUAGES
from gateway.oauth.schemas import UserInfo
from gateway.oauth.service import issuer
from gateway.settings import GatewaySettings
from services.common.auth import CurrentPrincipal, Principal
from services.common.errors import Forbidden, problem_responses
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["sign-in"])

GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", "password"]
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
CLAIMS = [
    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid"),
    *("name", "preferred_username", "email", "locale"),
]


@router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery")
async def discovery(request: Request) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414): issuer, the
    authorization, token, userinfo, revocation, introspection and logout endpoints, the JWKS,
    supported scopes, PKCE method (S256) and client authentication methods. Public; an OpenID
    library configures itself from it."""
    settings: GatewaySettings = request.app.state.settings
    base = issuer(settings)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/api/auth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "revocation_endpoint": f"{base}/api/auth/revoke",
        "introspection_endpoint": f"{base}/api/auth/introspect",
        "end_session_endpoint": f"{base}/oauth/logout",
        "scopes_supported": sorted(ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none", *SECRET_METHODS],
        "revocation_endpoint_auth_methods_supported": ["none", *SECRET_METHODS],
        "introspection_endpoint_auth_methods_supported": SECRET_METHODS,
        "subject_types_supported": ["public"],
        "claims_supported": CLAIMS,
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": list(LANGUAGES),
        "authorization_response_iss_parameter_supported": True,
    }


async def _userinfo(uow: UnitOfWork, principal: Principal) -> UserInfo:
    user = await uow.session.get(User, principal.subject)
    if user is None:
        raise Forbidden("userinfo describes people; an API client has no user record.")
    uow.audit.record("user.read", "user", user.id)
    # A token from a client's sign-in carries its scopes; a password sign-in's is the
    # person's own and sees everything.
    scopes = set(principal.scopes) & ALL_SCOPES or ALL_SCOPES
    profile = Scope.PROFILE in scopes
    return UserInfo(
        sub=str(user.id),
        name=user.full_name if profile else None,
        preferred_username=user.username if profile else None,
        locale=user.language if profile else None,
        email=user.email if Scope.EMAIL in scopes else None,
    )


@router.get(
    "/oauth/userinfo",
    response_model=UserInfo,
    response_model_exclude_none=True,
    summary="OpenID Connect userinfo: claims about the token's person",
    responses=problem_responses(401, 403),
)
async def userinfo(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> UserInfo:
    """The claims the token's scopes allow about the person it was issued to: `sub` always,
    `name`, `preferred_username` and `locale` with `profile`, `email` with `email` (a token
    from a password sign-in sees all). An API client's token is a 403: it has no person."""
    return await _userinfo(uow, principal)


@router.post(
    "/oauth/userinfo",
    response_model=UserInfo,
    response_model_exclude_none=True,
    summary="OpenID Connect userinfo (POST)",
    responses=problem_responses(401, 403),
)
async def userinfo_post(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> UserInfo:
    """The same as `GET /oauth/userinfo`, for relying parties that POST (OpenID Connect Core
    5.3.1); the access token comes in the `Authorization` header, the body is ignored."""
    return await _userinfo(uow, principal)
