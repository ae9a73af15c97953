"""The unsubscribe page behind every non-account email's link, `/notify/unsubscribe?token=`.

Opening the link only asks (mail scanners open links); the button, or a mail client's one-click
unsubscribe (RFC 8058, a POST to the same URL), does it. The signed token is the authority, so
no sign-in is needed; each use is audited.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from gateway.models import User
from gateway.notify import service
from gateway.notify.enums import Category
from gateway.notify.signing import UNSUBSCRIBE_PATH, UnsubscribeSigner
from gateway.notify.templates import ENV, language_of
from services.common.audit import Outcome
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(include_in_schema=False)
TokenQuery = Annotated[str, Query(max_length=256)]
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def _page(
    state: str, language: str, token: str = "", category: Category | None = None
) -> HTMLResponse:
    html = ENV.get_template(f"{language}/unsubscribe.html").render(
        state=state, token=token, category=category.value if category else None
    )
    return HTMLResponse(html, status_code=404 if state == "invalid" else 200, headers=HEADERS)


async def _named(
    request: Request, uow: UnitOfWork, token: str, action: str
) -> tuple[User, Category] | None:
    signer: UnsubscribeSigner = request.app.state.notify_signer
    named = signer.verify(token)
    person = await uow.session.get(User, named[0]) if named else None
    if named is None or person is None:
        uow.audit.record(action, service.PREFERENCES, None, Outcome.DENIED)
        return None
    return person, named[1]


@router.get(UNSUBSCRIBE_PATH)
async def ask(request: Request, uow: UnitOfWorkDep, token: TokenQuery = "") -> HTMLResponse:
    named = await _named(request, uow, token, "notify_preferences.unsubscribe_page")
    if named is None:
        return _page("invalid", language_of(None))
    person, category = named
    uow.audit.record(
        "notify_preferences.unsubscribe_page", service.PREFERENCES, person.id, detail=category
    )
    return _page("confirm", language_of(person.language), token, category)


@router.post(UNSUBSCRIBE_PATH)
async def unsubscribe(request: Request, uow: UnitOfWorkDep, token: TokenQuery = "") -> HTMLResponse:
    named = await _named(request, uow, token, "notify_preferences.unsubscribe")
    if named is None:
        return _page("invalid", language_of(None))
    person, category = named
    await service.opt_out(uow, person.id, category)
    return _page("done", language_of(person.language), category=category)
