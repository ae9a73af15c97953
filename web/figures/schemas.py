"""Consult's figures (`GET /api/consult/stats`) as the figures screen reads them."""

import uuid
from datetime import date

from pydantic import Field

from web.cases.schemas import Answer


class Rate(Answer):
    count: int
    of: int
    ratio: float | None


class Percentiles(Answer):
    measured: int
    median_seconds: float | None
    p90_seconds: float | None


class CaseFigures(Answer):
    submitted: int
    concluded: int
    conclusion: Percentiles
    within_deadline: Rate
    overdue_now: int


class ResolutionFigures(Answer):
    by_action: dict[str, int]
    by_result: dict[str, int]


class AppealFigures(Answer):
    received: int
    by_channel: dict[str, int]
    resolved: int
    within_deadline: Rate
    first_contact_resolution: Rate
    resolutions: ResolutionFigures
    overdue_now: int


class CallbackFigures(Answer):
    owed: int
    reached: Rate


class Group(Answer):
    organization_id: uuid.UUID | None
    specialty: str | None
    timezone: str  # whose days the group's figures count
    cases: CaseFigures
    appeals: AppealFigures | None
    callbacks: CallbackFigures | None


class HotlineDay(Answer):
    day: date
    by_channel: dict[str, int]


class Figures(Answer):
    first: date = Field(alias="from")
    to: date
    timezone: str
    timezone_of: str  # "organization" (the one organisation's zone) or "deployment"
    region: str | None
    group_by: str
    totals: Group
    groups: list[Group]
    hotline_days: list[HotlineDay]
