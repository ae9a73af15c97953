"""The people and places the case screens' tests share: a district hospital with its medic, a
regional centre with a cardiologist and a neurologist, another hospital, and browsers signed
in as any of them."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from telemed.samples import sample_case
from tests.conftest import Actor, Stack
from tests.web.conftest import Console, csrf_of

CONSULT = "/api/consult"


@dataclass
class Clinic:
    stack: Stack
    console: Console
    hospital: dict[str, Any]
    other_hospital: dict[str, Any]
    centre: dict[str, Any]
    medic: Actor
    other_medic: Actor
    cardiologist: Actor
    neurologist: Actor

    @classmethod
    async def open(cls, stack: Stack, console: Console) -> "Clinic":
        hospital = await stack.organization(kind="district_hospital")
        other_hospital = await stack.organization(kind="district_hospital")
        centre = await stack.organization(kind="regional_centre")
        return cls(
            stack=stack,
            console=console,
            hospital=hospital,
            other_hospital=other_hospital,
            centre=centre,
            medic=await stack.actor("district_medic", hospital),
            other_medic=await stack.actor("district_medic", other_hospital),
            cardiologist=await stack.actor("specialist", centre, "cardiology"),
            neurologist=await stack.actor("specialist", centre, "neurology"),
        )

    @contextlib.asynccontextmanager
    async def browser(self, actor: Actor, language: str = "en") -> AsyncIterator[httpx.AsyncClient]:
        """A browser signed in to the console as `actor`, reading `language`."""
        async with self.console.browser(language) as browser:
            signed = await self.console.sign_in(browser, actor.username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language=language)
            yield browser

    async def case(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        """A case opened through the API as `actor` (the medic by default)."""
        body = sample_case(self.centre["id"], **overrides)
        response = await self.stack.client.post(
            f"{CONSULT}/cases", json=body, headers=(actor or self.medic).headers
        )
        assert response.status_code == 201, response.text
        case: dict[str, Any] = response.json()
        return case

    async def act(self, actor: Actor, case_id: str, action: str, body: Any = None) -> Any:
        response = await self.stack.client.post(
            f"{CONSULT}/cases/{case_id}/{action}", json=body, headers=actor.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def read(self, actor: Actor, case_id: str) -> dict[str, Any]:
        response = await self.stack.client.get(f"{CONSULT}/cases/{case_id}", headers=actor.headers)
        assert response.status_code == 200, response.text
        case: dict[str, Any] = response.json()
        return case

    async def post(
        self, browser: httpx.AsyncClient, page_path: str, action: str, **fields: Any
    ) -> httpx.Response:
        """Opens `page_path` and posts one of its forms with the page's CSRF token."""
        page = await self.console.page(browser, page_path)
        return await browser.post(action, data={"csrf_token": csrf_of(page), **fields})
