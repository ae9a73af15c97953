"""Signing in with an external OpenID provider: oidc-provider-mock, a real provider (Authlib's
server in Flask), on loopback. A known person is linked and signed in; an unknown subject, an
ID token for another nonce or another audience are refused."""

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import flask
import httpx
import oidc_provider_mock
import pytest
from oidc_provider_mock._storage import Client as MockClient  # type: ignore[import-untyped]
from pydantic import SecretStr
from sqlalchemy import select
from werkzeug.serving import make_server

from gateway.oauth.federation import FederationError, Provider
from tests.conftest import Stack, running_stack
from tests.gateway.oauth.conftest import Ask, Browser, SignInWorld, query

CALLBACK = "http://127.0.0.1:8000/oauth/federation/callback"  # the default public URL's


@contextlib.contextmanager
def provider_server(app: flask.Flask) -> Iterator[str]:
    """The provider on a free loopback port, in a thread; its issuer URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@dataclass
class Federated:
    world: SignInWorld
    issuer: str
    http: httpx.AsyncClient  # the browser at the provider
    app: flask.Flask  # the provider

    def register(self, client_id: str, secret: str) -> None:
        """A client of the provider with the id and secret given (its API makes its own)."""
        with self.app.test_request_context():
            self.app.preprocess_request()  # which puts the provider's storage on `g`
            flask.g.oidc_provider_mock_storage.store_client(
                MockClient(
                    id=client_id,
                    secret=secret,
                    redirect_uris=[CALLBACK],
                    allowed_scopes=MockClient.SCOPES_SUPPORTED,
                    token_endpoint_auth_method="client_secret_basic",
                )
            )

    async def person_at_provider(self, sub: str, **claims: Any) -> None:
        answer = await self.http.put(f"/users/{sub}", json=claims)
        assert answer.status_code == 204, answer.text

    async def at_provider(self, location: str, sub: str, **tamper: str) -> str:
        """Signs `sub` in at the provider's page; the callback URL it sends the browser to."""
        parts = urlsplit(location)
        assert location.startswith(self.issuer)
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        url = urlunsplit(parts._replace(query=urlencode({**params, **tamper})))
        answer = await self.http.post(url, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        back = answer.headers["location"]
        assert back.startswith(CALLBACK), back
        return back.removeprefix("http://127.0.0.1:8000")

    async def sign_in(self, browser: Browser, ask: Ask, sub: str, **tamper: str) -> httpx.Response:
        """Through the sign-in page's button, the provider and back; the callback's answer."""
        page = await browser.open("/oauth/authorize", params=ask.params())
        assert "Kuzbass ID" in page.text
        start = await browser.open("/oauth/federation/start", params=ask.params())
        assert start.status_code == 303, start.text
        return await browser.open(await self.at_provider(start.headers["location"], sub, **tamper))


@pytest.fixture
async def federated(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Federated]:
    # Clients must register (so it checks their secret and redirect URI) and send a nonce.
    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    with provider_server(app) as issuer:
        async with httpx.AsyncClient(base_url=issuer) as http:
            registered = await http.post(
                "/oauth2/clients",
                json={"redirect_uris": [CALLBACK], "scope": "openid profile email"},
            )
            assert registered.status_code == 201, registered.text
            credentials = registered.json()
            overrides = {
                "gateway": {
                    "oidc_federation_issuer": issuer,
                    "oidc_federation_name": "Kuzbass ID",
                    "oidc_federation_client_id": credentials["client_id"],
                    "oidc_federation_client_secret": credentials["client_secret"],
                }
            }
            async with running_stack(clean_databases, tmp_path, overrides) as stack:
                world = SignInWorld(stack)
                try:
                    yield Federated(world, issuer, http, app)
                finally:
                    for browser in world.browsers:
                        await browser.http.aclose()


async def audit(stack: Stack, action: str) -> list[tuple[str, str | None]]:
    """The outcomes and details recorded for `action`, oldest first."""
    records = stack.apps["gateway"].state.audit_tables.records
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        rows = await session.execute(
            select(records.c.outcome, records.c.detail)
            .where(records.c.action == action)
            .order_by(records.c.id)
        )
        return [(outcome, detail) for outcome, detail in rows]


async def audit_outcomes(stack: Stack, action: str) -> list[str]:
    return [outcome for outcome, _ in await audit(stack, action)]


async def test_a_known_person_is_linked_then_signed_in(federated: Federated) -> None:
    world = federated.world
    client = await world.client(first_party=True)
    person = await world.person()
    await federated.person_at_provider("kc-anna", preferred_username=person.username.upper())
    browser = world.browser()
    ask = Ask(client["client_id"])
    back = await federated.sign_in(browser, ask, "kc-anna")
    assert back.status_code == 303, back.text
    assert back.headers["location"].startswith("/oauth/authorize?")
    # Signed in at the gateway now: the pending request goes on to the client.
    answer = await browser.open(back.headers["location"])
    assert answer.status_code == 303
    code = query(answer.headers["location"])["code"]
    tokens = (await world.exchange(ask, code)).json()
    claims = await world.id_claims(tokens["id_token"], ask)
    assert claims["sub"] == str(person.id)

    # Linked for good: the provider's username no longer matters.
    await federated.person_at_provider("kc-anna", preferred_username="someone.else")
    again = await federated.sign_in(world.browser(), Ask(client["client_id"]), "kc-anna")
    assert again.status_code == 303
    assert await audit_outcomes(world.stack, "auth.federated_login") == ["success", "success"]
    assert await audit_outcomes(world.stack, "auth.federated_link") == ["success"]


async def test_an_unknown_subject_is_refused_never_created(federated: Federated) -> None:
    world = federated.world
    client = await world.client(first_party=True)
    await federated.person_at_provider("kc-nobody", preferred_username="not.a.telemed.user")
    browser = world.browser()
    refused = await federated.sign_in(browser, Ask(client["client_id"]), "kc-nobody")
    assert refused.status_code == 403
    assert 'data-reason="federation_unknown"' in refused.text
    assert "telemed_signin" not in refused.headers.get("set-cookie", "")
    page = await browser.open("/oauth/authorize", params=Ask(client["client_id"]).params())
    assert page.status_code == 200  # still the sign-in page
    assert "password" in page.text
    assert await audit_outcomes(world.stack, "auth.federated_login") == ["denied"]


async def test_an_id_token_for_another_nonce_is_refused(federated: Federated) -> None:
    world = federated.world
    client = await world.client(first_party=True)
    person = await world.person()
    await federated.person_at_provider("kc-anna", preferred_username=person.username)
    refused = await federated.sign_in(
        world.browser(), Ask(client["client_id"]), "kc-anna", nonce="replayed-nonce"
    )
    assert refused.status_code == 400
    assert 'data-reason="federation_failed"' in refused.text
    ((outcome, detail),) = await audit(world.stack, "auth.federated_login")
    assert outcome == "denied"
    assert detail is not None
    assert "nonce" in detail


async def test_an_id_token_for_another_client_is_refused(federated: Federated) -> None:
    """A token the provider really signed, for another registered client: right signature,
    right issuer and nonce, wrong audience."""
    other = (
        await federated.http.post(
            "/oauth2/clients", json={"redirect_uris": ["http://127.0.0.1:9/cb"]}
        )
    ).json()
    await federated.person_at_provider("kc-anna", preferred_username="anna")
    params = {
        "response_type": "code", "client_id": other["client_id"], "scope": "openid",
        "redirect_uri": "http://127.0.0.1:9/cb", "state": "s", "nonce": "n-1",
    }  # fmt: skip
    answer = await federated.http.post("/oauth2/authorize", params=params, data={"sub": "kc-anna"})
    code = query(answer.headers["location"])["code"]
    tokens = await federated.http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": "http://127.0.0.1:9/cb"},
        auth=(other["client_id"], other["client_secret"]),
    )  # fmt: skip
    id_token = tokens.json()["id_token"]
    provider: Provider = federated.world.stack.apps["gateway"].state.federation
    with pytest.raises(FederationError):
        await provider.verified_claims(id_token, nonce="n-1", access_token=None)
    # The same token passes for the client it was made for: the refusal is the audience's.
    settings = provider.settings.model_copy(
        update={"oidc_federation_client_id": other["client_id"]}
    )
    claims = await Provider(settings).verified_claims(id_token, nonce="n-1", access_token=None)
    assert claims["sub"] == "kc-anna"


async def test_the_gateway_form_encodes_its_credentials_at_the_provider(
    federated: Federated,
) -> None:
    """RFC 6749 2.3.1: a `:`, `%` or `+` in the gateway's id or secret at the provider arrives
    intact in HTTP Basic (Authlib, the provider here, decodes each part after the split)."""
    client_id, secret = "telemed:gateway%41", "a:secret+with%20 spaces/"
    federated.register(client_id, secret)
    await federated.person_at_provider("kc-anna", preferred_username="anna")
    settings = federated.world.stack.apps["gateway"].state.settings.model_copy(
        update={
            "oidc_federation_issuer": federated.issuer,
            "oidc_federation_client_id": client_id,
            "oidc_federation_client_secret": SecretStr(secret),
        }
    )
    provider = Provider(settings)
    verifier = "v" * 64
    location = await provider.authorization_url(state="s", nonce="n-2", verifier=verifier)
    code = query(await federated.at_provider(location, "kc-anna"))["code"]
    # As the credentials are, unencoded, the provider reads another client.
    token_endpoint = (await provider.discovery())["token_endpoint"]
    raw = await federated.http.post(
        token_endpoint,
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
              "redirect_uri": provider.redirect_uri},
        auth=(client_id, secret),
    )  # fmt: skip
    assert raw.status_code in (400, 401), raw.text
    tokens = await provider.exchange(code, verifier)
    claims = await provider.verified_claims(
        tokens["id_token"], nonce="n-2", access_token=tokens["access_token"]
    )
    assert client_id in claims["aud"]
    assert claims["sub"] == "kc-anna"
