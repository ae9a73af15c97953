"""The scopes a person's sign-in can grant an OAuth client."""

from enum import StrEnum


class Scope(StrEnum):
    """People are limited by their role, not by scopes (API clients' `consult:read` and the like
    do not apply to them): these say what the client learns and keeps, and the consent page
    names each one."""

    OPENID = "openid"  # an ID token: who signed in
    PROFILE = "profile"  # name and username
    EMAIL = "email"
    OFFLINE_ACCESS = "offline_access"  # a refresh token: the client stays signed in


ALL_SCOPES = frozenset(scope.value for scope in Scope)
