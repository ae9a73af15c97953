"""HTTP routes of the knowledge base under `/api/consult/knowledge`: searching and reading
articles, suggestions for a caller's appeal, writing, publishing and archiving."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.deps import PREFIX, ActingPrincipal, NowDep, OrganizationsDep
from services.consult.knowledge import service as knowledge
from services.consult.knowledge.enums import (
    TOPIC_CATEGORIES,
    ArticleAction,
    ArticleCategory,
    ArticleLanguage,
    ArticleStatus,
)
from services.consult.knowledge.models import Article, ArticleVersion
from services.consult.knowledge.schemas import (
    ArticleCreate,
    ArticleEdit,
    ArticleHit,
    ArticleOut,
    ArticlePage,
    Snippet,
    StatusChange,
    VersionOut,
    VersionSummary,
)
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE
from services.consult.values import REGION_PATTERN

router = APIRouter(prefix=PREFIX + "/knowledge", tags=["knowledge base"])
ARTICLES = PREFIX + "/knowledge/articles"
RegionQuery = Annotated[
    str | None,
    Query(
        pattern=REGION_PATTERN,
        description="Articles holding in this region; the caller's own by default.",
    ),
]
Topic = Annotated[
    str | None,
    Query(
        pattern="^(" + "|".join(sorted(TOPIC_CATEGORIES)) + ")$",
        description="The appeal's category or the topic the hotline does not handle, as "
        "`POST /appeals` takes them: its articles come first.",
    ),
]


def article_out(article: Article, versions: list[ArticleVersion] | None = None) -> ArticleOut:
    out = ArticleOut.model_validate(article)
    if versions is None:
        return out
    return out.model_copy(
        update={"versions": [VersionSummary.model_validate(each) for each in versions]}
    )


def hit_out(hit: knowledge.Hit) -> ArticleHit:
    article, passage, rank = hit
    return ArticleHit(
        id=article.id,
        title=article.title,
        language=article.language,
        categories=article.categories,
        regions=article.regions,
        status=article.status,
        updated_at=article.updated_at,
        snippet=Snippet(text=passage.text, highlights=passage.highlights),
        rank=rank,
    )


@router.get(
    "/articles",
    response_model=ArticlePage,
    summary="Search the articles, best first, with a passage showing the words found",
    description=(
        '`q` is searched for in Russian and English with stemming ("полис" finds '
        '"полиса" and "полисом"): every word, `"a phrase"`, `-word` to leave out, `or` '
        "between alternatives. Without `q`, the newest first. Operators and registrars read "
        "the published articles holding in their region (naming it, or naming none); those "
        "who write articles (coordinators of a hotline, an insurer or a regional centre, "
        "administrators) also find theirs at any `status`."
    ),
    responses=problem_responses(401, 403, 422, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def find_articles(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    q: Annotated[str | None, Query(max_length=500, examples=["полис"])] = None,
    category: ArticleCategory | None = None,
    region: RegionQuery = None,
    language: ArticleLanguage | None = None,
    status: ArticleStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> ArticlePage:
    query = knowledge.Query(q, category, region, language, status)
    hits, next_offset, writes = await knowledge.find_articles(
        uow, principal, query, organizations, limit=limit, offset=offset
    )
    return ArticlePage(items=[hit_out(hit) for hit in hits], next_offset=next_offset, writes=writes)


@router.get(
    "/articles/suggest",
    response_model=list[ArticleHit],
    summary="Articles for a caller's appeal: from its topic and the caller's words",
    description=(
        "Published articles matching most of the caller's words (`text`, its first 60), "
        "those of the topic's categories first among equals; with no words, the topic's "
        "newest. For the new-appeal screen, as the operator types."
    ),
    responses=problem_responses(401, 403, 422, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def suggest_articles(
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    organizations: OrganizationsDep,
    topic: Topic = None,
    text: Annotated[str | None, Query(max_length=2000)] = None,
    region: RegionQuery = None,
    language: ArticleLanguage | None = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> list[ArticleHit]:
    query = knowledge.Query(region=region, language=language)
    hits = await knowledge.suggest(uow, principal, topic, text, query, organizations, limit=limit)
    return [hit_out(hit) for hit in hits]


@router.get(
    "/articles/{article_id}",
    response_model=ArticleOut,
    summary="Read an article; with its versions for those who write it",
    description=(
        "Operators and registrars read published articles holding in their region; those who "
        "write the article's regions read it at any status, with `versions`, its history. "
        "404 for an article you may not read."
    ),
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_article(
    article_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> ArticleOut:
    article, versions = await knowledge.read_article(uow, principal, article_id, organizations)
    return article_out(article, versions)


@router.get(
    "/articles/{article_id}/versions/{number}",
    response_model=VersionOut,
    summary="An article as one of its versions left it (for those who write it)",
    description=(
        "The title, text, categories, regions and status as that version left them, with "
        "who made it and why. For those who write the article's regions; 404 for others and "
        "for a version the article does not have."
    ),
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_version(
    article_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> VersionOut:
    version = await knowledge.read_version(uow, principal, article_id, number, organizations)
    return VersionOut.model_validate(version)


@router.post(
    "/articles",
    status_code=201,
    response_model=ArticleOut,
    summary="Write an article: a draft, version 1",
    description=(
        "Coordinators of a hotline, an insurer's contact centre or a regional centre write "
        "their region's articles (`regions` theirs alone, the default); administrators any, "
        "for every region with no `regions`. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def create_article(
    body: ArticleCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> ArticleOut:
        article = await knowledge.create_article(uow, principal, body, organizations, now)
        return article_out(article)

    return await idempotent(
        request, uow.session, principal, body, create, headers=location(ARTICLES + "/{id}")
    )


@router.patch(
    "/articles/{article_id}",
    response_model=ArticleOut,
    summary="Edit an article: a new version, the previous text kept in the versions",
    description=(
        "Only the fields given change; `version` is the version the edit was made on (a 409 "
        "if the article has changed since). A published article stays published."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def edit_article(
    article_id: uuid.UUID,
    body: ArticleEdit,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    now: NowDep,
) -> ArticleOut:
    article = await knowledge.edit_article(uow, principal, article_id, body, organizations, now)
    return article_out(article)


# On the media type: the body is optional, so its schema is no reference to carry one.
STATUS_EXAMPLES = {
    ArticleAction.PUBLISH: {
        "note": {
            "summary": "With a note",
            "value": {"note": "Checked against the 2025 programme."},
        },
        "none": {"summary": "Without one", "value": {}},
    },
    ArticleAction.ARCHIVE: {
        "note": {
            "summary": "With a note",
            "value": {"note": "Superseded by the 2026 territorial programme."},
        },
        "none": {"summary": "Without one", "value": {}},
    },
}


def _status_route(act: ArticleAction, summary: str, description: str) -> None:
    async def endpoint(
        article_id: uuid.UUID,
        uow: UnitOfWorkDep,
        principal: CurrentPrincipal,
        organizations: OrganizationsDep,
        now: NowDep,
        body: Annotated[StatusChange | None, Body(openapi_examples=STATUS_EXAMPLES[act])] = None,
    ) -> ArticleOut:
        note = body.note if body else None
        article = await knowledge.change_status(
            uow, principal, article_id, act, note, organizations, now
        )
        return article_out(article)

    router.add_api_route(
        f"/articles/{{article_id}}/{act.value}",
        endpoint,
        methods=["POST"],
        response_model=ArticleOut,
        summary=summary,
        description=description,
        name=f"{act.value}_article",
        responses=problem_responses(401, 403, 404, 409, 422, 502),
        dependencies=client_scopes(WRITE_SCOPE),
    )


_status_route(
    ArticleAction.PUBLISH,
    "Publish an article to its regions' operators",
    "For those who write the article's regions (403 for others who read it): a draft or "
    "archived article becomes `published`, a new version with the optional `note`, and "
    "operators find it in searches and suggestions. 409 when it is published already.",
)
_status_route(
    ArticleAction.ARCHIVE,
    "Archive an article: no longer found, kept with its versions",
    "For those who write the article's regions: it becomes `archived`, a new version with "
    "the optional `note`; operators no longer find it, while the appeals that cited it keep "
    "it. 409 when it is archived already.",
)
