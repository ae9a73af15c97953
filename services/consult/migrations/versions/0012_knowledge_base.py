"""The hotline's knowledge base: articles, their categories, regions and versions, full-text
search on each database, and the article an appeal's resolution cites.

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONFIG = "CASE language WHEN 'ru'::text THEN 'russian'::regconfig ELSE 'english'::regconfig END"
# PostgreSQL's search document: each article stemmed in its own language, the title weighing
# more than the body. SQLite stems nothing in SQL: its column stays NULL and the FTS5 table
# below, over stems the service writes with each article, is its search.
SEARCH_DOCUMENT = {
    "postgresql": f"setweight(to_tsvector({_CONFIG}, (title)::text), 'A'::\"char\") || "
    f"setweight(to_tsvector({_CONFIG}, body), 'B'::\"char\")",
    "sqlite": "NULL",
}


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    return sa.String(length=32)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("everywhere", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("published_at", _datetime(), nullable=True),
        sa.Column("archived_at", _datetime(), nullable=True),
        sa.Column(
            "search_document",
            postgresql.TSVECTOR() if dialect == "postgresql" else sa.Text(),
            sa.Computed(sa.text(SEARCH_DOCUMENT[dialect]), persisted=True),
            nullable=True,
        ),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
    )
    op.create_index(
        "ix_knowledge_articles_search_document",
        "knowledge_articles",
        ["search_document"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index(
        "ix_knowledge_articles_status_updated", "knowledge_articles", ["status", "updated_at"]
    )
    op.create_table(
        "knowledge_article_categories",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("category", _enum(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_categories_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint(
            "article_id", "category", name=op.f("pk_knowledge_article_categories")
        ),
    )
    op.create_index(
        "ix_knowledge_article_categories_category",
        "knowledge_article_categories",
        ["category", "article_id"],
    )
    op.create_table(
        "knowledge_article_regions",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_regions_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", "region", name=op.f("pk_knowledge_article_regions")),
    )
    op.create_index(
        "ix_knowledge_article_regions_region", "knowledge_article_regions", ["region", "article_id"]
    )
    op.create_table(
        "knowledge_article_versions",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", _datetime(), nullable=False),
        sa.Column("editor_id", sa.Uuid(), nullable=False),
        sa.Column("editor_name", sa.String(length=255), nullable=False),
        sa.Column("change", _enum(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_versions_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", "number", name=op.f("pk_knowledge_article_versions")),
    )
    if dialect == "sqlite":
        # Stems of each article's title and body (`services/consult/knowledge/search.py`),
        # written in the same transaction as the article.
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_search USING fts5("
            "article_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 0')"
        )
    # Added in place, not by copying the table as SQLite's batch mode would: with foreign keys
    # on, dropping the old `appeals` fails while its events and callbacks refer to it. SQLite
    # adds a column that refers to another table in place when it defaults to NULL (Alembic
    # does not say so itself).
    if dialect == "sqlite":
        op.execute(
            "ALTER TABLE appeals ADD COLUMN article_id CHAR(32) "
            "CONSTRAINT fk_appeals_article_id_knowledge_articles "
            "REFERENCES knowledge_articles (id)"
        )
    else:
        op.add_column("appeals", sa.Column("article_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_appeals_article_id_knowledge_articles"),
            "appeals",
            "knowledge_articles",
            ["article_id"],
            ["id"],
        )
    op.create_index("ix_appeals_article", "appeals", ["article_id", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_appeals_article", table_name="appeals")
    with op.batch_alter_table("appeals") as batch:  # the column's foreign key goes with it
        batch.drop_column("article_id")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_search")
    for table in (
        "knowledge_article_versions",
        "knowledge_article_regions",
        "knowledge_article_categories",
    ):
        op.drop_table(table)
    op.drop_index("ix_knowledge_articles_status_updated", table_name="knowledge_articles")
    op.drop_index("ix_knowledge_articles_search_document", table_name="knowledge_articles")
    op.drop_table("knowledge_articles")
