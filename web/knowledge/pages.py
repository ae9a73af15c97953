"""The knowledge base to read: a search with filters and a passage of each article found, an
article's page (with its versions for those who write it), one version as it stood, the
articles suggested as an operator types a caller's appeal, and which articles settle calls."""

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from web.appeals.labels import CATEGORIES as APPEAL_CATEGORIES
from web.appeals.labels import EXCLUDED_PREFIX, EXCLUDED_TOPICS
from web.deps import SignedInDep
from web.knowledge.api import KnowledgeApiDep
from web.knowledge.labels import CATEGORIES, LANGUAGES, STATUSES
from web.knowledge.views import blocks, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
Text = Annotated[str | None, Query(max_length=500)]
Choice = Annotated[str | None, Query(max_length=64)]
# As long as an appeal's text may be (the suggestions are made from its first words).
CALLER_WORDS = 20_000
# Roles whose figures these are (consult's stats: coordinators and administrators).
FIGURES_ROLES = frozenset({"coordinator", "admin"})


@router.get("/knowledge")
async def search(
    request: Request,
    signed_in: SignedInDep,
    api: KnowledgeApiDep,
    q: Text = None,
    category: Choice = None,
    language: Choice = None,
    status: Choice = None,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """Ranked when words are asked for, the newest first otherwise; values the filters do not
    offer are left out rather than refused."""
    filters = {
        "q": (q or "").strip(),
        "category": category if category in CATEGORIES else "",
        "language": language if language in LANGUAGES else "",
        "status": status if status in STATUSES else "",
    }
    params: dict[str, str | int] = {name: value for name, value in filters.items() if value}
    page = await api.search(signed_in.access_token, params | {"limit": PAGE_SIZE, "offset": offset})
    context = {
        "page": page,
        "filters": filters,
        "offset": offset,
        "query": urlencode(params),
        "figures": signed_in.session.role in FIGURES_ROLES,
    }
    return render(request, "knowledge/search.html", context)


@router.get("/knowledge/articles/{article_id}")
async def article_page(
    request: Request,
    article_id: uuid.UUID,
    signed_in: SignedInDep,
    api: KnowledgeApiDep,
    saved: Choice = None,
) -> Response:
    article = await api.article(signed_in.access_token, article_id)  # unseen: the 404 page
    context = {"article": article, "blocks": blocks(article.body), "saved": saved}
    return render(request, "knowledge/article.html", context)


@router.get("/knowledge/articles/{article_id}/versions/{number}")
async def version_page(
    request: Request,
    article_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    signed_in: SignedInDep,
    api: KnowledgeApiDep,
) -> Response:
    version = await api.version(signed_in.access_token, article_id, number)
    context = {"article_id": article_id, "version": version, "blocks": blocks(version.body)}
    return render(request, "knowledge/version.html", context)


@router.get("/knowledge/suggestions")
async def suggestions(
    request: Request,
    signed_in: SignedInDep,
    api: KnowledgeApiDep,
    topic: Choice = None,
    text: Annotated[str | None, Query(max_length=CALLER_WORDS)] = None,
) -> Response:
    """The new-appeal screen's articles for the topic and the caller's words so far, which
    htmx swaps in beside the appeal's text as the operator types (the form names a topic the
    hotline does not handle by a prefix consult's topics have not)."""
    chosen = (topic or "").removeprefix(EXCLUDED_PREFIX)
    known = chosen in APPEAL_CATEGORIES or chosen in EXCLUDED_TOPICS
    found = await api.suggest(
        signed_in.access_token, chosen if known else None, (text or "").strip()
    )
    return render(request, "knowledge/suggestions.html", {"suggestions": found})


@router.get("/knowledge/figures")
async def figures(request: Request, signed_in: SignedInDep, api: KnowledgeApiDep) -> Response:
    """How many appeals resolved citing each article, and how many at the first contact."""
    found = await api.figures(signed_in.access_token)
    return render(request, "knowledge/figures.html", {"figures": found})
