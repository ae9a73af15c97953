"""Revocation reaches every service within seconds, through the gateway and directly.

A deactivated user, a revoked API client, a sign-in whose refresh token was reused.
"""

import time
from typing import Any

import httpx

from tests.conftest import Stack

CASES = "/api/consult/cases"
# The services poll the list every `revocations_refresh_seconds` (2 s): the bound documented
# in docs/architecture.md, with room for a loaded test machine.
BOUND = 5.0


async def refused_after(stack: Stack, headers: dict[str, str], started: float) -> dict[str, float]:
    """Polls consult through the gateway and directly until both answer 401; the seconds
    from `started` each took."""
    direct = httpx.AsyncClient(base_url=stack.apps["gateway"].state.settings.services["consult"])
    routes: dict[str, Any] = {"gateway": stack.client, "direct": direct}
    taken: dict[str, float] = {}
    try:
        while len(taken) < len(routes):
            for name, client in routes.items():
                if name in taken:
                    continue
                status = (await client.get(CASES, headers=headers)).status_code
                if status == 401:
                    taken[name] = time.monotonic() - started
                else:
                    assert status == 200, (name, status)
            assert time.monotonic() - started < BOUND, f"still accepted after {BOUND} s: {taken}"
    finally:
        await direct.aclose()
    return taken


async def accepted_everywhere(stack: Stack, headers: dict[str, str]) -> None:
    consult = stack.apps["gateway"].state.settings.services["consult"]
    async with httpx.AsyncClient(base_url=consult) as direct:
        for client in (stack.client, direct):
            assert (await client.get(CASES, headers=headers)).status_code == 200


async def test_a_deactivated_medic_is_refused_everywhere_within_seconds(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    colleague = await stack.actor("district_medic", hospital)
    await accepted_everywhere(stack, medic.headers)  # both verifiers hold the token, cached
    started = time.monotonic()
    response = await stack.client.post(
        f"/api/directory/users/{medic.id}/deactivate", headers=stack.admin.headers
    )
    assert response.status_code == 200
    taken = await refused_after(stack, medic.headers, started)
    print(f"deactivated medic refused after {taken}")
    me = await stack.client.get("/api/directory/me", headers=medic.headers)
    assert me.status_code == 401  # the gateway's own endpoints too
    assert me.headers["content-type"] == "application/problem+json"
    await accepted_everywhere(stack, colleague.headers)


async def test_a_revoked_api_client_is_refused_everywhere_within_seconds(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={
            "name": "Regional MIS",
            "organization_id": hospital["id"],
            "scopes": ["consult:read"],
        },
        headers=stack.admin.headers,
    )
    assert created.status_code == 201, created.text
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(created.json()["client_id"], created.json()["client_secret"]),
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    await accepted_everywhere(stack, headers)
    started = time.monotonic()
    revoked = await stack.client.post(
        f"/api/directory/api-clients/{created.json()['id']}/revoke", headers=stack.admin.headers
    )
    assert revoked.status_code == 200
    taken = await refused_after(stack, headers, started)
    print(f"revoked API client refused after {taken}")


async def test_a_reused_refresh_token_ends_its_sign_in_everywhere(stack: Stack) -> None:
    """The family's access tokens go too; the same user's other sign-in keeps working."""
    medic = await stack.actor("district_medic", await stack.organization())
    other_sign_in = await stack.login(medic.username)
    form = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    renewed = (await stack.client.post("/api/auth/token", data=form)).json()
    renewed_headers = {"Authorization": f"Bearer {renewed['access_token']}"}
    await accepted_everywhere(stack, renewed_headers)
    started = time.monotonic()
    assert (await stack.client.post("/api/auth/token", data=form)).status_code == 400
    await refused_after(stack, renewed_headers, started)
    await accepted_everywhere(stack, {"Authorization": f"Bearer {other_sign_in['access_token']}"})


async def test_the_list_is_served_for_conditional_polling(stack: Stack) -> None:
    """Names no one (digests only) and answers an unchanged list with 304."""
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    await stack.client.post(
        f"/api/directory/users/{medic.id}/deactivate", headers=stack.admin.headers
    )
    first = await stack.client.get("/.well-known/revocations")
    assert first.status_code == 200
    assert str(medic.id) not in first.text
    assert len(first.json()["revoked"]) == 1
    again = await stack.client.get(
        "/.well-known/revocations", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
