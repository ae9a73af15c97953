"""The demo console in Chromium for what looks at every screen (the weak-link
benchmark, the pictures): the system started and staged (tests/web/screens.py), and a page
signed in as a screen's user, in a language, with the screen's address found through the
pages."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page

from telemed.registry import SERVICES
from tests.web.browser import System, running_console, sign_in
from tests.web.screens import Screen, first_link, stage

LOCALES = {"ru": "ru-RU", "en": "en-GB"}
LINKS = "links => links.map(link => link.getAttribute('href'))"


@dataclass(frozen=True)
class Demo:
    system: System
    staged: dict[str, str]  # the ids `stage` made, which screens' paths name


@contextmanager
def demo_console(var_dir: Path) -> Iterator[Demo]:
    """`telemed migrate`, `seed --demo`, `run` (tests/web/browser.py), then what the screens
    show (tests/web/screens.py `stage`)."""
    quiet = {service.env_prefix + "LOG_LEVEL": "WARNING" for service in SERVICES}
    with running_console(var_dir, **quiet) as system:
        passwords = {user["username"]: user["password"] for user in system.accounts["users"]}

        async def staged() -> dict[str, str]:
            async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
                return await stage(client, passwords)

        yield Demo(system, asyncio.run(staged()))


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


def address(page: Page, screen: Screen, staged: dict[str, str]) -> str:
    """The screen's path: its `path` with the staged ids, then on each page the first link
    matching each of `follow` in turn."""
    path = screen.start(staged)
    for pattern in screen.follow:
        page.goto(path)
        path = first_link(page.eval_on_selector_all("a[href]", LINKS), pattern, path)
    return path
