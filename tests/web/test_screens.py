"""The screen list the weak-link benchmark and the pictures go through
(bench/console_screens.py) stays true: on the demo directory with its staged cases, every
screen is reached as its list says and answers its user 200, in process."""

import html
import re

from bench.console_screens import SCREENS, first_link, stage
from telemed.demo.seed import seed_demo
from tests.web.conftest import Console

HREF = re.compile(r'href="([^"]*)"')


async def test_every_screen_in_the_list_answers_its_user(console: Console) -> None:
    gateway = console.stack.apps["gateway"]
    accounts = await seed_demo(gateway.state.settings)
    passwords = {user["username"]: user["password"] for user in accounts["users"]}
    await stage(console.stack.client, passwords)
    for screen in SCREENS:
        async with console.browser("ru") as browser:
            if screen.user is None:
                page = await browser.get(screen.path, follow_redirects=True)
                assert page.status_code == 200, (screen.name, page.text)
                assert 'name="username"' in page.text, screen.name  # the sign-in page
                continue
            signed = await console.sign_in(browser, screen.user, passwords[screen.user])
            assert signed.status_code == 303, (screen.name, signed.text)
            path = screen.path
            for pattern in screen.follow:
                on = await console.page(browser, path)
                links = [html.unescape(href) for href in HREF.findall(on.text)]
                path = first_link(links, pattern, path)
            page = await browser.get(path)
            assert page.status_code == 200, (screen.name, path, page.text)
            assert "<h1" in page.text, (screen.name, path)
