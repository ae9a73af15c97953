"""Every screen of the console's list (tests/web/screens.py) in Chromium against the demo system
of `telemed run`, as its user sees it: axe-core finds no serious or critical violation, the main
heading is there, and a role's main screen does not scroll sideways at phone width. The flows'
own browser tests check the states in between (forms with mistakes, secrets shown once)."""

from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize

from tests.web.browser import CHROMIUM, assert_accessible
from tests.web.demo_console import Demo, address, demo_console, signed_in
from tests.web.screens import SCREENS

PHONE = ViewportSize(width=360, height=740)
WIDER_THAN_VIEWPORT = "() => document.scrollingElement.scrollWidth > window.innerWidth"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_console(tmp_path_factory.mktemp("screens")) as running:
        yield running


def test_every_screen_is_accessible_to_its_user(demo: Demo, chromium: Browser) -> None:
    """One signed-in context per user, in Russian (the console's first language)."""
    checked = []
    by_user = sorted(SCREENS, key=lambda screen: screen.user or "")
    for _, screens in groupby(by_user, key=lambda screen: screen.user or ""):
        group = list(screens)
        page = signed_in(chromium, demo.system, group[0], "ru")
        for screen in group:
            page.goto(address(page, screen, demo.staged))
            assert page.locator("h1").first.is_visible(), screen.name
            assert_accessible(page, screen.name)
            checked.append(screen.name)
        page.context.close()
    assert sorted(checked) == sorted(screen.name for screen in SCREENS)


def test_main_screens_fit_a_phone(demo: Demo, chromium: Browser) -> None:
    for screen in [screen for screen in SCREENS if screen.phone]:
        page = signed_in(chromium, demo.system, screen, "ru", viewport=PHONE, has_touch=True)
        page.goto(address(page, screen, demo.staged))
        assert not page.evaluate(WIDER_THAN_VIEWPORT), screen.name
        page.context.close()
