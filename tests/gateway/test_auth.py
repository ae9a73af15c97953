"""Token endpoint: grants, refresh rotation, failed-login rate limiting, JWKS."""

import base64
import time

import httpx
import jwt
from sqlalchemy import select

from gateway.models import kernel_tables
from tests.conftest import TEST_PASSWORD, Stack


async def test_password_grant_issues_verifiable_eddsa_token(stack: Stack) -> None:
    centre = await stack.organization(kind="regional_centre")
    specialist = await stack.actor("specialist", centre, "cardiology")
    jwks = (await stack.client.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(specialist.access_token)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(specialist.access_token, key=key, algorithms=["EdDSA"], audience="telemed")
    assert header["typ"] == "at+jwt"
    assert claims["role"] == "specialist"
    assert claims["specialty"] == "cardiology"
    assert claims["org"] == centre["id"]
    assert claims["region"] == "42"
    assert 14 * 60 <= claims["exp"] - time.time() <= 15 * 60


async def test_wrong_password_is_a_problem_and_does_not_reveal_the_user(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    wrong = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": medic.username, "password": "nope-nope-1"},
    )
    unknown = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": "nobody.here", "password": "nope-nope-1"},
    )
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == "invalid_grant"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_failed_logins_are_rate_limited_per_username(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    form = {"grant_type": "password", "username": medic.username, "password": "wrong-wrong"}
    for _ in range(5):
        assert (await stack.client.post("/api/auth/token", data=form)).status_code == 400
    blocked = await stack.client.post("/api/auth/token", data={**form, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["status"] == 429


async def test_failed_logins_are_rate_limited_per_address(stack: Stack) -> None:
    """Guessing many usernames from one address is stopped, but only after more failures
    than one user gets: colleagues behind one hospital NAT address must not lock each other out."""
    settings = stack.apps["gateway"].state.settings
    assert settings.login_max_failures_per_address > settings.login_max_failures
    for attempt in range(settings.login_max_failures_per_address):
        form = {"grant_type": "password", "username": f"guess{attempt}", "password": "x" * 10}
        assert (await stack.client.post("/api/auth/token", data=form)).status_code == 400
    form = {"grant_type": "password", "username": "root.admin", "password": TEST_PASSWORD}
    assert (await stack.client.post("/api/auth/token", data=form)).status_code == 429


async def test_refresh_token_rotates_and_cannot_be_reused(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    form = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    first = await stack.client.post("/api/auth/token", data=form)
    assert first.status_code == 200
    assert first.json()["refresh_token"] != medic.refresh_token
    reused = await stack.client.post("/api/auth/token", data=form)
    assert reused.status_code == 400


async def test_reusing_a_refresh_token_revokes_its_whole_family(stack: Stack) -> None:
    """A used token presented again means two parties hold the sign-in: every token that
    descends from it stops, the newest included, and the reuse is on the audit trail."""
    medic = await stack.actor("district_medic", await stack.organization())
    other_sign_in = await stack.login(medic.username)

    async def refresh(token: str | None) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await stack.client.post("/api/auth/token", data=form)

    second = (await refresh(medic.refresh_token)).json()["refresh_token"]
    newest = (await refresh(second)).json()["refresh_token"]
    assert (await refresh(medic.refresh_token)).status_code == 400  # the thief's copy, say
    refused = await refresh(newest)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert (await refresh(other_sign_in["refresh_token"])).status_code == 200
    records = kernel_tables.audit.records
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        reuses = (
            await session.execute(
                select(records.c.resource_id, records.c.outcome).where(
                    records.c.action == "auth.refresh_reuse"
                )
            )
        ).all()
    # The stale copy, then the newest token, revoked with its family by then.
    assert [tuple(row) for row in reuses] == [(str(medic.id), "denied")] * 2


async def test_deactivated_user_cannot_refresh_or_sign_in(stack: Stack) -> None:
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    response = await stack.client.post(
        f"/api/directory/users/{medic.id}/deactivate", headers=stack.admin.headers
    )
    assert response.json()["is_active"] is False
    refresh = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": medic.refresh_token},
    )
    assert refresh.status_code == 400
    login = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": medic.username, "password": TEST_PASSWORD},
    )
    assert login.status_code == 400


async def test_client_credentials_grant_for_api_clients(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": "Regional MIS", "organization_id": hospital["id"],
              "scopes": ["consult:write", "consult:read"]},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert created.status_code == 201
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "consult:read consult:write"
    # RFC 6749 2.3.1: each part form-urlencoded before Base64 decodes to the same client.
    encoded = ":".join("".join(f"%{b:02X}" for b in part.encode()) for part in (client_id, secret))
    encoded_basic = base64.b64encode(encoded.encode()).decode()
    decoded = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {encoded_basic}"},
    )
    assert decoded.status_code == 200, decoded.text
    assert token.json()["refresh_token"] is None
    claims = jwt.decode(token.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "api_client"
    assert claims["org"] == hospital["id"]
    wrong = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
    )
    assert wrong.status_code == 400
    listed = await stack.client.get("/api/directory/api-clients", headers=stack.admin.headers)
    assert "client_secret" not in listed.json()[0]
    revoked = await stack.client.post(
        f"/api/directory/api-clients/{created.json()['id']}/revoke", headers=stack.admin.headers
    )
    assert revoked.json()["is_active"] is False
    after = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert after.status_code == 400


async def test_unsupported_grant_and_missing_fields_are_problems(stack: Stack) -> None:
    unsupported = await stack.client.post("/api/auth/token", data={"grant_type": "implicit"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = await stack.client.post("/api/auth/token", data={})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "grant_type"]


async def test_token_answers_are_never_cached(stack: Stack) -> None:
    """RFC 6749 5.1, for every grant that answers with tokens, and for a refused one."""
    medic = await stack.actor("district_medic", await stack.organization())
    signed_in = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": medic.username, "password": TEST_PASSWORD},
    )
    refreshed = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": signed_in.json()["refresh_token"]},
    )
    refused = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": medic.username, "password": "nope-nope-1"},
    )
    assert [signed_in.status_code, refreshed.status_code, refused.status_code] == [200, 200, 400]
    for answer in (signed_in, refreshed, refused):
        assert answer.headers["cache-control"] == "no-store"
