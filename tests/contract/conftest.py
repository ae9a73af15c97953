"""The in-process stack on a thread of its own, for tests that call it synchronously
(schemathesis sends each generated request with `requests` and waits for the answer), one
signed-in user or API client per role, and the figures each role's run adds up to."""

import asyncio
import base64
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gateway.openapi import merge_documents
from gateway.scopes import CLIENT_SCOPES
from telemed.registry import SERVICES
from tests.conftest import Stack, reset_database, running_stack, service_settings
from tests.servers import serve

T = TypeVar("T")
# Every role a person or a program signs in with (services/common/auth.py `Role`).
ROLES = (
    "district_medic", "specialist", "coordinator", "patient", "admin", "api_client", "registrar",
)  # fmt: skip


def aggregated_document(var_dir: Path) -> dict[str, Any]:
    """The document the gateway serves at `/openapi.json`, made from the same apps without
    running them: schemathesis parametrizes a test at collection, before any stack runs (its
    loader from a fixture does not run on this pytest). The test checks that the running
    gateway serves this very document."""
    from importlib import import_module

    urls = {
        service.name: f"sqlite+aiosqlite:///{var_dir}/{service.name}.sqlite3"
        for service in SERVICES
    }
    apps = {
        service.name: import_module(f"{service.package}.app").create_app(
            service_settings(service, urls, var_dir)
        )
        for service in SERVICES
    }
    gateway = apps.pop("gateway")
    return merge_documents(gateway.openapi(), {name: app.openapi() for name, app in apps.items()})


# The fuzzer's wrong passwords, client secrets and reset requests all come from one loopback
# address, and every role's token is fetched from it too: with the sign-in throttle's limits
# the later roles would only get 429s. Throttling has its own tests (tests/gateway/test_signin.py).
UNTHROTTLED = {
    "gateway": {
        "login_max_failures": 1_000_000,
        "login_max_failures_per_address": 1_000_000,
        "login_account_delay_after": 1_000_000,
    }
}


class ThreadedStack:
    """`running_stack` on an event loop in a thread, with the gateway also served on loopback:
    a synchronous caller reaches it over real HTTP while the loop keeps serving.

    The stack is entered and left by one task, as its lifespans (task groups, cancel scopes)
    require."""

    def __init__(self, urls: dict[str, str], var_dir: Path) -> None:
        self.urls, self.var_dir = urls, var_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stack", daemon=True)
        self.base_url = ""
        self.stack: Stack | None = None
        self._started: asyncio.Future[None] | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Future[None] | None = None

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _hold(self, started: asyncio.Future[None]) -> None:
        self._stop = asyncio.Event()
        try:
            async with contextlib.AsyncExitStack() as exits:
                self.stack = await exits.enter_async_context(
                    running_stack(self.urls, self.var_dir, overrides=UNTHROTTLED)
                )
                gateway = self.stack.apps["gateway"]
                self.base_url = await exits.enter_async_context(serve(gateway, lifespan="off"))
                started.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    async def _start(self) -> None:
        started: asyncio.Future[None] = self.loop.create_future()
        self._task = asyncio.ensure_future(self._hold(started))
        await started

    async def _finish(self) -> None:
        assert self._stop is not None
        assert self._task is not None
        self._stop.set()
        await self._task
        for url in self.urls.values():
            await reset_database(url)

    def __enter__(self) -> "ThreadedStack":
        self.thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._finish())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop.close()


async def api_client_token(stack: Stack, organization: dict[str, Any]) -> str:
    """A regional MIS: an API client holding every scope an administrator may grant."""
    assert stack.admin is not None
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": "Regional MIS", "organization_id": organization["id"],
              "scopes": sorted(CLIENT_SCOPES)},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    pair = f"{created.json()['client_id']}:{created.json()['client_secret']}"
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"},
    )
    assert token.status_code == 200, token.text
    access_token: str = token.json()["access_token"]
    return access_token


async def signed_in(stack: Stack, role: str) -> str:
    """A fresh access token for `role`, in a region with a centre and a district hospital."""
    assert stack.admin is not None
    if role == "admin":
        return (await stack.login(stack.admin.username))["access_token"]  # type: ignore[no-any-return]
    centre = await stack.organization(kind="regional_centre", timezone="Asia/Novosibirsk")
    hospital = await stack.organization(kind="district_hospital", timezone="Asia/Vladivostok")
    if role == "api_client":
        return await api_client_token(stack, hospital)
    if role in ("specialist", "coordinator"):
        specialty = "cardiology" if role == "specialist" else None
        return (await stack.actor(role, centre, specialty)).access_token
    return (await stack.actor(role, hospital)).access_token


@pytest.fixture(scope="module")
def threaded_stack(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedStack]:
    with ThreadedStack(database_urls, tmp_path_factory.mktemp("contract")) as running:
        yield running
