"""The knowledge base's rules: writing articles with a version for every change, publishing
and archiving them, searching, suggesting articles for a caller's appeal, and the article a
resolution may cite."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select

from services.common.auth import Principal
from services.common.errors import (
    Conflict,
    Forbidden,
    ProblemError,
    UnknownReference,
    Unprocessable,
)
from services.common.uow import UnitOfWork
from services.consult.knowledge import search
from services.consult.knowledge.access import (
    RESOURCE,
    Editor,
    Reader,
    audit,
    can_read,
    editor_of,
    editor_region,
    edits,
    load_article,
    not_found,
    readable,
    reader_region,
    require_reader,
)
from services.consult.knowledge.enums import (
    TOPIC_CATEGORIES,
    ArticleAction,
    ArticleCategory,
    ArticleChange,
    ArticleLanguage,
    ArticleStatus,
)
from services.consult.knowledge.models import (
    Article,
    ArticleCategoryLink,
    ArticleRegion,
    ArticleVersion,
)
from services.consult.knowledge.schemas import ArticleCreate, ArticleEdit
from services.consult.knowledge.snippets import Snippet, snippet
from services.consult.ports import OrganizationLookup

A, S = ArticleAction, ArticleStatus
TRANSITIONS: dict[tuple[ArticleStatus, ArticleAction], ArticleStatus] = {
    (S.DRAFT, A.PUBLISH): S.PUBLISHED,
    (S.ARCHIVED, A.PUBLISH): S.PUBLISHED,
    (S.DRAFT, A.ARCHIVE): S.ARCHIVED,
    (S.PUBLISHED, A.ARCHIVE): S.ARCHIVED,
}
CHANGES = {A.PUBLISH: ArticleChange.PUBLISHED, A.ARCHIVE: ArticleChange.ARCHIVED}
EDITABLE = ("title", "body", "language", "categories", "regions")
# A caller's account is long; its first words say what it is about, and a search of them
# stays fast.
SUGGESTION_WORDS = 60
# Suggestions are the best of this many matches, those in the topic's categories counted twice.
CANDIDATES = 20
TOPIC_WEIGHT = 2.0


def next_status(current: ArticleStatus, action: ArticleAction) -> ArticleStatus:
    """The status `action` leads to from `current`, or a 409 naming the current status."""
    if (current, action) not in TRANSITIONS:
        raise Conflict(
            f"Cannot {action.value} an article that is {current.value}.",
            current_status=current.value,
        )
    return TRANSITIONS[(current, action)]


def _record(
    uow: UnitOfWork,
    principal: Principal,
    article: Article,
    change: ArticleChange,
    changed: list[str],
    note: str | None,
    now: datetime,
) -> None:
    uow.session.add(
        ArticleVersion(
            article_id=article.id,
            number=article.version,
            at=now,
            editor_id=principal.subject,
            editor_name=principal.username,
            change=change,
            changed=changed,
            note=note,
            title=article.title,
            body=article.body,
            language=article.language,
            status=article.status,
            categories=[category.value for category in article.categories],
            regions=article.regions,
        )
    )


def _require_edits(editor: Editor, regions: list[str]) -> None:
    if not edits(editor, regions):
        raise Forbidden(
            "A coordinator writes articles for their own region only (`regions`: theirs "
            "alone); articles for every region or several are the administrators'."
        )


def _set_links(article: Article, categories: list[ArticleCategory], regions: list[str]) -> None:
    """The article's categories and regions as given: links kept, dropped or added."""
    kept = [link for link in article.category_links if link.category in categories]
    added = set(categories) - {link.category for link in kept}
    article.category_links = kept + [ArticleCategoryLink(category=each) for each in added]
    held = [link for link in article.region_links if link.region in regions]
    named = set(regions) - {link.region for link in held}
    article.region_links = held + [ArticleRegion(region=each) for each in sorted(named)]
    article.everywhere = not regions


async def create_article(
    uow: UnitOfWork,
    principal: Principal,
    data: ArticleCreate,
    organizations: OrganizationLookup,
    now: datetime,
) -> Article:
    """A draft, version 1. A coordinator's article holds in their region unless they name
    it in `regions` themselves (which they may do only for it)."""
    action = "knowledge.create"
    try:
        editor = Editor(await editor_region(principal, organizations))
        regions = data.regions
        if not regions and editor.region is not None:
            regions = [editor.region]
        _require_edits(editor, regions)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    article = Article(
        id=uuid.uuid4(),
        title=data.title,
        body=data.body,
        language=data.language,
        status=S.DRAFT,
        version=1,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    _set_links(article, data.categories, regions)
    uow.session.add(article)
    await uow.session.flush()
    _record(uow, principal, article, ArticleChange.CREATED, list(EDITABLE), data.note, now)
    await search.index(uow.session, article)
    audit(uow, action, article.id, detail=f"{article.language.value}: {article.title}")
    return article


async def _editable(
    uow: UnitOfWork,
    principal: Principal,
    article_id: uuid.UUID,
    action: str,
    organizations: OrganizationLookup,
) -> tuple[Article, Editor]:
    """The article locked for a change, if the caller writes it: 404 for one they do not see,
    403 for one they read but do not write."""
    try:
        editor = Editor(await editor_region(principal, organizations))
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, article_id, error)
    article = await load_article(uow, article_id, write=True)
    if article is None or not can_read(Reader(editor.region, editor), article):
        uow.audit.refuse(action, RESOURCE, article_id, not_found())
    try:
        _require_edits(editor, article.regions)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, article_id, error)
    return article, editor


async def edit_article(
    uow: UnitOfWork,
    principal: Principal,
    article_id: uuid.UUID,
    data: ArticleEdit,
    organizations: OrganizationLookup,
    now: datetime,
) -> Article:
    """A new version with the fields given; the previous text stays in the versions before."""
    action = "knowledge.edit"
    article, editor = await _editable(uow, principal, article_id, action, organizations)
    current = {
        "title": article.title,
        "body": article.body,
        "language": article.language,
        "categories": article.categories,
        "regions": article.regions,
    }
    given = data.model_dump(include=set(EDITABLE), exclude_none=True)
    changed = [name for name in EDITABLE if name in given and given[name] != current[name]]
    try:
        if data.version != article.version:
            raise Conflict(
                f"The article has changed since version {data.version}: read version "
                f"{article.version} and edit that.",
                current_version=article.version,
            )
        if not changed:
            raise Unprocessable("Nothing to change: the article already says this.")
        if "regions" in changed:
            _require_edits(editor, given["regions"])
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, article.id, error)
    article.title = given.get("title", article.title)
    article.body = given.get("body", article.body)
    article.language = given.get("language", article.language)
    _set_links(
        article,
        given.get("categories", article.categories),
        given.get("regions", article.regions),
    )
    article.version += 1
    article.updated_by = principal.subject
    article.updated_at = now
    await uow.session.flush()
    _record(uow, principal, article, ArticleChange.EDITED, changed, data.note, now)
    if {"title", "body"} & set(changed):
        await search.index(uow.session, article)
    audit(uow, action, article.id, detail=f"version {article.version}: {', '.join(changed)}")
    return article


async def change_status(
    uow: UnitOfWork,
    principal: Principal,
    article_id: uuid.UUID,
    act: ArticleAction,
    note: str | None,
    organizations: OrganizationLookup,
    now: datetime,
) -> Article:
    """Publishes an article to its regions' operators, or archives it; each is a version."""
    action = f"knowledge.{act.value}"
    article, _ = await _editable(uow, principal, article_id, action, organizations)
    try:
        article.status = next_status(article.status, act)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, article.id, error)
    if act is A.PUBLISH:
        article.published_at, article.archived_at = now, None
    else:
        article.archived_at = now
    article.version += 1
    article.updated_by = principal.subject
    article.updated_at = now
    await uow.session.flush()
    _record(uow, principal, article, CHANGES[act], ["status"], note, now)
    audit(uow, action, article.id, detail=f"version {article.version}")
    return article


async def _reader(
    principal: Principal, region: str | None, organizations: OrganizationLookup
) -> Reader:
    require_reader(principal)
    region = await reader_region(principal, region, organizations)
    return Reader(region, await editor_of(principal, organizations))


async def read_article(
    uow: UnitOfWork,
    principal: Principal,
    article_id: uuid.UUID,
    organizations: OrganizationLookup,
) -> tuple[Article, list[ArticleVersion] | None]:
    """The article, with its versions for those who write it."""
    reader = await _reader(principal, None, organizations)
    article = await load_article(uow, article_id)
    if article is None or not can_read(reader, article):
        raise not_found()
    if not edits(reader.editor, article.regions):
        return article, None
    query = (
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.number)
    )
    return article, list((await uow.session.scalars(query)).all())


async def read_version(
    uow: UnitOfWork,
    principal: Principal,
    article_id: uuid.UUID,
    number: int,
    organizations: OrganizationLookup,
) -> ArticleVersion:
    """One version as it stood, for those who write the article."""
    _, versions = await read_article(uow, principal, article_id, organizations)
    for version in versions or ():
        if version.number == number:
            return version
    raise not_found()


class Query:
    """What a search or a listing asks for."""

    def __init__(
        self,
        terms: str | None = None,
        category: ArticleCategory | None = None,
        region: str | None = None,
        language: ArticleLanguage | None = None,
        status: ArticleStatus | None = None,
    ) -> None:
        self.terms = (terms or "").strip()
        self.category = category
        self.region = region
        self.language = language
        self.status = status


def _in_categories(categories: frozenset[ArticleCategory]) -> ColumnElement[bool]:
    return exists().where(
        ArticleCategoryLink.article_id == Article.id, ArticleCategoryLink.category.in_(categories)
    )


def _filters(reader: Reader, query: Query) -> ColumnElement[bool]:
    where = [readable(reader)]
    if query.category is not None:
        where.append(_in_categories(frozenset({query.category})))
    if query.language is not None:
        where.append(Article.language == query.language)
    if query.status is not None:
        where.append(Article.status == query.status)
    return and_(*where)


Hit = tuple[Article, Snippet, float | None]


async def find_articles(
    uow: UnitOfWork,
    principal: Principal,
    query: Query,
    organizations: OrganizationLookup,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Hit], int | None, bool]:
    """The articles matching the words searched for, best first, with a passage showing them;
    without words, the newest first; whether the caller writes articles. Editors find theirs
    at any `status`, readers the published ones."""
    reader = await _reader(principal, query.region, organizations)
    where = _filters(reader, query)
    hits: list[Hit]
    if query.terms:
        found = await search.search(uow.session, query.terms, where, limit=limit + 1, offset=offset)
        wanted = search.wanted(query.terms)
        hits = [(each.article, snippet(each.article.body, wanted), each.rank) for each in found]
    else:
        listing = (
            select(Article)
            .where(where)
            .order_by(Article.updated_at.desc(), Article.id)
            .limit(limit + 1)
            .offset(offset)
        )
        articles = (await uow.session.scalars(listing)).all()
        hits = [(article, snippet(article.body, set()), None) for article in articles]
    next_offset = offset + limit if len(hits) > limit else None
    return hits[:limit], next_offset, reader.editor is not None


async def suggest(
    uow: UnitOfWork,
    principal: Principal,
    topic: str | None,
    text: str | None,
    query: Query,
    organizations: OrganizationLookup,
    *,
    limit: int,
) -> list[Hit]:
    """Published articles for a caller's appeal: those matching most of the caller's words,
    the topic's categories first among equals; without words, the topic's newest."""
    require_reader(principal)
    reader = Reader(await reader_region(principal, query.region, organizations), None)
    categories = TOPIC_CATEGORIES.get(topic or "", frozenset())
    where = _filters(reader, query)
    words = " ".join((text or "").split()[:SUGGESTION_WORDS])
    if search.has_words(words):
        found = await search.search(uow.session, words, where, any_word=True, limit=CANDIDATES)

        def weight(each: search.Found) -> float:
            in_topic = bool(categories & set(each.article.categories))
            return each.rank * (TOPIC_WEIGHT if in_topic else 1.0)

        best = sorted(found, key=weight, reverse=True)[:limit]
        wanted = search.wanted(words)
        return [(each.article, snippet(each.article.body, wanted), weight(each)) for each in best]
    if not categories:
        return []
    listing = (
        select(Article)
        .where(where, _in_categories(categories))
        .order_by(Article.updated_at.desc(), Article.id)
        .limit(limit)
    )
    articles = (await uow.session.scalars(listing)).all()
    return [(article, snippet(article.body, set()), None) for article in articles]


async def citable(uow: UnitOfWork, article_id: uuid.UUID, region: str) -> Article:
    """The article a resolution of an appeal of `region` cites: published and holding there,
    else the 422 naming `article_id`."""
    article = await load_article(uow, article_id)
    reader = Reader(region, None)
    if article is None or not can_read(reader, article):
        detail = f"No published article {article_id} of the appeal's region to cite."
        issue = {"loc": ["body", "article_id"], "msg": detail, "type": "unknown_article"}
        raise UnknownReference(detail, errors=[issue])
    return article
