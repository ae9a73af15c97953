"""The screen list the weak-link benchmark and the pictures go through (tests/web/screens.py)
stays true: on the demo directory with what `stage` makes, every screen is reached as its list
says and answers its user 200, in process."""

import html
import re

from telemed.demo.seed import seed_demo
from tests.web.conftest import Console
from tests.web.screens import SCREENS, first_link, stage

HREF = re.compile(r'href="([^"]*)"')


async def test_every_screen_in_the_list_answers_its_user(console: Console) -> None:
    gateway = console.stack.apps["gateway"]
    apps = console.stack.apps
    accounts = await seed_demo(
        gateway.state.settings, apps["consult"].state.settings, apps["video"].state.settings
    )
    passwords = {user["username"]: user["password"] for user in accounts["users"]}
    staged = await stage(console.stack.client, passwords)
    for screen in SCREENS:
        async with console.browser("ru") as browser:
            if screen.user is None:
                page = await browser.get(screen.path, follow_redirects=True)
                assert page.status_code == 200, (screen.name, page.text)
                assert 'name="username"' in page.text, screen.name  # the sign-in page
                continue
            signed = await console.sign_in(browser, screen.user, passwords[screen.user])
            assert signed.status_code == 303, (screen.name, signed.text)
            path = screen.start(staged)
            for pattern in screen.follow:
                on = await console.page(browser, path)
                links = [html.unescape(href) for href in HREF.findall(on.text)]
                path = first_link(links, pattern, path)
            page = await browser.get(path)
            assert page.status_code == 200, (screen.name, path, page.text)
            assert "<h1" in page.text, (screen.name, path)
