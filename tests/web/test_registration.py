"""Registering the console at the gateway (`telemed seed`, `telemed admin register-console`):
one confidential, first-party client, whatever was there before, with a fresh secret kept
where the console reads it."""

import stat

from sqlalchemy import select

from gateway.oauth.models import OAuthClient
from telemed.console import register_console
from tests.conftest import Stack


async def _clients(stack: Stack) -> list[OAuthClient]:
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        return list(await session.scalars(select(OAuthClient)))


async def test_registering_again_keeps_one_confidential_client_with_a_new_secret(
    stack: Stack,
) -> None:
    gateway, web = stack.apps["gateway"].state.settings, stack.apps["web"].state.settings
    first = await register_console(gateway, web)
    second = await register_console(gateway, web)
    assert first != second
    (client,) = await _clients(stack)
    assert client.client_id == "telemed-console"
    assert client.secret_hash is not None  # confidential
    assert client.first_party is True
    assert client.redirect_uris == ["http://127.0.0.1:8000/auth/callback"]
    assert client.post_logout_redirect_uris == ["http://127.0.0.1:8000/auth/signed-out"]
    path = web.resolved_client_secret_path()
    assert path.read_text() == second == web.client_secret()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stale = await stack.client.post(
        "/api/auth/revoke",
        data={"token": "anything", "client_id": "telemed-console", "client_secret": first},
    )
    assert stale.status_code == 401  # the old secret no longer authenticates the console
    fresh = await stack.client.post(
        "/api/auth/revoke",
        data={"token": "anything", "client_id": "telemed-console", "client_secret": second},
    )
    assert fresh.status_code == 200


async def test_a_public_console_registered_before_becomes_the_confidential_one(
    stack: Stack,
) -> None:
    admin = stack.admin
    assert admin is not None
    created = await stack.client.post(
        "/api/directory/oauth-clients",
        json={"name": "Old console", "redirect_uris": ["http://127.0.0.1:9999/cb"]},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        old = await session.scalar(select(OAuthClient))
        assert old is not None
        old.client_id = "telemed-console"  # as another seed may have named it
        await session.commit()
    await register_console(stack.apps["gateway"].state.settings, stack.apps["web"].state.settings)
    (client,) = await _clients(stack)
    assert client.secret_hash is not None
    assert client.redirect_uris == ["http://127.0.0.1:8000/auth/callback"]
