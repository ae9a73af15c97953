"""Languages: the catalogs are complete and compiled as committed, the language is chosen as
documented, and times are shown in the person's zone with the zone named."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import Stack
from tests.web.conftest import Console
from web.i18n import TRANSLATIONS, local_time

WEB = Path(__file__).resolve().parents[2] / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def extracted() -> set[str]:
    keywords = {"_": None, "gettext": None, "N_": None}
    return {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(WEB), METHODS, keywords=keywords)
    }


@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_catalog_holds_every_message_and_its_mo_is_compiled_from_its_po(
    language: str,
) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as file:
        po = read_po(file)
    with (folder / "messages.mo").open("rb") as file:
        mo = read_mo(file)
    ids = {message.id for message in po if message.id}
    assert ids == extracted(), "run `make translations`"
    if language == "ru":
        untranslated = sorted(message.id for message in po if message.id and not message.string)
        assert not untranslated, untranslated
    translated = {message.id: message.string for message in po if message.id and message.string}
    assert translated == {message.id: message.string for message in mo if message.id}, (
        "messages.mo is not compiled from messages.po: run `make translations`"
    )


def _plain(text: str) -> str:
    """Babel writes the no-break spaces each language's typography asks for."""
    return " ".join(text.split())


def test_times_are_shown_in_the_zone_with_the_zone_named() -> None:
    instant = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    shown = _plain(local_time(instant, "ru", "Asia/Novokuznetsk"))
    assert shown == "3 дек. 2026 г., 14:30 (Новокузнецк)"  # noqa: RUF001
    shown = _plain(local_time(instant, "en", "Asia/Vladivostok"))
    assert shown == "Dec 3, 2026, 5:30 PM (Vladivostok)"
    assert _plain(local_time(instant.replace(tzinfo=None), "en", None)) == (
        "Dec 3, 2026, 7:30 AM (UTC)"
    )
    assert local_time(instant, "en", "Not/AZone").endswith("(UTC)")


async def test_pages_speak_the_browsers_language_until_the_person_chooses(
    stack: Stack, console: Console
) -> None:
    async with console.browser("en-US,en;q=0.9") as english:
        assert "You have signed out" in (await english.get("/auth/signed-out")).text
        chosen = await english.get("/auth/signed-out?state=ru")
        assert '<html lang="ru">' in chosen.text
    async with console.browser("ru") as russian:
        assert "Вы вышли из системы" in (await russian.get("/auth/signed-out")).text


async def test_the_language_switch_keeps_the_choice_in_the_directory(
    stack: Stack, console: Console
) -> None:
    specialist = await stack.actor("specialist", await stack.organization(), "cardiology")
    async with console.browser("ru") as browser:
        await console.sign_in(browser, specialist.username)
        home = await console.page(browser, "/")
        assert "Специалист" in home.text
        switched = await console.post(browser, home, "/language", language="en", next="/profile")
        assert switched.status_code == 303
        assert switched.headers["location"] == "/profile"
        page = await console.page(browser, "/profile")
        assert '<html lang="en">' in page.text
        assert "Specialist" in page.text
        # Times on the page are in the organisation's zone, named.
        assert "(Novokuznetsk)" in page.text
        # The switch may not send anyone off the site.
        away = await console.post(browser, page, "/language", language="ru", next="//evil.example")
        assert away.headers["location"] == "/"
    me = (await stack.client.get("/api/directory/me", headers=specialist.headers)).json()
    assert me["language"] == "ru"
