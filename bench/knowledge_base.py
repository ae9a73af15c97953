"""The hotline's knowledge base in the benchmarks: the demo's articles written for a region
through the API, a generated base of thousands more, and what operators search it for."""

import asyncio
import random
from collections.abc import Awaitable, Iterator
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import text

from services.common.db import Database
from telemed.demo.knowledge import demo_articles

ARTICLES = "/api/consult/knowledge/articles"
# What operators type into the search box, in both languages.
QUERIES = (
    "полис", "полис ОМС нет", "смена страховой компании", "прикрепление к поликлинике",
    "гистология бесплатно", "платные услуги", "отказ в бесплатной помощи", "сроки ожидания",
    "запись к специалисту", "онкология сроки", "льготные лекарства аптека", "вызов врача на дом",
    "анализы на дому инвалидность", "плановая госпитализация", "жалоба", "другой регион",
    "скорая помощь", '"платные услуги" -стоматология', "МРТ очередь", "policy",
    "waiting times", "home visit", "paid services", "subsidised medicines", "complaint",
)  # fmt: skip
# Towns, specialties and tests that make each generated article differ from the next.
TOWNS = (
    "Кемерово", "Новокузнецк", "Прокопьевск", "Белово", "Юрга", "Междуреченск", "Киселёвск",
    "Ленинск-Кузнецкий", "Таштагол", "Мариинск", "Анжеро-Судженск", "Берёзовский",
)  # fmt: skip
DETAILS = (
    "кардиолога", "невролога", "эндокринолога", "офтальмолога", "хирурга", "уролога",
    "гинеколога", "онколога", "ревматолога", "пульмонолога", "УЗИ сердца", "колоноскопии",
    "маммографии", "холтеровского мониторирования", "денситометрии", "гастроскопии",
)  # fmt: skip


class Desk(Protocol):
    """An operator's connection to the gateway (`hotline_day.Operator`)."""

    def call(
        self, operation: str, method: str, path: str, body: Any = None, expect: int = 200
    ) -> Awaitable[Any]: ...


def region_articles(region: str) -> list[dict[str, Any]]:
    """The demo's articles as a region's own (a coordinator writes their region's only)."""
    return [data.model_dump(mode="json") | {"regions": [region]} for data in demo_articles()]


def generated_articles(rng: random.Random, count: int, region: str) -> Iterator[dict[str, Any]]:
    """`count` articles made of the demo's: each one's text for a town and a specialist or
    test, with a paragraph of another article of its language."""
    demo = region_articles(region)
    for number in range(count):
        base = rng.choice(demo)
        other = rng.choice([each for each in demo if each["language"] == base["language"]])
        town, detail = rng.choice(TOWNS), rng.choice(DETAILS)
        paragraphs = base["body"].split("\n\n")
        paragraphs.insert(
            rng.randrange(len(paragraphs) + 1), rng.choice(other["body"].split("\n\n"))
        )
        local = f"{town}: запись {detail} — через регистратуру или портал; номер {number}."
        yield base | {
            "title": f"{base['title']} ({town}, {detail}, {number})"[:200],
            "body": "\n\n".join([*paragraphs, local]),
        }


async def write_articles(desks: list[Desk], articles: list[dict[str, Any]]) -> int:
    """Writes and publishes the articles, the desks sharing them; how many were published."""

    async def share(desk: Desk, mine: list[dict[str, Any]]) -> int:
        published = 0
        for body in mine:
            article = await desk.call("write article", "POST", ARTICLES, body, expect=201)
            if article is not None:
                path = f"{ARTICLES}/{article['id']}/publish"
                published += await desk.call("publish article", "POST", path) is not None
        return published

    counts = await asyncio.gather(
        *(share(desk, articles[number :: len(desks)]) for number, desk in enumerate(desks))
    )
    return sum(counts)


def search_path(query: str, **params: str) -> str:
    return f"{ARTICLES}?{urlencode({'q': query, **params})}"


def suggest_path(topic: str, text: str) -> str:
    return f"{ARTICLES}/suggest?{urlencode({'topic': topic, 'text': text})}"


async def time_searches(desk: Desk, operation: str, rounds: int) -> None:
    """Every query `rounds` times, one after another (the desk's tally keeps the latencies)."""
    for _ in range(rounds):
        for query in QUERIES:
            await desk.call(operation, "GET", search_path(query))


async def analyse(url: str) -> None:
    """What autovacuum does within a minute or so of thousands of new rows, which the bench
    does not wait for: the dead versions the articles' publication left vacuumed away, and the
    planner's statistics of the tables just filled."""
    database = Database(url)
    statement = "VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"
    try:
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(statement))
    finally:
        await database.dispose()
