"""The console in Chromium against the real processes of `telemed run`: sign-in through the
gateway's page, the home page, the language switch, the account page (password, sessions),
CSRF, the cookie's flags, no token in any URL, axe-core on every screen, and sign-out."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)
from web.sessions import COOKIE

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("console")) as running:
        yield running


def test_a_medic_signs_in_uses_the_account_page_and_signs_out(
    system: System, chromium: Browser
) -> None:
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        # Not signed in: the console sends the browser to the gateway's sign-in page.
        page.goto("/")
        assert "/oauth/authorize?" in page.url
        sign_in(page, system, "medic.tashtagol")
        expect(page).to_have_url(system.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.locator("h1")).to_contain_text("Здравствуйте, Ivan Petrovich Kuznetsov")
        expect(page.locator("header")).to_contain_text("Районный медик")
        assert_accessible(page, "home (ru)")

        (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert cookie["secure"] is False  # plain http on loopback only
        assert cookie["path"] == "/"
        assert cookie["expires"] == -1  # a browser-session cookie

        # The language switch: a form, and the choice stays for the next pages.
        page.click("header button[value=en]")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_contain_text("Welcome")
        page.click("nav >> text=Account")
        expect(page.locator("h1")).to_have_text("Your account")
        expect(page.locator("#sessions")).to_contain_text("this session")
        assert_accessible(page, "account (en)")

        # A weak password: the gateway's reason beside the field, and axe on that state.
        password = system.password("medic.tashtagol")
        page.fill("#current_password", password)
        page.fill("#new_password", "password123")
        page.fill("#confirm_password", "password123")
        page.click("text=Change password")
        expect(page.locator("#new_password-error")).to_contain_text("most common")
        expect(page.locator("#new_password")).to_have_attribute("aria-invalid", "true")
        assert_accessible(page, "account with errors")
        page.fill("#current_password", password)
        page.fill("#new_password", "plum orbit candle 47")
        page.fill("#confirm_password", "plum orbit candle 47")
        page.click("text=Change password")
        expect(page.locator(".notice")).to_have_text("Your password is changed.")

        # A form without its CSRF token, sent with the browser's own cookie, is refused.
        forged = page.request.post(system.url + "/profile/details", form={"email": "x@y.example"})
        assert forged.status == 403
        unchanged = page.request.get(system.url + "/profile")
        assert "x@y.example" not in unchanged.text()

        # Phone width: nothing wider than the screen.
        page.set_viewport_size({"width": 320, "height": 640})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert_accessible(page, "account at 320 px")

        # Signing out ends the sign-in at the gateway too, in one step: the console's page
        # sends the sign-in's ID token there in a POSTed form, its script at once.
        with page.expect_request(lambda request: request.url.endswith("/oauth/logout")) as sent:
            page.click("header .sign-out button")
        assert sent.value.method == "POST"
        assert "id_token_hint=eyJ" in (sent.value.post_data or "")
        expect(page).to_have_url(system.url + "/auth/signed-out?state=en")
        expect(page.locator("h1")).to_have_text("You have signed out")
        assert_accessible(page, "signed out")
        assert not [c for c in context.cookies() if c["name"] == COOKIE]
        page.goto("/profile")
        assert "/oauth/authorize?" in page.url  # the gateway asks for the password again

        # The page between, as a browser shows it that does not send the form itself (its
        # POST cancelled here: axe cannot run where scripts do not), and its button.
        page.fill("input[name=username]", "medic.tashtagol")
        page.fill("input[name=password]", "plum orbit candle 47")
        page.click("button[type=submit]")
        expect(page).to_have_url(system.url + "/profile")
        page.route("**/oauth/logout", lambda route: route.abort("aborted"))
        with page.expect_event("requestfailed"):
            page.click("header .sign-out button")
        expect(page.locator("h1")).to_have_text("Signing out")
        assert_accessible(page, "signing out")
        page.unroute("**/oauth/logout")
        page.click("text=Continue signing out")
        expect(page).to_have_url(system.url + "/auth/signed-out?state=en")
        page.goto("/profile")
        assert "/oauth/authorize?" in page.url
    finally:
        context.close()
    leaked = [url for url in urls if TOKEN_IN_URL.search(url)]
    assert not leaked, leaked


def test_the_console_works_without_javascript(system: System, chromium: Browser) -> None:
    context = chromium.new_context(java_script_enabled=False, locale="en-GB", base_url=system.url)
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        page.goto("/profile")
        sign_in(page, system, "cardiologist.kuzbass")
        expect(page).to_have_url(system.url + "/profile")
        page.fill("#phone", "+79131234567")
        page.click("text=Сохранить сведения")  # the person's language, Russian by default
        expect(page.locator(".notice")).to_have_text("Сведения сохранены.")
        expect(page.locator("#phone")).to_have_value("+79131234567")

        # Signing out: no script sends the form on to the gateway, the person's button does.
        page.click("header .sign-out button")
        expect(page).to_have_url(system.url + "/auth/sign-out")
        expect(page.locator("h1")).to_have_text("Выход")
        assert not [c for c in context.cookies() if c["name"] == COOKIE]
        page.click("text=Продолжить выход")
        expect(page).to_have_url(system.url + "/auth/signed-out?state=ru")
        expect(page.locator("h1")).to_have_text("Вы вышли из системы")
        page.goto("/profile")
        assert "/oauth/authorize?" in page.url  # the gateway asks for the password again
        expect(page.locator("input[name=password]")).to_be_visible()
    finally:
        context.close()
    leaked = [url for url in urls if TOKEN_IN_URL.search(url)]
    assert not leaked, leaked
