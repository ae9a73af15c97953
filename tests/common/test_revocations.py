"""The verifier's deny-list: fetched at most once per interval, never per request.

A listed subject's or sign-in's tokens issued up to the revocation are refused, later ones not.
"""

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import HttpRevocationsProvider, TokenVerifier, revocation_key
from services.common.errors import Unauthorized
from services.common.keys import public_jwk

KEY = Ed25519PrivateKey.generate()


async def jwks(_force: bool) -> dict[str, Any]:
    return {"keys": [public_jwk(KEY.public_key())]}


def token(subject: uuid.UUID, issued: float, sid: uuid.UUID | None = None) -> str:
    claims: dict[str, Any] = {"iss": "i", "aud": "a", "sub": str(subject), "iat": int(issued),
                              "exp": time.time() + 600, "role": "district_medic"}  # fmt: skip
    if sid:
        claims["sid"] = str(sid)
    return jwt.encode(
        claims, KEY, algorithm="EdDSA", headers={"kid": public_jwk(KEY.public_key())["kid"]}
    )


class DenyList:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False

    def revoke(self, subject: uuid.UUID, at: float) -> None:
        self.entries.append({"key": revocation_key(str(subject)), "before": at})

    async def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise httpx.ConnectError("the gateway is down")
        return {"revoked": list(self.entries), "window_seconds": 960}


def verifier(deny: DenyList, refresh: float = 0.0) -> TokenVerifier:
    return TokenVerifier(
        jwks, issuer="i", audience="a", algorithms=["EdDSA"], revocations=deny,
        revocations_refresh=refresh,
    )  # fmt: skip


async def test_tokens_issued_up_to_the_revocation_are_refused() -> None:
    deny, medic, now = DenyList(), uuid.uuid4(), time.time()
    check = verifier(deny)
    before, after = token(medic, now - 60), token(medic, now + 1)
    assert (await check.verify(before)).subject == medic  # verified and cached
    deny.revoke(medic, now)
    with pytest.raises(Unauthorized, match="revoked"):
        await check.verify(before)
    assert (await check.verify(after)).subject == medic


async def test_a_revoked_sign_in_leaves_the_others() -> None:
    deny, medic, now = DenyList(), uuid.uuid4(), time.time()
    stolen, other = uuid.uuid4(), uuid.uuid4()
    deny.revoke(stolen, now)
    check = verifier(deny)
    with pytest.raises(Unauthorized):
        await check.verify(token(medic, now - 5, sid=stolen))
    assert (await check.verify(token(medic, now - 5, sid=other))).subject == medic


async def test_the_list_is_fetched_once_per_interval_not_per_request() -> None:
    deny = DenyList()
    check = verifier(deny, refresh=60.0)
    tokens = [token(uuid.uuid4(), time.time()) for _ in range(20)]
    for _ in range(5):
        for each in tokens:
            await check.verify(each)
    assert deny.fetches == 1


async def test_an_unreachable_gateway_keeps_the_last_list() -> None:
    deny, medic, now = DenyList(), uuid.uuid4(), time.time()
    deny.revoke(medic, now)
    check = verifier(deny)
    revoked = token(medic, now - 5)
    with pytest.raises(Unauthorized):
        await check.verify(revoked)
    deny.down = True
    with pytest.raises(Unauthorized, match="revoked"):
        await check.verify(revoked)
    assert (await check.verify(token(uuid.uuid4(), now))).role.value == "district_medic"


async def test_the_http_provider_polls_conditionally() -> None:
    seen: list[str | None] = []
    document = {"revoked": [{"key": "k", "before": 1.0}], "window_seconds": 960}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, json=document, headers={"ETag": '"v1"'})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        provider = HttpRevocationsProvider("http://gateway/.well-known/revocations", client)
        assert await provider() == document
        assert await provider() == document
    assert seen == [None, '"v1"']
