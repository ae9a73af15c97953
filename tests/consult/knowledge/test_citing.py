"""The knowledge base at work on a call: articles suggested from the appeal's topic and the
caller's words, the article a resolution cites, and first-contact resolution per article."""

from typing import Any

from services.consult.appeals.enums import AppealCategory, RedirectTopic
from services.consult.knowledge.enums import TOPIC_CATEGORIES
from telemed.samples import sample_resolution
from tests.consult.knowledge.conftest import Library

CONSULT = "/api/consult"
IZHEVSK = "94701000"  # OKTMO of Izhevsk
HISTOLOGY = (
    "Гистологию по направлению врача делают бесплатно",
    "Если онколог направил вас на гистологическое исследование, его проводят по полису ОМС "
    "бесплатно. Требовать деньги за гистологию по направлению поликлиника не вправе.",
)
PAID = (
    "Навязывание платных услуг",
    "Платные услуги оказывают только с вашего письменного согласия; отказ от них не лишает "
    "вас бесплатной помощи по программе госгарантий.",
)
HOME_VISIT = (
    "Вызов врача на дом",
    "Врача на дом вызывают через регистратуру поликлиники, если пациент не может прийти сам: "
    "человеку с инвалидностью анализы берут на дому.",
)


async def _appeal(library: Library, **overrides: Any) -> dict[str, Any]:
    mapped = await library.client.put(
        f"{CONSULT}/appeal-territories/18/{IZHEVSK}",
        json={"name": "Izhevsk", "organization_id": library.polyclinic["id"]},
        headers=library.editor.headers,
    )
    assert mapped.status_code == 200, mapped.text
    body = {
        "channel": "phone",
        "category": "paid_service_imposition",
        "territory": IZHEVSK,
        "contact": {"name": "Сидорова Мария Петровна", "phone": "+7 912 123-45-67"},
        "text": "В поликлинике требуют 3500 рублей за повторную гистологию.",
    } | overrides
    filed = await library.client.post(
        f"{CONSULT}/appeals", json=body, headers=library.operator.headers
    )
    assert filed.status_code == 201, filed.text
    appeal: dict[str, Any] = filed.json()
    return appeal


async def _resolve(library: Library, appeal_id: str, **overrides: Any) -> Any:
    return await library.client.post(
        f"{CONSULT}/appeals/{appeal_id}/resolve",
        json=sample_resolution(**overrides),
        headers=library.operator.headers,
    )


async def test_suggestions_come_from_the_callers_words_and_the_topic(library: Library) -> None:
    for title, body in (HISTOLOGY, PAID, HOME_VISIT):
        await library.published(title=title, body=body, categories=["paid_services"])
    draft = await library.written(title="Черновик про гистологию", body=HISTOLOGY[1])

    suggested = await library.read(
        library.operator,
        "/articles/suggest",
        topic="paid_service_imposition",
        text="В поликлинике требуют 3500 рублей за повторную гистологию, онколог направил",
    )

    titles = [item["title"] for item in suggested]
    assert titles[0] == HISTOLOGY[0]
    assert PAID[0] not in titles  # in the topic, but none of the caller's words
    assert draft["title"] not in titles
    marked = {
        suggested[0]["snippet"]["text"][start:end].lower()
        for start, end in suggested[0]["snippet"]["highlights"]
    }
    assert {"гистологию", "онколог"} <= marked


async def test_the_topic_alone_suggests_its_articles(library: Library) -> None:
    await library.published(title=PAID[0], body=PAID[1], categories=["paid_services"])
    await library.published(title=HOME_VISIT[0], body=HOME_VISIT[1], categories=["home_visits"])

    suggested = await library.read(library.registrar, "/articles/suggest", topic="waiting_time")
    assert suggested == []
    suggested = await library.read(
        library.registrar, "/articles/suggest", topic="paid_service_imposition"
    )
    assert [item["title"] for item in suggested] == [PAID[0]]
    assert (
        await library.get(library.operator, "/articles/suggest", topic="gossip")
    ).status_code == 422


async def test_a_resolution_cites_a_published_article_of_the_region(library: Library) -> None:
    article = await library.published(title=HISTOLOGY[0], body=HISTOLOGY[1])
    appeal = await _appeal(library)

    resolved = await _resolve(library, appeal["id"], article_id=article["id"])

    assert resolved.status_code == 200, resolved.text
    read = await library.client.get(
        f"{CONSULT}/appeals/{appeal['id']}", headers=library.operator.headers
    )
    assert read.json()["article_id"] == article["id"]


async def test_a_draft_or_another_regions_article_is_not_cited(library: Library) -> None:
    draft = await library.written()
    theirs = await library.published(library.far_editor)
    appeal = await _appeal(library)

    for article in (draft, theirs):
        refused = await _resolve(library, appeal["id"], article_id=article["id"])
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "article_id"]
    read = await library.client.get(
        f"{CONSULT}/appeals/{appeal['id']}", headers=library.operator.headers
    )
    assert read.json()["status"] != "resolved"


async def test_first_contact_resolution_per_article(library: Library) -> None:
    histology = await library.published(title=HISTOLOGY[0], body=HISTOLOGY[1])
    paid = await library.published(title=PAID[0], body=PAID[1])
    for first_contact in (True, True, False):
        appeal = await _appeal(library)
        resolved = await _resolve(
            library,
            appeal["id"],
            article_id=histology["id"],
            first_contact_resolution=first_contact,
            answer_by_phone=False,
        )
        assert resolved.status_code == 200, resolved.text
    appeal = await _appeal(library)
    assert (await _resolve(library, appeal["id"], article_id=paid["id"])).status_code == 200
    assert (await _resolve(library, (await _appeal(library))["id"])).status_code == 200

    response = await library.client.get(f"{CONSULT}/stats/articles", headers=library.editor.headers)

    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["region"] == "18"
    assert [
        (each["title"], each["resolved"], each["first_contact_resolution"]["count"])
        for each in figures["articles"]
    ] == [(HISTOLOGY[0], 3, 2), (PAID[0], 1, 1)]
    assert figures["articles"][0]["first_contact_resolution"]["ratio"] == 2 / 3
    elsewhere = await library.client.get(
        f"{CONSULT}/stats/articles", params={"region": "42"}, headers=library.editor.headers
    )
    assert elsewhere.status_code == 403
    assert (
        await library.client.get(f"{CONSULT}/stats/articles", headers=library.registrar.headers)
    ).status_code == 403


def test_every_appeal_topic_names_the_categories_it_calls_for() -> None:
    topics = {each.value for each in AppealCategory} | {each.value for each in RedirectTopic}
    assert set(TOPIC_CATEGORIES) == topics
