"""The knowledge base's screens in process: an article written, published, found by another
form of its words with them marked, edited into a new version whose previous text stays
readable; suggestions beside a caller's appeal; the article cited by a resolution, named on the
appeal's page (linked by id alone once its reader may no longer read it) and counted in the
figures; an edit of an older version refused."""

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.web.conftest import Console, csrf_of

CONSULT = "/api/consult"
IZHEVSK = "94701000"
BODY = (
    "Если онколог направил вас на гистологию, её делают по полису ОМС бесплатно.\n\n"
    "# Что делает оператор\n"
    "- звонит заведующему отделением;\n"
    "- сообщает страховому представителю."
)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@dataclass
class Library:
    stack: Stack
    console: Console
    polyclinic: dict[str, Any]
    editor: Actor  # a coordinator of the region's hotline: writes its articles
    operator: Actor  # a coordinator of a polyclinic: reads them

    @asynccontextmanager
    async def browser(self, actor: Actor) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, actor.username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser

    async def write(self, browser: httpx.AsyncClient, **fields: Any) -> str:
        """An article written on the form; the id of its page."""
        page = await self.console.page(browser, "/knowledge/new")
        form = {
            "csrf_token": csrf_of(page),
            "form_key": re.findall(r'name="form_key" value="([^"]+)"', page.text)[0],
            "title": "Бесплатная гистология по направлению",
            "language": "ru",
            "categories": ["refused_free_care", "paid_services"],
            "regions": "",
            "body": BODY,
        } | fields
        written = await browser.post("/knowledge/new", data=form)
        assert written.status_code == 303, written.text
        found = re.match(
            r"/knowledge/articles/([0-9a-f-]{36})\?saved=created$", written.headers["location"]
        )
        assert found, written.headers["location"]
        return found.group(1)


@pytest.fixture
async def library(stack: Stack, console: Console) -> Library:
    hotline = await stack.organization(kind="hotline", region="18", timezone="Europe/Samara")
    polyclinic = await stack.organization(kind="polyclinic", region="18", timezone="Europe/Samara")
    return Library(
        stack,
        console,
        polyclinic,
        await stack.actor("coordinator", hotline),
        await stack.actor("coordinator", polyclinic),
    )


async def test_an_article_is_written_published_and_found_by_another_form(
    library: Library,
) -> None:
    async with library.browser(library.editor) as browser:
        article_id = await library.write(browser)
        path = f"/knowledge/articles/{article_id}"
        draft = await library.console.page(browser, f"{path}?saved=created")
        assert "The article is written as a draft" in text_of(draft.text)
        published = await library.console.post(browser, draft, f"{path}/publish")
        assert published.headers["location"] == f"{path}?saved=publish"
    async with library.browser(library.operator) as browser:
        found = await library.console.page(browser, "/knowledge?q=гистологии")
        page = await library.console.page(browser, path)
    assert f'href="{path}"' in found.text
    assert "<mark>гистологию</mark>" in found.text
    assert "Write an article" not in found.text  # a reader
    shown = text_of(page.text)
    assert "Что делает оператор" in shown
    assert re.search(r"<li>звонит заведующему отделением;</li>", page.text)
    assert "Versions" not in shown
    assert "Edit the article" not in shown


async def test_an_edit_is_a_new_version_and_the_previous_text_stays(library: Library) -> None:
    async with library.browser(library.editor) as browser:
        article_id = await library.write(browser)
        path = f"/knowledge/articles/{article_id}"
        form_page = await library.console.page(browser, f"{path}/edit")
        assert 'name="version" value="1"' in form_page.text
        form = {
            "csrf_token": csrf_of(form_page),
            "version": "1",
            "title": "Бесплатная гистология по направлению",
            "language": "ru",
            "categories": ["refused_free_care"],
            "regions": "18",
            "body": BODY.replace("бесплатно", "бесплатно, в том числе повторную"),
            "note": "Про повторную гистологию",
        }
        edited = await browser.post(f"{path}/edit", data=form)
        assert edited.headers["location"] == f"{path}?saved=edited"
        page = text_of((await library.console.page(browser, path)).text)
        first = text_of((await library.console.page(browser, f"{path}/versions/1")).text)
        stale = await browser.post(f"{path}/edit", data=form | {"title": "Другой заголовок"})
    assert re.search(r"Version 2 ?: Edited", page)
    assert "Changed: text, categories." in page
    assert "Про повторную гистологию" in page
    assert "в том числе повторную" not in first
    assert "её делают по полису ОМС бесплатно." in first
    assert stale.status_code == 409
    assert "The article has changed since version 1" in text_of(stale.text)
    assert 'value="Другой заголовок"' in stale.text  # what was typed stays


async def test_suggestions_beside_the_callers_appeal(library: Library) -> None:
    async with library.browser(library.editor) as browser:
        article_id = await library.write(browser)
        draft = await library.console.page(browser, f"/knowledge/articles/{article_id}")
        await library.console.post(browser, draft, f"/knowledge/articles/{article_id}/publish")
    async with library.browser(library.operator) as browser:
        form = await library.console.page(browser, "/appeals/new")
        suggested = await browser.get(
            "/knowledge/suggestions",
            params={"topic": "paid_service_imposition", "text": "требуют деньги за гистологию"},
            headers={"HX-Request": "true"},
        )
        excluded = await browser.get(
            "/knowledge/suggestions",
            params={"topic": "excluded:medicine_availability", "text": ""},
            headers={"HX-Request": "true"},
        )
    assert 'hx-get="/knowledge/suggestions"' in form.text
    assert "<html" not in suggested.text  # a fragment
    assert f'href="/knowledge/articles/{article_id}" target="_blank"' in suggested.text
    assert "<mark>гистологию</mark>" in suggested.text
    assert excluded.status_code == 200
    assert "Articles to read out" not in excluded.text


async def test_a_resolution_cites_the_article_and_the_figures_count_it(library: Library) -> None:
    stack = library.stack
    mapped = await stack.client.put(
        f"{CONSULT}/appeal-territories/18/{IZHEVSK}",
        json={"name": "Izhevsk", "organization_id": library.polyclinic["id"]},
        headers=library.editor.headers,
    )
    assert mapped.status_code == 200, mapped.text
    appeal = await stack.client.post(
        f"{CONSULT}/appeals",
        json={"channel": "phone", "category": "paid_service_imposition", "territory": IZHEVSK,
              "contact": {"name": "Сидорова Мария Петровна", "phone": "+7 912 123-45-67"},
              "text": "В поликлинике требуют 3500 рублей за повторную гистологию."},
        headers=library.operator.headers,
    )  # fmt: skip
    assert appeal.status_code == 201, appeal.text
    path = f"/appeals/{appeal.json()['id']}"
    async with library.browser(library.editor) as browser:
        article_id = await library.write(browser)
        draft = await library.console.page(browser, f"/knowledge/articles/{article_id}")
        await library.console.post(browser, draft, f"/knowledge/articles/{article_id}/publish")
        page = await library.console.page(browser, path)
        assert f'<option value="{article_id}">Бесплатная гистология по направлению' in page.text
        done = await library.console.post(
            browser, page, f"{path}/resolve",
            actions=["called_head", "arranged_free_care"], done_by_name="Петрова Анна Сергеевна",
            done_by_position="Заведующая поликлиникой", result="resolved",
            answer="Мы позвонили заведующей: гистологию сделают бесплатно в четверг в 10:00, "
            "кабинет 214.", first_contact_resolution="yes", article_id=article_id,
        )  # fmt: skip
        assert done.headers["location"] == f"{path}?saved=resolve"
        resolved = await library.console.page(browser, path)
        figures = await library.console.page(browser, "/knowledge/figures")
        article = await library.console.page(browser, f"/knowledge/articles/{article_id}")
        await library.console.post(browser, article, f"/knowledge/articles/{article_id}/archive")
    cited = f'<a href="/knowledge/articles/{article_id}" lang="ru">Бесплатная гистология'
    assert cited in resolved.text  # named by its title
    async with library.browser(library.operator) as browser:
        archived = await library.console.page(browser, path)  # no longer theirs to read
    assert cited not in archived.text
    assert f'<a href="/knowledge/articles/{article_id}">The knowledge-base article' in archived.text
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", figures.text, re.S)
    assert row, figures.text
    assert "Бесплатная гистология по направлению" in row.group(0)
    assert [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(0))] == [
        "1",
        "1 (100%)",
    ]
