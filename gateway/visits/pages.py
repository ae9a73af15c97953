"""The small pages a personal visit link shows when it cannot lead into the call yet (or any
more), in the patient's language (`templates/visit.<ru|en>.html`), times in their zone."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from services.common.languages import preferred_language

LANGUAGES = ("ru", "en")
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;line-height:1.5;"
    "color:#1b1b1b;background:#fff}main{max-width:36rem;margin:0 auto}"
    "h1{font-size:1.4rem}p{font-size:1.1rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link's token is in the URL
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_ENVIRONMENT = Environment(
    loader=PackageLoader("gateway.visits", "templates"), autoescape=select_autoescape()
)


class PageKind(StrEnum):
    NOT_YET = "not_yet"  # the call opens shortly before the visit
    ENDED = "ended"
    CANCELLED = "cancelled"
    NO_VIDEO = "no_video"  # not a video visit, or not confirmed
    NOT_FOUND = "not_found"  # a link altered or made up, or a patient no longer active
    UNAVAILABLE = "unavailable"  # scheduling or video did not answer


STATUS = {
    PageKind.NOT_YET: 200,
    PageKind.ENDED: 410,
    PageKind.CANCELLED: 410,
    PageKind.NO_VIDEO: 409,
    PageKind.NOT_FOUND: 404,
    PageKind.UNAVAILABLE: 503,
}
TIME_FORMATS = {"ru": "%d.%m.%Y %H:%M", "en": "%d %b %Y, %H:%M"}


@dataclass(frozen=True)
class Page:
    kind: PageKind
    start: datetime | None = None
    opens_at: datetime | None = None
    timezone: str = "UTC"


def language(preferred: str | None, request: Request) -> str:
    """The patient's language; for a link that names nobody, the browser's choice."""
    if preferred in LANGUAGES:
        return preferred
    return preferred_language(request.headers.get("accept-language"), LANGUAGES, "ru")


def _local(moment: datetime | None, zone: str, lang: str) -> str:
    if moment is None:
        return ""
    return f"{moment.astimezone(ZoneInfo(zone)).strftime(TIME_FORMATS[lang])} ({zone})"


def render(page: Page, lang: str) -> HTMLResponse:
    html = _ENVIRONMENT.get_template(f"visit.{lang}.html").render(
        lang=lang,
        kind=page.kind.value,
        start=_local(page.start, page.timezone, lang),
        opens=_local(page.opens_at, page.timezone, lang),
        style=STYLE,
    )
    return HTMLResponse(html, status_code=STATUS[page.kind], headers=HEADERS)
