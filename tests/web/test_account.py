"""The account page: details and language, the password with the gateway's reasons beside the
field, the person's sessions with an "end" button that htmx updates in place."""

import re

from tests.conftest import TEST_PASSWORD, Stack
from tests.web.conftest import Console, csrf_of


async def _signed_in(stack: Stack, console: Console, browser: object) -> object:
    medic = await stack.actor("district_medic", await stack.organization())
    await console.sign_in(browser, medic.username)  # type: ignore[arg-type]
    return medic


async def test_details_are_saved_in_the_directory(stack: Stack, console: Console) -> None:
    async with console.browser() as browser:
        medic = await _signed_in(stack, console, browser)
        page = await console.page(browser, "/profile")
        saved = await console.post(
            browser, page, "/profile/details",
            email="kuznetsov@tashtagol.example", phone="+79131234567", language="en",
        )  # fmt: skip
        assert saved.status_code == 303
        assert saved.headers["location"] == "/profile?saved=details"
        shown = await console.page(browser, saved.headers["location"])
    me = (await stack.client.get("/api/directory/me", headers=medic.headers)).json()  # type: ignore[attr-defined]
    assert me["email"] == "kuznetsov@tashtagol.example"
    assert me["language"] == "en"
    assert '<html lang="en">' in shown.text  # the session follows the setting at once
    assert "Your details are saved." in shown.text
    assert 'value="kuznetsov@tashtagol.example"' in shown.text


async def test_a_refused_detail_is_said_beside_its_field(stack: Stack, console: Console) -> None:
    async with console.browser() as browser:
        await _signed_in(stack, console, browser)
        page = await console.page(browser, "/profile")
        refused = await console.post(browser, page, "/profile/details", email="not an address")
    assert refused.status_code == 422
    assert re.search(r'<ul class="error-message" id="email-error">', refused.text)
    assert re.search(r'id="email"[^>]*aria-invalid="true"[^>]*aria-describedby="email-error"',
                     refused.text, re.S)  # fmt: skip
    assert 'value="not an address"' in refused.text  # what was typed stays


async def test_password_change_shows_the_gateways_reasons_beside_the_field(
    stack: Stack, console: Console
) -> None:
    async with console.browser("en") as browser:
        medic = await _signed_in(stack, console, browser)
        page = await console.page(browser, "/profile")
        await console.post(browser, page, "/language", language="en")
        page = await console.page(browser, "/profile")
        cases = [
            ({"current_password": TEST_PASSWORD, "new_password": "short1", "confirm_password":
              "short1"}, "new_password", "The new password is too short"),
            ({"current_password": TEST_PASSWORD, "new_password": "password123",
              "confirm_password": "password123"}, "new_password", "most common"),
            ({"current_password": "not my password", "new_password": "plum orbit candle 47",
              "confirm_password": "plum orbit candle 47"}, "current_password", "is wrong"),
            ({"current_password": TEST_PASSWORD, "new_password": "plum orbit candle 47",
              "confirm_password": "plum orbit candle 48"}, "confirm_password", "not the same"),
        ]  # fmt: skip
        for form, field, said in cases:
            refused = await console.post(browser, page, "/profile/password", **form)
            assert refused.status_code == 422, form
            errors = re.search(rf'<ul class="error-message" id="{field}-error">(.*?)</ul>',
                               refused.text, re.S)  # fmt: skip
            assert errors, (field, refused.text)
            assert said in errors.group(1), (field, refused.text)
        changed = await console.post(browser, page, "/profile/password",
            current_password=TEST_PASSWORD, new_password="plum orbit candle 47",
            confirm_password="plum orbit candle 47")  # fmt: skip
        assert changed.status_code == 303
        assert changed.headers["location"] == "/profile?saved=password"
        shown = await console.page(browser, changed.headers["location"])
        assert "Your password is changed." in shown.text
    tokens = await stack.client.post("/api/auth/token", data={
        "grant_type": "password", "username": medic.username,  # type: ignore[attr-defined]
        "password": "plum orbit candle 47"})  # fmt: skip
    assert tokens.status_code == 200


async def test_sessions_are_listed_and_another_one_is_ended_in_place(
    stack: Stack, console: Console
) -> None:
    async with console.browser() as browser, console.browser() as laptop:
        medic = await _signed_in(stack, console, browser)
        await console.sign_in(laptop, medic.username)  # type: ignore[attr-defined]
        page = await console.page(browser, "/profile")
        assert page.text.count('class="session-client"') >= 2
        assert page.text.count("(этот сеанс)") == 1
        ends = re.findall(r'action="(/profile/sessions/[0-9a-f-]+/end)"', page.text)
        assert ends
        fragment = await browser.post(
            ends[0], data={"csrf_token": csrf_of(page)}, headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section id="sessions"')
        assert "<html" not in fragment.text  # the block alone, not a page
        assert (
            fragment.text.count('class="session-client"')
            == page.text.count('class="session-client"') - 1
        )
        # Without htmx the same form is a plain post, answered with the page again.
        if len(ends) > 1:
            plain = await console.post(browser, page, ends[1])
            assert plain.status_code == 303
            assert plain.headers["location"] == "/profile?saved=session"
