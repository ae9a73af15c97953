"""Rendering pages: one Jinja environment per language (each with its Babel catalog), the
layout's context, and a template's block alone for htmx (a fragment is never a second copy)."""

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from web.assets import Assets
from web.i18n import LANGUAGES, local_time, spoken_day, zone_label
from web.models import BrowserSession
from web.navigation import ROLE_NAMES, navigation

TEMPLATES = Path(__file__).parent / "templates"
# Pages hold personal data: no cache keeps them, no other site frames them, and nothing but
# the console's own files runs in them (htmx included; no inline script or style but what a
# page allows by its hash, `content_security_policy`).
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(more: Mapping[str, str] | None = None) -> str:
    """The pages' policy, with `more` sources added to some of its directives."""
    more = more or {}
    return "; ".join(
        " ".join(filter(None, (name, sources, more.get(name)))) for name, sources in POLICY.items()
    )


PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": content_security_policy(),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pass_context
def _local_time(context: Context, value: Any) -> str:
    return local_time(value, context["language"], context.get("timezone"))


@pass_context
def _spoken_day(context: Context, value: date) -> str:
    return spoken_day(value, context["language"])


@pass_context
def _zone(context: Context, zone_name: str | None) -> str:
    return zone_label(zone_name, context["language"])


class Templates:
    def __init__(self, assets: Assets, translations: dict[str, Translations]) -> None:
        self.environments = {
            language: self._environment(assets, translations[language]) for language in LANGUAGES
        }

    @staticmethod
    def _environment(assets: Assets, translations: Translations) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        environment.globals["static"] = assets.url
        environment.filters["local_time"] = _local_time
        environment.filters["zone"] = _zone
        environment.filters["spoken_day"] = _spoken_day
        return environment

    def render(
        self, language: str, name: str, context: dict[str, Any], *, block: str | None = None
    ) -> str:
        template = self.environments[language].get_template(name)
        if block is None:
            return template.render(context)
        return "".join(template.blocks[block](template.new_context(context)))


def layout_context(
    request: Request, visitor: BrowserSession | None, language: str
) -> dict[str, Any]:
    """What the layout needs on every page: who is signed in, their zone, the navigation, the
    CSRF token of the page's forms, and where the language switch returns to."""
    signed_in = visitor is not None and visitor.signed_in
    return {
        "language": language,
        "visitor": visitor if signed_in else None,
        "timezone": visitor.timezone if visitor else None,
        "csrf_token": visitor.csrf_secret if visitor else "",
        "navigation": navigation(visitor.role if signed_in and visitor else None),
        "role_name": ROLE_NAMES.get(visitor.role or "") if signed_in and visitor else None,
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def render_page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page `name` for this request's visitor, in their language; with `block`, that
    block alone (what an htmx request swaps in); `headers` over the pages' own."""
    templates: Templates = request.app.state.templates
    visitor: BrowserSession | None = getattr(request.state, "visitor", None)
    language: str = request.state.language
    full = {**layout_context(request, visitor, language), **(context or {})}
    return html(templates.render(language, name, full, block=block), status, headers)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
