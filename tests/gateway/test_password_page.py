"""The page a password link opens: a plain form in the person's language, posted back with a
CSRF token, that says in words what the API answers as problems."""

import base64
import hashlib
import re

import httpx

from gateway.notify.enums import Template
from tests.conftest import Actor, Stack
from tests.gateway.accounts import USERS, link_token, messages, set_contacts

PAGE = "/account/password"
NEW_PASSWORD = "plum orbit candle 47"


async def reset_link(stack: Stack, language: str = "ru") -> tuple[Actor, str]:
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    await set_contacts(stack, medic, email="medic@hospital.example", language=language)
    response = await stack.client.post(
        f"{USERS}/{medic.id}/password-reset", headers=stack.admin.headers
    )
    assert response.status_code == 202
    (message,) = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
    return medic, link_token(message)


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


async def test_the_page_is_a_labelled_form_in_the_persons_language(stack: Stack) -> None:
    medic, token = await reset_link(stack)
    page = await stack.client.get(PAGE, params={"token": token},
                                  headers={"Accept-Language": "en"})  # fmt: skip
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="ru">' in html  # the person reads Russian, whatever the browser says
    assert "Выбор пароля" in html
    assert medic.username in html
    for field in ("new_password", "confirm_password"):
        assert f'<label for="{field}">' in html
        assert f'id="{field}"' in html
    assert 'name="viewport" content="width=device-width' in html
    assert "<script" not in html
    # The one inline style is allowed by its hash, and nothing else is.
    (style,) = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert "form-action 'self'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


async def test_choosing_a_password_on_the_page(stack: Stack) -> None:
    medic, token = await reset_link(stack, language="en")
    page = await stack.client.get(PAGE, params={"token": token})
    assert '<html lang="en">' in page.text
    fields = form_fields(page.text)
    assert fields["token"] == token
    form = fields | {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"}
    mismatch = await stack.client.post(PAGE, data=form)
    assert mismatch.status_code == 422
    assert "The two passwords differ." in mismatch.text
    # Each answer brings a fresh CSRF token (field and cookie); the form sends it back.
    weak = {"new_password": "qwertyuiop", "confirm_password": "qwertyuiop"}
    refused = await stack.client.post(PAGE, data=form_fields(mismatch.text) | weak)
    assert refused.status_code == 422
    assert "one of the most common passwords" in refused.text
    assert "Uncommon words are better" in refused.text
    chosen = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    done = await stack.client.post(PAGE, data=form_fields(refused.text) | chosen)
    assert done.status_code == 200
    assert "Password saved" in done.text
    await stack.login(medic.username, NEW_PASSWORD)
    again = await stack.client.get(PAGE, params={"token": token})
    assert again.status_code == 400
    assert "A password has already been chosen with this link." in again.text
    assert "<form" not in again.text


async def test_a_form_posted_without_its_cookie_is_refused(stack: Stack) -> None:
    """A page elsewhere that posts to ours has neither the cookie nor its value."""
    medic, token = await reset_link(stack)
    page = await stack.client.get(PAGE, params={"token": token})
    fields = form_fields(page.text)
    chosen = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    async with httpx.AsyncClient(transport=stack.transport, base_url="http://gateway") as other:
        forged = await other.post(PAGE, data=fields | chosen)
    assert forged.status_code == 403
    assert "Форма устарела" in forged.text
    wrong = await stack.client.post(PAGE, data=fields | chosen | {"csrf": "guessed"})
    assert wrong.status_code == 403
    await stack.login(medic.username)  # nothing changed


async def test_a_bad_link_says_so_in_the_browsers_language(stack: Stack) -> None:
    english = await stack.client.get(
        PAGE, params={"token": "not-a-token"}, headers={"Accept-Language": "de, en;q=0.8"}
    )
    assert english.status_code == 400
    assert "This link is not valid" in english.text
    russian = await stack.client.get(PAGE)
    assert russian.status_code == 400
    assert "Ссылка не действует" in russian.text
    posted = await stack.client.post(PAGE, data={"token": "not-a-token"})
    assert posted.status_code == 400


async def test_russian_advice_for_a_weak_password(stack: Stack) -> None:
    _, token = await reset_link(stack)
    page = await stack.client.get(PAGE, params={"token": token})
    weak = {"new_password": "aaaaaaaaaaaa", "confirm_password": "aaaaaaaaaaaa"}
    refused = await stack.client.post(PAGE, data=form_fields(page.text) | weak)
    assert refused.status_code == 422
    assert "Такой пароль слишком легко подобрать." in refused.text
    assert "Повторы вроде «aaa» легко угадать." in refused.text
    assert "Избегайте повторяющихся слов и символов." in refused.text
