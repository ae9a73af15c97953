"""The sign-in pages: Jinja2 templates in Russian or English, with the security headers a page
that takes a password needs.

The language is, in this order: the first supported tag of the authorization request's
`ui_locales` (OpenID Connect Core 3.1.2.1: the client knows the person's language), the `lang`
query parameter (the pages' switch, whose link drops `ui_locales` so that it wins), or the best
match of `Accept-Language`; Russian when nothing matches. Pages use no script and no external
asset.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from gateway.oauth.browser import cookie_signer
from services.common.languages import preferred_language, primary_subtag

LANGUAGES = ("ru", "en")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# No script at all; framing refused, so the consent page cannot be clickjacked.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Вход в telemed",
        "sign_in": "Войти",
        "username": "Имя пользователя",
        "password": "Пароль",
        "to_continue": "чтобы продолжить в «{client}»",
        "wrong": "Неверное имя пользователя или пароль.",
        "throttled": "Слишком много неудачных попыток. Войти снова можно через {wait}, в {time}.",
        "wait_seconds": "{n} сек.",
        "wait_minutes": "{n} мин.",
        "csrf": "Форма устарела. Пожалуйста, попробуйте ещё раз.",
        "with_provider": "Войти через {provider}",
        "or": "или",
        "consent_title": "Разрешить доступ",
        "consent_lead": "«{client}» запрашивает доступ к вашей учётной записи telemed ({user}):",
        "allow": "Разрешить",
        "deny": "Отказать",
        "scope_openid": "знать, что это вы (ваш идентификатор)",
        "scope_profile": "ваше имя и имя пользователя",
        "scope_email": "ваш адрес электронной почты",
        "scope_offline_access": "оставаться на связи, когда вы не в приложении",
        "consent_note": "Приложение действует от вашего имени, используя ваши права в telemed.",
        "error_title": "Вход невозможен",
        "unknown_client": "Приложение, которое прислало вас сюда, не зарегистрировано в telemed.",
        "unregistered_redirect_uri": "Адрес возврата этого приложения не зарегистрирован, "
        "поэтому telemed не отправит вас туда.",
        "federation_failed": "Вход через внешнюю учётную запись не удался. Попробуйте ещё раз.",
        "federation_unknown": "Для вашей внешней учётной записи нет пользователя в telemed. "
        "Обратитесь к администратору вашей организации.",
        "federation_off": "Вход через внешнюю учётную запись не настроен.",
        "signed_out_title": "Вы вышли",
        "signed_out": "Вы вышли из telemed в этом браузере.",
        "sign_out_title": "Выйти из telemed?",
        "sign_out": "Выйти",
        "switch": "English",
    },
    "en": {
        "title": "Sign in to telemed",
        "sign_in": "Sign in",
        "username": "Username",
        "password": "Password",
        "to_continue": "to continue to “{client}”",
        "wrong": "The username or password is wrong.",
        "throttled": "Too many failed attempts. You can sign in again in {wait}, at {time}.",
        "wait_seconds": "{n} s",
        "wait_minutes": "{n} min",
        "csrf": "The form expired. Please try again.",
        "with_provider": "Sign in with {provider}",
        "or": "or",
        "consent_title": "Allow access",
        "consent_lead": "“{client}” asks for access to your telemed account ({user}):",
        "allow": "Allow",
        "deny": "Deny",
        "scope_openid": "know that it is you (your identifier)",
        "scope_profile": "your name and username",
        "scope_email": "your email address",
        "scope_offline_access": "stay connected while you are not using it",
        "consent_note": "The application acts on your behalf, with your rights in telemed.",
        "error_title": "Cannot sign in",
        "unknown_client": "The application that sent you here is not registered with telemed.",
        "unregistered_redirect_uri": "This application's return address is not registered, "
        "so telemed will not send you there.",
        "federation_failed": "Signing in with your external account failed. Please try again.",
        "federation_unknown": "Your external account is not linked to any telemed user. "
        "Ask your organisation's administrator.",
        "federation_off": "Signing in with an external account is not set up.",
        "signed_out_title": "Signed out",
        "signed_out": "You have signed out of telemed in this browser.",
        "sign_out_title": "Sign out of telemed?",
        "sign_out": "Sign out",
        "switch": "Русский",
    },
}


def language(request: Request, params: Mapping[str, str] | None = None) -> str:
    query = request.query_params if params is None else params
    for tag in query.get("ui_locales", "").split():
        if (primary := primary_subtag(tag)) in LANGUAGES:
            return primary
    chosen = query.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return preferred_language(request.headers.get("accept-language"), LANGUAGES, "ru")


def switch_link(request: Request, lang: str, params: Mapping[str, str] | None = None) -> str:
    """The page in the other language: `ui_locales` is left out, as it would outrank `lang`;
    it is only a hint for display, so the authorization request is the same without it. An
    `id_token_hint` is left out too: a link of ours never carries a token."""
    other = "en" if lang == "ru" else "ru"
    dropped = {"lang", "ui_locales", "id_token_hint"}
    items = request.query_params.multi_items() if params is None else params.items()
    kept = [(k, v) for k, v in items if k not in dropped]
    return f"{request.url.path}?{urlencode([*kept, ('lang', other)])}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    params: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page in the person's language, with a CSRF token for its forms; `params` stand
    for the query where a page's parameters came otherwise (a POSTed form)."""
    lang = language(request, params)
    signer = cookie_signer(request)
    seed, new = signer.csrf_seed(request)
    html = TEMPLATES.get_template(template).render(
        lang=lang,
        t=TEXTS[lang],
        switch=switch_link(request, lang, params),
        csrf=signer.csrf_token(seed),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
    if new:
        signer.keep_csrf_seed(response, seed)
    return response


def error_page(request: Request, reason: str, status_code: int = 400) -> HTMLResponse:
    return render(request, "error.html", {"reason": reason}, status_code)


def text(request: Request, key: str) -> str:
    return TEXTS[language(request)][key]


def throttled(request: Request, seconds: int, now: datetime) -> Markup:
    """When signing in is possible again: in how long, and the moment in UTC inside a
    `<time datetime>` (the page runs no script and knows no zone of an anonymous person, so it
    says which clock it shows). A wait of a minute or more is rounded up to whole minutes."""
    texts = TEXTS[language(request)]
    at = now + timedelta(seconds=seconds)
    if seconds < 60:
        wait, shown = texts["wait_seconds"].format(n=seconds), at.strftime("%H:%M:%S")
    else:
        wait = texts["wait_minutes"].format(n=ceil(seconds / 60))
        shown = (at + timedelta(seconds=59)).strftime("%H:%M")
    moment = Markup('<time datetime="{}">{} UTC</time>').format(
        at.isoformat(timespec="seconds"), shown
    )
    return escape(texts["throttled"]).format(wait=wait, time=moment)
