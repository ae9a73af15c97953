"""Pydantic shapes of the knowledge base's API: articles, their versions, search results and
suggestions."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.consult.knowledge.enums import (
    ArticleCategory,
    ArticleChange,
    ArticleLanguage,
    ArticleStatus,
)
from services.consult.values import MAX_TEXT, REGION_PATTERN, Strict

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=200),
    Field(examples=["The OMS policy: getting one, replacing it"]),
]
Body = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=20, max_length=MAX_TEXT),
    Field(
        description="Plain text read out to callers: paragraphs apart by a blank line, "
        "`# ` before a heading, `- ` before an item of a list.",
        examples=["Any medical insurer of the region issues the policy free of charge ..."],
    ),
]
Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(examples=["18"])]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(examples=["The 2027 programme's limits for a specialist's appointment."]),
]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("each value at most once")
    return sorted(values)


Categories = Annotated[
    list[ArticleCategory],
    Field(min_length=1, max_length=5, examples=[[ArticleCategory.OMS_POLICY]]),
    AfterValidator(_distinct),
]
Regions = Annotated[
    list[Region],
    Field(
        max_length=20,
        description="The regions it holds in; none: every region (administrators only).",
        examples=[["18"]],
    ),
    AfterValidator(_distinct),
]


class ArticleCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Полис медицинского страхования: как получить и заменить",
                    "body": (
                        "Полис выдаёт бесплатно любая страховая медицинская организация "
                        "Кузбасса.\n\n# Что взять\n- паспорт\n- СНИЛС\n\n"
                        "Пока готовится полис, выдают выписку из реестра застрахованных."
                    ),
                    "language": "ru",
                    "categories": ["oms_policy"],
                    "regions": ["42"],
                    "note": "For the hotline's most common question.",
                }
            ]
        }
    )

    title: Title
    body: Body
    language: ArticleLanguage
    categories: Categories
    regions: Regions = Field(default_factory=list)
    note: Note | None = Field(default=None, description="Why it was written, for its history.")


class ArticleEdit(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 3,
                    "categories": ["oms_policy", "care_outside_region"],
                    "note": "Added care outside the region: the policy holds everywhere.",
                }
            ]
        }
    )

    version: int = Field(
        ge=1,
        examples=[3],
        description="The version the edit was made on: an edit of an older one is a 409, so "
        "nobody overwrites a change they have not seen.",
    )
    title: Title | None = None
    body: Body | None = None
    language: ArticleLanguage | None = None
    categories: Categories | None = None
    regions: Regions | None = None
    note: Note | None = Field(default=None, description="What changed and why, for its history.")


class StatusChange(Strict):
    note: Note | None = None


class VersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    at: datetime
    editor_id: uuid.UUID
    editor_name: str
    change: ArticleChange
    changed: list[str] = Field(description="The fields this version changed.")
    note: str | None


class VersionOut(VersionSummary):
    """The article as this version left it."""

    title: str
    body: str
    language: ArticleLanguage
    status: ArticleStatus
    categories: list[ArticleCategory]
    regions: list[str]


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    body: str
    language: ArticleLanguage
    categories: list[ArticleCategory]
    regions: list[str] = Field(description="None: every region.")
    status: ArticleStatus
    version: int
    created_by: uuid.UUID
    updated_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    archived_at: datetime | None
    versions: list[VersionSummary] | None = Field(
        default=None,
        description="Its history, oldest first: for those who write it (null for readers).",
    )


class Snippet(BaseModel):
    text: str = Field(description="A passage around the words found, on one line.")
    highlights: list[tuple[int, int]] = Field(
        description="Where the words found are in `text`: (start, end) character offsets."
    )


class ArticleHit(BaseModel):
    id: uuid.UUID
    title: str
    language: ArticleLanguage
    categories: list[ArticleCategory]
    regions: list[str]
    status: ArticleStatus
    updated_at: datetime
    snippet: Snippet
    rank: float | None = Field(description="Higher is better; null when nothing was searched.")


class ArticlePage(BaseModel):
    items: list[ArticleHit]
    next_offset: int | None = Field(description="Pass as `offset` for the next page.")
    writes: bool = Field(
        description="Whether the caller writes articles (so a screen offers to write one)."
    )
