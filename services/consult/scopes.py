"""The consult API's OAuth scopes, which API clients need besides their role's rights."""

from services.common.auth import Principal, require_client_scope

READ_SCOPE = "consult:read"
WRITE_SCOPE = "consult:write"
# A PBX reporting its calls (appeals/calls.py); it reads and changes nothing else.
TELEPHONY_SCOPE = "telephony:events"


def require_scope(principal: Principal, *, write: bool) -> None:
    require_client_scope(principal, WRITE_SCOPE if write else READ_SCOPE)
