"""Sign-in throttling: strangers slow an account down but cannot lock its owner out.

API clients' failures count too, and a flood of bad sign-ins does not hold the database.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from gateway.auth import SecretHasher
from gateway.models import LoginFailure
from services.common.db import utcnow
from tests.conftest import TEST_PASSWORD, Stack, running_stack

TOKEN = "/api/auth/token"


@asynccontextmanager
async def from_address(stack: Stack, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the gateway from `address`."""
    transport = httpx.ASGITransport(app=stack.apps["gateway"], client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def password(username: str, secret: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": secret}


async def test_wrong_passwords_from_one_address_do_not_lock_out_another(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with (
        from_address(stack, "198.51.100.7") as stranger,
        from_address(stack, "203.0.113.20") as owner,
    ):
        for _ in range(5):
            wrong = await stranger.post(TOKEN, data=password(medic.username, "wrong-wrong"))
            assert wrong.status_code == 400
        assert (
            await stranger.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
        ).status_code == 429
        signed_in = await owner.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
        assert signed_in.status_code == 200, signed_in.text


async def test_failures_from_many_addresses_space_attempts_out_but_never_lock(
    stack: Stack,
) -> None:
    """Ten failures from ten addresses: the next attempt waits a second, not 15 minutes."""
    medic = await stack.actor("district_medic", await stack.organization())
    settings = stack.apps["gateway"].state.settings
    for n in range(settings.login_account_delay_after):
        async with from_address(stack, f"198.51.100.{n + 1}") as stranger:
            wrong = await stranger.post(TOKEN, data=password(medic.username, "wrong-wrong"))
            assert wrong.status_code == 400
    async with from_address(stack, "203.0.113.20") as owner:
        spaced = await owner.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
        assert spaced.status_code == 429
        assert int(spaced.headers["retry-after"]) <= 1
        deadline = time.monotonic() + 3
        form = password(medic.username, TEST_PASSWORD)
        while (signed_in := await owner.post(TOKEN, data=form)).status_code == 429:
            assert time.monotonic() < deadline, "the owner was locked out"
            await asyncio.sleep(0.1)
        assert signed_in.status_code == 200, signed_in.text


async def test_the_wait_is_capped_however_many_fail(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    settings = stack.apps["gateway"].state.settings
    now = utcnow()
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        session.add_all(
            LoginFailure(username=medic.username, address=f"10.0.{n // 250}.{n % 250}",
                         at=now - timedelta(seconds=n))
            for n in range(200)
        )  # fmt: skip
        await session.commit()
    async with from_address(stack, "203.0.113.20") as owner:
        spaced = await owner.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
    assert spaced.status_code == 429
    assert int(spaced.headers["retry-after"]) <= settings.login_account_delay_cap


async def test_client_credentials_failures_are_counted(stack: Stack) -> None:
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
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    grant = {"grant_type": "client_credentials", "client_id": client_id}
    async with (
        from_address(stack, "198.51.100.7") as stranger,
        from_address(stack, "203.0.113.20") as owner,
    ):
        for _ in range(5):
            wrong = await stranger.post(TOKEN, data=grant | {"client_secret": "guess"})
            assert wrong.status_code == 400
        refused = await stranger.post(TOKEN, data=grant | {"client_secret": secret})
        assert refused.status_code == 429
        assert (await owner.post(TOKEN, data=grant | {"client_secret": secret})).status_code == 200


class WatchedHasher(SecretHasher):
    """The production cost (64 MiB, 3 passes), and a signal once a check is under way."""

    def __init__(self) -> None:
        super().__init__(time_cost=3, memory_kib=64 * 1024)
        self.hashing = asyncio.Event()

    async def verify(self, stored_hash: str | None, secret: str) -> bool:
        self.hashing.set()
        return await super().verify(stored_hash, secret)


async def test_bad_sign_ins_in_parallel_do_not_hold_up_reads(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    """On SQLite a transaction holds the one write lock: 24 bad sign-ins hashing inside theirs
    held an authenticated read 4-12 s. The hash now runs between transactions."""
    async with running_stack(clean_databases, tmp_path) as stack:
        medic = await stack.actor("district_medic", await stack.organization())
        hasher = WatchedHasher()
        stack.apps["gateway"].state.secret_hasher = hasher
        bad = [
            asyncio.create_task(stack.client.post(TOKEN, data=password(f"stranger{n}", "x" * 10)))
            for n in range(24)
        ]
        await hasher.hashing.wait()
        started = time.perf_counter()
        read = await stack.client.get("/api/directory/me", headers=medic.headers)
        elapsed = time.perf_counter() - started
        answers = await asyncio.gather(*bad)
    print(f"read answered in {elapsed:.2f} s during 24 bad sign-ins")
    assert read.status_code == 200
    assert {answer.status_code for answer in answers} == {400}
    assert elapsed < 3.0


async def test_an_absurdly_long_username_is_a_plain_refusal(stack: Stack) -> None:
    response = await stack.client.post(TOKEN, data=password("x" * 5000, "wrong-wrong"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
