"""Refusals and failures as pages: the kernel's problems rendered in the layout, in the
visitor's language, with the status the problem carries; the operations endpoints (`/health`,
`/ready`, `/metrics`) keep the kernel's problem documents."""

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import ProblemError, problem_error_response, problem_response
from web.deps import SignInRequired, resolve_visitor
from web.gateway_api import TokenRefused
from web.i18n import DEFAULT_LANGUAGE
from web.sessions import SessionExpired, SessionStore
from web.templating import is_htmx, render_page

logger = logging.getLogger("telemed.web.errors")
OPERATIONS = ("/health", "/ready", "/metrics")


def redirect(request: Request, location: str) -> Response:
    """A 303 to `location`; htmx gets `HX-Redirect`, so the whole page goes, not a fragment."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def _page(request: Request, status: int, detail: str | None) -> Response:
    if request.url.path.startswith(OPERATIONS):
        return problem_response(request, status, detail=detail)
    await resolve_visitor(request)
    return render_page(request, "error.html", {"status": status, "detail": detail}, status=status)


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    if request.url.path.startswith(OPERATIONS):  # `/ready`'s 503 names the failed checks
        return problem_error_response(request, exc)
    if exc.status >= 500:
        logger.warning("a page failed: %s", exc.detail)
    return await _page(request, exc.status, exc.detail)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return await _page(request, exc.status_code, None)


async def _invalid(request: Request, exc: Exception) -> Response:
    # A form or query the console's own pages never send (hand-made or truncated).
    return await _page(request, 400, None)


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return redirect(request, "/auth/sign-in?" + urlencode({"next": exc.return_to}))


async def _expired(request: Request, exc: Exception) -> Response:
    """The gateway refused to renew the session's tokens, or refused its access token: the
    session ends here too, and the browser is told so."""
    store: SessionStore = request.app.state.sessions
    visitor = getattr(request.state, "visitor", None)
    if visitor is not None:
        await store.end(visitor)
    language = getattr(request.state, "language", DEFAULT_LANGUAGE)
    response = redirect(
        request, "/auth/signed-out?" + urlencode({"reason": "expired", "state": language})
    )
    store.clear_cookie(response)
    return response


def install_page_errors(app: FastAPI) -> None:
    """Registered after the kernel's handlers, so these take their place for pages."""
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(SessionExpired, _expired)
    app.add_exception_handler(TokenRefused, _expired)
