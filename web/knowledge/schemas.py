"""Consult's knowledge-base answers as the screens read them (docs/api.md); fields the screens
do not use are ignored."""

import uuid
from datetime import date, datetime

from pydantic import Field

from web.cases.schemas import Answer


class Snippet(Answer):
    text: str
    highlights: list[tuple[int, int]]


class ArticleHit(Answer):
    id: uuid.UUID
    title: str
    language: str
    categories: list[str]
    regions: list[str]
    status: str
    updated_at: datetime
    snippet: Snippet


class ArticlePage(Answer):
    items: list[ArticleHit]
    next_offset: int | None
    writes: bool


class VersionSummary(Answer):
    number: int
    at: datetime
    editor_name: str
    change: str
    changed: list[str]
    note: str | None


class Version(VersionSummary):
    title: str
    body: str
    language: str
    status: str
    categories: list[str]
    regions: list[str]


class Article(Answer):
    id: uuid.UUID
    title: str
    body: str
    language: str
    categories: list[str]
    regions: list[str]
    status: str
    version: int
    updated_at: datetime
    published_at: datetime | None
    versions: list[VersionSummary] | None  # None: the reader does not write it


class Rate(Answer):
    count: int
    of: int
    ratio: float | None


class ArticleFigures(Answer):
    article_id: uuid.UUID
    title: str
    language: str
    resolved: int
    first_contact_resolution: Rate


class ArticleFiguresPage(Answer):
    first: date = Field(alias="from")
    to: date
    timezone: str
    articles: list[ArticleFigures]
