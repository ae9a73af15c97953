"""Persistence of the knowledge base: articles with their categories and regions, every version
of each, and the search document PostgreSQL keeps of them (SQLite's is in `search.py`)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.consult.db import Base
from services.consult.knowledge.enums import (
    ArticleCategory,
    ArticleChange,
    ArticleLanguage,
    ArticleStatus,
)


class SearchDocument(FunctionElement[Any]):
    """An article's title and body as PostgreSQL's full-text search document: stemmed in the
    article's language, the title weighing more than the body in the ranking."""

    inherit_cache = True


# How PostgreSQL itself writes the expression back, so that comparing the models with the
# database finds them the same.
_CONFIG = "CASE language WHEN 'ru'::text THEN 'russian'::regconfig ELSE 'english'::regconfig END"
POSTGRESQL_SEARCH_DOCUMENT = (
    f"setweight(to_tsvector({_CONFIG}, (title)::text), 'A'::\"char\") || "
    f"setweight(to_tsvector({_CONFIG}, body), 'B'::\"char\")"
)


@compiles(SearchDocument, "postgresql")
def _postgresql_document(element: SearchDocument, compiler: SQLCompiler, **kw: Any) -> str:
    return POSTGRESQL_SEARCH_DOCUMENT


@compiles(SearchDocument)
def _no_document(element: SearchDocument, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stems nothing in SQL: its search is an FTS5 table over stems Python makes.
    return "NULL"


class Article(IdMixin, TimestampMixin, Base):
    __tablename__ = "knowledge_articles"
    __table_args__ = (
        # Full-text search (`search.py`): `search_document @@ query`, ranked by `ts_rank`.
        # Without GIN's pending list: articles change seldom and are searched on every call,
        # and a search would read each entry still pending until the next vacuum.
        Index(
            "ix_knowledge_articles_search_document",
            "search_document",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        # Browsing without words to search for: the newest first of a status.
        Index("ix_knowledge_articles_status_updated", "status", "updated_at"),
    )

    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[ArticleLanguage] = mapped_column(string_enum(ArticleLanguage))
    status: Mapped[ArticleStatus] = mapped_column(string_enum(ArticleStatus))
    everywhere: Mapped[bool] = mapped_column(Boolean)  # no regions named: it holds in every one
    version: Mapped[int] = mapped_column(Integer)  # the number of its latest version
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    updated_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A stored generated column rather than an expression index: ranking reads the vector of
    # every row that matches, and recomputing it from the text there took five times as long
    # (a median 84 ms against 16 ms over bench/knowledge_base.py's 5,000 generated articles).
    search_document: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"),
        Computed(SearchDocument(), persisted=True),
        deferred=True,
    )

    category_links: Mapped[list["ArticleCategoryLink"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ArticleCategoryLink.category"
    )
    region_links: Mapped[list["ArticleRegion"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ArticleRegion.region"
    )

    @property
    def categories(self) -> list[ArticleCategory]:
        return sorted(link.category for link in self.category_links)

    @property
    def regions(self) -> list[str]:
        return sorted(link.region for link in self.region_links)


class ArticleCategoryLink(Base):
    __tablename__ = "knowledge_article_categories"
    # Filtering by category: `EXISTS (... WHERE category = ? AND article_id = articles.id)`.
    __table_args__ = (Index("ix_knowledge_article_categories_category", "category", "article_id"),)

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_articles.id"), primary_key=True
    )
    category: Mapped[ArticleCategory] = mapped_column(
        string_enum(ArticleCategory), primary_key=True
    )


class ArticleRegion(Base):
    __tablename__ = "knowledge_article_regions"
    # The articles of a region: `everywhere OR EXISTS (... WHERE region = ? AND article_id = ...)`.
    __table_args__ = (Index("ix_knowledge_article_regions_region", "region", "article_id"),)

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_articles.id"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(8), primary_key=True)


class ArticleVersion(Base):
    """The article as one change left it, who made the change and what it changed: the text
    before every edit stays readable."""

    __tablename__ = "knowledge_article_versions"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_articles.id"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    editor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    editor_name: Mapped[str] = mapped_column(String(255))  # the username, as signed in then
    change: Mapped[ArticleChange] = mapped_column(string_enum(ArticleChange))
    changed: Mapped[list[str]] = mapped_column(JSON)  # the fields this version changed
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[ArticleLanguage] = mapped_column(string_enum(ArticleLanguage))
    status: Mapped[ArticleStatus] = mapped_column(string_enum(ArticleStatus))
    categories: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
