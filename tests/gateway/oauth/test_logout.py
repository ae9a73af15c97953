"""Signing out at the gateway (OpenID Connect RP-Initiated Logout 1.0), by GET or by a POSTed
form: in one step for a relying party that shows the ID token it was issued for the person
signed in and a registered URI; after a confirmation for anything less."""

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from sqlalchemy import select

from gateway.oauth.idtokens import load_or_create_rsa_key
from tests.conftest import Stack
from tests.gateway.oauth.conftest import Ask, Browser, SignInWorld

SIGNED_OUT = "http://127.0.0.1:8005/signed-out"


async def signed_in(world: SignInWorld, ask: Ask, browser: Browser | None = None) -> str:
    """Signs a new person in at the gateway through the client in `browser` (a new one by
    default); the ID token the client got."""
    browser = browser or world.browser()
    code = await world.code(browser, ask, await world.person())
    answer = await world.exchange(ask, code)
    assert answer.status_code == 200, answer.text
    id_token: str = answer.json()["id_token"]
    return id_token


async def still_signed_in(browser: Browser, ask: Ask) -> bool:
    """Whether the gateway sends the browser straight back with a code (no sign-in page)."""
    page = await browser.open("/oauth/authorize", params=Ask(ask.client_id).params())
    return page.status_code == 303


def resigned(stack: Stack, id_token: str, key: Any = None, **changes: Any) -> str:
    """`id_token`'s claims with `changes`, signed with the gateway's ID-token key (or `key`)."""
    settings = stack.apps["gateway"].state.settings
    path = settings.id_token_key_path or settings.var_dir / "gateway" / "id_token_rsa_key.pem"
    claims = {**jwt.decode(id_token, options={"verify_signature": False}), **changes}
    header = jwt.get_unverified_header(id_token)
    signing_key = key or load_or_create_rsa_key(path)
    return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": header["kid"]})


async def logout_records(stack: Stack) -> list[tuple[str, str | None]]:
    records = stack.apps["gateway"].state.audit_tables.records
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        rows = await session.execute(
            select(records.c.outcome, records.c.detail)
            .where(records.c.action == "auth.logout")
            .order_by(records.c.id)
        )
        return [(outcome, detail) for outcome, detail in rows]


def logout(id_token: str | None = None, **params: str) -> dict[str, str]:
    hint = {"id_token_hint": id_token} if id_token else {}
    return {**hint, "post_logout_redirect_uri": SIGNED_OUT, "state": "bye", **params}


async def ask_to_leave(
    browser: Browser, method: str, params: dict[str, str], **headers: str
) -> httpx.Response:
    """A relying party's logout request: a link (GET, the parameters in the URL) or a form
    (POST, the parameters in the body and none in the URL)."""
    if method == "GET":
        return await browser.open("/oauth/logout", params=params, headers=headers)
    return await browser.http.post("/oauth/logout", data=params, headers=headers)


METHODS = pytest.mark.parametrize("method", ["GET", "POST"])


@METHODS
async def test_a_relying_partys_hint_signs_out_in_one_step(world: SignInWorld, method: str) -> None:
    client = await world.client(first_party=True, post_logout_redirect_uris=[SIGNED_OUT])
    ask = Ask(client["client_id"])
    browser = world.browser()
    id_token = await signed_in(world, ask, browser)
    assert await still_signed_in(browser, ask)

    out = await ask_to_leave(browser, method, logout(id_token))
    assert out.status_code == 303, out.text
    assert out.headers["location"] == f"{SIGNED_OUT}?state=bye"
    assert 'telemed_signin=""' in out.headers["set-cookie"]
    assert not await still_signed_in(browser, ask)
    assert await logout_records(world.stack) == [("success", f"client={ask.client_id}")]
    if method == "POST":
        assert out.request.url.query == b""  # the ID token went in the body only

    # The hint is still taken once expired (the relying party signs out long after sign-in),
    # with the client named too, as long as it is the hint's.
    browser = world.browser()
    expired = resigned(world.stack, await signed_in(world, ask, browser), exp=int(time.time()) - 60)
    out = await ask_to_leave(
        browser, method, logout(expired, client_id=ask.client_id, state="again")
    )
    assert out.status_code == 303, out.text
    assert out.headers["location"] == f"{SIGNED_OUT}?state=again"
    assert not await still_signed_in(browser, ask)

    # Nobody signed in here: nothing to end, straight back, and no cookie touched.
    nobody = await ask_to_leave(world.browser(), method, logout(id_token))
    assert nobody.status_code == 303
    assert nobody.headers["location"] == f"{SIGNED_OUT}?state=bye"
    assert "set-cookie" not in nobody.headers


@METHODS
async def test_anything_less_than_a_good_hint_asks_first(world: SignInWorld, method: str) -> None:
    client = await world.client(first_party=True, post_logout_redirect_uris=[SIGNED_OUT])
    other = await world.client(first_party=True, post_logout_redirect_uris=[SIGNED_OUT])
    ask = Ask(client["client_id"])
    browser = world.browser()
    mine = await signed_in(world, ask, browser)
    someone_elses = await signed_in(world, ask)
    refresh_seconds = world.stack.apps["gateway"].state.settings.refresh_token_seconds
    stranger_key = generate_private_key(public_exponent=65537, key_size=2048)

    asks_first = {
        "no hint": logout(client_id=ask.client_id),
        "another person's": logout(someone_elses),
        "not the gateway's key": logout(resigned(world.stack, mine, stranger_key)),
        "another issuer": logout(resigned(world.stack, mine, iss="https://idp.example")),
        "too old": logout(resigned(world.stack, mine, iat=int(time.time()) - refresh_seconds - 60)),
        "another client named": logout(mine, client_id=other["client_id"]),
        "an unknown client's": logout(resigned(world.stack, mine, aud="nobody")),
        "an unregistered URI": logout(mine, post_logout_redirect_uri="https://evil.example/"),
        "no URI": {"id_token_hint": mine},
        "garbage": logout("not.a.token"),
    }
    for why, params in asks_first.items():
        page = await ask_to_leave(browser, method, params)
        assert page.status_code == 200, why
        assert "location" not in page.headers, why
        assert 'name="csrf_token"' in page.text, why
        # The page carries the request on, but never the token, in its form or its links.
        assert "id_token_hint" not in page.text, why
        assert "eyJ" not in page.text, why
    assert await still_signed_in(browser, ask)
    assert await logout_records(world.stack) == []

    # Confirmed, another person's hint still names its client: back to its registered URI.
    page = await ask_to_leave(browser, method, logout(someone_elses))
    ended = await browser.submit(page)
    assert ended.status_code == 303
    assert ended.headers["location"] == f"{SIGNED_OUT}?state=bye"
    assert not await still_signed_in(browser, ask)

    # A hint naming another client than `client_id` is followed nowhere, even confirmed.
    await signed_in(world, ask, browser)
    page = await ask_to_leave(browser, method, logout(mine, client_id=other["client_id"]))
    ended = await browser.submit(page)
    assert ended.status_code == 200
    assert "location" not in ended.headers
    assert not await still_signed_in(browser, ask)


async def test_a_post_without_its_csrf_token_or_a_hint_signs_nobody_out(
    world: SignInWorld,
) -> None:
    """Another site's form without a hint is a request to ask, nothing more."""
    client = await world.client(first_party=True, post_logout_redirect_uris=[SIGNED_OUT])
    ask = Ask(client["client_id"])
    browser = world.browser()
    await signed_in(world, ask, browser)

    unasked = await ask_to_leave(browser, "POST", logout(client_id=ask.client_id))
    assert unasked.status_code == 200
    assert 'name="csrf_token"' in unasked.text
    forged = {**logout(client_id=ask.client_id), "csrf_token": "forged"}
    refused = await ask_to_leave(browser, "POST", forged)
    assert refused.status_code == 400  # a form that is not the gateway's own, or has expired
    assert "set-cookie" not in refused.headers
    assert await still_signed_in(browser, ask)
    assert await logout_records(world.stack) == []

    # The page that asked signs out, back to the client with the request it carried on.
    ended = await browser.submit(refused)
    assert ended.status_code == 303
    assert ended.headers["location"] == f"{SIGNED_OUT}?state=bye"
    assert not await still_signed_in(browser, ask)


async def test_a_post_from_another_site_asks_first_as_it_cannot_see_the_sign_in(
    world: SignInWorld,
) -> None:
    """A browser keeps the `SameSite=Lax` sign-in cookie from another site's POST, so the
    gateway cannot know whose sign-in it would end: it asks, in the language asked for."""
    client = await world.client(first_party=True, post_logout_redirect_uris=[SIGNED_OUT])
    ask = Ask(client["client_id"])
    browser = world.browser()
    id_token = await signed_in(world, ask, browser)
    kept_back = world.browser()  # as the person's browser sends it: without their cookie

    page = await ask_to_leave(
        kept_back, "POST", logout(id_token, ui_locales="en"), **{"Sec-Fetch-Site": "cross-site"}
    )
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Sign out of telemed?" in page.text
    assert "set-cookie" not in page.headers or "telemed_signin" not in page.headers["set-cookie"]
    assert await still_signed_in(browser, ask)
    # The same form from the console's own site signs out at once.
    same_site = await ask_to_leave(
        browser, "POST", logout(id_token), **{"Sec-Fetch-Site": "same-origin"}
    )
    assert same_site.status_code == 303
    assert not await still_signed_in(browser, ask)
