"""HTTP route of the figures under `/api/consult/stats`, for coordinators and administrators."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.openapi import client_scopes
from services.common.times import Day
from services.common.uow import UnitOfWorkDep
from services.consult.deps import PREFIX, NowDep, OrganizationsDep, SettingsDep
from services.consult.scopes import READ_SCOPE
from services.consult.stats import service as stats
from services.consult.stats.schemas import ArticleFiguresOut, GroupBy, StatsOut
from services.consult.values import REGION_PATTERN, Specialty

router = APIRouter(prefix=PREFIX, tags=["statistics"])


def _asked(request: Request) -> set[str]:
    """The zones figures were asked in, which the roll-up job keeps (`stats/rollup.py`)."""
    asked: set[str] = request.app.state.stats_zones_asked
    return asked


ZonesAskedDep = Annotated[set[str], Depends(_asked)]


@router.get(
    "/stats",
    response_model=StatsOut,
    summary="Figures per organisation or specialty over a period (coordinators, admins)",
    description=(
        "The period's cohorts, the cases submitted and appeals received on its days, and what "
        "has happened to them since: counts, "
        "median and 90th-percentile times to the first response and to the conclusion or "
        "resolution, shares within the deadline, first-contact resolution, callbacks within "
        "their due time, monitoring and escalations; plus what is overdue now. Without a "
        "period: the last 30 days (`stats_window_days`), as the Prometheus gauges show. "
        "Days past are rolled up: their figures are at most a roll-up interval old, and "
        "their durations' percentiles are exact when few, otherwise within about 19%. Days "
        "are the organisation's own: one organisation's figures (`organization_id`) and each "
        "organisation's group count the days of its time zone; the totals across "
        "organisations, `hotline_days` and specialties' groups count the deployment's "
        "(`timezone`, `timezone_of`; each group names its `timezone`). Without `to`, each "
        "organisation's group runs to its own today. A coordinator sees "
        "their region's figures, an administrator any region's."
    ),
    responses=problem_responses(401, 403, 404, 422, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_stats(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
    asked: ZonesAskedDep,
    first: Annotated[
        Day | None, Query(alias="from", description="The first day, included.")
    ] = None,
    last: Annotated[Day | None, Query(alias="to", description="The last day, included.")] = None,
    group_by: GroupBy = GroupBy.ORGANIZATION,
    region: Annotated[
        str | None, Query(pattern=REGION_PATTERN, description="Administrators: one region.")
    ] = None,
    organization_id: uuid.UUID | None = None,
    specialty: Annotated[Specialty | None, Query()] = None,
) -> StatsOut:
    query = stats.StatsQuery(first, last, group_by, region, organization_id, specialty)
    return await stats.read_figures(uow, principal, query, organizations, settings, now, asked)


@router.get(
    "/stats/articles",
    response_model=ArticleFiguresOut,
    summary="First-contact resolution per knowledge-base article (coordinators, admins)",
    description=(
        "The appeals resolved on the period's days (of the one organisation's own time zone "
        "with `organization_id`, else of the deployment's: `timezone`, `timezone_of`) whose "
        "resolution cites each article, and how many of them at first contact: "
        "which answers settle a caller's question at once. Periods and rights as `/stats`."
    ),
    responses=problem_responses(401, 403, 404, 422, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_article_figures(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
    first: Annotated[
        Day | None, Query(alias="from", description="The first day, included.")
    ] = None,
    last: Annotated[Day | None, Query(alias="to", description="The last day, included.")] = None,
    region: Annotated[
        str | None, Query(pattern=REGION_PATTERN, description="Administrators: one region.")
    ] = None,
    organization_id: uuid.UUID | None = None,
) -> ArticleFiguresOut:
    query = stats.StatsQuery(first, last, region=region, organization_id=organization_id)
    return await stats.read_article_figures(uow, principal, query, organizations, settings, now)
