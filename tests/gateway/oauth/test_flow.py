"""The authorization code flow with PKCE end to end over HTTP: sign-in page, consent, code
exchange, the ID token verified with the JWKS, refresh, userinfo, revocation, introspection."""

import base64
import html
import re

from tests.conftest import TEST_PASSWORD, Stack
from tests.gateway.oauth.conftest import REDIRECT_URI, Ask, SignInWorld, query

SWITCH = re.compile(r'<p class="lang"><a href="([^"]*)"')


async def test_discovery_names_every_endpoint_and_the_rs256_key(stack: Stack) -> None:
    document = (await stack.client.get("/.well-known/openid-configuration")).json()
    issuer = document["issuer"]
    assert issuer == stack.apps["gateway"].state.settings.public_url.rstrip("/")
    assert document["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert document["token_endpoint"] == f"{issuer}/api/auth/token"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["subject_types_supported"] == ["public"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    keys = (await stack.client.get("/.well-known/jwks.json")).json()["keys"]
    assert {(key["kty"], key["alg"]) for key in keys} >= {("OKP", "EdDSA"), ("RSA", "RS256")}


async def test_a_first_party_public_client_signs_a_person_in(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    assert client["client_secret"] is None
    assert not client["confidential"]
    person = await world.person(email="anna@example.ru")
    ask = Ask(client["client_id"])
    browser = world.browser()
    page = await browser.open("/oauth/authorize", params=ask.params())
    assert page.status_code == 200
    assert '<html lang="ru">' in page.text
    assert '<label for="password">' in page.text
    code = await world.code(browser, ask, person)

    answer = await world.exchange(ask, code)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert answer.headers["cache-control"] == "no-store"
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    claims = await world.id_claims(tokens["id_token"], ask)
    assert claims["sub"] == str(person.id)
    assert claims["nonce"] == ask.nonce
    assert claims["preferred_username"] == person.username
    assert claims["email"] == "anna@example.ru"
    assert claims["auth_time"] <= claims["iat"]

    # The access token is telemed's own: the services and the directory take it.
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await world.stack.client.get("/api/directory/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["username"] == person.username
    info = await world.stack.client.get("/oauth/userinfo", headers=bearer)
    assert info.json() == {
        "sub": str(person.id),
        "name": me.json()["full_name"],
        "preferred_username": person.username,
        "email": "anna@example.ru",
        "locale": "ru",
    }

    # Refresh: only with the client's id, and the scopes stay.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    stranger = await world.stack.client.post("/api/auth/token", data=refresh)
    assert stranger.status_code == 401
    assert stranger.json()["error"] == "invalid_client"
    renewed = await world.stack.client.post(
        "/api/auth/token", data={**refresh, "client_id": ask.client_id}
    )
    assert renewed.status_code == 200, renewed.text
    assert set(renewed.json()["scope"].split()) == set(tokens["scope"].split())

    # Introspection, by an API client, before and after revocation.
    organization = await world.stack.organization()
    registered = await world.stack.client.post(
        "/api/directory/api-clients",
        json={"name": "Regional MIS", "organization_id": organization["id"], "scopes": []},
        headers=world.stack.admin.headers if world.stack.admin else {},
    )
    api_client = registered.json()
    basic = base64.b64encode(
        f"{api_client['client_id']}:{api_client['client_secret']}".encode()
    ).decode()
    auth = {"Authorization": f"Basic {basic}"}
    access = renewed.json()["access_token"]
    active = await world.stack.client.post(
        "/api/auth/introspect", data={"token": access}, headers=auth
    )
    assert active.status_code == 200, active.text
    assert active.json()["active"] is True
    assert active.json()["client_id"] == ask.client_id
    assert active.json()["sub"] == str(person.id)

    revoked = await world.stack.client.post(
        "/api/auth/revoke",
        data={"token": renewed.json()["refresh_token"], "client_id": ask.client_id},
    )
    assert revoked.status_code == 200
    for token in (access, renewed.json()["refresh_token"]):
        after = await world.stack.client.post(
            "/api/auth/introspect", data={"token": token}, headers=auth
        )
        assert after.json() == {"active": False}
    again = await world.stack.client.post(
        "/api/auth/token",
        data={
            **refresh,
            "refresh_token": renewed.json()["refresh_token"],
            "client_id": ask.client_id,
        },
    )
    assert again.status_code == 400
    unknown = await world.stack.client.post("/api/auth/revoke", data={"token": "nothing-of-ours"})
    assert unknown.status_code == 200


async def test_a_third_party_client_asks_consent_once(world: SignInWorld) -> None:
    client = await world.client(
        name="Patient diary", confidential=True, scopes=["openid", "profile", "email"]
    )
    assert client["client_secret"]
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"], scope="openid profile")
    consent = await world.sign_in(browser, ask, person)
    assert consent.status_code == 200
    assert "Patient diary" in consent.text
    denied = await browser.submit(consent, step="consent", decision="deny")
    assert denied.status_code == 303
    back = query(denied.headers["location"])
    assert back["error"] == "access_denied"
    assert back["state"] == ask.state

    # Signed in at the gateway now: the next request goes straight to the consent page.
    page = await browser.open("/oauth/authorize", params=ask.params())
    allowed = await browser.submit(page, step="consent", decision="allow")
    assert allowed.status_code == 303
    code = query(allowed.headers["location"])["code"]
    secret = client["client_secret"]
    wrong = await world.exchange(ask, code, client_secret="not the secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    basic = base64.b64encode(f"{ask.client_id}:{secret}".encode()).decode()
    answer = await world.stack.client.post(
        "/api/auth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": ask.verifier},
        headers={"Authorization": f"Basic {basic}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()  # no offline_access asked for

    # Remembered: the same scopes need no consent; one more scope asks again.
    again = await browser.open(
        "/oauth/authorize", params=Ask(ask.client_id, scope="openid").params()
    )
    assert again.status_code == 303
    assert "code" in query(again.headers["location"])
    wider = await browser.open(
        "/oauth/authorize", params=Ask(ask.client_id, scope="openid email").params()
    )
    assert wider.status_code == 200
    assert "consent" in wider.text


async def test_pages_speak_the_browsers_language_and_sign_out(world: SignInWorld) -> None:
    client = await world.client(
        first_party=True, post_logout_redirect_uris=["http://127.0.0.1:8005/signed-out"]
    )
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"])
    english = await browser.open(
        "/oauth/authorize", params=ask.params(), headers={"Accept-Language": "en-GB,ru;q=0.5"}
    )
    assert '<html lang="en">' in english.text
    assert "Sign in to telemed" in english.text
    assert english.headers["x-frame-options"] == "DENY"
    assert "script-src" not in english.headers["content-security-policy"]  # none at all
    switched = await browser.open(
        "/oauth/authorize", params={**ask.params(), "lang": "ru"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert '<html lang="ru">' in switched.text
    await world.code(browser, ask, person)

    logout = {"client_id": ask.client_id, "state": "bye"}
    unregistered = {**logout, "post_logout_redirect_uri": "https://evil.example/"}
    confirm = await browser.open("/oauth/logout", params=unregistered)
    assert confirm.status_code == 200
    assert "location" not in confirm.headers
    ended = await browser.submit(confirm)
    assert ended.status_code == 200  # an unregistered URI is not followed
    assert "location" not in ended.headers
    page = await browser.open("/oauth/authorize", params=ask.params())
    assert page.status_code == 200  # asked to sign in again
    await world.code(browser, ask, person)
    registered = {**logout, "post_logout_redirect_uri": "http://127.0.0.1:8005/signed-out"}
    confirm = await browser.open("/oauth/logout", params=registered)
    ended = await browser.submit(confirm)
    assert ended.status_code == 303
    assert ended.headers["location"] == "http://127.0.0.1:8005/signed-out?state=bye"


async def test_ui_locales_choose_the_language_before_the_switch_and_the_browser(
    world: SignInWorld,
) -> None:
    """OpenID Connect's `ui_locales` (the client knows its person's language; the console
    sends it): its first supported tag wins, then the page's switch, then Accept-Language."""
    client = await world.client(first_party=True)
    browser = world.browser()
    russian_browser = {"Accept-Language": "ru"}
    ask = Ask(client["client_id"], extra={"ui_locales": "de-CH EN-gb ru"})
    page = await browser.open("/oauth/authorize", params=ask.params(), headers=russian_browser)
    assert '<html lang="en">' in page.text
    assert "Sign in to telemed" in page.text
    outranked = await browser.open(
        "/oauth/authorize", params={**ask.params(), "lang": "ru"}, headers=russian_browser
    )
    assert '<html lang="en">' in outranked.text

    # The switch still switches: its link leaves `ui_locales` out, and signs in all the same.
    link = SWITCH.search(page.text)
    assert link
    switch = html.unescape(link.group(1))
    assert "ui_locales" not in switch
    assert "lang=ru" in switch
    switched = await browser.open(switch, headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in switched.text
    person = await world.person()
    code = await browser.submit(
        switched, step="sign_in", username=person.username, password=TEST_PASSWORD
    )
    assert code.status_code == 303
    assert query(code.headers["location"])["state"] == ask.state

    # A wrong password keeps the language: the form posts to the request's own URL.
    wrong = await world.browser().open("/oauth/authorize", params=ask.params())
    again = await world.browsers[-1].submit(
        wrong, step="sign_in", username=person.username, password="wrong"
    )
    assert again.status_code == 400
    assert '<html lang="en">' in again.text
    # No supported tag: the browser's language.
    unsupported = {**ask.params(), "ui_locales": "de fr-CA"}
    fallback = await world.browser().open(
        "/oauth/authorize", params=unsupported, headers=russian_browser
    )
    assert '<html lang="ru">' in fallback.text
    # The sign-out page too (the console sends `ui_locales` there).
    bye = await world.browser().open("/oauth/logout", params={"ui_locales": "en"})
    assert '<html lang="en">' in bye.text

    discovery = (await world.stack.client.get("/.well-known/openid-configuration")).json()
    assert discovery["ui_locales_supported"] == ["ru", "en"]


async def test_who_may_introspect_and_revoke(world: SignInWorld) -> None:
    mine = await world.client(first_party=True, confidential=True)
    other = await world.client(first_party=True, confidential=True)
    person = await world.person()
    ask = Ask(mine["client_id"])
    code = await world.code(world.browser(), ask, person)
    tokens = (await world.exchange(ask, code, client_secret=mine["client_secret"])).json()
    http = world.stack.client
    anonymous = await http.post("/api/auth/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    as_person = await http.post(
        "/api/auth/introspect", data={"token": tokens["access_token"],
        "client_id": person.username, "client_secret": "correct horse battery staple"},
    )  # fmt: skip
    assert as_person.status_code == 401
    # A confidential OAuth client introspects; another client cannot revoke my sign-in.
    seen = await http.post(
        "/api/auth/introspect", data={"token": tokens["refresh_token"],
        "client_id": other["client_id"], "client_secret": other["client_secret"]},
    )  # fmt: skip
    assert seen.json()["active"] is True
    assert seen.json()["token_type"] == "refresh_token"
    assert seen.json()["client_id"] == mine["client_id"]
    not_yours = await http.post(
        "/api/auth/revoke", data={"token": tokens["refresh_token"],
        "client_id": other["client_id"], "client_secret": other["client_secret"]},
    )  # fmt: skip
    assert not_yours.status_code == 200
    unnamed = await http.post("/api/auth/revoke", data={"token": tokens["access_token"]})
    assert unnamed.status_code == 401
    still = await http.post(
        "/api/auth/introspect", data={"token": tokens["access_token"],
        "client_id": other["client_id"], "client_secret": other["client_secret"]},
    )  # fmt: skip
    assert still.json()["active"] is True
    # Revoking the access token ends the sign-in, refresh token included.
    mine_auth = {"client_id": mine["client_id"], "client_secret": mine["client_secret"]}
    revoked = await http.post(
        "/api/auth/revoke", data={"token": tokens["access_token"], **mine_auth}
    )
    assert revoked.status_code == 200
    for token in (tokens["access_token"], tokens["refresh_token"]):
        gone = await http.post("/api/auth/introspect", data={"token": token, **mine_auth})
        assert gone.json() == {"active": False}
    # A password sign-in's token is the person's own: userinfo shows their whole profile.
    info = await http.get("/oauth/userinfo", headers=person.headers)
    assert info.json()["preferred_username"] == person.username
