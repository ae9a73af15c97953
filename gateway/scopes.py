"""The OAuth scopes an API client may hold: one allow-list, checked in one place.

`check_scopes` is the directory's schemas' check when an administrator registers or changes a
client; `issued` filters a client's stored scopes again whenever a token is issued.
"""

import re

from services.common.outbox import RELAY_SCOPE

# What the services check (`require_client_scope` and the like); a scope they do not know
# would grant nothing, so it is refused rather than stored.
CLIENT_SCOPES = frozenset(
    {
        "consult:read",  # services/consult/scopes.py
        "consult:write",
        "files:read",  # services/files/service.py
        "files:write",
        "telephony:events",  # services/consult/scopes.py
        "webhooks:manage",  # gateway/webhooks/service.py
    }
)
# Control of every appointment's video room (services/video/service.py): only for clients an
# administrator marks as a service client (the scheduling service's own).
SERVICE_SCOPES = frozenset({"video:rooms"})
# `events:relay` (the services' outbox feeds) is in neither: only the gateway's relay holds it,
# in tokens it signs for itself.
SCOPE_PATTERN = re.compile(r"[a-z]+:[a-z]+")


def grantable(is_service: bool) -> frozenset[str]:
    return CLIENT_SCOPES | SERVICE_SCOPES if is_service else CLIENT_SCOPES


def check_scopes(scopes: list[str], is_service: bool) -> list[str]:
    """The scopes, sorted and unique, or a ValueError naming the first one not allowed."""
    for scope in scopes:
        if scope == RELAY_SCOPE:
            raise ValueError(f"the {RELAY_SCOPE} scope is the gateway's own, not an API client's")
        if not SCOPE_PATTERN.fullmatch(scope):
            raise ValueError(f"{scope!r} is not one scope (one word:word token, no spaces)")
        if scope in SERVICE_SCOPES and not is_service:
            raise ValueError(f"the {scope} scope is only for service clients (is_service)")
        if scope not in grantable(is_service):
            raise ValueError(f"{scope!r} is not a scope API clients can hold")
    return sorted(set(scopes))


def issued(scopes: list[str], is_service: bool) -> frozenset[str]:
    """What a token may carry: a stored row that predates the allow-list (or was edited by
    hand) cannot smuggle a scope in."""
    return frozenset(scopes) & grantable(is_service)
