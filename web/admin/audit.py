"""The audit chains of each service and their verification, run when the page is opened and
again on demand (the htmx button swaps the table alone)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.admin.api import AUDITED_SERVICES, AdminApiDep
from web.admin.views import render
from web.deps import SignedInDep
from web.templating import is_htmx

router = APIRouter(include_in_schema=False)


@router.get("/admin/audit")
async def audit_page(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    """Each service verifies its own chains under its own key: one call per service, in
    turn (verifying reads the whole trail; two at once would only compete for the disk)."""
    reports = [
        await api.verification(signed_in.access_token, service) for service in AUDITED_SERVICES
    ]
    block = "reports" if is_htmx(request) else None
    return render(request, "admin/audit.html", {"reports": reports}, block=block)
