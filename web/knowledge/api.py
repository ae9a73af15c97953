"""Consult's knowledge-base API as the screens call it, through the gateway with the person's
own token: consult decides who reads and who writes which article."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from web.cases.api import CONSULT, CasesApi, Refusal
from web.knowledge.schemas import Article, ArticleFiguresPage, ArticleHit, ArticlePage, Version

ARTICLES = f"{CONSULT}/knowledge/articles"


class KnowledgeApi(CasesApi):
    async def search(self, bearer: str, params: dict[str, str | int]) -> ArticlePage:
        """`params` as `GET /knowledge/articles` takes them (`q`, `category`, ...)."""
        response = await self.request("GET", ARTICLES, bearer, params=params)
        return self._parse(response, ArticlePage)

    async def suggest(
        self, bearer: str, topic: str | None, text: str, limit: int = 5
    ) -> list[ArticleHit]:
        # Consult reads the first words of the caller's account: 2,000 characters hold them.
        params = {"text": text[:2000], "limit": str(limit)} | ({"topic": topic} if topic else {})
        response = await self.request("GET", f"{ARTICLES}/suggest", bearer, params=params)
        return self._parse_list(response, ArticleHit)

    async def article(self, bearer: str, article_id: uuid.UUID) -> Article:
        response = await self.request("GET", f"{ARTICLES}/{article_id}", bearer)
        return self._parse(response, Article)

    async def version(self, bearer: str, article_id: uuid.UUID, number: int) -> Version:
        response = await self.request("GET", f"{ARTICLES}/{article_id}/versions/{number}", bearer)
        return self._parse(response, Version)

    async def create(
        self, bearer: str, body: dict[str, Any], idempotency_key: str | None
    ) -> Article | Refusal:
        return await self._submit(
            "POST", ARTICLES, bearer, Article, idempotency_key=idempotency_key, json=body
        )

    async def edit(
        self, bearer: str, article_id: uuid.UUID, body: dict[str, Any]
    ) -> Article | Refusal:
        return await self._submit("PATCH", f"{ARTICLES}/{article_id}", bearer, Article, json=body)

    async def change_status(
        self, bearer: str, article_id: uuid.UUID, action: str
    ) -> Article | Refusal:
        """`publish` or `archive`."""
        path = f"{ARTICLES}/{article_id}/{action}"
        return await self._submit("POST", path, bearer, Article)

    async def figures(self, bearer: str) -> ArticleFiguresPage:
        """First-contact resolution per article over the figures' default period."""
        response = await self.request("GET", f"{CONSULT}/stats/articles", bearer)
        return self._parse(response, ArticleFiguresPage)


def _api(request: Request) -> KnowledgeApi:
    # A thin wrapper of the app's one pooled client to the gateway (its lifespan opens it).
    return KnowledgeApi(request.app.state.gateway_client)


KnowledgeApiDep = Annotated[KnowledgeApi, Depends(_api)]
