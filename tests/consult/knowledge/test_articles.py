"""Writing the knowledge base: drafts, versions of every change with the text before it,
publication and archiving, and who reads and writes which articles."""

from sqlalchemy import select

from services.common.audit import verify_chain
from services.consult.db import KERNEL_TABLES
from tests.consult.knowledge.conftest import Library


async def test_a_coordinators_draft_holds_in_their_region_and_only_they_see_it(
    library: Library,
) -> None:
    article = await library.written()

    assert article["status"] == "draft"
    assert article["version"] == 1
    assert article["regions"] == ["18"]
    assert (await library.get(library.operator, f"/articles/{article['id']}")).status_code == 404
    assert await library.titles(library.operator) == []
    assert await library.titles(library.editor, status="draft") == [article["title"]]
    assert (await library.read(library.editor, "/articles"))["writes"] is True
    assert (await library.read(library.operator, "/articles"))["writes"] is False
    assert (await library.get(library.far_editor, f"/articles/{article['id']}")).status_code == 404


async def test_published_articles_are_read_in_their_regions_only(library: Library) -> None:
    ours = await library.published(title="Вызов врача на дом")
    theirs = await library.published(library.far_editor, title="Кузбасс: запись к онкологу")
    everywhere = await library.published(library.admin, title="Полис ОМС по всей России")

    assert everywhere["regions"] == []
    assert sorted(await library.titles(library.operator)) == sorted(
        [ours["title"], everywhere["title"]]
    )
    assert sorted(await library.titles(library.registrar)) == sorted(
        [ours["title"], everywhere["title"]]
    )
    assert (await library.get(library.operator, f"/articles/{theirs['id']}")).status_code == 404
    other_region = await library.get(library.operator, "/articles", region="42")
    assert other_region.status_code == 403
    assert len(await library.titles(library.admin)) == 3
    assert sorted(await library.titles(library.admin, region="42")) == sorted(
        [theirs["title"], everywhere["title"]]
    )


async def test_filters_by_category_and_language(library: Library) -> None:
    await library.published(title="Лекарства по льготе", categories=["drug_availability"])
    await library.published(
        title="Subsidised drugs", language="en", categories=["drug_availability"]
    )
    await library.published(title="Полис ОМС")

    assert sorted(await library.titles(library.operator, category="drug_availability")) == [
        "Subsidised drugs",
        "Лекарства по льготе",
    ]
    assert await library.titles(library.operator, category="drug_availability", language="ru") == [
        "Лекарства по льготе"
    ]


async def test_every_edit_is_a_version_keeping_the_text_before_it(library: Library) -> None:
    article = await library.written()
    first_body = article["body"]

    edited = await library.edit(
        library.editor,
        article["id"],
        version=1,
        body="Полис выдаёт страховая компания за один визит: нужен паспорт и СНИЛС.",
        note="Что взять с собой",
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    published = await library.done(library.editor, article["id"], "publish")
    assert published["version"] == 3

    read = await library.read(library.editor, f"/articles/{article['id']}")
    versions = read["versions"]
    assert [(each["number"], each["change"]) for each in versions] == [
        (1, "created"),
        (2, "edited"),
        (3, "published"),
    ]
    assert versions[1]["changed"] == ["body"]
    assert versions[1]["note"] == "Что взять с собой"
    assert versions[1]["editor_name"] == library.editor.username
    before = await library.read(library.editor, f"/articles/{article['id']}/versions/1")
    assert before["body"] == first_body
    assert before["status"] == "draft"
    for_reader = await library.read(library.operator, f"/articles/{article['id']}")
    assert for_reader["versions"] is None
    version_for_reader = await library.get(
        library.operator, f"/articles/{article['id']}/versions/1"
    )
    assert version_for_reader.status_code == 404


async def test_an_edit_of_an_older_version_or_of_nothing_is_refused(library: Library) -> None:
    article = await library.written()
    assert (
        await library.edit(library.editor, article["id"], version=1, title="Полис ОМС")
    ).status_code == 200

    stale = await library.edit(library.editor, article["id"], version=1, title="Другой заголовок")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    same = await library.edit(library.editor, article["id"], version=2, title="Полис ОМС")
    assert same.status_code == 422


async def test_publishing_and_archiving_follow_the_transitions(library: Library) -> None:
    article = await library.published()

    again = await library.act(library.editor, article["id"], "publish")
    assert again.status_code == 409
    assert again.json()["current_status"] == "published"
    archived = await library.done(library.editor, article["id"], "archive")
    assert archived["archived_at"] is not None
    assert await library.titles(library.operator) == []
    republished = await library.done(library.editor, article["id"], "publish")
    assert republished["status"] == "published"
    assert republished["archived_at"] is None
    assert await library.titles(library.operator) == [article["title"]]


async def test_who_writes_which_articles(library: Library) -> None:
    # A polyclinic's coordinator operates the hotline but writes no articles.
    assert (await library.write(library.operator)).status_code == 403
    assert (await library.write(library.registrar)).status_code == 403
    # A coordinator writes their own region's articles, not another's nor every region's.
    assert (await library.write(regions=["42"])).status_code == 403
    assert (await library.write(regions=["18", "42"])).status_code == 403
    everywhere = await library.published(library.admin, title="Полис ОМС по всей России")
    refused = await library.edit(library.editor, everywhere["id"], version=2, title="Полис ОМС")
    assert refused.status_code == 403
    theirs = await library.published(library.far_editor)
    assert (await library.act(library.editor, theirs["id"], "archive")).status_code == 404
    # An administrator writes any.
    widened = await library.edit(library.admin, theirs["id"], version=2, regions=["42", "18"])
    assert widened.status_code == 200


async def test_changes_and_refusals_are_audited(library: Library) -> None:
    article = await library.written()
    await library.write(library.operator)
    await library.done(library.editor, article["id"], "publish")
    await library.act(library.far_editor, article["id"], "archive")
    records = KERNEL_TABLES.audit.records
    database = library.stack.apps["consult"].state.database
    async with database.sessionmaker() as session:
        rows = (await session.execute(select(records).order_by(records.c.seq))).mappings().all()
        chain = await verify_chain(session, KERNEL_TABLES.audit)
    trail = [(r["action"], r["actor_id"], r["resource_id"], r["outcome"]) for r in rows]
    editor, article_id = str(library.editor.id), article["id"]
    assert ("knowledge.create", editor, article_id, "success") in trail
    assert ("knowledge.create", str(library.operator.id), None, "denied") in trail
    assert ("knowledge.publish", editor, article_id, "success") in trail
    assert ("knowledge.archive", str(library.far_editor.id), article_id, "denied") in trail
    assert chain.intact


async def test_only_hotline_staff_and_admins_read_it(library: Library) -> None:
    for actor in (library.medic, library.patient):
        assert (await library.get(actor, "/articles")).status_code == 403
        assert (await library.get(actor, "/articles/suggest", text="полис")).status_code == 403


async def test_bad_input_is_a_problem_naming_the_field(library: Library) -> None:
    unknown = await library.write(categories=["astrology"])
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    twice = await library.write(categories=["oms_policy", "oms_policy"])
    assert twice.status_code == 422
    assert (await library.write(body="Коротко.")).status_code == 422
