"""First-contact resolution per knowledge-base article: the appeals resolved on a period's days
whose resolution cites each article, and how many of them at first contact."""

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.consult.appeals.enums import AppealStatus
from services.consult.appeals.models import Appeal
from services.consult.knowledge.models import Article
from services.consult.stats.cohorts import Days, Scope
from services.consult.stats.schemas import ArticleFigures, Rate


async def read_articles(session: AsyncSession, scope: Scope, days: Days) -> list[ArticleFigures]:
    """The cited articles, the most cited first."""
    resolved = func.count(Appeal.id)
    first_contact = func.sum(
        case((Appeal.first_contact_resolution.is_(True), 1), else_=0), type_=Integer
    )
    query = (
        select(Article.id, Article.title, Article.language, resolved, first_contact)
        .join(Appeal, Appeal.article_id == Article.id)
        .where(
            Appeal.status == AppealStatus.RESOLVED,
            Appeal.resolved_at >= days.start,
            Appeal.resolved_at < days.end,
        )
        .group_by(Article.id, Article.title, Article.language)
        .order_by(resolved.desc(), Article.title, Article.id)
    )
    if scope.region is not None:
        query = query.where(Appeal.region == scope.region)
    if scope.organization_id is not None:
        query = query.where(Appeal.organization_id == scope.organization_id)
    rows = (await session.execute(query)).all()
    return [
        ArticleFigures(
            article_id=article_id,
            title=title,
            language=language,
            resolved=count,
            first_contact_resolution=Rate(
                count=first, of=count, ratio=first / count if count else None
            ),
        )
        for article_id, title, language, count, first in rows
    ]
