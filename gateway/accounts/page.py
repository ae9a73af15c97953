"""The page a password link opens, `GET /account/password?token=...`: choose a password.

Plain HTML from a Jinja2 template, in Russian or English (the person's `language`, else the
best match of `Accept-Language`), with labelled fields, no script, and a layout that works at
phone width. The form posts back to the same address; it carries a CSRF token that must match a
SameSite=Strict cookie set with the form (double submit), and the link's own token, which a
third party does not have. What the API answers as problems (`POST /api/auth/password-reset/
complete`) the page says in words: a used, expired or unknown link (400), a password the rules
refuse (422, with the rules' suggestions), a form sent from elsewhere (403).
"""

import base64
import hashlib
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.accounts import links, service
from gateway.accounts.deps import PasswordsDep, SettingsDep
from gateway.accounts.passwords import MIN_LENGTH, WeakPassword
from gateway.accounts.texts import TEXTS, translated
from services.common.audit import Outcome
from services.common.languages import preferred_language
from services.common.uow import UnitOfWorkDep

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
CSRF_COOKIE = "telemed_password_csrf"
LANGUAGES = ("ru", "en")


def _style_source() -> str:
    """The CSP source that allows exactly the template's one inline style, by its SHA-256."""
    source = (Path(__file__).parent / "templates" / "password.html").read_text(encoding="utf-8")
    (style,) = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'"


HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": f"default-src 'none'; style-src {_style_source()}; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def _language(request: Request, chosen: str | None) -> str:
    if chosen in LANGUAGES:
        return chosen
    return preferred_language(request.headers.get("accept-language"), LANGUAGES, "ru")


def _render(
    request: Request, language: str, state: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page; a form comes with a fresh CSRF token in the field and the cookie."""
    csrf = secrets.token_urlsafe(24)
    html = TEMPLATES.get_template("password.html").render(
        lang=language,
        t=TEXTS[language],
        state=state,
        csrf=csrf,
        action=links.PAGE,
        min_length=MIN_LENGTH,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
    if state == "form":
        settings = request.app.state.settings
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            path=links.PAGE,
            httponly=True,
            samesite="strict",
            secure=settings.public_url.startswith("https://"),
        )
    return response


def _invalid(request: Request, language: str, refused: links.InvalidLink) -> HTMLResponse:
    reason = str(refused.extensions.get("reason", "unknown"))
    return _render(request, language, "invalid", 400, error=TEXTS[language][f"link_{reason}"])


@router.get(links.PAGE)
async def password_page(
    request: Request,
    uow: UnitOfWorkDep,
    token: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    action = "account.password_page"
    try:
        _, user = await links.redeemable(uow, token)
    except links.InvalidLink as refused:
        uow.audit.record(action, service.RESOURCE, None, Outcome.DENIED, detail=refused.detail)
        return _invalid(request, _language(request, refused.language), refused)
    uow.audit.record(action, service.RESOURCE, user.id)
    language = _language(request, user.language)
    return _render(request, language, "form", token=token, username=user.username)


@router.post(links.PAGE)
async def choose_password(
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    token: Annotated[str, Form(max_length=128)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    confirm_password: Annotated[str, Form(max_length=256)] = "",
) -> HTMLResponse:
    try:
        _, user = await links.redeemable(uow, token)
    except links.InvalidLink as refused:
        detail = refused.detail
        uow.audit.record(
            "account.password_set", service.RESOURCE, None, Outcome.DENIED, detail=detail
        )
        return _invalid(request, _language(request, refused.language), refused)
    language = _language(request, user.language)
    texts = TEXTS[language]
    form = {"token": token, "username": user.username}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf or not secrets.compare_digest(cookie.encode(), csrf.encode()):
        return _render(request, language, "form", 403, error=texts["csrf"], **form)
    if new_password != confirm_password:
        return _render(request, language, "form", 422, error=texts["mismatch"], **form)
    try:
        await service.complete(uow, settings, passwords, token, new_password)
    except links.InvalidLink as refused:
        return _invalid(request, language, refused)
    except WeakPassword as weak:
        reason = str(weak.extensions.get("reason", "weak"))
        advice = [translated(language, str(line)) for line in weak.extensions["suggestions"]]
        error = texts[f"weak_{reason}"].format(min_length=MIN_LENGTH)
        if warning := weak.extensions.get("warning"):
            error = f"{error} {translated(language, str(warning))}"
        return _render(request, language, "form", 422, error=error, suggestions=advice, **form)
    response = _render(request, language, "done", username=user.username)
    response.delete_cookie(CSRF_COOKIE, path=links.PAGE)
    return response
