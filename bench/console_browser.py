"""The demo console in Chromium for the scripts that look at its screens (the weak-link
benchmark, the pictures): the system started and staged, and a page signed in as a screen's
user, in a language, with the screen's address found through the pages."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page

from bench.console_screens import Screen, first_link, stage
from telemed.registry import SERVICES
from tests.web.browser import System, running_console, sign_in

LOCALES = {"ru": "ru-RU", "en": "en-GB"}
LINKS = "links => links.map(link => link.getAttribute('href'))"


@contextmanager
def demo_console(var_dir: Path) -> Iterator[System]:
    """`telemed migrate`, `seed --demo`, `run` (tests/web/browser.py), then the cases the
    screens show (bench/console_screens.py `stage`)."""
    quiet = {service.env_prefix + "LOG_LEVEL": "WARNING" for service in SERVICES}
    with running_console(var_dir, **quiet) as system:
        passwords = {user["username"]: user["password"] for user in system.accounts["users"]}

        async def staged() -> None:
            async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
                await stage(client, passwords)

        asyncio.run(staged())
        yield system


def signed_in(
    browser: Browser, system: System, screen: Screen, language: str, **options: Any
) -> Page:
    """A new context (its own cookies and an empty cache) on the console's home page, signed in
    as the screen's user (nobody: the sign-in page) and switched to `language` as a person does,
    with the page's own switch. `options` go to the context (a viewport, say)."""
    context = browser.new_context(base_url=system.url, locale=LOCALES[language], **options)
    page = context.new_page()
    page.goto("/")
    if screen.user is not None:
        sign_in(page, system, screen.user)
        page.wait_for_url(system.url + "/")
    if page.get_attribute("html", "lang") != language:
        switch = "p.lang a" if screen.user is None else f"form.language button[value={language}]"
        page.click(switch)
        page.wait_for_selector(f"html[lang={language}]", state="attached")
    return page


def address(page: Page, screen: Screen) -> str:
    """The screen's path: its `path`, then on each page the first link matching each of
    `follow` in turn."""
    path = screen.path
    for pattern in screen.follow:
        page.goto(path)
        path = first_link(page.eval_on_selector_all("a[href]", LINKS), pattern, path)
    return path
