"""The language a browser's `Accept-Language` asks for, among those a page is written in."""

import pytest

from services.common.languages import preferred_language, primary_subtag

PAGES = ("ru", "en")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "ru"),
        ("", "ru"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("EN-us", "en"),
        ("de-DE,de;q=0.9,en;q=0.5,ru;q=0.4", "en"),
        ("en;q=0.3,ru;q=0.8", "ru"),
        ("en-GB,ru;q=0.5", "en"),
        ("de, en;q=0.8", "en"),
        ("en ; Q = 0.4, ru;q=0.2", "en"),
        ("fr, de", "ru"),
        ("*", "ru"),
        ("en;q=0", "ru"),
        ("en;q=bad, ru", "ru"),
        ("ru;q=0.5, en;q=0.5", "ru"),
        ("en;q=0.5, ru;q=0.5", "en"),
    ],
)
def test_the_supported_language_weighed_highest_is_chosen(
    header: str | None, language: str
) -> None:
    assert preferred_language(header, PAGES, "ru") == language


def test_the_default_is_the_callers() -> None:
    assert preferred_language("fr", PAGES, "en") == "en"
    assert preferred_language("fr, ru;q=0.1", PAGES, "en") == "ru"


def test_only_the_supported_languages_count() -> None:
    assert preferred_language("en, ru;q=0.9", ("ru",), "ru") == "ru"
    assert preferred_language("de, en;q=0.1", ("ru", "en", "de"), "ru") == "de"


def test_a_tag_is_matched_by_its_primary_subtag() -> None:
    assert primary_subtag(" en-GB ") == "en"
    assert primary_subtag("zh-Hant-TW") == "zh"
    assert primary_subtag("RU") == "ru"
