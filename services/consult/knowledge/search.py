"""Full-text search of the articles, ranked, on either database, and SQLite's index of them.

PostgreSQL stems with its own `russian` and `english` configurations: each article's stored
search document (`models.SearchDocument`, GIN-indexed) against the words searched for, parsed
by both configurations (`websearch_to_tsquery`: quoted phrases, `-word`, `or`), ranked by
`ts_rank`. SQLite has no stemming in SQL: an FTS5 table holds the Snowball stems of each
article's title and body (`stems.py`), written in the same transaction as the article, and is
searched with the stems of the words asked for, ranked by `bm25` with the title weighing more.

Suggestions ask for any of the caller's words rather than all of them: a caller's account is
long, and an article matching most of it ranks first.
"""

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from services.consult.knowledge.enums import ArticleLanguage
from services.consult.knowledge.models import Article
from services.consult.knowledge.stems import stems, words

SQLITE_INDEX = table(
    "knowledge_search", column("article_id", String), column("title"), column("body")
)
# bm25's weights of the FTS5 table's columns: the article (unindexed), its title, its body;
# bm25 is lower for a better match, the rank higher.
SQLITE_SEARCH = (
    "SELECT article_id, -bm25(knowledge_search, 0.0, 4.0, 1.0) AS rank FROM knowledge_search "
    "WHERE knowledge_search MATCH :match"
)
# A quoted phrase, or a word with its sign (websearch_to_tsquery's syntax).
TERM = re.compile(r'"([^"]*)"?|(-?)([^\s"]+)')


@dataclass(frozen=True)
class Found:
    article: Article
    rank: float


def _on_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def wanted(terms: str) -> set[str]:
    """The stems of the words searched for, to find in the text of what was found."""
    return {word.stem for word in words(terms)}


def has_words(terms: str) -> bool:
    return bool(words(terms))


def _phrase(stemmed: list[str]) -> str:
    return '"' + " ".join(stemmed) + '"'


def fts_query(terms: str, *, any_word: bool) -> str | None:
    """The FTS5 query of the stems of `terms`, as `websearch_to_tsquery` reads them (or, with
    `any_word`, any of their words); None when no word is left to search for."""
    if any_word:
        every = sorted(wanted(terms))
        return " OR ".join(_phrase([each]) for each in every) if every else None
    groups: list[list[str]] = []  # every group wanted, any phrase of a group ("or")
    excluded: list[str] = []
    joined = False
    for match in TERM.finditer(terms):
        phrase, sign, word = match.groups()
        if word is not None and word.lower() == "or":
            joined = bool(groups)
            continue
        stemmed = [each.stem for each in words(phrase if phrase is not None else word)]
        if not stemmed:
            continue
        if sign == "-":
            excluded.append(_phrase(stemmed))
        elif joined:
            groups[-1].append(_phrase(stemmed))
        else:
            groups.append([_phrase(stemmed)])
        joined = False
    if not groups:
        return None
    every_group = " AND ".join("(" + " OR ".join(group) + ")" for group in groups)
    return f"({every_group})" + "".join(f" NOT {clause}" for clause in excluded)


def _postgresql_query(terms: str, config: str, *, any_word: bool) -> ColumnElement[str]:
    """The words as `config` parses them: all of them, or with `any_word` any."""
    regconfig: ColumnElement[str] = literal_column(f"'{config}'::regconfig")
    if not any_word:
        return func.websearch_to_tsquery(regconfig, terms)
    every_word = cast(func.plainto_tsquery(regconfig, terms), Text)
    return cast(func.replace(every_word, "&", "|"), TSQUERY)


def _postgresql_search(terms: str, *, any_word: bool) -> Select[Article, float]:
    """The articles matching the words parsed in their own language, with their rank. Each
    language's match is a condition of its own, so each is a scan of the GIN index (a union of
    both languages' queries would let "-word" in one language's stems through the other's)."""
    asked = select(
        _postgresql_query(terms, "russian", any_word=any_word).label("ru"),
        _postgresql_query(terms, "english", any_word=any_word).label("en"),
    ).subquery("asked")
    document = Article.search_document
    russian = Article.language == ArticleLanguage.RU
    matches = or_(
        and_(russian, document.op("@@")(asked.c.ru)),
        and_(Article.language == ArticleLanguage.EN, document.op("@@")(asked.c.en)),
    )
    rank = func.ts_rank(document, case((russian, asked.c.ru), else_=asked.c.en))
    return select(Article, rank.label("rank")).join(asked, true()).where(matches)


async def search(
    session: AsyncSession,
    terms: str,
    where: ColumnElement[bool],
    *,
    any_word: bool = False,
    limit: int,
    offset: int = 0,
) -> list[Found]:
    """The articles meeting `where` that match `terms`, best first."""
    query: Select[Article, float]
    if _on_sqlite(session):
        match = fts_query(terms, any_word=any_word)
        if match is None:
            return []
        found = (
            text(SQLITE_SEARCH)
            .bindparams(match=match)
            .columns(column("article_id", String), column("rank", Float))
            .subquery("found")
        )
        query = select(Article, found.c.rank).join(found, found.c.article_id == Article.id)
    else:
        if not has_words(terms):
            return []
        query = _postgresql_search(terms, any_word=any_word)
    ranked = query.where(where).order_by(
        literal_column("rank").desc(), Article.updated_at.desc(), Article.id
    )
    rows = (await session.execute(ranked.limit(limit).offset(offset))).all()
    return [Found(article, float(rank)) for article, rank in rows]


async def index(session: AsyncSession, article: Article) -> None:
    """Writes the article's stems to SQLite's full-text table (PostgreSQL computes its search
    document itself); call it whenever the title or body changes, after the article is added."""
    if not _on_sqlite(session):
        return
    key = _key(article.id)
    await session.execute(delete(SQLITE_INDEX).where(SQLITE_INDEX.c.article_id == key))
    await session.execute(
        insert(SQLITE_INDEX).values(
            article_id=key, title=stems(article.title), body=stems(article.body)
        )
    )


def _key(article_id: uuid.UUID) -> str:
    # As SQLAlchemy's `Uuid` keeps it on SQLite, so the table joins the articles' ids.
    return article_id.hex
