"""ID tokens name their sign-in (`sid`), and come again on refresh when the sign-in had
`openid` (OpenID Connect Core 12.2): the same person, client and sign-in, no nonce."""

import jwt
from authlib.oidc.core.util import create_half_hash

from tests.gateway.oauth.conftest import Ask, SignInWorld


async def test_a_refresh_brings_a_new_id_token_of_the_same_sign_in(world: SignInWorld) -> None:
    client = await world.client(first_party=True, confidential=True)
    ask = Ask(client["client_id"])
    person = await world.person(email="olga@example.ru")
    code = await world.code(world.browser(), ask, person)
    tokens = (await world.exchange(ask, code, client_secret=client["client_secret"])).json()
    first = await world.id_claims(tokens["id_token"], ask)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert first["sid"] == access["sid"]  # the sign-in the access tokens name

    refreshed = await world.stack.client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
              "client_id": ask.client_id, "client_secret": client["client_secret"]},
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["cache-control"] == "no-store"
    body = refreshed.json()
    again = await world.id_claims(body["id_token"], ask)  # aud: the same client
    assert again["sub"] == first["sub"] == str(person.id)
    assert again["sid"] == first["sid"]
    assert again["auth_time"] == first["auth_time"]
    assert again["email"] == "olga@example.ru"
    assert "nonce" not in again
    assert again["at_hash"] == create_half_hash(body["access_token"], "RS256").decode()
    assert body["refresh_token"] != tokens["refresh_token"]

    discovery = (await world.stack.client.get("/.well-known/openid-configuration")).json()
    assert "sid" in discovery["claims_supported"]


async def test_no_id_token_without_openid(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    ask = Ask(client["client_id"], scope="profile offline_access")
    code = await world.code(world.browser(), ask, await world.person())
    tokens = (await world.exchange(ask, code)).json()
    assert "id_token" not in tokens
    refreshed = await world.stack.client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
              "client_id": ask.client_id},
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    assert "id_token" not in refreshed.json()
    assert set(refreshed.json()["scope"].split()) == {"profile", "offline_access"}
