"""A browser's part in sign-in, over HTTP against the in-process stack: its own cookies, the
pages' forms filled in as a person would, and the clients an administrator registers."""

import base64
import hashlib
import html
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import update

from gateway.models import User
from tests.conftest import TEST_PASSWORD, Actor, Stack

REDIRECT_URI = "http://127.0.0.1:8005/auth/callback"
FORM = re.compile(r'<form method="post" action="([^"]*)">')
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Browser:
    """One browser: its cookie jar is its own."""

    http: httpx.AsyncClient

    async def open(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def submit(self, page: httpx.Response, **fields: str) -> httpx.Response:
        """Posts the page's form with its hidden fields (its CSRF token among them) and
        `fields`, as a browser does."""
        action = FORM.search(page.text)
        token = CSRF.search(page.text)
        assert action, page.text
        assert token, page.text
        hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
        body = {**hidden, **fields}
        return await self.http.post(html.unescape(action.group(1)), data=body)


@dataclass
class Ask:
    """An authorization request as a client makes it."""

    client_id: str
    scope: str = "openid profile email offline_access"
    redirect_uri: str = REDIRECT_URI
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    verifier: str = ""
    challenge: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce()

    def params(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **self.extra,
        }


@dataclass
class SignInWorld:
    stack: Stack
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        gateway = self.stack.apps["gateway"]
        transport = httpx.ASGITransport(
            app=gateway, client=(f"10.0.0.{len(self.browsers) + 1}", 5000)
        )
        browser = Browser(httpx.AsyncClient(transport=transport, base_url="http://gateway"))
        self.browsers.append(browser)
        return browser

    async def client(self, **body: Any) -> dict[str, Any]:
        assert self.stack.admin is not None
        payload = {
            "name": "Telemed console",
            "redirect_uris": [REDIRECT_URI],
            "scopes": ["openid", "profile", "email", "offline_access"],
            **body,
        }
        response = await self.stack.client.post(
            "/api/directory/oauth-clients", json=payload, headers=self.stack.admin.headers
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def person(self, email: str | None = None) -> Actor:
        organization = await self.stack.organization()
        actor = await self.stack.actor("district_medic", organization)
        if email:
            database = self.stack.apps["gateway"].state.database
            async with database.sessionmaker() as session:
                await session.execute(update(User).where(User.id == actor.id).values(email=email))
                await session.commit()
        return actor

    async def sign_in(
        self, browser: Browser, ask: Ask, person: Actor, password: str = TEST_PASSWORD
    ) -> httpx.Response:
        page = await browser.open("/oauth/authorize", params=ask.params())
        assert page.status_code == 200, page.text
        return await browser.submit(
            page, step="sign_in", username=person.username, password=password
        )

    async def code(self, browser: Browser, ask: Ask, person: Actor) -> str:
        """Signs in on a first-party client's page and returns the code it gets back."""
        answer = await self.sign_in(browser, ask, person)
        assert answer.status_code == 303, answer.text
        back = query(answer.headers["location"])
        assert back["state"] == ask.state
        return back["code"]

    async def exchange(self, ask: Ask, code: str, **extra: str) -> httpx.Response:
        return await self.stack.client.post(
            "/api/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": ask.redirect_uri,
                "code_verifier": ask.verifier,
                "client_id": ask.client_id,
                **extra,
            },
        )

    async def id_claims(self, id_token: str, ask: Ask) -> dict[str, Any]:
        """The ID token verified as a relying party would: JWKS and issuer from discovery."""
        discovery = (await self.stack.client.get("/.well-known/openid-configuration")).json()
        keys = (await self.stack.client.get("/.well-known/jwks.json")).json()
        kid = jwt.get_unverified_header(id_token)["kid"]
        key = next(k for k in jwt.PyJWKSet.from_dict(keys).keys if k.key_id == kid)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key,
            algorithms=discovery["id_token_signing_alg_values_supported"],
            audience=ask.client_id,
            issuer=discovery["issuer"],
        )
        return claims


@pytest.fixture
async def world(stack: Stack) -> Any:
    world = SignInWorld(stack)
    yield world
    for browser in world.browsers:
        await browser.http.aclose()


def user_id(claims: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(claims["sub"])
