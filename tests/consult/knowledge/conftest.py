"""Knowledge-base fixtures: Udmurtia (region 18) with its hotline, a polyclinic and their
staff, a Kuzbass insurer's contact centre, and articles written through the API."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack

KNOWLEDGE = "/api/consult/knowledge"
IZHEVSK_ZONE = "Europe/Samara"


@dataclass
class Library:
    stack: Stack
    hotline: dict[str, Any]
    polyclinic: dict[str, Any]
    insurer: dict[str, Any]
    admin: Actor
    editor: Actor  # a coordinator of Udmurtia's hotline: writes region 18's articles
    operator: Actor  # a coordinator of a polyclinic: reads them, writes none
    registrar: Actor
    far_editor: Actor  # a coordinator of a Kuzbass insurer: writes region 42's
    medic: Actor
    patient: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Полис ОМС: как получить и заменить",
            "body": "Полис выдаёт любая страховая медицинская организация региона бесплатно.",
            "language": "ru",
            "categories": ["oms_policy"],
        }
        return body | overrides

    async def write(self, actor: Actor | None = None, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            f"{KNOWLEDGE}/articles",
            json=self.body(**overrides),
            headers=(actor or self.editor).headers,
        )

    async def written(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.write(actor, **overrides)
        assert response.status_code == 201, response.text
        article: dict[str, Any] = response.json()
        return article

    async def published(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        article = await self.written(actor, **overrides)
        return await self.done(actor or self.editor, article["id"], "publish")

    async def act(
        self, actor: Actor, article_id: str, action: str, body: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{KNOWLEDGE}/articles/{article_id}/{action}", json=body, headers=actor.headers
        )

    async def done(self, actor: Actor, article_id: str, action: str) -> dict[str, Any]:
        response = await self.act(actor, article_id, action)
        assert response.status_code == 200, response.text
        article: dict[str, Any] = response.json()
        return article

    async def edit(self, actor: Actor, article_id: str, **fields: Any) -> httpx.Response:
        return await self.client.patch(
            f"{KNOWLEDGE}/articles/{article_id}", json=fields, headers=actor.headers
        )

    async def get(self, actor: Actor, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"{KNOWLEDGE}{path}", params=params, headers=actor.headers)

    async def read(self, actor: Actor, path: str, **params: Any) -> Any:
        response = await self.get(actor, path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def titles(self, actor: Actor, **params: Any) -> list[str]:
        """The titles a search finds, best first."""
        page = await self.read(actor, "/articles", **params)
        return [item["title"] for item in page["items"]]


@pytest.fixture
async def library(stack: Stack) -> Library:
    hotline = await stack.organization(kind="hotline", region="18", timezone=IZHEVSK_ZONE)
    polyclinic = await stack.organization(kind="polyclinic", region="18", timezone=IZHEVSK_ZONE)
    insurer = await stack.organization(kind="insurer", region="42")
    assert stack.admin is not None
    return Library(
        stack=stack,
        hotline=hotline,
        polyclinic=polyclinic,
        insurer=insurer,
        admin=stack.admin,
        editor=await stack.actor("coordinator", hotline),
        operator=await stack.actor("coordinator", polyclinic),
        registrar=await stack.actor("registrar", polyclinic),
        far_editor=await stack.actor("coordinator", insurer),
        medic=await stack.actor("district_medic", polyclinic),
        patient=await stack.actor("patient"),
    )
