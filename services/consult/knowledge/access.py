"""Who may read and who may write which articles: each rule as a Python check and as a SQL
filter, and the audit of each change.

The staff who take callers' appeals (coordinators, who are the hotline's operators, and
registrars) read the published articles that hold in their region: those naming it and those
naming none. Coordinators of a hotline, an insurer's contact centre or a regional centre write
their own region's articles, and read them at every status with their versions; administrators
write every article, an article for every region included. Articles hold no patient's data:
reading them is not audited, changing them is.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true

from gateway.client import OrganizationKind
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound, ProblemError
from services.common.uow import UnitOfWork
from services.consult.knowledge.enums import ArticleStatus
from services.consult.knowledge.models import Article, ArticleRegion
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope

RESOURCE = "consult_knowledge_article"
READER_ROLES = frozenset({Role.COORDINATOR, Role.REGISTRAR})
# The organisations whose coordinators answer callers' questions for a whole region.
EDITOR_KINDS = frozenset(
    {OrganizationKind.HOTLINE, OrganizationKind.INSURER, OrganizationKind.REGIONAL_CENTRE}
)
EVERY_REGION = None  # an administrator's reach


def audit(
    uow: UnitOfWork,
    action: str,
    article_id: uuid.UUID | None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str | None = None,
) -> None:
    uow.audit.record(action, RESOURCE, article_id, outcome, detail=detail)


def require_reader(principal: Principal) -> None:
    require_scope(principal, write=False)
    if principal.role is Role.ADMIN:
        return
    if principal.role not in READER_ROLES or principal.region is None:
        raise Forbidden("The knowledge base is for hotline operators, registrars and admins.")


async def editor_region(principal: Principal, organizations: OrganizationLookup) -> str | None:
    """The region whose articles the caller writes (`EVERY_REGION` for an administrator), or
    a 403: only administrators and coordinators of the organisations in `EDITOR_KINDS` write."""
    require_scope(principal, write=True)
    if principal.role is Role.ADMIN:
        return EVERY_REGION
    if (
        principal.role is Role.COORDINATOR
        and principal.region is not None
        and principal.organization_id is not None
    ):
        organization = await organizations(principal.organization_id)
        if organization.kind in EDITOR_KINDS:
            return principal.region
    raise Forbidden(
        "Articles are written by coordinators of hotlines, insurers' contact centres and "
        "regional centres, and by administrators."
    )


@dataclass(frozen=True)
class Editor:
    region: str | None  # the region whose articles they write; `EVERY_REGION`: an admin


@dataclass(frozen=True)
class Reader:
    """Whose articles a caller reads: the published ones holding in `region` (None: in
    every region, an administrator's reach), and, for an `editor`, theirs at any status."""

    region: str | None
    editor: Editor | None


async def editor_of(principal: Principal, organizations: OrganizationLookup) -> Editor | None:
    """The caller as an editor, or None for one who only reads."""
    if principal.role not in {Role.ADMIN, Role.COORDINATOR}:
        return None
    try:
        return Editor(await editor_region(principal, organizations))
    except ProblemError:
        return None


def edits(editor: Editor | None, regions: list[str]) -> bool:
    """Whether `editor` writes an article for `regions` (none: every region)."""
    if editor is None:
        return False
    return editor.region is EVERY_REGION or regions == [editor.region]


def holds_in(article: Article, region: str | None) -> bool:
    return region is None or article.everywhere or region in article.regions


def can_read(reader: Reader, article: Article) -> bool:
    if not holds_in(article, reader.region):
        return False
    return article.status is ArticleStatus.PUBLISHED or edits(reader.editor, article.regions)


def held_in(region: str | None) -> ColumnElement[bool]:
    """The SQL form of `holds_in`."""
    if region is None:
        return true()
    named = exists().where(ArticleRegion.article_id == Article.id, ArticleRegion.region == region)
    return or_(Article.everywhere, named)


def readable(reader: Reader) -> ColumnElement[bool]:
    """The SQL form of `can_read`."""
    status = Article.status == ArticleStatus.PUBLISHED
    if reader.editor is not None and reader.editor.region is EVERY_REGION:
        status = true()
    elif reader.editor is not None:
        region = reader.editor.region
        others = exists().where(
            ArticleRegion.article_id == Article.id, ArticleRegion.region != region
        )
        theirs = and_(not_(Article.everywhere), held_in(region), not_(others))
        status = or_(status, theirs)
    return and_(held_in(reader.region), status)


async def reader_region(
    principal: Principal, region: str | None, organizations: OrganizationLookup
) -> str | None:
    """The region to read articles of: the one asked for if the caller may (their own, or, at
    a call centre, that of an organisation theirs serves), their own by default; an
    administrator reads every region's unless they name one."""
    if principal.role is Role.ADMIN or region in {None, principal.region}:
        return region or principal.region
    for organization_id in sorted(principal.serves):
        if (await organizations(organization_id)).region == region:
            return region
    raise Forbidden("You read the articles of your own region only.")


async def load_article(
    uow: UnitOfWork, article_id: uuid.UUID, *, write: bool = False
) -> Article | None:
    query = select(Article).where(Article.id == article_id)
    if write:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


def not_found() -> NotFound:
    return NotFound("No article with this id is visible to you.")
