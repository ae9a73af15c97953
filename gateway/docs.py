"""The API's browsable documentation: Swagger UI at `/docs` (its "Authorize" signs in with the
authorization code flow and PKCE, as the public OAuth client `api_docs_client_id`, whose
redirect URI is `/docs/oauth2-redirect`) and ReDoc at `/docs/redoc`.

Their scripts and styles come from a Python package (`fastapi-standalone-docs`, which ships
Swagger UI 5 and ReDoc 2 builds) and are served from `/docs/assets/`: no CDN, so the pages
work on a network without the internet. Each page's inline script is allowed by its hash."""

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from gateway.settings import GatewaySettings

PREFIX = "/docs"
ASSETS = f"{PREFIX}/assets"
REDIRECT = f"{PREFIX}/oauth2-redirect"
TITLE = "telemed API"
STATIC = Path(str(files("fastapi_standalone_docs") / "static"))
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _headers(page: HTMLResponse, public_url: str) -> dict[str, str]:
    """Only this origin's scripts and the page's own inline ones; Swagger UI and ReDoc inline
    their styles and images, and ReDoc searches in a worker it makes from a blob. "Try it out"
    calls the document's server, the public address, which the page may be opened beside
    (127.0.0.1 for localhost)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(bytes(page.body).decode())
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        f"connect-src 'self' {public_url.rstrip('/')}; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    return {"Content-Security-Policy": policy, "Cache-Control": "no-cache"}


class Page:
    """A page built once, answered as a new response each time (middleware adds headers)."""

    def __init__(self, page: HTMLResponse, public_url: str) -> None:
        self.body, self.headers = bytes(page.body), _headers(page, public_url)

    def response(self) -> HTMLResponse:
        return HTMLResponse(self.body, headers=self.headers)


def docs_router(settings: GatewaySettings) -> APIRouter:
    """The three pages, built once: they change only with the settings."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    swagger = Page(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=TITLE,
            swagger_js_url=f"{ASSETS}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/fastapi/favicon.png",
            oauth2_redirect_url=REDIRECT,
            init_oauth={
                "clientId": settings.api_docs_client_id,
                "usePkceWithAuthorizationCodeGrant": True,
                "scopes": "openid profile",
            },
            # The filter finds a tag among the hundreds of operations, which Swagger UI
            # renders only as they scroll into view.
            swagger_ui_parameters={
                "persistAuthorization": False,
                "displayOperationId": True,
                "filter": True,
            },
        ),
        settings.public_url,
    )
    redoc = Page(
        get_redoc_html(
            openapi_url="/openapi.json",
            title=TITLE,
            redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/fastapi/favicon.png",
            with_google_fonts=False,
        ),
        settings.public_url,
    )
    redirect = Page(get_swagger_ui_oauth2_redirect_html(), settings.public_url)

    @router.get("")
    async def swagger_ui() -> HTMLResponse:
        return swagger.response()

    @router.get("/redoc")
    async def redoc_page() -> HTMLResponse:
        return redoc.response()

    @router.get("/oauth2-redirect")
    async def oauth2_redirect() -> HTMLResponse:
        return redirect.response()

    return router


def install(app: FastAPI, settings: GatewaySettings) -> None:
    app.include_router(docs_router(settings))
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
