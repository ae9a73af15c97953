"""The tallies as the API's figures: counts, rates and percentiles of cases, appeals,
callbacks and monitoring, for a group of them or their totals."""

import uuid
from zoneinfo import ZoneInfo

from services.consult.stats.cohorts import ACTION_METRICS, CHANNEL_METRICS, RESULT_METRICS
from services.consult.stats.schemas import (
    AppealFigures,
    CallbackFigures,
    CaseFigures,
    MonitoringFigures,
    Percentiles,
    Rate,
    ResolutionFigures,
    StatsGroup,
)
from services.consult.stats.tally import Durations, Metric, Tally

M = Metric


def _rate(count: int, of: int) -> Rate:
    return Rate(count=count, of=of, ratio=count / of if of else None)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)  # to the millisecond


def _percentiles(durations: Durations | None) -> Percentiles:
    durations = durations or Durations()
    return Percentiles(
        measured=durations.count,
        median_seconds=_seconds(durations.quantile(0.5)),
        p90_seconds=_seconds(durations.quantile(0.9)),
    )


def case_figures(tally: Tally) -> CaseFigures:
    counts = tally.counts
    return CaseFigures(
        submitted=counts[M.CASES_SUBMITTED],
        concluded=counts[M.CASES_CONCLUDED],
        first_response=_percentiles(tally.durations.get(M.CASE_FIRST_RESPONSE)),
        conclusion=_percentiles(tally.durations.get(M.CASE_CONCLUSION)),
        within_deadline=_rate(
            counts[M.CASES_ON_TIME], counts[M.CASES_ON_TIME] + counts[M.CASES_LATE]
        ),
        overdue_now=counts[M.CASES_OVERDUE_NOW],
    )


def by_channel(tally: Tally) -> dict[str, int]:
    return {channel.value: tally.counts[metric] for channel, metric in CHANNEL_METRICS.items()}


def resolution_figures(tally: Tally) -> ResolutionFigures:
    counts = tally.counts
    return ResolutionFigures(
        by_action={action.value: counts[metric] for action, metric in ACTION_METRICS.items()},
        by_result={result.value: counts[metric] for result, metric in RESULT_METRICS.items()},
    )


def appeal_figures(tally: Tally) -> AppealFigures:
    counts = tally.counts
    resolved = counts[M.APPEALS_RESOLVED]
    return AppealFigures(
        received=counts[M.APPEALS_RECEIVED],
        by_channel=by_channel(tally),
        resolved=resolved,
        first_response=_percentiles(tally.durations.get(M.APPEAL_FIRST_RESPONSE)),
        resolution=_percentiles(tally.durations.get(M.APPEAL_RESOLUTION)),
        within_deadline=_rate(
            counts[M.APPEALS_ON_TIME], counts[M.APPEALS_ON_TIME] + counts[M.APPEALS_LATE]
        ),
        first_contact_resolution=_rate(counts[M.APPEALS_FIRST_CONTACT], resolved),
        escalated=counts[M.APPEALS_ESCALATED],
        resolutions=resolution_figures(tally),
        overdue_now=counts[M.APPEALS_OVERDUE_NOW],
    )


def callback_figures(tally: Tally) -> CallbackFigures:
    counts = tally.counts
    on_time = counts[M.CALLBACKS_ON_TIME]
    reached = counts[M.CALLBACKS_REACHED]
    return CallbackFigures(
        owed=counts[M.CALLBACKS_OWED],
        reached=_rate(reached, reached + counts[M.CALLBACKS_FAILED]),
        within_due_time=_rate(on_time, on_time + counts[M.CALLBACKS_LATE]),
    )


def monitoring_figures(tally: Tally) -> MonitoringFigures:
    return MonitoringFigures(
        patients_now=tally.counts[M.PATIENTS_MONITORED_NOW],
        patients=tally.counts[M.PATIENTS_MONITORED],
        escalations=tally.counts[M.MONITORING_ESCALATIONS],
    )


def stats_group(
    tally: Tally,
    organization_id: uuid.UUID | None,
    specialty: str | None,
    zone: ZoneInfo,
    *,
    cases_only: bool,
) -> StatsGroup:
    """`cases_only` for a specialty's figures: nothing but cases has a specialty."""
    return StatsGroup(
        organization_id=organization_id,
        specialty=specialty,
        timezone=zone.key,
        cases=case_figures(tally),
        appeals=None if cases_only else appeal_figures(tally),
        callbacks=None if cases_only else callback_figures(tally),
        monitoring=None if cases_only else monitoring_figures(tally),
    )
