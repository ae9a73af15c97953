"""Two instances of every service, each under uvicorn on its own port, against one database
per service (the suite's: SQLite files or PostgreSQL), behind one gateway listing both.

The services' own calls and the test client reach the in-process gateway app, as in the rest
of the suite; the gateway's proxy crosses real sockets to the instances, and is also served
on a socket of its own for aiortc peers.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from telemed.registry import GATEWAY, SERVICES
from tests.conftest import HostRoutingTransport, Stack, bootstrap_admin, service_settings
from tests.consult.conftest import world as consult_world  # noqa: F401 - a fixture, reused
from tests.servers import serve
from tests.video.conftest import FAST

INSTANCES = 2
OVERRIDES: dict[str, dict[str, Any]] = FAST | {"scheduling": {"reminder_interval_seconds": 3600}}


@dataclass
class Instance:
    app: FastAPI
    url: str
    server: contextlib.AsyncExitStack

    async def stop(self) -> None:
        """Shuts the instance's server down: its port refuses connections from now on."""
        await self.server.aclose()

    async def served(self, method: str, route: str, status: int | None = None) -> float:
        """Requests this instance answered on `route` (a template), from its own /metrics."""
        async with httpx.AsyncClient(base_url=self.url) as scraper:
            text = (await scraper.get("/metrics")).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if (
                    sample.name == "http_requests_total"
                    and (labels["method"], labels["route"]) == (method, route)
                    and status in (None, int(labels["status"]))
                ):
                    total += sample.value
        return total


@dataclass
class ScaledStack:
    stack: Stack
    instances: dict[str, list[Instance]]
    url: str  # the gateway on a real socket
    http: httpx.AsyncClient  # a real HTTP client of `url`

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def gateway(self) -> FastAPI:
        return self.stack.apps["gateway"]

    def apps(self, service: str) -> list[FastAPI]:
        return [instance.app for instance in self.instances[service]]

    async def served(self, service: str, method: str, route: str, status: int | None = None
                     ) -> list[float]:  # fmt: skip
        return [await i.served(method, route, status) for i in self.instances[service]]


@contextlib.asynccontextmanager
async def scaled_stack(urls: dict[str, str], var_dir: Path) -> AsyncIterator[ScaledStack]:
    transport = HostRoutingTransport()
    instances: dict[str, list[Instance]] = {}
    async with contextlib.AsyncExitStack() as exits:

        async def stop_all() -> None:  # at once: each uvicorn takes ~0.2 s to stop
            listed = [instance for group in instances.values() for instance in group]
            await asyncio.gather(*(instance.stop() for instance in listed))

        exits.push_async_callback(stop_all)
        for service in SERVICES[1:]:
            settings = service_settings(service, urls, var_dir, **OVERRIDES.get(service.name, {}))
            factory = import_module(f"{service.package}.app").create_app
            instances[service.name] = []
            # One after the other: the first creates the shared keys under `var_dir`.
            for _ in range(INSTANCES):
                app = factory(settings, transport=transport)
                server = contextlib.AsyncExitStack()
                url = await server.enter_async_context(serve(app))
                instances[service.name].append(Instance(app, url, server))
        published = {name: [i.url for i in listed] for name, listed in instances.items()}
        # No webhook relay: its polls through the proxy would shift the round-robin turns
        # that the tests count on to send two requests to two instances.
        settings = service_settings(GATEWAY, urls, var_dir, services=published, event_sources=[])
        gateway = import_module("gateway.app").create_app(settings, transport=transport)
        await exits.enter_async_context(gateway.router.lifespan_context(gateway))
        transport.mount("gateway", gateway)
        client = await exits.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gateway")
        )
        apps = {"gateway": gateway} | {name: listed[0].app for name, listed in instances.items()}
        stack = Stack(client=client, apps=apps, transport=transport)
        stack.admin = await bootstrap_admin(stack)
        url = await exits.enter_async_context(serve(gateway, lifespan="off"))
        http = await exits.enter_async_context(httpx.AsyncClient(base_url=url, timeout=20))
        yield ScaledStack(stack, instances, url, http)


@pytest.fixture
async def scaled(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[ScaledStack]:
    async with scaled_stack(clean_databases, tmp_path) as running:
        yield running


@pytest.fixture
def stack(scaled: ScaledStack) -> Stack:
    """The scaled stack for fixtures written for the one-instance `stack` (`consult_world`)."""
    return scaled.stack
