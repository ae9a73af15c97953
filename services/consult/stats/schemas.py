"""Pydantic shapes of the figures for coordinators and administrators.

Each period figure is of the period's cohorts: the cases submitted and the appeals received on
its days, and what has happened to them since. One organisation's days are of its own time
zone; the totals across organisations are of the deployment's (`timezone_of`). `overdue_now` and
`patients_now` are of the moment, whenever the case or appeal came.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class GroupBy(StrEnum):
    ORGANIZATION = "organization"
    SPECIALTY = "specialty"


class ZoneOf(StrEnum):
    """Whose time zone the days are of."""

    ORGANIZATION = "organization"  # the one organisation's the figures are of
    DEPLOYMENT = "deployment"  # `TELEMED_CONSULT_STATS_TIMEZONE`: totals across organisations


class Rate(BaseModel):
    count: int = Field(examples=[41])
    of: int = Field(examples=[45])
    ratio: float | None = Field(examples=[0.911], description="count / of; null when of is 0.")


class Percentiles(BaseModel):
    """Durations in seconds, linearly interpolated between the closest ranks (as PostgreSQL's
    `percentile_cont`); exact when few, otherwise within about 19% (see the OpenAPI summary)."""

    measured: int = Field(examples=[45], description="How many durations there were.")
    median_seconds: float | None = Field(examples=[1380.0])
    p90_seconds: float | None = Field(examples=[10260.0])


class CaseFigures(BaseModel):
    submitted: int = Field(
        examples=[45], description="Consultations submitted (and patients' requests made)."
    )
    concluded: int = Field(examples=[41], description="Of them, concluded by now.")
    first_response: Percentiles = Field(
        description="From submission to the specialists' first answer: acceptance, a message "
        "in the thread (a question), or a decline, whichever came first."
    )
    conclusion: Percentiles = Field(description="From submission to the conclusion.")
    within_deadline: Rate = Field(
        description="Concluded by the deadline, of those concluded or still open past it."
    )
    overdue_now: int = Field(examples=[2], description="Open cases past their deadline now.")


class ResolutionFigures(BaseModel):
    """Of the resolved appeals that say what was done (resolutions recorded since they were
    introduced)."""

    by_action: dict[str, int] = Field(
        examples=[{"booked_appointment": 420, "called_head": 95, "arranged_free_care": 60}],
        description="How many say each action (`ResolutionAction`) was done; an appeal may name "
        "several, so these add up to more than the appeals.",
    )
    by_result: dict[str, int] = Field(
        examples=[{"resolved": 1200, "partially_resolved": 80, "refused": 40, "referred": 60}],
        description="How many ended with each result (`ResolutionResult`).",
    )


class AppealFigures(BaseModel):
    received: int = Field(examples=[1500], description="Appeals received.")
    by_channel: dict[str, int] = Field(
        examples=[{"phone": 1200, "chat": 250, "web": 40, "api": 10}],
        description="Of them, by the channel they came by.",
    )
    resolved: int = Field(examples=[1380], description="Of them, resolved by now.")
    first_response: Percentiles = Field(
        description="From receipt to the first answer: taken up by an operator, resolved, "
        "redirected, or closed by an operator (a patient's withdrawal answers nothing)."
    )
    resolution: Percentiles = Field(description="From receipt to the resolution.")
    within_deadline: Rate = Field(
        description="Resolved by the deadline, of those resolved or still open past it "
        "(redirected and closed appeals have no deadline to meet)."
    )
    first_contact_resolution: Rate = Field(
        description="Resolved at the first contact, of those resolved."
    )
    escalated: int = Field(
        examples=[12], description="Escalated to the organisation's head once overdue."
    )
    resolutions: ResolutionFigures = Field(
        description="Of those resolved, what was done and with what result."
    )
    overdue_now: int = Field(examples=[3], description="Open appeals past their deadline now.")


class CallbackFigures(BaseModel):
    owed: int = Field(
        examples=[600],
        description="Callbacks the period's appeals needed, cancelled ones aside, for the "
        "organisation that owes the call.",
    )
    reached: Rate = Field(
        description="Reached, of those settled: reached, or every attempt allowed made."
    )
    within_due_time: Rate = Field(
        description="Settled (reached, or the last attempt allowed made) by the due time in "
        "force at that last call (a retry moves it on), of those settled or still pending "
        "past it."
    )


class MonitoringFigures(BaseModel):
    patients_now: int = Field(examples=[120], description="Patients under monitoring now.")
    patients: int = Field(
        examples=[140], description="Patients under monitoring at any time of the period."
    )
    escalations: int = Field(
        examples=[9],
        description="Home visits and ambulance calls that worsening check-ins arranged in "
        "the period.",
    )


class StatsGroup(BaseModel):
    """One organisation's or specialty's figures, or all of them (`totals`). Appeals,
    callbacks and monitoring have no specialty: null in specialties' figures."""

    organization_id: uuid.UUID | None = Field(
        description="The organisation answering: the consultations' regional centre, the "
        "appeals' responsible organisation (null: appeals not routed yet), the organisation "
        "owing the callbacks or monitoring the patients."
    )
    specialty: str | None = Field(examples=["cardiology"])
    timezone: str = Field(
        examples=["Asia/Novokuznetsk"],
        description="Whose days these figures count: an organisation's own zone for its "
        "group; the figures' `timezone` for the totals, a specialty's group and the appeals "
        "not routed yet.",
    )
    cases: CaseFigures
    appeals: AppealFigures | None
    callbacks: CallbackFigures | None
    monitoring: MonitoringFigures | None


class HotlineDay(BaseModel):
    day: date = Field(examples=["2026-03-02"])
    by_channel: dict[str, int] = Field(
        examples=[{"phone": 40, "chat": 8, "web": 2, "api": 0}],
        description="Appeals received that day, by channel.",
    )


class StatsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", examples=["2026-03-01"])
    to: date = Field(examples=["2026-03-31"], description="The period's last day, included.")
    timezone: str = Field(
        examples=["Asia/Novokuznetsk"],
        description="Whose days the period's are: the totals' and `hotline_days`' (each "
        "organisation's group says its own).",
    )
    timezone_of: ZoneOf = Field(
        description="`organization`: the one organisation's (`organization_id`) own zone; "
        "`deployment`: the deployment's, for totals across organisations."
    )
    region: str | None = Field(examples=["42"], description="Null: every region (admins).")
    group_by: GroupBy
    generated_at: datetime
    totals: StatsGroup
    groups: list[StatsGroup]
    hotline_days: list[HotlineDay] = Field(
        description="Each day of the period's appeals received, by channel (empty for a "
        "specialty, which appeals have none)."
    )


class ArticleFigures(BaseModel):
    article_id: uuid.UUID
    title: str
    language: str = Field(examples=["ru"])
    resolved: int = Field(
        examples=[12], description="Appeals resolved on the period's days citing the article."
    )
    first_contact_resolution: Rate = Field(description="Of them, resolved at first contact.")


class ArticleFiguresOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", examples=["2026-03-01"])
    to: date = Field(examples=["2026-03-31"], description="The period's last day, included.")
    timezone: str = Field(examples=["Europe/Samara"], description="Whose days these are.")
    timezone_of: ZoneOf = Field(
        description="`organization`: the one organisation's own zone; `deployment`: the "
        "deployment's, across organisations."
    )
    region: str | None = Field(examples=["18"], description="Null: every region (admins).")
    articles: list[ArticleFigures] = Field(description="The articles cited, most cited first.")
