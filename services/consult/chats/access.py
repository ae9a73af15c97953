"""Who may bind a bot's chats to a territory: administrators, and the region's coordinators
(who keep its territory map too)."""

from services.common.auth import Principal, Role
from services.common.errors import Forbidden
from services.consult.scopes import require_scope

RESOURCE = "consult_chat_binding"


def check_editor(principal: Principal, region: str | None, *, write: bool) -> None:
    """Raises unless the caller manages `region`'s chats (any region's, for `None`: admins)."""
    require_scope(principal, write=write)
    if principal.role is Role.ADMIN:
        return
    if principal.role is Role.COORDINATOR and region is not None and principal.region == region:
        return
    raise Forbidden("Administrators and the region's coordinators bind its chats.")
