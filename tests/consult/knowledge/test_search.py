"""Searching the knowledge base in Russian and English with stemming, on either database:
"полис" finds "полиса" and "полисом", ranked, with the words found marked in a passage."""

from tests.consult.knowledge.conftest import Library

# Neither says "полис" as such: one has only "полиса", the other only "полисом".
WITHOUT_A_POLICY = (
    "Если у вас нет полиса",
    "Без полиса помощь в экстренном случае оказывают бесплатно; плановую помощь оказывают "
    "после того, как вы получите временное свидетельство в страховой компании.",
)
WITH_A_POLICY = (
    "Прикрепление к поликлинике",
    "С полисом и паспортом вы подаёте заявление в выбранную поликлинику раз в год; "
    "поликлиника не вправе отказать из-за адреса регистрации.",
)
UNRELATED = (
    "Льготные лекарства",
    "Рецепт на льготный препарат выписывает лечащий врач; если препарата нет в аптеке, "
    "аптека обязана отложить рецепт и выдать лекарство в течение десяти рабочих дней.",
)


async def test_a_russian_word_finds_its_other_forms(library: Library) -> None:
    for title, body in (WITHOUT_A_POLICY, WITH_A_POLICY, UNRELATED):
        await library.published(title=title, body=body)

    found = await library.titles(library.operator, q="полис")

    assert sorted(found) == sorted([WITHOUT_A_POLICY[0], WITH_A_POLICY[0]])
    assert sorted(await library.titles(library.operator, q="полисом")) == sorted(found)
    assert await library.titles(library.operator, q="лекарство") == [UNRELATED[0]]


async def test_the_passage_marks_the_words_found(library: Library) -> None:
    await library.published(title=WITH_A_POLICY[0], body=WITH_A_POLICY[1])

    page = await library.read(library.operator, "/articles", q="полис")

    snippet = page["items"][0]["snippet"]
    marked = [snippet["text"][start:end] for start, end in snippet["highlights"]]
    assert marked == ["полисом"]
    assert page["items"][0]["rank"] > 0


async def test_every_word_is_wanted_and_phrases_and_exclusions_hold(library: Library) -> None:
    for title, body in (WITHOUT_A_POLICY, WITH_A_POLICY, UNRELATED):
        await library.published(title=title, body=body)

    assert await library.titles(library.operator, q="полис поликлиника") == [WITH_A_POLICY[0]]
    assert await library.titles(library.operator, q="полис -поликлиники") == [WITHOUT_A_POLICY[0]]
    assert await library.titles(library.operator, q='"временное свидетельство"') == [
        WITHOUT_A_POLICY[0]
    ]
    assert await library.titles(library.operator, q='"свидетельство временное"') == []
    either = await library.titles(library.operator, q="аптека or паспорт")
    assert sorted(either) == sorted([WITH_A_POLICY[0], UNRELATED[0]])


async def test_english_words_are_stemmed_too(library: Library) -> None:
    await library.published(
        title="Waiting times for a specialist",
        body="The programme limits the wait for a specialist's appointment to 14 working days "
        "from the referral; longer waits are a breach the insurer takes up.",
        language="en",
        categories=["waiting_times"],
    )
    await library.published(
        title="Paid services offered instead of free ones",
        body="Policies of the OMS cover the tests your doctor orders; a clinic that asks you to "
        "pay for them must show the programme does not.",
        language="en",
        categories=["paid_services"],
    )

    assert await library.titles(library.operator, q="waiting") == ["Waiting times for a specialist"]
    assert await library.titles(library.operator, q="policy") == [
        "Paid services offered instead of free ones"
    ]
    assert await library.titles(library.operator, q="referrals", language="en") == [
        "Waiting times for a specialist"
    ]
    assert await library.titles(library.operator, q="referrals", language="ru") == []


async def test_a_title_match_ranks_first(library: Library) -> None:
    await library.published(
        title="Смена поликлиники",
        body="Заявление о прикреплении подают в новую поликлинику; полис нужен при этом.",
    )
    await library.published(title="Полис ОМС", body="Страховая компания выдаёт его бесплатно.")

    assert await library.titles(library.operator, q="полис") == ["Полис ОМС", "Смена поликлиники"]


async def test_stop_words_alone_find_nothing(library: Library) -> None:
    await library.published()

    assert await library.titles(library.operator, q="и на в") == []
