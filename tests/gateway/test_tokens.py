"""Access-token verification (RFC 8725): every forged or stale token is a 401 problem."""

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.tokens import TokenIssuer
from services.common.auth import Principal, Role, TokenVerifier
from services.common.errors import Unauthorized
from services.common.keys import public_jwk
from tests.conftest import Stack


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": "telemed-gateway", "aud": "telemed", "sub": str(uuid.uuid4()), "iat": now,
        "exp": now + 600, "role": "admin", "preferred_username": "mallory", **overrides,
    }  # fmt: skip


def _unsigned(claims: dict[str, object], kid: str) -> str:
    def b64(data: bytes) -> str:
        return jwt.utils.base64url_encode(data).decode()

    header = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


# The gateway verifies its own endpoints; consult verifies again behind the proxy (zero trust).
PROTECTED = pytest.mark.parametrize(
    "path", ["/api/directory/me", "/api/consult/cases"], ids=["gateway", "consult"]
)


@pytest.fixture
async def issuer_kid(stack: Stack) -> str:
    kid: str = (await stack.client.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
    return kid


async def test_a_valid_token_reaches_the_endpoint(stack: Stack) -> None:
    assert stack.admin is not None
    response = await stack.client.get("/api/directory/me", headers=stack.admin.headers)
    assert response.status_code == 200
    assert response.json()["username"] == "root.admin"


@PROTECTED
async def test_forged_tokens_are_rejected(stack: Stack, issuer_kid: str, path: str) -> None:
    stranger = Ed25519PrivateKey.generate()
    stranger_kid = public_jwk(stranger.public_key())["kid"]
    forged = {
        "missing": None,
        "garbage": "not.a.jwt",
        "alg none": _unsigned(_claims(), issuer_kid),
        "other key, our kid": jwt.encode(
            _claims(), stranger, algorithm="EdDSA", headers={"kid": issuer_kid}
        ),
        "other key, its kid": jwt.encode(
            _claims(), stranger, algorithm="EdDSA", headers={"kid": stranger_kid}
        ),
        "HS256 confusion": jwt.encode(
            _claims(),
            "a-shared-secret-of-at-least-32-bytes",
            algorithm="HS256",
            headers={"kid": issuer_kid},
        ),
    }
    for label, token in forged.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await stack.client.get(path, headers=headers)
        assert response.status_code == 401, label
        assert response.headers["content-type"] == "application/problem+json", label
        assert response.headers["www-authenticate"].startswith("Bearer"), label


@PROTECTED
async def test_expired_wrong_audience_and_wrong_issuer_are_rejected(
    stack: Stack, path: str
) -> None:
    key = stack.apps["gateway"].state.token_issuer._key
    kid = stack.apps["gateway"].state.token_issuer.jwk["kid"]
    now = int(time.time())
    cases = {
        "expired": _claims(iat=now - 3600, exp=now - 600),
        "audience": _claims(aud="someone-else"),
        "issuer": _claims(iss="https://evil.example"),
        "no exp": {k: v for k, v in _claims().items() if k != "exp"},
    }
    for label, claims in cases.items():
        token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
        response = await stack.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, label
    expired = await stack.client.get(
        path,
        headers={"Authorization": "Bearer " + jwt.encode(
            cases["expired"], key, algorithm="EdDSA", headers={"kid": kid})},
    )  # fmt: skip
    assert "expired" in expired.json()["detail"]


async def test_a_key_rotation_keeps_tokens_of_the_previous_key_valid() -> None:
    previous, current, stranger = (Ed25519PrivateKey.generate() for _ in range(3))
    principal = Principal(subject=uuid.uuid4(), username="medic", role=Role.DISTRICT_MEDIC)

    def issuer(key: Ed25519PrivateKey, *published: Ed25519PrivateKey) -> TokenIssuer:
        return TokenIssuer(
            key,
            issuer="telemed-gateway",
            audience="telemed",
            lifetime_seconds=600,
            published=[other.public_key() for other in published],
        )

    before_rotation = issuer(previous).issue(principal)
    rotated = issuer(current, previous)
    verifier = TokenVerifier(
        rotated.jwks_provider, issuer="telemed-gateway", audience="telemed", algorithms=["EdDSA"]
    )

    assert {key["kid"] for key in rotated.jwks()["keys"]} == {
        public_jwk(previous.public_key())["kid"],
        public_jwk(current.public_key())["kid"],
    }
    assert (await verifier.verify(before_rotation)).username == "medic"
    assert (await verifier.verify(rotated.issue(principal))).username == "medic"
    assert jwt.get_unverified_header(rotated.issue(principal))["kid"] == rotated.jwk["kid"]
    with pytest.raises(Unauthorized):
        await verifier.verify(issuer(stranger).issue(principal))
